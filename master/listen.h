/*
 * listen.h - the master's listening sockets: bound, or passed by a
 * service manager.
 */
#ifndef LISTEN_H
#define LISTEN_H

#include "conf.h"

int	listen_open(const struct conf_listen *, unsigned defer_ms);
size_t	listen_passed_init(void);
int	*listen_setup(struct conf *);

#endif
