/*
 * loop.c - the worker's event loop: accept, events, deadlines, stop.
 *
 * Runs in the worker, unprivileged.  Nothing blocks: listeners are
 * non-blocking, client sockets are only touched with MSG_DONTWAIT, and
 * channels are non-blocking.  The listeners are shared by all workers
 * and registered with EPOLLEXCLUSIVE so a new connection wakes one
 * worker, not all.  A full pool of connection slots makes room by
 * evicting a stalled connection (evict.c); accepting pauses only when
 * nothing can be evicted (the kernel backlog holds the rest) or when
 * descriptors run out: EMFILE leaves the connection in the backlog and
 * the listener readable, so without a pause the loop would spin.
 * Anyone holding a listener can clear its O_NONBLOCK: guard.c's timer
 * makes a waiting accept4 return EINTR, and sets the flag again.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "fdslot.h"
#include "log.h"
#include "worker.h"

#define LOOP_EVENTS		64
#define LOOP_ACCEPT_BATCH	32	/* accepts per wakeup, for fairness */
#define LOOP_FD_PAUSE_MS	100	/* after EMFILE/ENFILE */

static volatile sig_atomic_t	loop_sigterm;

/* loop_signal - SIGTERM or SIGINT: finish what we hold, then exit */
static void
loop_signal(int sig)
{
	(void)sig;
	loop_sigterm = 1;
}

/* loop_listen - add the listeners to, or remove them from, the loop */
static void
loop_listen(struct worker *w, int on)
{
	struct epoll_event	ev;
	size_t			i;

	if (w->w_accepting == on)
		return;
	for (i = 0; i < w->w_nlisteners; i++) {
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.u64 = EV_MAKE(EV_LISTENER, 0, i);
		if (epoll_ctl(w->w_epoll, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
		    w->w_listeners[i].ls_fd, &ev) == -1)
			log_warn("%s: epoll_ctl", __func__);
	}
	w->w_accepting = on;
}

/* loop_room - whether a new connection finds a slot, or can be given one */
static int
loop_room(struct worker *w)
{
	return conn_has_room(w) || evict_can(w);
}

/* loop_accept - take new connections from a listener */
static void
loop_accept(struct worker *w, int li)
{
	union conn_addr	 peer;
	socklen_t	 len;
	int		 fd, i;

	for (i = 0; i < LOOP_ACCEPT_BATCH; i++) {
		if (!loop_room(w)) {
			loop_listen(w, 0);	/* back when a slot frees */
			return;
		}
		len = sizeof(peer);
		/* Blocking on purpose: the backend gets the socket as it
		 * would from its own accept(); we use MSG_DONTWAIT. */
		fd = accept4(w->w_listeners[li].ls_fd, &peer.sa, &len,
		    SOCK_CLOEXEC);
		if (fd != -1) {
			/* Accepted first: nobody is evicted for nothing. */
			if (!conn_has_room(w))
				evict_for_room(w);
			if (w->w_fd_pauses > 0) {
				log_info("accept: resumed after %u pauses",
				    w->w_fd_pauses);
				w->w_fd_pauses = 0;
			}
			if (w->w_listeners[li].ls_proxy)
				upstream_start(w, li, fd, &peer);
			else
				peek_start(w, li, fd, &peer);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* Once per shortage: it may last minutes. */
			if (w->w_fd_pauses++ == 0)
				log_warn("accept: pausing %d ms at a time",
				    LOOP_FD_PAUSE_MS);
			loop_listen(w, 0);
			w->w_accept_resume = w->w_now + LOOP_FD_PAUSE_MS;
			return;
		}
		/* guard.c's tick: the listener was blocking; back to the
		 * loop, which takes SIGTERM and sets O_NONBLOCK again */
		if (errno == EINTR)
			return;
		/* ECONNABORTED, EPROTO, EPERM...: that client only. */
		if (errno != ECONNABORTED)
			log_warn("accept");
	}
}

/*
 * loop_stop - stop accepting; exit once every connection is done.  The
 * control socket stays watched: a stopping worker still writes access
 * lines, so it must still follow a reopened access log.
 */
static void
loop_stop(struct worker *w, const char *why)
{
	size_t	i;

	if (w->w_stopping)
		return;
	log_info("worker %d gen %u: %s; finishing %zu connections", w->w_index,
	    w->w_gen, why, w->w_pending);
	loop_listen(w, 0);
	/* Replaced in place: a fixed number is never free (fdslot.c). */
	for (i = 0; i < w->w_nlisteners; i++)
		fdslot_close(w->w_listeners[i].ls_fd);
	guard_stop();
	w->w_stopping = 1;
}

/* loop_ctl - the master wrote to the control socket, or went away */
static void
loop_ctl(struct worker *w)
{
	int	fd, r;

	while ((r = wconf_ctl_recv(w->w_ctl, &fd)) == 1)
		log_access_reopen(fd);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == -1 && errno == EBADMSG) {
		log_warnx("%s: a control message we do not know", __func__);
		return;
	}
	/* EOF (or an error: no message can come any more) */
	(void)epoll_ctl(w->w_epoll, EPOLL_CTL_DEL, w->w_ctl, NULL);
	loop_stop(w, "master is gone");
}

/* loop_timeout - ms until the earliest deadline, for epoll_wait */
static int
loop_timeout(struct worker *w)
{
	uint64_t	next = conn_next_deadline(w), d;

	if ((d = dispatch_next_deadline(w)) < next)
		next = d;
	if ((d = evict_next_deadline(w)) < next)
		next = d;
	if (!w->w_accepting && !w->w_stopping && w->w_accept_resume &&
	    w->w_accept_resume < next)
		next = w->w_accept_resume;
	if (next == UINT64_MAX)
		return -1;
	/* +1: the coarse clock must have passed the deadline on wakeup. */
	return next <= w->w_now ? 0 : (int)(next - w->w_now) + 1;
}

/* loop_dispatch - act on one epoll event */
static void
loop_dispatch(struct worker *w, const struct epoll_event *ev)
{
	uint32_t	i = EV_INDEX(ev->data.u64);

	switch (EV_KIND(ev->data.u64)) {
	case EV_LISTENER:
		if (!w->w_stopping)
			loop_accept(w, (int)i);
		break;
	case EV_CTL:
		loop_ctl(w);
		break;
	case EV_CHANNEL:
	case EV_RETIRED:
		dispatch_channel_event(w, (int)i,
		    EV_KIND(ev->data.u64) == EV_RETIRED, EV_USE(ev->data.u64),
		    ev->events);
		break;
	case EV_CONN:
		if (w->w_conns[i].cn_state == CONN_FREE ||
		    w->w_conns[i].cn_use != EV_USE(ev->data.u64))
			break;
		if (w->w_conns[i].cn_state == CONN_PROXY)
			upstream_event(w, &w->w_conns[i], ev->events);
		else
			peek_event(w, &w->w_conns[i], ev->events);
		break;
	case EV_WATCH:
		if (watch_read(w) > 0)
			dispatch_appeared(w);
		break;
	case EV_BROKER:
		/* The master is gone: the control socket says so too. */
		if (dispatch_answers(w) == -1)
			(void)epoll_ctl(w->w_epoll, EPOLL_CTL_DEL, w->w_broker,
			    NULL);
		break;
	}
}

/* loop_signals - SIGTERM/SIGINT set a flag, delivered only in epoll_pwait */
static void
loop_signals(sigset_t *during_wait)
{
	struct sigaction	sa;
	sigset_t		mask;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = loop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* The master reloads; a terminal's SIGHUP must not end us. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);	/* the master's: it reopens the log */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, during_wait);
	sigdelset(during_wait, SIGTERM);
	sigdelset(during_wait, SIGINT);
}

/* loop_run - serve until told to stop and every connection is done */
void
loop_run(struct worker *w)
{
	struct epoll_event	events[LOOP_EVENTS];
	sigset_t		during_wait;
	int			n, i;

	loop_signals(&during_wait);
	guard_start(&during_wait);
	w->w_now = clock_ms();
	loop_listen(w, 1);
	while (!w->w_stopping || w->w_pending > 0) {
		n = epoll_pwait(w->w_epoll, events, LOOP_EVENTS,
		    loop_timeout(w), &during_wait);
		if (n == -1 && errno != EINTR)
			fatal("epoll_pwait");
		w->w_now = clock_ms();
		if (loop_sigterm)
			loop_stop(w, "stopping");
		/* Before accepting: the flag may have been cleared meanwhile. */
		guard_check(w);
		for (i = 0; i < n; i++)
			loop_dispatch(w, &events[i]);
		upstream_expire(w);
		peek_expire(w);
		dispatch_expire(w);
		evict_log(w);
		if (!w->w_accepting && !w->w_stopping &&
		    loop_room(w) &&
		    w->w_now >= w->w_accept_resume)
			loop_listen(w, 1);
	}
}
