/*
 * guard.c - keep the worker's accept from waiting, whoever clears
 * O_NONBLOCK on a shared listener.
 *
 * Runs in the worker, unprivileged, inside its sandbox (setitimer on
 * ITIMER_REAL and fcntl F_GETFL/F_SETFL are in its filter for this).
 * O_NONBLOCK is a flag of the open file description, which every
 * holder of a listener shares: the master, every worker, and anyone
 * who got a copy (a worker taken over by a client; before dumpable.c,
 * any process of the run-as user, with pidfd_getfd).  Cleared, accept4
 * in loop.c would wait for the next client while every other
 * connection and SIGTERM (taken only in epoll_pwait) waited with it.
 * Correctness must not rest on a flag someone else can flip, so:
 *
 * An interval timer (ITIMER_REAL, every GUARD_TICK_MS) sends SIGALRM,
 * whose handler only sets a flag and has no SA_RESTART: an accept4
 * that waits returns EINTR within a tick and loop_accept goes back to
 * the loop.  At each tick the loop calls guard_check, which reads each
 * listener's flags and sets O_NONBLOCK again where it is gone, logged
 * once per burst (GUARD_LOG_MS).  SIGALRM is blocked while the loop
 * sleeps in epoll_pwait, so ticks never wake an idle worker; one that
 * came meanwhile is delivered as epoll_pwait returns, so the flags are
 * checked before the accepts it woke up for.  Nothing is added per
 * accept.  SO_RCVTIMEO would bound accept4 too, but it is the socket's,
 * so whoever can clear the flag can clear that as well; the timer is
 * this process's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"
#include "worker.h"

#define GUARD_TICK_MS	250	/* longest wait in accept4 */
#define GUARD_LOG_MS	10000	/* one line per burst of clearing */

static volatile sig_atomic_t	guard_ticked;
static uint64_t			guard_logged;	/* w_now of the last line */
static unsigned int		guard_unlogged;	/* restored since then */

/* guard_signal - SIGALRM: note the tick; a waiting accept4 gets EINTR */
static void
guard_signal(int sig)
{
	(void)sig;
	guard_ticked = 1;
}

/* guard_timer - start (ms > 0) or stop (0) the interval timer */
static int
guard_timer(int ms)
{
	struct itimerval	it;

	memset(&it, 0, sizeof(it));
	it.it_interval.tv_sec = ms / 1000;
	it.it_interval.tv_usec = (ms % 1000) * 1000;
	it.it_value = it.it_interval;
	return setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * guard_start - the SIGALRM handler and the timer; SIGALRM is added to
 * during_wait, the mask loop.c sleeps in epoll_pwait with
 */
void
guard_start(sigset_t *during_wait)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = guard_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: accept4 must return */
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		fatal("%s: sigaction SIGALRM", __func__);
	sigaddset(during_wait, SIGALRM);
	if (guard_timer(GUARD_TICK_MS) == -1)
		fatal("%s: setitimer", __func__);
}

/* guard_stop - no more ticks: the listeners are closed, nothing accepts */
void
guard_stop(void)
{
	if (guard_timer(0) == -1)
		log_warn("%s: setitimer", __func__);
}

/* guard_restore - set O_NONBLOCK on ls again if it is gone; 1 if it was */
static int
guard_restore(const struct listener *ls)
{
	int	fl;

	if ((fl = fcntl(ls->ls_fd, F_GETFL)) == -1) {
		log_warn("%s: listener %s: F_GETFL", __func__, ls->ls_text);
		return 0;
	}
	if (fl & O_NONBLOCK)
		return 0;
	if (fcntl(ls->ls_fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		log_warn("%s: listener %s: F_SETFL O_NONBLOCK", __func__,
		    ls->ls_text);
		return 0;
	}
	return 1;
}

/*
 * guard_check - after a tick: put O_NONBLOCK back on every listener
 * that lost it; the first time in a burst, and what the burst added
 * once it is GUARD_LOG_MS old, is logged
 */
void
guard_check(struct worker *w)
{
	const char	*which = NULL;
	unsigned int	 n = 0;
	size_t		 i;

	if (!guard_ticked)
		return;
	guard_ticked = 0;
	if (w->w_stopping)
		return;
	for (i = 0; i < w->w_nlisteners; i++)
		if (guard_restore(&w->w_listeners[i])) {
			which = w->w_listeners[i].ls_text;
			n++;
		}
	if (n > 0 && (guard_logged == 0 ||
	    w->w_now - guard_logged >= GUARD_LOG_MS)) {
		log_warnx("listener %s: O_NONBLOCK was cleared by another "
		    "process holding it; set again (an accept waited %d ms "
		    "at most; %u more since the last such line)", which,
		    GUARD_TICK_MS, guard_unlogged + n - 1);
		guard_logged = w->w_now;
		guard_unlogged = 0;
	} else if (n > 0)
		guard_unlogged += n;
	else if (guard_unlogged > 0 && w->w_now - guard_logged >= GUARD_LOG_MS) {
		log_warnx("listeners: O_NONBLOCK was cleared and set again %u "
		    "times more in the last %d s", guard_unlogged,
		    GUARD_LOG_MS / 1000);
		guard_logged = w->w_now;
		guard_unlogged = 0;
	}
}
