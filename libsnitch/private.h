/*
 * private.h - what libsnitch's files share and do not export: the
 * library's own defaults and the few functions one file calls in
 * another (hidden from the shared object's symbol table).
 */
#ifndef SNITCH_PRIVATE_H
#define SNITCH_PRIVATE_H

#include <sys/types.h>

#define SNITCH_HIDDEN	__attribute__((visibility("hidden")))

/* channel.c */
SNITCH_HIDDEN int	snitch_peer_wanted(uid_t uid, uid_t *want);
SNITCH_HIDDEN int	snitch_peer_check(int fd, uid_t uid);
SNITCH_HIDDEN void	snitch_hello(int channel_fd);

#endif
