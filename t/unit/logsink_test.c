/*
 * logsink_test.c - a log line goes whole or is dropped whole, and
 * counted, without waiting; once lines go again, one line says how
 * many were dropped.
 *
 * stderr is a pipe of one page (F_SETPIPE_SZ) that nothing reads until
 * the test drains it, as a worker's stderr under `snitch | something`
 * that hung; syslog's socket is one end of a datagram socketpair.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "logsink.h"
#include "tap.h"

#define TEST_HEAD	"test[1]: "
#define TEST_LINES	100

static uint64_t	test_counted;	/* what logsink_count is given */

/* test_drain - what fd (non-blocking) holds, into buf, NUL-ended; length */
static size_t
test_drain(int fd, char *buf, size_t size)
{
	size_t	n = 0;
	ssize_t	r;

	while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return n;
}

/* test_whole - every line of text is TEST_HEAD "line NNN ..." and ends */
static int
test_whole(const char *text, size_t len, size_t line_len)
{
	size_t	at;

	if (len % line_len != 0)
		return 0;
	for (at = 0; at < len; at += line_len)
		if (strncmp(text + at, TEST_HEAD "line ", strlen(TEST_HEAD) +
		    5) != 0 || text[at + line_len - 1] != '\n')
			return 0;
	return 1;
}

/* test_pipe - a full pipe: lines dropped whole, counted, then reported */
static void
test_pipe(void)
{
	static char	all[65536];
	struct logsink	sk;
	char		body[160], want[128];
	int		p[2], i;
	size_t		len, line_len = 0, kept;
	uint64_t	before = test_counted;

	if (pipe(p) == -1 || fcntl(p[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(p[1], F_SETPIPE_SZ, 4096) == -1) {
		TAP_OK(0, "pipe: %s", strerror(errno));
		return;
	}
	memset(&sk, 0, sizeof(sk));
	logsink_fd(&sk, p[1]);
	TAP_OK(sk.lsk_how == LOGSINK_NOWAIT, "a pipe: RWF_NOWAIT");
	for (i = 0; i < TEST_LINES; i++) {
		len = (size_t)snprintf(body, sizeof(body), "line %03d %0120d",
		    i, 0);
		line_len = strlen(TEST_HEAD) + len + 1;
		logsink_line(&sk, LOG_INFO, TEST_HEAD, strlen(TEST_HEAD), body,
		    len);
	}
	kept = test_drain(p[0], all, sizeof(all));
	TAP_OK(kept > 0 && kept < TEST_LINES * line_len,
	    "a page of lines went, the rest did not (%zu bytes)", kept);
	TAP_OK(test_whole(all, kept, line_len), "each line whole");
	TAP_OK(test_counted - before == TEST_LINES - kept / line_len,
	    "every line that did not go is counted: %llu of %d",
	    (unsigned long long)(test_counted - before), TEST_LINES);
	/* As if a second had passed since the report last tried to go. */
	sk.lsk_report_ms = 0;
	logsink_line(&sk, LOG_INFO, TEST_HEAD, strlen(TEST_HEAD), "line 100",
	    8);
	test_drain(p[0], all, sizeof(all));
	snprintf(want, sizeof(want), TEST_HEAD "logsink_report: dropped %llu "
	    "lines: their destination did not take them\n" TEST_HEAD
	    "line 100\n", (unsigned long long)(test_counted - before));
	TAP_OK(strcmp(all, want) == 0, "drained: the report, then the line");
	logsink_line(&sk, LOG_INFO, TEST_HEAD, strlen(TEST_HEAD), "line 101",
	    8);
	test_drain(p[0], all, sizeof(all));
	TAP_OK(strcmp(all, TEST_HEAD "line 101\n") == 0,
	    "reported once: the next line goes alone");
	close(p[0]);
	close(p[1]);
}

/* test_cut - a line longer than PIPE_BUF is cut to it, ending "...\n" */
static void
test_cut(void)
{
	static char	body[5000], all[8192];
	struct logsink	sk;
	int		p[2];
	size_t		n;

	memset(body, 'x', sizeof(body));
	if (pipe(p) == -1 || fcntl(p[0], F_SETFL, O_NONBLOCK) == -1) {
		TAP_OK(0, "pipe: %s", strerror(errno));
		return;
	}
	memset(&sk, 0, sizeof(sk));
	logsink_fd(&sk, p[1]);
	logsink_line(&sk, LOG_INFO, TEST_HEAD, strlen(TEST_HEAD), body,
	    sizeof(body));
	n = test_drain(p[0], all, sizeof(all));
	TAP_OK(n == LOGSINK_LINE_MAX && memcmp(all + n - 4, "...\n", 4) == 0,
	    "5000 bytes: cut to %d with \"...\" (%zu)", LOGSINK_LINE_MAX, n);
	close(p[0]);
	close(p[1]);
}

/* test_syslog - glibc's format, no newline; a full socket drops, at once */
static void
test_syslog(void)
{
	struct logsink	sk;
	char		got[512];
	int		sv[2], i;
	ssize_t		n;
	uint64_t	before;
	size_t		head = sizeof("<30>Dec  7 08:44:06 ") - 1;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1) {
		TAP_OK(0, "socketpair: %s", strerror(errno));
		return;
	}
	memset(&sk, 0, sizeof(sk));
	sk.lsk_how = LOGSINK_SYSLOG;
	sk.lsk_fd = sv[0];
	logsink_line(&sk, LOG_INFO, TEST_HEAD, strlen(TEST_HEAD), "hello", 5);
	n = recv(sv[1], got, sizeof(got) - 1, 0);
	got[n > 0 ? n : 0] = '\0';
	TAP_OK(n == (ssize_t)(head + strlen(TEST_HEAD "hello")) &&
	    strncmp(got, "<30>", 4) == 0 && got[7] == ' ' && got[10] == ' ' &&
	    got[13] == ':' && got[16] == ':' && got[19] == ' ' &&
	    strcmp(got + head, TEST_HEAD "hello") == 0,
	    "daemon.info, \"Mmm dd hh:mm:ss \", no newline: '%s'", got);
	before = test_counted;
	for (i = 0; i < 5000; i++)
		logsink_line(&sk, LOG_WARNING, TEST_HEAD, strlen(TEST_HEAD),
		    "a line nobody receives", 22);
	TAP_OK(test_counted > before, "a full socket: %llu of 5000 dropped",
	    (unsigned long long)(test_counted - before));
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	logsink_head(TEST_HEAD, strlen(TEST_HEAD));
	logsink_count(&test_counted);
	test_pipe();
	test_cut();
	test_syslog();
	return TAP_DONE();
}
