/*
 * notify.h - the master's state, told to a service manager (sd_notify).
 */
#ifndef NOTIFY_H
#define NOTIFY_H

void	notify_init(void);
void	notify_send(const char *state, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	notify_reloading(void);

#endif
