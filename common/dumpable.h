/*
 * dumpable.h - whether this process may be traced, have its descriptors
 * copied (pidfd_getfd) or be dumped by its own user (see dumpable.c).
 */
#ifndef DUMPABLE_H
#define DUMPABLE_H

int	dumpable_set(int dumpable);

#endif
