/*
 * log.c - stderr or syslog output for master, workers and backends.
 *
 * Every process calls log_init once.  A line is written with a single
 * write(2) so that lines of concurrent workers sharing stderr do not
 * interleave.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char	*log_ident = "snitch";
static int		 log_syslog;
static int		 log_verbose;
static char		 log_head[64];	/* "ident[pid]: ", made once */
static int		 log_head_len;

/* log_init - choose the destination; verbose > 0 enables debug lines */
void
log_init(const char *ident, int use_syslog, int verbose)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_verbose = verbose;
	log_forked();
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
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
}

/* log_set_verbose - change the debug level after start */
void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

/* log_emit - format one line, optionally with an errno text, and send it */
static void
log_emit(int prio, int saved_errno, const char *fmt, va_list ap)
{
	char	 line[2048];
	int	 n, head;

	head = log_syslog ? 0 : log_head_len;
	memcpy(line, log_head, head);
	n = vsnprintf(line + head, sizeof(line) - head, fmt, ap);
	if (n < 0)
		return;
	n += head;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (saved_errno)
		n += snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(saved_errno));
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (log_syslog) {
		syslog(prio, "%s", line);
		return;
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
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
	if (log_verbose > 0)
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
