/*
 * listen.h - the master's listening sockets.
 */
#ifndef LISTEN_H
#define LISTEN_H

#include "conf.h"

int	listen_open(const struct conf_listen *, unsigned defer_ms);

#endif
