/*
 * backend.c - the worker's channel to each backend, and the queue of
 * connections waiting for a busy one.
 *
 * Runs in the worker, unprivileged.  One SOCK_SEQPACKET connection per
 * backend, connected when first needed and again after it is lost, with
 * a growing pause between failed attempts so a dead backend costs one
 * connect(2) per pause, not one per client.  An outage is logged when it
 * starts and when it ends, not per connection.
 *
 * "Busy" (the backend does not receive fast enough) is not "down": the
 * connection waits in the backend's queue, in order, until the channel
 * is writable or handoff_timeout passes.
 *
 * A backend with an owner, and every tenant socket, must be listened on
 * by that uid (SO_PEERCRED, the listener's credentials at listen(2)):
 * another user who bound the path while the real backend was stopped
 * gets no client.  A mismatch is an outage like a refused connect, with
 * its own cause, checked again at every reconnect.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>

#include "alert.h"
#include "handoff.h"
#include "log.h"
#include "worker.h"

#define BACKEND_BACKOFF_MIN	50	/* ms */
#define BACKEND_BACKOFF_MAX	1000
#define BACKEND_BUSY_RETRY	20	/* ms, when no EPOLLOUT will come */

/* backend_channels - how many channels a worker with wc may hold */
size_t
backend_channels(const struct wconf *wc)
{
	return wc->wc_nbackends + (wc->wc_ntenants > 0 ? TENANT_SLOTS : 0);
}

/*
 * backend_init - no channel is connected yet; the configured backends'
 * slots say what they are, the tenants' slots are free (backend_forget)
 */
int
backend_init(struct worker *w)
{
	const struct wconf_backend	*wb;
	struct backend			*be;
	size_t				 i;

	w->w_nchannels = backend_channels(&w->w_conf);
	w->w_backends = calloc(w->w_nchannels ? w->w_nchannels : 1,
	    sizeof(*w->w_backends));
	if (w->w_backends == NULL)
		return -1;
	for (i = 0; i < w->w_nchannels; i++) {
		be = &w->w_backends[i];
		be->be_fd = -1;
		TAILQ_INIT(&be->be_queue);
		if (i >= w->w_conf.wc_nbackends) {
			backend_forget(w, (int)i);
			continue;
		}
		wb = &w->w_conf.wc_backends[i];
		be->be_name = wb->wb_name;
		be->be_socket = wb->wb_socket;
		be->be_counts = &w->w_counters->cw_backends[i];
		be->be_fallback = wb->wb_fallback;
		be->be_uid = wb->wb_owner_uid;
		be->be_gid = wb->wb_owner_gid;
		be->be_tenant = -1;
	}
	return 0;
}

/* backend_down_reason - the access log's reason= for a refusal by b */
const char *
backend_down_reason(const struct worker *w, int b)
{
	return w->w_backends[b].be_down == BACKEND_DOWN_OWNER ?
	    "backend-owner" : "backend-down";
}

/* backend_watch - set the epoll interest of a channel */
static void
backend_watch(struct worker *w, int b, int want_out)
{
	struct backend		*be = &w->w_backends[b];
	struct epoll_event	 ev;

	/* No EPOLLIN: a backend never writes; EPOLLHUP says it is gone. */
	ev.events = EPOLLRDHUP | (want_out ? EPOLLOUT : 0);
	ev.data.u64 = EV_MAKE(EV_CHANNEL, be->be_use, b);
	if (epoll_ctl(w->w_epoll, EPOLL_CTL_MOD, be->be_fd, &ev) == -1)
		log_warn("%s: epoll_ctl", __func__);
	be->be_want_out = want_out;
}

/* backend_lost - forget a channel; the next need reconnects at once */
static void
backend_lost(struct worker *w, int b, const char *why)
{
	struct backend	*be = &w->w_backends[b];

	COUNTERS_ADD(be->be_counts->cb_errors, 1);
	log_warnx("backend %s: channel closed (%s); reconnecting when needed",
	    be->be_name, why);
	(void)epoll_ctl(w->w_epoll, EPOLL_CTL_DEL, be->be_fd, NULL);
	close(be->be_fd);
	be->be_fd = -1;
	be->be_want_out = 0;
	be->be_retry = 0;
}

/* backend_backoff - b is down for cause: wait longer before the next try */
static void
backend_backoff(struct worker *w, int b, enum backend_down cause)
{
	struct backend	*be = &w->w_backends[b];

	be->be_down = cause;
	be->be_backoff = be->be_backoff ? be->be_backoff * 2 :
	    BACKEND_BACKOFF_MIN;
	if (be->be_backoff > BACKEND_BACKOFF_MAX)
		be->be_backoff = BACKEND_BACKOFF_MAX;
	be->be_retry = w->w_now + be->be_backoff;
}

/* backend_failed - a connect attempt failed: log once, back off */
static void
backend_failed(struct worker *w, int b, int fd)
{
	struct backend	*be = &w->w_backends[b];
	int		 saved = errno;

	if (fd != -1)
		close(fd);
	COUNTERS_ADD(be->be_counts->cb_errors, 1);
	COUNTERS_ADD(w->w_counters->cw_fail[COUNTERS_FAIL_CONNECT], 1);
	errno = saved;
	if (be->be_down != BACKEND_DOWN_CONNECT)
		log_warn("backend %s: cannot connect to %s; clients get alert "
		    "%u until it is back", be->be_name, be->be_socket,
		    ALERT_INTERNAL_ERROR);
	backend_backoff(w, b, BACKEND_DOWN_CONNECT);
}

/*
 * backend_owned - whether the listener at the other end of fd is b's
 * owner; if not, fd is closed and the outage logged once with both uids.
 */
static int
backend_owned(struct worker *w, int b, int fd)
{
	struct backend	*be = &w->w_backends[b];
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	int64_t		 uid = be->be_uid, gid = be->be_gid;
	char		 want_gid[32] = "";

	if (uid == -1)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		backend_failed(w, b, fd);
		return 0;
	}
	if ((int64_t)cred.uid == uid && (gid == -1 || (int64_t)cred.gid == gid))
		return 1;
	close(fd);
	COUNTERS_ADD(be->be_counts->cb_errors, 1);
	COUNTERS_ADD(w->w_counters->cw_fail[COUNTERS_FAIL_OWNER], 1);
	if (gid != -1)
		snprintf(want_gid, sizeof(want_gid), " gid %lld",
		    (long long)gid);
	if (be->be_down != BACKEND_DOWN_OWNER)
		log_warnx("backend %s: %s is listened on by uid %lu gid %lu, "
		    "not by its owner uid %lld%s; clients get alert %u until "
		    "the owner's listener replaces it", be->be_name,
		    be->be_socket, (unsigned long)cred.uid,
		    (unsigned long)cred.gid, (long long)uid, want_gid,
		    ALERT_INTERNAL_ERROR);
	backend_backoff(w, b, BACKEND_DOWN_OWNER);
	return 0;
}

/* backend_connect - the backend's channel, connecting it if needed */
static int
backend_connect(struct worker *w, int b)
{
	struct backend		*be = &w->w_backends[b];
	struct sockaddr_un	 sun;
	struct epoll_event	 ev;
	int			 fd;

	if (be->be_fd != -1)
		return be->be_fd;
	if (w->w_now < be->be_retry)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, be->be_socket, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		backend_failed(w, b, fd);
		return -1;
	}
	if (!backend_owned(w, b, fd))
		return -1;
	be->be_use = (be->be_use + 1) & 0xffffff;
	ev.events = EPOLLRDHUP;
	ev.data.u64 = EV_MAKE(EV_CHANNEL, be->be_use, b);
	if (epoll_ctl(w->w_epoll, EPOLL_CTL_ADD, fd, &ev) == -1) {
		backend_failed(w, b, fd);
		return -1;
	}
	if (be->be_down != BACKEND_UP)
		log_info("backend %s: connected again", be->be_name);
	be->be_fd = fd;
	be->be_down = BACKEND_UP;
	be->be_backoff = 0;
	return fd;
}

/* backend_is_busy - whether a send error means "try again later" */
static int
backend_is_busy(int error)
{
	/*
	 * EAGAIN: its queue is full.  ETOOMANYREFS, ENOBUFS: too many fds
	 * in flight or no buffer memory; they clear as the backend receives.
	 */
	return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS ||
	    error == ETOOMANYREFS || error == ENOMEM || error == EINTR;
}

/* backend_fail_cause - the counted cause of a failed sendmsg */
static enum counters_fail
backend_fail_cause(int error)
{
	switch (error) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
		return COUNTERS_FAIL_QUEUE_FULL;
	case ETOOMANYREFS:
		return COUNTERS_FAIL_TOO_MANY_REFS;
	case ENOBUFS:
	case ENOMEM:
		return COUNTERS_FAIL_NO_MEMORY;
	default:
		return COUNTERS_FAIL_LOST;
	}
}

/* backend_send - pass c's socket with its header to backend b */
enum backend_result
backend_send(struct worker *w, int b, struct conn *c, const uint8_t *payload,
    size_t len)
{
	int	fd, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if ((fd = backend_connect(w, b)) == -1)
			return BACKEND_DOWN;
		if (handoff_send(fd, c->cn_fd, payload, len) == 0)
			return BACKEND_SENT;
		COUNTERS_ADD(w->w_counters->cw_fail[backend_fail_cause(errno)],
		    1);
		if (backend_is_busy(errno)) {
			/* Only a full queue ends with the channel writable;
			 * waiting for EPOLLOUT on the others would spin. */
			w->w_backends[b].be_out_helps = errno == EAGAIN ||
			    errno == EWOULDBLOCK;
			return BACKEND_BUSY;
		}
		/* Lost (EPIPE, ECONNRESET...): a restarted backend is a
		 * reconnect away, so try once more at once. */
		backend_lost(w, b, strerror(errno));
	}
	return BACKEND_DOWN;
}

/* backend_has_queue - whether connections already wait for b */
int
backend_has_queue(const struct worker *w, int b)
{
	return !TAILQ_EMPTY(&w->w_backends[b].be_queue);
}

/* backend_want_out - watch b's channel for room while that can help */
static void
backend_want_out(struct worker *w, int b)
{
	struct backend	*be = &w->w_backends[b];
	int		 want = be->be_out_helps && !TAILQ_EMPTY(&be->be_queue);

	if (be->be_fd != -1 && be->be_want_out != want)
		backend_watch(w, b, want);
}

/* backend_enqueue - c waits for b, at most handoff_timeout */
void
backend_enqueue(struct worker *w, int b, struct conn *c)
{
	struct backend	*be = &w->w_backends[b];

	/* Only a connection that was just routed is ever queued. */
	TAILQ_REMOVE(&w->w_peeking, c, cn_link);
	c->cn_state = CONN_QUEUED;
	c->cn_backend = b;
	c->cn_deadline = w->w_now + w->w_conf.wc_handoff_timeout_ms;
	TAILQ_INSERT_TAIL(&be->be_queue, c, cn_link);
	backend_want_out(w, b);
}

/* backend_flush - send queued connections until b is busy again */
static void
backend_flush(struct worker *w, int b)
{
	struct backend	*be = &w->w_backends[b];
	struct conn	*c;

	while ((c = TAILQ_FIRST(&be->be_queue)) != NULL)
		if (!peek_resume(w, c))
			break;
	backend_want_out(w, b);
}

/* backend_event - a channel is writable again, or its backend is gone */
void
backend_event(struct worker *w, int b, uint32_t use, uint32_t events)
{
	struct backend	*be = &w->w_backends[b];

	if (be->be_fd == -1 || be->be_use != use)
		return;		/* about a channel already replaced */
	if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		backend_lost(w, b, "backend closed it");
	backend_flush(w, b);
}

/* backend_expire - retry queues, refuse what waited too long */
void
backend_expire(struct worker *w)
{
	struct conn	*c;
	size_t		 b;

	for (b = 0; b < w->w_nchannels; b++) {
		if (TAILQ_EMPTY(&w->w_backends[b].be_queue))
			continue;
		backend_flush(w, (int)b);
		while ((c = TAILQ_FIRST(&w->w_backends[b].be_queue)) != NULL &&
		    c->cn_deadline <= w->w_now)
			peek_give_up(w, c);
	}
}

/* backend_next_deadline - when a queue needs attention next */
uint64_t
backend_next_deadline(const struct worker *w)
{
	const struct conn	*c;
	uint64_t		 next = UINT64_MAX;
	size_t			 b;

	for (b = 0; b < w->w_nchannels; b++) {
		if ((c = TAILQ_FIRST(&w->w_backends[b].be_queue)) == NULL)
			continue;
		if (c->cn_deadline < next)
			next = c->cn_deadline;
		/* ETOOMANYREFS and ENOBUFS end without an EPOLLOUT. */
		if (w->w_now + BACKEND_BUSY_RETRY < next)
			next = w->w_now + BACKEND_BUSY_RETRY;
	}
	return next;
}

/*
 * backend_forget - make tenant slot b free for another socket: close its
 * channel (out of epoll first) and forget its outage; its use count
 * goes on, so events of the old channel are recognised as stale
 */
void
backend_forget(struct worker *w, int b)
{
	struct backend	*be = &w->w_backends[b];

	if (be->be_fd != -1) {
		(void)epoll_ctl(w->w_epoll, EPOLL_CTL_DEL, be->be_fd, NULL);
		close(be->be_fd);
	}
	be->be_fd = -1;
	be->be_retry = 0;
	be->be_backoff = 0;
	be->be_down = BACKEND_UP;
	be->be_want_out = 0;
	be->be_out_helps = 0;
	be->be_tenant = -1;
	be->be_path[0] = '\0';
	be->be_label[0] = '\0';
	be->be_name = be->be_label;
	be->be_socket = be->be_path;
	be->be_counts = NULL;
	be->be_fallback = -1;
	be->be_uid = be->be_gid = -1;
}

/*
 * backend_tenant - free slot b is now tenant t's socket at path: its
 * listener must be her uid, it counts as hers, it has no fallback
 */
void
backend_tenant(struct worker *w, int b, int t, const char *path)
{
	struct backend	*be = &w->w_backends[b];

	be->be_tenant = t;
	strlcpy(be->be_path, path, sizeof(be->be_path));
	snprintf(be->be_label, sizeof(be->be_label), "%s%s",
	    WCONF_TENANT_PREFIX, w->w_conf.wc_tenants[t].wt_name);
	be->be_counts = &w->w_counters->cw_backends[w->w_conf.wc_nbackends +
	    (size_t)t];
	be->be_uid = w->w_conf.wc_tenants[t].wt_uid;
}

/* backend_close_all - close every channel, at exit */
void
backend_close_all(struct worker *w)
{
	size_t	b;

	for (b = 0; b < w->w_nchannels; b++)
		if (w->w_backends[b].be_fd != -1)
			close(w->w_backends[b].be_fd);
	free(w->w_backends);
	w->w_backends = NULL;
}
