/*
 * logsink.c - write a log line to its destination without waiting.
 *
 * Runs in every process that logs through log.c (master, workers,
 * snitch-stats, the backend programs), with that process's privilege;
 * in a worker and in snitch-stats under the seccomp filter, whose lists
 * allow what is used here (pwritev2, send, and connect for syslog; the
 * syslog socket is made before the filter).
 *
 * A process's loop must never wait on its log: a worker whose stderr is
 * a pipe nobody reads would stop serving.  O_NONBLOCK is no way out:
 * stderr's open file description is shared with the master, the shell
 * or the service manager, and its flags are theirs.  Each write asks
 * for itself instead, by the kind of descriptor (logsink_fd):
 *   - a pipe: pwritev2(RWF_NOWAIT).  A line of at most PIPE_BUF
 *     bytes then lands whole or not at all (EAGAIN), never mixed with
 *     the lines of other processes on the same pipe (pipe(7));
 *   - a socket (the journal's stream, syslog's datagrams):
 *     send(MSG_DONTWAIT);
 *   - a regular file: write(2); it waits on no reader, and ext4 refuses
 *     RWF_NOWAIT on buffered writes anyway;
 *   - anything else is tried with RWF_NOWAIT, and written with write(2)
 *     from the first EOPNOTSUPP on: the kernel takes RWF_NOWAIT on
 *     anonymous pipes only, not on a FIFO or a terminal.  The master
 *     makes fd 2 a description of its own with O_NONBLOCK before its
 *     children inherit it (log_stderr_own), so that write(2) does not
 *     wait either.
 * A line is cut to LOGSINK_LINE_MAX with its newline.  A short write (a
 * stream socket short of room) leaves the line's tail in lsk_rest, which
 * goes before anything else: until it has gone, new lines are dropped,
 * so no line ever follows half of another.
 *
 * syslog is a small client of our own, for glibc's syslog() waits when
 * the receiver's queue is full: a datagram socket connected to /dev/log
 * (_PATH_LOG), each message formatted as glibc formats it with LOG_PID,
 * RFC 3164's "<PRI>Mmm dd hh:mm:ss ident[pid]: text".  When syslogd has
 * restarted (ECONNREFUSED), it connects the same socket again, as glibc
 * connects a new one; in a chroot that fails and the line is dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "logsink.h"

/* at most one "dropped N lines" a second per sink */
#define LOGSINK_REPORT_MS	1000
#define LOGSINK_SYSLOG_HEAD_MAX	32	/* "<191>Sep 30 23:59:59 " */

static const char	*logsink_report_head = "";	/* "ident[pid]: " */
static size_t		 logsink_report_head_len;
static uint64_t		*logsink_counter;	/* the worker's cw_log_dropped */
static uint64_t		 logsink_uncounted;	/* dropped before it was set */

/* logsink_fd - write to fd (stderr, the access log file), as its type says */
void
logsink_fd(struct logsink *sk, int fd)
{
	struct stat	st;

	sk->lsk_fd = fd;
	sk->lsk_rest_len = 0;
	if (fstat(fd, &st) == -1 || S_ISREG(st.st_mode))
		sk->lsk_how = LOGSINK_WRITE;
	else if (S_ISSOCK(st.st_mode))
		sk->lsk_how = LOGSINK_SEND;
	else
		sk->lsk_how = LOGSINK_NOWAIT;
}

/*
 * logsink_connect - sk's socket, connected to syslog's again; 0 or -1.
 * In place: made once (logsink_syslog, before any sandbox), then only
 * connected again, which a datagram socket may be; a worker's filter
 * allows connect(2) on this one descriptor and no socket(2) at all.
 */
static int
logsink_connect(struct logsink *sk)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };

	_Static_assert(sizeof(_PATH_LOG) <= sizeof(sun.sun_path), "a path");
	memcpy(sun.sun_path, _PATH_LOG, sizeof(_PATH_LOG));
	if (sk->lsk_fd == -1)
		return -1;
	return connect(sk->lsk_fd, (struct sockaddr *)&sun, sizeof(sun));
}

/* logsink_syslog - sk sends to syslog; connected now, before a chroot */
void
logsink_syslog(struct logsink *sk)
{
	sk->lsk_how = LOGSINK_SYSLOG;
	sk->lsk_rest_len = 0;
	if (sk->lsk_fd == -1)
		sk->lsk_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* Not there yet: each line tries again, as glibc does. */
	(void)logsink_connect(sk);
}

/* logsink_head - "ident[pid]: ", which begins a "dropped" report */
void
logsink_head(const char *head, size_t len)
{
	logsink_report_head = head;
	logsink_report_head_len = len;
}

/*
 * logsink_count - count dropped lines in *counter from now on (a
 * worker's slot of the shared counters), those before it included
 */
void
logsink_count(uint64_t *counter)
{
	logsink_counter = counter;
	__atomic_fetch_add(counter, logsink_uncounted, __ATOMIC_RELAXED);
	logsink_uncounted = 0;
}

/* logsink_drop - a line sk could not take */
static void
logsink_drop(struct logsink *sk)
{
	sk->lsk_unreported++;
	if (logsink_counter != NULL)
		__atomic_fetch_add(logsink_counter, 1, __ATOMIC_RELAXED);
	else
		logsink_uncounted++;
}

/* logsink_put - one write of len bytes, as sk says: bytes written, or -1 */
static ssize_t
logsink_put(struct logsink *sk, const char *buf, size_t len)
{
	struct iovec	iov = { (void *)buf, len };
	ssize_t		n;

	switch (sk->lsk_how) {
	case LOGSINK_NOWAIT:
		n = pwritev2(sk->lsk_fd, &iov, 1, -1, RWF_NOWAIT);
		if (n != -1 || errno != EOPNOTSUPP)
			return n;
		/* A terminal, or a kernel whose pipes do not take it. */
		sk->lsk_how = LOGSINK_WRITE;
		break;
	case LOGSINK_SEND:
		return send(sk->lsk_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	case LOGSINK_SYSLOG:
		if (sk->lsk_fd != -1) {
			n = send(sk->lsk_fd, buf, len,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n != -1 || (errno != ECONNREFUSED &&
			    errno != ENOTCONN))
				return n;
		}
		/* syslogd restarted, or was not there at the start */
		if (logsink_connect(sk) == -1)
			return -1;
		return send(sk->lsk_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	case LOGSINK_WRITE:
		break;
	}
	return write(sk->lsk_fd, buf, len);
}

/*
 * logsink_write - buf, whole, or its tail kept for logsink_flush; 0, or
 * -1 when nothing was written
 */
static int
logsink_write(struct logsink *sk, const char *buf, size_t len)
{
	ssize_t	n;

	if ((n = logsink_put(sk, buf, len)) <= 0)
		return -1;
	if ((size_t)n < len) {
		sk->lsk_rest_len = len - (size_t)n;
		memcpy(sk->lsk_rest, buf + n, sk->lsk_rest_len);
	}
	return 0;
}

/* logsink_flush - write what a short write left; 0 when nothing is left */
static int
logsink_flush(struct logsink *sk)
{
	ssize_t	n;

	if (sk->lsk_rest_len == 0)
		return 0;
	if ((n = logsink_put(sk, sk->lsk_rest, sk->lsk_rest_len)) <= 0)
		return -1;
	sk->lsk_rest_len -= (size_t)n;
	memmove(sk->lsk_rest, sk->lsk_rest + n, sk->lsk_rest_len);
	return sk->lsk_rest_len == 0 ? 0 : -1;
}

/* logsink_syslog_head - "<PRI>Mmm dd hh:mm:ss " at out, as glibc; its length */
static size_t
logsink_syslog_head(char *out, int prio)
{
	/* glibc's "%h %e %T" in the C locale, whatever the process's */
	static const char	months[12][4] = { "Jan", "Feb", "Mar", "Apr",
				    "May", "Jun", "Jul", "Aug", "Sep", "Oct",
				    "Nov", "Dec" };
	struct tm		tm;
	time_t			now = time(NULL);
	int			n;

	if (localtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	n = snprintf(out, LOGSINK_SYSLOG_HEAD_MAX, "<%d>%s %2d %02d:%02d:%02d ",
	    LOG_DAEMON | (prio & LOG_PRIMASK), months[tm.tm_mon % 12],
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n > 0 && n < LOGSINK_SYSLOG_HEAD_MAX ? (size_t)n : 0;
}

/*
 * logsink_format - the line to write in line: syslog's header, head and
 * body, then a newline except for syslog, cut to LOGSINK_LINE_MAX with
 * "..."; its length
 */
static size_t
logsink_format(const struct logsink *sk, char *line, int prio,
    const char *head, size_t head_len, const char *body, size_t len)
{
	size_t	n = 0, room;

	if (sk->lsk_how == LOGSINK_SYSLOG)
		n = logsink_syslog_head(line, prio);
	/* heads are short: "ident[pid]: " */
	if (head_len > LOGSINK_LINE_MAX / 2)
		head_len = LOGSINK_LINE_MAX / 2;
	memcpy(line + n, head, head_len);
	n += head_len;
	room = LOGSINK_LINE_MAX - 1 - n;	/* the newline */
	if (len > room) {
		/* Longer, a line would no longer be one atomic write. */
		memcpy(line + n, body, room - 3);
		memcpy(line + n + room - 3, "...", 3);
		n += room;
	} else {
		memcpy(line + n, body, len);
		n += len;
	}
	if (sk->lsk_how != LOGSINK_SYSLOG)
		line[n++] = '\n';
	return n;
}

/* logsink_report - say how many lines were dropped, at most once a second */
static void
logsink_report(struct logsink *sk)
{
	char		text[128], line[LOGSINK_LINE_MAX];
	uint64_t	now = clock_ms();
	int		n;

	if (now - sk->lsk_report_ms < LOGSINK_REPORT_MS)
		return;
	/* Tried at most once a second, whether it goes or not. */
	sk->lsk_report_ms = now;
	n = snprintf(text, sizeof(text), "%s: dropped %llu lines: their "
	    "destination did not take them", __func__,
	    (unsigned long long)sk->lsk_unreported);
	if (n <= 0 || (size_t)n >= sizeof(text))
		return;
	if (logsink_write(sk, line, logsink_format(sk, line, LOG_WARNING,
	    logsink_report_head, logsink_report_head_len, text,
	    (size_t)n)) == 0)
		sk->lsk_unreported = 0;
}

/*
 * logsink_line - head and body as one line (syslog: at priority prio),
 * whole, or dropped and counted; never waits
 */
void
logsink_line(struct logsink *sk, int prio, const char *head,
    size_t head_len, const char *body, size_t len)
{
	char	line[LOGSINK_LINE_MAX];
	size_t	n;
	/* Callers log between a call and their look at its errno (an
	 * access line inside the accept loop): a failed write must not
	 * change it. */
	int	saved_errno = errno;

	if (logsink_flush(sk) == -1) {
		logsink_drop(sk);
		goto done;
	}
	if (sk->lsk_unreported > 0)
		logsink_report(sk);
	/* The report may have left a tail: no line goes after half of it. */
	if (sk->lsk_rest_len > 0) {
		logsink_drop(sk);
		goto done;
	}
	n = logsink_format(sk, line, prio, head, head_len, body, len);
	if (logsink_write(sk, line, n) == -1)
		logsink_drop(sk);
done:
	errno = saved_errno;
}
