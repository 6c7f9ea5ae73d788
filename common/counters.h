/*
 * counters.h - what happened to connections, counted per worker in
 * memory the master shares with its workers.
 *
 * The master creates one zeroed memfd per configuration generation with
 * one slot per worker, and passes it to each worker at COUNTERS_FD.  A
 * worker writes only its own slot (a restarted worker carries on in the
 * slot of the one it replaces, so counts never go back); the master only
 * reads.  Every connection a worker accepted is, at any moment, in
 * exactly one of: handed off, refused with an alert, not TLS, timed out,
 * client gone, error, or pending:
 *
 *   accepted = handoff + alerts + not_tls + timeout + client_gone
 *              + error + lost + pending
 *
 * where lost counts the connections a worker held when it was killed (a
 * restarted worker moves its predecessor's pending there).
 *
 * Two histograms per slot, one increment per connection each: the time
 * from accept to outcome (peek latency, in ms of the worker's coarse
 * clock) and the bytes of a complete ClientHello.  A bucket counts what
 * fell in it alone (not cumulative: one add, not several); the master
 * sums them up for the exposition.  The last bucket is everything above
 * the largest bound.
 *
 * cw_hello_examined counts the parser's work (hl_examined): each byte a
 * client sent walked once and its hello's message parsed once, so about
 * twice hello_bytes at most; far more means something parses again.
 *
 * Apart from connections, log_dropped counts the log lines (error and
 * access log) the worker dropped because their destination would have
 * made it wait (common/logsink.c).
 */
#ifndef COUNTERS_H
#define COUNTERS_H

#include <stddef.h>
#include <stdint.h>

enum counters_alert {
	COUNTERS_ALERT_UNEXPECTED,	/* 10 */
	COUNTERS_ALERT_DECODE,		/* 50 */
	COUNTERS_ALERT_INTERNAL,	/* 80 */
	COUNTERS_ALERT_UNRECOGNIZED,	/* 112 */
	COUNTERS_ALERTS
};

/* why a handoff attempt failed (each attempt counts, also retries) */
enum counters_fail {
	COUNTERS_FAIL_CONNECT,		/* the backend's socket refused us */
	COUNTERS_FAIL_QUEUE_FULL,	/* EAGAIN: its channel is full */
	COUNTERS_FAIL_TOO_MANY_REFS,	/* ETOOMANYREFS: fds in flight */
	COUNTERS_FAIL_NO_MEMORY,	/* ENOBUFS, ENOMEM */
	COUNTERS_FAIL_LOST,		/* the channel broke (EPIPE...) */
	COUNTERS_FAIL_OWNER,		/* its listener is not the owner */
	COUNTERS_FAILS
};

#define COUNTERS_PEEK_BUCKETS	13	/* 12 bounds in ms, then the rest */
#define COUNTERS_HELLO_BUCKETS	10	/* 9 bounds in bytes, then the rest */

/* per backend, then per tenant (wconf_counted): all of a tenant's sockets */
struct counters_backend {
	uint64_t	cb_handoff;	/* handed to this backend */
	uint64_t	cb_fallback;	/* of those, as another's fallback */
	uint64_t	cb_down;	/* refused: unavailable, no fallback */
	uint64_t	cb_busy;	/* refused: busy for handoff_timeout */
	uint64_t	cb_errors;	/* failed connects and lost channels */
	uint64_t	cb_held;	/* clients that waited for it to restart */
	uint64_t	cb_rehanded;	/* handed again: its channel died
					   before it acknowledged them */
};

struct counters_worker {
	uint64_t		cw_accepted;
	uint64_t		cw_handoff;
	uint64_t		cw_alert[COUNTERS_ALERTS];
	uint64_t		cw_not_tls;
	uint64_t		cw_timeout;
	uint64_t		cw_client_gone;
	uint64_t		cw_error;
	uint64_t		cw_evicted;	/* stalled, closed to make room */
	uint64_t		cw_proxy_refused; /* peer not in proxy_from */
	uint64_t		cw_proxy_invalid; /* no valid PROXY header */
	uint64_t		cw_health_check; /* PROXY header, no client */
	uint64_t		cw_http_refused; /* an HTTP client answered
						   with a 4xx or 5xx */
	uint64_t		cw_lost;	/* held by this slot's dead worker */
	uint64_t		cw_pending;	/* a level, not a count */
	uint64_t		cw_fail[COUNTERS_FAILS];
	uint64_t		cw_peek_ms[COUNTERS_PEEK_BUCKETS];
	uint64_t		cw_peek_ms_sum;
	uint64_t		cw_hello_bytes[COUNTERS_HELLO_BUCKETS];
	uint64_t		cw_hello_bytes_sum;
	uint64_t		cw_hello_examined; /* bytes the parser examined */
	uint64_t		cw_log_dropped;	/* log lines: destination full */
	uint64_t		cw_penalties;	/* netblocks reported */
	struct counters_backend	cw_backends[];
};

/* single writer per slot; relaxed atomics keep the master's reads whole */
#define COUNTERS_ADD(field, n)	__atomic_fetch_add(&(field), (n), __ATOMIC_RELAXED)
#define COUNTERS_SUB(field, n)	__atomic_fetch_sub(&(field), (n), __ATOMIC_RELAXED)
#define COUNTERS_GET(field)	__atomic_load_n(&(field), __ATOMIC_RELAXED)

size_t	counters_slot_size(size_t nbackends);
size_t	counters_size(size_t nworkers, size_t nbackends);
struct counters_worker *counters_slot(void *base, size_t nbackends,
	    size_t index);
int	counters_alert_index(uint8_t alert);
uint8_t	counters_alert_code(int index);
const char *counters_fail_name(int index);
int	counters_peek_bucket(uint64_t ms);
int	counters_hello_bucket(size_t bytes);
const unsigned *counters_peek_bounds(void);
const unsigned *counters_hello_bounds(void);

#endif
