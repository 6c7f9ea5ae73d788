/*
 * logsink.h - where a log line goes, written without ever waiting.
 *
 * A sink is one destination of log.c: standard error, the access log
 * file, or syslog.  A line is written whole or dropped whole, never
 * half, and never blocks the caller: a worker whose stderr is a pipe
 * nobody reads must go on serving.  Dropped lines are counted (for the
 * workers' counters, logsink_count) and, once the sink takes lines
 * again, reported there in one line at most once a second.
 */
#ifndef LOGSINK_H
#define LOGSINK_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/* a line, its newline included, in one write: atomic on a pipe */
#define LOGSINK_LINE_MAX	PIPE_BUF

enum logsink_how {
	LOGSINK_WRITE,		/* write(2): a file, or O_NONBLOCK set */
	LOGSINK_NOWAIT,		/* pwritev2 RWF_NOWAIT: a pipe */
	LOGSINK_SEND,		/* send MSG_DONTWAIT: a socket */
	LOGSINK_SYSLOG,		/* the same, to /dev/log, reconnected */
};

struct logsink {
	int		 lsk_fd;
	enum logsink_how lsk_how;
	uint64_t	 lsk_unreported;	/* dropped since the last report */
	uint64_t	 lsk_report_ms;		/* last report tried, clock_ms */
	size_t		 lsk_rest_len;		/* a line's tail, unwritten */
	char		 lsk_rest[LOGSINK_LINE_MAX];
};

void	logsink_fd(struct logsink *, int fd);
void	logsink_syslog(struct logsink *);
void	logsink_head(const char *head, size_t len);
void	logsink_line(struct logsink *, int prio, const char *head,
	    size_t head_len, const char *body, size_t len);
void	logsink_count(uint64_t *counter);

#endif
