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
 * either given to the caller in sc_fd or closed: never leaked.
 */
#ifndef SNITCH_H
#define SNITCH_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SNITCH_NAME_MAX	253
#define SNITCH_ALPN_MAX	16384

struct snitch_conn {
	int			 sc_fd;		/* the client's TCP socket, now the caller's */
	struct sockaddr_storage	 sc_client;	/* the client's address */
	struct sockaddr_storage	 sc_local;	/* the address the client connected to */
	char			 sc_server_name[SNITCH_NAME_MAX + 1]; /* "" when none */
	int			 sc_ech;	/* the hello offered ECH */
	size_t			 sc_alpn_len;	/* 0 when the hello had no ALPN */
	unsigned char		 sc_alpn[SNITCH_ALPN_MAX]; /* ProtocolNameList body */
};

/* fd level */
int	snitch_listen(const char *path, mode_t mode);
int	snitch_accept(int listen_fd);
int	snitch_recv(int channel_fd, struct snitch_conn *conn);

/* helpers */
int	snitch_alpn_next(const struct snitch_conn *conn, size_t *offset,
	    const unsigned char **proto, size_t *proto_len);
int	snitch_addr_format(const struct sockaddr_storage *ss, char *buf,
	    size_t size);

/* one call */
struct snitch_server;

struct snitch_server *snitch_open(const char *path, mode_t mode);
int	snitch_next(struct snitch_server *srv, struct snitch_conn *conn);
void	snitch_close(struct snitch_server *srv);

#endif
