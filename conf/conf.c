/*
 * conf.c - read snitch.ini into a struct conf, refusing anything wrong.
 *
 * Runs in the master: at start (as root, before binding), for -t, and on
 * SIGHUP (unprivileged).  inih does the INI syntax; this file knows the
 * keys.  inih does not tell its handler the line number, so the file is
 * read through conf_reader, which counts lines and also tracks section
 * headers (so that an empty [backend x] is still seen).  inih reads at
 * most INI_MAX_LINE bytes a line; a longer line is an error here rather
 * than being cut in two, and long lists continue on indented lines.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <ini.h>

#include "conf.h"
#include "hostname.h"
#include "ids.h"
#include "log.h"

#define CONF_WORKERS_MAX	256
#define CONF_PENDING_MAX	1000000
#define CONF_DURATION_MAX	3600000		/* one hour, in ms */

enum conf_section { SECTION_NONE, SECTION_SNITCH, SECTION_BACKEND,
    SECTION_TENANT };

static const char *const conf_section_names[] = { "", "snitch", "backend",
    "tenant" };

/* how often a key may be given in one section */
enum conf_repeat {
	CONF_ONCE,		/* again: "'key' is set twice" */
	CONF_LIST,		/* each line adds to its list */
	CONF_CONTINUED,		/* a list, continued on indented lines only */
};

/* A `names` line, kept until its section ends (see conf_backend_done). */
struct conf_names_line {
	char	*nl_value;
	int	 nl_line;
};

struct conf_backend_meta {
	int	 bm_line;	/* of its [backend x] header */
	int	 bm_has_socket;
	char	*bm_fallback;	/* resolved when the whole file is read */
	int	 bm_fallback_line;
	struct conf_names_line *bm_names;	/* until the section ends */
	size_t	 bm_nnames;
	size_t	 bm_names_cap;
	char	**bm_alpn;	/* its protocols, when it has `alpn` */
	size_t	 bm_nalpn;
	int	 bm_alpn_line;	/* 0: no alpn key */
};

struct conf_tenant_meta {
	int	 tm_line;	/* of its [tenant x] header */
	int	 tm_has_uid;
	int	 tm_has_dir;
	int	 tm_names_line;	/* 0: no names yet */
};

struct conf_parse {
	struct conf		*cp_conf;
	FILE			*cp_file;
	char			*cp_buf;
	size_t			 cp_bufsize;
	int			 cp_line;
	enum conf_section	 cp_section;
	int			 cp_backend;	/* index, in SECTION_BACKEND */
	int			 cp_seen_snitch;
	struct conf_backend_meta *cp_meta;
	size_t			 cp_nmeta;
	int			 cp_tenant;	/* index, in SECTION_TENANT */
	struct conf_tenant_meta	*cp_tmeta;
	/* by conf_keys row: the line it was first given on in its
	 * section (0: not given), and what conf_key_keep kept */
	int			 cp_key_line[CONF_KEYS_MAX];
	char			*cp_kept[CONF_KEYS_MAX];
	int			 cp_flags;	/* CONF_* of conf_load_with */
	int			 cp_err_line;	/* INT_MAX: no error yet */
	char			 cp_err[CONF_ERR_MAX];
};

/* one key: a row of conf_keys (below the parsers, before conf_handler) */
struct conf_key {
	enum conf_section	 ck_section;
	const char		*ck_name;
	int			(*ck_parse)(struct conf_parse *,
				    const struct conf_key *, const char *);
	enum conf_repeat	 ck_repeat;
	int			(*ck_restart)(struct conf *,
				    const struct conf *);
	size_t			 ck_target;	/* for the generic parsers */
	long long		 ck_min, ck_max; /* for conf_key_number */
};

static int	conf_name_error(struct conf_parse *, const char *, int);
static size_t	conf_key_row(const struct conf_key *);

/* conf_error - record the first error, with its line (0: none) */
static int __attribute__((format(printf, 3, 4)))
conf_error(struct conf_parse *cp, int line, const char *fmt, ...)
{
	size_t	size = sizeof(cp->cp_err);
	va_list	ap;
	int	n;

	if (cp->cp_err[0] != '\0')
		return 0;
	if (line > 0)
		n = snprintf(cp->cp_err, size, "%s:%d: ", cp->cp_conf->cf_file,
		    line);
	else
		n = snprintf(cp->cp_err, size, "%s: ", cp->cp_conf->cf_file);
	if (n > 0 && (size_t)n < size) {
		va_start(ap, fmt);
		vsnprintf(cp->cp_err + n, size - (size_t)n, fmt, ap);
		va_end(ap);
	}
	cp->cp_err_line = line > 0 ? line : INT_MAX;
	return 0;
}

/* conf_backend_meta_clear - free what a section's parse kept */
static void
conf_backend_meta_clear(struct conf_backend_meta *bm)
{
	size_t	i;

	for (i = 0; i < bm->bm_nnames; i++)
		free(bm->bm_names[i].nl_value);
	free(bm->bm_names);
	bm->bm_names = NULL;
	bm->bm_nnames = bm->bm_names_cap = 0;
	for (i = 0; i < bm->bm_nalpn; i++)
		free(bm->bm_alpn[i]);
	free(bm->bm_alpn);
	bm->bm_alpn = NULL;
	bm->bm_nalpn = 0;
}

/* conf_parse_duration - "10s", "500ms", "2m" or bare seconds, in ms */
int
conf_parse_duration(const char *text, unsigned *ms)
{
	unsigned long	 n, unit = 1000;
	char		*end;

	if (!isdigit((unsigned char)*text))
		return -1;
	errno = 0;
	n = strtoul(text, &end, 10);
	if (errno)
		return -1;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "m") == 0)
		unit = 60000;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	if (n == 0 || n > CONF_DURATION_MAX / unit)
		return -1;
	*ms = (unsigned)(n * unit);
	return 0;
}

/* conf_parse_port - a decimal port 1..65535, or -1 */
static int
conf_parse_port(const char *text)
{
	unsigned long	 n;
	char		*end;

	if (!isdigit((unsigned char)*text))
		return -1;
	errno = 0;
	n = strtoul(text, &end, 10);
	if (errno || *end != '\0' || n == 0 || n > 65535)
		return -1;
	return (int)n;
}

/* conf_parse_addr - "1.2.3.4:443" or "[::1]:443"; 0 or -1 */
int
conf_parse_addr(const char *text, struct conf_listen *cl)
{
	char			 host[CONF_ADDR_MAX];
	const char		*colon;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&cl->cl_addr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&cl->cl_addr;
	int			 port;
	size_t			 hostlen;

	if (strlen(text) >= sizeof(cl->cl_text) ||
	    (colon = strrchr(text, ':')) == NULL ||
	    (port = conf_parse_port(colon + 1)) == -1)
		return -1;
	memset(cl, 0, sizeof(*cl));
	strcpy(cl->cl_text, text);
	hostlen = (size_t)(colon - text);
	if (text[0] == '[') {
		if (hostlen < 3 || text[hostlen - 1] != ']')
			return -1;
		memcpy(host, text + 1, hostlen - 2);
		host[hostlen - 2] = '\0';
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		cl->cl_len = sizeof(*sin6);
		return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 ? 0 : -1;
	}
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	cl->cl_len = sizeof(*sin);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

/* conf_listens_on - whether listen names the address and port of ss */
static int
conf_listens_on(const struct conf *cf, const struct sockaddr_storage *ss)
{
	size_t	i;

	for (i = 0; i < cf->cf_nlisten; i++)
		if (memcmp(&cf->cf_listen[i].cl_addr, ss,
		    cf->cf_listen[i].cl_len) == 0)
			return 1;
	return 0;
}

/* conf_add_listen - one listen address; duplicates are errors */
static int
conf_add_listen(struct conf_parse *cp, const char *text)
{
	struct conf		*cf = cp->cp_conf;
	struct conf_listen	 cl, *grown;
	size_t			 i;

	if (conf_parse_addr(text, &cl) == -1)
		return conf_error(cp, cp->cp_line, "bad listen address '%s' "
		    "(want 1.2.3.4:port or [::1]:port)", text);
	if (wconf_http_listener(&cf->cf_wconf, (struct sockaddr *)&cl.cl_addr))
		return conf_error(cp, cp->cp_line, "address '%s' is in both "
		    "listen and listen_http (one listener speaks TLS or "
		    "HTTP, not both)", text);
	for (i = 0; i < cf->cf_nlisten; i++)
		if (cf->cf_listen[i].cl_len == cl.cl_len &&
		    memcmp(&cf->cf_listen[i].cl_addr, &cl.cl_addr, cl.cl_len) == 0)
			return conf_error(cp, cp->cp_line,
			    "listen address '%s' given twice", text);
	if (cf->cf_nlisten == CONF_LISTEN_MAX)
		return conf_error(cp, cp->cp_line, "more than %d listen "
		    "addresses", CONF_LISTEN_MAX);
	grown = reallocarray(cf->cf_listen, cf->cf_nlisten + 1, sizeof(cl));
	if (grown == NULL)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	cf->cf_listen = grown;
	cf->cf_listen[cf->cf_nlisten++] = cl;
	return 1;
}

/* conf_add_name - one name pattern for the current backend */
static int
conf_add_name(struct conf_parse *cp, const char *pattern)
{
	struct wconf	*wc = &cp->cp_conf->cf_wconf;
	int		 other;

	if (names_add(wc->wc_names, pattern, cp->cp_backend, &other) == 0)
		return 1;
	return conf_name_error(cp, pattern, other);
}

/* conf_add_alpn_name - one name pattern for each protocol of an ALPN backend */
static int
conf_add_alpn_name(struct conf_parse *cp, const char *pattern)
{
	struct conf_backend_meta *bm = &cp->cp_meta[cp->cp_backend];
	struct wconf		 *wc = &cp->cp_conf->cf_wconf;
	size_t			  i;
	int			  other;

	for (i = 0; i < bm->bm_nalpn; i++) {
		if (wconf_add_alpn_route(wc, bm->bm_alpn[i], pattern,
		    cp->cp_backend, &other) == 0)
			continue;
		if (errno == ENOSPC)
			return conf_error(cp, bm->bm_alpn_line, "more than %d "
			    "different alpn protocols", ROUTES_PROTOCOLS_MAX);
		if (errno == EEXIST && other != cp->cp_backend)
			return conf_error(cp, cp->cp_line, "name '%s' with alpn "
			    "'%s' is already claimed by backend '%s'", pattern,
			    bm->bm_alpn[i], wc->wc_backends[other].wb_name);
		return conf_name_error(cp, pattern, other);
	}
	return 1;
}

/* conf_name_error - why names_add or routes_add refused pattern */
static int
conf_name_error(struct conf_parse *cp, const char *pattern, int other)
{
	struct wconf	*wc = &cp->cp_conf->cf_wconf;

	if (errno == EINVAL)
		return conf_error(cp, cp->cp_line, "'%s' is not a host name, "
		    "*.name or *", pattern);
	if (errno == EEXIST && other == cp->cp_backend)
		return conf_error(cp, cp->cp_line, "name '%s' is listed twice "
		    "in backend '%s'", pattern, wc->wc_backends[other].wb_name);
	if (errno == EEXIST)
		return conf_error(cp, cp->cp_line, "name '%s' is already "
		    "claimed by backend '%s'", pattern,
		    wc->wc_backends[other].wb_name);
	return conf_error(cp, cp->cp_line, "%s", strerror(errno));
}

/* conf_each_word - call fn on every space-separated word of value */
static int
conf_each_word(struct conf_parse *cp, const char *value,
    int (*fn)(struct conf_parse *, const char *))
{
	char	*copy, *word, *save = NULL;
	int	 ok = 1, any = 0;

	if ((copy = strdup(value)) == NULL)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	/* inih leaves "; comment" on continuation lines: end the list there. */
	for (word = strtok_r(copy, " \t", &save); word != NULL && ok &&
	    *word != ';'; word = strtok_r(NULL, " \t", &save), any = 1)
		ok = fn(cp, word);
	free(copy);
	if (ok && !any)
		return conf_error(cp, cp->cp_line, "empty value");
	return ok;
}

/* conf_target - where a key's generic parser stores its value */
static void *
conf_target(struct conf_parse *cp, const struct conf_key *k)
{
	return (char *)cp->cp_conf + k->ck_target;
}

/*
 * conf_key_number - a decimal number in the row's [min, max], into an
 * int or unsigned field: the two may alias (C11 6.5p7), and every
 * row's max is below INT_MAX
 */
static int
conf_key_number(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	const char	*why = NULL;
	long long	 n;

	n = strtonum(value, k->ck_min, k->ck_max, &why);
	if (why != NULL)
		return conf_error(cp, cp->cp_line, "%s must be a number from "
		    "%lld to %lld, not '%s'", k->ck_name, k->ck_min, k->ck_max,
		    value);
	*(int *)conf_target(cp, k) = (int)n;
	return 1;
}

/* conf_key_duration - a duration, in ms, into an unsigned */
static int
conf_key_duration(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	if (conf_parse_duration(value, conf_target(cp, k)) == -1)
		return conf_error(cp, cp->cp_line, "%s: bad duration '%s' "
		    "(want e.g. 10s, 500ms, 2m; at most 1 hour)", k->ck_name,
		    value);
	return 1;
}

/* conf_key_duration_off - off (0), or a duration */
static int
conf_key_duration_off(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	if (strcmp(value, "off") != 0)
		return conf_key_duration(cp, k, value);
	*(unsigned *)conf_target(cp, k) = 0;
	return 1;
}

/* conf_key_listen - listen: addresses, on one line or several */
static int
conf_key_listen(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	(void)k;
	return conf_each_word(cp, value, conf_add_listen);
}

/*
 * conf_add_http_listen - one listen_http address: bound, passed and
 * carried over reloads as listen's are (it joins cf_listen), and known
 * to the workers as a listener of HTTP clients
 */
static int
conf_add_http_listen(struct conf_parse *cp, const char *text)
{
	struct conf		*cf = cp->cp_conf;
	struct conf_listen	 cl;

	if (conf_parse_addr(text, &cl) == -1)
		return conf_error(cp, cp->cp_line, "bad listen_http address "
		    "'%s' (want 1.2.3.4:port or [::1]:port)", text);
	if (wconf_http_listener(&cf->cf_wconf, (struct sockaddr *)&cl.cl_addr))
		return conf_error(cp, cp->cp_line, "listen_http address '%s' "
		    "given twice", text);
	if (conf_listens_on(cf, &cl.cl_addr))
		return conf_error(cp, cp->cp_line, "address '%s' is in both "
		    "listen and listen_http (one listener speaks TLS or "
		    "HTTP, not both)", text);
	if (conf_add_listen(cp, text) != 1)
		return 0;
	if (wconf_add_http_listen(&cf->cf_wconf, (struct sockaddr *)
	    &cl.cl_addr, cl.cl_len) == -1)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	return 1;
}

/* conf_key_listen_http - listen_http: listeners of HTTP/1.x clients */
static int
conf_key_listen_http(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	(void)k;
	return conf_each_word(cp, value, conf_add_http_listen);
}

/* conf_add_proxy_listen - one proxy_protocol address (checked at the end) */
static int
conf_add_proxy_listen(struct conf_parse *cp, const char *text)
{
	struct conf_listen	cl;

	if (conf_parse_addr(text, &cl) == -1)
		return conf_error(cp, cp->cp_line, "bad proxy_protocol address "
		    "'%s' (want a listen address, 1.2.3.4:port or [::1]:port)",
		    text);
	if (wconf_proxy_listener(&cp->cp_conf->cf_wconf,
	    (struct sockaddr *)&cl.cl_addr))
		return conf_error(cp, cp->cp_line, "proxy_protocol address "
		    "'%s' given twice", text);
	if (wconf_add_proxy_listen(&cp->cp_conf->cf_wconf,
	    (struct sockaddr *)&cl.cl_addr, cl.cl_len) == -1)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	return 1;
}

/* conf_key_proxy_protocol - the listeners whose clients come with a header */
static int
conf_key_proxy_protocol(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	(void)k;
	return conf_each_word(cp, value, conf_add_proxy_listen);
}

/* conf_add_proxy_from - one CIDR block of peers that may send a header */
static int
conf_add_proxy_from(struct conf_parse *cp, const char *text)
{
	struct netblock	nb;

	if (netblock_parse(text, &nb) == -1)
		return conf_error(cp, cp->cp_line, "bad proxy_from block '%s' "
		    "(want ADDRESS or ADDRESS/PREFIX, no bits set past the "
		    "prefix: 10.0.0.0/8, 2001:db8::/32)", text);
	if (wconf_add_proxy_from(&cp->cp_conf->cf_wconf, &nb) == -1)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	return 1;
}

/* conf_key_proxy_from - the peers allowed to send a PROXY header */
static int
conf_key_proxy_from(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	(void)k;
	return conf_each_word(cp, value, conf_add_proxy_from);
}

/*
 * conf_key_user - user: kept as written, looked up (ids_uid) at the
 * privilege drop, which also needs its passwd entry
 */
static int
conf_key_user(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct conf	*cf = cp->cp_conf;

	(void)k;
	if (*value == '\0' || (cf->cf_user = strdup(value)) == NULL)
		return conf_error(cp, cp->cp_line, "bad user '%s'", value);
	return 1;
}

/* conf_key_stats - an absolute socket path, or an address */
static int
conf_key_stats(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct conf	*cf = cp->cp_conf;

	(void)k;
	if (value[0] != '/' && conf_parse_addr(value, &cf->cf_stats_addr) == 0)
		cf->cf_stats_inet = 1;
	else if (value[0] != '/' || strlen(value) > WCONF_PATH_MAX)
		return conf_error(cp, cp->cp_line, "stats must be an absolute "
		    "path of at most %zu bytes, 1.2.3.4:port or [::1]:port: "
		    "'%s'", WCONF_PATH_MAX, value);
	if ((cf->cf_stats = strdup(value)) == NULL)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	return 1;
}

/* conf_key_access_log - off, syslog, stderr or the absolute path of a file */
static int
conf_key_access_log(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct conf	*cf = cp->cp_conf;
	struct wconf	*wc = &cf->cf_wconf;

	(void)k;
	if (strcmp(value, "off") == 0)
		wc->wc_access_log = LOG_ACCESS_OFF;
	else if (strcmp(value, "syslog") == 0)
		wc->wc_access_log = LOG_ACCESS_SYSLOG;
	else if (strcmp(value, "stderr") == 0)
		wc->wc_access_log = LOG_ACCESS_STDERR;
	else if (value[0] == '/' && strlen(value) < PATH_MAX &&
	    value[strlen(value) - 1] != '/') {
		wc->wc_access_log = LOG_ACCESS_FILE;
		if ((cf->cf_access_path = strdup(value)) == NULL)
			return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	} else
		return conf_error(cp, cp->cp_line, "access_log must be off, "
		    "syslog, stderr or the absolute path of a file, not '%s'",
		    value);
	return 1;
}

/* conf_key_log_level - error, warning, info or debug */
static int
conf_key_log_level(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct wconf	*wc = &cp->cp_conf->cf_wconf;

	(void)k;
	if ((wc->wc_log_level = log_level_parse(value)) == -1)
		return conf_error(cp, cp->cp_line, "log_level must be error, "
		    "warning, info or debug, not '%s'", value);
	return 1;
}

/*
 * conf_key_keep - keep the value (a backend's name) for conf_finish:
 * the backend may be defined further down the file
 */
static int
conf_key_keep(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	if ((cp->cp_kept[conf_key_row(k)] = strdup(value)) == NULL)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	return 1;
}

/* conf_key_sandbox - on or off */
static int
conf_key_sandbox(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	(void)k;
	if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
		return conf_error(cp, cp->cp_line, "sandbox must be on or off, "
		    "not '%s'", value);
	cp->cp_conf->cf_wconf.wc_sandbox = strcmp(value, "on") == 0;
	return 1;
}

/* conf_key_chroot - an absolute path, checked when the file is read */
static int
conf_key_chroot(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	(void)k;
	if (value[0] != '/' || strlen(value) >= PATH_MAX)
		return conf_error(cp, cp->cp_line, "chroot must be the "
		    "absolute path of a directory, not '%s'", value);
	if (wconf_set_chroot(&cp->cp_conf->cf_wconf, value) == -1)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	return 1;
}

/* conf_key_owner - owner = USER[:GROUP] of the current backend */
static int
conf_key_owner(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct wconf_backend	*b;
	char			 user[256], *group;
	uid_t			 uid;
	gid_t			 gid;

	(void)k;
	if (strlen(value) >= sizeof(user))
		return conf_error(cp, cp->cp_line, "owner is too long");
	strcpy(user, value);
	if ((group = strchr(user, ':')) != NULL)
		*group++ = '\0';
	if (ids_uid(user, &uid) == -1)
		return conf_error(cp, cp->cp_line, "owner: unknown user '%s' "
		    "(want USER[:GROUP], names or numbers)", user);
	if (group != NULL && ids_gid(group, &gid) == -1)
		return conf_error(cp, cp->cp_line, "owner: unknown group '%s' "
		    "(want USER[:GROUP], names or numbers)", group);
	b = &cp->cp_conf->cf_wconf.wc_backends[cp->cp_backend];
	b->wb_owner_uid = uid;
	b->wb_owner_gid = group != NULL ? (int64_t)gid : -1;
	return 1;
}

/* conf_key_socket - the backend's handoff socket: an absolute path */
static int
conf_key_socket(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct wconf_backend	*b;

	(void)k;
	if (value[0] != '/' || strlen(value) > WCONF_PATH_MAX)
		return conf_error(cp, cp->cp_line, "socket must be an absolute "
		    "path of at most %zu bytes: '%s'", WCONF_PATH_MAX, value);
	b = &cp->cp_conf->cf_wconf.wc_backends[cp->cp_backend];
	strcpy(b->wb_socket, value);
	cp->cp_meta[cp->cp_backend].bm_has_socket = 1;
	return 1;
}

/* conf_key_fallback - a backend's name, resolved when the file is read */
static int
conf_key_fallback(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct conf_backend_meta *bm = &cp->cp_meta[cp->cp_backend];

	(void)k;
	if ((bm->bm_fallback = strdup(value)) == NULL)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	bm->bm_fallback_line = cp->cp_line;
	return 1;
}

/* what conf_tenant_clash looks for, and what it found */
struct conf_clash {
	const char	*cc_pattern;	/* the one being added, normalized */
	int		 cc_tenant;	/* whose */
	const char	*cc_found;	/* out: the pattern it overlaps */
	int		 cc_other;	/* out: that one's tenant */
	char		 cc_copy[2 + 253 + 1];
};

/* conf_tenant_clash - stop at a pattern of another tenant that overlaps */
static int
conf_tenant_clash(void *arg, const char *pattern, int tenant)
{
	struct conf_clash	*cc = arg;

	if (tenant == cc->cc_tenant || !names_overlap(cc->cc_pattern, pattern))
		return 0;
	snprintf(cc->cc_copy, sizeof(cc->cc_copy), "%s", pattern);
	cc->cc_found = cc->cc_copy;
	cc->cc_other = tenant;
	return -1;
}

/* conf_tenant_pattern - "name" or "*.name", normalized into out; 0 or -1 */
static int
conf_tenant_pattern(const char *pattern, char *out)
{
	int	wild = strncmp(pattern, "*.", 2) == 0;
	ssize_t	len;

	len = hostname_normalize((const uint8_t *)pattern + 2 * wild,
	    strlen(pattern) - 2 * (size_t)wild, out + 2 * wild);
	if (len == -1)
		return -1;
	if (wild)
		memcpy(out, "*.", 2);
	out[2 * wild + len] = '\0';
	return 0;
}

/* conf_add_tenant_name - one name pattern for the current tenant */
static int
conf_add_tenant_name(struct conf_parse *cp, const char *pattern)
{
	struct wconf		*wc = &cp->cp_conf->cf_wconf;
	struct conf_clash	 cc;
	char			 norm[2 + HOSTNAME_MAX + 1];
	int			 other;

	/* Not "*": a tenant owns her names, not everyone's. */
	if (conf_tenant_pattern(pattern, norm) == -1)
		return conf_error(cp, cp->cp_line, "'%s' is not a host name "
		    "or *.name (a tenant cannot have *)", pattern);
	memset(&cc, 0, sizeof(cc));
	cc.cc_pattern = norm;
	cc.cc_tenant = cp->cp_tenant;
	if (names_walk(wc->wc_tenant_names, conf_tenant_clash, &cc) == -1 &&
	    cc.cc_found != NULL)
		return conf_error(cp, cp->cp_line, "name '%s' overlaps '%s' "
		    "of tenant '%s'", pattern, cc.cc_found,
		    wc->wc_tenants[cc.cc_other].wt_name);
	if (names_add(wc->wc_tenant_names, norm, cp->cp_tenant, &other) == 0)
		return 1;
	if (errno == EEXIST)
		return conf_error(cp, cp->cp_line, "name '%s' is listed twice "
		    "in tenant '%s'", pattern, wc->wc_tenants[other].wt_name);
	return conf_error(cp, cp->cp_line, "%s", strerror(errno));
}

/* conf_key_tenant_names - a tenant's `names`, on one line or several */
static int
conf_key_tenant_names(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct conf_tenant_meta	*tm = &cp->cp_tmeta[cp->cp_tenant];

	(void)k;
	if (tm->tm_names_line == 0)
		tm->tm_names_line = cp->cp_line;
	return conf_each_word(cp, value, conf_add_tenant_name);
}

/* conf_key_uid - the user whose listeners serve a tenant */
static int
conf_key_uid(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct wconf_tenant	*t;
	uid_t			 uid;

	(void)k;
	if (ids_uid(value, &uid) == -1)
		return conf_error(cp, cp->cp_line, "uid: unknown user '%s' "
		    "(want a name or a number)", value);
	t = &cp->cp_conf->cf_wconf.wc_tenants[cp->cp_tenant];
	t->wt_uid = uid;
	cp->cp_tmeta[cp->cp_tenant].tm_has_uid = 1;
	return 1;
}

/* conf_key_dir - a tenant's directory: an absolute path */
static int
conf_key_dir(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct wconf_tenant	*t;
	size_t			 len = strlen(value);

	(void)k;
	/* Room for "/x.sock" at least: each name's own check is at the end. */
	if (value[0] != '/' || len < 2 || value[len - 1] == '/' ||
	    len > WCONF_PATH_MAX - 7)
		return conf_error(cp, cp->cp_line, "dir must be an absolute "
		    "path without a trailing / of at most %zu bytes: '%s'",
		    WCONF_PATH_MAX - 7, value);
	t = &cp->cp_conf->cf_wconf.wc_tenants[cp->cp_tenant];
	strcpy(t->wt_dir, value);
	cp->cp_tmeta[cp->cp_tenant].tm_has_dir = 1;
	return 1;
}

/*
 * conf_continuation - whether the line being handled continues the
 * previous key's value: inih hands an indented line over as the same
 * key again, which is a longer list, not the key set twice.
 */
static int
conf_continuation(const struct conf_parse *cp)
{
	return cp->cp_buf != NULL && (cp->cp_buf[0] == ' ' ||
	    cp->cp_buf[0] == '\t');
}

/*
 * conf_key_names - a backend's `names`: kept until its section ends: only
 * then is it known whether the backend has `alpn`, which decides the
 * table its patterns go to, wherever in the section `alpn` is written.
 */
static int
conf_key_names(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct conf_backend_meta *bm = &cp->cp_meta[cp->cp_backend];
	struct conf_names_line	 *grown;
	size_t			  cap;

	(void)k;
	/* Doubling: a million names come in a hundred thousand lines. */
	if (bm->bm_nnames == bm->bm_names_cap) {
		cap = bm->bm_names_cap ? bm->bm_names_cap * 2 : 16;
		if ((grown = reallocarray(bm->bm_names, cap,
		    sizeof(*grown))) == NULL)
			return conf_error(cp, cp->cp_line, "%s",
			    strerror(errno));
		bm->bm_names = grown;
		bm->bm_names_cap = cap;
	}
	if ((bm->bm_names[bm->bm_nnames].nl_value = strdup(value)) == NULL)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	bm->bm_names[bm->bm_nnames++].nl_line = cp->cp_line;
	return 1;
}

/* conf_alpn_protocol - one protocol of the current backend's alpn */
static int
conf_alpn_protocol(struct conf_parse *cp, const char *protocol)
{
	struct conf_backend_meta *bm = &cp->cp_meta[cp->cp_backend];
	char			**grown;
	size_t			  i;

	if (!routes_protocol_ok(protocol))
		return conf_error(cp, cp->cp_line, "alpn protocol '%s' must be "
		    "1 to %d bytes of printable ASCII", protocol,
		    ROUTES_PROTOCOL_MAX);
	for (i = 0; i < bm->bm_nalpn; i++)
		if (strcmp(bm->bm_alpn[i], protocol) == 0)
			return conf_error(cp, cp->cp_line, "alpn protocol '%s' "
			    "is listed twice", protocol);
	grown = reallocarray(bm->bm_alpn, bm->bm_nalpn + 1, sizeof(*grown));
	if (grown == NULL)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	bm->bm_alpn = grown;
	if ((grown[bm->bm_nalpn] = strdup(protocol)) == NULL)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	bm->bm_nalpn++;
	return 1;
}

/* conf_key_alpn - the protocols this backend's names need */
static int
conf_key_alpn(struct conf_parse *cp, const struct conf_key *k,
    const char *value)
{
	struct conf_backend_meta *bm = &cp->cp_meta[cp->cp_backend];

	(void)k;
	if (bm->bm_alpn_line == 0)
		bm->bm_alpn_line = cp->cp_line;
	return conf_each_word(cp, value, conf_alpn_protocol);
}

/*
 * conf_backend_done - the end of a [backend x] section: its names go to
 * the ordinary table, or with `alpn` to each protocol's.  Errors name
 * the line of the pattern.  An alpn backend without names is refused:
 * "every name" is `names = *`, written out.
 */
static void
conf_backend_done(struct conf_parse *cp)
{
	struct conf_backend_meta *bm = &cp->cp_meta[cp->cp_backend];
	int			  line = cp->cp_line;
	size_t			  i;

	for (i = 0; i < bm->bm_nnames && cp->cp_err[0] == '\0'; i++) {
		cp->cp_line = bm->bm_names[i].nl_line;
		(void)conf_each_word(cp, bm->bm_names[i].nl_value,
		    bm->bm_nalpn > 0 ? conf_add_alpn_name : conf_add_name);
	}
	cp->cp_line = line;
	if (bm->bm_nalpn > 0 && bm->bm_nnames == 0)
		conf_error(cp, bm->bm_alpn_line, "backend '%s' has alpn but no "
		    "names (for every name: names = *)",
		    cp->cp_conf->cf_wconf.wc_backends[cp->cp_backend].wb_name);
	conf_backend_meta_clear(bm);
}

/*
 * The restart-only keys: what the master set up once, at start, from
 * them (sockets bound, the user it dropped to, a chroot capability kept,
 * a log file opened) stays as it is until a restart.  Each conf_carry_
 * function gives a reloaded cf the running value, so that what cf says
 * is what runs; 1 when the file's value differed, 0, or -1 (ENOMEM).
 */

/* conf_carry_string - *to becomes a copy of from (either may be NULL) */
static int
conf_carry_string(char **to, const char *from)
{
	char	*copy = NULL;

	if (*to == from || (*to != NULL && from != NULL &&
	    strcmp(*to, from) == 0))
		return 0;
	if (from != NULL && (copy = strdup(from)) == NULL)
		return -1;
	free(*to);
	*to = copy;
	return 1;
}

/*
 * conf_carry_listen - the listeners; a file without listen (read while
 * a service manager passes the sockets) means the ones passed, which
 * is no change
 */
static int
conf_carry_listen(struct conf *cf, const struct conf *running)
{
	struct conf_listen	*copy;
	int			 changed;

	if (conf_same_listeners(cf, running))
		return 0;
	changed = cf->cf_nlisten > 0;
	if ((copy = calloc(running->cf_nlisten, sizeof(*copy))) == NULL)
		return -1;
	memcpy(copy, running->cf_listen, running->cf_nlisten * sizeof(*copy));
	free(cf->cf_listen);
	cf->cf_listen = copy;
	cf->cf_nlisten = running->cf_nlisten;
	return changed;
}

/*
 * conf_carry_listen_http - which listeners speak HTTP goes with the
 * listeners themselves: a restart changes it
 */
static int
conf_carry_listen_http(struct conf *cf, const struct conf *running)
{
	if (wconf_same_http_listen(&cf->cf_wconf, &running->cf_wconf))
		return 0;
	if (wconf_copy_http_listen(&cf->cf_wconf, &running->cf_wconf) == -1)
		return -1;
	return 1;
}

/* conf_carry_user - the user the master dropped to */
static int
conf_carry_user(struct conf *cf, const struct conf *running)
{
	return conf_carry_string(&cf->cf_user, running->cf_user);
}

/* conf_carry_stats - the stats socket, bound at start */
static int
conf_carry_stats(struct conf *cf, const struct conf *running)
{
	int	changed;

	if ((changed = conf_carry_string(&cf->cf_stats,
	    running->cf_stats)) == 1) {
		cf->cf_stats_inet = running->cf_stats_inet;
		cf->cf_stats_addr = running->cf_stats_addr;
	}
	return changed;
}

/* conf_carry_defer_accept - TCP_DEFER_ACCEPT, set on the listeners */
static int
conf_carry_defer_accept(struct conf *cf, const struct conf *running)
{
	if (cf->cf_defer_accept_ms == running->cf_defer_accept_ms)
		return 0;
	cf->cf_defer_accept_ms = running->cf_defer_accept_ms;
	return 1;
}

/* conf_carry_access_log - where it goes; a file stays the one open */
static int
conf_carry_access_log(struct conf *cf, const struct conf *running)
{
	struct wconf	*wc = &cf->cf_wconf;
	int		 changed;

	if ((changed = conf_carry_string(&cf->cf_access_path,
	    running->cf_access_path)) == -1)
		return -1;
	if (wc->wc_access_log != running->cf_wconf.wc_access_log)
		changed = 1;
	wc->wc_access_log = running->cf_wconf.wc_access_log;
	return changed;
}

/* conf_carry_chroot - the master kept CAP_SYS_CHROOT for it, or not */
static int
conf_carry_chroot(struct conf *cf, const struct conf *running)
{
	return conf_carry_string(&cf->cf_wconf.wc_chroot,
	    running->cf_wconf.wc_chroot);
}

/*
 * The keys, one row each, as Postfix declares its parameters: the
 * section, the key, its parser, whether it may be given again, and on
 * reload either CONF_RELOADS (the new generation of workers applies it)
 * or the function that carries the running value forward because only
 * a restart can change it (conf_restart_diff).  The generic parsers
 * (conf_key_number, _duration, _duration_off) store at the target, a
 * field of struct conf, and conf_key_number checks min..max.  The
 * man page describes every row (t/man.bats checks it, and that the
 * restart-only ones say "Changing it needs a restart").
 */
#define CONF_RELOADS	NULL
#define CONF_AT(field)	offsetof(struct conf, field)

static const struct conf_key conf_keys[] = {
	/* section, key, parser, repeat, on reload, target, min, max */
	{ SECTION_SNITCH, "listen", conf_key_listen, CONF_LIST,
	    conf_carry_listen, 0, 0, 0 },
	{ SECTION_SNITCH, "listen_http", conf_key_listen_http, CONF_LIST,
	    conf_carry_listen_http, 0, 0, 0 },
	{ SECTION_SNITCH, "acme_http", conf_key_keep, CONF_ONCE,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_SNITCH, "user", conf_key_user, CONF_ONCE,
	    conf_carry_user, 0, 0, 0 },
	{ SECTION_SNITCH, "workers", conf_key_number, CONF_ONCE,
	    CONF_RELOADS, CONF_AT(cf_workers), 1, CONF_WORKERS_MAX },
	{ SECTION_SNITCH, "peek_timeout", conf_key_duration, CONF_ONCE,
	    CONF_RELOADS, CONF_AT(cf_wconf.wc_peek_timeout_ms), 0, 0 },
	{ SECTION_SNITCH, "handoff_timeout", conf_key_duration, CONF_ONCE,
	    CONF_RELOADS, CONF_AT(cf_wconf.wc_handoff_timeout_ms), 0, 0 },
	{ SECTION_SNITCH, "default", conf_key_keep, CONF_ONCE,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_SNITCH, "max_pending", conf_key_number, CONF_ONCE,
	    CONF_RELOADS, CONF_AT(cf_wconf.wc_max_pending), 1,
	    CONF_PENDING_MAX },
	{ SECTION_SNITCH, "max_pending_per_source", conf_key_number,
	    CONF_ONCE, CONF_RELOADS,
	    CONF_AT(cf_wconf.wc_max_pending_per_source), 1, CONF_PENDING_MAX },
	{ SECTION_SNITCH, "source_netblock_ipv4", conf_key_number, CONF_ONCE,
	    CONF_RELOADS, CONF_AT(cf_wconf.wc_netblock_ipv4), 1, 32 },
	{ SECTION_SNITCH, "source_netblock_ipv6", conf_key_number, CONF_ONCE,
	    CONF_RELOADS, CONF_AT(cf_wconf.wc_netblock_ipv6), 1, 128 },
	{ SECTION_SNITCH, "pressure_threshold", conf_key_number, CONF_ONCE,
	    CONF_RELOADS, CONF_AT(cf_wconf.wc_pressure_threshold), 1, 100 },
	{ SECTION_SNITCH, "pressure_peek_timeout", conf_key_duration,
	    CONF_ONCE, CONF_RELOADS, CONF_AT(cf_wconf.wc_pressure_peek_ms),
	    0, 0 },
	{ SECTION_SNITCH, "pressure_first_byte_timeout", conf_key_duration,
	    CONF_ONCE, CONF_RELOADS,
	    CONF_AT(cf_wconf.wc_pressure_first_byte_ms), 0, 0 },
	{ SECTION_SNITCH, "source_penalty", conf_key_duration_off, CONF_ONCE,
	    CONF_RELOADS, CONF_AT(cf_wconf.wc_penalty_ms), 0, 0 },
	{ SECTION_SNITCH, "source_penalty_stalls", conf_key_number, CONF_ONCE,
	    CONF_RELOADS, CONF_AT(cf_wconf.wc_penalty_stalls), 1,
	    CONF_PENDING_MAX },
	{ SECTION_SNITCH, "stats", conf_key_stats, CONF_ONCE,
	    conf_carry_stats, 0, 0, 0 },
	{ SECTION_SNITCH, "defer_accept", conf_key_duration_off, CONF_ONCE,
	    conf_carry_defer_accept, CONF_AT(cf_defer_accept_ms), 0, 0 },
	{ SECTION_SNITCH, "access_log", conf_key_access_log, CONF_ONCE,
	    conf_carry_access_log, 0, 0, 0 },
	{ SECTION_SNITCH, "log_level", conf_key_log_level, CONF_ONCE,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_SNITCH, "non_tls", conf_key_keep, CONF_ONCE,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_SNITCH, "silent", conf_key_keep, CONF_ONCE,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_SNITCH, "silent_timeout", conf_key_duration, CONF_ONCE,
	    CONF_RELOADS, CONF_AT(cf_wconf.wc_silent_timeout_ms), 0, 0 },
	{ SECTION_SNITCH, "sandbox", conf_key_sandbox, CONF_ONCE,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_SNITCH, "chroot", conf_key_chroot, CONF_ONCE,
	    conf_carry_chroot, 0, 0, 0 },
	{ SECTION_SNITCH, "proxy_protocol", conf_key_proxy_protocol,
	    CONF_LIST, CONF_RELOADS, 0, 0, 0 },
	{ SECTION_SNITCH, "proxy_from", conf_key_proxy_from, CONF_LIST,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_BACKEND, "socket", conf_key_socket, CONF_ONCE,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_BACKEND, "names", conf_key_names, CONF_LIST,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_BACKEND, "fallback", conf_key_fallback, CONF_ONCE,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_BACKEND, "owner", conf_key_owner, CONF_ONCE,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_BACKEND, "alpn", conf_key_alpn, CONF_CONTINUED,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_TENANT, "uid", conf_key_uid, CONF_ONCE,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_TENANT, "names", conf_key_tenant_names, CONF_LIST,
	    CONF_RELOADS, 0, 0, 0 },
	{ SECTION_TENANT, "dir", conf_key_dir, CONF_ONCE,
	    CONF_RELOADS, 0, 0, 0 },
};

#define CONF_NKEYS	(sizeof(conf_keys) / sizeof(conf_keys[0]))
_Static_assert(CONF_NKEYS <= CONF_KEYS_MAX, "raise CONF_KEYS_MAX");

/* conf_key_row - a row's index in conf_keys */
static size_t
conf_key_row(const struct conf_key *k)
{
	return (size_t)(k - conf_keys);
}

/* conf_key_find - the row of key in section, or -1 */
static int
conf_key_find(enum conf_section section, const char *key)
{
	size_t	i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].ck_section == section &&
		    strcmp(conf_keys[i].ck_name, key) == 0)
			return (int)i;
	return -1;
}

/* conf_key_line - the line a [snitch] key was given on; 0: it was not */
static int
conf_key_line(const struct conf_parse *cp, const char *key)
{
	return cp->cp_key_line[conf_key_find(SECTION_SNITCH, key)];
}

/* conf_key_kept - what conf_key_keep kept of a [snitch] key, or NULL */
static const char *
conf_key_kept(const struct conf_parse *cp, const char *key)
{
	return cp->cp_kept[conf_key_find(SECTION_SNITCH, key)];
}

/* conf_key_again - whether row i may be given on this line; 1, or 0 */
static int
conf_key_again(struct conf_parse *cp, size_t i)
{
	const struct conf_key	*k = &conf_keys[i];

	if (cp->cp_key_line[i] == 0) {
		cp->cp_key_line[i] = cp->cp_line;
		return 1;
	}
	if (k->ck_repeat == CONF_LIST ||
	    (k->ck_repeat == CONF_CONTINUED && conf_continuation(cp)))
		return 1;
	return conf_error(cp, cp->cp_line, "'%s' is set twice", k->ck_name);
}

/* conf_handler - inih's callback for every key = value: its row's parser */
static int
conf_handler(void *arg, const char *section, const char *key,
    const char *value)
{
	struct conf_parse	*cp = arg;
	int			 i;

	(void)section;	/* conf_reader tracks sections itself */
	if (cp->cp_err[0] != '\0')
		return 0;
	if (cp->cp_section == SECTION_NONE)
		return conf_error(cp, cp->cp_line, "'%s' is outside of any "
		    "section", key);
	if ((i = conf_key_find(cp->cp_section, key)) == -1)
		return conf_error(cp, cp->cp_line, "unknown key '%s' in [%s]",
		    key, conf_section_names[cp->cp_section]);
	if (!conf_key_again(cp, (size_t)i))
		return 0;
	return conf_keys[i].ck_parse(cp, &conf_keys[i], value);
}


/* conf_backend_name_ok - backend names: letters, digits, "_.-" */
static int
conf_backend_name_ok(const char *name)
{
	size_t	len = strlen(name);

	return len > 0 && len <= WCONF_NAME_MAX &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.-") == len;
}

/* conf_enter_backend - start a [backend NAME] section */
static int
conf_enter_backend(struct conf_parse *cp, const char *name)
{
	struct wconf			*wc = &cp->cp_conf->cf_wconf;
	struct conf_backend_meta	*meta;
	int				 i;

	if (!conf_backend_name_ok(name))
		return conf_error(cp, cp->cp_line, "bad backend name '%s'", name);
	if (wconf_backend_index(wc, name) != -1)
		return conf_error(cp, cp->cp_line, "backend '%s' is defined "
		    "twice", name);
	if ((i = wconf_add_backend(wc, name, "")) == -1 ||
	    (meta = reallocarray(cp->cp_meta, i + 1, sizeof(*meta))) == NULL)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	cp->cp_meta = meta;
	memset(&meta[i], 0, sizeof(meta[i]));
	meta[i].bm_line = cp->cp_line;
	cp->cp_nmeta = (size_t)i + 1;
	cp->cp_section = SECTION_BACKEND;
	cp->cp_backend = i;
	return 1;
}

/* conf_enter_tenant - start a [tenant NAME] section */
static int
conf_enter_tenant(struct conf_parse *cp, const char *name)
{
	struct wconf		*wc = &cp->cp_conf->cf_wconf;
	struct conf_tenant_meta	*meta;
	int			 i;

	if (!conf_backend_name_ok(name) || strlen(name) > WCONF_TENANT_NAME_MAX)
		return conf_error(cp, cp->cp_line, "bad tenant name '%s' "
		    "(letters, digits, _.-, at most %d)", name,
		    (int)WCONF_TENANT_NAME_MAX);
	if (wconf_tenant_index(wc, name) != -1)
		return conf_error(cp, cp->cp_line, "tenant '%s' is defined "
		    "twice", name);
	if ((i = wconf_add_tenant(wc, name, -1, "")) == -1 ||
	    (meta = reallocarray(cp->cp_tmeta, i + 1, sizeof(*meta))) == NULL)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	cp->cp_tmeta = meta;
	memset(&meta[i], 0, sizeof(meta[i]));
	meta[i].tm_line = cp->cp_line;
	cp->cp_section = SECTION_TENANT;
	cp->cp_tenant = i;
	return 1;
}

/* conf_key_forget - a section starts: its keys were given in no other */
static void
conf_key_forget(struct conf_parse *cp)
{
	size_t	i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].ck_section != SECTION_SNITCH)
			cp->cp_key_line[i] = 0;
}

/* conf_enter - a section header line: "[snitch]" or "[backend NAME]" */
static void
conf_enter(struct conf_parse *cp, char *line)
{
	char	*name = line + 1, *end = strchr(name, ']'), *arg;

	if (cp->cp_section == SECTION_BACKEND)
		conf_backend_done(cp);
	conf_key_forget(cp);
	cp->cp_section = SECTION_NONE;
	if (end == NULL)
		return;		/* inih reports the syntax error */
	*end = '\0';
	name += strspn(name, " \t");
	arg = name + strcspn(name, " \t");
	if (*arg != '\0')
		*arg++ = '\0';
	arg += strspn(arg, " \t");
	arg[strcspn(arg, " \t")] = '\0';
	if (strcmp(name, "snitch") == 0 && *arg == '\0') {
		if (cp->cp_seen_snitch++)
			conf_error(cp, cp->cp_line, "[snitch] appears twice");
		cp->cp_section = SECTION_SNITCH;
	} else if (strcmp(name, "backend") == 0)
		conf_enter_backend(cp, arg);
	else if (strcmp(name, "tenant") == 0)
		conf_enter_tenant(cp, arg);
	else
		conf_error(cp, cp->cp_line, "unknown section [%s%s%s] (want "
		    "[snitch], [backend NAME] or [tenant NAME])", name,
		    *arg ? " " : "", arg);
}

/* conf_reader - inih's line reader: counts lines, sees section headers */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct conf_parse	*cp = stream;
	ssize_t			 n;
	char			*line;

	if (cp->cp_err[0] != '\0' ||
	    (n = getline(&cp->cp_buf, &cp->cp_bufsize, cp->cp_file)) == -1)
		return NULL;
	cp->cp_line++;
	if (n >= num) {
		conf_error(cp, cp->cp_line, "line longer than %d characters; "
		    "continue long values on indented lines", num - 2);
		return NULL;
	}
	memcpy(str, cp->cp_buf, (size_t)n + 1);
	line = cp->cp_buf;
	/* inih skips a UTF-8 byte order mark; so must section tracking. */
	if (cp->cp_line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3;
	line += strspn(line, " \t");
	if (*line == '[')
		conf_enter(cp, line);
	return str;
}

/* conf_fallback - resolve backend i's fallback name */
static void
conf_fallback(struct conf_parse *cp, size_t i)
{
	struct wconf			*wc = &cp->cp_conf->cf_wconf;
	struct conf_backend_meta	*bm = &cp->cp_meta[i];
	int				 f;

	if (bm->bm_fallback == NULL)
		return;
	if ((f = wconf_backend_index(wc, bm->bm_fallback)) == -1)
		conf_error(cp, bm->bm_fallback_line, "fallback backend '%s' "
		    "is not defined", bm->bm_fallback);
	else if ((size_t)f == i)
		conf_error(cp, bm->bm_fallback_line, "backend '%s' cannot be "
		    "its own fallback", bm->bm_fallback);
	else
		wc->wc_backends[i].wb_fallback = f;
}

/* conf_tenant_fits - names_walk callback: a pattern's socket path fits */
static int
conf_tenant_fits(void *arg, const char *pattern, int tenant)
{
	struct conf_parse	*cp = arg;
	struct wconf		*wc = &cp->cp_conf->cf_wconf;
	const char		*dir = wc->wc_tenants[tenant].wt_dir;

	/* <dir>/<name>.sock, and <dir>/_.<suffix>.sock for "*.<suffix>" */
	if (strlen(dir) + 1 + strlen(pattern) + strlen(".sock") <=
	    WCONF_PATH_MAX)
		return 0;
	conf_error(cp, cp->cp_tmeta[tenant].tm_names_line, "tenant '%s': "
	    "the socket path for '%s' in %s would be longer than %zu bytes",
	    wc->wc_tenants[tenant].wt_name, pattern, dir, WCONF_PATH_MAX);
	return -1;
}

/* conf_finish_tenants - every tenant has uid, dir and names that fit */
static void
conf_finish_tenants(struct conf_parse *cp)
{
	struct wconf		*wc = &cp->cp_conf->cf_wconf;
	struct conf_tenant_meta	*tm;
	size_t			 i;

	for (i = 0; i < wc->wc_ntenants; i++) {
		tm = &cp->cp_tmeta[i];
		if (!tm->tm_has_uid)
			conf_error(cp, tm->tm_line, "tenant '%s' has no uid",
			    wc->wc_tenants[i].wt_name);
		else if (!tm->tm_has_dir)
			conf_error(cp, tm->tm_line, "tenant '%s' has no dir",
			    wc->wc_tenants[i].wt_name);
		else if (tm->tm_names_line == 0)
			conf_error(cp, tm->tm_line, "tenant '%s' has no names",
			    wc->wc_tenants[i].wt_name);
	}
	if (cp->cp_err[0] == '\0')
		(void)names_walk(wc->wc_tenant_names, conf_tenant_fits, cp);
}

/*
 * conf_backend_ref - resolve the backend name of default, non_tls,
 * silent, acme_http
 */
static int
conf_backend_ref(struct conf_parse *cp, const char *key)
{
	const char	*name = conf_key_kept(cp, key);
	int		 b;

	if (name == NULL)
		return -1;
	if ((b = wconf_backend_index(&cp->cp_conf->cf_wconf, name)) == -1)
		conf_error(cp, conf_key_line(cp, key), "%s backend '%s' is not "
		    "defined", key, name);
	return b;
}

/*
 * conf_finish_clients - resolve non_tls and silent; silent_timeout must
 * end before peek_timeout, or no client would ever be silent.
 * TCP_DEFER_ACCEPT holds a silent client back from accept for about a
 * second (measured: 1.03 s at defer_accept = 1s, 3.04 s at 2s), all of
 * it added to what a server-speaks-first client waits for its
 * greeting: with `silent`, defer_accept is off unless the file sets it.
 */
static void
conf_finish_clients(struct conf_parse *cp)
{
	struct conf	*cf = cp->cp_conf;
	struct wconf	*wc = &cf->cf_wconf;
	int		 silent = conf_key_line(cp, "silent");
	int		 timeout = conf_key_line(cp, "silent_timeout");

	wc->wc_non_tls = conf_backend_ref(cp, "non_tls");
	wc->wc_silent = conf_backend_ref(cp, "silent");
	wc->wc_acme_http = conf_backend_ref(cp, "acme_http");
	if (wc->wc_acme_http != -1 && wc->wc_nhttp_listen == 0)
		conf_error(cp, conf_key_line(cp, "acme_http"), "acme_http is "
		    "set but listen_http is not: only HTTP clients ask for "
		    "http-01 challenges");
	if (silent == 0 && timeout > 0)
		conf_error(cp, timeout, "silent_timeout is set but silent is "
		    "not");
	if (silent > 0 && wc->wc_silent_timeout_ms >= wc->wc_peek_timeout_ms)
		conf_error(cp, timeout > 0 ? timeout : silent, "silent_timeout "
		    "(%ums) must be shorter than peek_timeout (%ums)",
		    wc->wc_silent_timeout_ms, wc->wc_peek_timeout_ms);
	if (silent > 0 && conf_key_line(cp, "defer_accept") == 0)
		cf->cf_defer_accept_ms = 0;
}

/*
 * conf_chroot_dir - one directory on the chroot's path is fit; 1 or 0.
 * lstat: a symbolic link would be judged by its target, whose own
 * parents are never looked at; so a link anywhere on the path is refused.
 */
static int
conf_chroot_dir(struct conf_parse *cp, const char *path)
{
	struct stat	 st;
	char		 real[PATH_MAX];
	const char	*dir = cp->cp_conf->cf_wconf.wc_chroot;
	int		 line = conf_key_line(cp, "chroot");

	if (lstat(path, &st) == -1)
		return conf_error(cp, line, "chroot %s: %s", path,
		    strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		if (realpath(dir, real) == NULL)
			real[0] = '\0';
		return conf_error(cp, line, "chroot %s is a symbolic link: "
		    "give the path without links%s%s%s, so that every "
		    "directory on it is checked", path, real[0] ? " (" : "",
		    real, real[0] ? ")" : "");
	}
	if (!S_ISDIR(st.st_mode))
		return conf_error(cp, line, "chroot %s is not a "
		    "directory", path);
	if (st.st_uid != 0)
		return conf_error(cp, line, "chroot %s is owned "
		    "by uid %ld, not root", path, (long)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return conf_error(cp, line, "chroot %s is "
		    "writable by its group or others (mode %04o): only root "
		    "may write there", path, (unsigned)(st.st_mode & 07777));
	return 1;
}

/*
 * conf_chroot_check - the chroot directory and every directory above it
 * exist, are owned by root and writable by nobody else, as sshd wants
 * its ChrootDirectory: whoever could write on that path could swap in a
 * tree of their own, with sockets of their own for the workers to use.
 */
static void
conf_chroot_check(struct conf_parse *cp)
{
	const char	*dir = cp->cp_conf->cf_wconf.wc_chroot;
	char		 path[PATH_MAX];
	size_t		 len, i, n;

	if (dir == NULL)
		return;
	len = strlen(dir);
	/* "/", then the path up to each "/", then all of it */
	for (i = 0; i <= len; i++) {
		if (i > 0 && ((dir[i] != '/' && dir[i] != '\0') ||
		    dir[i - 1] == '/'))
			continue;
		n = i == 0 ? 1 : i;
		memcpy(path, dir, n);
		path[n] = '\0';
		if (!conf_chroot_dir(cp, path))
			return;
	}
}

/*
 * conf_finish_proxy - proxy_protocol names listeners of `listen` (unless
 * the service manager passes the sockets: the workers then match it
 * against theirs), and comes with proxy_from, and the other way round
 */
static void
conf_finish_proxy(struct conf_parse *cp)
{
	struct conf			*cf = cp->cp_conf;
	struct wconf			*wc = &cf->cf_wconf;
	const struct sockaddr_storage	*ss;
	int				 line = conf_key_line(cp, "proxy_protocol");
	int				 from = conf_key_line(cp, "proxy_from");
	char				 text[INET6_ADDRSTRLEN];
	size_t				 i;

	if (line == 0 && from > 0)
		conf_error(cp, from, "proxy_from is set but proxy_protocol is "
		    "not");
	if (line > 0 && from == 0)
		conf_error(cp, line, "proxy_protocol needs proxy_from: the "
		    "peers (load balancers) allowed to send a PROXY header");
	for (i = 0; i < wc->wc_nproxy_listen && cf->cf_nlisten > 0; i++) {
		ss = &wc->wc_proxy_listen[i];
		if (conf_listens_on(cf, ss))
			continue;
		if (ss->ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->
			    sin_addr, text, sizeof(text));
		else
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->
			    sin6_addr, text, sizeof(text));
		conf_error(cp, line, "proxy_protocol address %s port %u is not "
		    "one of listen's or listen_http's", text, ntohs(ss->ss_family == AF_INET ?
		    ((const struct sockaddr_in *)ss)->sin_port :
		    ((const struct sockaddr_in6 *)ss)->sin6_port));
		return;
	}
}

/* conf_finish - checks that need the whole file */
static void
conf_finish(struct conf_parse *cp)
{
	struct conf	*cf = cp->cp_conf;
	struct wconf	*wc = &cf->cf_wconf;
	size_t		 i;

	for (i = 0; i < wc->wc_nbackends; i++) {
		if (!cp->cp_meta[i].bm_has_socket)
			conf_error(cp, cp->cp_meta[i].bm_line, "backend '%s' "
			    "has no socket", wc->wc_backends[i].wb_name);
		conf_fallback(cp, i);
	}
	conf_finish_tenants(cp);
	wc->wc_default = conf_backend_ref(cp, "default");
	conf_finish_clients(cp);
	conf_finish_proxy(cp);
	if (cf->cf_nlisten == 0 && !(cp->cp_flags & CONF_LISTEN_PASSED))
		conf_error(cp, 0, "no listen address in [snitch] (needed "
		    "unless systemd passes the listening sockets)");
	if (wc->wc_nbackends == 0 && wc->wc_ntenants == 0)
		conf_error(cp, 0, "no [backend NAME] section");
	conf_chroot_check(cp);
	if (cf->cf_workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cf->cf_workers = n < 1 ? 1 : n > CONF_WORKERS_MAX ?
		    CONF_WORKERS_MAX : (int)n;
	}
}

/* conf_load - parse and check path; NULL with the reason in err */
struct conf *
conf_load(const char *path, char *err, size_t errlen)
{
	return conf_load_with(path, 0, err, errlen);
}

/*
 * conf_load_with - conf_load, with flags: CONF_LISTEN_PASSED lets
 * `listen` be absent (the sockets come from a service manager).
 */
struct conf *
conf_load_with(const char *path, int flags, char *err, size_t errlen)
{
	struct conf_parse	 cp;
	struct conf		*cf;
	size_t			 i;
	int			 line;

	memset(&cp, 0, sizeof(cp));
	cp.cp_err_line = INT_MAX;
	cp.cp_flags = flags;
	if ((cf = calloc(1, sizeof(*cf))) == NULL ||
	    (cf->cf_file = strdup(path)) == NULL ||
	    wconf_init(&cf->cf_wconf) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		conf_free(cf);
		return NULL;
	}
	cf->cf_defer_accept_ms = CONF_DEFER_ACCEPT_MS;
	cp.cp_conf = cf;
	if ((cp.cp_file = fopen(path, "re")) == NULL)
		conf_error(&cp, 0, "%s", strerror(errno));
	else {
		line = ini_parse_stream(conf_reader, &cp, conf_handler, &cp);
		if (line > 0 && line < cp.cp_err_line) {
			cp.cp_err[0] = '\0';
			conf_error(&cp, line, "syntax error (want key = value "
			    "or [section])");
		} else if (line < 0 && cp.cp_err[0] == '\0')
			conf_error(&cp, 0, "cannot parse: %s", strerror(ENOMEM));
		fclose(cp.cp_file);
	}
	if (cp.cp_err[0] == '\0' && cp.cp_section == SECTION_BACKEND)
		conf_backend_done(&cp);
	if (cp.cp_err[0] == '\0')
		conf_finish(&cp);
	free(cp.cp_buf);
	for (i = 0; i < cp.cp_nmeta; i++) {
		free(cp.cp_meta[i].bm_fallback);
		conf_backend_meta_clear(&cp.cp_meta[i]);
	}
	free(cp.cp_meta);
	free(cp.cp_tmeta);
	for (i = 0; i < CONF_KEYS_MAX; i++)
		free(cp.cp_kept[i]);
	if (cp.cp_err[0] != '\0') {
		snprintf(err, errlen, "%s", cp.cp_err);
		conf_free(cf);
		return NULL;
	}
	return cf;
}

/* conf_free - release a configuration */
void
conf_free(struct conf *cf)
{
	if (cf == NULL)
		return;
	wconf_clear(&cf->cf_wconf);
	free(cf->cf_listen);
	free(cf->cf_user);
	free(cf->cf_stats);
	free(cf->cf_access_path);
	free(cf->cf_file);
	free(cf);
}

/* conf_same_listeners - whether both configs listen on the same set */
int
conf_same_listeners(const struct conf *a, const struct conf *b)
{
	size_t	i, j;

	if (a->cf_nlisten != b->cf_nlisten)
		return 0;
	for (i = 0; i < a->cf_nlisten; i++) {
		for (j = 0; j < b->cf_nlisten; j++)
			if (a->cf_listen[i].cl_len == b->cf_listen[j].cl_len &&
			    memcmp(&a->cf_listen[i].cl_addr,
			    &b->cf_listen[j].cl_addr, a->cf_listen[i].cl_len) == 0)
				break;
		if (j == b->cf_nlisten)
			return 0;
	}
	return 1;
}

/*
 * conf_restart_diff - a reload read cf while running runs: give cf the
 * running value of every key only a restart can change, so that cf says
 * what runs, and name in changed (at most max) the keys whose value in
 * the file differs.  Called at every reload, it says so every time the
 * file still differs.  The count of such keys, or -1 (ENOMEM: cf is
 * then partly carried; free it).
 */
int
conf_restart_diff(const struct conf *running, struct conf *cf,
    const char **changed, size_t max)
{
	size_t	i;
	int	n = 0, r;

	for (i = 0; i < CONF_NKEYS; i++) {
		if (conf_keys[i].ck_restart == CONF_RELOADS)
			continue;
		if ((r = conf_keys[i].ck_restart(cf, running)) == -1)
			return -1;
		if (r == 1 && (size_t)n < max)
			changed[n] = conf_keys[i].ck_name;
		n += r;
	}
	return n;
}
