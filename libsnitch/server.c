/*
 * server.c - libsnitch's simple API (snitch_open, snitch_next,
 * snitch_drain, snitch_close): one object that listens, accepts the
 * workers' channels, polls them and hands the caller one connection at
 * a time, acknowledged in batches.
 *
 * Linked into other people's backend daemons and run with whatever
 * privilege they have.  So: no global state, no output, no exit, no
 * signal disposition touched; every failure is -1 and errno.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "private.h"
#include "snitch.h"

#define SNITCH_CHANNELS_INIT	16	/* pollfd slots at open */
#define SNITCH_ACCEPT_BURST	64	/* channels accepted per wakeup */
#define SNITCH_ACCEPT_PAUSE_MS	100	/* rest after EMFILE */

struct snitch_server {
	int		 ss_listen;	/* -1 once draining */
	struct pollfd	*ss_pfd;	/* [0] listener, then channels */
	unsigned	*ss_unacked;	/* [i]: channel ss_pfd[i]'s, see snitch_ack */
	size_t		 ss_npfd;
	size_t		 ss_cap;
	size_t		 ss_cursor;	/* next unserved ss_pfd */
	int		 ss_paused;	/* listener out of poll until: */
	struct timespec	 ss_resume;
	uid_t		 ss_peer;	/* channels only from, or _ANY */
	pid_t		 ss_pid;	/* the process that opened it */
	int		 ss_draining;	/* snitch_drain was called */
	struct snitch_bound ss_bound;	/* the socket file it bound */
	char		 ss_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/*
 * snitch_server_drop - forget channel i, closing it unless its fd is
 * gone; what it received is acknowledged first
 */
static void
snitch_server_drop(struct snitch_server *srv, size_t i, int do_close)
{
	if (do_close) {
		(void)snitch_ack(srv->ss_pfd[i].fd, &srv->ss_unacked[i]);
		(void)close(srv->ss_pfd[i].fd);
	}
	memmove(&srv->ss_pfd[i], &srv->ss_pfd[i + 1],
	    (srv->ss_npfd - i - 1) * sizeof(*srv->ss_pfd));
	memmove(&srv->ss_unacked[i], &srv->ss_unacked[i + 1],
	    (srv->ss_npfd - i - 1) * sizeof(*srv->ss_unacked));
	srv->ss_npfd--;
}

/* snitch_server_grow - room for twice as many channels; 0, or -1 ENOMEM */
static int
snitch_server_grow(struct snitch_server *srv)
{
	struct pollfd	*pfd;
	unsigned	*unacked;
	size_t		 cap = srv->ss_cap * 2;

	if (cap < srv->ss_cap || cap > SIZE_MAX / sizeof(*pfd)) {
		errno = ENOMEM;
		return -1;
	}
	if ((pfd = realloc(srv->ss_pfd, cap * sizeof(*pfd))) == NULL)
		return -1;
	srv->ss_pfd = pfd;
	if ((unacked = realloc(srv->ss_unacked,
	    cap * sizeof(*unacked))) == NULL)
		return -1;
	srv->ss_unacked = unacked;
	srv->ss_cap = cap;
	return 0;
}

/* snitch_server_add - poll a new channel; -1 with ENOMEM when full */
static int
snitch_server_add(struct snitch_server *srv, int fd)
{
	if (srv->ss_npfd == srv->ss_cap && snitch_server_grow(srv) < 0)
		return -1;
	srv->ss_pfd[srv->ss_npfd].fd = fd;
	srv->ss_pfd[srv->ss_npfd].events = POLLIN;
	srv->ss_pfd[srv->ss_npfd].revents = 0;
	srv->ss_unacked[srv->ss_npfd] = 0;
	srv->ss_npfd++;
	return 0;
}

/* snitch_server_pause - take the listener out of the poll set for a while */
static void
snitch_server_pause(struct snitch_server *srv)
{
	/*
	 * accept failing for want of fds or memory leaves the channel in the
	 * backlog and the listener readable: without a rest, poll returns at
	 * once, forever (sniproxy issue #89).  Channels still get served.
	 */
	(void)clock_gettime(CLOCK_MONOTONIC, &srv->ss_resume);
	srv->ss_resume.tv_nsec += SNITCH_ACCEPT_PAUSE_MS * 1000000L;
	if (srv->ss_resume.tv_nsec >= 1000000000L) {
		srv->ss_resume.tv_sec++;
		srv->ss_resume.tv_nsec -= 1000000000L;
	}
	srv->ss_paused = 1;
	srv->ss_pfd[0].fd = -1;		/* poll ignores a negative fd */
}

/* snitch_server_timeout - poll's timeout: -1, or until the listener resumes */
static int
snitch_server_timeout(struct snitch_server *srv)
{
	struct timespec	 now;
	long long	 ms;

	if (!srv->ss_paused)
		return -1;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(srv->ss_resume.tv_sec - now.tv_sec) * 1000 +
	    (srv->ss_resume.tv_nsec - now.tv_nsec + 999999) / 1000000;
	if (ms <= 0) {
		srv->ss_paused = 0;
		srv->ss_pfd[0].fd = srv->ss_listen;
		return -1;
	}
	return (int)ms;
}

/*
 * snitch_server_accept_one - accept one waiting channel: 1, 0 when none
 * is left (or accepting must rest), -1 only when fatal
 */
static int
snitch_server_accept_one(struct snitch_server *srv)
{
	int	fd;

	/* Non-blocking: snitch_next must not wait on one channel. */
	fd = accept4(srv->ss_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0 && snitch_peer_check(fd, srv->ss_peer) < 0)
		return 1;	/* another user's channel: closed */
	if (fd < 0) {
		switch (errno) {
		case EAGAIN:
		case EINTR:
		case ECONNABORTED:
			return 0;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			snitch_server_pause(srv);
			return 0;
		default:
			return -1;
		}
	}
	if (snitch_server_add(srv, fd) < 0) {
		(void)close(fd);
		snitch_server_pause(srv);
		return 0;
	}
	snitch_hello(fd);
	return 1;
}

/* snitch_server_accept - accept waiting channels; -1 only when fatal */
static int
snitch_server_accept(struct snitch_server *srv)
{
	int	n, r = 1;

	for (n = 0; n < SNITCH_ACCEPT_BURST && r == 1; n++)
		r = snitch_server_accept_one(srv);
	return r < 0 ? -1 : 0;
}

/*
 * snitch_open - listen at path (see snitch_listen) and keep the channels
 * of the workers that connect; the server, or NULL with errno.
 */
struct snitch_server *
snitch_open(const char *path, mode_t mode)
{
	return snitch_open_flags(path, mode, SNITCH_PEER_ANY, 0);
}

/* snitch_open_peer - snitch_open, keeping only channels from uid */
struct snitch_server *
snitch_open_peer(const char *path, mode_t mode, uid_t uid)
{
	return snitch_open_flags(path, mode, uid, 0);
}

/*
 * snitch_open_flags - snitch_open_peer, listening with flags (see
 * snitch_listen_flags: SNITCH_REPLACE takes over from a live instance)
 */
struct snitch_server *
snitch_open_flags(const char *path, mode_t mode, uid_t uid, int flags)
{
	struct snitch_server	*srv;
	int			 fl, saved;

	if (path != NULL && strlen(path) >= sizeof(srv->ss_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->ss_listen = -1;
	srv->ss_peer = uid;
	srv->ss_pid = getpid();
	srv->ss_cap = SNITCH_CHANNELS_INIT;
	if ((srv->ss_pfd = calloc(srv->ss_cap, sizeof(*srv->ss_pfd))) == NULL ||
	    (srv->ss_unacked = calloc(srv->ss_cap,
	    sizeof(*srv->ss_unacked))) == NULL)
		goto fail;
	if ((srv->ss_listen = snitch_listen_flags(path, mode, flags,
	    &srv->ss_bound)) < 0)
		goto fail;
	memcpy(srv->ss_path, path, strlen(path) + 1);
	/* Accept until EAGAIN: a channel may go between poll and accept. */
	if ((fl = fcntl(srv->ss_listen, F_GETFL)) < 0 ||
	    fcntl(srv->ss_listen, F_SETFL, fl | O_NONBLOCK) < 0) {
		saved = errno;
		(void)snitch_unlink(path, &srv->ss_bound);
		errno = saved;
		goto fail;
	}
	srv->ss_pfd[0].fd = srv->ss_listen;
	srv->ss_pfd[0].events = POLLIN;
	srv->ss_npfd = 1;
	srv->ss_cursor = 1;
	return srv;

fail:
	saved = errno;
	if (srv->ss_listen >= 0)
		(void)close(srv->ss_listen);
	free(srv->ss_pfd);
	free(srv->ss_unacked);
	free(srv);
	errno = saved;
	return NULL;
}

/*
 * snitch_server_flush - acknowledge what every channel received: the
 * server is about to wait
 */
static void
snitch_server_flush(struct snitch_server *srv)
{
	size_t	i;

	for (i = 1; i < srv->ss_npfd; i++)
		(void)snitch_ack(srv->ss_pfd[i].fd, &srv->ss_unacked[i]);
}

/*
 * snitch_server_wait - poll until a channel or the listener is ready;
 * a wait that would block acknowledges everything first; 0, or -1
 */
static int
snitch_server_wait(struct snitch_server *srv)
{
	int	r;

	if ((r = poll(srv->ss_pfd, srv->ss_npfd, 0)) != 0)
		return r < 0 ? -1 : 0;
	snitch_server_flush(srv);
	return poll(srv->ss_pfd, srv->ss_npfd,
	    snitch_server_timeout(srv)) < 0 ? -1 : 0;
}

/*
 * snitch_next - wait for the next connection from any channel; 0 with
 * conn filled, or -1 with errno (EINTR: a signal arrived; ESHUTDOWN:
 * drained, nothing more will come).
 *
 * One poll serves every ready channel once, in order, one message per
 * call, before the next poll: a busy worker cannot starve the others.
 * Refused messages are skipped; a channel at EOF or in error is dropped.
 */
int
snitch_next(struct snitch_server *srv, struct snitch_conn *conn)
{
	size_t	 i;
	short	 revents;
	int	 r;

	if (srv == NULL) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		while (srv->ss_cursor < srv->ss_npfd) {
			i = srv->ss_cursor;
			revents = srv->ss_pfd[i].revents;
			srv->ss_pfd[i].revents = 0;
			if (revents == 0) {
				srv->ss_cursor++;
				continue;
			}
			if (i == 0) {
				if (revents & POLLNVAL) {
					errno = EBADF;
					return -1;
				}
				srv->ss_cursor++;
				if (snitch_server_accept(srv) < 0)
					return -1;
				continue;
			}
			if (revents & POLLNVAL) {
				/* Closed behind our back: not ours to close. */
				snitch_server_drop(srv, i, 0);
				continue;
			}
			r = snitch_recv_batch(srv->ss_pfd[i].fd, conn,
			    &srv->ss_unacked[i]);
			if (r == 1) {
				srv->ss_cursor++;
				return 0;
			}
			if (r < 0 && errno == EINTR) {
				srv->ss_pfd[i].revents = revents;
				return -1;
			}
			if (r < 0 && (errno == EBADMSG || errno == EAGAIN)) {
				srv->ss_cursor++;
				continue;
			}
			snitch_server_drop(srv, i, 1);
		}
		if (srv->ss_draining && srv->ss_npfd == 1) {
			errno = ESHUTDOWN;
			return -1;
		}
		if (snitch_server_wait(srv) < 0)
			return -1;
		srv->ss_cursor = 0;
	}
}

/*
 * snitch_drain - stop taking handoffs: no worker finds this server again,
 * and each channel says "no more" (snitch_quiesce); snitch_next then
 * gives what was already sent, and ESHUTDOWN.  0, or -1 with EINVAL.
 */
int
snitch_drain(struct snitch_server *srv)
{
	size_t	i;

	if (srv == NULL || srv->ss_pid != getpid()) {
		errno = EINVAL;
		return -1;
	}
	if (srv->ss_draining)
		return 0;
	srv->ss_draining = 1;
	/*
	 * The name first (unless a new instance has it now), so that no
	 * worker connects here again; then the channels that connected
	 * before, still in the backlog: closing the listener would close
	 * them with whatever a worker of version 1 queued in them already.
	 */
	(void)snitch_unlink(srv->ss_path, &srv->ss_bound);
	while (snitch_server_accept_one(srv) == 1)
		;
	(void)close(srv->ss_listen);
	srv->ss_listen = -1;
	srv->ss_pfd[0].fd = -1;
	srv->ss_paused = 0;
	for (i = 1; i < srv->ss_npfd; i++)
		(void)snitch_quiesce(srv->ss_pfd[i].fd, &srv->ss_unacked[i]);
	return 0;
}

/*
 * snitch_close - close the listener and every channel, free srv; what
 * was received is acknowledged first, unless this is a forked child
 * (the parent acknowledges it: twice would be more than was sent)
 */
void
snitch_close(struct snitch_server *srv)
{
	size_t	 i;
	int	 saved = errno;

	if (srv == NULL)
		return;
	/* ss_pfd[0].fd is -1 while the listener rests: close ss_listen. */
	if (srv->ss_listen != -1)
		(void)close(srv->ss_listen);
	for (i = 1; i < srv->ss_npfd; i++) {
		if (srv->ss_pid == getpid())
			(void)snitch_ack(srv->ss_pfd[i].fd,
			    &srv->ss_unacked[i]);
		(void)close(srv->ss_pfd[i].fd);
	}
	free(srv->ss_pfd);
	free(srv->ss_unacked);
	free(srv);
	errno = saved;
}
