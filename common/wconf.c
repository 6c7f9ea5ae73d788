/*
 * wconf.c - encode and decode the worker configuration.
 *
 * Encoding: a sequence of NUL-terminated text tokens; the first token of
 * each record names it and fixes how many follow.  The blob starts with
 * a version token and ends with "end", so a truncated blob is refused.
 *
 *   snitch-wconf-1
 *   peek_timeout_ms N | handoff_timeout_ms N | max_pending N (0: auto)
 *   max_pending_per_source N | netblock_ipv4 N | netblock_ipv6 N
 *   pressure_threshold N | pressure_peek_ms N | pressure_first_byte_ms N
 *   log_level N | access_log N	(LOG_LEVEL_*, enum log_access)
 *   backend NAME SOCKET		(all backends before what refers to them)
 *   fallback BACKEND-INDEX FALLBACK-INDEX
 *   default BACKEND-INDEX	(-1: none)
 *   route PATTERN BACKEND-INDEX
 *   owner BACKEND-INDEX UID GID	(-1: not checked)
 *   tenant NAME UID DIR		(all tenants before their routes)
 *   tenant_route PATTERN TENANT-INDEX
 *   alpn_route PROTOCOL PATTERN BACKEND-INDEX
 *   non_tls BACKEND-INDEX | silent BACKEND-INDEX	(-1: none)
 *   silent_timeout_ms N
 *   sandbox 0|1 | chroot DIR	(chroot only when set)
 *   proxy_listen ADDR PORT	(one per proxy_protocol listener)
 *   proxy_from ADDR/PREFIX	(one per proxy_from block)
 *   http_listen ADDR PORT	(one per listen_http listener)
 *   acme_http BACKEND-INDEX	(-1: none)
 *   end
 *
 * The master writes it; a worker trusts its master, but decodes
 * strictly anyway so that a mismatch between binaries fails at start.
 *
 * wconf_ctl_send and wconf_ctl_recv are the control socket's one message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#include "wconf.h"

#define WCONF_MAGIC	"snitch-wconf-1"

/* The records that are one unsigned number each, and their bounds */
static const struct wconf_unsigned {
	const char	*wu_key;
	size_t		 wu_at;		/* offset in struct wconf */
	long		 wu_min;
} wconf_unsigneds[] = {
	{ "peek_timeout_ms", offsetof(struct wconf, wc_peek_timeout_ms), 1 },
	{ "handoff_timeout_ms", offsetof(struct wconf, wc_handoff_timeout_ms),
	    1 },
	{ "max_pending", offsetof(struct wconf, wc_max_pending), 0 },
	{ "max_pending_per_source",
	    offsetof(struct wconf, wc_max_pending_per_source), 1 },
	{ "netblock_ipv4", offsetof(struct wconf, wc_netblock_ipv4), 1 },
	{ "netblock_ipv6", offsetof(struct wconf, wc_netblock_ipv6), 1 },
	{ "pressure_threshold", offsetof(struct wconf, wc_pressure_threshold),
	    1 },
	{ "pressure_peek_ms", offsetof(struct wconf, wc_pressure_peek_ms), 1 },
	{ "pressure_first_byte_ms",
	    offsetof(struct wconf, wc_pressure_first_byte_ms), 1 },
	{ "penalty_ms", offsetof(struct wconf, wc_penalty_ms), 0 },
	{ "penalty_stalls", offsetof(struct wconf, wc_penalty_stalls), 1 },
};
#define WCONF_NUNSIGNEDS	(sizeof(wconf_unsigneds) / sizeof(wconf_unsigneds[0]))

/* wconf_init_clients - no backend for non-TLS and silent clients */
static void
wconf_init_clients(struct wconf *wc)
{
	wc->wc_non_tls = -1;
	wc->wc_silent = -1;
	wc->wc_acme_http = -1;
	wc->wc_silent_timeout_ms = 2000;
}

/* wconf_init - an empty configuration with the defaults */
int
wconf_init(struct wconf *wc)
{
	memset(wc, 0, sizeof(*wc));
	wc->wc_peek_timeout_ms = 10000;
	wc->wc_handoff_timeout_ms = 2000;
	wc->wc_max_pending = 0;		/* what fits the descriptor limit */
	wc->wc_max_pending_per_source = 256;
	wc->wc_netblock_ipv4 = 32;
	wc->wc_netblock_ipv6 = 64;
	wc->wc_pressure_threshold = 50;
	wc->wc_pressure_peek_ms = 1000;
	wc->wc_pressure_first_byte_ms = 500;
	wc->wc_penalty_ms = 30000;
	wc->wc_penalty_stalls = 32;
	wc->wc_default = -1;
	wc->wc_log_level = LOG_LEVEL_INFO;
	wc->wc_access_log = LOG_ACCESS_DEFAULT;
	wconf_init_clients(wc);
	wc->wc_sandbox = 1;
	if ((wc->wc_names = names_new()) == NULL)
		return -1;
	if ((wc->wc_tenant_names = names_new()) == NULL) {
		names_free(wc->wc_names);
		wc->wc_names = NULL;
		return -1;
	}
	return 0;
}

/* wconf_clear - release what wconf_init and the adds allocated */
void
wconf_clear(struct wconf *wc)
{
	free(wc->wc_backends);
	names_free(wc->wc_names);
	free(wc->wc_tenants);
	names_free(wc->wc_tenant_names);
	routes_free(wc->wc_routes);
	free(wc->wc_chroot);
	free(wc->wc_proxy_listen);
	free(wc->wc_http_listen);
	free(wc->wc_proxy_from);
	memset(wc, 0, sizeof(*wc));
	wc->wc_default = -1;
	wconf_init_clients(wc);
}

/* wconf_add_backend - append a backend; its index, or -1 (EINVAL, ENOMEM) */
int
wconf_add_backend(struct wconf *wc, const char *name, const char *socket)
{
	struct wconf_backend	*b;

	if (strlen(name) > WCONF_NAME_MAX || strlen(socket) > WCONF_PATH_MAX ||
	    wc->wc_nbackends >= INT_MAX) {
		errno = EINVAL;
		return -1;
	}
	b = reallocarray(wc->wc_backends, wc->wc_nbackends + 1, sizeof(*b));
	if (b == NULL)
		return -1;
	wc->wc_backends = b;
	b += wc->wc_nbackends;
	strcpy(b->wb_name, name);
	strcpy(b->wb_socket, socket);
	b->wb_fallback = -1;
	b->wb_owner_uid = b->wb_owner_gid = -1;
	return (int)wc->wc_nbackends++;
}

/* wconf_backend_index - the index of the backend called name, or -1 */
int
wconf_backend_index(const struct wconf *wc, const char *name)
{
	size_t	i;

	for (i = 0; i < wc->wc_nbackends; i++)
		if (strcmp(wc->wc_backends[i].wb_name, name) == 0)
			return (int)i;
	return -1;
}

/* wconf_add_tenant - append a tenant; its index, or -1 (EINVAL, ENOMEM) */
int
wconf_add_tenant(struct wconf *wc, const char *name, int64_t uid,
    const char *dir)
{
	struct wconf_tenant	*t;

	if (strlen(name) > WCONF_TENANT_NAME_MAX ||
	    strlen(dir) > WCONF_PATH_MAX || wc->wc_ntenants >= INT_MAX) {
		errno = EINVAL;
		return -1;
	}
	t = reallocarray(wc->wc_tenants, wc->wc_ntenants + 1, sizeof(*t));
	if (t == NULL)
		return -1;
	wc->wc_tenants = t;
	t += wc->wc_ntenants;
	strcpy(t->wt_name, name);
	strcpy(t->wt_dir, dir);
	t->wt_uid = uid;
	return (int)wc->wc_ntenants++;
}

/* wconf_tenant_index - the index of the tenant called name, or -1 */
int
wconf_tenant_index(const struct wconf *wc, const char *name)
{
	size_t	i;

	for (i = 0; i < wc->wc_ntenants; i++)
		if (strcmp(wc->wc_tenants[i].wt_name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * wconf_counted - how many entries the counters have per worker: the
 * backends, then the tenants (counted per tenant, not per socket)
 */
size_t
wconf_counted(const struct wconf *wc)
{
	return wc->wc_nbackends + wc->wc_ntenants;
}

/* wconf_counted_name - the name of counted entry i: "web", "tenant:alice" */
void
wconf_counted_name(const struct wconf *wc, size_t i, char *name, size_t size)
{
	if (i < wc->wc_nbackends)
		snprintf(name, size, "%s", wc->wc_backends[i].wb_name);
	else
		snprintf(name, size, "%s%s", WCONF_TENANT_PREFIX,
		    wc->wc_tenants[i - wc->wc_nbackends].wt_name);
}

/*
 * wconf_add_alpn_route - route pattern to backend for clients offering
 * protocol (routes_add, whose errors it returns).  The ALPN tables are
 * only made for the first such route: without one wc_routes stays NULL,
 * and the worker routes exactly as it did before ALPN routes existed.
 */
int
wconf_add_alpn_route(struct wconf *wc, const char *protocol,
    const char *pattern, int backend, int *other)
{
	if (wc->wc_routes == NULL && (wc->wc_routes = routes_new()) == NULL)
		return -1;
	return routes_add(wc->wc_routes, protocol, pattern, backend, other);
}

/* wconf_put_alpn_route - routes_walk callback writing one alpn_route record */
static int
wconf_put_alpn_route(void *arg, const char *protocol, const char *pattern,
    int backend)
{
	return fprintf(arg, "alpn_route%c%s%c%s%c%d%c", 0, protocol, 0,
	    pattern, 0, backend, 0) < 0 ? -1 : 0;
}

/* wconf_set_chroot - the directory workers chroot to; 0, or -1 (ENOMEM) */
int
wconf_set_chroot(struct wconf *wc, const char *dir)
{
	char	*copy;

	if ((copy = strdup(dir)) == NULL)
		return -1;
	free(wc->wc_chroot);
	wc->wc_chroot = copy;
	return 0;
}

/*
 * wconf_add_addr - one listener address (IPv4 or IPv6) onto a list of
 * them; 0, or -1 (EAFNOSUPPORT, ENOMEM)
 */
static int
wconf_add_addr(struct sockaddr_storage **list, size_t *n,
    const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage	*grown;

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    len > sizeof(*grown)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	grown = reallocarray(*list, *n + 1, sizeof(*grown));
	if (grown == NULL)
		return -1;
	*list = grown;
	memset(&grown[*n], 0, sizeof(*grown));
	memcpy(&grown[(*n)++], sa, len);
	return 0;
}

/* wconf_same_endpoint - whether a and b are one address and port */
static int
wconf_same_endpoint(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in	*a4 = (const void *)a;
	const struct sockaddr_in	*b4 = (const void *)b;
	const struct sockaddr_in6	*a6 = (const void *)a;
	const struct sockaddr_in6	*b6 = (const void *)b;

	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a->sa_family == AF_INET6 && a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

/* wconf_has_addr - whether sa's address and port are on the list */
static int
wconf_has_addr(const struct sockaddr_storage *list, size_t n,
    const struct sockaddr *sa)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (wconf_same_endpoint((const struct sockaddr *)&list[i], sa))
			return 1;
	return 0;
}

/* wconf_add_proxy_listen - one proxy_protocol listener address */
int
wconf_add_proxy_listen(struct wconf *wc, const struct sockaddr *sa,
    socklen_t len)
{
	return wconf_add_addr(&wc->wc_proxy_listen, &wc->wc_nproxy_listen,
	    sa, len);
}

/*
 * wconf_proxy_listener - whether the listener bound to sa is one of
 * proxy_protocol's
 */
int
wconf_proxy_listener(const struct wconf *wc, const struct sockaddr *sa)
{
	return wconf_has_addr(wc->wc_proxy_listen, wc->wc_nproxy_listen, sa);
}

/* wconf_add_http_listen - one listen_http listener address */
int
wconf_add_http_listen(struct wconf *wc, const struct sockaddr *sa,
    socklen_t len)
{
	return wconf_add_addr(&wc->wc_http_listen, &wc->wc_nhttp_listen, sa,
	    len);
}

/*
 * wconf_http_listener - whether the listener bound to sa is one of
 * listen_http's: its clients speak HTTP/1.x in clear
 */
int
wconf_http_listener(const struct wconf *wc, const struct sockaddr *sa)
{
	return wconf_has_addr(wc->wc_http_listen, wc->wc_nhttp_listen, sa);
}

/* wconf_same_http_listen - whether a and b have one listen_http set */
int
wconf_same_http_listen(const struct wconf *a, const struct wconf *b)
{
	size_t	i;

	if (a->wc_nhttp_listen != b->wc_nhttp_listen)
		return 0;
	for (i = 0; i < a->wc_nhttp_listen; i++)
		if (!wconf_http_listener(b, (const struct sockaddr *)
		    &a->wc_http_listen[i]))
			return 0;
	return 1;
}

/* wconf_copy_http_listen - to's listen_http set made from's; 0 or -1 */
int
wconf_copy_http_listen(struct wconf *to, const struct wconf *from)
{
	struct sockaddr_storage	*copy = NULL;

	if (from->wc_nhttp_listen > 0 && (copy = reallocarray(NULL,
	    from->wc_nhttp_listen, sizeof(*copy))) == NULL)
		return -1;
	if (copy != NULL)
		memcpy(copy, from->wc_http_listen, from->wc_nhttp_listen *
		    sizeof(*copy));
	free(to->wc_http_listen);
	to->wc_http_listen = copy;
	to->wc_nhttp_listen = from->wc_nhttp_listen;
	return 0;
}

/* wconf_add_proxy_from - one proxy_from netblock; 0, or -1 (ENOMEM) */
int
wconf_add_proxy_from(struct wconf *wc, const struct netblock *nb)
{
	struct netblock	*grown;

	grown = reallocarray(wc->wc_proxy_from, wc->wc_nproxy_from + 1,
	    sizeof(*grown));
	if (grown == NULL)
		return -1;
	wc->wc_proxy_from = grown;
	grown[wc->wc_nproxy_from++] = *nb;
	return 0;
}

/* wconf_proxy_allowed - whether peer sa is in one of proxy_from's blocks */
int
wconf_proxy_allowed(const struct wconf *wc, const struct sockaddr *sa)
{
	size_t	i;

	for (i = 0; i < wc->wc_nproxy_from; i++)
		if (netblock_contains(&wc->wc_proxy_from[i], sa))
			return 1;
	return 0;
}

/* wconf_put_addrs - one record of key ADDR PORT per listener on list */
static void
wconf_put_addrs(FILE *f, const char *key, const struct sockaddr_storage *list,
    size_t n)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 text[INET6_ADDRSTRLEN];
	const void			*addr;
	unsigned			 port;
	size_t				 i;

	for (i = 0; i < n; i++) {
		sin = (const struct sockaddr_in *)&list[i];
		sin6 = (const struct sockaddr_in6 *)&list[i];
		addr = list[i].ss_family == AF_INET ?
		    (const void *)&sin->sin_addr : (const void *)&sin6->sin6_addr;
		port = ntohs(list[i].ss_family == AF_INET ? sin->sin_port :
		    sin6->sin6_port);
		if (inet_ntop(list[i].ss_family, addr, text, sizeof(text)) !=
		    NULL)
			fprintf(f, "%s%c%s%c%u%c", key, 0, text, 0, port, 0);
	}
}

/*
 * wconf_put_listeners - the records of the listeners of another kind:
 * proxy_listen, proxy_from, http_listen, acme_http
 */
static void
wconf_put_listeners(FILE *f, const struct wconf *wc)
{
	char	text[NETBLOCK_TEXT_MAX];
	size_t	i;

	wconf_put_addrs(f, "proxy_listen", wc->wc_proxy_listen,
	    wc->wc_nproxy_listen);
	for (i = 0; i < wc->wc_nproxy_from; i++)
		fprintf(f, "proxy_from%c%s%c", 0, netblock_text(
		    &wc->wc_proxy_from[i], text, sizeof(text)), 0);
	wconf_put_addrs(f, "http_listen", wc->wc_http_listen,
	    wc->wc_nhttp_listen);
	fprintf(f, "acme_http%c%d%c", 0, wc->wc_acme_http, 0);
}

/* wconf_put_route - names_walk callback writing one route record */
static int
wconf_put_route(void *arg, const char *pattern, int backend)
{
	return fprintf(arg, "route%c%s%c%d%c", 0, pattern, 0, backend, 0) < 0 ?
	    -1 : 0;
}

/* wconf_put_tenant_route - names_walk callback: one tenant_route record */
static int
wconf_put_tenant_route(void *arg, const char *pattern, int tenant)
{
	return fprintf(arg, "tenant_route%c%s%c%d%c", 0, pattern, 0, tenant,
	    0) < 0 ? -1 : 0;
}

/* wconf_put_tenancy - the owner, tenant and tenant_route records */
static int
wconf_put_tenancy(const struct wconf *wc, FILE *f)
{
	const struct wconf_backend	*b;
	const struct wconf_tenant	*t;
	size_t				 i;

	for (i = 0; i < wc->wc_nbackends; i++) {
		b = &wc->wc_backends[i];
		if (b->wb_owner_uid != -1)
			fprintf(f, "owner%c%zu%c%lld%c%lld%c", 0, i, 0,
			    (long long)b->wb_owner_uid, 0,
			    (long long)b->wb_owner_gid, 0);
	}
	for (i = 0; i < wc->wc_ntenants; i++) {
		t = &wc->wc_tenants[i];
		fprintf(f, "tenant%c%s%c%lld%c%s%c", 0, t->wt_name, 0,
		    (long long)t->wt_uid, 0, t->wt_dir, 0);
	}
	return names_walk(wc->wc_tenant_names, wconf_put_tenant_route, f);
}

/* wconf_put_clients - the records for non-TLS and silent clients */
static void
wconf_put_clients(FILE *f, const struct wconf *wc)
{
	fprintf(f, "non_tls%c%d%c", 0, wc->wc_non_tls, 0);
	fprintf(f, "silent%c%d%c", 0, wc->wc_silent, 0);
	fprintf(f, "silent_timeout_ms%c%u%c", 0, wc->wc_silent_timeout_ms, 0);
}

/* wconf_encode - write the whole configuration to fd; 0 or -1 */
int
wconf_encode(const struct wconf *wc, int fd)
{
	char	*blob = NULL;
	size_t	 len = 0, i;
	FILE	*f;
	int	 rc = -1;

	if ((f = open_memstream(&blob, &len)) == NULL)
		return -1;
	fprintf(f, "%s%c", WCONF_MAGIC, 0);
	for (i = 0; i < WCONF_NUNSIGNEDS; i++)
		fprintf(f, "%s%c%u%c", wconf_unsigneds[i].wu_key, 0,
		    *(const unsigned *)(const void *)((const char *)wc +
		    wconf_unsigneds[i].wu_at), 0);
	fprintf(f, "log_level%c%d%c", 0, wc->wc_log_level, 0);
	fprintf(f, "access_log%c%d%c", 0, wc->wc_access_log, 0);
	for (i = 0; i < wc->wc_nbackends; i++)
		fprintf(f, "backend%c%s%c%s%c", 0, wc->wc_backends[i].wb_name,
		    0, wc->wc_backends[i].wb_socket, 0);
	for (i = 0; i < wc->wc_nbackends; i++)
		if (wc->wc_backends[i].wb_fallback != -1)
			fprintf(f, "fallback%c%zu%c%d%c", 0, i, 0,
			    wc->wc_backends[i].wb_fallback, 0);
	fprintf(f, "default%c%d%c", 0, wc->wc_default, 0);
	if (names_walk(wc->wc_names, wconf_put_route, f) == -1 ||
	    wconf_put_tenancy(wc, f) == -1 ||
	    routes_walk(wc->wc_routes, wconf_put_alpn_route, f) == -1)
		goto out;
	wconf_put_clients(f, wc);
	fprintf(f, "sandbox%c%d%c", 0, wc->wc_sandbox ? 1 : 0, 0);
	if (wc->wc_chroot != NULL)
		fprintf(f, "chroot%c%s%c", 0, wc->wc_chroot, 0);
	wconf_put_listeners(f, wc);
	fprintf(f, "end%c", 0);
	if (fflush(f) == EOF || ferror(f))
		goto out;
	rc = 0;
	for (i = 0; i < len && rc == 0; ) {
		ssize_t n = write(fd, blob + i, len - i);
		if (n <= 0)
			rc = -1;
		else
			i += (size_t)n;
	}
out:
	fclose(f);
	free(blob);
	return rc;
}

struct wconf_reader {
	const char	*wr_pos;
	const char	*wr_end;
};

/* wconf_token - the next NUL-terminated token, or NULL at a bad end */
static const char *
wconf_token(struct wconf_reader *r)
{
	const char	*tok = r->wr_pos, *nul;

	if (tok >= r->wr_end || (nul = memchr(tok, 0, r->wr_end - tok)) == NULL)
		return NULL;
	r->wr_pos = nul + 1;
	return tok;
}

/* wconf_number - the next token as a number in [min, max], or -1 */
static int
wconf_number(struct wconf_reader *r, long min, long max, long *out)
{
	const char	*tok = wconf_token(r);
	char		*end;

	if (tok == NULL)
		return -1;
	errno = 0;
	*out = strtol(tok, &end, 10);
	if (*tok == '\0' || *end != '\0' || errno || *out < min || *out > max)
		return -1;
	return 0;
}

/* wconf_tenancy_record - decode an owner, tenant or tenant_route record */
static int
wconf_tenancy_record(struct wconf_reader *r, const char *key,
    struct wconf *wc)
{
	const char	*a, *b;
	long		 n, uid, gid;

	if (strcmp(key, "owner") == 0) {
		if (wconf_number(r, 0, (long)wc->wc_nbackends - 1, &n) == -1 ||
		    wconf_number(r, 0, UINT32_MAX - 1, &uid) == -1 ||
		    wconf_number(r, -1, UINT32_MAX - 1, &gid) == -1)
			return -1;
		wc->wc_backends[n].wb_owner_uid = uid;
		wc->wc_backends[n].wb_owner_gid = gid;
		return 0;
	}
	if (strcmp(key, "tenant") == 0) {
		if ((a = wconf_token(r)) == NULL ||
		    wconf_number(r, 0, UINT32_MAX - 1, &uid) == -1 ||
		    (b = wconf_token(r)) == NULL)
			return -1;
		return wconf_add_tenant(wc, a, uid, b) == -1 ? -1 : 0;
	}
	if ((a = wconf_token(r)) == NULL ||
	    wconf_number(r, 0, (long)wc->wc_ntenants - 1, &n) == -1)
		return -1;
	return names_add(wc->wc_tenant_names, a, (int)n, NULL);
}

/*
 * wconf_record_clients - decode a non_tls, silent or silent_timeout_ms
 * record; 1 when key is none of them
 */
static int
wconf_record_clients(struct wconf_reader *r, const char *key,
    struct wconf *wc)
{
	long	n;

	if (strcmp(key, "non_tls") == 0 || strcmp(key, "silent") == 0) {
		if (wconf_number(r, -1, (long)wc->wc_nbackends - 1, &n) == -1)
			return -1;
		*(key[0] == 'n' ? &wc->wc_non_tls : &wc->wc_silent) = (int)n;
		return 0;
	}
	if (strcmp(key, "silent_timeout_ms") == 0) {
		if (wconf_number(r, 1, UINT_MAX, &n) == -1)
			return -1;
		wc->wc_silent_timeout_ms = (unsigned)n;
		return 0;
	}
	return 1;
}

/*
 * wconf_sandbox_record - decode a sandbox or chroot record; 0, -1 when
 * bad, 1 when key is neither
 */
static int
wconf_sandbox_record(struct wconf_reader *r, const char *key,
    struct wconf *wc)
{
	const char	*dir;
	long		 n;

	if (strcmp(key, "sandbox") == 0) {
		if (wconf_number(r, 0, 1, &n) == -1)
			return -1;
		wc->wc_sandbox = (int)n;
		return 0;
	}
	if (strcmp(key, "chroot") == 0) {
		if ((dir = wconf_token(r)) == NULL || dir[0] != '/' ||
		    wc->wc_chroot != NULL)
			return -1;
		return wconf_set_chroot(wc, dir);
	}
	return 1;
}

/*
 * wconf_addr_record - decode ADDR PORT onto a list of listeners; 0 or
 * -1 when bad
 */
static int
wconf_addr_record(struct wconf_reader *r, struct sockaddr_storage **list,
    size_t *n)
{
	struct sockaddr_in6	 sin6;
	struct sockaddr_in	 sin;
	const char		*a;
	long			 port;

	if ((a = wconf_token(r)) == NULL ||
	    wconf_number(r, 1, 65535, &port) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, a, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		return wconf_add_addr(list, n, (struct sockaddr *)&sin,
		    sizeof(sin));
	}
	if (inet_pton(AF_INET6, a, &sin6.sin6_addr) != 1)
		return -1;
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons((uint16_t)port);
	return wconf_add_addr(list, n, (struct sockaddr *)&sin6, sizeof(sin6));
}

/*
 * wconf_listener_record - decode a proxy_listen, proxy_from,
 * http_listen or acme_http record; 0, -1 when bad, 1 when key is none
 */
static int
wconf_listener_record(struct wconf_reader *r, const char *key,
    struct wconf *wc)
{
	struct netblock		 nb;
	const char		*a;
	long			 n;

	if (strcmp(key, "proxy_from") == 0)
		return (a = wconf_token(r)) == NULL ||
		    netblock_parse(a, &nb) == -1 ||
		    wconf_add_proxy_from(wc, &nb) == -1 ? -1 : 0;
	if (strcmp(key, "proxy_listen") == 0)
		return wconf_addr_record(r, &wc->wc_proxy_listen,
		    &wc->wc_nproxy_listen);
	if (strcmp(key, "http_listen") == 0)
		return wconf_addr_record(r, &wc->wc_http_listen,
		    &wc->wc_nhttp_listen);
	if (strcmp(key, "acme_http") != 0)
		return 1;
	if (wconf_number(r, -1, (long)wc->wc_nbackends - 1, &n) == -1)
		return -1;
	wc->wc_acme_http = (int)n;
	return 0;
}

/* wconf_unsigned_record - decode a record of wconf_unsigneds; 0 or -1 */
static int
wconf_unsigned_record(struct wconf_reader *r, const char *key,
    struct wconf *wc)
{
	size_t	i;
	long	n;

	for (i = 0; i < WCONF_NUNSIGNEDS; i++) {
		if (strcmp(key, wconf_unsigneds[i].wu_key) != 0)
			continue;
		if (wconf_number(r, wconf_unsigneds[i].wu_min, UINT_MAX,
		    &n) == -1)
			return -1;
		*(unsigned *)(void *)((char *)wc + wconf_unsigneds[i].wu_at) =
		    (unsigned)n;
		return 0;
	}
	return -1;
}

/* wconf_record - decode the record whose first token is key */
static int
wconf_record(struct wconf_reader *r, const char *key, struct wconf *wc)
{
	const char	*a, *b;
	long		 n;
	int		 rc;

	if (strcmp(key, "owner") == 0 || strcmp(key, "tenant") == 0 ||
	    strcmp(key, "tenant_route") == 0)
		return wconf_tenancy_record(r, key, wc);
	if ((rc = wconf_record_clients(r, key, wc)) != 1)
		return rc;
	if ((rc = wconf_sandbox_record(r, key, wc)) != 1)
		return rc;
	if ((rc = wconf_listener_record(r, key, wc)) != 1)
		return rc;
	if (strcmp(key, "backend") == 0) {
		a = wconf_token(r);
		b = wconf_token(r);
		return a && b && wconf_add_backend(wc, a, b) != -1 ? 0 : -1;
	}
	if (strcmp(key, "route") == 0) {
		if ((a = wconf_token(r)) == NULL ||
		    wconf_number(r, 0, (long)wc->wc_nbackends - 1, &n) == -1)
			return -1;
		return names_add(wc->wc_names, a, (int)n, NULL);
	}
	if (strcmp(key, "alpn_route") == 0) {
		if ((a = wconf_token(r)) == NULL || (b = wconf_token(r)) == NULL ||
		    wconf_number(r, 0, (long)wc->wc_nbackends - 1, &n) == -1)
			return -1;
		return wconf_add_alpn_route(wc, a, b, (int)n, NULL);
	}
	if (strcmp(key, "fallback") == 0) {
		long f;

		if (wconf_number(r, 0, (long)wc->wc_nbackends - 1, &n) == -1 ||
		    wconf_number(r, 0, (long)wc->wc_nbackends - 1, &f) == -1 ||
		    n == f)
			return -1;
		wc->wc_backends[n].wb_fallback = (int)f;
		return 0;
	}
	if (strcmp(key, "default") == 0) {
		if (wconf_number(r, -1, (long)wc->wc_nbackends - 1, &n) == -1)
			return -1;
		wc->wc_default = (int)n;
		return 0;
	}
	if (strcmp(key, "log_level") == 0) {
		if (wconf_number(r, LOG_LEVEL_ERROR, LOG_LEVEL_DEBUG, &n) == -1 ||
		    n == LOG_LEVEL_WARNING + 1)
			return -1;
		wc->wc_log_level = (int)n;
		return 0;
	}
	if (strcmp(key, "access_log") == 0) {
		if (wconf_number(r, LOG_ACCESS_DEFAULT, LOG_ACCESS_FILE, &n) == -1)
			return -1;
		wc->wc_access_log = (int)n;
		return 0;
	}
	return wconf_unsigned_record(r, key, wc);
}

/*
 * wconf_decode - fill a fresh wc (wconf_init'ed here) from a blob;
 * 0, or -1 with errno EBADMSG and wc cleared.
 */
int
wconf_decode(const uint8_t *buf, size_t len, struct wconf *wc)
{
	struct wconf_reader	 r = { (const char *)buf, (const char *)buf + len };
	const char		*key;

	if (wconf_init(wc) == -1)
		return -1;
	if ((key = wconf_token(&r)) == NULL || strcmp(key, WCONF_MAGIC) != 0)
		goto bad;
	while ((key = wconf_token(&r)) != NULL && strcmp(key, "end") != 0)
		if (wconf_record(&r, key, wc) == -1)
			goto bad;
	if (key == NULL || r.wr_pos != r.wr_end)
		goto bad;
	return 0;
bad:
	wconf_clear(wc);
	errno = EBADMSG;
	return -1;
}

/*
 * wconf_send_fd - one message of len bytes to a worker, with fd as its
 * one SCM_RIGHTS descriptor (none if -1), never waiting; 0, or -1 with
 * errno (EAGAIN: the worker does not read)
 */
int
wconf_send_fd(int sock, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct iovec	 iov = { (void *)buf, len };
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	/* A worker that does not read its socket must not hold the master. */
	return sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)len ? 0 : -1;
}

/* wconf_ctl_send - pass a new access log descriptor to a worker; 0 or -1 */
int
wconf_ctl_send(int sock, int fd)
{
	char	cmd = WCONF_CTL_ACCESS_LOG;

	return wconf_send_fd(sock, &cmd, 1, fd);
}

/*
 * wconf_ctl_recv - the next control message: 1 with *fd the new access
 * log descriptor (close-on-exec), 0 when the master is gone, -1 with
 * errno (EAGAIN: nothing more now; EBADMSG: not a message we know, any
 * descriptor in it closed).  Checked as nginx's ngx_read_channel does.
 */
int
wconf_ctl_recv(int sock, int *fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	char		 cmd;
	struct iovec	 iov = { &cmd, 1 };
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	ssize_t		 n;
	size_t		 nfds, i, total = 0;
	int		 got = -1, one;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return n == 0 ? 0 : -1;
	/* Every descriptor that came is ours to close, unless it is the
	 * only one. */
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++, total++) {
			memcpy(&one, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (total == 0)
				got = one;
			else
				close(one);
		}
	}
	if (total > 1) {
		close(got);
		got = -1;
	}
	if (cmd != WCONF_CTL_ACCESS_LOG || got == -1 ||
	    (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
		if (got != -1)
			close(got);
		errno = EBADMSG;
		return -1;
	}
	*fd = got;
	return 1;
}
