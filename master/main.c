/*
 * main.c - snitch, the master process.
 *
 * Started as root (or unprivileged, then it stays so): reads the config,
 * binds the listeners, drops privileges for good, and keeps `workers`
 * peeker processes running, and snitch-stats when `stats` is set
 * (stats.c).  It never reads a byte from a client, stats clients
 * included: snitch-stats answers them.
 * Signal handlers only set flags; the loop below acts on them:
 *   SIGHUP           reload: new workers with the new routes, old ones retire
 *   SIGUSR1          reopen the access log file (after logrotate moved it)
 *   SIGTERM, SIGINT  stop: workers finish what they hold, then exit
 *   SIGCHLD          reap, and restart workers (and snitch-stats) that died
 * A service manager is told (notify.c): READY=1 once every worker of
 * the first generation runs, RELOADING=1 then READY=1 around each
 * SIGHUP, STOPPING=1 at SIGTERM.  The listeners may come from it too
 * (socket activation, listen.c).
 * The access log file is opened here, as `user` (after the privilege
 * drop, so a reopen can do whatever the first open did), and passed to
 * the workers, which cannot open it themselves.  The process title is
 * "snitch: master" (proctitle.c, set up first thing in main).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "clock.h"
#include "conf.h"
#include "dumpable.h"
#include "listen.h"
#include "log.h"
#include "notify.h"
#include "penalty.h"
#include "privdrop.h"
#include "sockdir.h"
#include "proctitle.h"
#include "query.h"
#include "spawn.h"
#include "stats.h"
#include "table.h"

#define MAIN_CONF_DEFAULT	"/etc/snitch/snitch.ini"
#define MAIN_STOP_GRACE_MS	2000	/* beyond the configured timeouts */

static volatile sig_atomic_t	main_sighup, main_sigterm, main_sigchld;
static volatile sig_atomic_t	main_sigusr1;
static size_t			main_npassed;	/* sockets passed to us */
static size_t			main_nlisten;	/* as bound at start */
static char			main_restart_note[256];	/* for STATUS */

/* main_signal - note which signal arrived; the loop acts on it */
static void
main_signal(int sig)
{
	if (sig == SIGHUP)
		main_sighup = 1;
	else if (sig == SIGCHLD)
		main_sigchld = 1;
	else if (sig == SIGUSR1)
		main_sigusr1 = 1;
	else
		main_sigterm = 1;
}

/* main_usage - the command line, on error */
static void __attribute__((noreturn))
main_usage(void)
{
	fprintf(stderr, "usage: snitch [-c file] [-t | -T | -s] [-d] [-v] [-V]\n");
	exit(1);
}

/* main_verdict - what -t and -T say about a file conf_load accepted */
static void
main_verdict(FILE *out, const struct conf *cf)
{
	fprintf(out, "configuration OK%s\n", cf->cf_nlisten > 0 ? "" :
	    " (no listen: valid only when systemd passes the listening "
	    "sockets)");
}

/*
 * main_table - -T: the routing table on stdout, for a program to read;
 * the verdict -t prints goes to stderr then, as nginx -T does.
 */
static int
main_table(struct conf *cf)
{
	int	rc = 0;

	main_verdict(stderr, cf);
	if (table_print(cf, stdout) == -1) {
		fprintf(stderr, "snitch: -T: %s\n", strerror(errno));
		rc = 1;
	}
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "snitch: -T: stdout: %s\n", strerror(errno));
		rc = 1;
	}
	conf_free(cf);
	return rc;
}

/* main_exe - open the program called name, found next to this one */
static int
main_exe(const char *name)
{
	char	self[PATH_MAX], path[PATH_MAX + 32];
	ssize_t	n;
	int	fd;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dirname(self), name);
	/* Opened now: after the privilege drop it is run with fexecve. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fatal("%s", path);
	return fd;
}

/* main_signals - block the signals we handle; ppoll unblocks them */
static void
main_signals(sigset_t *during_wait)
{
	struct sigaction	 sa;
	sigset_t		 mask;
	int			 sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGCHLD,
				    SIGUSR1 };
	size_t			 i;

	sigemptyset(&mask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = main_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(&mask, sigs[i]);
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("sigaction");
	}
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, during_wait) == -1)
		fatal("sigprocmask");
	sigdelset(during_wait, SIGHUP);
	sigdelset(during_wait, SIGTERM);
	sigdelset(during_wait, SIGINT);
	sigdelset(during_wait, SIGCHLD);
	sigdelset(during_wait, SIGUSR1);
}

/*
 * main_access_open - open the access log file for appending; fd or -1
 * (ELOOP: a symbolic link is there).
 * A FIFO (a log shipper's) waits for its reader here, as before; from
 * then on the description is ours alone, so it gets O_NONBLOCK: a reader
 * that stalls makes the workers drop lines (counted), never wait.
 * O_NOFOLLOW: whoever may write the log's directory could otherwise
 * point the log at any file `user` may write, and have lines appended.
 */
static int
main_access_open(const char *path)
{
	struct stat	st;
	int		fd, fl;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
	    O_NOFOLLOW, 0640);
	if (fd == -1 || fstat(fd, &st) == -1 || S_ISREG(st.st_mode))
		return fd;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		log_warn("%s: O_NONBLOCK", path);
	return fd;
}

/*
 * main_reopen - SIGUSR1: open the access log file again (logrotate moved
 * it away) and pass it to the workers; if that fails, they keep the one
 * they have.
 */
static void
main_reopen(const struct conf *cf)
{
	int	fd;

	if (cf->cf_access_path == NULL) {
		log_info("reopen: the access log is not a file; nothing to do");
		return;
	}
	if ((fd = main_access_open(cf->cf_access_path)) == -1) {
		if (errno == ELOOP)
			log_warnx("reopen: access_log %s is a symbolic link, "
			    "which is never followed; keeping the open one",
			    cf->cf_access_path);
		else
			log_warn("reopen: cannot open %s, keeping the open one",
			    cf->cf_access_path);
		return;
	}
	spawn_access_log(fd);
	log_info("reopen: access log %s", cf->cf_access_path);
}

/* main_nofile - raise the descriptor limit as far as allowed */
static void
main_nofile(void)
{
	struct rlimit	rl;

	/* Workers inherit it: each pending connection is a descriptor. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("%s: setrlimit", __func__);
	}
}

/*
 * main_sandbox_note - say loudly that workers will run unconfined, at
 * start and at every reload that keeps it so
 */
static void
main_sandbox_note(const struct conf *cf)
{
	if (!cf->cf_wconf.wc_sandbox)
		log_warnx("SANDBOX OFF: sandbox = off in %s: workers run "
		    "without their system call filter and limits, and "
		    "dumpable (for debugging only)", cf->cf_file);
}

/* main_ready - READY=1 with what is being served */
static void
main_ready(const struct conf *cf)
{
	notify_send("READY=1", "serving %d workers, %zu backends, generation "
	    "%u%s", cf->cf_workers, cf->cf_wconf.wc_nbackends,
	    spawn_current_gen(), main_restart_note);
}

/*
 * main_restart_keys - give cf the running value of each key only a
 * restart can change, warn about each one the file changes (at every
 * reload, as long as it does), and write STATUS's note about them
 * into note; 0, or -1 (ENOMEM)
 */
static int
main_restart_keys(struct conf *cf, const struct conf *running, char *note,
    size_t size)
{
	const char	*changed[CONF_KEYS_MAX];
	size_t		 len = 0;
	int		 n, i;

	note[0] = '\0';
	if ((n = conf_restart_diff(running, cf, changed, CONF_KEYS_MAX)) == -1)
		return -1;
	for (i = 0; i < n && len < size; i++) {
		log_warnx("reload: %s changed; that needs a restart, keeping "
		    "the current one", changed[i]);
		len += (size_t)snprintf(note + len, size - len, "%s%s",
		    i ? ", " : "; ", changed[i]);
	}
	if (n > 0 && len < size)
		snprintf(note + len, size - len, " changed, needs a restart");
	return 0;
}

/*
 * main_reload - re-read the config; keep everything if it is invalid.
 * 1: a new generation is starting (READY=1 is due once it runs);
 * 0: the running one stays, and READY=1 was sent with the reason.
 */
static int
main_reload(struct conf **running, const char *path)
{
	char		 err[CONF_ERR_MAX], note[sizeof(main_restart_note)];
	struct conf	*cf;

	notify_reloading();
	if ((cf = conf_load_with(path, main_npassed ? CONF_LISTEN_PASSED : 0,
	    err, sizeof(err))) == NULL) {
		log_warnx("reload: %s; keeping the running configuration", err);
		stats_reloaded(0);
		notify_send("READY=1", "reload refused: %s; serving "
		    "generation %u%s", err, spawn_current_gen(),
		    main_restart_note);
		return 0;
	}
	if (main_restart_keys(cf, *running, note, sizeof(note)) == -1) {
		log_warn("reload: out of memory; keeping the running "
		    "configuration");
		notify_send("READY=1", "reload failed: out of memory; "
		    "serving generation %u%s", spawn_current_gen(),
		    main_restart_note);
		stats_reloaded(0);
		conf_free(cf);
		return 0;
	}
	if (spawn_generation(cf) == -1) {
		log_warn("reload: cannot pass the new configuration to workers;"
		    " keeping the running configuration");
		notify_send("READY=1", "reload failed: cannot pass the new "
		    "configuration to workers; serving generation %u%s",
		    spawn_current_gen(), main_restart_note);
		conf_free(cf);
		stats_reloaded(0);
		return 0;
	}
	stats_reloaded(1);
	/* What STATUS says from now on, until a reload says otherwise. */
	memcpy(main_restart_note, note, sizeof(note));
	log_set_level(cf->cf_wconf.wc_log_level);
	sockdir_check(cf);
	main_sandbox_note(cf);
	log_info("reload: configuration generation %u loaded from %s: "
	    "%zu backends, %zu names, %zu alpn routes, %d workers",
	    spawn_current_gen(), path, cf->cf_wconf.wc_nbackends,
	    names_count(cf->cf_wconf.wc_names),
	    routes_count(cf->cf_wconf.wc_routes), cf->cf_workers);
	conf_free(*running);
	*running = cf;
	return 1;
}

/* main_reap - collect every child that exited: a worker, or snitch-stats */
static void
main_reap(uint64_t now)
{
	pid_t	pid;
	int	status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (!spawn_exited(pid, status, now))
			(void)stats_exited(pid, status, now);
}

/* main_soonest - the earlier of two waits in ms (-1: none) */
static int
main_soonest(int a, int b)
{
	return a < 0 || (b >= 0 && b < a) ? b : a;
}

/* main_loop - act on signals and restart timers until stopped */
static void __attribute__((noreturn))
main_loop(struct conf *cf, const char *path, int *listen_fds,
    const sigset_t *during_wait)
{
	struct pollfd	 pfd;
	struct timespec	 ts, *tsp;
	uint64_t	 now, stop_deadline = 0;
	int		 wait_ms, ready_due = 1;
	size_t		 i;

	for (;;) {
		now = clock_ms();
		/* Stop first: a signal to the whole process group also
		 * ends the workers, which must not be restarted then. */
		if (main_sigterm && stop_deadline == 0) {
			log_info("stopping: workers finish what they hold");
			notify_send("STOPPING=1", "stopping: workers finish "
			    "what they hold");
			spawn_stop();
			stats_stop();
			/* The count bound at start: a reload never rebinds. */
			for (i = 0; i < main_nlisten; i++)
				close(listen_fds[i]);
			stop_deadline = now + cf->cf_wconf.wc_peek_timeout_ms +
			    cf->cf_wconf.wc_handoff_timeout_ms +
			    MAIN_STOP_GRACE_MS;
		}
		if (main_sigchld) {
			main_sigchld = 0;
			main_reap(now);
		}
		if (stop_deadline && spawn_alive() == 0) {
			log_info("stopped");
			conf_free(cf);
			exit(0);
		}
		if (stop_deadline && now >= stop_deadline) {
			spawn_kill();
			stop_deadline = now + MAIN_STOP_GRACE_MS;
		}
		if (main_sighup && stop_deadline == 0) {
			main_sighup = 0;
			ready_due = main_reload(&cf, path);
		}
		/*
		 * READY=1 once every worker of the generation has been
		 * forked and has exec'd snitch-worker: the listeners queue
		 * clients from the start, and these workers take them as
		 * soon as their loop runs.  A fork or exec that failed
		 * holds it back until its retry (spawn_due) works.
		 */
		if (ready_due && stop_deadline == 0 && spawn_gen_started()) {
			ready_due = 0;
			main_ready(cf);
		}
		if (main_sigusr1) {
			main_sigusr1 = 0;
			main_reopen(cf);
		}
		wait_ms = stop_deadline ? (int)(stop_deadline - now) :
		    spawn_due(now);
		/* Last: it pushes what everything above changed. */
		if (stop_deadline == 0) {
			wait_ms = main_soonest(wait_ms, penalty_due(now));
			wait_ms = main_soonest(wait_ms, stats_due(now));
		}
		tsp = NULL;
		if (wait_ms >= 0) {
			ts.tv_sec = wait_ms / 1000;
			ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
			tsp = &ts;
		}
		/* The workers' channel requests (broker.c): never waits. */
		pfd.fd = broker_fd();
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (ppoll(&pfd, 1, tsp, during_wait) == -1 && errno != EINTR)
			fatal("ppoll");
		if (pfd.revents & POLLIN)
			broker_serve();
		/* Listeners closed: the penalties do not matter any more. */
		if (stop_deadline == 0)
			penalty_apply(cf, listen_fds, main_nlisten, clock_ms());
	}
}

int
main(int argc, char **argv)
{
	const char	*path = MAIN_CONF_DEFAULT;
	char		 err[CONF_ERR_MAX];
	struct conf	*cf;
	sigset_t	 during_wait;
	int		 ch, test = 0, table = 0, query = 0, daemonize = 0;
	int		 verbose = 0;
	int		 exe_fd, stats_exe = -1, stats_fd = -1, access_fd = -1;
	int		*listen_fds;

	proctitle_init(argc, argv);
	while ((ch = getopt(argc, argv, "c:tTsdvV")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': test = 1; break;
		case 'T': test = table = 1; break;
		case 's': query = 1; break;
		case 'd': daemonize = 1; break;
		case 'v': verbose++; break;
		case 'V': printf("snitch %s\n", SNITCH_VERSION); return 0;
		default: main_usage();
		}
	}
	if (optind != argc)
		main_usage();
	log_init("snitch", 0, verbose);
	/* Before anything worth stealing: the listeners, systemd's sockets. */
	if (dumpable_set(0) == -1)
		fatal("PR_SET_DUMPABLE");
	/* Before the workers inherit it: no log line may make them wait. */
	log_stderr_own();
	/*
	 * Taken before the file is read: with them, listen is optional.
	 * -t cannot know whether systemd will pass sockets: it says so.
	 */
	if (!test && !query)
		main_npassed = listen_passed_init();
	if ((cf = conf_load_with(path, main_npassed || test ?
	    CONF_LISTEN_PASSED : 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (table)
		return main_table(cf);
	if (test) {
		main_verdict(stdout, cf);
		conf_free(cf);
		return 0;
	}
	if (query) {
		if (cf->cf_stats == NULL)
			fatalx("%s: no stats socket to ask: set stats = PATH "
			    "or ADDRESS:PORT in [snitch]", path);
		ch = query_summary(cf);
		conf_free(cf);
		return ch;
	}
	if (geteuid() == 0 && cf->cf_user == NULL)
		fatalx("%s: started as root, so [snitch] needs user = (the "
		    "unprivileged user SNItch runs as)", path);
	exe_fd = main_exe("snitch-worker");
	/* As root, before the drop: every directory can be looked at. */
	sockdir_check(cf);
	/* Before the listeners: once a client can connect, a reload or a
	 * stop may come, and must not find the default action (death). */
	main_signals(&during_wait);
	listen_fds = listen_setup(cf);
	main_nlisten = cf->cf_nlisten;
	/* Connected before the drop: the socket may be root's only. */
	notify_init();
	if (cf->cf_stats != NULL) {
		stats_exe = main_exe("snitch-stats");
		stats_fd = stats_listen(cf);
	}
	main_nofile();
	/* Workers chroot themselves, at every start: see privdrop.c. */
	if (cf->cf_wconf.wc_chroot != NULL)
		privdrop_chroot();
	/* The listeners' SYN filter (penalty.c) may need CAP_NET_ADMIN. */
	if (cf->cf_wconf.wc_penalty_ms > 0)
		privdrop_net_admin_keep();
	privdrop(cf->cf_user);
	if (cf->cf_access_path != NULL &&
	    (access_fd = main_access_open(cf->cf_access_path)) == -1) {
		if (errno == ELOOP)
			fatalx("access_log %s is a symbolic link, which is "
			    "never followed: give the file's own path",
			    cf->cf_access_path);
		fatal("access_log %s (opened as the user snitch runs as)",
		    cf->cf_access_path);
	}
	log_set_level(cf->cf_wconf.wc_log_level);
	if (daemonize) {
		log_init("snitch", 1, verbose);
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_forked();
	}
	/* The title is written over argv, where optarg points. */
	if ((path = strdup(path)) == NULL)
		fatal("strdup");
	proctitle_set("snitch: master");
	if (broker_init() == -1)
		fatal("broker_init");
	spawn_init(exe_fd, listen_fds, cf->cf_nlisten, daemonize, verbose);
	stats_init(stats_exe, stats_fd, daemonize, verbose);
	if (access_fd != -1)
		spawn_access_log(access_fd);
	if (spawn_generation(cf) == -1)
		fatal("cannot pass the configuration to workers");
	stats_reloaded(1);
	main_sandbox_note(cf);
	log_info("started: %d workers, %zu backends, %zu names, %zu alpn "
	    "routes, uid %ld", cf->cf_workers, cf->cf_wconf.wc_nbackends,
	    names_count(cf->cf_wconf.wc_names),
	    routes_count(cf->cf_wconf.wc_routes), (long)getuid());
	main_loop(cf, path, listen_fds, &during_wait);
}
