/*
 * log.c - stderr or syslog output for master, workers and backends.
 *
 * Every process calls log_init once.  A line is formatted here and
 * written by logsink.c in a single write, without waiting: a line a
 * destination cannot take now (a pipe nobody reads, a full syslog
 * queue) is dropped whole and counted, never half written, so that
 * lines of concurrent workers sharing stderr do not interleave and no
 * loop stops on its log.  Access lines to a file are written the same
 * way to a descriptor opened O_APPEND: each write lands whole at the
 * end, whatever the other workers write.  The workers cannot open that
 * file themselves (they are unprivileged and its directory need not be
 * theirs): the master opens it and passes the descriptor, again after
 * each SIGUSR1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdslot.h"
#include "log.h"
#include "logsink.h"

static const char	*log_ident = "snitch";
static int		 log_syslog;
static int		 log_verbose;
static int		 log_level = LOG_LEVEL_INFO;
static int		 log_syslog_open;
static enum log_access	 log_access_to = LOG_ACCESS_DEFAULT;
static char		 log_head[64];	/* "ident[pid]: ", made once */
static int		 log_head_len;
/* the destinations: until log_init, stderr is written plainly */
static struct logsink	 log_stderr = { .lsk_fd = STDERR_FILENO,
			     .lsk_how = LOGSINK_WRITE };
static struct logsink	 log_syslog_sink = { .lsk_fd = -1,
			     .lsk_how = LOGSINK_SYSLOG };
static struct logsink	 log_access_file = { .lsk_fd = -1,
			     .lsk_how = LOGSINK_WRITE };

/* log_openlog - connect to syslog once, for errors or access lines */
static void
log_openlog(void)
{
	if (log_syslog_open)
		return;
	logsink_syslog(&log_syslog_sink);
	log_syslog_open = 1;
}

/* log_init - choose the destination; verbose > 0 enables debug lines */
void
log_init(const char *ident, int use_syslog, int verbose)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_verbose = verbose;
	log_forked();
	logsink_fd(&log_stderr, STDERR_FILENO);
	if (use_syslog)
		log_openlog();
}

/*
 * log_stderr_own - make fd 2 an open file description of our own, with
 * O_NONBLOCK: the master, before its workers inherit it
 */
void
log_stderr_own(void)
{
	struct stat	st;
	int		fd;

	/* A file does not wait on a reader; a socket cannot be reopened,
	 * and logsink.c sends to it with MSG_DONTWAIT. */
	if (fstat(STDERR_FILENO, &st) == -1 || S_ISREG(st.st_mode) ||
	    S_ISSOCK(st.st_mode))
		return;
	/*
	 * The same pipe, FIFO or terminal, opened anew: its flags are ours
	 * alone, not those of the shell or service manager that share the
	 * description we were given.  RWF_NOWAIT would spare this, but
	 * the kernel takes it on anonymous pipes only, not on a FIFO or a
	 * terminal.  Where /proc is missing or the open is refused, fd 2
	 * stays as it was.
	 */
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1)
		return;
	if (dup2(fd, STDERR_FILENO) != -1)
		logsink_fd(&log_stderr, STDERR_FILENO);
	close(fd);
}

/* log_forked - a new process (fork, daemon) logs under its own pid */
void
log_forked(void)
{
	/* Worker lines are written per connection: no getpid each. */
	log_head_len = snprintf(log_head, sizeof(log_head), "%s[%ld]: ",
	    log_ident, (long)getpid());
	if (log_head_len < 0 || (size_t)log_head_len >= sizeof(log_head))
		log_head_len = 0;
	logsink_head(log_head, (size_t)log_head_len);
}

/* log_count_dropped - count the lines dropped from now on in *counter */
void
log_count_dropped(uint64_t *counter)
{
	logsink_count(counter);
}

/* log_set_verbose - change the debug level after start */
void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

/* log_set_level - drop messages less urgent than level (LOG_LEVEL_*) */
void
log_set_level(int level)
{
	log_level = level;
}

_Static_assert(LOG_LEVEL_ERROR == LOG_ERR && LOG_LEVEL_WARNING == LOG_WARNING
    && LOG_LEVEL_INFO == LOG_INFO && LOG_LEVEL_DEBUG == LOG_DEBUG,
    "LOG_LEVEL_* are syslog priorities");

/* log_threshold - the least urgent priority logged: -v means debug */
static int
log_threshold(void)
{
	return log_verbose > 0 ? LOG_DEBUG : log_level;
}

static const char *const log_level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/* log_level_parse - "error", "warning", "info" or "debug"; -1 if not */
int
log_level_parse(const char *text)
{
	size_t	i;

	for (i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]);
	    i++)
		if (log_level_names[i] != NULL &&
		    strcmp(text, log_level_names[i]) == 0)
			return (int)i;
	return -1;
}

/* log_level_name - the name of a LOG_LEVEL_* */
const char *
log_level_name(int level)
{
	if (level < 0 || (size_t)level >= sizeof(log_level_names) /
	    sizeof(log_level_names[0]) || log_level_names[level] == NULL)
		return "?";
	return log_level_names[level];
}

/*
 * log_access_init - where access lines go; fd is the file's descriptor
 * for LOG_ACCESS_FILE, ignored otherwise
 */
void
log_access_init(enum log_access to, int fd)
{
	if (to == LOG_ACCESS_DEFAULT)
		to = log_syslog ? LOG_ACCESS_SYSLOG : LOG_ACCESS_STDERR;
	log_access_to = to;
	if (to == LOG_ACCESS_FILE)
		logsink_fd(&log_access_file, fd);
	if (to == LOG_ACCESS_SYSLOG)
		log_openlog();
}

/* log_access_reopen - from now on write the access file to fd */
void
log_access_reopen(int fd)
{
	if (log_access_to != LOG_ACCESS_FILE) {
		close(fd);
		return;
	}
	/* Lines before this went whole to the old file: nothing is lost.
	 * In a worker's sandbox the new file keeps the old one's fixed
	 * number (fdslot.c). */
	logsink_fd(&log_access_file, fdslot_move(fd, log_access_file.lsk_fd));
}

/* log_syslog_fd - the socket syslog lines go to, or -1 */
int
log_syslog_fd(void)
{
	return log_syslog_sink.lsk_fd;
}

/* log_access - one access line (without its newline), in one write */
void
log_access(const char *line, size_t len)
{
	enum log_access	 to = log_access_to;

	if (to == LOG_ACCESS_DEFAULT)	/* log_access_init was not called */
		to = log_syslog ? LOG_ACCESS_SYSLOG : LOG_ACCESS_STDERR;
	switch (to) {
	case LOG_ACCESS_OFF:
		return;
	case LOG_ACCESS_DEFAULT:
	case LOG_ACCESS_SYSLOG:
		logsink_line(&log_syslog_sink, LOG_INFO, log_head,
		    (size_t)log_head_len, line, len);
		return;
	case LOG_ACCESS_STDERR:
		logsink_line(&log_stderr, LOG_INFO, log_head,
		    (size_t)log_head_len, line, len);
		return;
	case LOG_ACCESS_FILE:
		logsink_line(&log_access_file, LOG_INFO, "", 0, line, len);
		return;
	}
}

/* log_emit - format one line, optionally with an errno text, and send it */
static void
log_emit(int prio, int saved_errno, const char *fmt, va_list ap)
{
	char	 line[2048];
	int	 n;

	if (prio > log_threshold())
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (saved_errno)
		n += snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(saved_errno));
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	logsink_line(log_syslog ? &log_syslog_sink : &log_stderr, prio,
	    log_head, (size_t)log_head_len, line, (size_t)n);
}

#define LOG_BODY(prio, err) do {			\
	int saved = errno;				\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_emit(prio, (err) ? saved : 0, fmt, ap);	\
	va_end(ap);					\
	errno = saved;					\
} while (0)

/* log_warn - warning with strerror(errno) appended */
void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 1);
}

/* log_warnx - warning without errno */
void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 0);
}

/* log_info - what happened to a connection, a worker, the config */
void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, 0);
}

/* log_debug - detail for debugging, only when verbose */
void
log_debug(const char *fmt, ...)
{
	if (log_threshold() >= LOG_DEBUG)
		LOG_BODY(LOG_DEBUG, 0);
}

/* fatal - setup error with strerror(errno); exits 1 */
void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 1);
	exit(1);
}

/* fatalx - setup error; exits 1 */
void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 0);
	exit(1);
}

/*
 * log_panic - an impossible internal state (Postfix's msg_panic): log
 * it and abort, for a core and a SIGABRT the master reports.  Never for
 * anything a client, a backend or a configuration can cause.
 */
void
log_panic(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 0);
	abort();
}
