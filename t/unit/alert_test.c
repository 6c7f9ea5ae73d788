/*
 * alert_test.c - alert_record and alert_name against a table.
 *
 * Each row is a description byte, the name logs show for it, and the
 * record a client must receive (RFC 8446 sections 5.1 and 6).  And
 * alert_refuse over a socketpair: the alert only for a TLS client.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alert.h"
#include "tap.h"

struct alert_case {
	uint8_t		 ac_description;
	const char	*ac_name;
	uint8_t		 ac_record[ALERT_RECORD_LEN];
};

static const struct alert_case alert_cases[] = {
	{ ALERT_UNEXPECTED_MESSAGE, "unexpected_message",
	  { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 10 } },
	{ ALERT_DECODE_ERROR, "decode_error",
	  { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 50 } },
	{ ALERT_INTERNAL_ERROR, "internal_error",
	  { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 80 } },
	{ ALERT_UNRECOGNIZED_NAME, "unrecognized_name",
	  { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 112 } },
	/* descriptions SNItch does not send still get a record, named "alert" */
	{ 0, "alert", { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0 } },
	{ 40, "alert", { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40 } },
	{ 255, "alert", { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 255 } },
};

/*
 * test_refuse - alert_refuse on a client that sent sent_len bytes of
 * sent: the alert, or nothing, then EOF (a FIN)
 */
static void
test_refuse(const char *label, const char *sent, size_t sent_len, int tls)
{
	uint8_t	 scratch[64], got[16], want[ALERT_RECORD_LEN];
	int	 sv[2], alerted = -1, r;
	ssize_t	 n, total = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    write(sv[0], sent, sent_len) != (ssize_t)sent_len)
		return;
	r = alert_refuse(sv[1], ALERT_INTERNAL_ERROR, scratch, sizeof(scratch),
	    &alerted);
	while ((n = read(sv[0], got + total, sizeof(got) - (size_t)total)) > 0)
		total += n;
	alert_record(want, ALERT_INTERNAL_ERROR);
	TAP_OK(r == 0 && alerted == tls && n == 0 && (tls ?
	    total == ALERT_RECORD_LEN && memcmp(got, want, sizeof(want)) == 0 :
	    total == 0), "refuse %s: %s, then EOF", label,
	    tls ? "the alert" : "nothing");
	close(sv[0]);
	close(sv[1]);
}

/* main - each row's record and name */
int
main(void)
{
	const struct alert_case *ac;
	uint8_t	 rec[ALERT_RECORD_LEN + 1];
	size_t	 i;

	TAP_OK(ALERT_RECORD_LEN == 7, "an alert record is 7 bytes");
	for (i = 0; i < sizeof(alert_cases) / sizeof(alert_cases[0]); i++) {
		ac = &alert_cases[i];
		memset(rec, 0xa5, sizeof(rec));
		alert_record(rec, ac->ac_description);
		TAP_OK(memcmp(rec, ac->ac_record, ALERT_RECORD_LEN) == 0 &&
		    rec[ALERT_RECORD_LEN] == 0xa5,
		    "alert %u: fatal record, nothing written past it",
		    ac->ac_description);
		TAP_OK(strcmp(alert_name(ac->ac_description), ac->ac_name) == 0,
		    "alert %u: named %s", ac->ac_description, ac->ac_name);
	}
	test_refuse("a ClientHello", "\x16\x03\x01\x02\x00\x01", 6, 1);
	test_refuse("SSH", "SSH-2.0-x\r\n", 11, 0);
	test_refuse("a silent client", "", 0, 0);
	return TAP_DONE();
}
