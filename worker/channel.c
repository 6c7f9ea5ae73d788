/*
 * channel.c - the worker's channel to each backend: a leaf.
 *
 * Runs in the worker, unprivileged.  One SOCK_SEQPACKET connection per
 * backend, connected when first needed and again after it is lost, with
 * a growing pause between failed attempts so a dead backend costs one
 * connect(2) per pause, not one per client.  An outage is logged when it
 * starts and when it ends, not per connection.
 *
 * The worker connects nothing itself (its sandbox forbids socket(2) and
 * connect(2)): it asks the master on its broker socket, and the master
 * (master/broker.c) connects the path its configuration names and
 * passes the channel back.  Asking is a state of a channel like waiting
 * for its backend's HELLO: channel_send is busy meanwhile, and the
 * answer (channel_answer, read when the broker socket is readable) goes
 * on exactly as a connect of our own would have: the owner check and
 * the HELLO wait, or a failure with its errno, its back-off and its
 * log line.
 *
 * This file connects, sends, backs off and checks owners, and says what
 * happened (enum channel_result); what to do with a connection its
 * channel could not take (wait, retry, fall back, refuse) is decided in
 * dispatch.c alone.  It never moves a connection.
 *
 * A backend with an owner, and every tenant socket, must be listened on
 * by that uid (SO_PEERCRED, the listener's credentials at listen(2)):
 * another user who bound the path while the real backend was stopped
 * gets no client.  A mismatch is an outage like a refused connect, with
 * its own cause, checked again at every reconnect.
 *
 * What a backend may hold is bounded.  Each descriptor in a channel's
 * queue counts against the worker's user in the kernel (too many, and
 * every send fails with ETOOMANYREFS, for every backend), so a backend
 * that stops receiving must not pin an unbounded number.  A channel's
 * send buffer holds at most CHANNEL_INFLIGHT_MAX small handoffs; a
 * connection lost while its backend may still receive or acknowledge
 * what is queued in it is retired, not closed, and no new one is made
 * to that backend until the retired one holds nothing more or its
 * backend closes it (channel_retire).  Closing it would not free what
 * it holds: the backend's end keeps the queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>
#include <linux/sockios.h>

#include "ack.h"
#include "alert.h"
#include "chanreq.h"
#include "handoff.h"
#include "log.h"
#include "worker.h"

#define CHANNEL_BACKOFF_MIN	50	/* ms */
#define CHANNEL_BACKOFF_MAX	1000
#define CHANNEL_READ_BATCH	16	/* messages per recvmmsg */
#define CHANNEL_HELLO_MS	100	/* a channel without HELLO by then
					   is of version 1 */
#define CHANNEL_ASK_MS		1000	/* the master's answer, at most */
#define CHANNEL_ASKED		(-2)	/* channel_connect: asked, wait */
/* The least of a send buffer one handoff takes: the kernel's size of a
 * short message with its descriptor, on Linux 6 (768 bytes). */
#define CHANNEL_HANDOFF_SIZE	768
/* SO_SNDBUF: the kernel doubles it, to CHANNEL_INFLIGHT_MAX handoffs */
#define CHANNEL_SNDBUF		(CHANNEL_INFLIGHT_MAX * CHANNEL_HANDOFF_SIZE / 2)

/*
 * channel_count - how many channels a worker with wc may hold: the
 * backends', and TENANT_SLOTS, or one per tenant when there are more
 * (each tenant's share of them must be one at least: tenant.c)
 */
size_t
channel_count(const struct wconf *wc)
{
	if (wc->wc_ntenants == 0)
		return wc->wc_nbackends;
	return wc->wc_nbackends + (wc->wc_ntenants > TENANT_SLOTS ?
	    wc->wc_ntenants : TENANT_SLOTS);
}

/*
 * channel_init - no channel is connected yet; the configured backends'
 * slots say what they are, the tenants' slots are free (channel_forget)
 */
int
channel_init(struct worker *w)
{
	const struct wconf_backend	*wb;
	struct channel			*ch;
	size_t				 i;

	w->w_nchannels = channel_count(&w->w_conf);
	w->w_channels = calloc(w->w_nchannels ? w->w_nchannels : 1,
	    sizeof(*w->w_channels));
	if (w->w_channels == NULL)
		return -1;
	for (i = 0; i < w->w_nchannels; i++) {
		ch = &w->w_channels[i];
		ch->ch_fd = -1;
		ch->ch_retired_fd = -1;
		ch->ch_watch = -1;
		ch->ch_version = 0;
		TAILQ_INIT(&ch->ch_queue);
		TAILQ_INIT(&ch->ch_sent);
		if (i >= w->w_conf.wc_nbackends) {
			channel_forget(w, (int)i);
			continue;
		}
		wb = &w->w_conf.wc_backends[i];
		ch->ch_name = wb->wb_name;
		ch->ch_socket = wb->wb_socket;
		ch->ch_counts = &w->w_counters->cw_backends[i];
		ch->ch_fallback = wb->wb_fallback;
		ch->ch_uid = wb->wb_owner_uid;
		ch->ch_gid = wb->wb_owner_gid;
		ch->ch_tenant = -1;
	}
	return 0;
}

/* channel_down_reason - the access log's reason= for a refusal by b */
const char *
channel_down_reason(const struct worker *w, int b)
{
	return w->w_channels[b].ch_down == CHANNEL_DOWN_OWNER ?
	    "backend-owner" : "backend-down";
}

/*
 * channel_watch - set the epoll interest of a channel.  One of version 1
 * is watched for room at all times, edge-triggered: the kernel wakes its
 * writers each time the backend receives a handoff (unix_write_space),
 * which is when the worker's copy may go (channel_received).
 */
static void
channel_watch(struct worker *w, int b, int want_out)
{
	struct channel		*ch = &w->w_channels[b];
	struct epoll_event	 ev;

	/* EPOLLIN: version 2's HELLO and ACKs; EPOLLRDHUP: it is gone. */
	ev.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0);
	if (ch->ch_version == 1)
		ev.events |= EPOLLOUT | EPOLLET;
	ev.data.u64 = EV_MAKE(EV_CHANNEL, ch->ch_use, b);
	if (epoll_ctl(w->w_epoll, EPOLL_CTL_MOD, ch->ch_fd, &ev) == -1)
		log_warn("%s: epoll_ctl", __func__);
	ch->ch_want_out = want_out;
}

/* channel_close - close a connection of a channel, out of epoll first */
static void
channel_close(struct worker *w, int fd)
{
	(void)epoll_ctl(w->w_epoll, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
}

/*
 * channel_unreceived - how many handoffs at most wait unreceived in the
 * queue of fd's backend: the send buffer they still take, over the
 * least one takes (what a backend received, or its closed end
 * discarded, no longer counts)
 */
static size_t
channel_unreceived(int fd)
{
	int	bytes;

	if (fd == -1 || ioctl(fd, SIOCOUTQ, &bytes) == -1 || bytes <= 0)
		return 0;
	return ((size_t)bytes + CHANNEL_HANDOFF_SIZE - 1) /
	    CHANNEL_HANDOFF_SIZE;
}

/* channel_sent_on - how many copies of handoffs sent on use b keeps */
static size_t
channel_sent_on(const struct channel *ch, uint32_t use)
{
	const struct conn	*c;
	size_t			 n = 0;

	TAILQ_FOREACH(c, &ch->ch_sent, cn_link)
		if (c->cn_channel_use == use)
			n++;
	return n;
}

/*
 * channel_holds - whether the backend at the other end of fd, b's
 * connection of use, may still have to receive or acknowledge a
 * handoff sent on it
 */
static int
channel_holds(const struct channel *ch, int fd, uint32_t use)
{
	return channel_unreceived(fd) > 0 || channel_sent_on(ch, use) > 0;
}

/*
 * channel_retired_close - b's retired connection holds nothing more, or
 * its backend closed it: what it did not acknowledge is handed again
 */
static void
channel_retired_close(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];

	channel_close(w, ch->ch_retired_fd);
	ch->ch_retired_fd = -1;
	if (!TAILQ_EMPTY(&ch->ch_sent))
		ch->ch_orphans = 1;
}

/*
 * channel_retire - b's connection is lost for sending, but its backend
 * may still receive what waits in it, and acknowledge it: keep it,
 * read for ACKs, until it holds nothing more (channel_retired_done) or
 * the backend closes it.  Edge-triggered: the end of a backend that
 * shut its side down stays readable.
 */
static void
channel_retire(struct worker *w, int b)
{
	struct channel		*ch = &w->w_channels[b];
	struct epoll_event	 ev;

	if (ch->ch_retired_fd != -1)	/* not made while one is open */
		channel_retired_close(w, b);
	ch->ch_retired_fd = ch->ch_fd;
	ch->ch_retired_use = ch->ch_use;
	ch->ch_retired_version = ch->ch_version;
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET |
	    (ch->ch_version == 1 ? EPOLLOUT : 0);
	ev.data.u64 = EV_MAKE(EV_RETIRED, ch->ch_use, b);
	if (epoll_ctl(w->w_epoll, EPOLL_CTL_MOD, ch->ch_fd, &ev) == -1) {
		log_warn("%s: epoll_ctl", __func__);
		channel_retired_close(w, b);
		return;
	}
	log_warnx("backend %s: handoffs it has not received or acknowledged "
	    "stay in its old channel; no new one until it takes them or "
	    "closes it", ch->ch_name);
}

/*
 * channel_retired_done - whether b has no retired connection (any more):
 * one that holds nothing is closed now
 */
static int
channel_retired_done(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];

	if (ch->ch_retired_fd == -1)
		return 1;
	if (channel_holds(ch, ch->ch_retired_fd, ch->ch_retired_use))
		return 0;
	channel_retired_close(w, b);
	return 1;
}

/*
 * channel_lost - forget b's connection (gone: its backend closed its
 * end); the next need reconnects at once, unless it is retired
 */
static void
channel_lost(struct worker *w, int b, const char *why, int gone)
{
	struct channel	*ch = &w->w_channels[b];

	COUNTERS_ADD(ch->ch_counts->cb_errors, 1);
	log_warnx("backend %s: channel closed (%s); reconnecting when needed",
	    ch->ch_name, why);
	if (!gone && channel_holds(ch, ch->ch_fd, ch->ch_use))
		channel_retire(w, b);
	else
		channel_close(w, ch->ch_fd);
	ch->ch_fd = -1;
	ch->ch_want_out = 0;
	ch->ch_retry = 0;
	/* A new connection says again which version it speaks. */
	ch->ch_version = 0;
	/* What it had not acknowledged: dispatch.c hands it again (what
	 * a retired connection holds, once it is closed). */
	if (!TAILQ_EMPTY(&ch->ch_sent))
		ch->ch_orphans = 1;
}

/*
 * channel_drop - close b's connection of use for something its backend
 * did (a message of no version, more acknowledged than sent)
 */
void
channel_drop(struct worker *w, int b, uint32_t use, const char *why)
{
	struct channel	*ch = &w->w_channels[b];

	if (ch->ch_fd != -1 && ch->ch_use == use)
		channel_lost(w, b, why, 1);
	else if (ch->ch_retired_fd != -1 && ch->ch_retired_use == use) {
		log_warnx("backend %s: old channel closed (%s)", ch->ch_name,
		    why);
		channel_retired_close(w, b);
	}
}

/* channel_backoff - b is down for cause: wait longer before the next try */
static void
channel_backoff(struct worker *w, int b, enum channel_down cause)
{
	struct channel	*ch = &w->w_channels[b];

	ch->ch_down = cause;
	ch->ch_backoff = ch->ch_backoff ? ch->ch_backoff * 2 :
	    CHANNEL_BACKOFF_MIN;
	if (ch->ch_backoff > CHANNEL_BACKOFF_MAX)
		ch->ch_backoff = CHANNEL_BACKOFF_MAX;
	ch->ch_retry = w->w_now + ch->ch_backoff;
}

/* channel_failed - a connect attempt failed: log once, back off */
static void
channel_failed(struct worker *w, int b, int fd)
{
	struct channel	*ch = &w->w_channels[b];
	int		 saved = errno;

	if (fd != -1)
		close(fd);
	COUNTERS_ADD(ch->ch_counts->cb_errors, 1);
	COUNTERS_ADD(w->w_counters->cw_fail[COUNTERS_FAIL_CONNECT], 1);
	errno = saved;
	if (ch->ch_down != CHANNEL_DOWN_CONNECT)
		log_warn("backend %s: cannot connect to %s; its clients wait "
		    "for it up to handoff_timeout, then go to its fallback or "
		    "get alert %u", ch->ch_name, ch->ch_socket,
		    ALERT_INTERNAL_ERROR);
	channel_backoff(w, b, CHANNEL_DOWN_CONNECT);
}

/*
 * channel_owned - whether the listener at the other end of fd is b's
 * owner; if not, fd is closed and the outage logged once with both uids.
 */
static int
channel_owned(struct worker *w, int b, int fd)
{
	struct channel	*ch = &w->w_channels[b];
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	int64_t		 uid = ch->ch_uid, gid = ch->ch_gid;
	char		 want_gid[32] = "";

	if (uid == -1)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		channel_failed(w, b, fd);
		return 0;
	}
	if ((int64_t)cred.uid == uid && (gid == -1 || (int64_t)cred.gid == gid))
		return 1;
	close(fd);
	COUNTERS_ADD(ch->ch_counts->cb_errors, 1);
	COUNTERS_ADD(w->w_counters->cw_fail[COUNTERS_FAIL_OWNER], 1);
	if (gid != -1)
		snprintf(want_gid, sizeof(want_gid), " gid %lld",
		    (long long)gid);
	if (ch->ch_down != CHANNEL_DOWN_OWNER)
		log_warnx("backend %s: %s is listened on by uid %lu gid %lu, "
		    "not by its owner uid %lld%s; clients get alert %u until "
		    "the owner's listener replaces it", ch->ch_name,
		    ch->ch_socket, (unsigned long)cred.uid,
		    (unsigned long)cred.gid, (long long)uid, want_gid,
		    ALERT_INTERNAL_ERROR);
	channel_backoff(w, b, CHANNEL_DOWN_OWNER);
	return 0;
}

/*
 * channel_ask - ask the master for a channel to b's socket (broker.c
 * connects it: the worker cannot); 0, or -1 with errno when it cannot
 * be asked now (EAGAIN: the broker socket is full, ask again later)
 */
static int
channel_ask(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];
	uint8_t		 msg[CHANREQ_ASK_LEN];

	if (++w->w_ask_id == 0)	/* 0 is no request's */
		w->w_ask_id = 1;
	if (chanreq_ask_encode(msg, w->w_ask_id, ch->ch_socket) == -1)
		return -1;
	/* send(2), not sendmsg: no descriptor ever goes this way. */
	if (send(w->w_broker, msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(msg))
		return -1;
	ch->ch_asking = 1;
	ch->ch_ask_id = w->w_ask_id;
	ch->ch_ask_by = w->w_now + CHANNEL_ASK_MS;
	return 0;
}

/*
 * channel_connect - the backend's channel: its descriptor, -1 when it
 * is down (channel_failed said why), or CHANNEL_ASKED while the master
 * has not answered yet (channel_answer).  One request at a time per
 * channel; one the master did not answer in CHANNEL_ASK_MS (its answer
 * did not fit the worker's queue) is asked again.
 */
static int
channel_connect(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];

	if (ch->ch_fd != -1)
		return ch->ch_fd;
	if (ch->ch_asking && w->w_now < ch->ch_ask_by)
		return CHANNEL_ASKED;
	ch->ch_asking = 0;
	if (w->w_now < ch->ch_retry)
		return -1;
	if (channel_ask(w, b) == 0)
		return CHANNEL_ASKED;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		return CHANNEL_ASKED;	/* not asked: the next try asks */
	channel_failed(w, b, -1);
	return -1;
}

/*
 * channel_connected - the master connected fd for b: what a connect of
 * our own would have been followed by (the owner check, the epoll set,
 * the wait for the backend's HELLO); 0, or -1 when b is down for it
 */
static int
channel_connected(struct worker *w, int b, int fd)
{
	struct channel		*ch = &w->w_channels[b];
	struct epoll_event	 ev;
	int			 n;

	n = CHANNEL_SNDBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n)) == -1)
		log_warn("backend %s: SO_SNDBUF", ch->ch_name);
	if (!channel_owned(w, b, fd))
		return -1;
	ch->ch_use = (ch->ch_use + 1) & 0xffffff;
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = EV_MAKE(EV_CHANNEL, ch->ch_use, b);
	if (epoll_ctl(w->w_epoll, EPOLL_CTL_ADD, fd, &ev) == -1) {
		channel_failed(w, b, fd);
		return -1;
	}
	if (ch->ch_down != CHANNEL_UP)
		log_info("backend %s: connected again", ch->ch_name);
	ch->ch_fd = fd;
	ch->ch_version = 0;
	ch->ch_hello_by = w->w_now + CHANNEL_HELLO_MS;
	ch->ch_down = CHANNEL_UP;
	ch->ch_backoff = 0;
	return 0;
}

/*
 * channel_answer_recv - one answer from the master: 1 with *fd its
 * channel or -1, 0 when there is none now, -1 when the master is gone
 * (or said something that is no answer: logged, and taken as nothing)
 */
static int
channel_answer_recv(struct worker *w, struct chanreq_answer *can, int *fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	uint8_t		 msg[CHANREQ_ANSWER_LEN + 1];
	struct iovec	 iov = { msg, sizeof(msg) };
	struct msghdr	 mh;
	struct cmsghdr	*cmsg;
	ssize_t		 n;

	*fd = -1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(w->w_broker, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	/* Checked as nginx's ngx_read_channel: one descriptor, whole. */
	cmsg = CMSG_FIRSTHDR(&mh);
	if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET &&
	    cmsg->cmsg_type == SCM_RIGHTS &&
	    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    chanreq_answer_decode(msg, (size_t)n, can) == -1 ||
	    (can->can_errno == 0) != (*fd != -1)) {
		log_warnx("%s: an answer of the master we do not know",
		    __func__);
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		can->can_id = 0;
		can->can_errno = EBADMSG;
	}
	return 1;
}

/*
 * channel_answer - read one answer of the master to a channel request:
 * the channel it answered (connected now, or down as after a refused
 * connect), CHANNEL_ANSWER_STALE for an answer no channel waits for any
 * more (its descriptor is closed), CHANNEL_ANSWER_END when there is no
 * more now, CHANNEL_ANSWER_GONE when the master is gone
 */
int
channel_answer(struct worker *w)
{
	struct chanreq_answer	 can;
	struct channel		*ch;
	size_t			 b;
	int			 fd, r;

	if ((r = channel_answer_recv(w, &can, &fd)) <= 0)
		return r == 0 ? CHANNEL_ANSWER_END : CHANNEL_ANSWER_GONE;
	for (b = 0; b < w->w_nchannels; b++) {
		ch = &w->w_channels[b];
		if (!ch->ch_asking || ch->ch_ask_id != can.can_id ||
		    ch->ch_fd != -1)
			continue;
		ch->ch_asking = 0;
		if (fd == -1) {
			errno = can.can_errno;
			channel_failed(w, (int)b, -1);
		} else
			(void)channel_connected(w, (int)b, fd);
		return (int)b;
	}
	if (fd != -1)
		close(fd);
	return CHANNEL_ANSWER_STALE;
}

/* channel_is_busy - whether a send error means "try again later" */
static int
channel_is_busy(int error)
{
	/*
	 * EAGAIN: its queue is full.  ETOOMANYREFS, ENOBUFS: too many fds
	 * in flight or no buffer memory; they clear as the backend receives.
	 */
	return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS ||
	    error == ETOOMANYREFS || error == ENOMEM || error == EINTR;
}

/* channel_fail_cause - the counted cause of a failed sendmsg */
static enum counters_fail
channel_fail_cause(int error)
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

/*
 * channel_send - pass client_fd with its header to channel b: sent,
 * busy (try again later: EPOLLOUT comes if ch_out_helps; a channel
 * whose backend has not said its version yet is busy too), or down
 */
enum channel_result
channel_send(struct worker *w, int b, int client_fd, const uint8_t *header,
    size_t len)
{
	int	fd, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		/* Its old connection still holds handoffs: it is busy. */
		if (w->w_channels[b].ch_fd == -1 && !channel_retired_done(w, b)) {
			w->w_channels[b].ch_out_helps = 0;
			return CHANNEL_BUSY;
		}
		if ((fd = channel_connect(w, b)) == CHANNEL_ASKED) {
			w->w_channels[b].ch_out_helps = 0;
			return CHANNEL_BUSY;
		}
		if (fd == -1)
			return CHANNEL_DOWN;
		/* A new channel: its backend's HELLO first, or its time. */
		if (channel_version(w, b) == 0) {
			w->w_channels[b].ch_out_helps = 0;
			return CHANNEL_BUSY;
		}
		if (handoff_send(fd, client_fd, header, len) == 0)
			return CHANNEL_SENT;
		COUNTERS_ADD(w->w_counters->cw_fail[channel_fail_cause(errno)],
		    1);
		if (channel_is_busy(errno)) {
			/* Only a full queue ends with the channel writable;
			 * waiting for EPOLLOUT on the others would spin. */
			w->w_channels[b].ch_out_helps = errno == EAGAIN ||
			    errno == EWOULDBLOCK;
			return CHANNEL_BUSY;
		}
		/* Lost (EPIPE, ECONNRESET...): a restarted backend is a
		 * reconnect away, so try once more at once. */
		channel_lost(w, b, strerror(errno), 0);
	}
	return CHANNEL_DOWN;
}

/* channel_want_out - watch b for room (EPOLLOUT) while that can help */
void
channel_want_out(struct worker *w, int b, int want)
{
	struct channel	*ch = &w->w_channels[b];

	want = want && ch->ch_out_helps;
	if (ch->ch_fd != -1 && ch->ch_want_out != want && ch->ch_version != 1)
		channel_watch(w, b, want);
}

/*
 * channel_retry_now - the next need of b may connect at once, whatever
 * its back-off: its socket was just made, or clients wait for it
 */
void
channel_retry_now(struct worker *w, int b)
{
	w->w_channels[b].ch_retry = 0;
}

/*
 * channel_version - the handoff protocol version b's backend speaks: 2
 * once it said HELLO, 1 when it said nothing for CHANNEL_HELLO_MS after
 * the channel connected, 0 until then (nothing is sent on it yet)
 */
int
channel_version(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];

	if (ch->ch_version == 0 && ch->ch_fd != -1 &&
	    w->w_now >= ch->ch_hello_by) {
		ch->ch_version = 1;
		channel_watch(w, b, ch->ch_want_out);
	}
	return ch->ch_version;
}

/*
 * channel_said - one message of b's backend, on its connection (or the
 * retired one): 0, or -1 if no protocol
 */
static int
channel_said(struct worker *w, int b, int retired, const uint8_t *msg,
    size_t len, uint32_t *acked)
{
	struct channel	*ch = &w->w_channels[b];
	struct ack_msg	 am;

	switch (ack_parse(msg, len, &am)) {
	case ACK_HELLO:
		if (retired || ch->ch_version == 2)
			return -1;
		/* Too late, taken for version 1: it stays that. */
		if (channel_version(w, b) == 0)
			ch->ch_version = 2;
		return 0;
	case ACK_ACK:
		if ((retired ? ch->ch_retired_version : ch->ch_version) == 2)
			*acked += am.am_count;
		return 0;
	default:
		return -1;
	}
}

/*
 * channel_read - what b's backend said on fd, its connection or the
 * retired one (PROTOCOL, version 2): a HELLO makes the channel one of
 * version 2 (unless it came too late), ACKs add to *acked (ignored but
 * on a connection of version 2); 0, 1 when the backend shut its side
 * down, or -1 when it said something else
 */
static int
channel_read(struct worker *w, int b, int fd, int retired, uint32_t *acked)
{
	uint8_t		 msg[CHANNEL_READ_BATCH][ACK_MSG_LEN + 1];
	struct iovec	 iov[CHANNEL_READ_BATCH];
	struct mmsghdr	 mm[CHANNEL_READ_BATCH];
	int		 i, n;

	/* One call for every message waiting, most of the time: an ACK
	 * comes per handoff or so.  No control buffer: a descriptor a
	 * backend sends is closed. */
	do {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < CHANNEL_READ_BATCH; i++) {
			iov[i].iov_base = msg[i];
			iov[i].iov_len = sizeof(msg[i]);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, mm, CHANNEL_READ_BATCH, MSG_DONTWAIT, NULL);
		for (i = 0; i < n; i++) {
			if (mm[i].msg_len == 0)
				return 1;
			if (channel_said(w, b, retired, msg[i],
			    mm[i].msg_len, acked) == -1)
				return -1;
		}
	} while (n == CHANNEL_READ_BATCH);
	return n == -1 && errno != EAGAIN && errno != EINTR ? 1 : 0;
}

/*
 * channel_event - epoll says b's channel is writable, has messages, or
 * its backend is gone (then it is closed or retired); 0 when the event
 * is about a channel already replaced, 1 when the channel may take
 * what waits for it; *acked: how many handoffs its backend acknowledged
 */
int
channel_event(struct worker *w, int b, uint32_t use, uint32_t events,
    uint32_t *acked)
{
	struct channel	*ch = &w->w_channels[b];
	int		 r = 0;

	*acked = 0;
	if (ch->ch_fd == -1 || ch->ch_use != use)
		return 0;
	/* Read first: ACKs sent just before a close still count. */
	if (events & EPOLLIN)
		r = channel_read(w, b, ch->ch_fd, 0, acked);
	if (r == -1) {
		log_warnx("backend %s: a message that is not of the handoff "
		    "protocol", ch->ch_name);
		channel_lost(w, b, "protocol error", 1);
	} else if (r == 1 || (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
		channel_lost(w, b, "backend closed it",
		    (events & (EPOLLHUP | EPOLLERR)) != 0);
	return 1;
}

/*
 * channel_retired_event - b's retired connection has ACKs, or its
 * backend closed it (then it is closed too); 0 when the event is stale,
 * else 1 with *acked: how many handoffs it acknowledged on it
 */
int
channel_retired_event(struct worker *w, int b, uint32_t use,
    uint32_t events, uint32_t *acked)
{
	struct channel	*ch = &w->w_channels[b];

	*acked = 0;
	if (ch->ch_retired_fd == -1 || ch->ch_retired_use != use)
		return 0;
	/* A backend that shut its side only: it may still receive. */
	if ((events & EPOLLIN) &&
	    channel_read(w, b, ch->ch_retired_fd, 1, acked) == -1) {
		log_warnx("backend %s: a message that is not of the handoff "
		    "protocol on its old channel", ch->ch_name);
		channel_retired_close(w, b);
	} else if (events & (EPOLLHUP | EPOLLERR))
		channel_retired_close(w, b);
	return 1;
}

/*
 * channel_v1_unkept - of what fd (version 1, connection use) holds
 * unreceived, how much the worker has no copy of any more (kept past
 * DISPATCH_ACK_TIMEOUT): the copies count already
 */
static size_t
channel_v1_unkept(const struct channel *ch, int fd, uint32_t use)
{
	size_t	queued = channel_unreceived(fd), kept = channel_sent_on(ch, use);

	return queued > kept ? queued - kept : 0;
}

/*
 * channel_inflight - how many handoffs b's backend may hold that it has
 * not received (version 1) or acknowledged (version 2), on its
 * connection and the retired one
 */
size_t
channel_inflight(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];
	size_t		 n = ch->ch_nsent;	/* the copies, of both */

	if (ch->ch_fd != -1 && ch->ch_version == 1)
		n += channel_v1_unkept(ch, ch->ch_fd, ch->ch_use);
	if (ch->ch_retired_fd != -1 && ch->ch_retired_version != 2)
		n += channel_v1_unkept(ch, ch->ch_retired_fd,
		    ch->ch_retired_use);
	return n;
}

/*
 * channel_v1_fd - the descriptor of ch's connection of use, current or
 * retired, when its backend speaks version 1; else -1
 */
static int
channel_v1_fd(const struct channel *ch, uint32_t use)
{
	if (ch->ch_fd != -1 && ch->ch_use == use && ch->ch_version == 1)
		return ch->ch_fd;
	if (ch->ch_retired_fd != -1 && ch->ch_retired_use == use &&
	    ch->ch_retired_version == 1)
		return ch->ch_retired_fd;
	return -1;
}

/*
 * channel_received - of the handoffs b's backend of version 1 was sent
 * on its connection of use and had not received (the copies the worker
 * keeps), how many it has surely received since: those less the most
 * that can still wait in that connection's queue.  0 for a backend of
 * version 2 (it says so), and for a connection closed.
 */
size_t
channel_received(struct worker *w, int b, uint32_t use)
{
	struct channel	*ch = &w->w_channels[b];
	size_t		 n, queued;
	char		 byte;
	int		 fd;

	if ((fd = channel_v1_fd(ch, use)) == -1 ||
	    (n = channel_sent_on(ch, use)) == 0)
		return 0;
	queued = channel_unreceived(fd);
	/*
	 * A backend's end closing discards its queue, unreceived or not:
	 * the count is only of what it received if its end was still open
	 * after it was taken (a backend of version 1 sends nothing, so a
	 * live channel has nothing to peek).
	 */
	if (recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) != -1 ||
	    (errno != EAGAIN && errno != EWOULDBLOCK))
		return 0;
	return n > queued ? n - queued : 0;
}

/* channel_tenant_inflight - channel_inflight over tenant t's sockets */
size_t
channel_tenant_inflight(struct worker *w, int t)
{
	size_t	b, n = 0;

	for (b = w->w_conf.wc_nbackends; b < w->w_nchannels; b++)
		if (w->w_channels[b].ch_tenant == t)
			n += channel_inflight(w, (int)b);
	return n;
}

/*
 * channel_settled - whether b's backend holds nothing of the worker's:
 * then its slot may be given to another tenant socket (closing a
 * channel frees nothing its backend has not received)
 */
int
channel_settled(struct worker *w, int b)
{
	return channel_retired_done(w, b) && channel_inflight(w, b) == 0;
}

/*
 * channel_forget - make tenant slot b free for another socket: close its
 * channel (out of epoll first) and forget its outage; its use count
 * goes on, so events of the old channel are recognised as stale
 */
void
channel_forget(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];

	if (ch->ch_fd != -1)
		channel_close(w, ch->ch_fd);
	if (ch->ch_retired_fd != -1)
		channel_retired_close(w, b);
	ch->ch_fd = -1;
	ch->ch_asking = 0;	/* its answer, if it comes, is stale */
	ch->ch_retry = 0;
	ch->ch_backoff = 0;
	ch->ch_down = CHANNEL_UP;
	ch->ch_want_out = 0;
	ch->ch_out_helps = 0;
	ch->ch_busy_retry = 0;
	ch->ch_outage = 0;
	ch->ch_appeared = 0;
	ch->ch_version = 0;
	ch->ch_orphans = 0;
	ch->ch_tenant = -1;
	ch->ch_path[0] = '\0';
	ch->ch_label[0] = '\0';
	ch->ch_name = ch->ch_label;
	ch->ch_socket = ch->ch_path;
	ch->ch_counts = NULL;
	ch->ch_fallback = -1;
	ch->ch_uid = ch->ch_gid = -1;
}

/*
 * channel_tenant - free slot b is now tenant t's socket at path: its
 * listener must be her uid, it counts as hers, it has no fallback
 */
void
channel_tenant(struct worker *w, int b, int t, const char *path)
{
	struct channel	*ch = &w->w_channels[b];

	ch->ch_tenant = t;
	strlcpy(ch->ch_path, path, sizeof(ch->ch_path));
	snprintf(ch->ch_label, sizeof(ch->ch_label), "%s%s",
	    WCONF_TENANT_PREFIX, w->w_conf.wc_tenants[t].wt_name);
	ch->ch_counts = &w->w_counters->cw_backends[w->w_conf.wc_nbackends +
	    (size_t)t];
	ch->ch_uid = w->w_conf.wc_tenants[t].wt_uid;
}

/* channel_close_all - close every channel, at exit */
void
channel_close_all(struct worker *w)
{
	size_t	b;

	for (b = 0; b < w->w_nchannels; b++) {
		if (w->w_channels[b].ch_fd != -1)
			close(w->w_channels[b].ch_fd);
		if (w->w_channels[b].ch_retired_fd != -1)
			close(w->w_channels[b].ch_retired_fd);
	}
	free(w->w_channels);
	w->w_channels = NULL;
}
