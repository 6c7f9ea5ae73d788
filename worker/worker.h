/*
 * worker.h - the state of one peeker worker, shared by its files.
 *
 * A worker is one epoll loop (loop.c) over the listeners, the client
 * connections being peeked (peek.c) and one channel per backend
 * (backend.c).  Every connection is in exactly one list, each list is
 * ordered by deadline because all its members got the same timeout: the
 * earliest deadline is always at the head.
 */
#ifndef WORKER_H
#define WORKER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include <bsd/sys/queue.h>

#include "clienthello.h"
#include "counters.h"
#include "hostname.h"
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
#define EV_MAKE(kind, use, i) \
	(((uint64_t)(kind) << 56) | ((uint64_t)((use) & 0xffffff) << 32) | \
	    (uint32_t)(i))
#define EV_KIND(u64)		((u64) >> 56)
#define EV_USE(u64)		(((u64) >> 32) & 0xffffff)
#define EV_INDEX(u64)		((uint32_t)(u64))

enum conn_state {
	CONN_FREE,
	CONN_PEEK,	/* waiting for the whole ClientHello */
	CONN_QUEUED,	/* routed; its backend is busy */
	CONN_LINGER,	/* refused: alert sent, waiting for the client's FIN */
};

/* What a connection is routed by (access line, header, refusal). */
enum conn_route {
	CONN_ROUTE_HELLO,	/* its ClientHello: name, ALPN */
	CONN_ROUTE_NON_TLS,	/* first bytes of another protocol: non_tls */
	CONN_ROUTE_SILENT,	/* nothing within silent_timeout: silent */
};

union conn_addr {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;	/* listeners are IPv4 or IPv6 only */
};

struct conn {
	int			 cn_fd;
	uint32_t		 cn_use;	/* bumped per connection */
	enum conn_state		 cn_state;
	int			 cn_listener;
	int			 cn_backend;	/* when CONN_QUEUED */
	int			 cn_alpn_route;	/* protocol of the ALPN route
						   taken (routes.h), or -1 */
	uint8_t			 cn_route;	/* enum conn_route */
	uint8_t			 cn_silent_listed; /* in w_silent */
	uint64_t		 cn_deadline;	/* ms, clock_ms() */
	int			 cn_watched;	/* in the epoll set */
	uint32_t		 cn_peeked;	/* bytes seen at the last peek */
	uint64_t		 cn_start_us;	/* accepted, clock_us() */
	union conn_addr		 cn_peer;
	TAILQ_ENTRY(conn)	 cn_link;
	TAILQ_ENTRY(conn)	 cn_silent_link;
};
TAILQ_HEAD(conn_list, conn);

#define CONN_ADDR_TEXT_MAX	(INET6_ADDRSTRLEN + 8)	/* "[v6]:port" */

struct listener {
	int			 ls_fd;
	int			 ls_wildcard;	/* local address needs getsockname */
	union conn_addr		 ls_addr;
	char			 ls_text[CONN_ADDR_TEXT_MAX]; /* for the access log */
};

/* why a backend is down, logged once per outage and cause */
enum backend_down {
	BACKEND_UP,
	BACKEND_DOWN_CONNECT,	/* its socket refused us, or is missing */
	BACKEND_DOWN_OWNER,	/* its listener is not the owner's */
};

/*
 * A channel: w_backends[0 .. wc_nbackends - 1] are the configured
 * backends; after them, when there are tenants, TENANT_SLOTS dynamic
 * ones for tenant sockets (tenant.c), reused least recently used first.
 */
struct backend {
	int			 be_fd;		/* channel, or -1 */
	uint32_t		 be_use;	/* bumped per channel */
	uint64_t		 be_retry;	/* no connect attempt before */
	unsigned		 be_backoff;	/* ms */
	enum backend_down	 be_down;	/* outage logged, with its cause */
	/* What the channel is, set once: by backend_init for a configured
	 * backend, by backend_tenant for a tenant's socket. */
	const char		*be_name;	/* "web", "tenant:alice" */
	const char		*be_socket;	/* its path */
	struct counters_backend	*be_counts;	/* its backend's, its tenant's */
	int			 be_fallback;	/* backend index, or -1 */
	int64_t			 be_uid;	/* the listener's, or -1: any */
	int64_t			 be_gid;	/* the same */
	int			 be_tenant;	/* tenant index, or -1 */
	uint64_t		 be_used;	/* a tenant slot's last route */
	char			 be_path[WCONF_PATH_MAX + 1]; /* tenant's */
	char			 be_label[WCONF_NAME_MAX + 1]; /* "tenant:x" */
	int			 be_want_out;	/* EPOLLOUT registered */
	int			 be_out_helps;	/* last busy was a full queue */
	struct conn_list	 be_queue;	/* CONN_QUEUED, oldest first */
};

struct worker {
	int			 w_index;
	unsigned		 w_gen;
	struct wconf		 w_conf;
	int			 w_epoll;
	int			 w_ctl;
	struct listener		*w_listeners;
	size_t			 w_nlisteners;
	int			 w_accepting;	/* listeners are in the epoll set */
	uint64_t		 w_accept_resume; /* after an fd shortage */
	unsigned int		 w_fd_pauses;	/* in this shortage */
	int			 w_stopping;
	struct backend		*w_backends;
	size_t			 w_nchannels;	/* backends, then tenant slots */
	struct tenant_cache	*w_tenant_cache; /* NULL without tenants */
	struct conn		*w_conns;	/* the pool, max_pending slots */
	size_t			 w_nconns;
	size_t			 w_fresh;	/* slots from here never used */
	size_t			 w_pending;	/* conns not free */
	struct conn_list	 w_free;
	struct conn_list	 w_peeking;
	struct conn_list	 w_lingering;
	/*
	 * Peeking connections that have sent nothing yet, when `silent` is
	 * set: a second list beside w_peeking (cn_silent_link), in the same
	 * order.  A member is still peeking, so its cn_deadline is accept +
	 * peek_timeout, and its silent deadline is derived from it (a conn
	 * slot is kept small: max_pending of them).
	 */
	struct conn_list	 w_silent;
	uint64_t		 w_now;
	struct counters_worker	*w_counters;	/* this worker's shared slot */
	uint8_t			 w_wire[HELLO_WIRE_MAX];	/* peeked bytes */
	struct hello		 w_hello;
	char			 w_name[HOSTNAME_MAX + 1]; /* w_hello's, */
	ssize_t			 w_name_len;	/* normalized, or -1 */
	uint8_t			 w_payload[PROXY_MAX];
	union conn_addr		 w_local;	/* a wildcard listener's */
	const struct conn	*w_local_conn;	/* connection, for */
	uint32_t		 w_local_use;	/* this use of it */
	char			 w_access_head[64]; /* " worker=N gen=G listener=" */
	size_t			 w_access_head_len;
};

/* peek.c */
enum peek_outcome {
	PEEK_HANDOFF,
	PEEK_ALERT,
	PEEK_NOT_TLS,
	PEEK_TIMEOUT,
	PEEK_CLIENT_GONE,
	PEEK_ERROR,
};

void	peek_start(struct worker *, int listener, int fd,
	    const union conn_addr *);
const union conn_addr *peek_local(struct worker *, struct conn *);
void	peek_event(struct worker *, struct conn *, uint32_t events);
int	peek_resume(struct worker *, struct conn *);
void	peek_give_up(struct worker *, struct conn *);
void	peek_expire(struct worker *);
uint64_t peek_next_deadline(const struct worker *);

/* backend.c */
enum backend_result { BACKEND_SENT, BACKEND_BUSY, BACKEND_DOWN };

size_t	backend_channels(const struct wconf *);
int	backend_init(struct worker *);
const char *backend_down_reason(const struct worker *, int backend);
void	backend_forget(struct worker *, int backend);
void	backend_tenant(struct worker *, int backend, int tenant,
	    const char *path);
enum backend_result backend_send(struct worker *, int backend,
	    struct conn *, const uint8_t *payload, size_t len);
int	backend_has_queue(const struct worker *, int backend);
void	backend_enqueue(struct worker *, int backend, struct conn *);
void	backend_event(struct worker *, int backend, uint32_t use,
	    uint32_t events);
void	backend_expire(struct worker *);
uint64_t backend_next_deadline(const struct worker *);
void	backend_close_all(struct worker *);

/* tenant.c */
#define TENANT_SLOTS	64	/* tenant channels per worker */
#define TENANT_NONE	(-1)	/* no tenant socket: not the tenant's route */
#define TENANT_FULL	(-2)	/* every slot has connections waiting */

int	tenant_init(struct worker *);
int	tenant_route(struct worker *, const char *name, size_t len);
void	tenant_free(struct worker *);

/* access.c */
void	access_init(struct worker *);
void	access_line(struct worker *, struct conn *, const struct hello *,
	    int backend, const char *outcome, const char *detail,
	    uint64_t peek_us);

/* loop.c */
struct conn_list *loop_list(struct worker *, struct conn *);
struct conn	*loop_take(struct worker *);
void	loop_release(struct worker *, struct conn *);
void	loop_run(struct worker *);

#endif
