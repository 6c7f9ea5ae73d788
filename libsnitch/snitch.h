/*
 * snitch.h - libsnitch: receive connections handed off by SNItch.
 *
 * A backend listens on an AF_UNIX SOCK_SEQPACKET socket.  Each SNItch
 * worker connects one channel to it and sends one message per client
 * connection: a PROXY v2 header as payload and the client's TCP socket as
 * the only SCM_RIGHTS fd.  The socket is in blocking mode and nothing has
 * been read from it: the backend runs the TLS handshake from the first
 * byte of the ClientHello.
 *
 * Two ways to use it:
 *  - one call: snitch_open, then snitch_next in a loop (blocks);
 *  - fd level, for a daemon with its own event loop: snitch_listen,
 *    snitch_accept on the listener, snitch_recv on each channel.
 *
 * Every function returns -1 and sets errno on failure.  A received fd is
 * either given to the caller in sc_fd or closed: never leaked.  The
 * library keeps no global state, prints nothing, never exits and touches
 * no signal disposition; a struct snitch_server is not shared between
 * threads.
 *
 * Access control is the socket file's mode and its directory: anyone who
 * can connect can send connections, unless the backend requires that
 * channels come from SNItch's uid (snitch_accept_peer, snitch_open_peer,
 * or SNITCH_PEER_UID in the environment).  Received messages are checked
 * all the same (see snitch_recv).
 *
 * A backend that forks per connection calls snitch_close(srv) in the
 * child: a child holding the listener and the channels keeps the socket
 * answering (and workers' channels open) after the parent is gone.
 */
#ifndef SNITCH_H
#define SNITCH_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SNITCH_NAME_MAX	253
#define SNITCH_ALPN_MAX	16384
#define SNITCH_TLVS_MAX	1024	/* upstream TLVs kept, in wire form */

/* TLV types a load balancer's PROXY header may carry (snitch_tlv) */
#define SNITCH_TLV_ALPN		0x01	/* the protocol the balancer chose */
#define SNITCH_TLV_UNIQUE_ID	0x05	/* the balancer's connection id */
#define SNITCH_TLV_NETNS	0x30	/* the balancer's network namespace */
#define SNITCH_TLV_AWS		0xEA	/* AWS VPC endpoint id, after 0x01 */
#define SNITCH_TLV_AZURE	0xEE	/* Azure link id, after 0x01 */

struct snitch_conn {
	int			 sc_fd;		/* the client's TCP socket, now the caller's */
	struct sockaddr_storage	 sc_client;	/* the client's address */
	struct sockaddr_storage	 sc_local;	/* the address the client connected to */
	char			 sc_server_name[SNITCH_NAME_MAX + 1]; /* "" when none */
	int			 sc_ech;	/* the hello offered ECH */
	size_t			 sc_alpn_len;	/* 0 when the hello had no ALPN */
	unsigned char		 sc_alpn[SNITCH_ALPN_MAX]; /* ProtocolNameList body */
	size_t			 sc_tlvs_len;	/* 0 when none */
	unsigned char		 sc_tlvs[SNITCH_TLVS_MAX]; /* see snitch_tlv */
};

/*
 * SNITCH_PEER_UID=USER (a name or a number) in the environment makes
 * snitch_accept, snitch_accept_peer(fd, SNITCH_PEER_ANY), snitch_open
 * and snitch_next refuse every channel whose other end is not that uid.
 */
#define SNITCH_PEER_ENV	"SNITCH_PEER_UID"
#define SNITCH_PEER_ANY	((uid_t)-1)	/* no uid given: the environment's */

/* "[" INET6_ADDRSTRLEN "]:65535": room for any snitch_addr_format result */
#define SNITCH_ADDR_MAX	(46 + 8)

/*
 * fd level
 *
 * snitch_listen - listen on an AF_UNIX SOCK_SEQPACKET socket at path
 * (close on exec), of mode (& 0777; 0: as the umask gives).  It binds a
 * temporary name beside path (".NAME.PID.RANDOM", under a umask giving
 * mode, the process's umask restored at once), listens, then renames it
 * over path: path is never missing, nor a socket not listening yet, and
 * no file is chmod'ed by name.  A socket file left at path by a dead
 * backend is replaced; -1 with EADDRINUSE when a process still listens
 * there or path is not a socket (a regular file or a symlink is never
 * replaced), ENAMETOOLONG when path or the temporary name (up to 21
 * bytes longer) does not fit sun_path.  The file is not removed on close.
 *
 * snitch_listen_flags - snitch_listen; flags SNITCH_REPLACE takes path
 * over from a live listener (a new instance taking over from the old,
 * which then calls snitch_drain or its fd-level steps); bound, unless
 * NULL, gets the identity of the file, for snitch_unlink.
 *
 * snitch_unlink - remove path if it is still the file bound (not one a
 * new instance renamed over it): 1 removed, 0 left in place, or -1.
 *
 * snitch_accept - accept a worker's channel (close on exec, blocking);
 * the channel fd, or -1.  With SNITCH_PEER_UID set, a channel whose
 * peer (SO_PEERCRED) is another uid is closed at once: -1 with EACCES
 * (accept the next one: the listener is fine).  snitch_listen checks
 * the variable and fails with EINVAL when it names no user.
 *
 * snitch_accept_peer - snitch_accept, requiring channels from uid (the
 * uid SNItch runs as); SNITCH_PEER_ANY: as snitch_accept.
 *
 * snitch_peer_uid - the uid of user, a name or a decimal number; 0, or
 * -1 with EINVAL when there is no such user.
 *
 * snitch_recv - receive one connection from a channel:
 *   1  conn filled; sc_fd is the caller's to close (close on exec,
 *      blocking mode), sc_server_name a lowercase host name or "";
 *   0  the worker closed the channel: close it;
 *  -1  errno EAGAIN (non-blocking channel, nothing queued), EBADMSG (the
 *      message was refused and its fds closed: MSG_TRUNC or MSG_CTRUNC,
 *      not exactly one SCM_RIGHTS fd, an fd that is not a socket, a
 *      payload that is not exactly one valid PROXY v2 header, an invalid
 *      server name or ALPN list); the channel stays usable.  Any other
 *      errno is the channel's failure: close it.
 *
 * snitch_recv_batch - snitch_recv, acknowledging in batches: *unacked
 * (0 for a new channel, one counter per channel) counts what the channel
 * received and has not acknowledged; the ACK waits while more is queued
 * on the channel (the caller's next read is certain), for at most 32.
 * Call snitch_ack before closing a channel or no longer reading it.
 *
 * snitch_ack - acknowledge what *unacked counts, in one ACK; 0.
 *
 * snitch_quiesce - say "no more" on a channel: snitch_ack (unacked may
 * be NULL), then shutdown(SHUT_RD).  snitch_recv still gives what the
 * worker sent before, then 0; its next send fails (EPIPE) and it
 * connects to the socket path again: to the new instance, if one has
 * taken it over.  To hand over at the fd level: snitch_unlink, accept
 * every channel left in the listener's backlog, close the listener,
 * snitch_quiesce each channel, and receive from each until 0.
 */
struct snitch_bound {		/* the socket file snitch_listen made */
	dev_t	sb_dev;
	ino_t	sb_ino;
};

#define SNITCH_REPLACE	0x01	/* take the path over from a live listener */

int	snitch_listen(const char *path, mode_t mode);
int	snitch_listen_flags(const char *path, mode_t mode, int flags,
	    struct snitch_bound *bound);
int	snitch_unlink(const char *path, const struct snitch_bound *bound);
int	snitch_accept(int listen_fd);
int	snitch_accept_peer(int listen_fd, uid_t uid);
int	snitch_peer_uid(const char *user, uid_t *uid);
int	snitch_recv(int channel_fd, struct snitch_conn *conn);
int	snitch_recv_batch(int channel_fd, struct snitch_conn *conn,
	    unsigned *unacked);
int	snitch_ack(int channel_fd, unsigned *unacked);
int	snitch_quiesce(int channel_fd, unsigned *unacked);

/*
 * helpers
 *
 * snitch_alpn_next - walk conn's ALPN list: set *offset to 0, then each
 * call gives 1 and the next protocol (not NUL-terminated), 0 at the end,
 * -1 with EBADMSG on a malformed list.
 *
 * snitch_tlv - the value of conn's first TLV of type (its length in
 * *len), or NULL when it has none.  These are the TLVs of the PROXY
 * header a load balancer put in front of the client (a proxy_protocol
 * listener), which the worker passes on: 0x05 unique id, 0x30 network
 * namespace, 0x01 the balancer's ALPN, 0xEA AWS and 0xEE Azure
 * endpoint ids (their first byte is the subtype, 0x01), as the balancer
 * sent them.  sc_tlvs holds them in wire form (type, 2-byte big-endian
 * length, value), in their order, for a backend that passes them on
 * (proxy_tlv_copy's rule: those that fit whole in SNITCH_TLVS_MAX).
 *
 * snitch_addr_format - "192.0.2.1:443" or "[2001:db8::1]:443" into buf
 * (SNITCH_ADDR_MAX bytes suffice); 0, or -1 with ENOSPC (buf is then "")
 * or EAFNOSUPPORT.
 */
int	snitch_alpn_next(const struct snitch_conn *conn, size_t *offset,
	    const unsigned char **proto, size_t *proto_len);
const unsigned char *snitch_tlv(const struct snitch_conn *conn,
	    unsigned type, size_t *len);
int	snitch_addr_format(const struct sockaddr_storage *ss, char *buf,
	    size_t size);

/*
 * one call
 *
 * snitch_open - snitch_listen, and a server keeping every worker's
 * channel; the server, or NULL with errno.
 *
 * snitch_open_peer - snitch_open, accepting channels from uid only
 * (SNITCH_PEER_ANY: as snitch_open).
 *
 * snitch_open_flags - snitch_open_peer, with snitch_listen_flags' flags.
 *
 * snitch_next - block until a connection arrives on any channel,
 * accepting new channels and dropping closed ones meanwhile; refused
 * messages, and channels from a uid that is not the one required, are
 * skipped silently.  0 with conn filled, or -1: EINTR when
 * a signal interrupted the wait (check your flags and call again),
 * ESHUTDOWN once snitch_drain was called and everything was received;
 * anything else is fatal.  It acknowledges in batches (snitch_recv_batch),
 * everything before it waits.
 *
 * snitch_drain - stop taking handoffs, losing none: remove the socket
 * file if it is still ours, accept the channels waiting in the backlog,
 * close the listener, snitch_quiesce every channel.  snitch_next then
 * gives what the workers had sent, then -1 with ESHUTDOWN.  0, or -1
 * with EINVAL (NULL, or called in a forked child).
 *
 * snitch_close - close the listener and every channel and free srv.  It
 * does not remove the socket file (so that a forked child may call it);
 * in the process that opened srv it acknowledges what was received.
 */
struct snitch_server;

struct snitch_server *snitch_open(const char *path, mode_t mode);
struct snitch_server *snitch_open_peer(const char *path, mode_t mode,
	    uid_t uid);
struct snitch_server *snitch_open_flags(const char *path, mode_t mode,
	    uid_t uid, int flags);
int	snitch_next(struct snitch_server *srv, struct snitch_conn *conn);
int	snitch_drain(struct snitch_server *srv);
void	snitch_close(struct snitch_server *srv);

#endif
