/*
 * alert.c - the TLS alert records SNItch refuses a connection with.
 *
 * The workers send one before closing a connection they cannot hand off,
 * as postscreen answers "421" when no smtpd is free: the client learns
 * why instead of seeing a bare reset.  An HTTP client on a listen_http
 * listener is answered the same way, with an HTTP response instead of
 * the alert (alert_answer).
 */
#include <errno.h>
#include <sys/socket.h>

#include "alert.h"

#define ALERT_DRAIN_ROUNDS	8	/* recv calls per drain, at most */

#define ALERT_CT_ALERT		21	/* RFC 8446 5.1 ContentType */
#define ALERT_CT_HANDSHAKE	22
#define ALERT_LEVEL_FATAL	2	/* RFC 8446 6 AlertLevel */

/*
 * alert_record - write a fatal alert record, RFC 8446 sections 5.1 and 6:
 *
 *	0x15		ContentType alert
 *	0x03 0x03	legacy_record_version, as for every record but a
 *			ClientHello
 *	0x00 0x02	length
 *	0x02		AlertLevel fatal (TLS 1.3 treats every alert as fatal)
 *	description	AlertDescription
 */
void
alert_record(uint8_t rec[ALERT_RECORD_LEN], uint8_t description)
{
	rec[0] = ALERT_CT_ALERT;
	rec[1] = 0x03;
	rec[2] = 0x03;
	rec[3] = 0x00;
	rec[4] = 0x02;
	rec[5] = ALERT_LEVEL_FATAL;
	rec[6] = description;
}

/* alert_name - the RFC 8446 name of an alert SNItch sends, for logs */
const char *
alert_name(uint8_t description)
{
	switch (description) {
	case ALERT_UNEXPECTED_MESSAGE:
		return "unexpected_message";
	case ALERT_DECODE_ERROR:
		return "decode_error";
	case ALERT_INTERNAL_ERROR:
		return "internal_error";
	case ALERT_UNRECOGNIZED_NAME:
		return "unrecognized_name";
	}
	return "alert";
}

/* alert_drain - discard what the client sent; 1 at EOF, 0, -1 on error */
int
alert_drain(int fd, void *scratch, size_t size)
{
	ssize_t	n;
	int	i;

	for (i = 0; i < ALERT_DRAIN_ROUNDS; i++) {
		n = recv(fd, scratch, size, MSG_DONTWAIT | MSG_TRUNC);
		if (n == 0)
			return 1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
	}
	return 0;
}

/*
 * alert_answer - refuse the client on fd with answer, len bytes (an
 * alert record, an HTTP response).  What it sent is discarded first:
 * closing with unread data sends a RST, which can destroy the answer
 * before the client reads it.  Returns 1 when the client is gone
 * already (close now); else writing is shut down and the caller keeps
 * fd until the client's FIN (alert_drain says when).
 */
int
alert_answer(int fd, const void *answer, size_t len, void *scratch,
    size_t size)
{
	int	eof;

	eof = alert_drain(fd, scratch, size);
	(void)send(fd, answer, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (eof != 0)
		return 1;
	(void)shutdown(fd, SHUT_WR);
	return 0;
}

/* alert_send - refuse the client on fd with a fatal alert: alert_answer */
int
alert_send(int fd, uint8_t description, void *scratch, size_t size)
{
	uint8_t	rec[ALERT_RECORD_LEN];

	alert_record(rec, description);
	return alert_answer(fd, rec, sizeof(rec), scratch, size);
}

/*
 * alert_refuse - alert_send, for a backend that cannot tell whether its
 * client speaks TLS: SNItch's non_tls and silent routes hand over
 * clients of other protocols, or ones that sent nothing, and an alert
 * is garbage to them.  Only a client whose first byte starts a TLS
 * handshake record gets the alert; the others get the same drain and
 * FIN without it.  *alerted says which; returns as alert_send does.
 */
int
alert_refuse(int fd, uint8_t description, void *scratch, size_t size,
    int *alerted)
{
	uint8_t	first;

	*alerted = recv(fd, &first, 1, MSG_PEEK | MSG_DONTWAIT) == 1 &&
	    first == ALERT_CT_HANDSHAKE;
	if (*alerted)
		return alert_send(fd, description, scratch, size);
	if (alert_drain(fd, scratch, size) != 0)
		return 1;
	(void)shutdown(fd, SHUT_WR);
	return 0;
}
