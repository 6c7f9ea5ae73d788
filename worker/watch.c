/*
 * watch.c - notice a backend's socket file being made, so that clients
 * held for a restarting backend reach it at once: a leaf.
 *
 * Runs in the worker, unprivileged.  watch_init, before the sandbox,
 * watches the directory of each configured backend's socket with
 * inotify for a file created, moved in, or whose attributes changed
 * (a backend binds, then may chmod; or binds a temporary name and
 * renames it over the path).  watch_read, in the loop, marks the
 * channels whose socket's name came up (ch_appeared); dispatch.c then
 * retries them.  bind(2) makes the file before listen(2), so a connect
 * right after the event may still be refused: dispatch.c's timer is
 * the backstop, for that and for whatever inotify cannot see (a
 * directory made after the start, or one the worker may not read, or
 * a tenant's socket).
 *
 * The sandbox allows read(2) on the inotify descriptor only.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"

#define WATCH_EVENTS	(IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR)

/* watch_split - the directory of path into dir, and where its name starts */
static const char *
watch_split(const char *path, char *dir, size_t size)
{
	const char	*slash = strrchr(path, '/');
	size_t		 len;

	if (slash == NULL)
		return NULL;
	len = slash == path ? 1 : (size_t)(slash - path);
	if (len >= size)
		return NULL;
	memcpy(dir, path, len);
	dir[len] = '\0';
	return slash + 1;
}

/* watch_add - watch the directory of channel b's socket, if it can be */
static void
watch_add(struct worker *w, int b)
{
	struct channel	*ch = &w->w_channels[b];
	char		 dir[WCONF_PATH_MAX + 1];

	if (watch_split(ch->ch_socket, dir, sizeof(dir)) == NULL)
		return;
	/* The same directory twice gives the same descriptor. */
	ch->ch_watch = inotify_add_watch(w->w_watch, dir, WATCH_EVENTS);
	if (ch->ch_watch == -1)
		log_debug("%s: backend %s: cannot watch %s (%s); retrying "
		    "on a timer only", __func__, ch->ch_name, dir,
		    strerror(errno));
}

/*
 * watch_init - an inotify descriptor in the epoll set, watching every
 * configured backend's directory; 0, or -1 when there is none (the
 * worker then retries held clients on its timer alone)
 */
int
watch_init(struct worker *w)
{
	struct epoll_event	ev;
	size_t			b;

	w->w_watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->w_watch == -1)
		return -1;
	ev.events = EPOLLIN;
	ev.data.u64 = EV_MAKE(EV_WATCH, 0, 0);
	if (epoll_ctl(w->w_epoll, EPOLL_CTL_ADD, w->w_watch, &ev) == -1) {
		watch_close(w);
		return -1;
	}
	for (b = 0; b < w->w_conf.wc_nbackends; b++)
		watch_add(w, (int)b);
	return 0;
}

/* watch_mark - an event for name in watch wd: mark the channels it is */
static void
watch_mark(struct worker *w, int wd, const char *name)
{
	struct channel	*ch;
	const char	*base;
	size_t		 b;

	for (b = 0; b < w->w_conf.wc_nbackends; b++) {
		ch = &w->w_channels[b];
		if (ch->ch_watch != wd ||
		    (base = strrchr(ch->ch_socket, '/')) == NULL)
			continue;
		if (strcmp(base + 1, name) == 0)
			ch->ch_appeared = 1;
	}
}

/*
 * watch_read - read what inotify says, marking channels (ch_appeared);
 * the number of events read
 */
int
watch_read(struct worker *w)
{
	char				 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ev;
	ssize_t				 n, off;
	int				 events = 0;

	while ((n = read(w->w_watch, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += (ssize_t)sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			events++;
			/* IN_Q_OVERFLOW: events were lost; the timer is there. */
			if (ev->len > 0 && ev->name[ev->len - 1] == '\0')
				watch_mark(w, ev->wd, ev->name);
		}
	}
	return events;
}

/* watch_close - stop watching, at exit */
void
watch_close(struct worker *w)
{
	if (w->w_watch != -1)
		close(w->w_watch);
	w->w_watch = -1;
}
