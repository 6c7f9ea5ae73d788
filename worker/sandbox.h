/*
 * sandbox.h - what a worker gives up before it reads a client byte.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <sys/types.h>

#include "wconf.h"

/* the server name that makes a SANDBOX_PROBE build break its sandbox */
#define SANDBOX_PROBE_NAME	"sandbox-probe.invalid"

void	sandbox_chroot(const struct wconf *);
void	sandbox_enter(const struct wconf *, int watch_fd);
#ifdef SNITCH_SANDBOX_PROBE
void	sandbox_probe(const char *name, ssize_t len);
#endif

#endif
