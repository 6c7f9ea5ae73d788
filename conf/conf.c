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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "conf.h"
#include "log.h"

#define CONF_WORKERS_MAX	256
#define CONF_PENDING_MAX	1000000
#define CONF_DURATION_MAX	3600000		/* one hour, in ms */

enum conf_section { SECTION_NONE, SECTION_SNITCH, SECTION_BACKEND };

struct conf_backend_meta {
	int	 bm_line;	/* of its [backend x] header */
	int	 bm_has_socket;
	char	*bm_fallback;	/* resolved when the whole file is read */
	int	 bm_fallback_line;
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
	unsigned		 cp_set;	/* [snitch] scalars set */
	char			*cp_default;
	int			 cp_default_line;
	int			 cp_flags;	/* CONF_* of conf_load_with */
	int			 cp_chroot_line;
	int			 cp_err_line;	/* INT_MAX: no error yet */
	char			 cp_err[CONF_ERR_MAX];
};

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

/* conf_number - an integer key in [min, max] */
static int
conf_number(struct conf_parse *cp, const char *key, const char *value,
    long min, long max, long *out)
{
	char	*end;

	errno = 0;
	*out = strtol(value, &end, 10);
	if (*value == '\0' || *end != '\0' || errno || *out < min || *out > max)
		return conf_error(cp, cp->cp_line, "%s must be a number from "
		    "%ld to %ld, not '%s'", key, min, max, value);
	return 1;
}

/* conf_duration - a duration key */
static int
conf_duration(struct conf_parse *cp, const char *key, const char *value,
    unsigned *ms)
{
	if (conf_parse_duration(value, ms) == -1)
		return conf_error(cp, cp->cp_line, "%s: bad duration '%s' "
		    "(want e.g. 10s, 500ms, 2m; at most 1 hour)", key, value);
	return 1;
}

/* conf_access_log - off, syslog, stderr or the absolute path of a file */
static int
conf_access_log(struct conf_parse *cp, const char *value)
{
	struct conf	*cf = cp->cp_conf;
	struct wconf	*wc = &cf->cf_wconf;

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

static const char *const conf_snitch_keys[] = {
	"listen", "user", "workers", "peek_timeout", "handoff_timeout",
	"default", "max_pending", "stats", "defer_accept", "access_log",
	"log_level", "sandbox", "chroot", NULL
};

/* conf_sandbox_key - sandbox = on|off, chroot = DIR (checked at the end) */
static int
conf_sandbox_key(struct conf_parse *cp, const char *key, const char *value)
{
	struct wconf	*wc = &cp->cp_conf->cf_wconf;

	if (strcmp(key, "sandbox") == 0) {
		if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
			return conf_error(cp, cp->cp_line, "sandbox must be on "
			    "or off, not '%s'", value);
		wc->wc_sandbox = strcmp(value, "on") == 0;
		return 1;
	}
	if (value[0] != '/' || strlen(value) >= PATH_MAX)
		return conf_error(cp, cp->cp_line, "chroot must be the "
		    "absolute path of a directory, not '%s'", value);
	if (wconf_set_chroot(wc, value) == -1)
		return conf_error(cp, cp->cp_line, "%s", strerror(errno));
	cp->cp_chroot_line = cp->cp_line;
	return 1;
}

/* conf_snitch_key - one key of [snitch] */
static int
conf_snitch_key(struct conf_parse *cp, const char *key, const char *value)
{
	struct conf	*cf = cp->cp_conf;
	struct wconf	*wc = &cf->cf_wconf;
	unsigned	 bit;
	long		 n;

	for (bit = 0; conf_snitch_keys[bit] != NULL; bit++)
		if (strcmp(key, conf_snitch_keys[bit]) == 0)
			break;
	if (conf_snitch_keys[bit] == NULL)
		return conf_error(cp, cp->cp_line, "unknown key '%s' in "
		    "[snitch]", key);
	if (bit == 0)
		return conf_each_word(cp, value, conf_add_listen);
	if (cp->cp_set & (1u << bit))
		return conf_error(cp, cp->cp_line, "'%s' is set twice", key);
	cp->cp_set |= 1u << bit;
	if (strcmp(key, "user") == 0) {
		if (*value == '\0' || (cf->cf_user = strdup(value)) == NULL)
			return conf_error(cp, cp->cp_line, "bad user '%s'", value);
		return 1;
	}
	if (strcmp(key, "stats") == 0) {
		if (value[0] != '/' &&
		    conf_parse_addr(value, &cf->cf_stats_addr) == 0)
			cf->cf_stats_inet = 1;
		else if (value[0] != '/' || strlen(value) > WCONF_PATH_MAX)
			return conf_error(cp, cp->cp_line, "stats must be an "
			    "absolute path of at most %zu bytes, 1.2.3.4:port "
			    "or [::1]:port: '%s'", WCONF_PATH_MAX, value);
		if ((cf->cf_stats = strdup(value)) == NULL)
			return conf_error(cp, cp->cp_line, "%s", strerror(errno));
		return 1;
	}
	if (strcmp(key, "access_log") == 0)
		return conf_access_log(cp, value);
	if (strcmp(key, "sandbox") == 0 || strcmp(key, "chroot") == 0)
		return conf_sandbox_key(cp, key, value);
	if (strcmp(key, "log_level") == 0) {
		if ((wc->wc_log_level = log_level_parse(value)) == -1)
			return conf_error(cp, cp->cp_line, "log_level must be "
			    "error, warning, info or debug, not '%s'", value);
		return 1;
	}
	if (strcmp(key, "workers") == 0) {
		if (!conf_number(cp, key, value, 1, CONF_WORKERS_MAX, &n))
			return 0;
		cf->cf_workers = (int)n;
		return 1;
	}
	if (strcmp(key, "max_pending") == 0) {
		if (!conf_number(cp, key, value, 1, CONF_PENDING_MAX, &n))
			return 0;
		wc->wc_max_pending = (unsigned)n;
		return 1;
	}
	if (strcmp(key, "default") == 0) {
		if ((cp->cp_default = strdup(value)) == NULL)
			return conf_error(cp, cp->cp_line, "%s", strerror(errno));
		cp->cp_default_line = cp->cp_line;
		return 1;
	}
	if (strcmp(key, "defer_accept") == 0) {
		if (strcmp(value, "off") == 0) {
			cf->cf_defer_accept_ms = 0;
			return 1;
		}
		return conf_duration(cp, key, value, &cf->cf_defer_accept_ms);
	}
	if (strcmp(key, "peek_timeout") == 0)
		return conf_duration(cp, key, value, &wc->wc_peek_timeout_ms);
	return conf_duration(cp, key, value, &wc->wc_handoff_timeout_ms);
}

/* conf_backend_key - one key of a [backend x] section */
static int
conf_backend_key(struct conf_parse *cp, const char *key, const char *value)
{
	struct conf_backend_meta *bm = &cp->cp_meta[cp->cp_backend];
	struct wconf_backend	 *b;

	if (strcmp(key, "names") == 0)
		return conf_each_word(cp, value, conf_add_name);
	if (strcmp(key, "fallback") == 0) {
		if (bm->bm_fallback != NULL)
			return conf_error(cp, cp->cp_line, "'fallback' is set "
			    "twice");
		if ((bm->bm_fallback = strdup(value)) == NULL)
			return conf_error(cp, cp->cp_line, "%s", strerror(errno));
		bm->bm_fallback_line = cp->cp_line;
		return 1;
	}
	if (strcmp(key, "socket") != 0)
		return conf_error(cp, cp->cp_line, "unknown key '%s' in "
		    "[backend]", key);
	if (bm->bm_has_socket)
		return conf_error(cp, cp->cp_line, "'socket' is set twice");
	if (value[0] != '/' || strlen(value) > WCONF_PATH_MAX)
		return conf_error(cp, cp->cp_line, "socket must be an absolute "
		    "path of at most %zu bytes: '%s'", WCONF_PATH_MAX, value);
	b = &cp->cp_conf->cf_wconf.wc_backends[cp->cp_backend];
	strcpy(b->wb_socket, value);
	bm->bm_has_socket = 1;
	return 1;
}

/* conf_handler - inih's callback for every key = value */
static int
conf_handler(void *arg, const char *section, const char *key,
    const char *value)
{
	struct conf_parse	*cp = arg;

	(void)section;	/* conf_reader tracks sections itself */
	if (cp->cp_err[0] != '\0')
		return 0;
	switch (cp->cp_section) {
	case SECTION_SNITCH:
		return conf_snitch_key(cp, key, value);
	case SECTION_BACKEND:
		return conf_backend_key(cp, key, value);
	default:
		return conf_error(cp, cp->cp_line, "'%s' is outside of any "
		    "section", key);
	}
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

/* conf_enter - a section header line: "[snitch]" or "[backend NAME]" */
static void
conf_enter(struct conf_parse *cp, char *line)
{
	char	*name = line + 1, *end = strchr(name, ']'), *arg;

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
	else
		conf_error(cp, cp->cp_line, "unknown section [%s%s%s] (want "
		    "[snitch] or [backend NAME])", name, *arg ? " " : "", arg);
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

/* conf_chroot_dir - one directory on the chroot's path is fit; 1 or 0 */
static int
conf_chroot_dir(struct conf_parse *cp, const char *path)
{
	struct stat	st;

	if (stat(path, &st) == -1)
		return conf_error(cp, cp->cp_chroot_line, "chroot %s: %s", path,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return conf_error(cp, cp->cp_chroot_line, "chroot %s is not a "
		    "directory", path);
	if (st.st_uid != 0)
		return conf_error(cp, cp->cp_chroot_line, "chroot %s is owned "
		    "by uid %ld, not root", path, (long)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return conf_error(cp, cp->cp_chroot_line, "chroot %s is "
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
	if (cp->cp_default != NULL &&
	    (wc->wc_default = wconf_backend_index(wc, cp->cp_default)) == -1)
		conf_error(cp, cp->cp_default_line, "default backend '%s' is "
		    "not defined", cp->cp_default);
	if (cf->cf_nlisten == 0 && !(cp->cp_flags & CONF_LISTEN_PASSED))
		conf_error(cp, 0, "no listen address in [snitch] (needed "
		    "unless systemd passes the listening sockets)");
	if (wc->wc_nbackends == 0)
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
	if (cp.cp_err[0] == '\0')
		conf_finish(&cp);
	free(cp.cp_buf);
	for (i = 0; i < cp.cp_nmeta; i++)
		free(cp.cp_meta[i].bm_fallback);
	free(cp.cp_meta);
	free(cp.cp_default);
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
