/*
 * service.c - the handoff side of snitch-exec and snitch-relay: listen
 * where SNItch's workers connect, accept their channels, receive the
 * connections they send, the process set-up both programs need, and
 * addresses as text.
 *
 * Runs in an unprivileged backend process.  Before changing it, know
 * that the listener and the channels are non-blocking (the callers'
 * loops block only in poll or epoll_wait), and that an accept failing
 * with EMFILE leaves the listener readable: service_accept then sets
 * sv_resume, and the caller must stop watching the listener until then,
 * or its loop spins.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notifyaddr.h"
#include "service.h"

#define SERVICE_STRANGERS_BURST	16	/* refused channels per accept */

/* service_now_ms - monotonic milliseconds, precise enough for durations */
uint64_t
service_now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* service_nonblock - set O_NONBLOCK on fd; 0, or -1 with errno */
int
service_nonblock(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) < 0)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* service_number - arg as a number in base within lo..hi; 0, or -1 */
int
service_number(const char *arg, int base, unsigned long lo,
    unsigned long hi, unsigned long *value)
{
	unsigned long	 v;
	char		*end;

	errno = 0;
	v = strtoul(arg, &end, base);
	if (errno != 0 || end == arg || *end != '\0' || *arg == '-' ||
	    v < lo || v > hi)
		return -1;
	*value = v;
	return 0;
}

/* service_stdio - make sure fds 0..2 are open, so no socket is one */
void
service_stdio(const char *progname)
{
	int	fd;

	/*
	 * Started with one closed, the first socket received would take
	 * its number: a child's dup2 onto 0 or 1, or a log line written
	 * to "stderr", would then go to a client.
	 */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= STDERR_FILENO)
		;
	if (fd < 0) {
		/* Not fatal(): log_init has not run, and fd 2 may be shut. */
		(void)fprintf(stderr, "%s: /dev/null: %s\n", progname,
		    strerror(errno));
		exit(1);
	}
	(void)close(fd);
}

/*
 * service_signals - ignore SIGPIPE, block SIGTERM and SIGINT (and
 * SIGCHLD if asked) and return a signalfd that reads them.
 */
int
service_signals(int with_sigchld)
{
	struct sigaction	 sa;
	sigset_t		 mask;
	int			 fd;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* A client gone mid-send is EPIPE, not a death; a closed stderr too. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		fatal("sigaction SIGPIPE");
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR2);	/* service_successor */
	if (with_sigchld) {
		/* Inherited as ignored, SIGCHLD would reap for us. */
		sa.sa_handler = SIG_DFL;
		if (sigaction(SIGCHLD, &sa, NULL) < 0)
			fatal("sigaction SIGCHLD");
		sigaddset(&mask, SIGCHLD);
	}
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fatal("sigprocmask");
	if ((fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		fatal("signalfd");
	return fd;
}

/* service_taken_over - whether path is no longer the file sv bound */
static int
service_taken_over(const struct service *sv)
{
	struct stat	st;

	return lstat(sv->sv_path, &st) == 0 &&
	    (st.st_dev != sv->sv_bound.sb_dev ||
	    st.st_ino != sv->sv_bound.sb_ino);
}

/*
 * service_notify_main - tell a service manager (NOTIFY_SOCKET, a path or
 * @abstract) that pid is the service's main process now: systemd takes
 * MAINPID= from the main process whatever its NotifyAccess
 */
static void
service_notify_main(pid_t pid)
{
	struct sockaddr_un	 sun;
	const char		*env = getenv("NOTIFY_SOCKET");
	char			 msg[64];
	socklen_t		 len;
	int			 fd, n;

	if (env == NULL || notifyaddr_parse(env, &sun, &len) == -1)
		return;
	n = snprintf(msg, sizeof(msg), "MAINPID=%ld", (long)pid);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    len) < 0)
		log_warn("NOTIFY_SOCKET %s: MAINPID", env);
	(void)close(fd);
}

/* service_exec_next - in the child: this program again, with -r first */
static void
service_exec_next(char **argv)
{
	char		**next;
	sigset_t	  none;
	size_t		  n, i;

	for (n = 0; argv[n] != NULL; n++)
		;
	if ((next = calloc(n + 2, sizeof(*next))) == NULL)
		_exit(127);
	next[0] = argv[0];
	next[1] = "-r";
	for (i = 1; i <= n; i++)
		next[i + 1] = argv[i];
	/* The mask is inherited across exec; the next one sets its own. */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execv("/proc/self/exe", next);
	_exit(127);
}

/*
 * service_successor - the restart signal (SIGUSR2): start the next
 * instance of this program (the same command line, with -r), wait up
 * to SERVICE_SUCCESSOR_MS until it has taken the socket over, and tell
 * a service manager that it is the main process now.  0: the caller
 * stops as on SIGTERM, handing over; -1: the next instance failed (it
 * is logged) and this one goes on serving.
 */
int
service_successor(struct service *sv, char **argv)
{
	uint64_t	until = service_now_ms() + SERVICE_SUCCESSOR_MS;
	pid_t		pid;
	int		status;

	if ((pid = fork()) < 0) {
		log_warn("restart: fork");
		return -1;
	}
	if (pid == 0)
		service_exec_next(argv);
	while (!service_taken_over(sv)) {
		if (waitpid(pid, &status, WNOHANG) == pid ||
		    service_now_ms() >= until) {
			log_warnx("restart: the next instance (pid %ld) did "
			    "not take %s over; serving on", (long)pid,
			    sv->sv_path);
			return -1;
		}
		(void)usleep(10000);
	}
	service_notify_main(pid);
	log_info("restart: pid %ld took %s over; handing over to it",
	    (long)pid, sv->sv_path);
	return 0;
}

/* service_peer - -u USER: accept channels from USER's uid only; fatal */
void
service_peer(struct service *sv, const char *user)
{
	if (snitch_peer_uid(user, &sv->sv_peer) < 0)
		fatalx("-u %s: no such user", user);
	sv->sv_peer_set = 1;
}

/*
 * service_listen - the handoff socket at path, non-blocking; flags
 * SNITCH_REPLACE (-r) takes it over from a running instance; fatal
 */
void
service_listen(struct service *sv, const char *path, mode_t mode, int flags)
{
	sv->sv_path = path;
	if ((sv->sv_listen = snitch_listen_flags(path, mode, flags,
	    &sv->sv_bound)) < 0)
		fatal("cannot listen on %s%s", path, errno == EADDRINUSE &&
		    !(flags & SNITCH_REPLACE) ? " (-r takes it over)" : "");
	if (service_nonblock(sv->sv_listen) < 0) {
		(void)snitch_unlink(path, &sv->sv_bound);
		fatal("%s", path);
	}
}

/*
 * service_unlink - stopping: remove the socket file, if it is still the
 * one we bound, so that no worker connects here again (a new instance
 * may have taken the path over: that one is left theirs)
 */
void
service_unlink(struct service *sv)
{
	int	r;

	if (sv->sv_listen == -1)
		return;
	if ((r = snitch_unlink(sv->sv_path, &sv->sv_bound)) < 0)
		log_warn("%s: %s", __func__, sv->sv_path);
	else if (r == 0)
		log_info("%s is another instance's now: left in place",
		    sv->sv_path);
}

/*
 * service_unlisten - close the listener; the caller accepted what its
 * backlog held first (service_accept until -1): closing it would close
 * those channels with whatever was queued in them
 */
void
service_unlisten(struct service *sv)
{
	if (sv->sv_listen == -1)
		return;
	(void)close(sv->sv_listen);
	sv->sv_listen = -1;
}

/*
 * service_accept - a worker's new channel, non-blocking; or -1 when
 * none is waiting, or when accept fails otherwise: then sv_resume says
 * when to look at the listener again (logged once per shortage).
 */
int
service_accept(struct service *sv)
{
	uid_t	peer = sv->sv_peer_set ? sv->sv_peer : SNITCH_PEER_ANY;
	int	fd, n = 0;

	/* Another user's channels are closed by libsnitch; a few in a row
	 * still leave room for the loop's other work. */
	while ((fd = snitch_accept_peer(sv->sv_listen, peer)) < 0 &&
	    errno == EACCES) {
		log_warnx("%s: a channel not from SNItch's uid was refused "
		    "(%lu so far)", __func__, ++sv->sv_strangers);
		if (++n == SERVICE_STRANGERS_BURST) {
			errno = EAGAIN;
			break;
		}
	}
	if (fd < 0) {
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return -1;
		if (!sv->sv_failing)
			log_warn("%s: pausing %d ms at a time", __func__,
			    SERVICE_PAUSE_MS);
		sv->sv_failing = 1;
		sv->sv_resume = service_now_ms() + SERVICE_PAUSE_MS;
		return -1;
	}
	if (sv->sv_failing) {
		log_info("%s: accepting again", __func__);
		sv->sv_failing = 0;
	}
	sv->sv_resume = 0;
	/* A turn reads a channel until EAGAIN or a burst, never blocks. */
	if (service_nonblock(fd) < 0) {
		log_warn("%s: fcntl", __func__);
		(void)close(fd);
		return -1;
	}
	return fd;
}

/*
 * service_recv - the next connection from channel into sv_conn; its ACK
 * may wait in *unacked while more is queued (snitch_recv_batch)
 */
int
service_recv(struct service *sv, int channel, unsigned *unacked)
{
	for (;;) {
		switch (snitch_recv_batch(channel, &sv->sv_conn, unacked)) {
		case 1:
			return SERVICE_CONN;
		case 0:
			/* A worker exited or reloaded away. */
			log_debug("%s: a worker closed its channel", __func__);
			return SERVICE_CLOSE;
		}
		switch (errno) {
		case EAGAIN:
			return SERVICE_AGAIN;
		case EINTR:
			continue;
		case EBADMSG:
			/* libsnitch closed its fds; the channel stays usable. */
			sv->sv_bad++;
			log_warnx("%s: a handoff message was refused (%lu so "
			    "far)", __func__, sv->sv_bad);
			continue;
		default:
			log_warn("%s: recv", __func__);
			return SERVICE_CLOSE;
		}
	}
}

/* service_addr - ss's address and port as text, without brackets */
int
service_addr(const struct sockaddr_storage *ss, char *ip, size_t ip_size,
    char *port, size_t port_size)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;
	unsigned int			 p;

	switch (ss->ss_family) {
	case AF_INET:
		if (inet_ntop(AF_INET, &sin->sin_addr, ip, ip_size) == NULL)
			return -1;
		p = ntohs(sin->sin_port);
		break;
	case AF_INET6:
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, ip, ip_size) == NULL)
			return -1;
		p = ntohs(sin6->sin6_port);
		break;
	default:
		errno = EAFNOSUPPORT;
		return -1;
	}
	(void)snprintf(port, port_size, "%u", p);
	return 0;
}
