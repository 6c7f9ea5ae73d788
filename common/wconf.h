/*
 * wconf.h - the worker configuration: what a worker needs to route.
 *
 * The master builds it from the config file, encodes it into a memfd and
 * execs each worker with that memfd as fd WCONF_FD; the worker decodes
 * it.  This is the only thing the master tells a worker, which is why
 * it lives in common/: master/ and worker/ never include each other.
 */
#ifndef WCONF_H
#define WCONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "names.h"
#include "netblock.h"
#include "routes.h"

/* fixed descriptor numbers in a worker, set up by the master's spawn */
#define WCONF_FD	3	/* the encoded worker configuration */
#define WCONF_CTL_FD	4	/* socket from the master: EOF means it is gone */
#define WCONF_COUNTERS_FD 5	/* the generation's shared counters memfd */
#define WCONF_ACCESS_FD	6	/* the access log file, when it is a file */
#define WCONF_BROKER_FD	7	/* socket to the master: channel requests */
#define WCONF_LISTEN_FD	8	/* first listening socket; -l says how many */

/*
 * The control socket (SOCK_SEQPACKET; the worker's end cannot send) carries
 * one kind of message: the byte WCONF_CTL_ACCESS_LOG with a descriptor
 * (SCM_RIGHTS), the access log file the master reopened on SIGUSR1.
 */
#define WCONF_CTL_ACCESS_LOG	'A'

/*
 * The broker socket (SOCK_SEQPACKET, both ways) carries the worker's
 * requests for channels and the master's answers, with the connected
 * channel (common/chanreq.h): a worker makes no socket itself.  Apart
 * from the control socket, so that a request is never read as a
 * control message nor an answer taken for a reopened access log.
 */

#define WCONF_NAME_MAX	64
#define WCONF_PATH_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

struct wconf_backend {
	char	wb_name[WCONF_NAME_MAX + 1];
	char	wb_socket[WCONF_PATH_MAX + 1];
	int	wb_fallback;	/* backend index, or -1 */
	int64_t	wb_owner_uid;	/* the listener's uid must be, or -1 */
	int64_t	wb_owner_gid;	/* and its gid, or -1 */
};

/*
 * A tenant serves the names of her patterns (wc_tenant_names) from
 * sockets she creates in her directory, <dir>/<name>.sock or
 * <dir>/_.<suffix>.sock, whose listener must be her uid.  Her name is
 * shorter than a backend's: counters show it as "tenant:NAME".
 */
#define WCONF_TENANT_NAME_MAX	(WCONF_NAME_MAX - 7)
#define WCONF_TENANT_PREFIX	"tenant:"

struct wconf_tenant {
	char	wt_name[WCONF_TENANT_NAME_MAX + 1];
	int64_t	wt_uid;
	char	wt_dir[WCONF_PATH_MAX + 1];
};

struct wconf {
	unsigned		 wc_peek_timeout_ms;
	unsigned		 wc_handoff_timeout_ms;
	unsigned		 wc_max_pending;	/* 0: what fits the fds */
	unsigned		 wc_max_pending_per_source;
	unsigned		 wc_netblock_ipv4; /* prefix lengths */
	unsigned		 wc_netblock_ipv6;
	unsigned		 wc_pressure_threshold; /* % of max_pending */
	unsigned		 wc_pressure_peek_ms;
	unsigned		 wc_pressure_first_byte_ms;
	unsigned		 wc_penalty_ms;	/* source_penalty; 0: off */
	unsigned		 wc_penalty_stalls;
	int			 wc_default;	/* backend index, or -1 */
	int			 wc_log_level;	/* LOG_LEVEL_* */
	int			 wc_access_log;	/* enum log_access */
	struct wconf_backend	*wc_backends;
	size_t			 wc_nbackends;
	struct names		*wc_names;
	struct wconf_tenant	*wc_tenants;
	size_t			 wc_ntenants;
	struct names		*wc_tenant_names; /* pattern to tenant index */
	struct routes		*wc_routes;	/* ALPN routes; NULL: none */
	int			 wc_non_tls;	/* backend index, or -1 */
	int			 wc_silent;	/* backend index, or -1 */
	unsigned		 wc_silent_timeout_ms;
	int			 wc_sandbox;	/* 0: sandbox = off */
	char			*wc_chroot;	/* chroot = DIR, or NULL */
	/* proxy_protocol: the listeners whose connections begin with a
	 * PROXY header, and proxy_from: the peers allowed to send it */
	struct sockaddr_storage	*wc_proxy_listen;
	size_t			 wc_nproxy_listen;
	struct netblock		*wc_proxy_from;
	size_t			 wc_nproxy_from;
	/* listen_http: the listeners whose clients speak HTTP/1.x in
	 * clear, and acme_http: where their ACME http-01 requests go */
	struct sockaddr_storage	*wc_http_listen;
	size_t			 wc_nhttp_listen;
	int			 wc_acme_http;	/* backend index, or -1 */
};

int	wconf_init(struct wconf *);
void	wconf_clear(struct wconf *);
int	wconf_add_backend(struct wconf *, const char *name, const char *socket);
int	wconf_backend_index(const struct wconf *, const char *name);
int	wconf_add_tenant(struct wconf *, const char *name, int64_t uid,
	    const char *dir);
int	wconf_tenant_index(const struct wconf *, const char *name);
size_t	wconf_counted(const struct wconf *);
void	wconf_counted_name(const struct wconf *, size_t i, char *name,
	    size_t size);
int	wconf_add_alpn_route(struct wconf *, const char *protocol,
	    const char *pattern, int backend, int *other);
int	wconf_set_chroot(struct wconf *, const char *dir);
int	wconf_add_proxy_listen(struct wconf *, const struct sockaddr *,
	    socklen_t);
int	wconf_proxy_listener(const struct wconf *, const struct sockaddr *);
int	wconf_add_proxy_from(struct wconf *, const struct netblock *);
int	wconf_proxy_allowed(const struct wconf *, const struct sockaddr *);
int	wconf_add_http_listen(struct wconf *, const struct sockaddr *,
	    socklen_t);
int	wconf_http_listener(const struct wconf *, const struct sockaddr *);
int	wconf_same_http_listen(const struct wconf *, const struct wconf *);
int	wconf_copy_http_listen(struct wconf *, const struct wconf *);
int	wconf_encode(const struct wconf *, int fd);
int	wconf_decode(const uint8_t *buf, size_t len, struct wconf *);
int	wconf_send_fd(int sock, const void *buf, size_t len, int fd);
int	wconf_ctl_send(int sock, int fd);
int	wconf_ctl_recv(int sock, int *fd);

#endif
