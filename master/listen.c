/*
 * listen.c - bind one configured listen address.
 *
 * Runs in the master as root, before privileges are dropped.  The socket
 * is close-on-exec and non-blocking: workers receive it at a fixed fd
 * number and share it, each accepting with EPOLLEXCLUSIVE.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

#define LISTEN_BACKLOG	4096	/* the kernel caps it at somaxconn */

/* listen_open - a listening socket for cl; fatal when it cannot be had */
int
listen_open(const struct conf_listen *cl, unsigned defer_ms)
{
	int	fd, on = 1, defer = (int)((defer_ms + 999) / 1000);

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
	/*
	 * The kernel queues a connection for accept only once its first
	 * data came (or, for a silent client, after about defer seconds):
	 * the first peek then usually finds the whole hello, saving a
	 * wakeup and two epoll_ctl calls per connection.
	 */
	if (defer > 0 && setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer,
	    sizeof(defer)) == -1)
		fatal("listen %s: TCP_DEFER_ACCEPT", cl->cl_text);
	if (listen(fd, LISTEN_BACKLOG) == -1)
		fatal("listen %s: listen", cl->cl_text);
	return fd;
}
