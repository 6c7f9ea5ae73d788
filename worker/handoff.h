/*
 * handoff.h - pass a client socket to a backend over its channel.
 */
#ifndef HANDOFF_H
#define HANDOFF_H

#include <stddef.h>
#include <stdint.h>

int	handoff_send(int channel, int client_fd, const uint8_t *payload,
	    size_t len);

#endif
