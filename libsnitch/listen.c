/*
 * listen.c - libsnitch's socket file: listen where SNItch's workers
 * connect, under a temporary name renamed over the path (so the path is
 * never missing, and taken over from a running instance only when
 * asked), and remove it only while it is still ours.
 *
 * Linked into other people's backend daemons and run with whatever
 * privilege they have.  So: no global state, no output, no exit, no
 * signal disposition touched; every failure is -1 and errno.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "private.h"
#include "snitch.h"
#include "sockfile.h"

#define SNITCH_TMP_TRIES	8	/* temporary names tried by a listen */

/*
 * snitch_path_free - whether path may be taken: nothing there, a socket
 * nobody listens on, or (SNITCH_REPLACE) a live one; 0, or -1 with
 * EADDRINUSE (a live listener, or not a socket: a regular file or a
 * symlink is never replaced) or errno
 */
static int
snitch_path_free(const struct sockaddr_un *sun, int flags)
{
	struct stat	 st;
	int		 live;

	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EADDRINUSE;
		return -1;
	}
	if (flags & SNITCH_REPLACE)
		return 0;
	/*
	 * Without SNITCH_REPLACE a second instance started by mistake is
	 * told so, rather than taking the name from the first one.
	 */
	if ((live = sockfile_live(sun)) < 0)
		return -1;
	if (live) {
		errno = EADDRINUSE;
		return -1;
	}
	return 0;
}

/*
 * snitch_bind_tmp - bind fd at a fresh temporary name beside path, never
 * more open than mode (0: as the umask gives); the name in tmp, the
 * file's identity in bound; 0, or -1 with errno
 */
static int
snitch_bind_tmp(int fd, const char *path, mode_t mode,
    struct sockaddr_un *tmp, struct snitch_bound *bound)
{
	struct stat	 st;
	int		 tries, saved;

	memset(tmp, 0, sizeof(*tmp));
	tmp->sun_family = AF_UNIX;
	for (tries = 0; tries < SNITCH_TMP_TRIES; tries++) {
		if (sockfile_tmpname(path, tmp->sun_path,
		    sizeof(tmp->sun_path)) < 0)
			return -1;
		/* Born with mode: a chmod by name could follow a symlink. */
		if (sockfile_bind(fd, tmp, mode) == 0)
			break;
		if (errno != EADDRINUSE)
			return -1;
	}
	if (tries == SNITCH_TMP_TRIES) {
		errno = EADDRINUSE;
		return -1;
	}
	/* Its identity, for snitch_unlink: the name is ours until the rename. */
	if (lstat(tmp->sun_path, &st) < 0) {
		saved = errno;
		(void)unlink(tmp->sun_path);
		errno = saved;
		return -1;
	}
	bound->sb_dev = st.st_dev;
	bound->sb_ino = st.st_ino;
	return 0;
}

/*
 * snitch_listen_flags - listen on a SOCK_SEQPACKET socket at path: bound
 * at a temporary name, listening, then renamed over path, so that path
 * is never missing nor a socket that does not listen yet; the fd, and
 * the file's identity in *bound (unless NULL), or -1 with errno
 */
int
snitch_listen_flags(const char *path, mode_t mode, int flags,
    struct snitch_bound *bound)
{
	struct sockaddr_un	 sun, tmp;
	struct snitch_bound	 mine;
	size_t			 len;
	int			 fd = -1, named = 0, saved;
	uid_t			 want;

	if (path == NULL || *path == '\0' || (flags & ~SNITCH_REPLACE) ||
	    snitch_peer_wanted(SNITCH_PEER_ANY, &want) == -1) {
		/* An empty name would autobind to an abstract address; a
		 * bad SNITCH_PEER_UID would refuse every channel later. */
		errno = EINVAL;
		return -1;
	}
	len = strlen(path);
	if (len >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len + 1);

	if (snitch_path_free(&sun, flags) < 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (snitch_bind_tmp(fd, path, mode, &tmp, &mine) < 0)
		goto fail;
	named = 1;
	if (listen(fd, SOMAXCONN) < 0)
		goto fail;
	/*
	 * Checked again just before: what is in the way now is still a
	 * socket.  rename replaces a name, never follows it: the worst a
	 * race here can do is replace an entry that whoever may write the
	 * directory could have removed anyway.
	 */
	if (snitch_path_free(&sun, flags | SNITCH_REPLACE) < 0)
		goto fail;
	if (rename(tmp.sun_path, path) < 0)
		goto fail;
	if (bound != NULL)
		*bound = mine;
	return fd;

fail:
	saved = errno;
	if (named)
		(void)unlink(tmp.sun_path);
	if (fd >= 0)
		(void)close(fd);
	errno = saved;
	return -1;
}

/* snitch_listen - snitch_listen_flags without flags, the identity unkept */
int
snitch_listen(const char *path, mode_t mode)
{
	return snitch_listen_flags(path, mode, 0, NULL);
}

/*
 * snitch_unlink - remove path if it is still the socket file bound (a
 * new instance may have renamed its own over it: that one is left); 1
 * removed, 0 left in place (not ours, or gone), -1 with errno
 */
int
snitch_unlink(const char *path, const struct snitch_bound *bound)
{
	struct stat	st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (st.st_dev != bound->sb_dev || st.st_ino != bound->sb_ino)
		return 0;
	/*
	 * A new instance renaming over path right now would lose its name
	 * here: a gap of one system call, between two instances an
	 * operator started at once.
	 */
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -1;
	return 1;
}
