/*
 * conn.c - the one owner of a connection's state, list and deadline.
 *
 * Runs in the worker, unprivileged.  Every other file asks this one to
 * move a connection; none writes cn_state, cn_link or cn_deadline.  A
 * connection's life:
 *
 *	          conn_start
 *	  FREE --------------> PEEK ---------------------+
 *	   ^                  |  |  \  hello routed,     |
 *	   |   handed, closed |  |   \ channel busy      | refused:
 *	   +------------------+  |    v                  | alert sent
 *	   |                     |   QUEUED --(fallback's|--+
 *	   |   handed, gone,     |    |   ^    queue)    |  |
 *	   +------ given up -----|----+   +-------------/   |
 *	   |                     v                          v
 *	   +------------------------------------------- LINGER
 *	          the client's FIN, or PEEK_LINGER_MS
 *
 * and, on a channel whose backend speaks version 2 (PROTOCOL), a handed
 * connection is kept, SENT, until the backend acknowledges it (then
 * FREE); if the channel dies first, it is peeked again and handed
 * again (SENT, or QUEUED while the backend restarts) or refused
 * (LINGER): PEEK or QUEUED -> SENT -> FREE, QUEUED, SENT or LINGER.
 *
 * On a proxy_protocol listener a connection starts in PROXY instead,
 * until its PROXY header is read (upstream.c): then it moves to PEEK
 * with the header's client as its peer, or is closed (FREE).  It joins
 * its netblock's list (source.c) only then: before the header, all its
 * proxy's clients would share the proxy's address.
 *
 * Legal moves are the table conn_moves; anything else is a bug in the
 * worker, never something a client can cause, and ends in log_panic.
 * Each list (peeking, lingering, each channel's queue and sent list)
 * gets the same
 * timeout for all its members, so appending keeps it ordered by
 * deadline and its head is its earliest.  Peeking connections that have
 * sent nothing yet are also on w_silent (cn_aside_link), in the same
 * order, and every peeking one on its netblock's list (source.c); those
 * paused (woken by the kernel before their hello could be whole) are on
 * w_paused, by the same link as w_silent, since they have sent bytes.
 *
 * Under pressure (pressure_threshold percent of the slots in use), a
 * peeking connection's time is shorter: pressure_peek_timeout for its
 * hello, pressure_first_byte_timeout for its first byte.  Both count
 * from accept as the usual ones do, so the lists' order holds.
 *
 * The slot pool: max_pending slots, calloc'd and touched only when
 * first used; a freed slot goes to the head of w_free, so the next
 * connection gets warm memory.  cn_use tells a slot's connections apart
 * in epoll events (worker.h) and in the local-address cache.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "worker.h"

static int	conn_events(struct worker *, struct conn *, int);

/* conn_moves[from][to] - the legal moves; FREE is left by conn_start */
static const uint8_t conn_moves[CONN_NSTATES][CONN_NSTATES] = {
	[CONN_PROXY] = { [CONN_PEEK] = 1 },
	[CONN_PEEK] = { [CONN_QUEUED] = 1, [CONN_LINGER] = 1,
	    [CONN_SENT] = 1 },
	[CONN_QUEUED] = { [CONN_QUEUED] = 1, [CONN_LINGER] = 1,
	    [CONN_SENT] = 1 },
	/* Its channel died unacknowledged: handed again, or refused. */
	[CONN_SENT] = { [CONN_QUEUED] = 1, [CONN_LINGER] = 1,
	    [CONN_SENT] = 1 },
};

static const char *const conn_states[CONN_NSTATES] = {
	[CONN_FREE] = "free",
	[CONN_PROXY] = "proxy",
	[CONN_PEEK] = "peek",
	[CONN_QUEUED] = "queued",
	[CONN_LINGER] = "linger",
	[CONN_SENT] = "sent",
};

/* conn_init - a pool of slots, none used yet, and the table of their
 * netblocks; -1 when out of memory */
int
conn_init(struct worker *w, size_t slots)
{
	size_t	i;
	int	proxied = 0;

	/* Not touched here: a slot's page is resident only once used. */
	if ((w->w_conns = calloc(slots, sizeof(*w->w_conns))) == NULL)
		return -1;
	w->w_nconns = slots;
	if (source_init(w) == -1)
		return -1;
	/* Room for each slot's upstream TLVs, only with PROXY listeners;
	 * touched, as the slots, only when used. */
	for (i = 0; i < w->w_nlisteners; i++)
		proxied |= w->w_listeners[i].ls_proxy;
	if (proxied && (w->w_upstream_tlvs = calloc(slots,
	    sizeof(*w->w_upstream_tlvs))) == NULL)
		return -1;
	TAILQ_INIT(&w->w_free);
	TAILQ_INIT(&w->w_proxying);
	TAILQ_INIT(&w->w_peeking);
	TAILQ_INIT(&w->w_lingering);
	TAILQ_INIT(&w->w_silent);
	TAILQ_INIT(&w->w_paused);
	return 0;
}

/* conn_free_all - release the pool, at exit, when every slot is free */
void
conn_free_all(struct worker *w)
{
	source_free(w);
	free(w->w_upstream_tlvs);
	w->w_upstream_tlvs = NULL;
	free(w->w_conns);
	w->w_conns = NULL;
}

/* conn_list - the list a connection in its current state belongs to */
static struct conn_list *
conn_list(struct worker *w, struct conn *c)
{
	switch (c->cn_state) {
	case CONN_PROXY:
		return &w->w_proxying;
	case CONN_PEEK:
		return &w->w_peeking;
	case CONN_LINGER:
		return &w->w_lingering;
	case CONN_QUEUED:
		return &w->w_channels[c->cn_channel].ch_queue;
	case CONN_SENT:
		return &w->w_channels[c->cn_channel].ch_sent;
	default:
		return &w->w_free;
	}
}

/* conn_has_room - whether conn_start would find a slot */
int
conn_has_room(const struct worker *w)
{
	return !TAILQ_EMPTY(&w->w_free) || w->w_fresh < w->w_nconns;
}

/* conn_take - a free slot; the caller checked conn_has_room */
static struct conn *
conn_take(struct worker *w)
{
	struct conn	*c;

	/* A slot used before first: its memory is warm. */
	if ((c = TAILQ_FIRST(&w->w_free)) != NULL)
		return c;
	if (w->w_fresh == w->w_nconns)
		log_panic("%s: no free slot of %zu", __func__, w->w_nconns);
	c = &w->w_conns[w->w_fresh++];
	c->cn_fd = -1;
	c->cn_state = CONN_FREE;
	TAILQ_INSERT_HEAD(&w->w_free, c, cn_link);
	return c;
}

/* conn_start - a new connection fd from listener, peeking until timeout */
struct conn *
conn_start(struct worker *w, int listener, int fd, const union conn_addr *peer)
{
	struct conn	*c = conn_take(w);

	TAILQ_REMOVE(&w->w_free, c, cn_link);
	c->cn_fd = fd;
	c->cn_use = (c->cn_use + 1) & 0xffffff;
	c->cn_listener = listener;
	c->cn_channel = -1;
	c->cn_fallback_of = -1;
	c->cn_alpn_route = -1;
	c->cn_peer = *peer;
	c->cn_via.sa.sa_family = AF_UNSPEC;
	c->cn_dst.sa.sa_family = AF_UNSPEC;
	c->cn_proxied = 0;
	c->cn_tlvs_len = 0;
	c->cn_peeked = 0;
	c->cn_lowat = 1;	/* the kernel's default */
	memset(&c->cn_proxy_walk, 0, sizeof(c->cn_proxy_walk));
	memset(&c->cn_walk, 0, sizeof(c->cn_walk));
	memset(&c->cn_http_walk, 0, sizeof(c->cn_http_walk));
	c->cn_route = w->w_listeners[listener].ls_http ? CONN_ROUTE_HTTP :
	    CONN_ROUTE_HELLO;
	c->cn_rehanded = 0;
	c->cn_held = 0;
	c->cn_watched = 0;
	c->cn_paused = 0;
	c->cn_start_us = clock_us();
	c->cn_state = w->w_listeners[listener].ls_proxy ? CONN_PROXY :
	    CONN_PEEK;
	c->cn_deadline = w->w_now + w->w_conf.wc_peek_timeout_ms;
	TAILQ_INSERT_TAIL(conn_list(w, c), c, cn_link);
	if (c->cn_state == CONN_PEEK)
		source_add(w, c);
	w->w_pending++;
	COUNTERS_ADD(w->w_counters->cw_accepted, 1);
	COUNTERS_ADD(w->w_counters->cw_pending, 1);
	return c;
}

/*
 * conn_unlist_paused - c leaves w_paused, its events as they are: it is
 * no longer peeking (a FIN, a reset and a queued or lingering
 * connection's events need no EPOLLIN), or conn_unpause restores them
 */
static void
conn_unlist_paused(struct worker *w, struct conn *c)
{
	if (!c->cn_paused)
		return;
	TAILQ_REMOVE(&w->w_paused, c, cn_aside_link);
	c->cn_paused = 0;
}

/* conn_leave - c leaves its list, and its netblock's if it was peeking */
static void
conn_leave(struct worker *w, struct conn *c)
{
	TAILQ_REMOVE(conn_list(w, c), c, cn_link);
	if (c->cn_state == CONN_PEEK)
		source_remove(w, c);
	if (c->cn_state == CONN_SENT)
		w->w_channels[c->cn_channel].ch_nsent--;
}

/* conn_place - c leaves its list for state's, in channel's queue if queued */
static void
conn_place(struct worker *w, struct conn *c, enum conn_state state,
    int channel, uint64_t deadline)
{
	if (!conn_moves[c->cn_state][state])
		log_panic("conn_move: connection %td: %s to %s",
		    c - w->w_conns, conn_states[c->cn_state],
		    conn_states[state]);
	if ((state == CONN_QUEUED || state == CONN_SENT) && (channel < 0 ||
	    (size_t)channel >= w->w_nchannels))
		log_panic("conn_move: connection %td: %s for channel %d",
		    c - w->w_conns, conn_states[state], channel);
	conn_leave(w, c);
	if (state == CONN_SENT)
		w->w_channels[channel].ch_nsent++;
	/* Not peeking any more: no longer waiting to be silent either. */
	conn_heard(w, c);
	conn_unlist_paused(w, c);
	c->cn_state = state;
	c->cn_channel = channel;
	c->cn_deadline = deadline;
	TAILQ_INSERT_TAIL(conn_list(w, c), c, cn_link);
	if (state == CONN_PEEK)
		source_add(w, c);
}

/* conn_move - put c in another state, at the tail of its list */
void
conn_move(struct worker *w, struct conn *c, enum conn_state state,
    uint64_t deadline)
{
	conn_place(w, c, state, c->cn_channel, deadline);
}

/*
 * conn_queue - c waits in channel's queue until deadline; fallback_of:
 * the channel it was routed to when this is that one's fallback, or -1
 */
void
conn_queue(struct worker *w, struct conn *c, int channel, int fallback_of,
    uint64_t deadline)
{
	conn_place(w, c, CONN_QUEUED, channel, deadline);
	c->cn_fallback_of = fallback_of;
}

/*
 * conn_sent - c went on channel's current connection (version 2), as
 * fallback_of's fallback or -1: kept until the backend acknowledges it,
 * or until deadline
 */
void
conn_sent(struct worker *w, struct conn *c, int channel, int fallback_of,
    uint64_t deadline)
{
	conn_place(w, c, CONN_SENT, channel, deadline);
	c->cn_channel_use = w->w_channels[channel].ch_use;
	c->cn_fallback_of = fallback_of;
}

/*
 * conn_upstream_tlvs - keep the TLVs of c's header (px) that a backend
 * may want, in the order they go into its handoff when they do not all
 * fit: the cloud's endpoint ids first (backends grant access by them),
 * then the unique id, the namespace, and the upstream's ALPN.  Never
 * AUTHORITY: the handoff carries SNItch's own (proxy_decode refuses
 * two), the name the client really asked for.
 */
static void
conn_upstream_tlvs(struct worker *w, struct conn *c, const struct proxyin *px)
{
	static const uint8_t	 order[] = { PROXYIN_TLV_AWS, PROXYIN_TLV_AZURE,
	    PROXYIN_TLV_UNIQUE_ID, PROXYIN_TLV_NETNS, PROXYIN_TLV_ALPN };
	uint8_t			*out;
	const uint8_t		*v;
	size_t			 i, len, n = 0;

	c->cn_tlvs_len = 0;
	if (w->w_upstream_tlvs == NULL)
		return;
	out = w->w_upstream_tlvs[c - w->w_conns];
	for (i = 0; i < sizeof(order); i++) {
		if ((v = proxyin_tlv(px, order[i], &len)) == NULL ||
		    n + 3 + len > PROXYIN_KEPT_MAX)
			continue;
		out[n] = order[i];
		out[n + 1] = (uint8_t)(len >> 8);
		out[n + 2] = (uint8_t)len;
		memcpy(out + n + 3, v, len);
		n += 3 + len;
	}
	c->cn_tlvs_len = (uint16_t)n;
}

/*
 * conn_proxied - c's PROXY header (px, PROXYIN_PROXY) was read: its
 * client is the header's source from now on, the socket's peer is its
 * proxy (cn_via); it peeks for its hello, in its client's netblock.  A
 * header from a UNIX socket client names no IP address: the
 * connection keeps its own, as for a header without addresses.  Its
 * hello gets peek_timeout from now: w_peeking stays in deadline order,
 * and silent_timeout counts from the header as it would from accept.
 */
void
conn_proxied(struct worker *w, struct conn *c, const struct proxyin *px)
{
	if (c->cn_state != CONN_PROXY)
		log_panic("%s: connection %td: %s", __func__, c - w->w_conns,
		    conn_states[c->cn_state]);
	c->cn_proxied = 1;
	c->cn_via = c->cn_peer;
	if (px->px_family == AF_INET || px->px_family == AF_INET6) {
		memcpy(&c->cn_peer, &px->px_src, sizeof(c->cn_peer));
		memcpy(&c->cn_dst, &px->px_dst, sizeof(c->cn_dst));
	}
	conn_upstream_tlvs(w, c, px);
	c->cn_peeked = 0;
	memset(&c->cn_walk, 0, sizeof(c->cn_walk));
	memset(&c->cn_http_walk, 0, sizeof(c->cn_http_walk));
	conn_place(w, c, CONN_PEEK, c->cn_channel,
	    w->w_now + w->w_conf.wc_peek_timeout_ms);
}

/* conn_release - c is done: forget it and free its slot */
void
conn_release(struct worker *w, struct conn *c)
{
	if (c->cn_state == CONN_FREE)
		log_panic("%s: connection %td is free already", __func__,
		    c - w->w_conns);
	/* An fd handed to a backend stays open there: without the DEL,
	 * epoll would keep reporting a connection we no longer own. */
	if (c->cn_watched)
		(void)epoll_ctl(w->w_epoll, EPOLL_CTL_DEL, c->cn_fd, NULL);
	c->cn_watched = 0;
	close(c->cn_fd);
	/* cw_pending: outcome.c took it out with the outcome */
	conn_leave(w, c);
	/* Gone before silent_timeout (a reset, a FIN): the slot is reused. */
	conn_heard(w, c);
	conn_unlist_paused(w, c);
	if (w->w_local_conn == c)
		w->w_local_conn = NULL;
	c->cn_state = CONN_FREE;
	c->cn_fd = -1;
	TAILQ_INSERT_HEAD(&w->w_free, c, cn_link);
	w->w_pending--;
}

/* conn_watch - have epoll report c's socket; 0, or -1 when it failed */
int
conn_watch(struct worker *w, struct conn *c)
{
	if (conn_events(w, c, 1) == -1)
		return -1;
	c->cn_watched = 1;
	return 0;
}

/*
 * conn_silent_listen - c, peeking, has sent nothing yet: if it still has
 * not in silent_timeout, counted from accept, it is due (conn_silent_due)
 */
void
conn_silent_listen(struct worker *w, struct conn *c)
{
	if (c->cn_state != CONN_PEEK || c->cn_silent_listed)
		log_panic("%s: connection %td: %s, listed %d", __func__,
		    c - w->w_conns, conn_states[c->cn_state],
		    c->cn_silent_listed);
	c->cn_silent_listed = 1;
	TAILQ_INSERT_TAIL(&w->w_silent, c, cn_aside_link);
}

/* conn_heard - c sent something (or left peeking): it cannot be silent */
void
conn_heard(struct worker *w, struct conn *c)
{
	if (!c->cn_silent_listed)
		return;
	TAILQ_REMOVE(&w->w_silent, c, cn_aside_link);
	c->cn_silent_listed = 0;
}

/* conn_events - have epoll report c's socket readable, or not */
static int
conn_events(struct worker *w, struct conn *c, int readable)
{
	struct epoll_event	ev;

	/* Peeking does not consume: edge-triggered, each segment once. */
	ev.events = (readable ? EPOLLIN : 0) | EPOLLRDHUP | EPOLLET;
	ev.data.u64 = EV_MAKE(EV_CONN, c->cn_use, c - w->w_conns);
	return epoll_ctl(w->w_epoll, c->cn_watched ? EPOLL_CTL_MOD :
	    EPOLL_CTL_ADD, c->cn_fd, &ev);
}

/*
 * conn_pause - c, peeking, was woken before its hello could be whole:
 * no EPOLLIN for it until CONN_PAUSE_MS from now (or again, if paused
 * already).  0, or -1 when epoll refused.
 */
int
conn_pause(struct worker *w, struct conn *c)
{
	if (c->cn_state != CONN_PEEK || !c->cn_watched || c->cn_silent_listed)
		log_panic("%s: connection %td: %s, watched %d, silent %d",
		    __func__, c - w->w_conns, conn_states[c->cn_state],
		    c->cn_watched, c->cn_silent_listed);
	if (c->cn_paused)
		TAILQ_REMOVE(&w->w_paused, c, cn_aside_link);
	else if (conn_events(w, c, 0) == -1)
		return -1;
	c->cn_paused = 1;
	c->cn_recheck = (uint32_t)(w->w_now + CONN_PAUSE_MS);
	TAILQ_INSERT_TAIL(&w->w_paused, c, cn_aside_link);
	return 0;
}

/*
 * conn_unpause - c's pause is over: EPOLLIN again, which reports at once
 * what came meanwhile.  0, or -1 when epoll refused.
 */
int
conn_unpause(struct worker *w, struct conn *c)
{
	if (!c->cn_paused)
		log_panic("%s: connection %td is not paused", __func__,
		    c - w->w_conns);
	conn_unlist_paused(w, c);
	return conn_events(w, c, 1);
}

/* conn_recheck_in - ms until a paused c's pause ends, 0 when it has */
static uint64_t
conn_recheck_in(const struct worker *w, const struct conn *c)
{
	int32_t	 left = (int32_t)(c->cn_recheck - (uint32_t)w->w_now);

	return left > 0 ? (uint64_t)left : 0;
}

/* conn_paused_due - the first paused connection whose pause is over */
struct conn *
conn_paused_due(struct worker *w)
{
	struct conn	*c = TAILQ_FIRST(&w->w_paused);

	return c != NULL && conn_recheck_in(w, c) == 0 ? c : NULL;
}

/*
 * conn_pressed - whether the table is full enough for the shorter
 * deadlines (pressure_threshold percent of max_pending in use)
 */
int
conn_pressed(const struct worker *w)
{
	return w->w_pending * 100 >= w->w_nconns *
	    w->w_conf.wc_pressure_threshold;
}

/* conn_accepted - when c, still peeking, was accepted (ms) */
static uint64_t
conn_accepted(const struct worker *w, const struct conn *c)
{
	return c->cn_deadline - w->w_conf.wc_peek_timeout_ms;
}

/*
 * conn_peek_deadline - when c, peeking, has had its time for a whole
 * hello: peek_timeout, or under pressure pressure_peek_timeout.  Both
 * count from accept, so w_peeking stays in the order of either.
 */
static uint64_t
conn_peek_deadline(const struct worker *w, const struct conn *c)
{
	uint64_t	pressed;

	if (!conn_pressed(w))
		return c->cn_deadline;
	pressed = conn_accepted(w, c) + w->w_conf.wc_pressure_peek_ms;
	return pressed < c->cn_deadline ? pressed : c->cn_deadline;
}

/* conn_due - the head of the list of state when its deadline passed */
struct conn *
conn_due(struct worker *w, enum conn_state state)
{
	struct conn	*c;

	if (state == CONN_LINGER) {
		c = TAILQ_FIRST(&w->w_lingering);
		return c != NULL && c->cn_deadline <= w->w_now ? c : NULL;
	}
	/* A header and then a hello, both within peek_timeout of accept */
	c = TAILQ_FIRST(state == CONN_PROXY ? &w->w_proxying : &w->w_peeking);
	return c != NULL && conn_peek_deadline(w, c) <= w->w_now ? c : NULL;
}

/*
 * conn_silent_deadline - when c, accepted and silent since, has had its
 * time for a first byte: silent_timeout with `silent` set (it then goes
 * there), else never before its peek deadline; under pressure
 * pressure_first_byte_timeout if that is shorter
 */
static uint64_t
conn_silent_deadline(const struct worker *w, const struct conn *c)
{
	uint64_t	d = UINT64_MAX, pressed;

	if (w->w_conf.wc_silent != -1)
		d = conn_accepted(w, c) + w->w_conf.wc_silent_timeout_ms;
	if (conn_pressed(w)) {
		pressed = conn_accepted(w, c) +
		    w->w_conf.wc_pressure_first_byte_ms;
		if (pressed < d)
			d = pressed;
	}
	return d;
}

/* conn_silent_due - the first connection silent past its time */
struct conn *
conn_silent_due(struct worker *w)
{
	struct conn	*c = TAILQ_FIRST(&w->w_silent);

	return c != NULL && conn_silent_deadline(w, c) <= w->w_now ? c : NULL;
}

/* conn_queue_due - the head of channel's queue when it waited too long */
struct conn *
conn_queue_due(struct worker *w, int channel)
{
	struct conn	*c = TAILQ_FIRST(&w->w_channels[channel].ch_queue);

	return c != NULL && c->cn_deadline <= w->w_now ? c : NULL;
}

/* conn_sent_due - the oldest unacknowledged on channel, past its time */
struct conn *
conn_sent_due(struct worker *w, int channel)
{
	struct conn	*c = TAILQ_FIRST(&w->w_channels[channel].ch_sent);

	return c != NULL && c->cn_deadline <= w->w_now ? c : NULL;
}

/* conn_next_deadline - the earliest deadline of any connection */
uint64_t
conn_next_deadline(const struct worker *w)
{
	const struct conn	*p = TAILQ_FIRST(&w->w_peeking);
	const struct conn	*l = TAILQ_FIRST(&w->w_lingering);
	const struct conn	*s = TAILQ_FIRST(&w->w_silent);
	const struct conn	*z = TAILQ_FIRST(&w->w_paused);
	const struct conn	*h = TAILQ_FIRST(&w->w_proxying);
	uint64_t		 next = UINT64_MAX;
	size_t			 i;

	if (p != NULL)
		next = conn_peek_deadline(w, p);
	if (h != NULL && conn_peek_deadline(w, h) < next)
		next = conn_peek_deadline(w, h);
	if (s != NULL && conn_silent_deadline(w, s) < next)
		next = conn_silent_deadline(w, s);
	if (l != NULL && l->cn_deadline < next)
		next = l->cn_deadline;
	if (z != NULL && w->w_now + conn_recheck_in(w, z) < next)
		next = w->w_now + conn_recheck_in(w, z);
	for (i = 0; i < w->w_nchannels; i++) {
		if ((p = TAILQ_FIRST(&w->w_channels[i].ch_queue)) != NULL &&
		    p->cn_deadline < next)
			next = p->cn_deadline;
		if ((p = TAILQ_FIRST(&w->w_channels[i].ch_sent)) != NULL &&
		    p->cn_deadline < next)
			next = p->cn_deadline;
	}
	return next;
}

/*
 * conn_local - the local address c connected to, or NULL.  A wildcard
 * listener's needs getsockname: asked once per connection, for both the
 * handoff header and the access log.
 */
const union conn_addr *
conn_local(struct worker *w, struct conn *c)
{
	struct listener	*ls = &w->w_listeners[c->cn_listener];
	socklen_t	 len = sizeof(w->w_local);

	if (!ls->ls_wildcard)
		return &ls->ls_addr;
	if (w->w_local_conn == c && w->w_local_use == c->cn_use)
		return &w->w_local;
	w->w_local_conn = NULL;
	if (getsockname(c->cn_fd, &w->w_local.sa, &len) == -1)
		return NULL;
	w->w_local_conn = c;
	w->w_local_use = c->cn_use;
	return &w->w_local;
}
