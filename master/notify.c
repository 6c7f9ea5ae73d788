/*
 * notify.c - tell a service manager how the master is doing: the
 * sd_notify protocol, spoken here without libsystemd.
 *
 * Runs in the master.  notify_init runs as root, before the privilege
 * drop: it takes NOTIFY_SOCKET (a path, or "@name" for an abstract
 * socket) out of the environment, so that no worker inherits it, and
 * connects an AF_UNIX datagram socket to it.  The path is resolved and
 * its permission checked at connect time, so the socket keeps working
 * after the drop although systemd's /run/systemd/notify is writable by
 * root only.  Each message is one datagram of "KEY=VALUE" lines.  A
 * notification that cannot be sent is logged and otherwise ignored:
 * SNItch serves clients whether or not anyone listens to its state.
 *
 * What the master sends, and when (main.c):
 *   READY=1 + STATUS         once every worker of a generation has been
 *                            forked and exec'd (at start, and after
 *                            each SIGHUP, also one that was refused)
 *   RELOADING=1 + MONOTONIC_USEC + STATUS   on SIGHUP, before re-reading
 *   STOPPING=1 + STATUS      on SIGTERM or SIGINT
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "notifyaddr.h"

#define NOTIFY_MSG_MAX	1024

static int	notify_fd = -1;
static char	notify_where[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];

/* notify_init - connect to $NOTIFY_SOCKET, if set, and unset it */
void
notify_init(void)
{
	struct sockaddr_un	 sun;
	const char		*env = getenv("NOTIFY_SOCKET");
	socklen_t		 len;

	if (env == NULL)
		return;
	snprintf(notify_where, sizeof(notify_where), "%s", env);
	/* The workers and their children must not talk to it. */
	unsetenv("NOTIFY_SOCKET");
	if (notifyaddr_parse(notify_where, &sun, &len) == -1) {
		log_warnx("NOTIFY_SOCKET '%s': want an absolute path or "
		    "@abstract name of at most %zu bytes; not notifying",
		    notify_where, sizeof(sun.sun_path) - 1);
		return;
	}
	if ((notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("NOTIFY_SOCKET %s: socket", notify_where);
		return;
	}
	if (connect(notify_fd, (struct sockaddr *)&sun, len) == -1) {
		log_warn("NOTIFY_SOCKET %s: connect; not notifying",
		    notify_where);
		close(notify_fd);
		notify_fd = -1;
		return;
	}
	log_debug("%s: notifying %s", __func__, notify_where);
}

/*
 * notify_send - send state (e.g. "READY=1"), with STATUS=fmt... when fmt
 * is not NULL.  Control bytes in the status become '?': a newline would
 * start a new KEY=VALUE line.
 */
void
notify_send(const char *state, const char *fmt, ...)
{
	char	 msg[NOTIFY_MSG_MAX];
	va_list	 ap;
	int	 n, head;

	if (notify_fd == -1)
		return;
	n = snprintf(msg, sizeof(msg), "%s%s", state, fmt ? "\nSTATUS=" : "");
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (fmt != NULL) {
		head = n;
		va_start(ap, fmt);
		n = vsnprintf(msg + head, sizeof(msg) - head, fmt, ap);
		va_end(ap);
		n = n < 0 ? head : head + n;
		if ((size_t)n >= sizeof(msg))
			n = sizeof(msg) - 1;
		for (; head < n; head++)
			if ((unsigned char)msg[head] < 0x20 ||
			    msg[head] == 0x7f)
				msg[head] = '?';
	}
	if (send(notify_fd, msg, (size_t)n, MSG_NOSIGNAL) == -1)
		log_warn("NOTIFY_SOCKET %s: send %.*s", notify_where,
		    (int)strcspn(msg, "\n"), msg);
}

/*
 * notify_reloading - a reload starts.  MONOTONIC_USEC (CLOCK_MONOTONIC,
 * the clock systemd reads) lets the manager tell this reload from an
 * earlier one (systemd 253's Type=notify-reload requires it).
 */
void
notify_reloading(void)
{
	struct timespec	ts;
	char		state[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	notify_send(state, "reloading the configuration");
}
