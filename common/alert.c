/*
 * alert.c - the TLS alert records SNItch refuses a connection with.
 *
 * The workers send one before closing a connection they cannot hand off,
 * as postscreen answers "421" when no smtpd is free: the client learns
 * why instead of seeing a bare reset.
 */
#include "alert.h"

#define ALERT_CT_ALERT		21	/* RFC 8446 5.1 ContentType */
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
