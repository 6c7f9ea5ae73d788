/*
 * libsnitch.c - receive client connections handed off by SNItch workers
 * (interface and wire format in snitch.h and proxyv2.h).
 *
 * Linked into other people's backend daemons and run with whatever
 * privilege they have.  So: no global state, no output, no exit, no
 * signal disposition touched; every failure is -1 and errno.
 *
 * Anyone who can connect to the socket can send messages: the socket's
 * mode and its directory are the access control, and every message is
 * still checked as untrusted input.  A backend may also require that
 * channels come from one uid, SNItch's (SO_PEERCRED of the channel):
 * another user who can connect then gets the channel closed at once.  Every fd that arrives with a message
 * either reaches the caller in sc_fd or is closed here, whatever else is
 * wrong with the message: a backend that leaked one fd per bad message
 * would run out of fds under a buggy sender.
 */
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ack.h"
#include "ids.h"
#include "proxyv2.h"
#include "snitch.h"

/*
 * Room for more fds than a valid message carries: a message with a few
 * arrives whole and is refused for what it is, all of them closed.  With
 * more, the kernel drops those that do not fit and sets MSG_CTRUNC,
 * refused too.
 */
#define SNITCH_RECV_FDS		8

#define SNITCH_CHANNELS_INIT	16	/* pollfd slots at open */
#define SNITCH_ACCEPT_BURST	64	/* channels accepted per wakeup */
#define SNITCH_ACCEPT_PAUSE_MS	100	/* rest after EMFILE */
#define SNITCH_TMP_TRIES	8	/* temporary names tried by a listen */
#define SNITCH_ACK_BATCH	32	/* handoffs one ACK covers, at most */

struct snitch_server {
	int		 ss_listen;	/* -1 once draining */
	struct pollfd	*ss_pfd;	/* [0] listener, then channels */
	unsigned	*ss_unacked;	/* [i]: channel ss_pfd[i]'s, see snitch_ack */
	size_t		 ss_npfd;
	size_t		 ss_cap;
	size_t		 ss_cursor;	/* next unserved ss_pfd */
	int		 ss_paused;	/* listener out of poll until: */
	struct timespec	 ss_resume;
	uid_t		 ss_peer;	/* channels only from, or _ANY */
	pid_t		 ss_pid;	/* the process that opened it */
	int		 ss_draining;	/* snitch_drain was called */
	struct snitch_bound ss_bound;	/* the socket file it bound */
	char		 ss_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

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
static int
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
static int
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
 * snitch_tmpname - the temporary name beside path that snitch_listen binds
 * first: ".<name>.<pid>.<random>" in path's directory; 0, or -1 with
 * ENAMETOOLONG when it does not fit sun_path
 */
static int
snitch_tmpname(const char *path, char *out, size_t size)
{
	const char	*base = strrchr(path, '/');
	uint32_t	 rnd;
	int		 n;

	/*
	 * Random so that nobody can plant a name there first; if someone
	 * does anyway, bind fails on it (bind never follows a symlink) and
	 * the caller draws again.
	 */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)time(NULL) ^ (uint32_t)clock() ^
		    (uint32_t)(uintptr_t)&rnd;
	base = base == NULL ? path : base + 1;
	n = snprintf(out, size, "%.*s.%s.%ld.%08x", (int)(base - path), path,
	    base, (long)getpid(), rnd);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * snitch_live - whether a process listens at the socket sun names: 1, 0
 * (nobody: a dead backend's file), or -1 with errno
 */
static int
snitch_live(const struct sockaddr_un *sun)
{
	int	probe, r, saved;

	if ((probe = socket(AF_UNIX,
	    SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	r = connect(probe, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	(void)close(probe);
	/* EAGAIN: a full backlog; EPROTOTYPE: live, of another type. */
	if (r == 0 || saved == EAGAIN || saved == EINPROGRESS ||
	    saved == EPROTOTYPE)
		return 1;
	if (saved == ECONNREFUSED || saved == ENOENT)
		return 0;
	errno = saved;
	return -1;
}

/*
 * snitch_path_free - whether path may be taken: nothing there, a socket
 * nobody listens on, or (SNITCH_REPLACE) a live one; 0, or -1 with
 * EADDRINUSE (a live listener, or not a socket: a regular file or a
 * symlink is never replaced) or errno
 */
static int
snitch_path_free(const struct sockaddr_un *sun, int flags)
{
	struct stat	 st;
	int		 live;

	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EADDRINUSE;
		return -1;
	}
	if (flags & SNITCH_REPLACE)
		return 0;
	/*
	 * Without SNITCH_REPLACE a second instance started by mistake is
	 * told so, rather than taking the name from the first one.
	 */
	if ((live = snitch_live(sun)) < 0)
		return -1;
	if (live) {
		errno = EADDRINUSE;
		return -1;
	}
	return 0;
}

/*
 * snitch_bind_tmp - bind fd at a fresh temporary name beside path, never
 * more open than mode (0: as the umask gives); the name in tmp, the
 * file's identity in bound; 0, or -1 with errno
 */
static int
snitch_bind_tmp(int fd, const char *path, mode_t mode,
    struct sockaddr_un *tmp, struct snitch_bound *bound)
{
	struct stat	 st;
	mode_t		 old = 0;
	int		 tries, r, saved;

	memset(tmp, 0, sizeof(*tmp));
	tmp->sun_family = AF_UNIX;
	for (tries = 0; tries < SNITCH_TMP_TRIES; tries++) {
		if (snitch_tmpname(path, tmp->sun_path,
		    sizeof(tmp->sun_path)) < 0)
			return -1;
		/*
		 * bind creates the file with the socket's mode (0777) less
		 * the umask: with this umask it is born with exactly mode,
		 * and no path is ever chmod'ed (a chmod by name follows a
		 * symlink someone may swap in).  The umask is the process's:
		 * it is changed for this one call only.
		 */
		if (mode != 0)
			old = umask(~mode & 0777);
		r = bind(fd, (struct sockaddr *)tmp, sizeof(*tmp));
		saved = errno;
		if (mode != 0)
			(void)umask(old);
		if (r == 0)
			break;
		if (saved != EADDRINUSE) {
			errno = saved;
			return -1;
		}
	}
	if (tries == SNITCH_TMP_TRIES) {
		errno = EADDRINUSE;
		return -1;
	}
	/* Its identity, for snitch_unlink: the name is ours until the rename. */
	if (lstat(tmp->sun_path, &st) < 0) {
		saved = errno;
		(void)unlink(tmp->sun_path);
		errno = saved;
		return -1;
	}
	bound->sb_dev = st.st_dev;
	bound->sb_ino = st.st_ino;
	return 0;
}

/*
 * snitch_listen_flags - listen on a SOCK_SEQPACKET socket at path: bound
 * at a temporary name, listening, then renamed over path, so that path
 * is never missing nor a socket that does not listen yet; the fd, and
 * the file's identity in *bound (unless NULL), or -1 with errno
 */
int
snitch_listen_flags(const char *path, mode_t mode, int flags,
    struct snitch_bound *bound)
{
	struct sockaddr_un	 sun, tmp;
	struct snitch_bound	 mine;
	size_t			 len;
	int			 fd = -1, named = 0, saved;
	uid_t			 want;

	if (path == NULL || *path == '\0' || (flags & ~SNITCH_REPLACE) ||
	    snitch_peer_wanted(SNITCH_PEER_ANY, &want) == -1) {
		/* An empty name would autobind to an abstract address; a
		 * bad SNITCH_PEER_UID would refuse every channel later. */
		errno = EINVAL;
		return -1;
	}
	len = strlen(path);
	if (len >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len + 1);

	if (snitch_path_free(&sun, flags) < 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (snitch_bind_tmp(fd, path, mode, &tmp, &mine) < 0)
		goto fail;
	named = 1;
	if (listen(fd, SOMAXCONN) < 0)
		goto fail;
	/*
	 * Checked again just before: what is in the way now is still a
	 * socket.  rename replaces a name, never follows it: the worst a
	 * race here can do is replace an entry that whoever may write the
	 * directory could have removed anyway.
	 */
	if (snitch_path_free(&sun, flags | SNITCH_REPLACE) < 0)
		goto fail;
	if (rename(tmp.sun_path, path) < 0)
		goto fail;
	if (bound != NULL)
		*bound = mine;
	return fd;

fail:
	saved = errno;
	if (named)
		(void)unlink(tmp.sun_path);
	if (fd >= 0)
		(void)close(fd);
	errno = saved;
	return -1;
}

/* snitch_listen - snitch_listen_flags without flags, the identity unkept */
int
snitch_listen(const char *path, mode_t mode)
{
	return snitch_listen_flags(path, mode, 0, NULL);
}

/*
 * snitch_unlink - remove path if it is still the socket file bound (a
 * new instance may have renamed its own over it: that one is left); 1
 * removed, 0 left in place (not ours, or gone), -1 with errno
 */
int
snitch_unlink(const char *path, const struct snitch_bound *bound)
{
	struct stat	st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (st.st_dev != bound->sb_dev || st.st_ino != bound->sb_ino)
		return 0;
	/*
	 * A new instance renaming over path right now would lose its name
	 * here: a gap of one system call, between two instances an
	 * operator started at once.
	 */
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -1;
	return 1;
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
static void
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

/*
 * snitch_server_drop - forget channel i, closing it unless its fd is
 * gone; what it received is acknowledged first
 */
static void
snitch_server_drop(struct snitch_server *srv, size_t i, int do_close)
{
	if (do_close) {
		(void)snitch_ack(srv->ss_pfd[i].fd, &srv->ss_unacked[i]);
		(void)close(srv->ss_pfd[i].fd);
	}
	memmove(&srv->ss_pfd[i], &srv->ss_pfd[i + 1],
	    (srv->ss_npfd - i - 1) * sizeof(*srv->ss_pfd));
	memmove(&srv->ss_unacked[i], &srv->ss_unacked[i + 1],
	    (srv->ss_npfd - i - 1) * sizeof(*srv->ss_unacked));
	srv->ss_npfd--;
}

/* snitch_server_grow - room for twice as many channels; 0, or -1 ENOMEM */
static int
snitch_server_grow(struct snitch_server *srv)
{
	struct pollfd	*pfd;
	unsigned	*unacked;
	size_t		 cap = srv->ss_cap * 2;

	if (cap < srv->ss_cap || cap > SIZE_MAX / sizeof(*pfd)) {
		errno = ENOMEM;
		return -1;
	}
	if ((pfd = realloc(srv->ss_pfd, cap * sizeof(*pfd))) == NULL)
		return -1;
	srv->ss_pfd = pfd;
	if ((unacked = realloc(srv->ss_unacked,
	    cap * sizeof(*unacked))) == NULL)
		return -1;
	srv->ss_unacked = unacked;
	srv->ss_cap = cap;
	return 0;
}

/* snitch_server_add - poll a new channel; -1 with ENOMEM when full */
static int
snitch_server_add(struct snitch_server *srv, int fd)
{
	if (srv->ss_npfd == srv->ss_cap && snitch_server_grow(srv) < 0)
		return -1;
	srv->ss_pfd[srv->ss_npfd].fd = fd;
	srv->ss_pfd[srv->ss_npfd].events = POLLIN;
	srv->ss_pfd[srv->ss_npfd].revents = 0;
	srv->ss_unacked[srv->ss_npfd] = 0;
	srv->ss_npfd++;
	return 0;
}

/* snitch_server_pause - take the listener out of the poll set for a while */
static void
snitch_server_pause(struct snitch_server *srv)
{
	/*
	 * accept failing for want of fds or memory leaves the channel in the
	 * backlog and the listener readable: without a rest, poll returns at
	 * once, forever (sniproxy issue #89).  Channels still get served.
	 */
	(void)clock_gettime(CLOCK_MONOTONIC, &srv->ss_resume);
	srv->ss_resume.tv_nsec += SNITCH_ACCEPT_PAUSE_MS * 1000000L;
	if (srv->ss_resume.tv_nsec >= 1000000000L) {
		srv->ss_resume.tv_sec++;
		srv->ss_resume.tv_nsec -= 1000000000L;
	}
	srv->ss_paused = 1;
	srv->ss_pfd[0].fd = -1;		/* poll ignores a negative fd */
}

/* snitch_server_timeout - poll's timeout: -1, or until the listener resumes */
static int
snitch_server_timeout(struct snitch_server *srv)
{
	struct timespec	 now;
	long long	 ms;

	if (!srv->ss_paused)
		return -1;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(srv->ss_resume.tv_sec - now.tv_sec) * 1000 +
	    (srv->ss_resume.tv_nsec - now.tv_nsec + 999999) / 1000000;
	if (ms <= 0) {
		srv->ss_paused = 0;
		srv->ss_pfd[0].fd = srv->ss_listen;
		return -1;
	}
	return (int)ms;
}

/*
 * snitch_server_accept_one - accept one waiting channel: 1, 0 when none
 * is left (or accepting must rest), -1 only when fatal
 */
static int
snitch_server_accept_one(struct snitch_server *srv)
{
	int	fd;

	/* Non-blocking: snitch_next must not wait on one channel. */
	fd = accept4(srv->ss_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0 && snitch_peer_check(fd, srv->ss_peer) < 0)
		return 1;	/* another user's channel: closed */
	if (fd < 0) {
		switch (errno) {
		case EAGAIN:
		case EINTR:
		case ECONNABORTED:
			return 0;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			snitch_server_pause(srv);
			return 0;
		default:
			return -1;
		}
	}
	if (snitch_server_add(srv, fd) < 0) {
		(void)close(fd);
		snitch_server_pause(srv);
		return 0;
	}
	snitch_hello(fd);
	return 1;
}

/* snitch_server_accept - accept waiting channels; -1 only when fatal */
static int
snitch_server_accept(struct snitch_server *srv)
{
	int	n, r = 1;

	for (n = 0; n < SNITCH_ACCEPT_BURST && r == 1; n++)
		r = snitch_server_accept_one(srv);
	return r < 0 ? -1 : 0;
}

/*
 * snitch_open - listen at path (see snitch_listen) and keep the channels
 * of the workers that connect; the server, or NULL with errno.
 */
struct snitch_server *
snitch_open(const char *path, mode_t mode)
{
	return snitch_open_flags(path, mode, SNITCH_PEER_ANY, 0);
}

/* snitch_open_peer - snitch_open, keeping only channels from uid */
struct snitch_server *
snitch_open_peer(const char *path, mode_t mode, uid_t uid)
{
	return snitch_open_flags(path, mode, uid, 0);
}

/*
 * snitch_open_flags - snitch_open_peer, listening with flags (see
 * snitch_listen_flags: SNITCH_REPLACE takes over from a live instance)
 */
struct snitch_server *
snitch_open_flags(const char *path, mode_t mode, uid_t uid, int flags)
{
	struct snitch_server	*srv;
	int			 fl, saved;

	if (path != NULL && strlen(path) >= sizeof(srv->ss_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->ss_listen = -1;
	srv->ss_peer = uid;
	srv->ss_pid = getpid();
	srv->ss_cap = SNITCH_CHANNELS_INIT;
	if ((srv->ss_pfd = calloc(srv->ss_cap, sizeof(*srv->ss_pfd))) == NULL ||
	    (srv->ss_unacked = calloc(srv->ss_cap,
	    sizeof(*srv->ss_unacked))) == NULL)
		goto fail;
	if ((srv->ss_listen = snitch_listen_flags(path, mode, flags,
	    &srv->ss_bound)) < 0)
		goto fail;
	memcpy(srv->ss_path, path, strlen(path) + 1);
	/* Accept until EAGAIN: a channel may go between poll and accept. */
	if ((fl = fcntl(srv->ss_listen, F_GETFL)) < 0 ||
	    fcntl(srv->ss_listen, F_SETFL, fl | O_NONBLOCK) < 0) {
		saved = errno;
		(void)snitch_unlink(path, &srv->ss_bound);
		errno = saved;
		goto fail;
	}
	srv->ss_pfd[0].fd = srv->ss_listen;
	srv->ss_pfd[0].events = POLLIN;
	srv->ss_npfd = 1;
	srv->ss_cursor = 1;
	return srv;

fail:
	saved = errno;
	if (srv->ss_listen >= 0)
		(void)close(srv->ss_listen);
	free(srv->ss_pfd);
	free(srv->ss_unacked);
	free(srv);
	errno = saved;
	return NULL;
}

/*
 * snitch_server_flush - acknowledge what every channel received: the
 * server is about to wait
 */
static void
snitch_server_flush(struct snitch_server *srv)
{
	size_t	i;

	for (i = 1; i < srv->ss_npfd; i++)
		(void)snitch_ack(srv->ss_pfd[i].fd, &srv->ss_unacked[i]);
}

/*
 * snitch_server_wait - poll until a channel or the listener is ready;
 * a wait that would block acknowledges everything first; 0, or -1
 */
static int
snitch_server_wait(struct snitch_server *srv)
{
	int	r;

	if ((r = poll(srv->ss_pfd, srv->ss_npfd, 0)) != 0)
		return r < 0 ? -1 : 0;
	snitch_server_flush(srv);
	return poll(srv->ss_pfd, srv->ss_npfd,
	    snitch_server_timeout(srv)) < 0 ? -1 : 0;
}

/*
 * snitch_next - wait for the next connection from any channel; 0 with
 * conn filled, or -1 with errno (EINTR: a signal arrived; ESHUTDOWN:
 * drained, nothing more will come).
 *
 * One poll serves every ready channel once, in order, one message per
 * call, before the next poll: a busy worker cannot starve the others.
 * Refused messages are skipped; a channel at EOF or in error is dropped.
 */
int
snitch_next(struct snitch_server *srv, struct snitch_conn *conn)
{
	size_t	 i;
	short	 revents;
	int	 r;

	if (srv == NULL) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		while (srv->ss_cursor < srv->ss_npfd) {
			i = srv->ss_cursor;
			revents = srv->ss_pfd[i].revents;
			srv->ss_pfd[i].revents = 0;
			if (revents == 0) {
				srv->ss_cursor++;
				continue;
			}
			if (i == 0) {
				if (revents & POLLNVAL) {
					errno = EBADF;
					return -1;
				}
				srv->ss_cursor++;
				if (snitch_server_accept(srv) < 0)
					return -1;
				continue;
			}
			if (revents & POLLNVAL) {
				/* Closed behind our back: not ours to close. */
				snitch_server_drop(srv, i, 0);
				continue;
			}
			r = snitch_recv_batch(srv->ss_pfd[i].fd, conn,
			    &srv->ss_unacked[i]);
			if (r == 1) {
				srv->ss_cursor++;
				return 0;
			}
			if (r < 0 && errno == EINTR) {
				srv->ss_pfd[i].revents = revents;
				return -1;
			}
			if (r < 0 && (errno == EBADMSG || errno == EAGAIN)) {
				srv->ss_cursor++;
				continue;
			}
			snitch_server_drop(srv, i, 1);
		}
		if (srv->ss_draining && srv->ss_npfd == 1) {
			errno = ESHUTDOWN;
			return -1;
		}
		if (snitch_server_wait(srv) < 0)
			return -1;
		srv->ss_cursor = 0;
	}
}

/*
 * snitch_drain - stop taking handoffs: no worker finds this server again,
 * and each channel says "no more" (snitch_quiesce); snitch_next then
 * gives what was already sent, and ESHUTDOWN.  0, or -1 with EINVAL.
 */
int
snitch_drain(struct snitch_server *srv)
{
	size_t	i;

	if (srv == NULL || srv->ss_pid != getpid()) {
		errno = EINVAL;
		return -1;
	}
	if (srv->ss_draining)
		return 0;
	srv->ss_draining = 1;
	/*
	 * The name first (unless a new instance has it now), so that no
	 * worker connects here again; then the channels that connected
	 * before, still in the backlog: closing the listener would close
	 * them with whatever a worker of version 1 queued in them already.
	 */
	(void)snitch_unlink(srv->ss_path, &srv->ss_bound);
	while (snitch_server_accept_one(srv) == 1)
		;
	(void)close(srv->ss_listen);
	srv->ss_listen = -1;
	srv->ss_pfd[0].fd = -1;
	srv->ss_paused = 0;
	for (i = 1; i < srv->ss_npfd; i++)
		(void)snitch_quiesce(srv->ss_pfd[i].fd, &srv->ss_unacked[i]);
	return 0;
}

/*
 * snitch_close - close the listener and every channel, free srv; what
 * was received is acknowledged first, unless this is a forked child
 * (the parent acknowledges it: twice would be more than was sent)
 */
void
snitch_close(struct snitch_server *srv)
{
	size_t	 i;
	int	 saved = errno;

	if (srv == NULL)
		return;
	/* ss_pfd[0].fd is -1 while the listener rests: close ss_listen. */
	if (srv->ss_listen != -1)
		(void)close(srv->ss_listen);
	for (i = 1; i < srv->ss_npfd; i++) {
		if (srv->ss_pid == getpid())
			(void)snitch_ack(srv->ss_pfd[i].fd,
			    &srv->ss_unacked[i]);
		(void)close(srv->ss_pfd[i].fd);
	}
	free(srv->ss_pfd);
	free(srv->ss_unacked);
	free(srv);
	errno = saved;
}
