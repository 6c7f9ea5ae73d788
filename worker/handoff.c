/*
 * handoff.c - pass a client's socket to a backend: one SOCK_SEQPACKET
 * message, the PROXY v2 header as payload, the socket as the only
 * SCM_RIGHTS fd.
 *
 * Runs in the worker, unprivileged.  Never blocks: a backend that does
 * not receive fills its queue and the send fails with EAGAIN, which the
 * caller treats as "busy, try again until handoff_timeout".
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "handoff.h"

/* handoff_send - send one client fd with its header; 0, or -1 and errno */
int
handoff_send(int channel, int client_fd, const uint8_t *payload, size_t len)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec	 iov = { .iov_base = (void *)payload, .iov_len = len };
	struct msghdr	 msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr	*cmsg;
	ssize_t		 n;

	memset(&control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &client_fd, sizeof(int));

	n = sendmsg(channel, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		/* SOCK_SEQPACKET sends whole messages; a short one is a bug. */
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}
