/*
 * dispatch.c - the one policy for a routed connection: hand it to its
 * channel, make it wait in the channel's queue while the backend is
 * busy, retry, fall back, or refuse.
 *
 * Runs in the worker, unprivileged.  "Busy" (the backend does not
 * receive fast enough) is not "down": the connection waits in the
 * channel's queue, in order, until the backend takes it or
 * handoff_timeout passes.  A queue is retried when epoll says the
 * channel has room (a full socket queue, EAGAIN) and otherwise on its
 * own timer, DISPATCH_BUSY_RETRY after the last busy attempt
 * (ETOOMANYREFS and ENOBUFS end without an EPOLLOUT): never on other
 * wakeups, since each retry peeks and parses its hello again.
 *
 * A backend whose socket refuses connections or is missing is taken to
 * be restarting: its clients are held in its queue, in order, up to
 * handoff_timeout, while the worker reconnects as soon as the socket
 * is back (watch.c says when its file is made; DISPATCH_HOLD_RETRY is
 * the backstop, whatever the channel's back-off).  A hold that expires
 * with the backend still down establishes an outage (ch_outage): the
 * queue and every later client go on at once, until the backend is
 * back, so a long outage does not cost each client handoff_timeout.
 * An owner mismatch is not a restart: it is not held.
 *
 * A connection its backend cannot take (down, or busy for
 * handoff_timeout) goes to the backend's fallback, one hop only, so
 * fallbacks never loop: there it takes its turn like any other, behind
 * the fallback's own queue, and waits in it up to handoff_timeout (so a
 * client waits at most twice handoff_timeout in all).  When neither
 * takes it, it is refused with alert 80 (an HTTP client gets 503, a
 * non-TLS or silent client is closed instead), attributed to the backend it was routed to, with the
 * reason that backend gives: backend-busy, backend-down, backend-owner.
 */
#include <errno.h>

#include "alert.h"
#include "log.h"
#include "worker.h"

#define DISPATCH_BUSY_RETRY	20	/* ms, when no EPOLLOUT will come */
#define DISPATCH_HOLD_RETRY	50	/* ms, reconnecting for held clients */
#define DISPATCH_ACK_TIMEOUT	10000	/* ms: unacknowledged, it is the
					   backend's all the same */

static void	dispatch_to(struct worker *, struct conn *, int, int);
static void	dispatch_acked(struct worker *, int, uint32_t, uint32_t);
static void	dispatch_received(struct worker *, int);
static void	dispatch_orphans(struct worker *, int);

/*
 * dispatch_try - one attempt to hand c to channel b; c's hello, if it
 * has one, is the one wire_peek parsed last
 */
static enum channel_result
dispatch_try(struct worker *w, struct conn *c, int b)
{
	ssize_t	len;

	if ((len = wire_header(w, c)) == -1 || wire_release(c) == -1) {
		log_warn("%s: backend %s", __func__, w->w_channels[b].ch_name);
		return CHANNEL_DOWN;
	}
	return channel_send(w, b, c->cn_fd, w->w_payload, (size_t)len);
}

/*
 * dispatch_refuse - neither b, the channel c was routed to, nor its
 * fallback takes c: alert 80, or a FIN for a client without TLS.  The
 * reason is b's: down (and why) if its channel is, else busy.
 */
static void
dispatch_refuse(struct worker *w, struct conn *c, int b)
{
	struct counters_backend	*cb = w->w_channels[b].ch_counts;
	int			 busy = w->w_channels[b].ch_down == CHANNEL_UP;
	const char		*reason;

	reason = busy ? "backend-busy" : channel_down_reason(w, b);
	COUNTERS_ADD(*(busy ? &cb->cb_busy : &cb->cb_down), 1);
	if (c->cn_route == CONN_ROUTE_HTTP) {
		outcome_http(w, c, b, 503, reason);
		return;
	}
	if (c->cn_route != CONN_ROUTE_HELLO) {
		outcome_other(w, c, b, reason);
		return;
	}
	outcome_refuse(w, c, &w->w_hello, b, ALERT_INTERNAL_ERROR, reason);
}

/* dispatch_fallback - b cannot take c: its fallback, if any, may */
static void
dispatch_fallback(struct worker *w, struct conn *c, int b)
{
	int	f = w->w_channels[b].ch_fallback;

	if (f == -1 || f == b) {
		dispatch_refuse(w, c, b);
		return;
	}
	dispatch_to(w, c, f, b);
}

/*
 * dispatch_elsewhere - b cannot take c: c routed to b goes to b's
 * fallback; c that came to b as fallback_of's fallback is refused
 */
static void
dispatch_elsewhere(struct worker *w, struct conn *c, int b, int fallback_of)
{
	if (fallback_of == -1)
		dispatch_fallback(w, c, b);
	else
		dispatch_refuse(w, c, fallback_of);
}

/* dispatch_wait - b's queue waits: for EPOLLOUT where it helps, on a timer */
static void
dispatch_wait(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];
	int		 waiting = !TAILQ_EMPTY(&ch->ch_queue);

	ch->ch_busy_retry = !waiting ? 0 : w->w_now +
	    (ch->ch_down == CHANNEL_UP ? DISPATCH_BUSY_RETRY :
	    DISPATCH_HOLD_RETRY);
	channel_want_out(w, b, waiting);
}

/*
 * dispatch_holds - whether b, down, holds its clients: its socket is
 * missing or refuses (a restart, most likely) and no hold has expired
 * since it was last up
 */
static int
dispatch_holds(const struct worker *w, int b)
{
	const struct channel	*ch = &w->w_channels[b];

	return ch->ch_down == CHANNEL_DOWN_CONNECT && !ch->ch_outage;
}

/* dispatch_held - c waits for b to restart: counted once, and logged */
static void
dispatch_held(struct worker *w, struct conn *c, int b)
{
	if (c->cn_held)
		return;
	c->cn_held = 1;
	COUNTERS_ADD(w->w_channels[b].ch_counts->cb_held, 1);
}

/*
 * dispatch_handed - b took c: b is up, whatever outage it had is over.
 * The handoff is logged now and the worker keeps its copy until the
 * backend has it for good, so that it can hand it again if the backend
 * dies first (dispatch_orphans): one of version 2 acknowledges it
 * (dispatch_acked); of one of version 1 the kernel says it received it
 * (dispatch_received).  Nothing is sent on a new channel before its
 * backend said its version, or had the time to (channel_send is busy
 * until then), so the first handoffs are kept too, and a dying
 * backend's listener takes none.
 */
static void
dispatch_handed(struct worker *w, struct conn *c, int b, int fallback_of)
{
	struct channel	*ch = &w->w_channels[b];

	ch->ch_outage = 0;
	if (ch->ch_fd == -1 || channel_version(w, b) == 0) {
		outcome_handed(w, c, b, fallback_of);
		return;
	}
	outcome_handed_log(w, c, b, fallback_of);
	conn_sent(w, c, b, fallback_of, w->w_now + DISPATCH_ACK_TIMEOUT);
	dispatch_received(w, b);
}

/*
 * dispatch_full - whether b's backend holds as many handoffs as it may
 * without having acknowledged (version 2) or received (version 1) them,
 * CHANNEL_INFLIGHT_MAX, or b is a tenant's socket and she holds
 * TENANT_INFLIGHT_MAX over all of hers: then it is busy, however much
 * room its channel has
 */
static int
dispatch_full(struct worker *w, int b)
{
	const struct channel	*ch = &w->w_channels[b];

	if (ch->ch_nsent >= CHANNEL_INFLIGHT_MAX)
		return 1;
	return ch->ch_tenant != -1 &&
	    channel_tenant_inflight(w, ch->ch_tenant) >= TENANT_INFLIGHT_MAX;
}

/*
 * dispatch_to - hand c to channel b, as fallback_of's fallback or -1:
 * now, or in its turn behind the connections that already wait for b
 */
static void
dispatch_to(struct worker *w, struct conn *c, int b, int fallback_of)
{
	enum channel_result	r = CHANNEL_BUSY;
	int			tried = 0;

	/* Behind a queue, wait in it: handoffs keep their order. */
	if (TAILQ_EMPTY(&w->w_channels[b].ch_queue)) {
		if (!dispatch_full(w, b))
			r = dispatch_try(w, c, b);
		tried = 1;
	}
	/* A restarting backend holds the clients routed to it. */
	if (r == CHANNEL_DOWN && fallback_of == -1 && dispatch_holds(w, b))
		r = CHANNEL_BUSY;
	switch (r) {
	case CHANNEL_SENT:
		dispatch_handed(w, c, b, fallback_of);
		break;
	case CHANNEL_BUSY:
		if (fallback_of == -1 && dispatch_holds(w, b))
			dispatch_held(w, c, b);
		conn_queue(w, c, b, fallback_of,
		    w->w_now + w->w_conf.wc_handoff_timeout_ms);
		if (tried)
			dispatch_wait(w, b);
		break;
	case CHANNEL_DOWN:
		dispatch_elsewhere(w, c, b, fallback_of);
		break;
	}
	dispatch_orphans(w, b);
}

/* dispatch_route - c's route is channel b: hand it on, or have it wait */
void
dispatch_route(struct worker *w, struct conn *c, int b)
{
	dispatch_to(w, c, b, -1);
}

/*
 * dispatch_repeek - c waited: peek its hello again, for the header and
 * the access line; 0, or -1 when the client went away (c is released)
 */
static int
dispatch_repeek(struct worker *w, struct conn *c)
{
	ssize_t	got;

	/* Not a hello nor a request head: nothing to peek again; the
	 * backend gets it as is. */
	if ((c->cn_route != CONN_ROUTE_HELLO &&
	    c->cn_route != CONN_ROUTE_HTTP) || wire_whole(w, c, &got))
		return 0;
	/* The bytes were there before: the client reset. */
	outcome_log(w, c, NULL, c->cn_channel, OUTCOME_CLIENT_GONE, 0, NULL);
	conn_release(w, c);
	return -1;
}

/*
 * dispatch_resume - try the head of its channel's queue again; 1 when
 * the queue may go on, 0 when the backend is busy again
 */
static int
dispatch_resume(struct worker *w, struct conn *c)
{
	int	b = c->cn_channel, fallback_of = c->cn_fallback_of;

	if (dispatch_full(w, b))
		return 0;
	if (dispatch_repeek(w, c) == -1)
		return 1;
	switch (dispatch_try(w, c, b)) {
	case CHANNEL_SENT:
		dispatch_handed(w, c, b, fallback_of);
		return 1;
	case CHANNEL_BUSY:
		return 0;
	default:
		/* Still restarting: the queue waits, in order. */
		if (fallback_of == -1 && dispatch_holds(w, b))
			return 0;
		dispatch_elsewhere(w, c, b, fallback_of);
		return 1;
	}
}

/* dispatch_drain - send b's queued connections until b is busy again */
static void
dispatch_drain(struct worker *w, int b)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&w->w_channels[b].ch_queue)) != NULL)
		if (!dispatch_resume(w, c))
			break;
	dispatch_wait(w, b);
	dispatch_orphans(w, b);
}

/* dispatch_flush - send b's queued connections, reconnecting if need be */
static void
dispatch_flush(struct worker *w, int b)
{
	/* Held clients: their backend's back-off is no reason to wait. */
	if (w->w_channels[b].ch_down == CHANNEL_DOWN_CONNECT)
		channel_retry_now(w, b);
	dispatch_drain(w, b);
}

/*
 * dispatch_acked - b's backend acknowledged n more handoffs sent on its
 * connection of use, oldest first: they are its for good.  More than
 * it was sent breaks the count: that connection is closed, and what it
 * had not acknowledged is handed again.
 */
static void
dispatch_acked(struct worker *w, int b, uint32_t use, uint32_t n)
{
	struct channel	*ch = &w->w_channels[b];
	struct conn	*c, *next;

	for (c = TAILQ_FIRST(&ch->ch_sent); c != NULL && n > 0; c = next) {
		next = TAILQ_NEXT(c, cn_link);
		if (c->cn_channel_use != use)
			continue;	/* sent on another connection */
		outcome_handed_settle(w, c, b, c->cn_fallback_of);
		n--;
	}
	if (n > 0)
		channel_drop(w, b, use, "more acknowledged than sent");
}

/*
 * dispatch_received - what b's backend of version 1 received, on its
 * connection and on the retired one, is its for good, as if it had
 * acknowledged it: oldest first, as the queue hands it out
 */
static void
dispatch_received(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];
	size_t		 n;

	if (TAILQ_EMPTY(&ch->ch_sent))
		return;
	if ((n = channel_received(w, b, ch->ch_use)) > 0)
		dispatch_acked(w, b, ch->ch_use, (uint32_t)n);
	if ((n = channel_received(w, b, ch->ch_retired_use)) > 0)
		dispatch_acked(w, b, ch->ch_retired_use, (uint32_t)n);
}

/*
 * dispatch_untouched - whether c, handed on a channel that died
 * unacknowledged, is as the worker handed it: its first bytes unread
 * (as many as before, or more, and still a whole hello), so that the
 * backend cannot have had it
 */
static int
dispatch_untouched(struct worker *w, struct conn *c)
{
	uint32_t	before = c->cn_peeked;
	ssize_t		got;
	int		whole;

	whole = wire_whole(w, c, &got);
	if (got < 0)
		return before == 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	if ((uint32_t)got < before)
		return 0;
	return whole;
}

/*
 * dispatch_orphan - the oldest handoff on b's connections since closed
 * (not the current one, nor the retired one its backend may still
 * receive it from)
 */
static struct conn *
dispatch_orphan(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];
	struct conn	*c;

	TAILQ_FOREACH(c, &ch->ch_sent, cn_link) {
		if (ch->ch_fd != -1 && c->cn_channel_use == ch->ch_use)
			continue;
		if (ch->ch_retired_fd != -1 &&
		    c->cn_channel_use == ch->ch_retired_use)
			continue;
		return c;
	}
	return NULL;
}

/*
 * dispatch_orphans - b's channel died with handoffs unacknowledged:
 * each that is untouched is handed again, in blocking mode as first
 * (wire_blocking), to b once it is back (held as any client of a
 * restarting backend), else its fallback, else refused; one the backend
 * had begun to read was its, and is counted as handed
 */
static void
dispatch_orphans(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];
	struct conn	*c;

	if (!ch->ch_orphans)
		return;
	ch->ch_orphans = 0;
	while ((c = dispatch_orphan(w, b)) != NULL) {
		if (!dispatch_untouched(w, c)) {
			outcome_handed_settle(w, c, b, c->cn_fallback_of);
			continue;
		}
		if (wire_blocking(c) == -1)
			log_warn("%s: F_SETFL", __func__);
		c->cn_rehanded = 1;
		COUNTERS_ADD(ch->ch_counts->cb_rehanded, 1);
		dispatch_to(w, c, b, c->cn_fallback_of);
	}
}

/*
 * dispatch_channel_event - b's channel (or, retired, its old connection)
 * has room or messages (HELLO, ACKs), or its backend is gone: what it
 * acknowledged is its, what it did not take is handed again, and the
 * queue goes on
 */
void
dispatch_channel_event(struct worker *w, int b, int retired, uint32_t use,
    uint32_t events)
{
	uint32_t	acked;

	if (!(retired ? channel_retired_event : channel_event)(w, b, use,
	    events, &acked))
		return;
	if (acked > 0)
		dispatch_acked(w, b, use, acked);
	dispatch_received(w, b);
	dispatch_orphans(w, b);
	dispatch_flush(w, b);
}

/*
 * dispatch_give_up - c waited handoff_timeout in its channel's queue:
 * to the fallback of the channel it was routed to, unless it waits
 * there already
 */
static void
dispatch_give_up(struct worker *w, struct conn *c)
{
	int	b = c->cn_channel, fallback_of = c->cn_fallback_of;

	if (dispatch_repeek(w, c) == -1)
		return;
	dispatch_elsewhere(w, c, b, fallback_of);
}

/*
 * dispatch_outage - a held client waited handoff_timeout and b is still
 * down: the outage is established; every client held for b goes on
 * now, and later ones will not wait, until b is back
 */
static void
dispatch_outage(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];
	struct conn	*c;

	ch->ch_outage = 1;
	log_warnx("backend %s: still down after handoff_timeout; its "
	    "clients go to its fallback or get alert %u at once until it "
	    "is back", ch->ch_name, ALERT_INTERNAL_ERROR);
	while ((c = TAILQ_FIRST(&ch->ch_queue)) != NULL)
		dispatch_give_up(w, c);
}

/* dispatch_expire - retry the queues whose timer is up; end long waits */
void
dispatch_expire(struct worker *w)
{
	struct channel	*ch;
	struct conn	*c;
	size_t		 b;

	for (b = 0; b < w->w_nchannels; b++) {
		ch = &w->w_channels[b];
		/* Unacknowledged for DISPATCH_ACK_TIMEOUT: the backend's. */
		while ((c = conn_sent_due(w, (int)b)) != NULL)
			outcome_handed_settle(w, c, (int)b, c->cn_fallback_of);
		if (TAILQ_EMPTY(&ch->ch_queue))
			continue;
		if (ch->ch_busy_retry != 0 && ch->ch_busy_retry <= w->w_now)
			dispatch_flush(w, (int)b);
		while ((c = conn_queue_due(w, (int)b)) != NULL) {
			if (dispatch_holds(w, (int)b)) {
				dispatch_outage(w, (int)b);
				break;
			}
			dispatch_give_up(w, c);
		}
		if (TAILQ_EMPTY(&ch->ch_queue))
			dispatch_wait(w, (int)b);
	}
}

/*
 * dispatch_appeared - the socket files watch.c saw being made: connect
 * to those backends at once, and send what waits for them
 */
void
dispatch_appeared(struct worker *w)
{
	struct channel	*ch;
	size_t		 b;

	for (b = 0; b < w->w_nchannels; b++) {
		ch = &w->w_channels[b];
		if (!ch->ch_appeared)
			continue;
		ch->ch_appeared = 0;
		channel_retry_now(w, (int)b);
		if (!TAILQ_EMPTY(&ch->ch_queue))
			dispatch_flush(w, (int)b);
	}
}

/*
 * dispatch_answered - the master answered b's request for its channel:
 * connected, b's queue goes on (after its backend's HELLO); refused,
 * as after a refused connect of our own, its clients are held if b is
 * restarting, else go to its fallback or are refused.  Never with a
 * retry at once: that would only ask again.
 */
static void
dispatch_answered(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];
	struct conn	*c;

	/* They were queued while it was asked, not knowing it was down. */
	if (ch->ch_fd == -1 && dispatch_holds(w, b))
		TAILQ_FOREACH(c, &ch->ch_queue, cn_link)
			if (c->cn_fallback_of == -1)
				dispatch_held(w, c, b);
	dispatch_drain(w, b);
}

/*
 * dispatch_answers - what the master answered to channel requests; 0,
 * or -1 when it is gone (no answer comes any more)
 */
int
dispatch_answers(struct worker *w)
{
	int	b;

	while ((b = channel_answer(w)) != CHANNEL_ANSWER_END) {
		if (b == CHANNEL_ANSWER_GONE)
			return -1;
		if (b >= 0)
			dispatch_answered(w, b);
	}
	return 0;
}

/* dispatch_next_deadline - when a queue is to be retried next */
uint64_t
dispatch_next_deadline(const struct worker *w)
{
	uint64_t	next = UINT64_MAX;
	size_t		b;

	for (b = 0; b < w->w_nchannels; b++)
		if (!TAILQ_EMPTY(&w->w_channels[b].ch_queue) &&
		    w->w_channels[b].ch_busy_retry != 0 &&
		    w->w_channels[b].ch_busy_retry < next)
			next = w->w_channels[b].ch_busy_retry;
	return next;
}
