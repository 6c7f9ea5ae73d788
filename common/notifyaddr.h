/*
 * notifyaddr.h - the address in NOTIFY_SOCKET, read one way by every
 * SNItch program that talks to a service manager (sd_notify's protocol).
 */
#ifndef NOTIFYADDR_H
#define NOTIFYADDR_H

#include <sys/socket.h>
#include <sys/un.h>

int	notifyaddr_parse(const char *env, struct sockaddr_un *sun,
	    socklen_t *len);

#endif
