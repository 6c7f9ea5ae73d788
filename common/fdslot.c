/*
 * fdslot.c - a sandboxed process's fixed descriptors keep their numbers.
 *
 * Runs in a worker, unprivileged, before and under its seccomp filter
 * (worker/sandbox.c).  The filter tells descriptors apart by number
 * alone: sendmsg(2), the one call that can pass a descriptor, is
 * allowed only above the highest fixed one (stdio, the control and
 * broker sockets, the access log, the listeners, syslog's socket: what
 * is open when the filter is loaded), where the only sockets are the
 * channels the master connected.  That holds only if no later
 * descriptor can ever get a fixed number: fdslot_fix fills every free
 * number up to the highest open one with a harmless eventfd before the
 * filter is loaded, and from then on a fixed descriptor is never freed,
 * only replaced in place with dup3(2) (fdslot_close, fdslot_move),
 * which the filter allows only onto fixed numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fdslot.h"

/* Higher than any descriptor a process has before its sandbox: the
 * master passes a worker fewer than 100. */
#define FDSLOT_SCAN	4096

static int	fdslot_top = -1;	/* the highest fixed number, or -1 */
static int	fdslot_spare = -1;	/* fills a fixed number given up */

/*
 * fdslot_fix - take every free number up to the highest open descriptor
 * (found below FDSLOT_SCAN); that number, or -1 with errno
 */
int
fdslot_fix(void)
{
	int	fd, top = -1;

	for (fd = 0; fd < FDSLOT_SCAN; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			top = fd;
	if ((fdslot_spare = eventfd(0, EFD_CLOEXEC)) == -1)
		return -1;
	if (fdslot_spare > top)
		top = fdslot_spare;
	/* Each copy takes the lowest free number: a hole, until none is
	 * left below top. */
	while ((fd = fcntl(fdslot_spare, F_DUPFD_CLOEXEC, 0)) != -1 &&
	    fd < top)
		continue;
	if (fd == -1)
		return -1;
	close(fd);
	fdslot_top = top;
	return top;
}

/* fdslot_close - close fd; a fixed one is replaced, its number kept */
void
fdslot_close(int fd)
{
	if (fd <= fdslot_top && fdslot_spare != -1 && fd != fdslot_spare &&
	    dup3(fdslot_spare, fd, O_CLOEXEC) != -1)
		return;
	close(fd);
}

/*
 * fdslot_move - fd takes the place of to (closed): at to's number if
 * that is fixed, fd closed then; the number the descriptor has now
 */
int
fdslot_move(int fd, int to)
{
	if (to == -1)
		return fd;
	if (to <= fdslot_top && dup3(fd, to, O_CLOEXEC) != -1) {
		close(fd);
		return to;
	}
	close(to);
	return fd;
}
