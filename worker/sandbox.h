/*
 * sandbox.h - what a worker gives up before it reads a client byte.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <sys/types.h>

#include "wconf.h"

/* the server name that makes a SANDBOX_PROBE build break its sandbox */
#define SANDBOX_PROBE_NAME	"sandbox-probe.invalid"
/* the server name that makes it give its listener away, to the Unix
 * datagram socket named by the environment variable SANDBOX_GIVE_ENV */
#define SANDBOX_GIVE_NAME	"sandbox-give.invalid"
#define SANDBOX_GIVE_ENV	"SNITCH_PROBE_GIVE_TO"

void	sandbox_chroot(const struct wconf *);
void	sandbox_enter(const struct wconf *, int watch_fd);
#ifdef SNITCH_SANDBOX_PROBE
void	sandbox_probe(const char *name, ssize_t len);
#endif

#endif
