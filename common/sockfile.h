/*
 * sockfile.h - a Unix socket's file: a temporary name to bind first, a
 * bind born with its mode, and whether anyone listens at a path.
 */
#ifndef SOCKFILE_H
#define SOCKFILE_H

#include <sys/types.h>
#include <sys/un.h>

/*
 * Hidden: libsnitch.so links sockfile.o (the Makefile's LIBSNITCH_OBJ)
 * but exports only its snitch_* interface.
 */
#define SOCKFILE_API	__attribute__((visibility("hidden")))

SOCKFILE_API int	sockfile_tmpname(const char *path, char *out,
			    size_t size);
SOCKFILE_API int	sockfile_bind(int fd, const struct sockaddr_un *sun,
			    mode_t mode);
SOCKFILE_API int	sockfile_live(const struct sockaddr_un *sun);

#endif
