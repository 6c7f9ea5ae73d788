/*
 * confine.h - what a SNItch helper process gives up before it reads a
 * byte from outside: capabilities, new privileges, fork, core dumps,
 * and every system call it does not need (see confine.c).
 */
#ifndef CONFINE_H
#define CONFINE_H

#include <stddef.h>

#include <seccomp.h>

#define CONFINE_COUNT(calls)	(sizeof(calls) / sizeof((calls)[0]))

void	confine_drop_caps(void);
void	confine_limit(int resource, const char *name);
void	confine_limits(void);
int	confine_allow(scmp_filter_ctx, const int *calls, size_t n);
void	confine_filter(int (*io_calls)(scmp_filter_ctx));

#endif
