/*
 * worker.h - the state of one peeker worker, shared by its files.
 *
 * A worker is one epoll loop (loop.c) over the listeners, the client
 * connections (conn.c owns their state; peek.c reads their hellos;
 * dispatch.c hands them on) and one channel per backend (channel.c).
 * Every connection is in exactly one list, each list is ordered by
 * deadline because all its members got the same timeout: the earliest
 * deadline is always at the head.  The files call each other in one
 * direction only:
 *
 *	loop.c      -> upstream.c, peek.c, dispatch.c, evict.c, watch.c,
 *	               guard.c, conn.c
 *	upstream.c  -> peek.c, outcome.c, wire.c, conn.c
 *	peek.c      -> http.c, routes_rank (tenant.c is its tenant
 *	               level), dispatch.c, evict.c, outcome.c, wire.c,
 *	               conn.c
 *	http.c      -> routes_rank, dispatch.c, outcome.c, wire.c
 *	evict.c     -> outcome.c, source.c, conn.c
 *	dispatch.c  -> channel.c, wire.c, outcome.c, conn.c
 *	outcome.c   -> access.c, conn.c
 *	conn.c      -> source.c
 *	tenant.c    -> channel.c
 *	channel.c   -> handoff.c
 *
 * channel.c, wire.c, watch.c, guard.c, access.c, source.c and handoff.c
 * are leaves:
 * they return
 * results and never call back up.  Only conn.c moves a connection.
 */
#ifndef WORKER_H
#define WORKER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#include <bsd/sys/queue.h>

#include "clienthello.h"
#include "counters.h"
#include "hostname.h"
#include "httphead.h"
#include "netblock.h"
#include "proxyin.h"
#include "proxyv2.h"
#include "wconf.h"

/*
 * epoll_event.data.u64: what the event is for (8 bits), a use count of
 * the connection slot (24 bits: an event left over from a slot's former
 * connection in the same epoll_wait batch is recognised as stale), and
 * which one (32 bits).
 */
#define EV_LISTENER	1ULL
#define EV_CTL		2ULL
#define EV_CHANNEL	3ULL
#define EV_CONN		4ULL
#define EV_WATCH	5ULL
#define EV_RETIRED	6ULL
#define EV_BROKER	7ULL
#define EV_MAKE(kind, use, i) \
	(((uint64_t)(kind) << 56) | ((uint64_t)((use) & 0xffffff) << 32) | \
	    (uint32_t)(i))
#define EV_KIND(u64)		((u64) >> 56)
#define EV_USE(u64)		(((u64) >> 32) & 0xffffff)
#define EV_INDEX(u64)		((uint32_t)(u64))

/* The states of a connection: conn.c holds the diagram and the moves. */
enum conn_state {
	CONN_FREE,
	CONN_PROXY,	/* waiting for the upstream proxy's PROXY header */
	CONN_PEEK,	/* waiting for the whole ClientHello */
	CONN_QUEUED,	/* routed; waits in its channel's queue */
	CONN_LINGER,	/* refused: alert sent, waiting for the client's FIN */
	CONN_SENT,	/* handed on a version-2 channel; kept until acked */
	CONN_NSTATES
};

/* What a connection is routed by (access line, header, refusal). */
enum conn_route {
	CONN_ROUTE_HELLO,	/* its ClientHello: name, ALPN */
	CONN_ROUTE_NON_TLS,	/* first bytes of another protocol: non_tls */
	CONN_ROUTE_SILENT,	/* nothing within silent_timeout: silent */
	CONN_ROUTE_HTTP,	/* its HTTP/1.x request head: Host (http.c) */
};

union conn_addr {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;	/* listeners are IPv4 or IPv6 only */
};

#define CONN_PAUSE_MS	1000	/* a paused connection's queue is counted
				   again after this (conn.c): once a second,
				   not on each of a dribbled hello's
				   segments; only a client that sends its
				   hello in segments tiny enough to fill its
				   receive buffer is ever paused, so only it
				   waits the more */

/* Written by conn.c only, but for the fields marked with another file. */
struct conn {
	int			 cn_fd;
	uint32_t		 cn_use;	/* bumped per connection */
	enum conn_state		 cn_state;
	int			 cn_listener;
	int			 cn_channel;	/* when CONN_QUEUED or _SENT */
	uint32_t		 cn_channel_use; /* _SENT: on that channel's
						   connection of this use */
	int			 cn_fallback_of; /* queued for another's
						   fallback: that one, or -1 */
	int			 cn_alpn_route;	/* protocol of the ALPN route
						   taken (routes.h), or -1;
						   peek.c */
	uint8_t			 cn_route;	/* enum conn_route; peek.c */
	uint8_t			 cn_silent_listed; /* in w_silent */
	uint8_t			 cn_paused;	/* in w_paused: no EPOLLIN */
	uint8_t			 cn_rehanded;	/* handed again after its
						   channel died unacked;
						   dispatch.c */
	uint8_t			 cn_held;	/* waited for its backend to
						   restart; dispatch.c */
	uint16_t		 cn_lowat;	/* SO_RCVLOWAT of cn_fd (1: the
						   kernel's default); wire.c */
	union {
		struct hello_walk	 cn_walk;	/* how far its hello
							   was parsed; wire.c */
		struct proxyin_walk	 cn_proxy_walk;	/* CONN_PROXY: how far
							   its header was */
		struct httphead_walk	 cn_http_walk;	/* CONN_ROUTE_HTTP: how
							   far its request head
							   was; wire.c */
	};
	uint8_t			 cn_proxied;	/* came with a PROXY header:
						   cn_via is the proxy */
	uint16_t		 cn_tlvs_len;	/* its header's kept TLVs, in
						   w_upstream_tlvs */
	uint64_t		 cn_deadline;	/* ms, clock_ms() */
	int			 cn_watched;	/* in the epoll set */
	uint32_t		 cn_peeked;	/* bytes seen at the last
						   peek; peek.c */
	uint64_t		 cn_start_us;	/* accepted, clock_us() */
	union conn_addr		 cn_peer;	/* the client: the header's
						   source when proxied */
	union conn_addr		 cn_via;	/* proxied: the proxy (the
						   socket's peer) */
	union conn_addr		 cn_dst;	/* proxied: the header's
						   destination, or family 0 */
	uint32_t		 cn_recheck;	/* paused: until then, in the
						   low 32 bits of a ms clock */
	TAILQ_ENTRY(conn)	 cn_link;
	/* on w_silent (nothing sent yet) or on w_paused (sent bytes, so
	 * never both): a conn slot is kept small */
	TAILQ_ENTRY(conn)	 cn_aside_link;
	TAILQ_ENTRY(conn)	 cn_source_link; /* peeking: its netblock's */
	uint32_t		 cn_source;	/* peeking: w_sources index */
};
TAILQ_HEAD(conn_list, conn);

/* A netblock with connections peeking (source.c) */
struct source {
	struct netblock		 sr_block;
	uint32_t		 sr_count;	/* connections peeking */
	uint32_t		 sr_stalls;	/* penalty.c's, draining */
	uint64_t		 sr_drained;	/* ms: stalls drained to then */
	uint32_t		 sr_next;	/* hash chain: index + 1, 0 ends */
	struct conn_list	 sr_conns;	/* oldest first */
	TAILQ_ENTRY(source)	 sr_link;	/* its count's bucket, or free */
};
TAILQ_HEAD(source_list, source);

#define WIRE_METHOD_MAX		16	/* an HTTP method's bytes logged */

#define CONN_ADDR_TEXT_MAX	(INET6_ADDRSTRLEN + 8)	/* "[v6]:port" */

struct listener {
	int			 ls_fd;
	int			 ls_wildcard;	/* local address needs getsockname */
	int			 ls_proxy;	/* proxy_protocol: a PROXY
						   header comes first */
	int			 ls_http;	/* listen_http: its clients
						   speak HTTP/1.x in clear */
	union conn_addr		 ls_addr;
	char			 ls_text[CONN_ADDR_TEXT_MAX]; /* for the access log */
};

/* why a channel's backend is down, logged once per outage and cause */
enum channel_down {
	CHANNEL_UP,
	CHANNEL_DOWN_CONNECT,	/* its socket refused us, or is missing */
	CHANNEL_DOWN_OWNER,	/* its listener is not the owner's */
};

/*
 * A channel: w_channels[0 .. wc_nbackends - 1] are the configured
 * backends'; after them, when there are tenants, TENANT_SLOTS dynamic
 * ones (or one per tenant, if more) for tenant sockets (tenant.c),
 * reused least recently used first.
 * channel.c owns the descriptor and the back-off; ch_queue is a list
 * conn.c keeps and dispatch.c works through.
 */
struct channel {
	int			 ch_fd;		/* or -1 */
	uint32_t		 ch_use;	/* bumped per channel */
	int			 ch_asking;	/* the master was asked for it */
	uint32_t		 ch_ask_id;	/* in that request */
	uint64_t		 ch_ask_by;	/* asked again after that */
	uint64_t		 ch_retry;	/* no connect attempt before */
	unsigned		 ch_backoff;	/* ms */
	enum channel_down	 ch_down;	/* outage logged, with its cause */
	/* What the channel is, set once: by channel_init for a configured
	 * backend, by channel_tenant for a tenant's socket. */
	const char		*ch_name;	/* "web", "tenant:alice" */
	const char		*ch_socket;	/* its path */
	struct counters_backend	*ch_counts;	/* its backend's, its tenant's */
	int			 ch_fallback;	/* channel index, or -1 */
	int64_t			 ch_uid;	/* the listener's, or -1: any */
	int64_t			 ch_gid;	/* the same */
	int			 ch_tenant;	/* tenant index, or -1 */
	uint64_t		 ch_used;	/* a tenant slot's last route */
	char			 ch_path[WCONF_PATH_MAX + 1]; /* tenant's */
	char			 ch_label[WCONF_NAME_MAX + 1]; /* "tenant:x" */
	int			 ch_want_out;	/* EPOLLOUT registered */
	int			 ch_out_helps;	/* last busy was a full queue */
	uint64_t		 ch_busy_retry;	/* dispatch.c: retry the queue
						   then, 0: on EPOLLOUT only */
	int			 ch_outage;	/* dispatch.c: down longer than
						   a hold; no client waits */
	int			 ch_watch;	/* watch.c: its directory's
						   watch descriptor, or -1 */
	int			 ch_appeared;	/* watch.c: its socket file
						   was made since last asked */
	struct conn_list	 ch_queue;	/* CONN_QUEUED, oldest first */
	struct conn_list	 ch_sent;	/* CONN_SENT, oldest first */
	size_t			 ch_nsent;	/* its length (conn.c) */
	int			 ch_version;	/* 0 until known, 1, or 2 after
						   the backend's HELLO */
	uint64_t		 ch_hello_by;	/* version 0 until then, then 1;
						   nothing is sent before */
	int			 ch_orphans;	/* lost with ch_sent not empty */
	/*
	 * The connection before ch_fd, lost for sending while its backend
	 * may still receive or acknowledge what was queued in it (channel.c,
	 * channel_retire): read for ACKs until its backend closes it or
	 * holds nothing more.  While it is open, no new connection is made:
	 * a backend cannot pin more than one channel's worth of sockets.
	 */
	int			 ch_retired_fd;	/* or -1 */
	uint32_t		 ch_retired_use; /* its ch_use */
	int			 ch_retired_version;
};

struct worker {
	int			 w_index;
	unsigned		 w_gen;
	struct wconf		 w_conf;
	int			 w_epoll;
	int			 w_ctl;
	int			 w_broker;	/* channel requests (channel.c) */
	uint32_t		 w_ask_id;	/* the last request's id */
	struct listener		*w_listeners;
	size_t			 w_nlisteners;
	int			 w_accepting;	/* listeners are in the epoll set */
	uint64_t		 w_accept_resume; /* after an fd shortage */
	unsigned int		 w_fd_pauses;	/* in this shortage */
	int			 w_stopping;
	struct channel		*w_channels;
	size_t			 w_nchannels;	/* backends, then tenant slots */
	struct tenant_cache	*w_tenant_cache; /* NULL without tenants */
	int			 w_watch;	/* inotify, or -1 (watch.c) */
	struct conn		*w_conns;	/* the pool, max_pending slots */
	size_t			 w_nconns;
	size_t			 w_fresh;	/* slots from here never used */
	size_t			 w_pending;	/* conns not free */
	struct conn_list	 w_free;
	struct conn_list	 w_proxying;	/* CONN_PROXY, oldest first */
	struct conn_list	 w_peeking;
	struct conn_list	 w_lingering;
	/*
	 * Peeking connections that have sent nothing yet: a second list
	 * beside w_peeking (cn_aside_link), in the same order.  A member
	 * is still peeking, so its cn_deadline is accept + peek_timeout,
	 * and its silent deadline (silent_timeout, or under pressure
	 * pressure_first_byte_timeout) is derived from it (a conn slot is
	 * kept small: max_pending of them).
	 */
	struct conn_list	 w_silent;
	/*
	 * Peeking connections the kernel woke with fewer bytes queued than
	 * their hello needs (wire_short: tiny segments fill the receive
	 * buffer, and a nearly full buffer reads as readable whatever the
	 * low-water mark): EPOLLIN is off for CONN_PAUSE_MS, then their
	 * queue is counted again (peek_expire), in pause order.  FIN and
	 * reset still wake them (EPOLLRDHUP, EPOLLHUP).
	 */
	struct conn_list	 w_paused;
	/* source.c: the peeking connections by netblock */
	struct source		*w_sources;	/* w_nconns entries */
	size_t			 w_source_fresh; /* entries from here unused */
	struct source_list	 w_source_free;
	uint32_t		*w_source_hash;	/* chains: index + 1, 0 ends */
	uint32_t		 w_source_mask;
	uint64_t		 w_source_key[NETBLOCK_KEY_WORDS];
	struct source_list	*w_source_counts; /* [n]: those with n */
	size_t			 w_source_ncounts;
	uint32_t		 w_source_top;	/* highest non-empty count */
	/* evict.c: evictions not logged yet, and when they may be */
	uint64_t		 w_evict_unlogged;
	uint64_t		 w_evict_log_at;
	char			 w_evict_last[NETBLOCK_TEXT_MAX]; /* netblock */
	uint64_t		 w_now;
	struct counters_worker	*w_counters;	/* this worker's shared slot */
	uint8_t			 w_wire[HELLO_WIRE_MAX];	/* peeked bytes */
	struct hello		 w_hello;
	char			 w_name[HOSTNAME_MAX + 1]; /* w_hello's, */
	ssize_t			 w_name_len;	/* normalized, or -1 */
	/* the HTTP request head wire_http_peek walked last (pointers
	 * into w_wire), and what of it outlives w_wire: the head of
	 * w_http_conn's connection of use w_http_use, when whole */
	struct httphead		 w_http;
	char			 w_http_name[HOSTNAME_MAX + 1];
	ssize_t			 w_http_name_len; /* -1: default route */
	char			 w_http_method[WIRE_METHOD_MAX + 1];
	int			 w_http_acme;	/* an ACME http-01 path */
	const struct conn	*w_http_conn;
	uint32_t		 w_http_use;
	uint8_t			 w_payload[PROXY_MAX];
	struct proxyin		 w_proxyin;	/* the header read last */
	/* a slot's kept upstream TLVs (cn_tlvs_len), in priority order;
	 * NULL when no listener has proxy_protocol */
	uint8_t			(*w_upstream_tlvs)[PROXYIN_KEPT_MAX];
	union conn_addr		 w_local;	/* a wildcard listener's */
	const struct conn	*w_local_conn;	/* connection, for */
	uint32_t		 w_local_use;	/* this use of it */
	char			 w_access_head[64]; /* " worker=N gen=G listener=" */
	size_t			 w_access_head_len;
};

/* conn.c: the one owner of a connection's state, list and deadline */
int	conn_init(struct worker *, size_t slots);
void	conn_free_all(struct worker *);
int	conn_has_room(const struct worker *);
int	conn_pressed(const struct worker *);
struct conn *conn_start(struct worker *, int listener, int fd,
	    const union conn_addr *);
void	conn_proxied(struct worker *, struct conn *, const struct proxyin *);
void	conn_move(struct worker *, struct conn *, enum conn_state,
	    uint64_t deadline);
void	conn_queue(struct worker *, struct conn *, int channel,
	    int fallback_of, uint64_t deadline);
void	conn_sent(struct worker *, struct conn *, int channel,
	    int fallback_of, uint64_t deadline);
void	conn_release(struct worker *, struct conn *);
int	conn_watch(struct worker *, struct conn *);
void	conn_silent_listen(struct worker *, struct conn *);
void	conn_heard(struct worker *, struct conn *);
int	conn_pause(struct worker *, struct conn *);
int	conn_unpause(struct worker *, struct conn *);
struct conn *conn_paused_due(struct worker *);
struct conn *conn_due(struct worker *, enum conn_state);
struct conn *conn_silent_due(struct worker *);
struct conn *conn_queue_due(struct worker *, int channel);
struct conn *conn_sent_due(struct worker *, int channel);
uint64_t conn_next_deadline(const struct worker *);
const union conn_addr *conn_local(struct worker *, struct conn *);

/* source.c: a leaf; the peeking connections by netblock */
void	penalty_stall(struct worker *, struct conn *);

int	source_init(struct worker *);
void	source_free(struct worker *);
void	source_add(struct worker *, struct conn *);
uint32_t source_count(const struct worker *, const struct conn *);
void	source_remove(struct worker *, struct conn *);
struct conn *source_oldest(struct worker *, const struct conn *);
struct conn *source_busiest(struct worker *);
int	source_stall(struct worker *, const struct conn *, uint32_t limit);
const struct netblock *source_block(const struct worker *,
	    const struct conn *);

/* evict.c: room for new connections, made of stalled ones */
int	evict_can(struct worker *);
void	evict_for_room(struct worker *);
void	evict_over_source(struct worker *, struct conn *);
void	evict_log(struct worker *);
uint64_t evict_next_deadline(const struct worker *);

/* guard.c: listeners kept non-blocking, whoever clears O_NONBLOCK */
void	guard_start(sigset_t *during_wait);
void	guard_stop(void);
void	guard_check(struct worker *);

/* peek.c */
void	peek_start(struct worker *, int listener, int fd,
	    const union conn_addr *);
void	peek_begin(struct worker *, struct conn *);
void	peek_event(struct worker *, struct conn *, uint32_t events);
void	peek_expire(struct worker *);

/* wire.c: the client's bytes as peeked, and the header made of them */
enum hello_result wire_peek(struct worker *, struct conn *, ssize_t *got);
enum proxyin_result wire_proxy_peek(struct worker *, struct conn *,
	    ssize_t *got);
enum httphead_result wire_http_peek(struct worker *, struct conn *,
	    ssize_t *got);
int	wire_http_head(const struct worker *, const struct conn *);
int	wire_whole(struct worker *, struct conn *, ssize_t *got);
int	wire_short(struct conn *);
int	wire_release(struct conn *);
int	wire_blocking(struct conn *);
ssize_t	wire_header(struct worker *, struct conn *);

/* outcome.c: the ways a connection ends, each logged and counted once */
enum outcome {
	OUTCOME_HANDOFF,
	OUTCOME_ALERT,
	OUTCOME_NOT_TLS,
	OUTCOME_TIMEOUT,
	OUTCOME_CLIENT_GONE,
	OUTCOME_ERROR,
	OUTCOME_EVICTED,
	OUTCOME_PROXY_REFUSED,	/* a PROXY listener's peer not in proxy_from */
	OUTCOME_PROXY_INVALID,	/* no valid PROXY header */
	OUTCOME_HEALTH_CHECK,	/* a PROXY header without a client: LOCAL */
	OUTCOME_HTTP_REFUSED,	/* answered with an HTTP 4xx or 5xx */
};

void	outcome_log(struct worker *, struct conn *, const struct hello *,
	    int channel, enum outcome, uint8_t alert, const char *detail);
void	outcome_handed(struct worker *, struct conn *, int channel,
	    int fallback_of);
void	outcome_handed_log(struct worker *, struct conn *, int channel,
	    int fallback_of);
void	outcome_handed_settle(struct worker *, struct conn *, int channel,
	    int fallback_of);
void	outcome_refuse(struct worker *, struct conn *, const struct hello *,
	    int channel, uint8_t alert, const char *reason);
void	outcome_other(struct worker *, struct conn *, int channel,
	    const char *reason);
void	outcome_close(struct worker *, struct conn *);
void	outcome_http(struct worker *, struct conn *, int channel,
	    int status, const char *reason);
void	outcome_http_timeout(struct worker *, struct conn *);
void	outcome_reason(const char *why, char *out, size_t size);

/* dispatch.c: the one policy for a routed connection */
void	dispatch_route(struct worker *, struct conn *, int channel);
void	dispatch_channel_event(struct worker *, int channel, int retired,
	    uint32_t use, uint32_t events);
void	dispatch_expire(struct worker *);
void	dispatch_appeared(struct worker *);
int	dispatch_answers(struct worker *);
uint64_t dispatch_next_deadline(const struct worker *);

/* channel.c: a leaf; connects, sends, backs off, checks the owner */
#define CHANNEL_INFLIGHT_MAX	128	/* handoffs a backend may hold unreceived
					   or unacknowledged, per worker */
#define TENANT_INFLIGHT_MAX	256	/* over all of one tenant's sockets */

enum channel_result { CHANNEL_SENT, CHANNEL_BUSY, CHANNEL_DOWN };

/* channel_answer: no channel, but what else */
#define CHANNEL_ANSWER_STALE	(-1)	/* for a request given up */
#define CHANNEL_ANSWER_END	(-2)	/* none more now */
#define CHANNEL_ANSWER_GONE	(-3)	/* the master is gone */

size_t	channel_count(const struct wconf *);
int	channel_init(struct worker *);
const char *channel_down_reason(const struct worker *, int channel);
void	channel_forget(struct worker *, int channel);
void	channel_tenant(struct worker *, int channel, int tenant,
	    const char *path);
enum channel_result channel_send(struct worker *, int channel, int client_fd,
	    const uint8_t *header, size_t len);
int	channel_event(struct worker *, int channel, uint32_t use,
	    uint32_t events, uint32_t *acked);
int	channel_retired_event(struct worker *, int channel, uint32_t use,
	    uint32_t events, uint32_t *acked);
size_t	channel_inflight(struct worker *, int channel);
size_t	channel_received(struct worker *, int channel, uint32_t use);
size_t	channel_tenant_inflight(struct worker *, int tenant);
int	channel_settled(struct worker *, int channel);
void	channel_drop(struct worker *, int channel, uint32_t use,
	    const char *why);
int	channel_version(struct worker *, int channel);
void	channel_want_out(struct worker *, int channel, int want);
void	channel_retry_now(struct worker *, int channel);
int	channel_answer(struct worker *);
void	channel_close_all(struct worker *);

/* watch.c: a leaf; notices a backend's socket file being made */
int	watch_init(struct worker *);
int	watch_read(struct worker *);
void	watch_close(struct worker *);

/* tenant.c */
#define TENANT_SLOTS	64	/* tenant channels per worker */

int	tenant_init(struct worker *);
int	tenant_route(void *worker, const char *name, size_t len);
void	tenant_free(struct worker *);

/* access.c */
void	access_init(struct worker *);
void	access_line(struct worker *, struct conn *, const struct hello *,
	    int channel, const char *outcome, const char *detail,
	    uint64_t peek_us);

/* http.c: an HTTP listener's connection, once its head is peeked */
void	http_read(struct worker *, struct conn *, uint32_t events);
int	http_on_tls(struct worker *, struct conn *);

/* upstream.c: a proxy_protocol listener's connection, until its header */
void	upstream_start(struct worker *, int listener, int fd,
	    const union conn_addr *);
void	upstream_event(struct worker *, struct conn *, uint32_t events);
void	upstream_expire(struct worker *);

/* loop.c */
void	loop_run(struct worker *);

#endif
