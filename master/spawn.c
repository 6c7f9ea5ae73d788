/*
 * spawn.c - start the peeker workers, restart the ones that die, retire
 * a generation on reload.
 *
 * Runs in the master, after privileges are dropped.  Each worker is
 * started by child.c (fork + fexecve of snitch-worker, a fresh address
 * space for the process that parses hostile bytes, with the exec
 * awaited and young deaths throttled) with fixed descriptors, as
 * common/wconf.h defines them:
 *   3  WCONF_FD           the generation's worker configuration (a
 *                         sealed memfd)
 *   4  WCONF_CTL_FD       the control socket: the master sends the
 *                         reopened access log on it; EOF = master gone
 *   5  WCONF_COUNTERS_FD  the generation's shared counters memfd
 *   6  WCONF_ACCESS_FD    the access log file, when it is a file
 *   7  WCONF_BROKER_FD    the broker socket: the worker asks for its
 *                         channels, broker.c connects them for it
 *   8+ WCONF_LISTEN_FD    the listening sockets (-l says how many)
 * With `chroot`, the worker is given CAP_SYS_CHROOT as an ambient
 * capability (child.c): it chroots, then drops it.
 *
 * A generation's slots are folded into spawn_gone_totals (tally.c) when
 * its last worker is gone; stats.c reads them, and the live slots,
 * from here.  spawn_version() changes with anything stats.c shows.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bsd/sys/queue.h>

#include "broker.h"
#include "child.h"
#include "clock.h"
#include "log.h"
#include "spawn.h"
#include "tally.h"
#include "wconf.h"

/*
 * A configuration generation: the routes every worker of it was started
 * with, and the counters its workers write.  It lives until its last
 * worker is gone; then its counts are folded into spawn_gone_totals.
 */
struct gen {
	unsigned		 g_number;
	int			 g_wconf_fd;	/* sealed memfd, for restarts */
	int			 g_counters_fd;
	void			*g_counters;	/* mapped shared, read here */
	size_t			 g_counters_size;
	size_t			 g_nworkers;
	size_t			 g_nbackends;
	struct wconf_backend	*g_backends;	/* names, for the counters */
	struct wconf		 g_wconf;	/* decoded from g_wconf_fd: what
						   its workers may connect to */
	int			 g_chroot;	/* its workers chroot */
	size_t			 g_refs;	/* workers not yet forgotten */
	TAILQ_ENTRY(gen)	 g_link;
};

struct worker {
	pid_t			 wk_pid;	/* 0: waiting for wk_respawn_ms */
	int			 wk_index;
	struct gen		*wk_gen;
	int			 wk_ctl;	/* our end of its control socket, or -1 */
	int			 wk_broker_fd;	/* our end of its broker socket,
						   or -1 */
	struct broker_peer	*wk_broker;	/* broker.c's, while it runs */
	int			 wk_retiring;
	struct child_throttle	 wk_throttle;
	uint64_t		 wk_respawn_ms;
	TAILQ_ENTRY(worker)	 wk_link;
};

TAILQ_HEAD(worker_list, worker);
static struct worker_list spawn_workers =
    TAILQ_HEAD_INITIALIZER(spawn_workers);
static TAILQ_HEAD(gen_list, gen) spawn_gens = TAILQ_HEAD_INITIALIZER(spawn_gens);
static int		 spawn_exe_fd = -1;
static int		 spawn_access_fd = -1;
static const int	*spawn_listen_fds;
static size_t		 spawn_nlisten;
static int		 spawn_syslog;
static int		 spawn_verbose;
static unsigned		 spawn_gen_number;
static int		 spawn_stopping;
static struct tally	 spawn_gone_totals;	/* generations all gone */
static uint64_t		 spawn_restart_count;
static uint64_t		 spawn_changes;	/* spawn_version */

/* spawn_init - what every worker will be given */
void
spawn_init(int exe_fd, const int *listen_fds, size_t nlisten, int use_syslog,
    int verbose)
{
	spawn_exe_fd = exe_fd;
	spawn_listen_fds = listen_fds;
	spawn_nlisten = nlisten;
	spawn_syslog = use_syslog;
	spawn_verbose = verbose;
}

/*
 * spawn_access_log - the access log file is now fd (the master opened it
 * again on SIGUSR1): pass it to every running worker, old generations'
 * too, and to every worker started from now on.  A worker that misses it
 * keeps writing to the file it had: no line is lost either way.
 */
void
spawn_access_log(int fd)
{
	struct worker	*wk;

	TAILQ_FOREACH(wk, &spawn_workers, wk_link)
		if (wk->wk_pid > 0 && wk->wk_ctl != -1 &&
		    wconf_ctl_send(wk->wk_ctl, fd) == -1)
			log_warn("worker %d (pid %ld): cannot pass the reopened "
			    "access log", wk->wk_index, (long)wk->wk_pid);
	if (spawn_access_fd != -1)
		close(spawn_access_fd);
	spawn_access_fd = fd;
}

static void	spawn_died(struct worker *, int, uint64_t);

/* spawn_close - close our ends of wk's sockets: it is gone */
static void
spawn_close(struct worker *wk)
{
	broker_remove(wk->wk_broker);
	wk->wk_broker = NULL;
	if (wk->wk_broker_fd != -1)
		close(wk->wk_broker_fd);
	wk->wk_broker_fd = -1;
	if (wk->wk_ctl != -1)
		close(wk->wk_ctl);
	wk->wk_ctl = -1;
}

/* spawn_exec - worker wk's program, arguments and fixed descriptors */
static enum child_start
spawn_exec(struct worker *wk, int ctl, int broker, int *status)
{
	char			 index[16], gen[16], nlisten[16];
	char			*argv[] = { "snitch-worker", "-i", index, "-g",
				    gen, "-l", nlisten, NULL, NULL, NULL };
	int			 from[5 + CONF_LISTEN_MAX];
	int			 to[5 + CONF_LISTEN_MAX];
	struct child_exec	 ce = { "worker", spawn_exe_fd, argv, from, to,
				    0, wk->wk_gen->g_chroot };
	int			 argc = 7;
	size_t			 i;

#define SPAWN_FD(src, dst)	(from[ce.ce_nfds] = (src), to[ce.ce_nfds++] = (dst))
	SPAWN_FD(wk->wk_gen->g_wconf_fd, WCONF_FD);
	SPAWN_FD(ctl, WCONF_CTL_FD);
	SPAWN_FD(wk->wk_gen->g_counters_fd, WCONF_COUNTERS_FD);
	if (spawn_access_fd != -1)
		SPAWN_FD(spawn_access_fd, WCONF_ACCESS_FD);
	SPAWN_FD(broker, WCONF_BROKER_FD);
	for (i = 0; i < spawn_nlisten; i++)
		SPAWN_FD(spawn_listen_fds[i], WCONF_LISTEN_FD + (int)i);
#undef SPAWN_FD
	snprintf(index, sizeof(index), "%d", wk->wk_index);
	snprintf(gen, sizeof(gen), "%u", wk->wk_gen->g_number);
	snprintf(nlisten, sizeof(nlisten), "%zu", spawn_nlisten);
	if (spawn_syslog)
		argv[argc++] = "-s";
	if (spawn_verbose)
		argv[argc++] = "-v";
	return child_start(&ce, &wk->wk_pid, status);
}

/* spawn_start - fork and exec one worker; on failure, retry later */
static void
spawn_start(struct worker *wk, uint64_t now_ms)
{
	enum child_start	started;
	int			ctl, child_ctl_end, broker, child_broker_end;
	int			status;

	if (child_ctl(&ctl, &child_ctl_end) == -1) {
		log_warn("worker %d: control socket", wk->wk_index);
		wk->wk_respawn_ms = now_ms + 1000;
		return;
	}
	if (broker_pair(&broker, &child_broker_end) == -1) {
		log_warn("worker %d: broker socket", wk->wk_index);
		close(ctl);
		close(child_ctl_end);
		wk->wk_respawn_ms = now_ms + 1000;
		return;
	}
	started = spawn_exec(wk, child_ctl_end, child_broker_end, &status);
	close(child_ctl_end);
	close(child_broker_end);
	wk->wk_ctl = ctl;
	wk->wk_broker_fd = broker;
	if (started == CHILD_NOT_FORKED) {
		log_warn("worker %d: fork", wk->wk_index);
		spawn_close(wk);
		wk->wk_pid = 0;
		wk->wk_respawn_ms = now_ms + 1000;
		return;
	}
	/* Without it the worker gets no channel: each of its clients is
	 * refused as if every backend were down, until it is restarted. */
	if ((wk->wk_broker = broker_add(broker, &wk->wk_gen->g_wconf,
	    wk->wk_index, wk->wk_gen->g_number)) == NULL)
		log_warn("worker %d: its channel requests cannot be served",
		    wk->wk_index);
	wk->wk_throttle.ct_started_ms = now_ms;
	log_debug("%s: worker %d gen %u is pid %ld", __func__, wk->wk_index,
	    wk->wk_gen->g_number, (long)wk->wk_pid);
	/* Handled as a death: the worker is retried after its delay. */
	if (started == CHILD_EXEC_FAILED)
		spawn_died(wk, status, now_ms);
}

/* spawn_wconf - the sealed memfd holding a generation's configuration */
static int
spawn_wconf(const struct conf *cf)
{
	int	fd;

	if ((fd = memfd_create("snitch-wconf", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	/* Sealed: a compromised worker cannot rewrite its siblings' config. */
	if (wconf_encode(&cf->cf_wconf, fd) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK |
	    F_SEAL_GROW | F_SEAL_SEAL) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * spawn_wconf_read - g's configuration as its workers read it, from its
 * memfd: what broker.c checks their requests against; 0 or -1
 */
static int
spawn_wconf_read(struct gen *g)
{
	struct stat	 st;
	void		*blob;
	int		 rc;

	if (fstat(g->g_wconf_fd, &st) == -1 || st.st_size <= 0)
		return -1;
	blob = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
	    g->g_wconf_fd, 0);
	if (blob == MAP_FAILED)
		return -1;
	rc = wconf_decode(blob, (size_t)st.st_size, &g->g_wconf);
	munmap(blob, (size_t)st.st_size);
	return rc;
}

/* spawn_gen_free - release a generation */
static void
spawn_gen_free(struct gen *g)
{
	if (g->g_counters != NULL && g->g_counters != MAP_FAILED)
		munmap(g->g_counters, g->g_counters_size);
	if (g->g_counters_fd != -1)
		close(g->g_counters_fd);
	if (g->g_wconf_fd != -1)
		close(g->g_wconf_fd);
	wconf_clear(&g->g_wconf);
	free(g->g_backends);
	free(g);
}

/* spawn_gen_new - a generation for cf: its routes and zeroed counters */
static struct gen *
spawn_gen_new(const struct conf *cf)
{
	const struct wconf	*wc = &cf->cf_wconf;
	struct gen		*g;
	size_t			 i;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->g_wconf_fd = g->g_counters_fd = -1;
	g->g_nworkers = (size_t)cf->cf_workers;
	/* Backends, then tenants: each tenant is counted as one entry. */
	g->g_nbackends = wconf_counted(wc);
	g->g_chroot = wc->wc_chroot != NULL;
	g->g_counters_size = counters_size(g->g_nworkers, g->g_nbackends);
	if ((g->g_backends = calloc(g->g_nbackends ? g->g_nbackends : 1,
	    sizeof(*g->g_backends))) == NULL ||
	    (g->g_wconf_fd = spawn_wconf(cf)) == -1 ||
	    spawn_wconf_read(g) == -1)
		goto fail;
	for (i = 0; i < g->g_nbackends; i++)
		wconf_counted_name(wc, i, g->g_backends[i].wb_name,
		    sizeof(g->g_backends[i].wb_name));
	g->g_counters_fd = memfd_create("snitch-counters", MFD_CLOEXEC);
	if (g->g_counters_fd == -1 ||
	    ftruncate(g->g_counters_fd, (off_t)g->g_counters_size) == -1)
		goto fail;
	g->g_counters = mmap(NULL, g->g_counters_size, PROT_READ, MAP_SHARED,
	    g->g_counters_fd, 0);
	if (g->g_counters == MAP_FAILED)
		goto fail;
	g->g_number = ++spawn_gen_number;
	spawn_changes++;
	TAILQ_INSERT_TAIL(&spawn_gens, g, g_link);
	return g;
fail:
	spawn_gen_free(g);
	return NULL;
}

/* spawn_gen_unref - a worker of g is gone; fold g away with its last */
static void
spawn_gen_unref(struct gen *g)
{
	size_t	i;

	if (--g->g_refs > 0 || g == TAILQ_LAST(&spawn_gens, gen_list))
		return;
	for (i = 0; i < g->g_nworkers; i++)
		if (tally_add(&spawn_gone_totals, counters_slot(g->g_counters,
		    g->g_nbackends, i), g->g_nbackends, g->g_backends, 1) == -1)
			log_warn("%s: generation %u: a backend's counts are "
			    "lost", __func__, g->g_number);
	TAILQ_REMOVE(&spawn_gens, g, g_link);
	spawn_gen_free(g);
	spawn_changes++;
}

/*
 * spawn_retire - ask a worker to finish what it holds and exit.  Its
 * pipe stays open until it is reaped: EOF there means "master died".
 */
static void
spawn_retire(struct worker *wk)
{
	wk->wk_retiring = 1;
	if (wk->wk_pid > 0)
		kill(wk->wk_pid, SIGTERM);
}

/* spawn_forget - drop a worker that is gone for good */
static void
spawn_forget(struct worker *wk)
{
	spawn_close(wk);
	TAILQ_REMOVE(&spawn_workers, wk, wk_link);
	spawn_gen_unref(wk->wk_gen);
	free(wk);
}

/* spawn_fresh_free - free the workers of list, never started */
static void
spawn_fresh_free(struct worker_list *list)
{
	struct worker	*wk;

	while ((wk = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, wk, wk_link);
		free(wk);
	}
}

/*
 * spawn_fresh - n workers, not started, in list; 0, or -1 (ENOMEM)
 * with list empty.  Made before anything changes: a reload that runs
 * out of memory keeps the running generation.
 */
static int
spawn_fresh(struct worker_list *list, int n)
{
	struct worker	*wk;
	int		 i;

	TAILQ_INIT(list);
	for (i = 0; i < n; i++) {
		if ((wk = calloc(1, sizeof(*wk))) == NULL) {
			spawn_fresh_free(list);
			return -1;
		}
		wk->wk_index = i;
		wk->wk_ctl = -1;
		wk->wk_broker_fd = -1;
		TAILQ_INSERT_TAIL(list, wk, wk_link);
	}
	return 0;
}

/*
 * spawn_generation - start cf_workers workers with cf's routes, then
 * retire the previous generation; 0, or -1 with errno and nothing
 * changed.
 */
int
spawn_generation(const struct conf *cf)
{
	struct worker_list	 fresh;
	struct worker		*wk, *next;
	struct gen		*g, *old = TAILQ_LAST(&spawn_gens, gen_list);
	uint64_t		 now = clock_ms();

	if (spawn_fresh(&fresh, cf->cf_workers) == -1)
		return -1;
	if ((g = spawn_gen_new(cf)) == NULL) {
		spawn_fresh_free(&fresh);
		return -1;
	}
	/* Held while its workers go, so it is folded away exactly once. */
	if (old != NULL)
		old->g_refs++;
	TAILQ_FOREACH_SAFE(wk, &spawn_workers, wk_link, next) {
		if (wk->wk_pid == 0)
			spawn_forget(wk);
		else
			spawn_retire(wk);
	}
	if (old != NULL)
		spawn_gen_unref(old);
	while ((wk = TAILQ_FIRST(&fresh)) != NULL) {
		TAILQ_REMOVE(&fresh, wk, wk_link);
		wk->wk_gen = g;
		g->g_refs++;
		TAILQ_INSERT_TAIL(&spawn_workers, wk, wk_link);
		spawn_start(wk, now);
	}
	return 0;
}

/* spawn_died - log a worker's end and decide when it comes back */
static void
spawn_died(struct worker *wk, int status, uint64_t now_ms)
{
	char		 how[160];
	uint64_t	 delay;

	child_how(status, how, sizeof(how));
	if (wk->wk_retiring || spawn_stopping) {
		log_debug("%s: worker %d gen %u pid %ld %s", __func__,
		    wk->wk_index, wk->wk_gen->g_number, (long)wk->wk_pid, how);
		spawn_forget(wk);
		return;
	}
	delay = child_delay(&wk->wk_throttle, now_ms);
	spawn_restart_count++;
	spawn_changes++;
	log_warnx("worker %d (pid %ld) %s; restarting it %s%.1fs", wk->wk_index,
	    (long)wk->wk_pid, how, delay ? "in " : "now, after ", delay ?
	    delay / 1000.0 : (now_ms - wk->wk_throttle.ct_started_ms) / 1000.0);
	spawn_close(wk);
	wk->wk_pid = 0;
	wk->wk_respawn_ms = now_ms + delay;
}

/* spawn_exited - pid ended with status: 1 if it was a worker */
int
spawn_exited(pid_t pid, int status, uint64_t now_ms)
{
	struct worker	*wk;

	TAILQ_FOREACH(wk, &spawn_workers, wk_link)
		if (wk->wk_pid == pid) {
			spawn_died(wk, status, now_ms);
			return 1;
		}
	return 0;
}

/* spawn_due - restart workers whose delay is over; ms to the next, or -1 */
int
spawn_due(uint64_t now_ms)
{
	struct worker	*wk;
	uint64_t	 next = UINT64_MAX;

	TAILQ_FOREACH(wk, &spawn_workers, wk_link) {
		if (wk->wk_pid != 0 || spawn_stopping)
			continue;
		if (wk->wk_respawn_ms <= now_ms)
			spawn_start(wk, now_ms);
		if (wk->wk_pid == 0 && wk->wk_respawn_ms < next)
			next = wk->wk_respawn_ms;
	}
	return next == UINT64_MAX ? -1 : (int)(next - now_ms);
}

/* spawn_stop - retire every worker; nothing is restarted from now on */
void
spawn_stop(void)
{
	struct worker	*wk, *next;

	spawn_stopping = 1;
	TAILQ_FOREACH_SAFE(wk, &spawn_workers, wk_link, next) {
		if (wk->wk_pid == 0)
			spawn_forget(wk);
		else
			spawn_retire(wk);
	}
}

/* spawn_kill - end the workers that outlived the stop deadline */
void
spawn_kill(void)
{
	struct worker	*wk;

	TAILQ_FOREACH(wk, &spawn_workers, wk_link)
		if (wk->wk_pid > 0) {
			log_warnx("worker %d (pid %ld) did not stop in time; "
			    "killing it", wk->wk_index, (long)wk->wk_pid);
			kill(wk->wk_pid, SIGKILL);
		}
}

/* spawn_alive - how many workers are running */
size_t
spawn_alive(void)
{
	struct worker	*wk;
	size_t		 n = 0;

	TAILQ_FOREACH(wk, &spawn_workers, wk_link)
		n += wk->wk_pid > 0;
	return n;
}

/*
 * spawn_gen_started - whether every worker of the newest generation is
 * running snitch-worker (forked and exec'd; a fork or exec that failed,
 * or a worker waiting for its restart delay, is not started)
 */
int
spawn_gen_started(void)
{
	struct gen	*g = TAILQ_LAST(&spawn_gens, gen_list);
	struct worker	*wk;

	TAILQ_FOREACH(wk, &spawn_workers, wk_link)
		if (wk->wk_gen == g && wk->wk_pid == 0)
			return 0;
	return g != NULL;
}

/* spawn_current_gen - the configuration generation now being served */
unsigned
spawn_current_gen(void)
{
	return spawn_gen_number;
}

/*
 * spawn_live - call fn on every running generation: its number, its
 * counters memfd, how many workers and backends, the backends' names
 */
void
spawn_live(void (*fn)(void *, unsigned, int, size_t, size_t,
    const struct wconf_backend *), void *arg)
{
	struct gen	*g;

	TAILQ_FOREACH(g, &spawn_gens, g_link)
		fn(arg, g->g_number, g->g_counters_fd, g->g_nworkers,
		    g->g_nbackends, g->g_backends);
}

/* spawn_gone - the totals of the generations whose workers are all gone */
const struct tally *
spawn_gone(void)
{
	return &spawn_gone_totals;
}

/* spawn_restarts - how many workers died and were restarted */
uint64_t
spawn_restarts(void)
{
	return spawn_restart_count;
}

/* spawn_version - changes whenever a generation or a restart count does */
uint64_t
spawn_version(void)
{
	return spawn_changes;
}
