/*
 * conf_test.c - snitch.ini parsing: every refusal names its file and
 * line; a valid file gives the routes and settings it says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fake_ids.h"
#include "log.h"
#include "tap.h"

#define HEAD	"[snitch]\nlisten = 127.0.0.1:8443\n"
#define BACKEND	"[backend a]\nsocket = /run/a.sock\nnames = a.test\n"
#define TENANT(name, names) "[tenant " name "]\nuid = 0\nnames = " names \
	"\ndir = /run/t/" name "\n"
#define LONG_DIR "/run/tenants/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaa"

struct conf_row {
	const char	*label;
	const char	*text;
	int		 line;		/* of the error; 0: file-level; -1: valid */
	const char	*reason;	/* expected in the message */
};

static const struct conf_row conf_rows[] = {
	{ "minimal valid", HEAD BACKEND, -1, NULL },
	{ "byte order mark", "\xEF\xBB\xBF" HEAD BACKEND, -1, NULL },
	{ "comment on a continuation line", HEAD BACKEND "  b.test ; more\n",
	    -1, NULL },
	{ "unknown key", HEAD "bogus = 1\n" BACKEND, 3, "unknown key 'bogus'" },
	{ "unknown [snitch] key with a duration's value", HEAD "bogus = 5\n"
	    BACKEND, 3, "unknown key 'bogus' in [snitch]" },
	{ "unknown backend key", HEAD BACKEND "sockets = /x\n", 6,
	    "unknown key 'sockets'" },
	{ "unknown section", HEAD BACKEND "[frontend x]\n", 6,
	    "unknown section [frontend x]" },
	{ "key before any section", "listen = 127.0.0.1:1\n" HEAD BACKEND, 1,
	    "outside of any section" },
	{ "bad address", "[snitch]\nlisten = 999.1.1.1:80\n" BACKEND, 2,
	    "bad listen address '999.1.1.1:80'" },
	{ "address without port", "[snitch]\nlisten = 127.0.0.1\n" BACKEND, 2,
	    "bad listen address" },
	{ "port out of range", "[snitch]\nlisten = 127.0.0.1:99999\n" BACKEND,
	    2, "bad listen address" },
	{ "v6 without brackets", "[snitch]\nlisten = ::1:443\n" BACKEND, 2,
	    "bad listen address" },
	{ "duplicate listen", "[snitch]\nlisten = 127.0.0.1:1 127.0.0.1:1\n"
	    BACKEND, 2, "given twice" },
	{ "bad duration unit", HEAD "peek_timeout = 10 fortnights\n" BACKEND,
	    3, "bad duration '10 fortnights'" },
	{ "negative duration", HEAD "peek_timeout = -1s\n" BACKEND, 3,
	    "bad duration" },
	{ "zero duration", HEAD "handoff_timeout = 0\n" BACKEND, 3,
	    "bad duration" },
	{ "defer_accept neither off nor a duration", HEAD
	    "defer_accept = no\n" BACKEND, 3, "defer_accept: bad duration" },
	{ "max_pending_per_source zero", HEAD "max_pending_per_source = 0\n"
	    BACKEND, 3, "max_pending_per_source must be a number from 1" },
	{ "IPv4 netblock over 32 bits", HEAD "source_netblock_ipv4 = 33\n"
	    BACKEND, 3, "source_netblock_ipv4 must be a number from 1 to 32" },
	{ "IPv6 netblock over 128 bits", HEAD "source_netblock_ipv6 = 129\n"
	    BACKEND, 3, "source_netblock_ipv6 must be a number from 1 to 128" },
	{ "pressure over 100%", HEAD "pressure_threshold = 101\n" BACKEND, 3,
	    "pressure_threshold must be a number from 1 to 100" },
	{ "pressure timeout zero", HEAD "pressure_peek_timeout = 0\n" BACKEND,
	    3, "pressure_peek_timeout: bad duration" },
	{ "pressure first byte timeout bad", HEAD
	    "pressure_first_byte_timeout = soon\n" BACKEND, 3,
	    "pressure_first_byte_timeout: bad duration" },
	{ "workers zero", HEAD "workers = 0\n" BACKEND, 3, "workers must be" },
	{ "workers not a number", HEAD "workers = two\n" BACKEND, 3,
	    "workers must be" },
	{ "scalar set twice", HEAD "workers = 1\nworkers = 2\n" BACKEND, 4,
	    "'workers' is set twice" },
	{ "backend without socket", HEAD "[backend a]\nnames = a.test\n", 3,
	    "backend 'a' has no socket" },
	{ "empty backend section", HEAD BACKEND "\n[backend b]\n", 7,
	    "backend 'b' has no socket" },
	{ "relative socket", HEAD "[backend a]\nsocket = a.sock\n", 4,
	    "absolute path" },
	{ "unknown default", HEAD "default = nosuch\n" BACKEND, 3,
	    "default backend 'nosuch' is not defined" },
	{ "name in two backends", HEAD BACKEND "[backend b]\nsocket = /b\n"
	    "names = x.test A.TEST\n", 8, "'A.TEST' is already claimed by "
	    "backend 'a'" },
	{ "name twice in one backend", HEAD "[backend a]\nsocket = /a\n"
	    "names = a.test\n  a.test\n", 6, "listed twice" },
	{ "not a host name", HEAD "[backend a]\nsocket = /a\nnames = "
	    "bad_name!.com\n", 5, "'bad_name!.com' is not a host name" },
	{ "ip literal as name", HEAD "[backend a]\nsocket = /a\nnames = "
	    "10.0.0.1\n", 5, "not a host name" },
	{ "backend defined twice", HEAD BACKEND "[backend a]\n", 6,
	    "defined twice" },
	{ "bad backend name", HEAD "[backend a/b]\nsocket = /a\n", 3,
	    "bad backend name" },
	{ "syntax error", HEAD "just words\n" BACKEND, 3, "syntax error" },
	{ "fallback to nothing", HEAD BACKEND "fallback = nosuch\n", 6,
	    "fallback backend 'nosuch' is not defined" },
	{ "fallback to itself", HEAD BACKEND "fallback = a\n", 6,
	    "cannot be its own fallback" },
	{ "fallback twice", HEAD BACKEND "[backend b]\nsocket = /b\n"
	    "fallback = a\nfallback = a\n", 9, "'fallback' is set twice" },
	{ "relative stats", HEAD "stats = stats.sock\n" BACKEND, 3,
	    "stats must be an absolute path" },
	{ "stats on a Unix socket", HEAD "stats = /run/snitch/stats.sock\n"
	    BACKEND, -1, NULL },
	{ "stats on IPv4 loopback", HEAD "stats = 127.0.0.1:9443\n" BACKEND,
	    -1, NULL },
	{ "stats on IPv6 loopback", HEAD "stats = [::1]:9443\n" BACKEND, -1,
	    NULL },
	{ "stats address without port", HEAD "stats = 127.0.0.1\n" BACKEND,
	    3, "stats must be an absolute path" },
	{ "stats port zero", HEAD "stats = 127.0.0.1:0\n" BACKEND, 3,
	    "stats must be" },
	{ "stats port out of range", HEAD "stats = [::1]:65536\n" BACKEND, 3,
	    "stats must be" },
	{ "stats v6 without brackets", HEAD "stats = ::1:9443\n" BACKEND, 3,
	    "stats must be" },
	{ "stats host name", HEAD "stats = localhost:9443\n" BACKEND, 3,
	    "stats must be" },
	{ "stats set twice", HEAD "stats = 127.0.0.1:9443\n"
	    "stats = /run/s.sock\n" BACKEND, 4, "'stats' is set twice" },
	{ "relative access_log", HEAD "access_log = access.log\n" BACKEND, 3,
	    "access_log must be off, syslog, stderr or the absolute path of "
	    "a file, not 'access.log'" },
	{ "access_log a directory", HEAD "access_log = /var/log/\n" BACKEND, 3,
	    "access_log must be" },
	{ "access_log empty", HEAD "access_log =\n" BACKEND, 3,
	    "access_log must be" },
	{ "access_log upper case", HEAD "access_log = OFF\n" BACKEND, 3,
	    "access_log must be" },
	{ "access_log twice", HEAD "access_log = off\naccess_log = stderr\n"
	    BACKEND, 4, "'access_log' is set twice" },
	{ "access_log off", HEAD "access_log = off\n" BACKEND, -1, NULL },
	{ "access_log syslog", HEAD "access_log = syslog\n" BACKEND, -1, NULL },
	{ "access_log stderr", HEAD "access_log = stderr\n" BACKEND, -1, NULL },
	{ "unknown log_level", HEAD "log_level = verbose\n" BACKEND, 3,
	    "log_level must be error, warning, info or debug, not 'verbose'" },
	{ "log_level by number", HEAD "log_level = 7\n" BACKEND, 3,
	    "log_level must be" },
	{ "log_level warn", HEAD "log_level = warn\n" BACKEND, 3,
	    "log_level must be" },
	{ "log_level twice", HEAD "log_level = info\nlog_level = debug\n"
	    BACKEND, 4, "'log_level' is set twice" },
	{ "log_level error", HEAD "log_level = error\n" BACKEND, -1, NULL },
	{ "log_level debug", HEAD "log_level = debug\n" BACKEND, -1, NULL },
	{ "alpn backend, alpn after names", HEAD BACKEND "[backend b]\n"
	    "socket = /b\nnames = a.test\nalpn = acme-tls/1\n", -1, NULL },
	{ "alpn backend, alpn first, continued", HEAD BACKEND "[backend b]\n"
	    "socket = /b\nalpn = acme-tls/1\n  x-other\nnames = *\n", -1,
	    NULL },
	{ "alpn set twice", HEAD "[backend b]\nsocket = /b\nnames = *\n"
	    "alpn = h2\nalpn = h3\n", 7, "'alpn' is set twice" },
	{ "alpn protocol with a control byte", HEAD "[backend b]\nsocket = /b\n"
	    "names = *\nalpn = h\x01\n", 6, "alpn protocol 'h\x01' must be 1 "
	    "to 255 bytes of printable ASCII" },
	{ "alpn protocol in UTF-8", HEAD "[backend b]\nsocket = /b\n"
	    "names = *\nalpn = caf\xc3\xa9\n", 6, "must be 1 to 255 bytes" },
	{ "alpn protocol listed twice", HEAD "[backend b]\nsocket = /b\n"
	    "names = *\nalpn = h2\n  http/1.1 h2\n", 7,
	    "alpn protocol 'h2' is listed twice" },
	{ "alpn empty", HEAD "[backend b]\nsocket = /b\nnames = *\nalpn =\n",
	    6, "empty value" },
	{ "alpn without names", HEAD BACKEND "[backend b]\nsocket = /b\n"
	    "alpn = acme-tls/1\n", 8, "backend 'b' has alpn but no names" },
	{ "alpn without names, at the end of a section", HEAD "[backend b]\n"
	    "alpn = acme-tls/1\nsocket = /b\n" BACKEND, 4,
	    "backend 'b' has alpn but no names" },
	{ "two alpn backends claim a pair", HEAD BACKEND "[backend b]\n"
	    "socket = /b\nalpn = h2 acme-tls/1\nnames = a.test\n"
	    "[backend c]\nnames = x.test\n  A.test.\nsocket = /c\n"
	    "alpn = acme-tls/1\n", 12, "name 'A.test.' with alpn 'acme-tls/1' "
	    "is already claimed by backend 'b'" },
	{ "two alpn backends, other protocols", HEAD BACKEND "[backend b]\n"
	    "socket = /b\nalpn = h2\nnames = a.test *\n[backend c]\n"
	    "names = a.test *\nsocket = /c\nalpn = acme-tls/1\n", -1, NULL },
	{ "name twice in an alpn backend", HEAD "[backend b]\nsocket = /b\n"
	    "alpn = h2\nnames = a.test\n  a.test\n", 7,
	    "name 'a.test' is listed twice in backend 'b'" },
	{ "not a host name in an alpn backend", HEAD "[backend b]\n"
	    "socket = /b\nalpn = h2\nnames = a.test bad_name!\n", 6,
	    "'bad_name!' is not a host name" },
	{ "non_tls to a backend", HEAD "non_tls = a\n" BACKEND, -1, NULL },
	{ "unknown non_tls", HEAD "non_tls = ssh\n" BACKEND, 3,
	    "non_tls backend 'ssh' is not defined" },
	{ "non_tls twice", HEAD "non_tls = a\nnon_tls = a\n" BACKEND, 4,
	    "'non_tls' is set twice" },
	{ "silent to a backend", HEAD "silent = a\n" BACKEND, -1, NULL },
	{ "unknown silent", HEAD "silent = smtp\n" BACKEND, 3,
	    "silent backend 'smtp' is not defined" },
	{ "silent twice", HEAD "silent = a\nsilent = a\n" BACKEND, 4,
	    "'silent' is set twice" },
	{ "silent_timeout with silent", HEAD "silent = a\n"
	    "silent_timeout = 500ms\n" BACKEND, -1, NULL },
	{ "silent_timeout without silent", HEAD "silent_timeout = 1s\n"
	    BACKEND, 3, "silent_timeout is set but silent is not" },
	{ "silent_timeout not a duration", HEAD "silent = a\n"
	    "silent_timeout = soon\n" BACKEND, 4,
	    "silent_timeout: bad duration 'soon'" },
	{ "silent_timeout as long as peek_timeout", HEAD "silent = a\n"
	    "silent_timeout = 3s\npeek_timeout = 3s\n" BACKEND, 4,
	    "silent_timeout (3000ms) must be shorter than peek_timeout "
	    "(3000ms)" },
	{ "default silent_timeout over peek_timeout", HEAD
	    "peek_timeout = 1s\nsilent = a\n" BACKEND, 4,
	    "silent_timeout (2000ms) must be shorter than peek_timeout" },
	{ "sandbox on", HEAD "sandbox = on\n" BACKEND, -1, NULL },
	{ "sandbox off", HEAD "sandbox = off\n" BACKEND, -1, NULL },
	{ "sandbox yes", HEAD "sandbox = yes\n" BACKEND, 3,
	    "sandbox must be on or off, not 'yes'" },
	{ "sandbox empty", HEAD "sandbox =\n" BACKEND, 3,
	    "sandbox must be on or off" },
	{ "sandbox twice", HEAD "sandbox = on\nsandbox = off\n" BACKEND, 4,
	    "'sandbox' is set twice" },
	{ "chroot /", HEAD "chroot = /\n" BACKEND, -1, NULL },
	{ "chroot relative", HEAD "chroot = var/empty\n" BACKEND, 3,
	    "chroot must be the absolute path of a directory, not "
	    "'var/empty'" },
	{ "chroot empty", HEAD "chroot =\n" BACKEND, 3,
	    "chroot must be the absolute path" },
	{ "chroot missing", HEAD "chroot = /nonexistent-snitch-chroot/x\n"
	    BACKEND, 3, "chroot /nonexistent-snitch-chroot: No such file or "
	    "directory" },
	{ "chroot not a directory", HEAD "chroot = /dev/null\n" BACKEND, 3,
	    "chroot /dev/null is not a directory" },
	{ "chroot writable by others", HEAD "chroot = /tmp\n" BACKEND, 3,
	    "chroot /tmp is writable by its group or others (mode 1777)" },
	{ "chroot under a directory writable by others", HEAD
	    "chroot = /tmp/../tmp/x\n" BACKEND, 3, "chroot /tmp is writable" },
	{ "chroot twice", HEAD "chroot = /\nchroot = /\n" BACKEND, 4,
	    "'chroot' is set twice" },
	{ "no listen", "[snitch]\nworkers = 1\n" BACKEND, 0,
	    "no listen address" },
	{ "no backend", HEAD, 0, "no [backend NAME] section" },
	{ "overlong line", HEAD "[backend a]\nsocket = /a\nnames = "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test "
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.test "
	    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.test "
	    "dddddddddd.test\n", 5, "line longer than" },
	{ "owner by name and group", HEAD BACKEND "owner = root:root\n", -1,
	    NULL },
	{ "owner by numbers", HEAD BACKEND "owner = 1000:1000\n", -1, NULL },
	{ "owner user only", HEAD BACKEND "owner = 0\n", -1, NULL },
	{ "owner unknown user", HEAD BACKEND "owner = no-such-user-x\n", 6,
	    "owner: unknown user 'no-such-user-x'" },
	{ "owner unknown group", HEAD BACKEND "owner = root:no-such-group-x\n",
	    6, "owner: unknown group 'no-such-group-x'" },
	{ "owner empty group", HEAD BACKEND "owner = root:\n", 6,
	    "owner: unknown group ''" },
	{ "owner uid -1", HEAD BACKEND "owner = 4294967295\n", 6,
	    "owner: unknown user '4294967295'" },
	{ "owner twice", HEAD BACKEND "owner = 0\nowner = 0\n", 7,
	    "'owner' is set twice" },
	{ "owner named with a leading digit", HEAD BACKEND
	    "owner = 7eleven:7eleven\n", -1, NULL },
	{ "tenant uid named with a leading digit", HEAD BACKEND
	    "[tenant a]\nuid = 7eleven\nnames = a.test\ndir = /run/t/a\n",
	    -1, NULL },
	{ "tenant", HEAD BACKEND TENANT("alice", "*.alice.test alice.test"),
	    -1, NULL },
	{ "tenant without any backend", HEAD TENANT("alice", "alice.test"),
	    -1, NULL },
	{ "tenant name also a backend's", HEAD BACKEND TENANT("alice",
	    "a.test *.a.test"), -1, NULL },
	{ "two tenants, a bare domain and a wildcard", HEAD BACKEND
	    TENANT("alice", "*.alice.test") TENANT("bob", "alice.test"), -1,
	    NULL },
	{ "tenant unknown uid", HEAD BACKEND "[tenant a]\nuid = no-such-user-x\n",
	    7, "uid: unknown user 'no-such-user-x'" },
	{ "tenant uid twice", HEAD BACKEND "[tenant a]\nuid = 0\nuid = 0\n", 8,
	    "'uid' is set twice" },
	{ "tenant without uid", HEAD BACKEND "[tenant a]\nnames = a.x\n"
	    "dir = /t\n", 6, "tenant 'a' has no uid" },
	{ "tenant without dir", HEAD BACKEND "[tenant a]\nnames = a.x\n"
	    "uid = 0\n", 6, "tenant 'a' has no dir" },
	{ "tenant without names", HEAD BACKEND "[tenant a]\nuid = 0\n"
	    "dir = /t\n", 6, "tenant 'a' has no names" },
	{ "tenant with *", HEAD BACKEND TENANT("a", "*"), 8,
	    "'*' is not a host name or *.name (a tenant cannot have *)" },
	{ "tenant bad pattern", HEAD BACKEND TENANT("a", "a_b.test"), 8,
	    "'a_b.test' is not a host name" },
	{ "tenant name twice", HEAD BACKEND TENANT("a", "x.test X.test."), 8,
	    "name 'X.test.' is listed twice in tenant 'a'" },
	{ "tenants with one name", HEAD BACKEND TENANT("alice", "x.test")
	    TENANT("bob", "x.test"), 12,
	    "name 'x.test' overlaps 'x.test' of tenant 'alice'" },
	{ "tenant wildcard under another's", HEAD BACKEND TENANT("alice",
	    "*.alice.test") TENANT("bob", "*.x.alice.test"), 12,
	    "name '*.x.alice.test' overlaps '*.alice.test' of tenant 'alice'" },
	{ "tenant wildcard over another's", HEAD BACKEND TENANT("alice",
	    "*.x.alice.test") TENANT("bob", "*.alice.test"), 12,
	    "overlaps '*.x.alice.test' of tenant 'alice'" },
	{ "tenant name under another's wildcard", HEAD BACKEND TENANT("alice",
	    "*.alice.test") TENANT("bob", "www.alice.test"), 12,
	    "name 'www.alice.test' overlaps '*.alice.test'" },
	{ "tenant wildcard over another's name", HEAD BACKEND TENANT("alice",
	    "www.alice.test") TENANT("bob", "*.alice.test"), 12,
	    "name '*.alice.test' overlaps 'www.alice.test'" },
	{ "tenant dir relative", HEAD BACKEND "[tenant a]\ndir = run/a\n", 7,
	    "dir must be an absolute path" },
	{ "tenant dir trailing slash", HEAD BACKEND "[tenant a]\ndir = /run/\n",
	    7, "dir must be an absolute path without a trailing /" },
	{ "tenant dir too long", HEAD BACKEND "[tenant a]\ndir = " LONG_DIR
	    "aaaaaaaaaaaaaaaaaaaaaaaa\n", 7, "dir must be an absolute path" },
	{ "tenant dir twice", HEAD BACKEND "[tenant a]\ndir = /a\ndir = /b\n", 8,
	    "'dir' is set twice" },
	{ "tenant socket path too long", HEAD BACKEND "[tenant a]\nuid = 0\n"
	    "dir = " LONG_DIR "\nnames = short.test\n  "
	    "a-rather-long-name.test\n", 9, "tenant 'a': the socket path for "
	    "'a-rather-long-name.test'" },
	{ "tenant unknown key", HEAD BACKEND "[tenant a]\nsocket = /a\n", 7,
	    "unknown key 'socket' in [tenant]" },
	{ "tenant defined twice", HEAD BACKEND TENANT("a", "a.x")
	    "[tenant a]\n", 10, "tenant 'a' is defined twice" },
	{ "bad tenant name", HEAD BACKEND "[tenant a/b]\n", 6,
	    "bad tenant name 'a/b'" },
	{ "tenant name too long", HEAD BACKEND "[tenant "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n", 6,
	    "bad tenant name" },

};

/* conf_file - write text to a temporary file; its path */
static char *
conf_file(const char *text)
{
	static char	path[64];
	int		fd;

	strcpy(path, "/tmp/snitch-conf-test.XXXXXX");
	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

static void
test_rows(void)
{
	char		 err[CONF_ERR_MAX], want[CONF_ERR_MAX];
	struct conf	*cf;
	size_t		 i;

	for (i = 0; i < sizeof(conf_rows) / sizeof(conf_rows[0]); i++) {
		const struct conf_row *r = &conf_rows[i];
		char *path = conf_file(r->text);

		err[0] = '\0';
		cf = conf_load(path, err, sizeof(err));
		if (r->line == -1)
			TAP_OK(cf != NULL, "%s: accepted (%s)", r->label, err);
		else {
			if (r->line > 0)
				snprintf(want, sizeof(want), "%s:%d: ", path,
				    r->line);
			else
				snprintf(want, sizeof(want), "%s: ", path);
			TAP_OK(cf == NULL && strncmp(err, want, strlen(want)) == 0
			    && strstr(err, r->reason) != NULL,
			    "%s: refused with '%s%s' (got '%s')", r->label,
			    want, r->reason, err);
		}
		conf_free(cf);
		unlink(path);
	}
}

static void
test_values(void)
{
	char		 err[CONF_ERR_MAX];
	char		*path = conf_file("[snitch]\n"
	    "listen = 127.0.0.1:8443 [::1]:8443   ; two\n"
	    "user = nobody\nworkers = 3\npeek_timeout = 500ms\n"
	    "handoff_timeout = 2\nmax_pending = 99\ndefault = web\n"
	    "defer_accept = 1500ms\n"
	    "max_pending_per_source = 7\nsource_netblock_ipv4 = 24\n"
	    "source_netblock_ipv6 = 48\npressure_threshold = 80\n"
	    "pressure_peek_timeout = 700ms\n"
	    "pressure_first_byte_timeout = 300ms\n"
	    "access_log = /var/log/snitch/access.log\nlog_level = warning\n"
	    "[backend web]\nsocket = /run/web.sock\n"
	    "names = example.org *.example.org\n  also.example\n"
	    "fallback = any\n"
	    "[backend any]\nsocket = /run/any.sock\nnames = *\n");
	struct conf	*cf = conf_load(path, err, sizeof(err));
	struct wconf	*wc;

	TAP_OK(cf != NULL, "full example loads (%s)", cf ? "" : err);
	if (cf == NULL)
		return;
	wc = &cf->cf_wconf;
	TAP_OK(cf->cf_nlisten == 2 && strcmp(cf->cf_listen[1].cl_text,
	    "[::1]:8443") == 0 && cf->cf_listen[1].cl_addr.ss_family == AF_INET6,
	    "two listeners, the second IPv6");
	TAP_OK(cf->cf_user && strcmp(cf->cf_user, "nobody") == 0, "user");
	TAP_OK(cf->cf_workers == 3, "workers");
	TAP_OK(wc->wc_peek_timeout_ms == 500, "peek_timeout 500ms");
	TAP_OK(wc->wc_handoff_timeout_ms == 2000, "bare seconds");
	TAP_OK(wc->wc_max_pending == 99, "max_pending");
	TAP_OK(wc->wc_max_pending_per_source == 7 &&
	    wc->wc_netblock_ipv4 == 24 && wc->wc_netblock_ipv6 == 48,
	    "max_pending_per_source, netblocks");
	TAP_OK(wc->wc_pressure_threshold == 80 &&
	    wc->wc_pressure_peek_ms == 700 &&
	    wc->wc_pressure_first_byte_ms == 300, "pressure");
	TAP_OK(cf->cf_defer_accept_ms == 1500, "defer_accept");
	TAP_OK(wc->wc_default == 0, "default is backend 0");
	TAP_OK(wc->wc_access_log == LOG_ACCESS_FILE && cf->cf_access_path &&
	    strcmp(cf->cf_access_path, "/var/log/snitch/access.log") == 0,
	    "access_log file");
	TAP_OK(wc->wc_log_level == LOG_LEVEL_WARNING, "log_level warning");
	TAP_OK(names_lookup(wc->wc_names, "also.example", 12) == 0,
	    "names continue on indented lines");
	TAP_OK(names_lookup(wc->wc_names, "x.example.org", 13) == 0 &&
	    names_lookup(wc->wc_names, "other.net", 9) == 1, "routes");
	TAP_OK(wc->wc_backends[0].wb_fallback == 1 &&
	    wc->wc_backends[1].wb_fallback == -1, "fallback resolved");
	conf_free(cf);
	unlink(path);
}

/* test_alpn - ALPN routes load into their tables, names where they were */
static void
test_alpn(void)
{
	char		 err[CONF_ERR_MAX];
	char		*path = conf_file(HEAD "default = web\n"
	    "[backend acme]\nnames = www.example.org *\nsocket = /acme\n"
	    "alpn = acme-tls/1\n"
	    "[backend web]\nsocket = /web\nnames = www.example.org\n");
	struct conf	*cf = conf_load(path, err, sizeof(err));
	struct wconf	*wc;
	int		 protocol = -1;

	TAP_OK(cf != NULL, "alpn example loads (%s)", cf ? "" : err);
	if (cf == NULL)
		return;
	wc = &cf->cf_wconf;
	TAP_OK(routes_count(wc->wc_routes) == 2 && names_count(wc->wc_names) == 1,
	    "2 ALPN routes, 1 name");
	TAP_OK(routes_lookup(wc->wc_names, wc->wc_routes, wc->wc_default,
	    "www.example.org", 15, (const uint8_t *)"\x0a" "acme-tls/1", 11,
	    &protocol) == 0 && strcmp(routes_protocol(wc->wc_routes, protocol),
	    "acme-tls/1") == 0, "acme-tls/1 -> acme");
	TAP_OK(routes_lookup(wc->wc_names, wc->wc_routes, wc->wc_default,
	    "www.example.org", 15, (const uint8_t *)"\x02" "h2", 3,
	    &protocol) == 1 && protocol == -1, "h2 -> web");
	conf_free(cf);
	unlink(path);
	path = conf_file(HEAD BACKEND);
	cf = conf_load(path, err, sizeof(err));
	TAP_OK(cf != NULL && cf->cf_wconf.wc_routes == NULL,
	    "no alpn key: no ALPN tables at all");
	conf_free(cf);
	unlink(path);
}

/* test_alpn_limit - the protocol past ROUTES_PROTOCOLS_MAX is refused */
static void
test_alpn_limit(void)
{
	char		 err[CONF_ERR_MAX], text[4096], want[CONF_ERR_MAX];
	char		*path;
	struct conf	*cf;
	size_t		 len;
	int		 i, line;

	len = (size_t)snprintf(text, sizeof(text), HEAD BACKEND);
	for (i = 0; i < ROUTES_PROTOCOLS_MAX + 1; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "[backend p%d]\nsocket = /p\nnames = *\nalpn = p%d\n", i, i);
	path = conf_file(text);
	cf = conf_load(path, err, sizeof(err));
	/* HEAD and BACKEND are 5 lines; alpn is each section's 4th. */
	line = 5 + ROUTES_PROTOCOLS_MAX * 4 + 4;
	snprintf(want, sizeof(want), "%s:%d: more than %d different alpn "
	    "protocols", path, line, ROUTES_PROTOCOLS_MAX);
	TAP_OK(cf == NULL && strcmp(err, want) == 0, "refused: '%s' (got '%s')",
	    want, err);
	conf_free(cf);
	unlink(path);
}

/*
 * test_clients - non_tls and silent resolve to their backends; without
 * them, nobody; with silent, defer_accept is off unless it is set
 */
static void
test_clients(void)
{
	static const struct {
		const char	*text;
		int		 non_tls, silent;
		unsigned	 silent_ms, defer_ms;
	} rows[] = {
		{ HEAD BACKEND, -1, -1, 2000, CONF_DEFER_ACCEPT_MS },
		{ HEAD "non_tls = b\n" BACKEND "[backend b]\nsocket = /b\n",
		    1, -1, 2000, CONF_DEFER_ACCEPT_MS },
		{ HEAD "silent = a\nsilent_timeout = 750ms\n" BACKEND, -1, 0,
		    750, 0 },
		{ HEAD "silent = a\ndefer_accept = 2s\nnon_tls = a\n"
		    BACKEND, 0, 0, 2000, 2000 },
	};
	char		 err[CONF_ERR_MAX];
	struct conf	*cf;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *path = conf_file(rows[i].text);

		cf = conf_load(path, err, sizeof(err));
		TAP_OK(cf != NULL && cf->cf_wconf.wc_non_tls == rows[i].non_tls &&
		    cf->cf_wconf.wc_silent == rows[i].silent &&
		    cf->cf_wconf.wc_silent_timeout_ms == rows[i].silent_ms &&
		    cf->cf_defer_accept_ms == rows[i].defer_ms,
		    "clients row %zu: non_tls %d, silent %d after %u ms, "
		    "defer_accept %u ms (%s)", i, rows[i].non_tls,
		    rows[i].silent, rows[i].silent_ms, rows[i].defer_ms,
		    cf ? "" : err);
		conf_free(cf);
		unlink(path);
	}
}

/* test_stats - which form of stats a file gives */
static void
test_stats(void)
{
	static const struct {
		const char	*value;
		int		 inet;
		int		 family;
	} rows[] = {
		{ "/run/snitch/stats.sock", 0, 0 },
		{ "127.0.0.1:9443", 1, AF_INET },
		{ "[::1]:9443", 1, AF_INET6 },
	};
	char		 err[CONF_ERR_MAX], text[256];
	struct conf	*cf;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *path;

		snprintf(text, sizeof(text), HEAD "stats = %s\n" BACKEND,
		    rows[i].value);
		path = conf_file(text);
		cf = conf_load(path, err, sizeof(err));
		TAP_OK(cf != NULL && strcmp(cf->cf_stats, rows[i].value) == 0 &&
		    cf->cf_stats_inet == rows[i].inet && (!rows[i].inet ||
		    (cf->cf_stats_addr.cl_addr.ss_family == rows[i].family &&
		    strcmp(cf->cf_stats_addr.cl_text, rows[i].value) == 0)),
		    "stats = %s: %s", rows[i].value,
		    rows[i].inet ? "a TCP address" : "a Unix socket path");
		conf_free(cf);
		unlink(path);
	}
}

/* test_log_defaults - without the keys: the error log's way, info */
static void
test_log_defaults(void)
{
	char		 err[CONF_ERR_MAX];
	char		*path = conf_file(HEAD BACKEND);
	struct conf	*cf = conf_load(path, err, sizeof(err));

	TAP_OK(cf != NULL && cf->cf_wconf.wc_access_log == LOG_ACCESS_DEFAULT &&
	    cf->cf_access_path == NULL, "access_log defaults to the error log's");
	TAP_OK(cf != NULL && cf->cf_wconf.wc_log_level == LOG_LEVEL_INFO,
	    "log_level defaults to info");
	conf_free(cf);
	unlink(path);
}

static void
test_durations(void)
{
	unsigned	ms;

	TAP_OK(conf_parse_duration("10s", &ms) == 0 && ms == 10000, "10s");
	TAP_OK(conf_parse_duration("250ms", &ms) == 0 && ms == 250, "250ms");
	TAP_OK(conf_parse_duration("2m", &ms) == 0 && ms == 120000, "2m");
	TAP_OK(conf_parse_duration("7", &ms) == 0 && ms == 7000, "bare seconds");
	TAP_OK(conf_parse_duration("61m", &ms) == -1, "over an hour");
	TAP_OK(conf_parse_duration("s", &ms) == -1, "unit alone");
	TAP_OK(conf_parse_duration(" 1s", &ms) == -1, "leading space");
	TAP_OK(conf_parse_duration("99999999999999999999s", &ms) == -1,
	    "overflow");
}

/* test_passed - without listen, only when the sockets are passed */
static void
test_passed(void)
{
	char		 err[CONF_ERR_MAX];
	char		*path = conf_file("[snitch]\nworkers = 1\n" BACKEND);
	struct conf	*cf;

	cf = conf_load_with(path, CONF_LISTEN_PASSED, err, sizeof(err));
	TAP_OK(cf != NULL && cf->cf_nlisten == 0,
	    "no listen, sockets passed: accepted, no address (%s)",
	    cf ? "" : err);
	conf_free(cf);
	cf = conf_load_with(path, 0, err, sizeof(err));
	TAP_OK(cf == NULL && strstr(err, "no listen address") != NULL,
	    "no listen, nothing passed: refused (%s)", err);
	conf_free(cf);
	unlink(path);
	path = conf_file(HEAD BACKEND);
	cf = conf_load_with(path, CONF_LISTEN_PASSED, err, sizeof(err));
	TAP_OK(cf != NULL && cf->cf_nlisten == 1,
	    "listen, sockets passed: the address kept");
	conf_free(cf);
	unlink(path);
}

/*
 * test_chroot_owner - a chroot directory not owned by root is refused:
 * one made under /run and given to nobody (as root), or the home
 * directory (otherwise), when its own path is fit
 */
static void
test_chroot_owner(void)
{
	char		 err[CONF_ERR_MAX], text[512], dir[64] = "";
	const char	*home = getenv("HOME");
	struct conf	*cf;
	char		*path;

	if (geteuid() == 0) {
		strcpy(dir, "/run/snitch-conf-test.XXXXXX");
		if (mkdtemp(dir) == NULL || chown(dir, 65534, 65534) == -1) {
			printf("ok %d # skip no directory to give away in /run\n",
			    ++tap_n);
			if (dir[0] != '\0')
				rmdir(dir);
			return;
		}
		home = dir;
	} else if (home == NULL || home[0] != '/' || strlen(home) > 256) {
		printf("ok %d # skip no home directory\n", ++tap_n);
		return;
	}
	snprintf(text, sizeof(text), HEAD "chroot = %s\n" BACKEND, home);
	path = conf_file(text);
	cf = conf_load(path, err, sizeof(err));
	if (cf == NULL && geteuid() != 0 && strstr(err, "not root") == NULL)
		printf("ok %d # skip home %s is refused otherwise: %s\n", ++tap_n,
		    home, err);
	else
		TAP_OK(cf == NULL && strstr(err, ":3: chroot ") != NULL &&
		    strstr(err, " is owned by uid ") != NULL &&
		    strstr(err, ", not root") != NULL,
		    "chroot owned by another user: refused (%s)", err);
	conf_free(cf);
	unlink(path);
	if (dir[0] != '\0')
		rmdir(dir);
}

/* test_sandbox_values - the defaults, and what the keys set */
static void
test_sandbox_values(void)
{
	char		 err[CONF_ERR_MAX];
	char		*path = conf_file(HEAD BACKEND);
	struct conf	*cf = conf_load(path, err, sizeof(err));

	TAP_OK(cf != NULL && cf->cf_wconf.wc_sandbox == 1 &&
	    cf->cf_wconf.wc_chroot == NULL, "sandbox on, no chroot by default");
	conf_free(cf);
	unlink(path);
	path = conf_file(HEAD "sandbox = off\nchroot = /\n" BACKEND);
	cf = conf_load(path, err, sizeof(err));
	TAP_OK(cf != NULL && cf->cf_wconf.wc_sandbox == 0 &&
	    cf->cf_wconf.wc_chroot != NULL &&
	    strcmp(cf->cf_wconf.wc_chroot, "/") == 0,
	    "sandbox = off and chroot = / are kept");
	conf_free(cf);
	unlink(path);
}

/*
 * test_ids - owner and a tenant's uid read users and groups as chown(1)
 * does, and as libsnitch reads SNITCH_PEER_UID: a name (fake_ids.h's
 * "4242" is uid 4343), else a number
 */
static void
test_ids(void)
{
	static const struct {
		const char	*text;
		int64_t		 uid, gid;
	} rows[] = {
		{ "owner = 4242:4242\n", 4343, 4343 },
		{ "owner = 7eleven\n", 7007, -1 },
		{ "owner = 1000:5\n", 1000, 5 },
		{ "owner = nobody:0\n", 65534, 0 },
	};
	char		 err[CONF_ERR_MAX], text[512];
	char		*path;
	struct conf	*cf;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(text, sizeof(text), HEAD BACKEND "%s", rows[i].text);
		path = conf_file(text);
		cf = conf_load(path, err, sizeof(err));
		TAP_OK(cf != NULL &&
		    cf->cf_wconf.wc_backends[0].wb_owner_uid == rows[i].uid &&
		    cf->cf_wconf.wc_backends[0].wb_owner_gid == rows[i].gid,
		    "%.*s: uid %lld, gid %lld (%s)",
		    (int)strcspn(rows[i].text, "\n"), rows[i].text,
		    (long long)rows[i].uid, (long long)rows[i].gid,
		    cf ? "" : err);
		conf_free(cf);
		unlink(path);
	}
	path = conf_file(HEAD "[tenant t]\nuid = 4242\nnames = t.test\n"
	    "dir = /run/t\n");
	cf = conf_load(path, err, sizeof(err));
	TAP_OK(cf != NULL && cf->cf_wconf.wc_tenants[0].wt_uid == 4343,
	    "[tenant] uid = 4242: the user named so, uid 4343 (%s)",
	    cf ? "" : err);
	conf_free(cf);
	unlink(path);
}

/* conf_text_load - load text as a file (flags: conf_load_with's) */
static struct conf *
conf_text_load(const char *text, int flags)
{
	char		 err[CONF_ERR_MAX];
	char		*path = conf_file(text);
	struct conf	*cf = conf_load_with(path, flags, err, sizeof(err));

	if (cf == NULL)
		printf("# %s\n", err);
	unlink(path);
	return cf;
}

/* conf_same_text - two optional strings are equal */
static int
conf_same_text(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* conf_runs_as - cf now holds running's value of every restart-only key */
static int
conf_runs_as(const struct conf *cf, const struct conf *running)
{
	const struct wconf	*wc = &cf->cf_wconf, *rc = &running->cf_wconf;

	return conf_same_listeners(cf, running) &&
	    conf_same_text(cf->cf_user, running->cf_user) &&
	    conf_same_text(cf->cf_stats, running->cf_stats) &&
	    cf->cf_stats_inet == running->cf_stats_inet &&
	    cf->cf_defer_accept_ms == running->cf_defer_accept_ms &&
	    wc->wc_access_log == rc->wc_access_log &&
	    conf_same_text(cf->cf_access_path, running->cf_access_path) &&
	    conf_same_text(wc->wc_chroot, rc->wc_chroot);
}

/* conf_diff_names - conf_restart_diff, its names joined by spaces */
static int
conf_diff_names(const struct conf *running, struct conf *cf, char *out,
    size_t size)
{
	const char	*changed[CONF_KEYS_MAX];
	int		 n, i;
	size_t		 len = 0;

	out[0] = '\0';
	if ((n = conf_restart_diff(running, cf, changed, CONF_KEYS_MAX)) == -1)
		return -1;
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s",
		    i ? " " : "", changed[i]);
	return n;
}

#define LISTEN2	"[snitch]\nlisten = 127.0.0.1:8444\n"

/*
 * test_restart_diff - a reload of a file that changes restart-only keys
 * is told which, every time, and the new conf keeps the running values;
 * keys a reload applies are neither named nor carried
 */
static void
test_restart_diff(void)
{
	static const struct {
		const char	*label;
		const char	*running, *file;
		int		 flags;		/* of the reload */
		const char	*changed;
	} rows[] = {
		{ "nothing changed", HEAD BACKEND, HEAD BACKEND, 0, "" },
		{ "reloadable keys changed", HEAD "workers = 1\nsandbox = on\n"
		    BACKEND, HEAD "workers = 2\nsandbox = off\nlog_level = "
		    "debug\n" BACKEND "owner = 0\n", 0, "" },
		{ "listen changed", HEAD BACKEND, LISTEN2 BACKEND, 0,
		    "listen" },
		{ "listen added to", HEAD BACKEND, HEAD "listen = [::1]:8443\n"
		    BACKEND, 0, "listen" },
		{ "listen left out, sockets passed", HEAD BACKEND,
		    "[snitch]\nworkers = 2\n" BACKEND, CONF_LISTEN_PASSED, "" },
		{ "user changed", HEAD "user = nobody\n" BACKEND,
		    HEAD "user = daemon\n" BACKEND, 0, "user" },
		{ "user added", HEAD BACKEND, HEAD "user = nobody\n" BACKEND, 0,
		    "user" },
		{ "defer_accept changed", HEAD BACKEND, HEAD
		    "defer_accept = 3s\n" BACKEND, 0, "defer_accept" },
		{ "defer_accept off by silent", HEAD BACKEND, HEAD
		    "silent = a\n" BACKEND, 0, "defer_accept" },
		{ "stats changed", HEAD "stats = /run/s.sock\n" BACKEND, HEAD
		    "stats = 127.0.0.1:9443\n" BACKEND, 0, "stats" },
		{ "stats removed", HEAD "stats = /run/s.sock\n" BACKEND,
		    HEAD BACKEND, 0, "stats" },
		{ "access_log changed", HEAD "access_log = /var/log/a.log\n"
		    BACKEND, HEAD "access_log = off\n" BACKEND, 0, "access_log" },
		{ "chroot added", HEAD BACKEND, HEAD "chroot = /\n" BACKEND, 0,
		    "chroot" },
		{ "all at once, in the table's order", HEAD BACKEND, LISTEN2
		    "chroot = /\nstats = /s\ndefer_accept = off\nuser = x\n"
		    "access_log = stderr\n" BACKEND, 0, "listen user stats "
		    "defer_accept access_log chroot" },
	};
	char		 names[256], again[256];
	struct conf	*running, *cf;
	size_t		 i;
	int		 n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		running = conf_text_load(rows[i].running, 0);
		cf = conf_text_load(rows[i].file, rows[i].flags);
		if (running == NULL || cf == NULL) {
			TAP_OK(0, "restart diff, %s: both files load",
			    rows[i].label);
			conf_free(running);
			conf_free(cf);
			continue;
		}
		n = conf_diff_names(running, cf, names, sizeof(names));
		TAP_OK(n >= 0 && strcmp(names, rows[i].changed) == 0,
		    "restart diff, %s: '%s' (got '%s')", rows[i].label,
		    rows[i].changed, names);
		TAP_OK(conf_runs_as(cf, running), "restart diff, %s: the new "
		    "conf carries the running values", rows[i].label);
		/* the next reload of the same file says it again */
		conf_free(running);
		running = cf;
		cf = conf_text_load(rows[i].file, rows[i].flags);
		n = cf ? conf_diff_names(running, cf, again, sizeof(again)) : -1;
		TAP_OK(n >= 0 && strcmp(again, names) == 0 &&
		    conf_runs_as(cf, running), "restart diff, %s: a second "
		    "reload says '%s' again (got '%s')", rows[i].label, names,
		    again);
		conf_free(running);
		conf_free(cf);
	}
	running = conf_text_load(HEAD "workers = 1\n" BACKEND, 0);
	cf = conf_text_load(HEAD "workers = 2\nsandbox = off\n" BACKEND, 0);
	TAP_OK(running != NULL && cf != NULL &&
	    conf_restart_diff(running, cf, NULL, 0) == 0 &&
	    cf->cf_workers == 2 && cf->cf_wconf.wc_sandbox == 0,
	    "restart diff: what a reload applies stays the file's");
	conf_free(running);
	conf_free(cf);
}

int
main(void)
{
	test_rows();
	test_passed();
	test_values();
	test_alpn();
	test_alpn_limit();
	test_stats();
	test_clients();
	test_log_defaults();
	test_durations();
	test_sandbox_values();
	test_chroot_owner();
	test_restart_diff();
	test_ids();
	return TAP_DONE();
}
