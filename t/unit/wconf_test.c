/*
 * wconf_test.c - the worker configuration survives encode and decode,
 * and a damaged blob is refused rather than half-read; the control
 * socket's message carries a descriptor, and nothing else is taken.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "blob.h"
#include "tap.h"
#include "wconf.h"

/* blob - encode wc into memory; its length in *len */
static uint8_t *
blob(const struct wconf *wc, size_t *len)
{
	int	fd = blob_memfd();

	if (wconf_encode(wc, fd) == -1)
		abort();
	return blob_take(fd, len);
}

/* send_raw - a message of len bytes with fds (n of them) on sock */
static void
send_raw(int sock, const char *bytes, size_t len, const int *fds, size_t n)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	}		 cm;
	struct iovec	 iov = { (void *)bytes, len };
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (n > 0) {
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, n * sizeof(int));
	}
	if (sendmsg(sock, &msg, 0) != (ssize_t)len)
		abort();
}

/* open_fds - how many descriptors this process has open */
static int
open_fds(void)
{
	int	fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) != -1;
	return n;
}

/* test_ctl - the control socket: a descriptor comes through, junk not */
static void
test_ctl(void)
{
	int	sv[2], fd = -1, pipefd[2], two[2], before;
	char	byte;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1 ||
	    pipe(pipefd) == -1)
		abort();
	before = open_fds();
	TAP_OK(wconf_ctl_recv(sv[1], &fd) == -1 && errno == EAGAIN,
	    "nothing sent: EAGAIN");
	TAP_OK(wconf_ctl_send(sv[0], pipefd[1]) == 0, "a descriptor is sent");
	TAP_OK(wconf_ctl_recv(sv[1], &fd) == 1 && fd != pipefd[1] &&
	    write(fd, "x", 1) == 1 && read(pipefd[0], &byte, 1) == 1 &&
	    byte == 'x', "it arrives, a working copy");
	TAP_OK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "close-on-exec");
	close(fd);

	send_raw(sv[0], "A", 1, NULL, 0);
	TAP_OK(wconf_ctl_recv(sv[1], &fd) == -1 && errno == EBADMSG,
	    "the byte without a descriptor: refused");
	send_raw(sv[0], "Z", 1, &pipefd[1], 1);
	TAP_OK(wconf_ctl_recv(sv[1], &fd) == -1 && errno == EBADMSG,
	    "another byte with a descriptor: refused");
	two[0] = pipefd[0];
	two[1] = pipefd[1];
	send_raw(sv[0], "A", 1, two, 2);
	TAP_OK(wconf_ctl_recv(sv[1], &fd) == -1 && errno == EBADMSG,
	    "two descriptors (truncated): refused");
	send_raw(sv[0], "AA", 2, &pipefd[1], 1);
	TAP_OK(wconf_ctl_recv(sv[1], &fd) == -1 && errno == EBADMSG,
	    "a longer message: refused");
	TAP_OK(open_fds() == before, "no descriptor left from refused "
	    "messages (%d, was %d)", open_fds(), before);
	close(sv[0]);
	TAP_OK(wconf_ctl_recv(sv[1], &fd) == 0, "the master gone: 0");
	close(sv[1]);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* test_sandbox - sandbox and chroot survive; bad values are refused */
static void
test_sandbox(void)
{
	static const char	bad_sandbox[] = "snitch-wconf-1\0sandbox\0"
	    "2\0end";
	struct wconf		in, out;
	uint8_t			*b;
	size_t			 len;

	wconf_init(&in);
	wconf_add_backend(&in, "web", "/run/web.sock");
	b = blob(&in, &len);
	TAP_OK(wconf_decode(b, len, &out) == 0 && out.wc_sandbox == 1 &&
	    out.wc_chroot == NULL, "sandbox on and no chroot survive");
	wconf_clear(&out);
	free(b);
	in.wc_sandbox = 0;
	TAP_OK(wconf_set_chroot(&in, "/srv/snitch") == 0, "chroot set");
	b = blob(&in, &len);
	TAP_OK(wconf_decode(b, len, &out) == 0 && out.wc_sandbox == 0 &&
	    out.wc_chroot != NULL && strcmp(out.wc_chroot, "/srv/snitch") == 0,
	    "sandbox off and the chroot directory survive");
	wconf_clear(&out);
	free(b);
	wconf_set_chroot(&in, "srv/snitch");
	b = blob(&in, &len);
	TAP_OK(wconf_decode(b, len, &out) == -1 && errno == EBADMSG,
	    "a relative chroot is refused");
	free(b);
	wconf_clear(&in);
	TAP_OK(wconf_decode((const uint8_t *)bad_sandbox, sizeof(bad_sandbox),
	    &out) == -1 && errno == EBADMSG, "sandbox 2 is refused");
}

int
main(void)
{
	struct wconf	 in, out;
	uint8_t		*b;
	size_t		 len, cut, refused = 0;
	int		 protocol = -1;

	wconf_init(&in);
	in.wc_peek_timeout_ms = 1234;
	in.wc_handoff_timeout_ms = 567;
	in.wc_max_pending = 89;
	in.wc_max_pending_per_source = 9;
	in.wc_netblock_ipv4 = 20;
	in.wc_netblock_ipv6 = 56;
	in.wc_pressure_threshold = 70;
	in.wc_pressure_peek_ms = 800;
	in.wc_pressure_first_byte_ms = 400;
	in.wc_log_level = LOG_LEVEL_DEBUG;
	in.wc_access_log = LOG_ACCESS_FILE;
	wconf_add_backend(&in, "web", "/run/web.sock");
	wconf_add_backend(&in, "mail", "/run/mail sock with spaces");
	in.wc_default = 1;
	in.wc_backends[0].wb_fallback = 1;
	in.wc_non_tls = 1;
	in.wc_silent = 0;
	in.wc_silent_timeout_ms = 750;
	names_add(in.wc_names, "example.org", 0, NULL);
	names_add(in.wc_names, "*.example.org", 1, NULL);
	names_add(in.wc_names, "*", 0, NULL);
	in.wc_backends[1].wb_owner_uid = 1001;
	in.wc_backends[1].wb_owner_gid = 1002;
	wconf_add_tenant(&in, "alice", 2001, "/run/t/alice");
	wconf_add_tenant(&in, "bob", 2002, "/run/t/bob dir");
	names_add(in.wc_tenant_names, "*.alice.test", 0, NULL);
	names_add(in.wc_tenant_names, "bob.test", 1, NULL);
	b = blob(&in, &len);
	TAP_OK(wconf_decode(b, len, &out) == 0 && out.wc_routes == NULL,
	    "no ALPN route: none decoded, no tables");
	wconf_clear(&out);
	free(b);
	wconf_add_alpn_route(&in, "acme-tls/1", "example.org", 1, NULL);
	wconf_add_alpn_route(&in, "acme-tls/1", "*", 1, NULL);
	wconf_add_alpn_route(&in, "h2", "*.example.org", 0, NULL);

	b = blob(&in, &len);
	TAP_OK(wconf_decode(b, len, &out) == 0, "decodes what it encoded");
	TAP_OK(out.wc_peek_timeout_ms == 1234 && out.wc_handoff_timeout_ms ==
	    567 && out.wc_max_pending == 89 &&
	    out.wc_max_pending_per_source == 9 && out.wc_netblock_ipv4 == 20 &&
	    out.wc_netblock_ipv6 == 56 && out.wc_pressure_threshold == 70 &&
	    out.wc_pressure_peek_ms == 800 &&
	    out.wc_pressure_first_byte_ms == 400 && out.wc_default == 1 &&
	    out.wc_log_level == LOG_LEVEL_DEBUG &&
	    out.wc_access_log == LOG_ACCESS_FILE, "settings survive");
	TAP_OK(out.wc_nbackends == 2 && strcmp(out.wc_backends[1].wb_socket,
	    "/run/mail sock with spaces") == 0, "backends survive");
	TAP_OK(out.wc_backends[0].wb_fallback == 1 &&
	    out.wc_backends[1].wb_fallback == -1, "fallbacks survive");
	TAP_OK(out.wc_non_tls == 1 && out.wc_silent == 0 &&
	    out.wc_silent_timeout_ms == 750, "non_tls, silent and "
	    "silent_timeout survive");
	TAP_OK(names_count(out.wc_names) == 3 &&
	    names_lookup(out.wc_names, "a.example.org", 13) == 1 &&
	    names_lookup(out.wc_names, "example.org", 11) == 0 &&
	    names_lookup(out.wc_names, "x.net", 5) == 0, "routes survive");
	TAP_OK(out.wc_backends[0].wb_owner_uid == -1 &&
	    out.wc_backends[0].wb_owner_gid == -1 &&
	    out.wc_backends[1].wb_owner_uid == 1001 &&
	    out.wc_backends[1].wb_owner_gid == 1002, "owners survive");
	TAP_OK(out.wc_ntenants == 2 && out.wc_tenants[0].wt_uid == 2001 &&
	    strcmp(out.wc_tenants[1].wt_dir, "/run/t/bob dir") == 0 &&
	    strcmp(out.wc_tenants[1].wt_name, "bob") == 0 &&
	    names_lookup(out.wc_tenant_names, "www.alice.test", 14) == 0 &&
	    names_lookup(out.wc_tenant_names, "bob.test", 8) == 1 &&
	    names_lookup(out.wc_tenant_names, "alice.test", 10) == -1,
	    "tenants and their names survive");
	TAP_OK(wconf_counted(&out) == 4, "counted: 2 backends, 2 tenants");
	TAP_OK(routes_count(out.wc_routes) == 3 &&
	    routes_lookup(out.wc_names, out.wc_routes, -1, "example.org", 11,
	    (const uint8_t *)"\x0a" "acme-tls/1", 11, &protocol) == 1 &&
	    strcmp(routes_protocol(out.wc_routes, protocol), "acme-tls/1") == 0 &&
	    routes_lookup(out.wc_names, out.wc_routes, -1, "x.net", 5,
	    (const uint8_t *)"\x0a" "acme-tls/1", 11, &protocol) == 1 &&
	    routes_lookup(out.wc_names, out.wc_routes, -1, "a.example.org", 13,
	    (const uint8_t *)"\x02" "h2", 3, &protocol) == 0 &&
	    strcmp(routes_protocol(out.wc_routes, protocol), "h2") == 0,
	    "ALPN routes survive");
	wconf_clear(&out);

	for (cut = 0; cut < len; cut++)
		if (wconf_decode(b, cut, &out) == -1 && errno == EBADMSG)
			refused++;
	TAP_OK(refused == len, "every truncation is refused (%zu of %zu)",
	    refused, len);
	b[len - 2] = 'x';	/* "end" -> "exd" */
	TAP_OK(wconf_decode(b, len, &out) == -1, "unknown record refused");
	free(b);

	in.wc_default = 5;	/* no such backend */
	b = blob(&in, &len);
	TAP_OK(wconf_decode(b, len, &out) == -1, "bad backend index refused");
	free(b);
	in.wc_default = 1;
	in.wc_non_tls = 2;
	b = blob(&in, &len);
	TAP_OK(wconf_decode(b, len, &out) == -1, "bad non_tls index refused");
	free(b);
	in.wc_non_tls = -1;
	in.wc_silent = -1;
	b = blob(&in, &len);
	TAP_OK(wconf_decode(b, len, &out) == 0 && out.wc_non_tls == -1 &&
	    out.wc_silent == -1, "no non_tls, no silent: -1 both");
	wconf_clear(&out);
	free(b);
	wconf_clear(&in);
	test_ctl();
	test_sandbox();
	return TAP_DONE();
}
