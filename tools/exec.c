/*
 * exec.c - snitch-exec: run a program for each handed-off connection,
 * ucspi-tcp style (tcpserver's environment, fd 0 and 1 the socket).
 *
 *	snitch-exec [-rv] [-C SHARE] [-c MAX] [-m MODE] [-n V4[:V6]]
 *	    -s SOCKET -- PROGRAM [ARGS...]
 *
 * Run as the user the programs are to run as; it needs no privilege, but
 * SOCKET must be connectable by SNItch's `user`.  One process, one poll
 * loop: it receives client sockets from SNItch workers (libsnitch's fd
 * level API), forks and execs PROGRAM for each, reaps the children, and
 * refuses a connection beyond MAX running programs with TLS alert 80, as
 * the workers refuse one they cannot hand off.  MAX is shared fairly
 * among the clients' netblocks (fair.c): a netblock running SHARE (-C,
 * none by default) is refused, and when all MAX run, a client from a netblock running at
 * least two fewer than the busiest one gets the busiest one's newest
 * program ended (SIGTERM, then SIGKILL after EXEC_END_GRACE_MS) for it.
 *
 * Before changing it, know that:
 *  - every descriptor this process opens is close-on-exec, and the child
 *    closes everything above 2 besides: a program holding the listener
 *    or a channel would keep the socket answering after we are gone;
 *  - SIGCHLD, SIGTERM and SIGINT are blocked and read from a signalfd,
 *    so poll waits on the channels and the children at once; the child
 *    unblocks them and resets every disposition before exec;
 *  - the loop blocks only in poll: the listener and channels are
 *    non-blocking, and a refused client lingers in the poll set (at most
 *    EXEC_LINGER_MS) until its FIN comes, so that it reads the alert
 *    rather than a reset;
 *  - a program being ended no longer counts against MAX, so that its
 *    replacement starts at once: up to MAX more can be ending, which is
 *    why there are twice MAX child slots;
 *  - refusals and endings are what a flood makes: their lines are
 *    limited to EXEC_NOTE_MAX a second (exec_note), and the count of
 *    the ones left out is logged after.
 */
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "dumpable.h"
#include "fair.h"
#include "log.h"
#include "service.h"
#include "snitch.h"

#define EXEC_MAX_DEFAULT	64	/* -c */
#define EXEC_MAX_LIMIT		4096	/* -c beyond: a typo, not a plan */
#define EXEC_MODE_DEFAULT	0660	/* -m */
#define EXEC_CHANNELS_MAX	1024	/* SNItch workers, times generations */
#define EXEC_RECV_BURST		32	/* messages per channel per turn */
#define EXEC_ACCEPT_BURST	64	/* channels accepted per turn */
#define EXEC_LINGER_MAX		64	/* refused clients awaiting their FIN */
#define EXEC_LINGER_MS		1000	/* as long as a worker waits */
#define EXEC_EXIT_NOEXEC	127	/* the child could not exec PROGRAM */
#define EXEC_EXIT_SETUP		111	/* nor prepare to (daemontools' 111) */
#define EXEC_END_GRACE_MS	1000	/* SIGTERM, then SIGKILL after this */
#define EXEC_NOTE_MAX		20	/* refusal and ending lines a ... */
#define EXEC_NOTE_WINDOW_MS	1000	/* ... second; a flood's are counted */

/* pfd layout: the signalfd, the listener, the lingering, the channels */
#define EXEC_PFD_SIGNAL		0
#define EXEC_PFD_LISTEN		1
#define EXEC_PFD_LINGER		2
#define EXEC_PFD_CHANNEL	(EXEC_PFD_LINGER + EXEC_LINGER_MAX)

/* A running program, for its exit line and its netblock's count. */
struct exec_child {
	pid_t		 ch_pid;		/* 0: the slot is free */
	uint64_t	 ch_start;		/* service_now_ms at fork */
	const struct fair_source *ch_source;	/* NULL once being ended */
	uint64_t	 ch_kill_at;		/* being ended: SIGKILL then */
	int		 ch_killed;		/* SIGKILL sent */
	char		 ch_client[SNITCH_ADDR_MAX];
	char		 ch_name[SNITCH_NAME_MAX + 1];	/* "-" when none */
};

/* A refused client: alert sent, write side shut, waiting for its FIN. */
struct exec_linger {
	int		 lg_fd;			/* -1: the slot is free */
	uint64_t	 lg_deadline;
};

struct exec {
	struct service		 ex_sv;		/* -s, and the connection received */
	char		       **ex_argv;	/* PROGRAM ARGS... */
	char		       **ex_main_argv;	/* SIGUSR2 runs it again */
	int			 ex_sigfd;
	int			 ex_stopping;
	int			 ex_channels[EXEC_CHANNELS_MAX]; /* -1: closed */
	unsigned		 ex_unacked[EXEC_CHANNELS_MAX]; /* theirs */
	size_t			 ex_nchannels;
	struct exec_child	*ex_children;	/* 2 * ex_max slots */
	size_t			 ex_max;
	size_t			 ex_running;	/* not counting the ending */
	size_t			 ex_ending;	/* sent SIGTERM to make room */
	struct fair		 ex_fair;	/* ex_running, by netblock */
	struct exec_linger	 ex_linger[EXEC_LINGER_MAX];
	size_t			 ex_nlinger;
	struct pollfd		 ex_pfd[EXEC_PFD_CHANNEL + EXEC_CHANNELS_MAX];
	unsigned long		 ex_started;	/* counters, for the last line */
	unsigned long		 ex_refused;
	unsigned long		 ex_ended;	/* programs ended for another */
	uint64_t		 ex_note_window; /* exec_note's second began */
	unsigned		 ex_notes;	/* lines logged in it */
	unsigned long		 ex_notes_left;	/* lines left out */
};

/* What the drains read into: its content is never looked at. */
static unsigned char	exec_discard[16384];

/* exec_drain - discard what the client sent; 1 at EOF, 0, -1 on error */
static int
exec_drain(int fd)
{
	return alert_drain(fd, exec_discard, sizeof(exec_discard));
}

/* exec_linger_close - end a lingering refusal, now */
static void
exec_linger_close(struct exec *ex, struct exec_linger *lg)
{
	(void)close(lg->lg_fd);
	lg->lg_fd = -1;
	ex->ex_nlinger--;
}

/* exec_linger_add - keep fd until its FIN or EXEC_LINGER_MS */
static void
exec_linger_add(struct exec *ex, int fd)
{
	struct exec_linger	*lg, *oldest = NULL;
	size_t			 i;

	for (i = 0; i < EXEC_LINGER_MAX; i++) {
		lg = &ex->ex_linger[i];
		if (lg->lg_fd == -1)
			break;
		if (oldest == NULL || lg->lg_deadline < oldest->lg_deadline)
			oldest = lg;
	}
	if (i == EXEC_LINGER_MAX) {
		/* A flood of refusals: the oldest had the most time. */
		lg = oldest;
		exec_linger_close(ex, lg);
	}
	lg->lg_fd = fd;
	lg->lg_deadline = service_now_ms() + EXEC_LINGER_MS;
	ex->ex_nlinger++;
}

/* exec_linger_ready - a lingering client sent something: its FIN? */
static void
exec_linger_ready(struct exec *ex, struct exec_linger *lg, short revents)
{
	if (revents & (POLLERR | POLLHUP | POLLNVAL) ||
	    exec_drain(lg->lg_fd) != 0)
		exec_linger_close(ex, lg);
}

/* exec_linger_expire - close the refusals whose time is up */
static void
exec_linger_expire(struct exec *ex, uint64_t now)
{
	size_t	i;

	for (i = 0; i < EXEC_LINGER_MAX; i++)
		if (ex->ex_linger[i].lg_fd != -1 &&
		    now >= ex->ex_linger[i].lg_deadline)
			exec_linger_close(ex, &ex->ex_linger[i]);
}

/*
 * exec_note - may a refusal or ending be logged now?  At most
 * EXEC_NOTE_MAX a second: a flood of clients must not become a flood of
 * lines.  The first line of a new second says how many were left out.
 */
static int
exec_note(struct exec *ex)
{
	uint64_t	now = service_now_ms();

	if (now - ex->ex_note_window >= EXEC_NOTE_WINDOW_MS) {
		if (ex->ex_notes_left > 0)
			log_info("%lu refusal and ending lines not logged (at "
			    "most %d a second)", ex->ex_notes_left,
			    EXEC_NOTE_MAX);
		ex->ex_note_window = now;
		ex->ex_notes = 0;
		ex->ex_notes_left = 0;
	}
	if (ex->ex_notes < EXEC_NOTE_MAX) {
		ex->ex_notes++;
		return 1;
	}
	ex->ex_notes_left++;
	return 0;
}

/*
 * exec_refuse - answer with alert 80 internal_error and close gracefully.
 *
 * The ClientHello is still unread: closing now would send a RST, which
 * can destroy the alert before the client reads it.  So discard what
 * came, send the alert, shut down writing, and keep the socket until the
 * client's FIN (alert_send, as the workers refuse).  A client SNItch's
 * non_tls or silent route handed over speaks no TLS: it gets the FIN
 * without the alert (alert_refuse), logged as outcome=closed.
 */
static void
exec_refuse(struct exec *ex, int fd, const char *client, const char *name,
    const char *reason)
{
	int	alerted, gone;

	ex->ex_refused++;
	gone = alert_refuse(fd, ALERT_INTERNAL_ERROR, exec_discard,
	    sizeof(exec_discard), &alerted);
	if (exec_note(ex)) {
		if (alerted)
			log_info("client=%s name=%s outcome=alert alert=%d "
			    "reason=%s running=%zu refused=%lu", client, name,
			    ALERT_INTERNAL_ERROR, reason, ex->ex_running,
			    ex->ex_refused);
		else
			log_info("client=%s name=%s outcome=closed reason=%s "
			    "running=%zu refused=%lu", client, name, reason,
			    ex->ex_running, ex->ex_refused);
	}
	if (gone != 0) {
		/* It closed or failed already: no FIN to wait for. */
		(void)close(fd);
		return;
	}
	exec_linger_add(ex, fd);
}

/*
 * exec_alpn - the client's ALPN protocols, comma-separated, into out
 * ("" when none is left).  A protocol with a comma would forge two list
 * items, one with a control byte would reach whatever prints the
 * variable: such protocols are left out, the others kept in order.
 */
static void
exec_alpn(const struct snitch_conn *conn, char *out, size_t size)
{
	const unsigned char	*proto;
	size_t			 off = 0, len = 0, proto_len, i;

	out[0] = '\0';
	while (snitch_alpn_next(conn, &off, &proto, &proto_len) == 1) {
		for (i = 0; i < proto_len; i++)
			if (proto[i] < 0x20 || proto[i] > 0x7e ||
			    proto[i] == ',')
				break;
		if (i < proto_len)
			continue;
		if (size - len < proto_len + 2)
			break;
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, proto, proto_len);
		len += proto_len;
		out[len] = '\0';
	}
}

/*
 * exec_env - the UCSPI environment of the child (tcpserver's names,
 * plus SSL_SERVER_NAME and SNITCH_ALPN); 0, or -1 with errno.
 *
 * TCPREMOTEHOST, TCPREMOTEINFO and TCPLOCALHOST are removed: we look
 * nothing up, and values inherited from our own environment would lie.
 */
static int
exec_env(const struct snitch_conn *conn)
{
	static char	 alpn[SNITCH_ALPN_MAX + 1];
	char		 ip[INET6_ADDRSTRLEN], port[8];

	if (setenv("PROTO", "TCP", 1) < 0)
		return -1;
	if (service_addr(&conn->sc_client, ip, sizeof(ip), port,
	    sizeof(port)) < 0 || setenv("TCPREMOTEIP", ip, 1) < 0 ||
	    setenv("TCPREMOTEPORT", port, 1) < 0)
		return -1;
	if (service_addr(&conn->sc_local, ip, sizeof(ip), port,
	    sizeof(port)) < 0 || setenv("TCPLOCALIP", ip, 1) < 0 ||
	    setenv("TCPLOCALPORT", port, 1) < 0)
		return -1;
	if (unsetenv("TCPREMOTEHOST") < 0 || unsetenv("TCPREMOTEINFO") < 0 ||
	    unsetenv("TCPLOCALHOST") < 0)
		return -1;
	/* sc_server_name is a lowercase LDH host name: libsnitch checked. */
	if (conn->sc_server_name[0] != '\0') {
		if (setenv("SSL_SERVER_NAME", conn->sc_server_name, 1) < 0)
			return -1;
	} else if (unsetenv("SSL_SERVER_NAME") < 0)
		return -1;
	exec_alpn(conn, alpn, sizeof(alpn));
	if (alpn[0] != '\0')
		return setenv("SNITCH_ALPN", alpn, 1);
	return unsetenv("SNITCH_ALPN");
}

/* exec_child_signals - default dispositions, empty mask, as exec'd anew */
static void
exec_child_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 none;
	int			 sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	/* SIGKILL, SIGSTOP and libc's own fail with EINVAL: harmless. */
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* exec_child_fds - the client as fd 0 and 1, nothing open above 2 */
static int
exec_child_fds(int fd)
{
	struct rlimit	rl;
	int		i;

	/* fd > 2: exec_stdio made sure 0..2 were taken before any accept. */
	if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		return -1;
	if (close_range(3, ~0U, 0) == 0)
		return 0;
	/* A kernel before 5.9: every possible descriptor, one by one. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	for (i = 3; (rlim_t)i < rl.rlim_cur && i < INT_MAX; i++)
		(void)close(i);
	return 0;
}

/* exec_child - the forked child: set up and exec PROGRAM; never returns */
static void __attribute__((noreturn))
exec_child(struct exec *ex, const struct snitch_conn *conn,
    const char *client, const char *name)
{
	log_forked();
	exec_child_signals();
	if (exec_child_fds(conn->sc_fd) < 0 || exec_env(conn) < 0) {
		log_warn("client=%s name=%s pid=%ld: cannot prepare %s",
		    client, name, (long)getpid(), ex->ex_argv[0]);
		_exit(EXEC_EXIT_SETUP);
	}
	(void)execvp(ex->ex_argv[0], ex->ex_argv);
	log_warn("client=%s name=%s pid=%ld: exec %s", client, name,
	    (long)getpid(), ex->ex_argv[0]);
	/* Leave no unread hello behind: the client sees a FIN, not a RST. */
	(void)exec_drain(STDIN_FILENO);
	_exit(EXEC_EXIT_NOEXEC);
}

/* exec_reap - collect every exited child and log its end */
static void
exec_reap(struct exec *ex)
{
	struct exec_child	*ch;
	uint64_t		 ms;
	pid_t			 pid;
	size_t			 i;
	int			 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < 2 * ex->ex_max; i++)
			if (ex->ex_children[i].ch_pid == pid)
				break;
		if (i == 2 * ex->ex_max) {
			log_debug("%s: pid %ld is not one of ours", __func__,
			    (long)pid);
			continue;
		}
		ch = &ex->ex_children[i];
		ms = service_now_ms() - ch->ch_start;
		if (WIFSIGNALED(status))
			log_info("client=%s name=%s pid=%ld signal=%d "
			    "duration=%llu.%03llus", ch->ch_client,
			    ch->ch_name, (long)pid, WTERMSIG(status),
			    (unsigned long long)(ms / 1000),
			    (unsigned long long)(ms % 1000));
		else
			log_info("client=%s name=%s pid=%ld exit=%d "
			    "duration=%llu.%03llus", ch->ch_client,
			    ch->ch_name, (long)pid, WEXITSTATUS(status),
			    (unsigned long long)(ms / 1000),
			    (unsigned long long)(ms % 1000));
		if (ch->ch_source != NULL) {
			fair_remove(&ex->ex_fair, ch->ch_source);
			ex->ex_running--;
		} else
			ex->ex_ending--;
		memset(ch, 0, sizeof(*ch));
	}
	if (pid < 0 && errno != ECHILD)
		log_warn("%s: waitpid", __func__);
}

/*
 * exec_end - end a program of source fs to make room for client:
 * the newest, which has the least invested in it (an established
 * session is the oldest; a connection that came to hold a slot is among
 * the newest).  It stops counting at once; SIGKILL follows after
 * EXEC_END_GRACE_MS if SIGTERM did not end it.
 */
static void
exec_end(struct exec *ex, const struct fair_source *fs, const char *client)
{
	struct exec_child	*ch, *newest = NULL;
	size_t			 i;

	for (i = 0; i < 2 * ex->ex_max; i++) {
		ch = &ex->ex_children[i];
		if (ch->ch_pid != 0 && ch->ch_source == fs &&
		    (newest == NULL || ch->ch_start >= newest->ch_start))
			newest = ch;
	}
	if (newest == NULL)
		log_panic("%s: a source with no program", __func__);
	/* Not reaped yet, the pid cannot be another process's. */
	if (kill(newest->ch_pid, SIGTERM) < 0)
		log_warn("%s: kill %ld", __func__, (long)newest->ch_pid);
	fair_remove(&ex->ex_fair, fs);
	newest->ch_source = NULL;
	newest->ch_kill_at = service_now_ms() + EXEC_END_GRACE_MS;
	ex->ex_running--;
	ex->ex_ending++;
	ex->ex_ended++;
	if (exec_note(ex))
		log_info("client=%s name=%s pid=%ld outcome=ended for=%s "
		    "running=%zu ended=%lu", newest->ch_client,
		    newest->ch_name, (long)newest->ch_pid, client,
		    ex->ex_running, ex->ex_ended);
}

/*
 * exec_end_expire - SIGKILL the programs being ended whose grace is
 * over; the earliest deadline left, or 0
 */
static uint64_t
exec_end_expire(struct exec *ex, uint64_t now)
{
	struct exec_child	*ch;
	uint64_t		 next = 0;
	size_t			 i;

	if (ex->ex_ending == 0)
		return 0;
	for (i = 0; i < 2 * ex->ex_max; i++) {
		ch = &ex->ex_children[i];
		if (ch->ch_pid == 0 || ch->ch_source != NULL || ch->ch_killed)
			continue;
		if (now >= ch->ch_kill_at) {
			if (kill(ch->ch_pid, SIGKILL) < 0)
				log_warn("%s: kill %ld", __func__,
				    (long)ch->ch_pid);
			ch->ch_killed = 1;
		} else if (next == 0 || ch->ch_kill_at < next)
			next = ch->ch_kill_at;
	}
	return next;
}

/*
 * exec_slot - a child slot for a client from block fb, ending another
 * source's program to make one if the policy says so (fair.c); NULL,
 * with *reason, when the client is refused
 */
static struct exec_child *
exec_slot(struct exec *ex, const struct netblock *fb, const char *client,
    const char **reason)
{
	const struct fair_source	*victim;
	size_t				 i;

	if (ex->ex_running >= ex->ex_max) {
		/* A child may have exited after poll: count it out first. */
		exec_reap(ex);
	}
	switch (fair_admit(&ex->ex_fair, fb, &victim)) {
	case FAIR_RUN:
		break;
	case FAIR_REFUSE_SOURCE:
		*reason = "source";
		return NULL;
	case FAIR_REFUSE_BUSY:
		*reason = "busy";
		return NULL;
	case FAIR_EVICT:
		/* MAX ending already: a flood of endings waits its turn. */
		if (ex->ex_ending >= ex->ex_max) {
			*reason = "busy";
			return NULL;
		}
		exec_end(ex, victim, client);
		break;
	}
	for (i = 0; i < 2 * ex->ex_max; i++)
		if (ex->ex_children[i].ch_pid == 0)
			return &ex->ex_children[i];
	log_panic("%s: %zu running and %zu ending, no free slot", __func__,
	    ex->ex_running, ex->ex_ending);
}

/* exec_conn - run PROGRAM for the connection received, or refuse it */
static void
exec_conn(struct exec *ex)
{
	struct snitch_conn	*conn = &ex->ex_sv.sv_conn;
	struct exec_child	*ch;
	struct netblock	 fb;
	char			 client[SNITCH_ADDR_MAX];
	const char		*name, *reason;
	pid_t			 pid;

	if (snitch_addr_format(&conn->sc_client, client, sizeof(client)) < 0)
		(void)snprintf(client, sizeof(client), "-");
	name = conn->sc_server_name[0] != '\0' ? conn->sc_server_name : "-";
	fair_block(&ex->ex_fair, &conn->sc_client, &fb);
	if ((ch = exec_slot(ex, &fb, client, &reason)) == NULL) {
		exec_refuse(ex, conn->sc_fd, client, name, reason);
		return;
	}
	if ((pid = fork()) < 0) {
		log_warn("client=%s name=%s: fork", client, name);
		exec_refuse(ex, conn->sc_fd, client, name, "fork");
		return;
	}
	if (pid == 0)
		exec_child(ex, conn, client, name);

	/* The child has the socket now; ours would keep it open. */
	(void)close(conn->sc_fd);
	ch->ch_pid = pid;
	ch->ch_start = service_now_ms();
	ch->ch_source = fair_add(&ex->ex_fair, &fb);
	memcpy(ch->ch_client, client, sizeof(ch->ch_client));
	(void)snprintf(ch->ch_name, sizeof(ch->ch_name), "%s", name);
	ex->ex_running++;
	ex->ex_started++;
	log_debug("client=%s name=%s pid=%ld started", client, name,
	    (long)pid);
}

/*
 * exec_channel_close - acknowledge what channel i received and close
 * it; exec_compact removes the slot
 */
static void
exec_channel_close(struct exec *ex, size_t i)
{
	(void)snitch_ack(ex->ex_channels[i], &ex->ex_unacked[i]);
	(void)close(ex->ex_channels[i]);
	ex->ex_channels[i] = -1;
}

/* exec_channel - receive what channel i holds, up to a burst */
static void
exec_channel(struct exec *ex, size_t i)
{
	int	n, burst = EXEC_RECV_BURST;

	/* An ACK left waiting means more is queued: poll brings us back. */
	for (n = 0; n < burst; n++) {
		switch (service_recv(&ex->ex_sv, ex->ex_channels[i],
		    &ex->ex_unacked[i])) {
		case SERVICE_CONN:
			exec_conn(ex);
			break;
		case SERVICE_AGAIN:
			return;
		case SERVICE_CLOSE:
			exec_channel_close(ex, i);
			return;
		}
	}
}

/* exec_compact - drop closed channels, keeping the others' order */
static void
exec_compact(struct exec *ex)
{
	size_t	i, n = 0;

	for (i = 0; i < ex->ex_nchannels; i++) {
		if (ex->ex_channels[i] == -1)
			continue;
		ex->ex_unacked[n] = ex->ex_unacked[i];
		ex->ex_channels[n++] = ex->ex_channels[i];
	}
	ex->ex_nchannels = n;
}

/*
 * exec_accept - accept the channels of workers that connected, up to a
 * burst; how many
 */
static int
exec_accept(struct exec *ex)
{
	int	fd, n;

	for (n = 0; n < EXEC_ACCEPT_BURST; n++) {
		if ((fd = service_accept(&ex->ex_sv)) < 0)
			return n;
		if (ex->ex_nchannels == EXEC_CHANNELS_MAX) {
			log_warnx("%s: %d channels already: refused", __func__,
			    EXEC_CHANNELS_MAX);
			(void)close(fd);
			continue;
		}
		ex->ex_unacked[ex->ex_nchannels] = 0;
		ex->ex_channels[ex->ex_nchannels++] = fd;
	}
	return n;
}

/*
 * exec_stop - the first SIGTERM or SIGINT: take no new handoff and lose
 * none.  The socket file goes (unless a new instance took the path
 * over), the channels still in the listener's backlog are accepted, and
 * every channel is shut for reading: what the workers sent before is
 * still run (the loop reads each channel to its end), their next send
 * fails and goes to the path again.  The programs then finish.
 */
static void
exec_stop(struct exec *ex)
{
	size_t	i;

	ex->ex_stopping = 1;
	service_unlink(&ex->ex_sv);
	/* Not bounded by EXEC_ACCEPT_BURST: the backlog is all there is. */
	while (ex->ex_sv.sv_listen != -1 && exec_accept(ex) > 0)
		;
	service_unlisten(&ex->ex_sv);
	for (i = 0; i < ex->ex_nchannels; i++)
		if (snitch_quiesce(ex->ex_channels[i],
		    &ex->ex_unacked[i]) < 0)
			exec_channel_close(ex, i);
	log_info("stopping: %zu running, waiting for them (%zu channels to "
	    "drain)", ex->ex_running, ex->ex_nchannels);
}

/* exec_signals - act on what the signalfd holds */
static void
exec_signals(struct exec *ex)
{
	struct signalfd_siginfo	 si;
	ssize_t			 n;

	while ((n = read(ex->ex_sigfd, &si, sizeof(si))) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			/* SIGCHLDs coalesce: reap until none is left. */
			exec_reap(ex);
			break;
		case SIGUSR2:
			/* The restart signal: the next instance, then stop. */
			if (!ex->ex_stopping &&
			    service_successor(&ex->ex_sv, ex->ex_main_argv) == 0)
				exec_stop(ex);
			break;
		case SIGTERM:
		case SIGINT:
			if (!ex->ex_stopping) {
				exec_stop(ex);
				break;
			}
			/* Asked twice: the programs are left running. */
			log_warnx("signal %u again: exiting now, %zu still "
			    "running", si.ssi_signo, ex->ex_running);
			exit(1);
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		fatal("%s: read", __func__);
}

/*
 * exec_poll_set - fill ex_pfd; the count, and the poll timeout in *ms
 * (at the latest next, when not 0)
 */
static nfds_t
exec_poll_set(struct exec *ex, uint64_t now, uint64_t next, int *ms)
{
	struct pollfd	*pfd = ex->ex_pfd;
	struct service	*sv = &ex->ex_sv;
	size_t		 i;

	pfd[EXEC_PFD_SIGNAL].fd = ex->ex_sigfd;
	if (sv->sv_resume != 0 && now >= sv->sv_resume)
		sv->sv_resume = 0;
	/* poll skips a negative fd: the listener closed or resting. */
	pfd[EXEC_PFD_LISTEN].fd = sv->sv_resume == 0 ? sv->sv_listen : -1;
	if (sv->sv_resume != 0 && (next == 0 || sv->sv_resume < next))
		next = sv->sv_resume;
	for (i = 0; i < EXEC_LINGER_MAX; i++) {
		pfd[EXEC_PFD_LINGER + i].fd = ex->ex_linger[i].lg_fd;
		if (ex->ex_linger[i].lg_fd != -1 &&
		    (next == 0 || ex->ex_linger[i].lg_deadline < next))
			next = ex->ex_linger[i].lg_deadline;
	}
	for (i = 0; i < ex->ex_nchannels; i++)
		pfd[EXEC_PFD_CHANNEL + i].fd = ex->ex_channels[i];
	for (i = 0; i < EXEC_PFD_CHANNEL + ex->ex_nchannels; i++) {
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (next == 0)
		*ms = -1;
	else
		*ms = next <= now ? 0 : (int)(next - now);
	return EXEC_PFD_CHANNEL + ex->ex_nchannels;
}

/* exec_loop - serve until stopped, drained, and every program has ended */
static void
exec_loop(struct exec *ex)
{
	struct pollfd	*pfd = ex->ex_pfd;
	uint64_t	 now, kill_next;
	nfds_t		 n;
	size_t		 i, nch;
	int		 ms;

	while (!ex->ex_stopping || ex->ex_running > 0 || ex->ex_ending > 0 ||
	    ex->ex_nlinger > 0 || ex->ex_nchannels > 0) {
		now = service_now_ms();
		kill_next = exec_end_expire(ex, now);
		n = exec_poll_set(ex, now, kill_next, &ms);
		nch = ex->ex_nchannels;
		if (poll(pfd, n, ms) < 0) {
			if (errno == EINTR)
				continue;
			fatal("%s: poll", __func__);
		}
		/* Reap first: a slot freed now serves a client below. */
		if (pfd[EXEC_PFD_SIGNAL].revents)
			exec_signals(ex);
		for (i = 0; i < nch && i < ex->ex_nchannels; i++)
			if (pfd[EXEC_PFD_CHANNEL + i].revents &&
			    ex->ex_channels[i] == pfd[EXEC_PFD_CHANNEL + i].fd)
				exec_channel(ex, i);
		if (pfd[EXEC_PFD_LISTEN].revents && ex->ex_sv.sv_listen != -1)
			(void)exec_accept(ex);
		for (i = 0; i < EXEC_LINGER_MAX; i++)
			if (pfd[EXEC_PFD_LINGER + i].revents &&
			    ex->ex_linger[i].lg_fd != -1)
				exec_linger_ready(ex, &ex->ex_linger[i],
				    pfd[EXEC_PFD_LINGER + i].revents);
		exec_linger_expire(ex, service_now_ms());
		exec_compact(ex);
	}
}

/* exec_usage - the synopsis, then exit 1 */
static void __attribute__((noreturn))
exec_usage(void)
{
	(void)fprintf(stderr, "usage: snitch-exec [-rv] [-C SHARE] [-c MAX] "
	    "[-m MODE] [-n V4[:V6]] [-u USER] -s SOCKET -- PROGRAM "
	    "[ARGS...]\n");
	exit(1);
}

/* exec_number - optarg in base, within lo..hi, or the usage */
static unsigned long
exec_number(const char *arg, int base, unsigned long lo, unsigned long hi)
{
	unsigned long	v;

	if (service_number(arg, base, lo, hi, &v) < 0)
		exec_usage();
	return v;
}

/* main - parse the command line, listen, serve, exit 0 when stopped */
int
main(int argc, char *argv[])
{
	static struct exec	 ex;
	unsigned long		 mode = EXEC_MODE_DEFAULT, share = 0;
	unsigned		 v4_bits = FAIR_V4_BITS, v6_bits = FAIR_V6_BITS;
	const char		*path = NULL, *user = NULL;
	size_t			 i;
	int			 ch, verbose = 0, flags = 0;

	service_stdio("snitch-exec");
	ex.ex_max = EXEC_MAX_DEFAULT;
	/* "+": the options end at PROGRAM, even without "--". */
	while ((ch = getopt(argc, argv, "+C:c:m:n:rs:u:v")) != -1) {
		switch (ch) {
		case 'C':
			share = exec_number(optarg, 10, 0, EXEC_MAX_LIMIT);
			break;
		case 'c':
			ex.ex_max = exec_number(optarg, 10, 1, EXEC_MAX_LIMIT);
			break;
		case 'm':
			mode = exec_number(optarg, 8, 0, 0777);
			break;
		case 'n':
			if (fair_bits(optarg, &v4_bits, &v6_bits) < 0)
				exec_usage();
			break;
		case 'r':
			flags |= SNITCH_REPLACE;
			break;
		case 's':
			path = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			exec_usage();
		}
	}
	if (path == NULL || optind >= argc || *argv[optind] == '\0')
		exec_usage();
	ex.ex_argv = argv + optind;
	ex.ex_main_argv = argv;
	log_init("snitch-exec", 0, verbose);
	/* no ptrace, no pidfd_getfd of the clients by our uid: dumpable.c */
	if (dumpable_set(0) < 0)
		fatal("PR_SET_DUMPABLE");

	/*
	 * No share by default, as OpenSSH's PerSourceMaxStartups: while
	 * programs are free nobody is refused (one NAT address may be a
	 * whole office), and ending the busiest's newest when all run is
	 * what keeps a few connections from locking others out.
	 */
	if (share >= ex.ex_max)
		share = 0;	/* no limit below -c's own */

	ex.ex_sigfd = service_signals(1);
	if ((ex.ex_children = calloc(2 * ex.ex_max,
	    sizeof(*ex.ex_children))) == NULL ||
	    fair_init(&ex.ex_fair, ex.ex_max, share, v4_bits, v6_bits) < 0)
		fatal("calloc");
	for (i = 0; i < EXEC_LINGER_MAX; i++)
		ex.ex_linger[i].lg_fd = -1;
	if (user != NULL)
		service_peer(&ex.ex_sv, user);
	service_listen(&ex.ex_sv, path, (mode_t)mode, flags);
	log_info("listening on %s: %s for each connection, at most %zu at "
	    "once, shared among /%u IPv4 and /%u IPv6 netblocks, %lu per "
	    "netblock", path, ex.ex_argv[0], ex.ex_max, v4_bits, v6_bits,
	    share != 0 ? share : ex.ex_max);

	exec_loop(&ex);

	if (ex.ex_notes_left > 0)
		log_info("%lu refusal and ending lines not logged (at most %d "
		    "a second)", ex.ex_notes_left, EXEC_NOTE_MAX);
	log_info("stopped: %lu started, %lu refused, %lu ended for others",
	    ex.ex_started, ex.ex_refused, ex.ex_ended);
	(void)close(ex.ex_sigfd);
	fair_free(&ex.ex_fair);
	free(ex.ex_children);
	return 0;
}
