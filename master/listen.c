/*
 * listen.c - the listening sockets: bound here, or passed by a service
 * manager (socket activation, sd_listen_fds(3)'s protocol).
 *
 * Runs in the master, before privileges are dropped (as root, or as the
 * unprivileged user it was started as).  Every socket ends up
 * close-on-exec and non-blocking: workers receive it at a fixed fd
 * number and share it, each accepting with EPOLLEXCLUSIVE.
 *
 * Passed sockets are fds 3 .. 3+LISTEN_FDS-1, meant for this process
 * when LISTEN_PID is our pid.  Each must be a listening TCP socket.
 * With `listen` in the configuration each entry must have exactly one
 * passed socket bound to its address, and each passed socket an entry;
 * without `listen` every passed socket is used.  The variables are
 * removed from the environment either way, so no worker sees them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

#define LISTEN_BACKLOG	65535	/* the kernel caps it at somaxconn */
#define LISTEN_FDS_START 3	/* SD_LISTEN_FDS_START */

struct listen_passed {
	int			 lp_fd;
	int			 lp_used;
	struct conf_listen	 lp_addr;
	char			 lp_name[64];	/* from LISTEN_FDNAMES */
};

static struct listen_passed	listen_passed[CONF_LISTEN_MAX];
static size_t			listen_npassed;

/* listen_defer - TCP_DEFER_ACCEPT as configured */
static void
listen_defer(int fd, const char *text, unsigned defer_ms)
{
	int	defer = (int)((defer_ms + 999) / 1000);

	/*
	 * The kernel queues a connection for accept only once its first
	 * data came (or, for a silent client, after about defer seconds):
	 * the first peek then usually finds the whole hello, saving a
	 * wakeup and two epoll_ctl calls per connection.
	 */
	if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer,
	    sizeof(defer)) == -1)
		fatal("listen %s: TCP_DEFER_ACCEPT", text);
}

/* listen_open - a listening socket for cl; fatal when it cannot be had */
int
listen_open(const struct conf_listen *cl, unsigned defer_ms)
{
	int	fd, on = 1;

	fd = socket(cl->cl_addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("listen %s: socket", cl->cl_text);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		fatal("listen %s: SO_REUSEADDR", cl->cl_text);
	/* [::] must not also take IPv4: that is what 0.0.0.0 is for. */
	if (cl->cl_addr.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		fatal("listen %s: IPV6_V6ONLY", cl->cl_text);
	if (bind(fd, (const struct sockaddr *)&cl->cl_addr, cl->cl_len) == -1)
		fatal("listen %s: bind", cl->cl_text);
	if (defer_ms > 0)
		listen_defer(fd, cl->cl_text, defer_ms);
	if (listen(fd, LISTEN_BACKLOG) == -1)
		fatal("listen %s: listen", cl->cl_text);
	return fd;
}

/* listen_number - a whole decimal number in [min, max], or -1 */
static long
listen_number(const char *text, long min, long max)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || errno || n < min || n > max)
		return -1;
	return n;
}

/* listen_same - whether two addresses are the same address and port */
static int
listen_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6	*a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* listen_describe - check a passed fd and note its address in lp */
static void
listen_describe(struct listen_passed *lp)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&lp->lp_addr.cl_addr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&lp->lp_addr.cl_addr;
	char			 host[INET6_ADDRSTRLEN];
	socklen_t		 len = sizeof(int);
	int			 fd = lp->lp_fd, type, accepting;

	if (fcntl(fd, F_GETFD) == -1)
		fatal("socket activation: fd %d (LISTEN_FDS)", fd);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		fatal("socket activation: fd %d is not a socket", fd);
	len = sizeof(int);
	if (type != SOCK_STREAM ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == -1 ||
	    !accepting)
		fatalx("socket activation: fd %d is not a listening stream "
		    "socket (want ListenStream= in the socket unit)", fd);
	len = sizeof(lp->lp_addr.cl_addr);
	if (getsockname(fd, (struct sockaddr *)&lp->lp_addr.cl_addr, &len) ==
	    -1)
		fatal("socket activation: fd %d: getsockname", fd);
	lp->lp_addr.cl_len = len;
	if (lp->lp_addr.cl_addr.ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(lp->lp_addr.cl_text, sizeof(lp->lp_addr.cl_text),
		    "%s:%u", host, ntohs(sin->sin_port));
	} else if (lp->lp_addr.cl_addr.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(lp->lp_addr.cl_text, sizeof(lp->lp_addr.cl_text),
		    "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else
		fatalx("socket activation: fd %d is not an IPv4 or IPv6 "
		    "socket", fd);
}

/*
 * listen_passed_init - take the sockets a service manager passed, if
 * any were meant for us; how many (0: not socket-activated).  Fatal
 * when the variables are malformed or a socket is not a TCP listener.
 */
size_t
listen_passed_init(void)
{
	const char	*pid_env = getenv("LISTEN_PID");
	const char	*fds_env = getenv("LISTEN_FDS");
	const char	*names_env = getenv("LISTEN_FDNAMES");
	char		*names = NULL, *rest, *name;
	long		 pid, n = 0, i;
	int		 fd, flags;

	if (pid_env != NULL && fds_env != NULL) {
		if ((pid = listen_number(pid_env, 1, LONG_MAX)) == -1)
			fatalx("socket activation: LISTEN_PID='%s' is not a "
			    "process id", pid_env);
		if (pid == (long)getpid() && (n = listen_number(fds_env, 0,
		    CONF_LISTEN_MAX)) <= 0)
			fatalx("socket activation: LISTEN_FDS='%s': want 1 to "
			    "%d sockets", fds_env, CONF_LISTEN_MAX);
		if (pid != (long)getpid())
			n = 0;
		if (names_env != NULL && (names = strdup(names_env)) == NULL)
			fatal("strdup");
	}
	/* strsep, not strtok: an empty name keeps its place in the list */
	rest = names;
	for (i = 0; i < n; i++) {
		listen_passed[i].lp_fd = LISTEN_FDS_START + (int)i;
		if ((name = strsep(&rest, ":")) != NULL)
			snprintf(listen_passed[i].lp_name,
			    sizeof(listen_passed[i].lp_name), "%s", name);
		listen_describe(&listen_passed[i]);
		/* As SNItch's own: workers accept from several processes. */
		fd = listen_passed[i].lp_fd;
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 || (flags = fcntl(fd,
		    F_GETFL)) == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) ==
		    -1)
			fatal("socket activation: fd %d", fd);
	}
	free(names);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	listen_npassed = (size_t)n;
	return listen_npassed;
}

/* listen_list - cf's addresses, or with NULL the passed ones: a message */
static void
listen_list(char *buf, size_t size, const struct conf *cf)
{
	size_t	i, len = 0;

	buf[0] = '\0';
	for (i = 0; cf != NULL && i < cf->cf_nlisten && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i ? " " : "", cf->cf_listen[i].cl_text);
	for (i = 0; cf == NULL && i < listen_npassed && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i ? " " : "", listen_passed[i].lp_addr.cl_text);
}

/* listen_adopt - use passed socket lp for cl */
static int
listen_adopt(struct listen_passed *lp, const struct conf_listen *cl,
    unsigned defer_ms)
{
	int	v6only = 1;
	socklen_t len = sizeof(v6only);

	lp->lp_used = 1;
	if (defer_ms > 0)
		listen_defer(lp->lp_fd, cl->cl_text, defer_ms);
	if (cl->cl_addr.ss_family == AF_INET6 && getsockopt(lp->lp_fd,
	    IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) == 0 && !v6only)
		log_info("listen %s: the passed socket also takes IPv4 "
		    "(BindIPv6Only=both in the socket unit)", cl->cl_text);
	log_info("listen %s: using socket %d passed by the service manager"
	    "%s%s", cl->cl_text, lp->lp_fd, lp->lp_name[0] ? ", named " : "",
	    lp->lp_name);
	return lp->lp_fd;
}

/*
 * listen_setup - the listening sockets for cf, cf_nlisten of them, in
 * cf_listen's order: passed ones when there are (cf_listen is filled
 * in from them when the file has no `listen`), else bound here.
 */
int *
listen_setup(struct conf *cf)
{
	char		 have[1024], want[1024];
	int		*fds;
	size_t		 i, j;

	if (listen_npassed > 0 && cf->cf_nlisten == 0) {
		if ((cf->cf_listen = calloc(listen_npassed,
		    sizeof(*cf->cf_listen))) == NULL)
			fatal("calloc");
		for (i = 0; i < listen_npassed; i++)
			cf->cf_listen[i] = listen_passed[i].lp_addr;
		cf->cf_nlisten = listen_npassed;
	}
	if ((fds = calloc(cf->cf_nlisten, sizeof(int))) == NULL)
		fatal("calloc");
	if (listen_npassed == 0) {
		for (i = 0; i < cf->cf_nlisten; i++)
			fds[i] = listen_open(&cf->cf_listen[i],
			    cf->cf_defer_accept_ms);
		return fds;
	}
	listen_list(want, sizeof(want), cf);
	listen_list(have, sizeof(have), NULL);
	for (i = 0; i < cf->cf_nlisten; i++) {
		for (j = 0; j < listen_npassed; j++)
			if (!listen_passed[j].lp_used &&
			    listen_same(&listen_passed[j].lp_addr.cl_addr,
			    &cf->cf_listen[i].cl_addr))
				break;
		if (j == listen_npassed)
			fatalx("%s: listen %s: the service manager passed no "
			    "socket for it (passed: %s); add it to the socket "
			    "unit, or remove it from listen", cf->cf_file,
			    cf->cf_listen[i].cl_text, have);
		fds[i] = listen_adopt(&listen_passed[j], &cf->cf_listen[i],
		    cf->cf_defer_accept_ms);
	}
	for (j = 0; j < listen_npassed; j++)
		if (!listen_passed[j].lp_used)
			fatalx("%s: the service manager passed socket %d for "
			    "%s, which is not a listen address (listen = %s); "
			    "add it to listen, or remove it from the socket "
			    "unit", cf->cf_file, listen_passed[j].lp_fd,
			    listen_passed[j].lp_addr.cl_text, want);
	return fds;
}
