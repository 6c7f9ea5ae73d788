/*
 * broker.c - connect the workers' channels for them.
 *
 * Runs in the master, after privileges are dropped.  A worker makes no
 * socket and connects nothing: its seccomp filter forbids both, so that
 * a worker a client took over cannot reach a socket of its choosing and
 * give it the listeners or the access log (SCM_RIGHTS).  Instead each
 * worker has a broker socket (WCONF_BROKER_FD, a SOCK_SEQPACKET pair
 * made by spawn.c) on which it asks for a channel by path
 * (common/chanreq.c); the master checks that the worker's own
 * generation's configuration names that socket (chanreq_allowed: a
 * backend's, or a file in a tenant's directory), puts the generation's
 * chroot in front (the worker's paths are inside it), connects, and
 * answers with the connected channel, or the errno of the attempt,
 * which the worker treats exactly as its own connect's.
 *
 * The master never waits on a worker: a Unix connect is immediate or
 * fails (EAGAIN when the listener's backlog is full), answers are sent
 * with MSG_DONTWAIT (one that does not fit is dropped with its
 * descriptor; the worker asks again after its timeout), and at most
 * BROKER_BATCH requests of one worker are read per wake-up.  Requests
 * are read without a control buffer, so a descriptor a worker sends is
 * closed by the kernel; anything but an exact request is logged, at
 * most once per BROKER_BAD_LOG_MS per worker, and ignored.
 *
 * The master's loop polls one descriptor for all workers, broker_fd(),
 * an epoll set of their broker sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>

#include "broker.h"
#include "chanreq.h"
#include "clock.h"
#include "log.h"
#include "penalty.h"

#define BROKER_BATCH		16	/* requests of a worker per wake-up */
#define BROKER_EVENTS		64
#define BROKER_BAD_LOG_MS	10000

/* A worker's broker socket, as the master holds it: spawn.c's owner. */
struct broker_peer {
	int			 bp_fd;		/* spawn.c closes it */
	const struct wconf	*bp_wconf;	/* its generation's */
	int			 bp_index;
	unsigned		 bp_gen;
	int			 bp_gone;	/* out of the epoll set */
	uint64_t		 bp_bad;	/* bad requests not logged */
	uint64_t		 bp_bad_log_ms;
};

static int	broker_epoll = -1;

/* broker_init - the epoll set of the workers' broker sockets; 0 or -1 */
int
broker_init(void)
{
	if ((broker_epoll = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	return 0;
}

/* broker_fd - what the master's loop polls for requests */
int
broker_fd(void)
{
	return broker_epoll;
}

/*
 * broker_pair - a worker's broker socket: the master's end, and the
 * worker's end for WCONF_BROKER_FD; 0, or -1 with errno and nothing open
 */
int
broker_pair(int *master_end, int *worker_end)
{
	int	sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	*master_end = sv[0];
	*worker_end = sv[1];
	return 0;
}

/*
 * broker_add - serve worker index of generation gen, configured with wc
 * (which outlives it), on fd; NULL with errno if it cannot be
 */
struct broker_peer *
broker_add(int fd, const struct wconf *wc, int index, unsigned gen)
{
	struct broker_peer	*bp;
	struct epoll_event	 ev;

	if ((bp = calloc(1, sizeof(*bp))) == NULL)
		return NULL;
	bp->bp_fd = fd;
	bp->bp_wconf = wc;
	bp->bp_index = index;
	bp->bp_gen = gen;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = bp;
	if (epoll_ctl(broker_epoll, EPOLL_CTL_ADD, fd, &ev) == -1) {
		free(bp);
		return NULL;
	}
	return bp;
}

/* broker_forget - no more requests from bp: its worker is gone */
static void
broker_forget(struct broker_peer *bp)
{
	if (bp->bp_gone)
		return;
	(void)epoll_ctl(broker_epoll, EPOLL_CTL_DEL, bp->bp_fd, NULL);
	bp->bp_gone = 1;
}

/* broker_remove - bp's worker is gone; its owner closes bp_fd after */
void
broker_remove(struct broker_peer *bp)
{
	if (bp == NULL)
		return;
	broker_forget(bp);
	free(bp);
}

/* broker_bad - a request that is not one: counted, logged now and then */
static void
broker_bad(struct broker_peer *bp, const char *why)
{
	uint64_t	now = clock_ms();

	bp->bp_bad++;
	if (bp->bp_bad_log_ms != 0 && now - bp->bp_bad_log_ms <
	    BROKER_BAD_LOG_MS)
		return;
	log_warnx("worker %d gen %u: %s (%llu such requests ignored since "
	    "last said)", bp->bp_index, bp->bp_gen, why,
	    (unsigned long long)bp->bp_bad);
	bp->bp_bad = 0;
	bp->bp_bad_log_ms = now;
}

/*
 * broker_in_root - path resolved inside root as the chrooted worker
 * would (an absolute symlink or ".." stays within it), as a name that
 * connect(2) takes: "/proc/self/fd/N" of an O_PATH descriptor of the
 * socket file, *held to be closed by the caller; 0, or -1 with errno
 */
static int
broker_in_root(const char *root, const char *path, struct sockaddr_un *sun,
    int *held)
{
	struct open_how	how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int		dir, fd, saved;

	if ((dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	fd = (int)syscall(SYS_openat2, dir, path, &how, sizeof(how));
	saved = errno;
	close(dir);
	if (fd == -1) {
		errno = saved;
		return -1;
	}
	*held = fd;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "/proc/self/fd/%d",
	    fd);
	return 0;
}

/*
 * broker_connect - a channel to path as seen from bp's worker (in its
 * chroot, if any): the connected socket, or -1 with errno
 */
static int
broker_connect(const struct broker_peer *bp, const char *path)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	const char		*root = bp->bp_wconf->wc_chroot;
	int			 fd, held = -1, saved;

	/*
	 * Not root's name in front of path: a symlink in the chroot would
	 * then be followed outside it, where the worker never could reach.
	 */
	if (root != NULL && strcmp(root, "/") != 0) {
		if (broker_in_root(root, path, &sun, &held) == -1)
			return -1;
	} else if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Never waits: a Unix connect is immediate, or EAGAIN when the
	 * listener's backlog is full. */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd != -1 && connect(fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		fd = -1;
		errno = saved;
	}
	saved = errno;
	if (held != -1)
		close(held);
	errno = saved;
	return fd;
}

/* broker_answer - tell bp's worker about request id: fd, or error */
static void
broker_answer(struct broker_peer *bp, uint32_t id, int fd, int error)
{
	uint8_t	out[CHANREQ_ANSWER_LEN];

	chanreq_answer_encode(out, id, error);
	/* A worker that does not read its answers must not hold us: it
	 * asks again after its timeout. */
	if (wconf_send_fd(bp->bp_fd, out, sizeof(out), fd) == -1 &&
	    errno != EAGAIN && errno != EPIPE && errno != ECONNRESET)
		log_warn("%s: worker %d gen %u", __func__, bp->bp_index,
		    bp->bp_gen);
	if (fd != -1)
		close(fd);
}

/*
 * broker_penalty - bp's worker saw a netblock's connections stall: the
 * kernel drops its SYNs for its generation's source_penalty
 */
static void
broker_penalty(struct broker_peer *bp, const uint8_t *msg, size_t len)
{
	struct netblock	nb;

	if (chanreq_penalty_decode(msg, len, bp->bp_wconf, &nb) == -1) {
		broker_bad(bp, "a penalty that is not one");
		return;
	}
	if (bp->bp_wconf->wc_penalty_ms == 0) {
		broker_bad(bp, "a penalty while source_penalty is off");
		return;
	}
	penalty_add(&nb, bp->bp_wconf->wc_penalty_ms, clock_ms());
}

/*
 * broker_request - one request of bp's worker, len bytes at msg (or
 * more than it may be): answer it, or ignore it if it is not one
 */
static void
broker_request(struct broker_peer *bp, const uint8_t *msg, size_t len,
    int truncated)
{
	struct chanreq_ask	ca;
	int			fd, error = 0;

	if (!truncated && len == CHANREQ_PENALTY_LEN) {
		broker_penalty(bp, msg, len);
		return;
	}
	if (truncated || chanreq_ask_decode(msg, len, &ca) == -1) {
		broker_bad(bp, "a channel request that is not one");
		return;
	}
	if (!chanreq_allowed(bp->bp_wconf, ca.ca_path)) {
		broker_bad(bp, "a channel request for a socket its "
		    "configuration does not name");
		return;
	}
	if ((fd = broker_connect(bp, ca.ca_path)) == -1)
		error = errno;
	broker_answer(bp, ca.ca_id, fd, error);
}

/* broker_read - up to BROKER_BATCH requests of bp's worker */
static void
broker_read(struct broker_peer *bp)
{
	uint8_t		 msg[CHANREQ_ASK_LEN + 1];
	struct iovec	 iov;
	struct msghdr	 mh;
	ssize_t		 n;
	int		 i;

	for (i = 0; i < BROKER_BATCH; i++) {
		/* No control buffer: a descriptor sent to us is closed. */
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = msg;
		iov.iov_len = sizeof(msg);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = recvmsg(bp->bp_fd, &mh, MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* Its worker is gone; spawn.c reaps it. */
			broker_forget(bp);
			return;
		}
		broker_request(bp, msg, (size_t)n,
		    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0);
	}
}

/* broker_serve - answer what the workers asked, never waiting */
void
broker_serve(void)
{
	struct epoll_event	 events[BROKER_EVENTS];
	struct broker_peer	*bp;
	int			 n, i;

	if ((n = epoll_wait(broker_epoll, events, BROKER_EVENTS, 0)) == -1) {
		if (errno != EINTR)
			log_warn("%s: epoll_wait", __func__);
		return;
	}
	for (i = 0; i < n; i++) {
		bp = events[i].data.ptr;
		if (events[i].events & EPOLLIN)
			broker_read(bp);
		else if (events[i].events & (EPOLLHUP | EPOLLERR))
			broker_forget(bp);
	}
}
