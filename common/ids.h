/*
 * ids.h - user and group names or numbers, read one way everywhere: as
 * chown(1) reads them.
 */
#ifndef IDS_H
#define IDS_H

#include <sys/types.h>

/*
 * Hidden: libsnitch.so links ids.o (the Makefile's LIBSNITCH_OBJ) but
 * exports only its snitch_* interface.
 */
#define IDS_API	__attribute__((visibility("hidden")))

IDS_API int	ids_uid(const char *text, uid_t *uid);
IDS_API int	ids_gid(const char *text, gid_t *gid);

#endif
