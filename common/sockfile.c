/*
 * sockfile.c - a Unix socket's file, as root and as a backend make it:
 * a temporary name to bind first (renamed over the real path later, so
 * the path is never missing), a bind that gives the file its mode at
 * birth, and a probe for a live listener at a path.
 *
 * Used by libsnitch (snitch_listen, in other people's daemons: so no
 * output, no exit, every failure -1 and errno) and by the master for
 * the stats socket (master/stats.c, as root).  Neither ever chmods or
 * chowns a path: a call by name follows a symlink another user may
 * swap in between two calls.
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sockfile.h"

/*
 * sockfile_tmpname - a temporary name beside path: ".<name>.<pid>.<random>"
 * in path's directory; 0, or -1 with ENAMETOOLONG when it does not fit
 * size (a sun_path's, for a socket)
 */
int
sockfile_tmpname(const char *path, char *out, size_t size)
{
	const char	*base = strrchr(path, '/');
	uint32_t	 rnd;
	int		 n;

	/*
	 * Random so that nobody can plant a name there first; if someone
	 * does anyway, bind (or mkdir) fails on it, never follows it, and
	 * the caller draws again.
	 */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)time(NULL) ^ (uint32_t)clock() ^
		    (uint32_t)(uintptr_t)&rnd;
	base = base == NULL ? path : base + 1;
	n = snprintf(out, size, "%.*s.%s.%ld.%08x", (int)(base - path), path,
	    base, (long)getpid(), rnd);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * sockfile_bind - bind fd at sun, the file never more open than mode (0:
 * as the umask gives); 0, or -1 with errno
 */
int
sockfile_bind(int fd, const struct sockaddr_un *sun, mode_t mode)
{
	mode_t	old = 0;
	int	r, saved;

	/*
	 * bind creates the file with the socket's mode (0777) less the
	 * umask: with this umask it is born with exactly mode, and no path
	 * is ever chmod'ed.  The umask is the process's: it is changed for
	 * this one call only.
	 */
	if (mode != 0)
		old = umask(~mode & 0777);
	r = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	if (mode != 0)
		(void)umask(old);
	errno = saved;
	return r;
}

/*
 * sockfile_live - whether a process listens at the socket sun names: 1,
 * 0 (nobody: a dead listener's file, or no file), or -1 with errno
 */
int
sockfile_live(const struct sockaddr_un *sun)
{
	int	probe, r, saved;

	if ((probe = socket(AF_UNIX,
	    SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	r = connect(probe, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	(void)close(probe);
	/* EAGAIN: a full backlog; EPROTOTYPE: live, of another type. */
	if (r == 0 || saved == EAGAIN || saved == EINPROGRESS ||
	    saved == EPROTOTYPE)
		return 1;
	if (saved == ECONNREFUSED || saved == ENOENT)
		return 0;
	errno = saved;
	return -1;
}
