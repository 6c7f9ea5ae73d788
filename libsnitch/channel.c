/*
 * channel.c - libsnitch's side of one worker's channel: who may open
 * one, the HELLO and ACKs it says (handoff protocol version 2), and the
 * client connections it receives (interface and wire format in
 * snitch.h and proxyv2.h).
 *
 * Linked into other people's backend daemons and run with whatever
 * privilege they have.  So: no global state, no output, no exit, no
 * signal disposition touched; every failure is -1 and errno.
 *
 * Anyone who can connect to the socket can send messages: the socket's
 * mode and its directory are the access control, and every message is
 * still checked as untrusted input.  A backend may also require that
 * channels come from one uid, SNItch's (SO_PEERCRED of the channel):
 * another user who can connect then gets the channel closed at once.
 * Every fd that arrives with a message either reaches the caller in
 * sc_fd or is closed here, whatever else is wrong with the message: a
 * backend that leaked one fd per bad message would run out of fds
 * under a buggy sender.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "ids.h"
#include "private.h"
#include "proxyin.h"
#include "proxyv2.h"
#include "snitch.h"

/*
 * Room for more fds than a valid message carries: a message with a few
 * arrives whole and is refused for what it is, all of them closed.  With
 * more, the kernel drops those that do not fit and sets MSG_CTRUNC,
 * refused too.
 */
#define SNITCH_RECV_FDS		8

#define SNITCH_ACK_BATCH	32	/* handoffs one ACK covers, at most */

/*
 * snitch_peer_uid - the uid of user: a name in the user database, else
 * a decimal number (ids.c, as SNItch reads its configuration)
 */
int
snitch_peer_uid(const char *user, uid_t *uid)
{
	return ids_uid(user, uid);
}

/*
 * snitch_peer_wanted - the uid channels must come from: uid, else the
 * environment's; 1 with *want set, 0 when anyone may, -1 with EINVAL
 * when SNITCH_PEER_UID names no user
 */
int
snitch_peer_wanted(uid_t uid, uid_t *want)
{
	const char	*env;

	if (uid != SNITCH_PEER_ANY) {
		*want = uid;
		return 1;
	}
	if ((env = getenv(SNITCH_PEER_ENV)) == NULL || *env == '\0')
		return 0;
	return snitch_peer_uid(env, want) == 0 ? 1 : -1;
}

/*
 * snitch_peer_check - keep channel fd only if its peer is the uid
 * wanted; otherwise close it: -1 with EACCES (EINVAL: a bad variable)
 */
int
snitch_peer_check(int fd, uid_t uid)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	uid_t		 want;
	int		 r, saved;

	if ((r = snitch_peer_wanted(uid, &want)) == 0)
		return fd;
	saved = EINVAL;
	if (r == 1) {
		saved = EACCES;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
			saved = errno;
		else if (cred.uid == want)
			return fd;
	}
	(void)close(fd);
	errno = saved;
	return -1;
}

/*
 * snitch_v2 - whether to speak handoff protocol version 2 (PROTOCOL):
 * yes, unless SNITCH_HANDOFF_VERSION=1 is in the environment
 */
static int
snitch_v2(void)
{
	static int	v2 = -1;
	const char	*env;

	if (v2 == -1) {
		env = getenv("SNITCH_HANDOFF_VERSION");
		v2 = env == NULL || strcmp(env, "1") != 0;
	}
	return v2;
}

/*
 * snitch_say - send one version-2 message on a channel, never blocking:
 * a worker of version 1 never reads them, and one that finds its channel
 * full of them is one that will not miss them
 */
static void
snitch_say(int channel_fd, const uint8_t msg[ACK_MSG_LEN])
{
	int	saved = errno;

	(void)send(channel_fd, msg, ACK_MSG_LEN, MSG_DONTWAIT | MSG_NOSIGNAL);
	errno = saved;
}

/*
 * snitch_hello - a channel was accepted: say HELLO, for version 2 (the
 * worker keeps each socket until it is acknowledged)
 */
void
snitch_hello(int channel_fd)
{
	uint8_t	hello[ACK_MSG_LEN];

	if (snitch_v2()) {
		ack_hello(hello);
		snitch_say(channel_fd, hello);
	}
}

/* snitch_accept - accept one worker's channel; the fd, or -1 and errno */
int
snitch_accept(int listen_fd)
{
	return snitch_accept_peer(listen_fd, SNITCH_PEER_ANY);
}

/* snitch_accept_peer - accept a channel if it comes from uid; fd or -1 */
int
snitch_accept_peer(int listen_fd, uid_t uid)
{
	int	fd;

	if ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return -1;
	if ((fd = snitch_peer_check(fd, uid)) < 0)
		return -1;
	snitch_hello(fd);
	return fd;
}

/* snitch_alpn_walk - one ProtocolName of list at *off; 1, 0 at the end, -1 */
static int
snitch_alpn_walk(const unsigned char *list, size_t len, size_t *off,
    const unsigned char **proto, size_t *proto_len)
{
	size_t	name_len;

	/*
	 * RFC 7301 3.1: ProtocolName protocol_name_list<2..2^16-1>, each
	 * ProtocolName<1..2^8-1>.  The list here is the body, without its
	 * own length.
	 */
	if (*off == len)
		return 0;
	if (*off > len)
		goto bad;
	name_len = list[*off];
	if (name_len == 0 || len - *off - 1 < name_len)
		goto bad;
	*proto = list + *off + 1;
	*proto_len = name_len;
	*off += 1 + name_len;
	return 1;

bad:
	errno = EBADMSG;
	return -1;
}

/* snitch_alpn_next - the protocol at *offset; 1, 0 at the end, -1 */
int
snitch_alpn_next(const struct snitch_conn *conn, size_t *offset,
    const unsigned char **proto, size_t *proto_len)
{
	if (conn->sc_alpn_len > SNITCH_ALPN_MAX) {
		errno = EBADMSG;
		return -1;
	}
	return snitch_alpn_walk(conn->sc_alpn, conn->sc_alpn_len, offset,
	    proto, proto_len);
}

/* Room for every TLV a worker passes on from an upstream header. */
_Static_assert(SNITCH_TLVS_MAX >= PROXYIN_KEPT_MAX, "SNITCH_TLVS_MAX");

/* snitch_tlv - the value of conn's first TLV of type, or NULL */
const unsigned char *
snitch_tlv(const struct snitch_conn *conn, unsigned type, size_t *len)
{
	const uint8_t	*value;
	size_t		 off = 0, tlvs_len;
	uint8_t		 t;

	tlvs_len = conn->sc_tlvs_len;
	if (tlvs_len > SNITCH_TLVS_MAX)
		tlvs_len = SNITCH_TLVS_MAX;
	while (proxy_tlv_next(conn->sc_tlvs, tlvs_len, &off, &t, &value,
	    len) == 1)
		if (t == type)
			return value;
	*len = 0;
	return NULL;
}

/* snitch_alpn_valid - whether list is a well-formed, non-empty ALPN body */
static int
snitch_alpn_valid(const unsigned char *list, size_t len)
{
	const unsigned char	*proto;
	size_t			 off = 0, proto_len;
	int			 r;

	if (len == 0 || len > SNITCH_ALPN_MAX)
		return 0;
	while ((r = snitch_alpn_walk(list, len, &off, &proto, &proto_len)) == 1)
		;
	return r == 0;
}

/*
 * snitch_ack - acknowledge, in one ACK, the *unacked handoffs received
 * on a channel and not acknowledged yet (version 2); 0, *unacked zeroed
 */
int
snitch_ack(int channel_fd, unsigned *unacked)
{
	uint8_t	ack[ACK_MSG_LEN];

	if (*unacked > 0 && snitch_v2()) {
		ack_ack(ack, *unacked);
		snitch_say(channel_fd, ack);
	}
	*unacked = 0;
	return 0;
}

/*
 * snitch_ack_later - whether the ACK of what was just received may wait
 * for the next message: more is queued on the channel, and the batch is
 * not full
 */
static int
snitch_ack_later(int channel_fd, unsigned unacked)
{
	int	queued;

	/*
	 * Each ACK costs the worker a wakeup and a read.  Waiting only
	 * while more is queued keeps the channel readable, so the caller's
	 * next read is certain, and the read that empties the queue
	 * acknowledges the lot; the bound keeps a worker under a steady
	 * stream hearing from us.
	 */
	if (unacked >= SNITCH_ACK_BATCH)
		return 0;
	return ioctl(channel_fd, FIONREAD, &queued) == 0 && queued > 0;
}

/*
 * snitch_quiesce - say "no more" on a channel: acknowledge what it
 * received (unacked may be NULL), then shut it for reading.  What the
 * worker sent before is still received, then EOF; its next send fails
 * with EPIPE, and it connects to the socket path again.  0, or -1.
 */
int
snitch_quiesce(int channel_fd, unsigned *unacked)
{
	if (unacked != NULL)
		(void)snitch_ack(channel_fd, unacked);
	return shutdown(channel_fd, SHUT_RD);
}

/*
 * snitch_recv_msg - receive one handed-off connection from a channel,
 * counting it in *unacked and acknowledging now, or later if batch.
 *
 * One message: the PROXY v2 header as payload, exactly one SCM_RIGHTS
 * cmsg carrying exactly one fd, a socket.  The cmsg checks are those of
 * nginx's ngx_read_channel: level, type, length, and MSG_CTRUNC, which
 * means the kernel dropped fds that did not fit.
 */
static int
snitch_recv_msg(int channel_fd, struct snitch_conn *conn, unsigned *unacked,
    int batch)
{
	uint8_t			 payload[PROXY_MAX + 1];
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(SNITCH_RECV_FDS * sizeof(int))];
	} control;
	struct iovec		 iov = {
		.iov_base = payload,
		.iov_len = sizeof(payload),
	};
	struct msghdr		 msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr		*cmsg;
	struct proxy_info	 pi;
	struct stat		 st;
	const unsigned char	*data, *end;
	int			 fds[SNITCH_RECV_FDS];
	size_t			 nfds = 0, ncmsg = 0, nin, i;
	ssize_t			 n;
	int			 odd = 0;

	conn->sc_fd = -1;
	n = recvmsg(channel_fd, &msg, MSG_CMSG_CLOEXEC);
	/* A worker that closed with our ACKs unread resets the channel:
	 * gone all the same. */
	if (n < 0 && errno == ECONNRESET)
		return 0;
	if (n < 0)
		return -1;

	/* Take every fd first: whatever is wrong below, all get closed. */
	end = (const unsigned char *)control.buf + msg.msg_controllen;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		ncmsg++;
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0)) {
			odd = 1;
			continue;
		}
		data = CMSG_DATA(cmsg);
		nin = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nin > (size_t)(end - data) / sizeof(int))
			nin = (size_t)(end - data) / sizeof(int);
		if (cmsg->cmsg_len != CMSG_LEN(nin * sizeof(int)))
			odd = 1;
		for (i = 0; i < nin && nfds < SNITCH_RECV_FDS; i++)
			memcpy(&fds[nfds++], data + i * sizeof(int),
			    sizeof(int));
	}

	/*
	 * A SOCK_SEQPACKET peer that closed reads as a zero-length message;
	 * so does a zero-length message without fds, which no worker sends.
	 * One with fds or flags is a message, and is refused below.
	 */
	if (n == 0 && ncmsg == 0 &&
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0) {
		/* After our own shutdown(SHUT_RD) the worker still listens. */
		(void)snitch_ack(channel_fd, unacked);
		return 0;
	}
	/*
	 * Received: acknowledged, good or bad, so that the worker's count
	 * of what it sent stays in step; a bad one's fd is closed below,
	 * and the worker lets go of its copy.
	 */
	(*unacked)++;
	if (!batch || !snitch_ack_later(channel_fd, *unacked))
		(void)snitch_ack(channel_fd, unacked);

	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC) || (size_t)n > PROXY_MAX)
		goto bad;
	if (odd || ncmsg != 1 || nfds != 1)
		goto bad;
	if (fstat(fds[0], &st) < 0 || !S_ISSOCK(st.st_mode))
		goto bad;
	if (proxy_decode(payload, n, &pi) < 0)
		goto bad;
	if (pi.pi_alpn != NULL &&
	    !snitch_alpn_valid(pi.pi_alpn, pi.pi_alpn_len))
		goto bad;
	/*
	 * The worker sends the name it matched, which hostname_normalize
	 * produced: anything else did not come from a worker.  Checking it
	 * here lets every backend log and compare sc_server_name as is.
	 */
	if (pi.pi_authority != NULL) {
		if (hostname_normalize((const uint8_t *)pi.pi_authority,
		    pi.pi_authority_len, conn->sc_server_name) < 0)
			goto bad;
	} else
		conn->sc_server_name[0] = '\0';

	/*
	 * No fcntl here: the worker accepts in blocking mode and peeks
	 * with MSG_DONTWAIT, so the socket comes as snitch.h promises,
	 * blocking (PROTOCOL; t/dispatch.bats checks it).
	 */
	conn->sc_fd = fds[0];
	conn->sc_client = pi.pi_src;
	conn->sc_local = pi.pi_dst;
	conn->sc_ech = pi.pi_ech;
	conn->sc_alpn_len = pi.pi_alpn_len;
	if (pi.pi_alpn_len > 0)
		memcpy(conn->sc_alpn, pi.pi_alpn, pi.pi_alpn_len);
	conn->sc_tlvs_len = 0;
	proxy_tlv_copy(conn->sc_tlvs, sizeof(conn->sc_tlvs), &conn->sc_tlvs_len,
	    pi.pi_tlvs, pi.pi_tlvs_len);
	return 1;

bad:
	conn->sc_server_name[0] = '\0';
	for (i = 0; i < nfds; i++)
		(void)close(fds[i]);
	errno = EBADMSG;
	return -1;
}

/* snitch_recv - receive one connection, acknowledged at once */
int
snitch_recv(int channel_fd, struct snitch_conn *conn)
{
	unsigned	unacked = 0;

	return snitch_recv_msg(channel_fd, conn, &unacked, 0);
}

/* snitch_recv_batch - receive one connection, acknowledged in batches */
int
snitch_recv_batch(int channel_fd, struct snitch_conn *conn,
    unsigned *unacked)
{
	return snitch_recv_msg(channel_fd, conn, unacked, 1);
}

/* snitch_addr_format - "192.0.2.1:443" or "[2001:db8::1]:443" into buf */
int
snitch_addr_format(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 host[INET6_ADDRSTRLEN];
	int				 n;

	switch (ss->ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)ss;
		if (!inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)))
			return -1;
		n = snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)ss;
		if (!inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)))
			return -1;
		n = snprintf(buf, size, "[%s]:%u", host,
		    ntohs(sin6->sin6_port));
		break;
	default:
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (n < 0 || (size_t)n >= size) {
		/* A cut address looks like another address: give none. */
		if (size > 0)
			buf[0] = '\0';
		errno = ENOSPC;
		return -1;
	}
	return 0;
}
