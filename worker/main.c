/*
 * main.c - snitch-worker, a peeker process.
 *
 * Started only by the master (fork + fexecve), already unprivileged,
 * with its descriptors at fixed numbers (see wconf.h).  It reads its
 * routes from the configuration memfd, then runs the event loop until
 * the master tells it to stop or goes away.  Its process title is
 * "snitch: worker N gen G" (proctitle.c; set up first thing in main).
 * Once its configuration is read it chroots (if configured) and drops
 * every capability; once every descriptor it needs is set up, and
 * before the first client, it enters its sandbox (sandbox.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/stdlib.h>

#include "dumpable.h"
#include "log.h"
#include "proctitle.h"
#include "sandbox.h"
#include "worker.h"

#define MAIN_FD_RESERVE	32	/* descriptors beyond the connection pool */
#define MAIN_PENDING_AUTO 1000000 /* max_pending at most, as conf.c */
/* Bounds of the options, beyond anything the master passes (its
 * configuration allows 256 workers and 64 listeners). */
#define MAIN_INDEX_MAX		65535
#define MAIN_LISTENERS_MAX	1024

/* main_usage - this program is not for people */
static void __attribute__((noreturn))
main_usage(void)
{
	fprintf(stderr, "snitch-worker is started by snitch, not by hand\n");
	exit(1);
}

/* main_number - an option's decimal value within [min, max], or usage */
static long long
main_number(const char *text, long long min, long long max)
{
	const char	*error;
	long long	 n;

	n = strtonum(text, min, max, &error);
	if (error != NULL) {
		fprintf(stderr, "snitch-worker: option value %s is %s\n", text,
		    error);
		main_usage();
	}
	return n;
}

/* main_wconf - decode the configuration the master passed */
static void
main_wconf(struct worker *w)
{
	struct stat	 st;
	void		*blob;

	if (fstat(WCONF_FD, &st) == -1 || st.st_size <= 0)
		fatal("worker configuration fd %d", WCONF_FD);
	blob = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
	    WCONF_FD, 0);
	if (blob == MAP_FAILED)
		fatal("mmap worker configuration");
	if (wconf_decode(blob, (size_t)st.st_size, &w->w_conf) == -1)
		fatalx("worker configuration is unreadable: are snitch and "
		    "snitch-worker the same version?");
	munmap(blob, (size_t)st.st_size);
	close(WCONF_FD);
}

/* main_counters - map this worker's slot of the shared counters */
static void
main_counters(struct worker *w)
{
	struct stat	 st;
	void		*base;
	size_t		 nb = wconf_counted(&w->w_conf);
	uint64_t	 pending;

	if (fstat(WCONF_COUNTERS_FD, &st) == -1 || (size_t)st.st_size <
	    counters_size((size_t)w->w_index + 1, nb))
		fatalx("counters fd %d: no slot for worker %d",
		    WCONF_COUNTERS_FD, w->w_index);
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, WCONF_COUNTERS_FD, 0);
	if (base == MAP_FAILED)
		fatal("mmap counters");
	close(WCONF_COUNTERS_FD);
	w->w_counters = counters_slot(base, nb, (size_t)w->w_index);
	log_count_dropped(&w->w_counters->cw_log_dropped);
	/* What a killed predecessor held died with it. */
	pending = COUNTERS_GET(w->w_counters->cw_pending);
	COUNTERS_ADD(w->w_counters->cw_lost, pending);
	COUNTERS_SUB(w->w_counters->cw_pending, pending);
}

/* main_listeners - the inherited listening sockets and their addresses */
static void
main_listeners(struct worker *w)
{
	struct listener	*ls;
	socklen_t	 len;
	size_t		 i;

	if ((w->w_listeners = calloc(w->w_nlisteners, sizeof(*ls))) == NULL)
		fatal("calloc");
	for (i = 0; i < w->w_nlisteners; i++) {
		ls = &w->w_listeners[i];
		ls->ls_fd = WCONF_LISTEN_FD + (int)i;
		len = sizeof(ls->ls_addr);
		if (getsockname(ls->ls_fd, &ls->ls_addr.sa, &len) == -1)
			fatal("listener fd %d", ls->ls_fd);
		/* Bound to one address: that is every client's local one. */
		ls->ls_wildcard = ls->ls_addr.sa.sa_family == AF_INET6 ?
		    IN6_IS_ADDR_UNSPECIFIED(&ls->ls_addr.sin6.sin6_addr) :
		    ls->ls_addr.sin.sin_addr.s_addr == htonl(INADDR_ANY);
		ls->ls_proxy = wconf_proxy_listener(&w->w_conf,
		    &ls->ls_addr.sa);
		ls->ls_http = wconf_http_listener(&w->w_conf, &ls->ls_addr.sa);
	}
}

/*
 * main_pool - the connection slots: max_pending, or by default as many
 * as the descriptor limit leaves room for (the master raised it to the
 * hard limit), and the table of their netblocks
 */
static void
main_pool(struct worker *w)
{
	struct rlimit	 rl;
	size_t		 n = w->w_conf.wc_max_pending, fit = MAIN_PENDING_AUTO;
	/* A channel may have a retired connection beside it. */
	size_t		 used = MAIN_FD_RESERVE + w->w_nlisteners +
	    2 * channel_count(&w->w_conf);

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		fit = rl.rlim_cur > used ? rl.rlim_cur - used : 1;
	if (fit > MAIN_PENDING_AUTO)
		fit = MAIN_PENDING_AUTO;
	if (n == 0)
		n = fit;
	else if (n > fit) {
		log_warnx("max_pending %zu does not fit in %llu descriptors: "
		    "using %zu", n, (unsigned long long)rl.rlim_cur, fit);
		n = fit;
	}
	if (conn_init(w, n) == -1)
		fatal("calloc %zu connections", n);
	log_debug("worker %d: %zu connection slots", w->w_index, n);
}

/* main_epoll - the epoll set, with the master's control pipe in it */
static void
main_epoll(struct worker *w)
{
	struct epoll_event	ev;

	if ((w->w_epoll = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	w->w_ctl = WCONF_CTL_FD;
	ev.events = EPOLLIN;
	ev.data.u64 = EV_MAKE(EV_CTL, 0, 0);
	if (epoll_ctl(w->w_epoll, EPOLL_CTL_ADD, w->w_ctl, &ev) == -1)
		fatal("epoll_ctl control pipe");
	/* The master's answers to channel requests (channel.c) */
	w->w_broker = WCONF_BROKER_FD;
	ev.events = EPOLLIN;
	ev.data.u64 = EV_MAKE(EV_BROKER, 0, 0);
	if (epoll_ctl(w->w_epoll, EPOLL_CTL_ADD, w->w_broker, &ev) == -1)
		fatal("epoll_ctl broker socket");
	if (channel_init(w) == -1)
		fatal("channel_init");
	if (tenant_init(w) == -1)
		fatal("tenant_init");
	/* Without it, held clients are retried on a timer alone. */
	if (watch_init(w) == -1)
		log_warn("%s: inotify: backends' sockets are not watched",
		    __func__);
}

/* main_logs - the log level and access log the configuration asks for */
static void
main_logs(struct worker *w)
{
	log_set_level(w->w_conf.wc_log_level);
	if (w->w_conf.wc_access_log == LOG_ACCESS_FILE &&
	    fcntl(WCONF_ACCESS_FD, F_GETFD) == -1)
		fatal("access log fd %d", WCONF_ACCESS_FD);
	log_access_init(w->w_conf.wc_access_log,
	    w->w_conf.wc_access_log == LOG_ACCESS_FILE ? WCONF_ACCESS_FD : -1);
}

int
main(int argc, char **argv)
{
	static struct worker	 w;	/* big buffers: not on the stack */
	int			 ch, use_syslog = 0, verbose = 0;

	proctitle_init(argc, argv);
	w.w_index = -1;
	while ((ch = getopt(argc, argv, "i:g:l:sv")) != -1) {
		switch (ch) {
		case 'i':
			w.w_index = (int)main_number(optarg, 0, MAIN_INDEX_MAX);
			break;
		case 'g':
			w.w_gen = (unsigned)main_number(optarg, 0, UINT_MAX);
			break;
		case 'l':
			w.w_nlisteners = (size_t)main_number(optarg, 1,
			    MAIN_LISTENERS_MAX);
			break;
		case 's': use_syslog = 1; break;
		case 'v': verbose++; break;
		default: main_usage();
		}
	}
	if (w.w_index < 0 || w.w_nlisteners == 0 || optind != argc)
		main_usage();
	log_init("snitch-worker", use_syslog, verbose);
	/* exec made it dumpable again, with the listeners open: see
	 * dumpable.c; `sandbox = off` turns it back on (sandbox.c) */
	if (dumpable_set(0) == -1)
		fatal("PR_SET_DUMPABLE");
	proctitle_set("snitch: worker %d gen %u", w.w_index, w.w_gen);
	main_wconf(&w);
	/* syslog, if used, is connected before /dev/log is out of reach */
	main_logs(&w);
	sandbox_chroot(&w.w_conf);
	main_counters(&w);
	main_listeners(&w);
	access_init(&w);
	main_pool(&w);
	main_epoll(&w);
	sandbox_enter(&w.w_conf, w.w_watch);
	log_debug("worker %d gen %u: ready, %zu listeners, %zu backends",
	    w.w_index, w.w_gen, w.w_nlisteners, w.w_conf.wc_nbackends);
	loop_run(&w);
	channel_close_all(&w);
	watch_close(&w);
	tenant_free(&w);
	wconf_clear(&w.w_conf);
	conn_free_all(&w);
	free(w.w_listeners);
	return 0;
}
