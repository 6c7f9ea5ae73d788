/*
 * log.h - the one logging API of every SNItch process.
 *
 * Messages go to stderr (foreground) or syslog facility daemon (-d).
 * log_warn appends strerror(errno); fatal/fatalx are for setup errors
 * only and exit 1.  Nothing a client sends may reach fatal.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void	log_init(const char *ident, int use_syslog, int verbose);
void	log_forked(void);
void	log_set_verbose(int verbose);
void	log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void	fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void	fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
