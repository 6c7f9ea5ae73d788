/*
 * alert.h - the TLS alert records SNItch refuses a connection with.
 */
#ifndef ALERT_H
#define ALERT_H

#include <stddef.h>
#include <stdint.h>

/* RFC 8446 section 6 AlertDescription values SNItch sends */
#define ALERT_UNEXPECTED_MESSAGE	10
#define ALERT_DECODE_ERROR		50
#define ALERT_INTERNAL_ERROR		80
#define ALERT_UNRECOGNIZED_NAME		112

#define ALERT_RECORD_LEN	7

void	alert_record(uint8_t rec[ALERT_RECORD_LEN], uint8_t description);
const char *alert_name(uint8_t description);
int	alert_drain(int fd, void *scratch, size_t size);
int	alert_answer(int fd, const void *answer, size_t len, void *scratch,
	    size_t size);
int	alert_send(int fd, uint8_t description, void *scratch, size_t size);
int	alert_refuse(int fd, uint8_t description, void *scratch, size_t size,
	    int *alerted);

#endif
