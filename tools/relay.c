/*
 * relay.c - snitch-relay: connect each handed-off connection to a target
 * and relay the bytes both ways, zero copy.
 *
 *	snitch-relay [-rv] [-m MODE] [-p v1|v2] [-t IDLE] [-T CONNECT_TIMEOUT]
 *	    [-D DOWN] -s SOCKET TARGET...
 *
 * TARGET is host:port ("192.0.2.1:443", "[2001:db8::1]:443", a name
 * resolved once at start) or the path of a Unix stream socket.  Several
 * TARGETs share the connections round robin; one whose connect fails or
 * times out is skipped for DOWN seconds, and the connection tries the
 * next (its ClientHello is still unread, so trying again is safe).  Run
 * as an unprivileged user; SOCKET must be connectable by SNItch's `user`.
 *
 * One process, one epoll loop: it receives client sockets from SNItch
 * workers (libsnitch's fd level API), connects to a TARGET without
 * blocking, optionally sends a PROXY header (v1 text or v2 binary, the
 * latter with the server name and the client's ALPN list), then moves
 * bytes with splice(2) through one pipe per direction.  When no target
 * accepts in time the client gets TLS alert 80, as the workers refuse a
 * connection they cannot hand off.
 *
 * Before changing it, know that:
 *  - client and target sockets are edge-triggered: relay_pump runs each
 *    direction until the socket says EAGAIN or the pipe waits for the
 *    other side, whose EPOLLOUT edge resumes it.  A direction reads only
 *    into an empty pipe, so a full pipe never looks like an empty socket;
 *  - a connection owns six fds (client, target, two pipes) and
 *    relay_release is the only place that closes them; a released
 *    connection is freed only after the epoll batch it ended in, since
 *    later events of that batch may still point at it;
 *  - nothing has been read from the client when a connect fails, so the
 *    refusal drains the ClientHello and lingers until the client's FIN:
 *    closing with unread bytes would send a RST that can destroy the
 *    alert.
 */
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "dumpable.h"
#include "log.h"
#include "proxyv2.h"
#include "service.h"
#include "snitch.h"

#define RELAY_MODE_DEFAULT	0660	/* -m */
#define RELAY_IDLE_DEFAULT	300	/* -t, seconds */
#define RELAY_CONNECT_DEFAULT	5	/* -T, seconds */
#define RELAY_DOWN_DEFAULT	10	/* -D, seconds */
#define RELAY_TARGETS_MAX	64
#define RELAY_TIMEOUT_LIMIT	86400	/* a day: beyond, a typo */
#define RELAY_CHANNELS_MAX	1024	/* SNItch workers, times generations */
#define RELAY_RECV_BURST	32	/* messages per channel per turn */
#define RELAY_ACCEPT_BURST	64	/* channels accepted per turn */
#define RELAY_LINGER_MS		1000	/* as long as a worker waits */
#define RELAY_CHUNK		(1 << 20) /* splice length: the pipe limits it */
#define RELAY_EVENTS		64	/* epoll_wait batch */
#define RELAY_V1_MAX		108	/* PROXY v1 line, spec section 2.1 */

enum relay_kind {
	RELAY_H_SIGNAL,
	RELAY_H_LISTEN,
	RELAY_H_CHANNEL,
	RELAY_H_CLIENT,
	RELAY_H_TARGET
};

enum relay_state {
	RELAY_CONNECTING,	/* target connect in flight */
	RELAY_RELAYING,
	RELAY_LINGERING,	/* alert sent, awaiting the client's FIN */
	RELAY_DEAD		/* released, freed after the batch */
};

enum relay_proxy {
	RELAY_PROXY_NONE,
	RELAY_PROXY_V1,
	RELAY_PROXY_V2
};

/* What an epoll event points at. */
struct relay_handle {
	enum relay_kind		 h_kind;
	int			 h_fd;		/* -1: closed */
	struct relay_conn	*h_conn;	/* client and target only */
	unsigned		 h_unacked;	/* channel only: snitch_recv_batch */
};

/* One direction: bytes read from one socket, queued in a pipe. */
struct relay_dir {
	int		 rd_pipe[2];	/* read end, write end; -1 closed */
	size_t		 rd_queued;	/* in the pipe */
	uint64_t	 rd_bytes;	/* written to the far side */
	int		 rd_eof;	/* the source said EOF */
	int		 rd_shut;	/* the far side's write is shut */
};

/* A TARGET, and whether it is being skipped. */
struct relay_target {
	const char		*tg_text;	/* as given, for the log */
	struct sockaddr_storage	 tg_addr;
	socklen_t		 tg_len;
	uint64_t		 tg_down_until;	/* skipped until, or 0: up */
};

struct relay_conn {
	struct relay_conn	*rc_next;
	struct relay_conn	*rc_prev;
	enum relay_state	 rc_state;
	struct relay_handle	 rc_client;
	struct relay_handle	 rc_target;
	struct relay_dir	 rc_up;		/* client to target */
	struct relay_dir	 rc_down;	/* target to client */
	uint8_t			*rc_header;	/* PROXY header to send, or NULL */
	size_t			 rc_header_len;
	size_t			 rc_header_off;
	uint64_t		 rc_start;
	uint64_t		 rc_active;	/* last progress */
	uint64_t		 rc_deadline;	/* connect or linger */
	struct relay_target	*rc_tg;		/* the target tried last */
	size_t			 rc_tries;	/* connects started */
	const char		*rc_end;	/* end= of the log line */
	char			 rc_addr[SNITCH_ADDR_MAX];
	char			 rc_name[SNITCH_NAME_MAX + 1];	/* "-": none */
};

struct relay {
	char			**rl_argv;	/* main's: SIGUSR2 runs it again */
	struct service		 rl_sv;		/* -s, and the connection received */
	struct relay_target	 rl_targets[RELAY_TARGETS_MAX];
	size_t			 rl_ntargets;
	size_t			 rl_next;	/* round robin: tried next */
	uint64_t		 rl_down_ms;
	enum relay_proxy	 rl_proxy;
	uint64_t		 rl_idle_ms;
	uint64_t		 rl_connect_ms;
	int			 rl_epoll;
	struct relay_handle	 rl_signal;
	struct relay_handle	 rl_listen;	/* h_fd -1 once stopping */
	int			 rl_stopping;
	struct relay_handle	*rl_channels[RELAY_CHANNELS_MAX];
	size_t			 rl_nchannels;
	struct relay_conn	*rl_conns;	/* live connections */
	struct relay_conn	*rl_dead;	/* released this batch */
	size_t			 rl_nconns;
	unsigned long		 rl_served;
	unsigned long		 rl_failed;
};

/* relay_connect and relay_retry call each other, for the next target. */
static void	relay_retry(struct relay *, struct relay_conn *, int);

/* What the drains read into: its content is never looked at. */
static unsigned char	relay_discard[16384];

/* relay_watch - add h to the epoll set; 0, or -1 with errno */
static int
relay_watch(struct relay *rl, struct relay_handle *h, uint32_t events)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = h;
	return epoll_ctl(rl->rl_epoll, EPOLL_CTL_ADD, h->h_fd, &ev);
}

/* relay_unwatch_close - remove h from the epoll set, then close it */
static void
relay_unwatch_close(struct relay *rl, struct relay_handle *h)
{
	if (h->h_fd == -1)
		return;
	/* A socket may live on elsewhere: epoll would keep reporting it. */
	(void)epoll_ctl(rl->rl_epoll, EPOLL_CTL_DEL, h->h_fd, NULL);
	(void)close(h->h_fd);
	h->h_fd = -1;
}

/* relay_dir_close - close a direction's pipe */
static void
relay_dir_close(struct relay_dir *rd)
{
	if (rd->rd_pipe[0] != -1)
		(void)close(rd->rd_pipe[0]);
	if (rd->rd_pipe[1] != -1)
		(void)close(rd->rd_pipe[1]);
	rd->rd_pipe[0] = rd->rd_pipe[1] = -1;
}

/* relay_release - log the connection's end, close its six fds */
static void
relay_release(struct relay *rl, struct relay_conn *rc, const char *end)
{
	uint64_t	ms;

	if (rc->rc_state == RELAY_DEAD)
		return;
	if (rc->rc_end == NULL)
		rc->rc_end = end;
	ms = service_now_ms() - rc->rc_start;
	log_info("client=%s name=%s target=%s up=%llu down=%llu "
	    "duration=%llu.%03llus end=%s", rc->rc_addr, rc->rc_name,
	    rc->rc_tg != NULL ? rc->rc_tg->tg_text : "-",
	    (unsigned long long)rc->rc_up.rd_bytes,
	    (unsigned long long)rc->rc_down.rd_bytes,
	    (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000),
	    rc->rc_end);
	relay_unwatch_close(rl, &rc->rc_client);
	relay_unwatch_close(rl, &rc->rc_target);
	relay_dir_close(&rc->rc_up);
	relay_dir_close(&rc->rc_down);
	free(rc->rc_header);
	rc->rc_header = NULL;
	rc->rc_state = RELAY_DEAD;

	/* Off the live list, onto the dead one until the batch is over. */
	if (rc->rc_prev != NULL)
		rc->rc_prev->rc_next = rc->rc_next;
	else
		rl->rl_conns = rc->rc_next;
	if (rc->rc_next != NULL)
		rc->rc_next->rc_prev = rc->rc_prev;
	rc->rc_prev = NULL;
	rc->rc_next = rl->rl_dead;
	rl->rl_dead = rc;
	rl->rl_nconns--;
}

/* relay_reap - free the connections released during the last batch */
static void
relay_reap(struct relay *rl)
{
	struct relay_conn	*rc;

	while ((rc = rl->rl_dead) != NULL) {
		rl->rl_dead = rc->rc_next;
		free(rc);
	}
}

/*
 * relay_refuse - the target cannot be reached: alert 80, then linger
 * until the client's FIN (or RELAY_LINGER_MS), as the workers refuse.
 * A client that does not speak TLS (SNItch's non_tls and silent routes)
 * gets the FIN alone.
 */
static void
relay_refuse(struct relay *rl, struct relay_conn *rc, const char *end)
{
	int	alerted;

	rl->rl_failed++;
	rc->rc_end = end;
	relay_unwatch_close(rl, &rc->rc_target);
	if (alert_refuse(rc->rc_client.h_fd, ALERT_INTERNAL_ERROR,
	    relay_discard, sizeof(relay_discard), &alerted) != 0) {
		relay_release(rl, rc, end);
		return;
	}
	rc->rc_state = RELAY_LINGERING;
	rc->rc_deadline = service_now_ms() + RELAY_LINGER_MS;
}

/* relay_proxy_v1 - the PROXY v1 line for conn into buf; its length */
static size_t
relay_proxy_v1(const struct snitch_conn *conn, char *buf, size_t size)
{
	char	src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char	sport[8], dport[8];
	int	n;

	/* Spec 2.1: what cannot be said as TCP4/TCP6 is UNKNOWN. */
	if (conn->sc_client.ss_family == conn->sc_local.ss_family &&
	    service_addr(&conn->sc_client, src, sizeof(src), sport,
	    sizeof(sport)) == 0 &&
	    service_addr(&conn->sc_local, dst, sizeof(dst), dport,
	    sizeof(dport)) == 0)
		n = snprintf(buf, size, "PROXY TCP%c %s %s %s %s\r\n",
		    conn->sc_client.ss_family == AF_INET ? '4' : '6', src, dst,
		    sport, dport);
	else
		n = snprintf(buf, size, "PROXY UNKNOWN\r\n");
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* relay_header - prepare rc's PROXY header from conn; 0, or -1 */
static int
relay_header(struct relay *rl, struct relay_conn *rc,
    const struct snitch_conn *conn)
{
	struct proxy_info	 pi;
	ssize_t			 n;

	if (rl->rl_proxy == RELAY_PROXY_NONE)
		return 0;
	if ((rc->rc_header = malloc(PROXY_MAX)) == NULL)
		return -1;
	if (rl->rl_proxy == RELAY_PROXY_V1) {
		rc->rc_header_len = relay_proxy_v1(conn, (char *)rc->rc_header,
		    RELAY_V1_MAX);
		return rc->rc_header_len == 0 ? -1 : 0;
	}
	memset(&pi, 0, sizeof(pi));
	pi.pi_src = conn->sc_client;
	pi.pi_dst = conn->sc_local;
	if (conn->sc_server_name[0] != '\0') {
		pi.pi_authority = conn->sc_server_name;
		pi.pi_authority_len = strlen(conn->sc_server_name);
	}
	/* The client's offer, not a choice: SNItch's own TLV, not 0x01. */
	if (conn->sc_alpn_len > 0) {
		pi.pi_alpn = conn->sc_alpn;
		pi.pi_alpn_len = conn->sc_alpn_len;
	}
	pi.pi_ech = conn->sc_ech;
	/* A balancer's unique id and endpoint ids go on to the TCP daemon. */
	pi.pi_tlvs = conn->sc_tlvs;
	pi.pi_tlvs_len = conn->sc_tlvs_len;
	if ((n = proxy_encode(&pi, rc->rc_header, PROXY_MAX)) < 0)
		return -1;
	rc->rc_header_len = (size_t)n;
	return 0;
}

/* relay_send_header - send what is left of the header; 1 done, 0, -1 */
static int
relay_send_header(struct relay_conn *rc)
{
	ssize_t	n;

	while (rc->rc_header != NULL) {
		n = send(rc->rc_target.h_fd, rc->rc_header + rc->rc_header_off,
		    rc->rc_header_len - rc->rc_header_off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		rc->rc_header_off += (size_t)n;
		if (rc->rc_header_off == rc->rc_header_len) {
			free(rc->rc_header);
			rc->rc_header = NULL;
		}
	}
	return 1;
}

/*
 * relay_dir_pump - move what src holds to dst through rd's pipe, until
 * one side would block; 1 if anything moved, 0 if not, -1 on error.
 * Reading only into an empty pipe keeps EAGAIN meaning "src is empty".
 */
static int
relay_dir_pump(struct relay_dir *rd, int src, int dst, int may_write)
{
	ssize_t	n;
	int	moved = 0, progress;

	do {
		progress = 0;
		if (!rd->rd_eof && rd->rd_queued == 0) {
			n = splice(src, NULL, rd->rd_pipe[1], NULL, RELAY_CHUNK,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				rd->rd_queued = (size_t)n;
				progress = 1;
			} else if (n == 0)
				rd->rd_eof = 1;
			else if (errno != EAGAIN && errno != EINTR)
				return -1;
		}
		if (may_write && rd->rd_queued > 0) {
			n = splice(rd->rd_pipe[0], NULL, dst, NULL,
			    rd->rd_queued, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				rd->rd_queued -= (size_t)n;
				rd->rd_bytes += (uint64_t)n;
				progress = 1;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
		}
		moved |= progress;
	} while (progress);
	/* Half-close: pass the EOF on once everything before it went. */
	if (rd->rd_eof && rd->rd_queued == 0 && !rd->rd_shut) {
		if (shutdown(dst, SHUT_WR) < 0 && errno != ENOTCONN)
			return -1;
		rd->rd_shut = 1;
	}
	return moved;
}

/* relay_pump - move both directions of rc; releases it when it ends */
static void
relay_pump(struct relay *rl, struct relay_conn *rc)
{
	int	header, up, down;

	if ((header = relay_send_header(rc)) < 0) {
		relay_release(rl, rc, "reset");
		return;
	}
	up = relay_dir_pump(&rc->rc_up, rc->rc_client.h_fd,
	    rc->rc_target.h_fd, header);
	down = relay_dir_pump(&rc->rc_down, rc->rc_target.h_fd,
	    rc->rc_client.h_fd, 1);
	if (up < 0 || down < 0) {
		relay_release(rl, rc, "reset");
		return;
	}
	if (up > 0 || down > 0)
		rc->rc_active = service_now_ms();
	if (rc->rc_up.rd_shut && rc->rc_down.rd_shut)
		relay_release(rl, rc, "done");
}

/*
 * relay_pick - the next target round robin, skipping those that failed
 * lately; when all did, the one that failed longest ago: a relay that
 * refused everyone until a timer ran out would stretch a blip.
 */
static struct relay_target *
relay_pick(struct relay *rl, uint64_t now)
{
	struct relay_target	*tg, *best = NULL;
	size_t			 i, k;

	for (i = 0; i < rl->rl_ntargets; i++) {
		k = (rl->rl_next + i) % rl->rl_ntargets;
		tg = &rl->rl_targets[k];
		if (tg->tg_down_until <= now) {
			best = tg;
			break;
		}
		if (best == NULL || tg->tg_down_until < best->tg_down_until)
			best = tg;
	}
	rl->rl_next = (size_t)(best - rl->rl_targets + 1) % rl->rl_ntargets;
	return best;
}

/* relay_target_down - tg failed: skip it for a while, say so once */
static void
relay_target_down(struct relay *rl, struct relay_target *tg, int err)
{
	uint64_t	now = service_now_ms();

	if (tg->tg_down_until == 0)
		log_warnx("target %s down (%s): skipped for %llu s",
		    tg->tg_text, strerror(err),
		    (unsigned long long)(rl->rl_down_ms / 1000));
	tg->tg_down_until = now + rl->rl_down_ms;
}

/* relay_target_up - a connect to tg succeeded: it is up, say so once */
static void
relay_target_up(struct relay_target *tg)
{
	if (tg->tg_down_until == 0)
		return;
	log_info("target %s up again", tg->tg_text);
	tg->tg_down_until = 0;
}

/* relay_socket_error - a socket's pending error, 0 for none */
static int
relay_socket_error(int fd)
{
	socklen_t	len = sizeof(int);
	int		err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

/* relay_connected - the target's connect completed, or failed */
static void
relay_connected(struct relay *rl, struct relay_conn *rc)
{
	int	err = relay_socket_error(rc->rc_target.h_fd);

	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err != 0) {
		relay_retry(rl, rc, err);
		return;
	}
	relay_target_up(rc->rc_tg);
	rc->rc_state = RELAY_RELAYING;
	rc->rc_active = service_now_ms();
	rl->rl_served++;
	relay_pump(rl, rc);
}

/* relay_event - an event on a connection's client or target socket */
static void
relay_event(struct relay *rl, struct relay_handle *h, uint32_t events)
{
	struct relay_conn	*rc = h->h_conn;

	switch (rc->rc_state) {
	case RELAY_CONNECTING:
		if (h->h_kind == RELAY_H_TARGET)
			relay_connected(rl, rc);
		else if (events & EPOLLERR)
			relay_release(rl, rc, "reset");
		/* Client bytes wait in its socket until the target is up. */
		break;
	case RELAY_RELAYING:
		/* A reset with nothing to read or write would go unseen. */
		if (events & EPOLLERR && relay_socket_error(h->h_fd) != 0) {
			relay_release(rl, rc, "reset");
			break;
		}
		relay_pump(rl, rc);
		break;
	case RELAY_LINGERING:
		if (events & (EPOLLERR | EPOLLHUP) ||
		    alert_drain(rc->rc_client.h_fd, relay_discard, sizeof(relay_discard)) != 0)
			relay_release(rl, rc, rc->rc_end);
		break;
	case RELAY_DEAD:
		break;
	}
}

/* relay_connect - start a connect to the next target for rc; 0, or -1 */
static int
relay_connect(struct relay *rl, struct relay_conn *rc)
{
	struct relay_target	*tg;
	int			 fd;

	tg = rc->rc_tg = relay_pick(rl, service_now_ms());
	rc->rc_tries++;
	fd = socket(tg->tg_addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc->rc_target.h_fd = fd;
	if (relay_watch(rl, &rc->rc_target, EPOLLIN | EPOLLOUT | EPOLLET) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&tg->tg_addr, tg->tg_len) == 0) {
		relay_connected(rl, rc);
		return 0;
	}
	/* A Unix socket with a full backlog says EAGAIN: not queued, failed. */
	if (errno == EINPROGRESS || errno == EINTR) {
		rc->rc_state = RELAY_CONNECTING;
		rc->rc_deadline = service_now_ms() + rl->rl_connect_ms;
		return 0;
	}
	relay_retry(rl, rc, errno);
	return 0;
}

/*
 * relay_retry - rc's connect failed with err: mark the target down and
 * try the next, or refuse once every target had its chance.
 */
static void
relay_retry(struct relay *rl, struct relay_conn *rc, int err)
{
	log_debug("client=%s: connect %s: %s", rc->rc_addr,
	    rc->rc_tg->tg_text, strerror(err));
	relay_target_down(rl, rc->rc_tg, err);
	relay_unwatch_close(rl, &rc->rc_target);
	if (rc->rc_tries < rl->rl_ntargets && relay_connect(rl, rc) == 0)
		return;
	relay_refuse(rl, rc, err == ETIMEDOUT ? "connect-timeout" :
	    "connect-failed");
}

/* relay_conn_new - a connection for conn, its fds owned; NULL on error */
static struct relay_conn *
relay_conn_new(struct relay *rl, const struct snitch_conn *conn)
{
	struct relay_conn	*rc;

	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return NULL;
	rc->rc_client.h_kind = RELAY_H_CLIENT;
	rc->rc_client.h_fd = conn->sc_fd;
	rc->rc_client.h_conn = rc;
	rc->rc_target.h_kind = RELAY_H_TARGET;
	rc->rc_target.h_fd = -1;
	rc->rc_target.h_conn = rc;
	rc->rc_up.rd_pipe[0] = rc->rc_up.rd_pipe[1] = -1;
	rc->rc_down.rd_pipe[0] = rc->rc_down.rd_pipe[1] = -1;
	rc->rc_start = rc->rc_active = service_now_ms();
	rc->rc_state = RELAY_CONNECTING;
	if (snitch_addr_format(&conn->sc_client, rc->rc_addr,
	    sizeof(rc->rc_addr)) < 0)
		(void)snprintf(rc->rc_addr, sizeof(rc->rc_addr), "-");
	/* sc_server_name is a lowercase LDH host name: libsnitch checked. */
	(void)snprintf(rc->rc_name, sizeof(rc->rc_name), "%s",
	    conn->sc_server_name[0] != '\0' ? conn->sc_server_name : "-");
	rc->rc_next = rl->rl_conns;
	if (rl->rl_conns != NULL)
		rl->rl_conns->rc_prev = rc;
	rl->rl_conns = rc;
	rl->rl_nconns++;
	return rc;
}

/* relay_conn - relay the connection in rl_conn, or refuse it */
static void
relay_conn(struct relay *rl)
{
	struct snitch_conn	*conn = &rl->rl_sv.sv_conn;
	struct relay_conn	*rc;

	if ((rc = relay_conn_new(rl, conn)) == NULL) {
		log_warn("%s: calloc", __func__);
		(void)close(conn->sc_fd);
		return;
	}
	if (service_nonblock(rc->rc_client.h_fd) < 0 ||
	    relay_watch(rl, &rc->rc_client, EPOLLIN | EPOLLOUT | EPOLLET) < 0 ||
	    pipe2(rc->rc_up.rd_pipe, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    pipe2(rc->rc_down.rd_pipe, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    relay_header(rl, rc, conn) < 0 || relay_connect(rl, rc) < 0) {
		log_warn("client=%s name=%s: cannot relay", rc->rc_addr,
		    rc->rc_name);
		relay_refuse(rl, rc, "error");
	}
}

/*
 * relay_channel_close - acknowledge what a channel received and close
 * it; relay_compact drops its slot
 */
static void
relay_channel_close(struct relay *rl, struct relay_handle *h)
{
	if (h->h_fd != -1)
		(void)snitch_ack(h->h_fd, &h->h_unacked);
	relay_unwatch_close(rl, h);
}

/* relay_channel - receive what channel h holds, up to a burst */
static void
relay_channel(struct relay *rl, struct relay_handle *h)
{
	int	n;

	for (n = 0; n < RELAY_RECV_BURST; n++) {
		/* An ACK left waiting means more is queued: the channel
		 * stays readable, and epoll brings us back. */
		switch (service_recv(&rl->rl_sv, h->h_fd, &h->h_unacked)) {
		case SERVICE_CONN:
			relay_conn(rl);
			break;
		case SERVICE_AGAIN:
			return;
		case SERVICE_CLOSE:
			relay_channel_close(rl, h);
			return;
		}
	}
}

/* relay_compact - free closed channels, keeping the others' order */
static void
relay_compact(struct relay *rl)
{
	size_t	i, n = 0;

	for (i = 0; i < rl->rl_nchannels; i++) {
		if (rl->rl_channels[i]->h_fd != -1)
			rl->rl_channels[n++] = rl->rl_channels[i];
		else
			free(rl->rl_channels[i]);
	}
	rl->rl_nchannels = n;
}

/* relay_channel_add - watch a new channel fd; it is closed on failure */
static void
relay_channel_add(struct relay *rl, int fd)
{
	struct relay_handle	*h;

	if (rl->rl_nchannels == RELAY_CHANNELS_MAX) {
		log_warnx("%s: %d channels already: refused", __func__,
		    RELAY_CHANNELS_MAX);
		(void)close(fd);
		return;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		log_warn("%s: calloc", __func__);
		(void)close(fd);
		return;
	}
	h->h_kind = RELAY_H_CHANNEL;
	h->h_fd = fd;
	if (relay_watch(rl, h, EPOLLIN) < 0) {
		log_warn("%s: channel", __func__);
		(void)close(fd);
		free(h);
		return;
	}
	rl->rl_channels[rl->rl_nchannels++] = h;
}

/* relay_accept - accept the channels of workers that connected */
static void
relay_accept(struct relay *rl)
{
	int	fd, n;

	for (n = 0; n < RELAY_ACCEPT_BURST; n++) {
		if ((fd = service_accept(&rl->rl_sv)) >= 0) {
			relay_channel_add(rl, fd);
			continue;
		}
		/* Resting (EMFILE): unwatched, or epoll would spin on it. */
		if (rl->rl_sv.sv_resume != 0)
			(void)epoll_ctl(rl->rl_epoll, EPOLL_CTL_DEL,
			    rl->rl_listen.h_fd, NULL);
		return;
	}
}

/*
 * relay_stop - the first SIGTERM or SIGINT: take no new handoff and lose
 * none.  The socket file goes (unless a new instance took the path
 * over), the channels still in the listener's backlog are accepted, and
 * every channel is shut for reading: what the workers sent before is
 * received and relayed (the loop reads each channel to its end), their
 * next send fails and goes to the path again.  Every connection then
 * finishes.
 */
static void
relay_stop(struct relay *rl)
{
	size_t	i;
	int	fd;

	rl->rl_stopping = 1;
	service_unlink(&rl->rl_sv);
	while ((fd = service_accept(&rl->rl_sv)) >= 0)
		relay_channel_add(rl, fd);
	/* Resting after EMFILE, it is out of the epoll set already. */
	(void)epoll_ctl(rl->rl_epoll, EPOLL_CTL_DEL, rl->rl_listen.h_fd, NULL);
	service_unlisten(&rl->rl_sv);
	rl->rl_listen.h_fd = -1;
	for (i = 0; i < rl->rl_nchannels; i++)
		if (snitch_quiesce(rl->rl_channels[i]->h_fd,
		    &rl->rl_channels[i]->h_unacked) < 0)
			relay_channel_close(rl, rl->rl_channels[i]);
	log_info("stopping: %zu connections, waiting for them (%zu channels "
	    "to drain)", rl->rl_nconns, rl->rl_nchannels);
}

/* relay_signals - act on what the signalfd holds */
static void
relay_signals(struct relay *rl)
{
	struct signalfd_siginfo	 si;
	ssize_t			 n;

	while ((n = read(rl->rl_signal.h_fd, &si, sizeof(si))) ==
	    sizeof(si)) {
		/* The restart signal: the next instance first, then stop. */
		if (si.ssi_signo == SIGUSR2) {
			if (!rl->rl_stopping &&
			    service_successor(&rl->rl_sv, rl->rl_argv) == 0)
				relay_stop(rl);
			continue;
		}
		if (!rl->rl_stopping) {
			relay_stop(rl);
			continue;
		}
		log_warnx("signal %u again: exiting now, %zu connections cut",
		    si.ssi_signo, rl->rl_nconns);
		exit(1);
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		fatal("%s: read", __func__);
}

/* relay_due - when rc times out: idle, or its connect or linger ends */
static uint64_t
relay_due(const struct relay *rl, const struct relay_conn *rc)
{
	if (rc->rc_state == RELAY_RELAYING)
		return rc->rc_active + rl->rl_idle_ms;
	return rc->rc_deadline;
}

/* relay_timers - end what timed out; the ms until the next deadline */
static int
relay_timers(struct relay *rl, uint64_t now)
{
	struct relay_conn	*rc, *next;
	uint64_t		 due, soonest = 0;

	if (rl->rl_sv.sv_resume != 0 && now >= rl->rl_sv.sv_resume) {
		rl->rl_sv.sv_resume = 0;
		if (rl->rl_listen.h_fd != -1 &&
		    relay_watch(rl, &rl->rl_listen, EPOLLIN) < 0)
			fatal("%s: epoll_ctl", __func__);
	}
	for (rc = rl->rl_conns; rc != NULL; rc = next) {
		next = rc->rc_next;
		due = relay_due(rl, rc);
		if (now >= due) {
			if (rc->rc_state == RELAY_CONNECTING)
				relay_retry(rl, rc, ETIMEDOUT);
			else
				relay_release(rl, rc, rc->rc_state ==
				    RELAY_RELAYING ? "idle" : rc->rc_end);
			/* The next target's connect, or a refusal lingering. */
			if (rc->rc_state == RELAY_DEAD)
				continue;
			due = relay_due(rl, rc);
		}
		if (soonest == 0 || due < soonest)
			soonest = due;
	}
	if (rl->rl_sv.sv_resume != 0 &&
	    (soonest == 0 || rl->rl_sv.sv_resume < soonest))
		soonest = rl->rl_sv.sv_resume;
	if (soonest == 0)
		return -1;
	return soonest <= now ? 0 : (int)(soonest - now);
}

/* relay_dispatch - one epoll event to whom it is for */
static void
relay_dispatch(struct relay *rl, struct epoll_event *ev)
{
	struct relay_handle	*h = ev->data.ptr;

	if (h->h_fd == -1)
		return;
	switch (h->h_kind) {
	case RELAY_H_SIGNAL:
		relay_signals(rl);
		break;
	case RELAY_H_LISTEN:
		relay_accept(rl);
		break;
	case RELAY_H_CHANNEL:
		relay_channel(rl, h);
		break;
	case RELAY_H_CLIENT:
	case RELAY_H_TARGET:
		relay_event(rl, h, ev->events);
		break;
	}
}

/* relay_done - stopped, every channel drained, every connection ended */
static int
relay_done(const struct relay *rl)
{
	return rl->rl_stopping && rl->rl_nconns == 0 && rl->rl_nchannels == 0;
}

/* relay_loop - serve until stopped and every connection has ended */
static void
relay_loop(struct relay *rl)
{
	struct epoll_event	ev[RELAY_EVENTS];
	int			i, n, ms;

	while (!relay_done(rl)) {
		ms = relay_timers(rl, service_now_ms());
		relay_reap(rl);
		if (relay_done(rl))
			break;
		if ((n = epoll_wait(rl->rl_epoll, ev, RELAY_EVENTS, ms)) < 0) {
			if (errno == EINTR)
				continue;
			fatal("%s: epoll_wait", __func__);
		}
		for (i = 0; i < n; i++)
			relay_dispatch(rl, &ev[i]);
		relay_reap(rl);
		relay_compact(rl);
	}
}

/* relay_usage - the synopsis, then exit 1 */
static void __attribute__((noreturn))
relay_usage(void)
{
	(void)fprintf(stderr, "usage: snitch-relay [-rv] [-m MODE] [-p v1|v2] "
	    "[-t IDLE] [-T CONNECT_TIMEOUT] [-D DOWN] [-u USER] -s SOCKET "
	    "TARGET...\n");
	exit(1);
}

/* relay_number - optarg in base, within lo..hi, or the usage */
static unsigned long
relay_number(const char *arg, int base, unsigned long lo, unsigned long hi)
{
	unsigned long	v;

	if (service_number(arg, base, lo, hi, &v) < 0)
		relay_usage();
	return v;
}

/* relay_target_unix - TARGET as a Unix socket path */
static void
relay_target_unix(struct relay_target *tg, const char *path)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)&tg->tg_addr;

	if (strlen(path) >= sizeof(sun->sun_path))
		fatalx("%s: path too long for a Unix socket", path);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	tg->tg_len = sizeof(*sun);
}

/* relay_target - parse TARGET into tg: /path, host:port or [v6]:port */
static void
relay_target(struct relay_target *tg, const char *target)
{
	struct addrinfo	 hints, *res;
	char		 host[256];
	const char	*port, *start = target;
	size_t		 len;
	int		 e;

	tg->tg_text = target;
	if (target[0] == '/') {
		relay_target_unix(tg, target);
		return;
	}
	if (target[0] == '[') {
		start = target + 1;
		if ((port = strstr(start, "]:")) == NULL)
			fatalx("%s: expected [ADDRESS]:PORT", target);
		len = (size_t)(port - start);
		port += 2;
	} else {
		if ((port = strrchr(target, ':')) == NULL)
			fatalx("%s: expected HOST:PORT or /PATH", target);
		len = (size_t)(port - target);
		port++;
	}
	if (len == 0 || len >= sizeof(host) || *port == '\0')
		fatalx("%s: expected HOST:PORT or /PATH", target);
	memcpy(host, start, len);
	host[len] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		fatalx("%s: %s", target, gai_strerror(e));
	/*
	 * Resolved once, at start, to its first address: a relay that
	 * looked names up per connection would stall its loop on DNS.
	 * Several addresses are several TARGETs.
	 */
	memcpy(&tg->tg_addr, res->ai_addr, res->ai_addrlen);
	tg->tg_len = res->ai_addrlen;
	freeaddrinfo(res);
}

/* relay_options - parse the command line into rl; the listener mode */
static mode_t
relay_options(struct relay *rl, int argc, char *argv[], const char **path,
    int *verbose, int *flags)
{
	unsigned long	mode = RELAY_MODE_DEFAULT;
	int		ch;

	rl->rl_idle_ms = RELAY_IDLE_DEFAULT * 1000;
	rl->rl_connect_ms = RELAY_CONNECT_DEFAULT * 1000;
	rl->rl_down_ms = RELAY_DOWN_DEFAULT * 1000;
	while ((ch = getopt(argc, argv, "D:m:p:rs:t:T:u:v")) != -1) {
		switch (ch) {
		case 'D':
			rl->rl_down_ms = 1000 * (uint64_t)relay_number(optarg,
			    10, 1, RELAY_TIMEOUT_LIMIT);
			break;
		case 'm':
			mode = relay_number(optarg, 8, 0, 0777);
			break;
		case 'p':
			if (strcmp(optarg, "v1") == 0)
				rl->rl_proxy = RELAY_PROXY_V1;
			else if (strcmp(optarg, "v2") == 0)
				rl->rl_proxy = RELAY_PROXY_V2;
			else
				relay_usage();
			break;
		case 'r':
			*flags |= SNITCH_REPLACE;
			break;
		case 's':
			*path = optarg;
			break;
		case 't':
			rl->rl_idle_ms = 1000 * (uint64_t)relay_number(optarg,
			    10, 1, RELAY_TIMEOUT_LIMIT);
			break;
		case 'T':
			rl->rl_connect_ms = 1000 *
			    (uint64_t)relay_number(optarg, 10, 1,
			    RELAY_TIMEOUT_LIMIT);
			break;
		case 'u':
			service_peer(&rl->rl_sv, optarg);
			break;
		case 'v':
			(*verbose)++;
			break;
		default:
			relay_usage();
		}
	}
	if (*path == NULL || optind == argc)
		relay_usage();
	if (argc - optind > RELAY_TARGETS_MAX)
		fatalx("more than %d targets", RELAY_TARGETS_MAX);
	return (mode_t)mode;
}

/* main - parse the command line, listen, relay, exit 0 when stopped */
int
main(int argc, char *argv[])
{
	static struct relay	 rl;
	const char		*path = NULL;
	mode_t			 mode;
	int			 i, verbose = 0, flags = 0;

	service_stdio("snitch-relay");
	rl.rl_argv = argv;
	mode = relay_options(&rl, argc, argv, &path, &verbose, &flags);
	log_init("snitch-relay", 0, verbose);
	/* no ptrace, no pidfd_getfd of the clients by our uid: dumpable.c */
	if (dumpable_set(0) < 0)
		fatal("PR_SET_DUMPABLE");
	for (i = optind; i < argc; i++)
		relay_target(&rl.rl_targets[rl.rl_ntargets++], argv[i]);

	if ((rl.rl_epoll = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fatal("epoll_create1");
	rl.rl_signal.h_kind = RELAY_H_SIGNAL;
	rl.rl_signal.h_fd = service_signals(0);
	if (relay_watch(&rl, &rl.rl_signal, EPOLLIN) < 0)
		fatal("epoll_ctl");
	service_listen(&rl.rl_sv, path, mode, flags);
	rl.rl_listen.h_kind = RELAY_H_LISTEN;
	rl.rl_listen.h_fd = rl.rl_sv.sv_listen;
	if (relay_watch(&rl, &rl.rl_listen, EPOLLIN) < 0)
		fatal("epoll_ctl");
	log_info("listening on %s: relaying to %zu target%s, round robin, "
	    "one that fails skipped for %llu s", path, rl.rl_ntargets,
	    rl.rl_ntargets > 1 ? "s" : "",
	    (unsigned long long)(rl.rl_down_ms / 1000));
	for (i = 0; i < (int)rl.rl_ntargets; i++)
		log_info("target %s", rl.rl_targets[i].tg_text);

	relay_loop(&rl);

	log_info("stopped: %lu relayed, %lu refused", rl.rl_served,
	    rl.rl_failed);
	(void)close(rl.rl_signal.h_fd);
	(void)close(rl.rl_epoll);
	return 0;
}
