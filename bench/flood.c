/*
 * flood.c - bench-flood, the attacker of the flood runs (make bench-flood).
 *
 * Runs as whoever starts it (bench/run.sh), against loopback only: the
 * target and every source must be in 127.0.0.0/8, or it refuses to
 * start.  One epoll loop opens -n TCP connections to the target and
 * holds them: with -m half each sends the first 40 bytes of a
 * ClientHello (a record header claiming a long hello) and nothing more;
 * with -m silent each sends nothing.  A connection the server closes is
 * opened again, as an attacker would, so the flood stays held.
 *
 * Each connection is bound, before connect, to one of -S consecutive
 * source addresses from -s (IP_BIND_ADDRESS_NO_PORT: the port is chosen
 * at connect for the whole 4-tuple, so each source has the whole
 * ephemeral range per destination, and a few hundred sources are
 * plenty).  Opening is paced (-r per second, at most FLOOD_CONNECTING
 * connects in flight) so that the switch's accept queue is not overrun
 * by our own burst; a connect that takes longer than FLOOD_CONNECT_MS
 * (its SYN dropped by a full queue) is abandoned, counted as failed, and
 * tried again.
 *
 * Output, one line each, key=value as bench-load's:
 *   up: when all -n are connected, or the number connected has not grown
 *       for FLOOD_STEADY_MS (the server takes no more), or -w seconds
 *       have passed: held=K n=N connect_s=S
 *   at the end (-d seconds, or SIGTERM/SIGINT): held=K opened=...
 *       closed=... reopened=... failed=...
 * "closed" counts connections the server closed after they were up,
 * "reopened" the connects that replaced one of them, "failed" the
 * connects that were refused, reset or abandoned.  At the end every
 * connection is closed with a RST (SO_LINGER 0): the server learns at
 * once, and no TIME_WAIT is left behind on a shared machine.
 *
 * A process holds at most its descriptor limit (the soft limit is
 * raised to the hard one); run several, each with its own sources, for
 * more.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FLOOD_EVENTS		512
#define FLOOD_CONNECTING	1000	/* connects in flight at once */
#define FLOOD_CONNECT_MS	3000	/* a connect not done by then fails */
#define FLOOD_STEADY_MS		2000	/* no growth this long: "up" */
#define FLOOD_SWEEP_NS		100000000ULL	/* connect timeouts, 100 ms */
#define FLOOD_FD_SPARE		32	/* descriptors not for connections */
#define FLOOD_HALF_LEN		40

enum fconn_state { FC_FREE, FC_CONNECTING, FC_HELD };

struct fconn {
	int		 fc_fd;
	enum fconn_state fc_state;
	int		 fc_was_held;	/* the server closed it: a reopen */
	uint64_t	 fc_start;	/* ns, the connect */
};

struct flood {
	/* options */
	struct sockaddr_in	 fl_target;
	uint32_t		 fl_source;	/* first source, host order */
	int			 fl_sources;
	int			 fl_count;
	int			 fl_half;
	double			 fl_duration;
	double			 fl_wait;
	double			 fl_rate;
	/* state */
	int			 fl_epoll;
	struct fconn		*fl_conns;
	int			*fl_free;	/* stack of FC_FREE slots */
	int			 fl_nfree;
	int			 fl_held;
	int			 fl_connecting;
	double			 fl_tokens;	/* connects the pace allows */
	uint64_t		 fl_t0;
	/* results */
	uint64_t		 fl_opened, fl_closed, fl_reopened, fl_failed;
};

static volatile sig_atomic_t	flood_stop;
static uint8_t			flood_buf[4096];

/*
 * flood_half - the first 40 bytes of a ClientHello (RFC 8446 5.1 and
 * 4.1.2), whose lengths claim a 512-byte hello that never comes:
 *
 *   record:     16 03 01 02 00          handshake, 512 bytes follow
 *   handshake:  01 00 01 fc             client_hello, 508 bytes follow
 *               03 03                   legacy_version
 *               random: the first 29 of its 32 bytes
 */
static const uint8_t	flood_half[FLOOD_HALF_LEN] = {
	0x16, 0x03, 0x01, 0x02, 0x00,
	0x01, 0x00, 0x01, 0xfc,
	0x03, 0x03,
	0x5a, 0x17, 0xc3, 0x88, 0x02, 0x9e, 0x41, 0x6b, 0xd0, 0x33,
	0x7f, 0x12, 0xe4, 0x59, 0xa8, 0x0c, 0x96, 0x2d, 0x71, 0xbe,
	0x48, 0x05, 0xf1, 0x3a, 0x8c, 0x67, 0xd9, 0x20,
};

/* flood_signal - SIGTERM or SIGINT: close all, report, exit */
static void
flood_signal(int sig)
{
	(void)sig;
	flood_stop = 1;
}

/* flood_now - monotonic nanoseconds */
static uint64_t
flood_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* flood_usage - how to run it */
static void __attribute__((noreturn))
flood_usage(void)
{
	fprintf(stderr,
	    "usage: bench-flood -t HOST:PORT -n COUNT [-m half|silent] "
	    "[-s SOURCE] [-S SOURCES]\n"
	    "           [-d SECONDS] [-w SECONDS] [-r PER_SECOND]\n");
	exit(2);
}

/* flood_loopback - whether an address (network order) is in 127/8 */
static int
flood_loopback(uint32_t addr)
{
	return (ntohl(addr) >> 24) == 127;
}

/* flood_addr - parse HOST:PORT (IPv4) */
static int
flood_addr(const char *s, struct sockaddr_in *sin)
{
	char		 host[64];
	const char	*colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

/* flood_source - the source address of slot i, network order */
static uint32_t
flood_source(const struct flood *fl, int i)
{
	return htonl(fl->fl_source + (uint32_t)(i % fl->fl_sources));
}

/* flood_open - connect slot i; 0, or -1 (counted as failed) */
static int
flood_open(struct flood *fl, int i, uint64_t now)
{
	struct fconn		*c = &fl->fl_conns[i];
	struct sockaddr_in	 src;
	struct epoll_event	 ev;
	int			 fd, on = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = flood_source(fl, i);
	/* the port is chosen at connect, for the whole 4-tuple */
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on,
	    sizeof(on));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&fl->fl_target,
	    sizeof(fl->fl_target)) == -1 && errno != EINPROGRESS)
		goto fail;
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.u64 = (uint64_t)i;
	if (epoll_ctl(fl->fl_epoll, EPOLL_CTL_ADD, fd, &ev) == -1)
		goto fail;
	c->fc_fd = fd;
	c->fc_state = FC_CONNECTING;
	c->fc_start = now;
	fl->fl_connecting++;
	fl->fl_opened++;
	if (c->fc_was_held)
		fl->fl_reopened++;
	return 0;

fail:
	if (fd != -1)
		close(fd);
	fl->fl_failed++;
	fl->fl_free[fl->fl_nfree++] = i;
	return -1;
}

/* flood_drop - slot i is closed; it waits on the free stack for a reopen */
static void
flood_drop(struct flood *fl, int i)
{
	struct fconn	*c = &fl->fl_conns[i];

	if (c->fc_state == FC_CONNECTING) {
		fl->fl_connecting--;
		fl->fl_failed++;
	} else if (c->fc_state == FC_HELD) {
		fl->fl_held--;
		fl->fl_closed++;
		c->fc_was_held = 1;
	}
	close(c->fc_fd);
	c->fc_fd = -1;
	c->fc_state = FC_FREE;
	fl->fl_free[fl->fl_nfree++] = i;
}

/* flood_connected - slot i's connect ended: held, or dropped */
static void
flood_connected(struct flood *fl, int i, uint32_t events)
{
	struct fconn	*c = &fl->fl_conns[i];
	int		 err = 0;
	socklen_t	 len = sizeof(err);
	ssize_t		 n;

	if (getsockopt(c->fc_fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
		flood_drop(fl, i);
		return;
	}
	if (fl->fl_half) {
		n = send(c->fc_fd, flood_half, sizeof(flood_half), MSG_NOSIGNAL);
		if (n != (ssize_t)sizeof(flood_half)) {
			flood_drop(fl, i);
			return;
		}
	}
	fl->fl_connecting--;
	fl->fl_held++;
	c->fc_state = FC_HELD;
}

/* flood_event - epoll reports on slot i */
static void
flood_event(struct flood *fl, int i, uint32_t events)
{
	struct fconn	*c = &fl->fl_conns[i];
	ssize_t		 n;

	if (c->fc_state == FC_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		flood_connected(fl, i, events);
		if (c->fc_state != FC_HELD)
			return;
	}
	if (c->fc_state != FC_HELD)
		return;
	/* whatever the server sends (an alert) is read and ignored; EOF,
	 * a reset or an error is the server closing it */
	for (;;) {
		n = recv(c->fc_fd, flood_buf, sizeof(flood_buf), 0);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		flood_drop(fl, i);
		return;
	}
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		flood_drop(fl, i);
}

/* flood_sweep - connects past FLOOD_CONNECT_MS fail */
static void
flood_sweep(struct flood *fl, uint64_t now)
{
	int	i;

	for (i = 0; i < fl->fl_count; i++)
		if (fl->fl_conns[i].fc_state == FC_CONNECTING &&
		    now - fl->fl_conns[i].fc_start >
		    FLOOD_CONNECT_MS * 1000000ULL)
			flood_drop(fl, i);
}

/* flood_fill - open free slots, as many as the pace allows */
static void
flood_fill(struct flood *fl, uint64_t now, uint64_t *last)
{
	fl->fl_tokens += (double)(now - *last) / 1e9 * fl->fl_rate;
	*last = now;
	/* a burst of 100 ms at most */
	if (fl->fl_tokens > fl->fl_rate / 10)
		fl->fl_tokens = fl->fl_rate / 10;
	while (fl->fl_nfree > 0 && fl->fl_tokens >= 1 &&
	    fl->fl_connecting < FLOOD_CONNECTING) {
		fl->fl_tokens -= 1;
		(void)flood_open(fl, fl->fl_free[--fl->fl_nfree], now);
	}
}

/* flood_run - hold the flood until -d ends or a signal */
static void
flood_run(struct flood *fl)
{
	struct epoll_event	 events[FLOOD_EVENTS];
	uint64_t		 now, last, sweep, grew, end, wait_end;
	int			 i, n, announced = 0, best = 0;

	now = last = grew = fl->fl_t0;
	fl->fl_tokens = 1;
	sweep = now + FLOOD_SWEEP_NS;
	end = fl->fl_t0 + (uint64_t)(fl->fl_duration * 1e9);
	wait_end = fl->fl_t0 + (uint64_t)(fl->fl_wait * 1e9);
	while (!flood_stop && now < end) {
		flood_fill(fl, now, &last);
		n = epoll_wait(fl->fl_epoll, events, FLOOD_EVENTS,
		    fl->fl_nfree > 0 ? 1 : 100);
		now = flood_now();
		for (i = 0; i < n; i++)
			flood_event(fl, (int)events[i].data.u64,
			    events[i].events);
		if (now >= sweep) {
			flood_sweep(fl, now);
			sweep = now + FLOOD_SWEEP_NS;
		}
		if (fl->fl_held > best) {
			best = fl->fl_held;
			grew = now;
		}
		if (!announced && (fl->fl_held == fl->fl_count ||
		    now - grew > FLOOD_STEADY_MS * 1000000ULL ||
		    now >= wait_end)) {
			printf("held=%d n=%d connect_s=%.3f\n", fl->fl_held,
			    fl->fl_count, (double)(now - fl->fl_t0) / 1e9);
			fflush(stdout);
			announced = 1;
		}
	}
}

/* flood_close_all - every connection closed with a RST */
static void
flood_close_all(struct flood *fl)
{
	struct linger	lg = { .l_onoff = 1, .l_linger = 0 };
	int		i;

	for (i = 0; i < fl->fl_count; i++) {
		if (fl->fl_conns[i].fc_state == FC_FREE)
			continue;
		(void)setsockopt(fl->fl_conns[i].fc_fd, SOL_SOCKET, SO_LINGER,
		    &lg, sizeof(lg));
		close(fl->fl_conns[i].fc_fd);
	}
}

/* flood_nofile - the soft descriptor limit raised to the hard one; -1
 * if it cannot hold count connections */
static int
flood_nofile(int count)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)count + FLOOD_FD_SPARE) {
		fprintf(stderr, "bench-flood: %d connections need %d "
		    "descriptors, the limit is %llu\n", count,
		    count + FLOOD_FD_SPARE, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct flood	 fl;
	struct sigaction	 sa;
	struct in_addr		 first;
	int			 ch, i;

	fl.fl_sources = 254;
	fl.fl_duration = 120;
	fl.fl_wait = 20;
	fl.fl_rate = 5000;
	first.s_addr = htonl(0x7f000201U);	/* 127.0.2.1 */
	while ((ch = getopt(argc, argv, "d:m:n:r:s:S:t:w:")) != -1) {
		switch (ch) {
		case 'd': fl.fl_duration = atof(optarg); break;
		case 'm':
			if (strcmp(optarg, "half") == 0)
				fl.fl_half = 1;
			else if (strcmp(optarg, "silent") == 0)
				fl.fl_half = 0;
			else
				flood_usage();
			break;
		case 'n': fl.fl_count = atoi(optarg); break;
		case 'r': fl.fl_rate = atof(optarg); break;
		case 's':
			if (inet_pton(AF_INET, optarg, &first) != 1)
				flood_usage();
			break;
		case 'S': fl.fl_sources = atoi(optarg); break;
		case 't':
			if (flood_addr(optarg, &fl.fl_target) == -1)
				flood_usage();
			break;
		case 'w': fl.fl_wait = atof(optarg); break;
		default: flood_usage();
		}
	}
	if (fl.fl_target.sin_family == 0 || optind != argc ||
	    fl.fl_count < 1 || fl.fl_sources < 1 || fl.fl_duration <= 0 ||
	    fl.fl_wait < 0 || fl.fl_rate < 1)
		flood_usage();
	fl.fl_source = ntohl(first.s_addr);
	/* loopback only: the first and the last source, and the target */
	if (!flood_loopback(fl.fl_target.sin_addr.s_addr) ||
	    !flood_loopback(first.s_addr) ||
	    !flood_loopback(flood_source(&fl, fl.fl_sources - 1)) ||
	    fl.fl_sources > (int)(0x7fffffffU - fl.fl_source + 1)) {
		fprintf(stderr, "bench-flood: the target and every source "
		    "must be in 127.0.0.0/8\n");
		return 2;
	}
	if (flood_nofile(fl.fl_count) == -1)
		return 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = flood_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fl.fl_conns = calloc((size_t)fl.fl_count, sizeof(*fl.fl_conns));
	fl.fl_free = calloc((size_t)fl.fl_count, sizeof(*fl.fl_free));
	if (fl.fl_conns == NULL || fl.fl_free == NULL ||
	    (fl.fl_epoll = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("bench-flood");
		return 1;
	}
	/* the stack pops slot 0 first */
	for (i = fl.fl_count - 1; i >= 0; i--) {
		fl.fl_conns[i].fc_fd = -1;
		fl.fl_free[fl.fl_nfree++] = i;
	}
	fl.fl_t0 = flood_now();
	flood_run(&fl);
	printf("held=%d opened=%llu closed=%llu reopened=%llu failed=%llu\n",
	    fl.fl_held, (unsigned long long)fl.fl_opened,
	    (unsigned long long)fl.fl_closed,
	    (unsigned long long)fl.fl_reopened,
	    (unsigned long long)fl.fl_failed);
	fflush(stdout);
	flood_close_all(&fl);
	return 0;
}
