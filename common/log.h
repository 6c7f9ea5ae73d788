/*
 * log.h - the one logging API of every SNItch process.
 *
 * Messages go to stderr (foreground) or syslog facility daemon (-d).
 * log_warn appends strerror(errno); fatal/fatalx are for setup errors
 * only and exit 1; log_panic is for a state the code cannot be in, and
 * aborts.  Nothing a client sends may reach fatal or log_panic.
 *
 * The access log (one line per connection, written by the workers) is a
 * second stream with its own destination, set by log_access_init: off,
 * the error log's (stderr or syslog), syslog, stderr, or a file whose
 * descriptor the master opened.  log_level does not filter it.
 *
 * No line waits for its destination: one it cannot take now is dropped
 * whole (logsink.h), counted in the counter log_count_dropped names,
 * and reported there once it takes lines again.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void	log_init(const char *ident, int use_syslog, int verbose);
void	log_forked(void);
void	log_stderr_own(void);
void	log_count_dropped(uint64_t *counter);
void	log_set_verbose(int verbose);
void	log_set_level(int level);
int	log_level_parse(const char *text);
const char *log_level_name(int level);

/* the syslog priorities a log_level keeps: this and more urgent */
#define LOG_LEVEL_ERROR		3	/* LOG_ERR */
#define LOG_LEVEL_WARNING	4	/* LOG_WARNING */
#define LOG_LEVEL_INFO		6	/* LOG_INFO */
#define LOG_LEVEL_DEBUG		7	/* LOG_DEBUG */

enum log_access {
	LOG_ACCESS_DEFAULT,	/* where the error log goes */
	LOG_ACCESS_OFF,
	LOG_ACCESS_SYSLOG,
	LOG_ACCESS_STDERR,
	LOG_ACCESS_FILE,	/* a descriptor opened by the master */
};

void	log_access_init(enum log_access, int fd);
void	log_access_reopen(int fd);
int	log_syslog_fd(void);
void	log_access(const char *line, size_t len);
void	log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void	fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void	fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void	log_panic(const char *fmt, ...) LOG_PRINTF(1, 2)
	    __attribute__((noreturn));

#endif
