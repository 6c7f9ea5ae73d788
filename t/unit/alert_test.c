/*
 * alert_test.c - alert_record and alert_name against a table.
 *
 * Each row is a description byte, the name logs show for it, and the
 * record a client must receive (RFC 8446 sections 5.1 and 6).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
	return TAP_DONE();
}
