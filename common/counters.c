/*
 * counters.c - the layout of the shared counters memfd (see counters.h).
 *
 * Slots are whole cache lines apart so that two workers counting at
 * once never write the same line.
 */
#include "alert.h"
#include "counters.h"

#define COUNTERS_LINE	64

/* counters_slot_size - bytes of one worker's slot */
size_t
counters_slot_size(size_t nbackends)
{
	size_t	size = sizeof(struct counters_worker) +
	    nbackends * sizeof(struct counters_backend);

	return (size + COUNTERS_LINE - 1) / COUNTERS_LINE * COUNTERS_LINE;
}

/* counters_size - bytes of a generation's whole memfd */
size_t
counters_size(size_t nworkers, size_t nbackends)
{
	return nworkers * counters_slot_size(nbackends);
}

/* counters_slot - worker index's slot in a mapped memfd */
struct counters_worker *
counters_slot(void *base, size_t nbackends, size_t index)
{
	return (struct counters_worker *)((char *)base +
	    index * counters_slot_size(nbackends));
}

static const uint8_t counters_alerts[COUNTERS_ALERTS] = {
	ALERT_UNEXPECTED_MESSAGE, ALERT_DECODE_ERROR, ALERT_INTERNAL_ERROR,
	ALERT_UNRECOGNIZED_NAME,
};

/* counters_alert_index - where an alert is counted, or -1 */
int
counters_alert_index(uint8_t alert)
{
	int	i;

	for (i = 0; i < COUNTERS_ALERTS; i++)
		if (counters_alerts[i] == alert)
			return i;
	return -1;
}

/* counters_alert_code - the alert counted at index */
uint8_t
counters_alert_code(int index)
{
	return counters_alerts[index];
}

static const char *const counters_fails[COUNTERS_FAILS] = {
	[COUNTERS_FAIL_CONNECT] = "connect",
	[COUNTERS_FAIL_QUEUE_FULL] = "queue_full",
	[COUNTERS_FAIL_TOO_MANY_REFS] = "too_many_refs",
	[COUNTERS_FAIL_NO_MEMORY] = "no_memory",
	[COUNTERS_FAIL_LOST] = "channel_lost",
	[COUNTERS_FAIL_OWNER] = "owner",
};

/* counters_fail_name - the name of a handoff failure cause */
const char *
counters_fail_name(int index)
{
	return counters_fails[index];
}

/*
 * Upper bounds (inclusive) of the histogram buckets.  Peek latency: the
 * worker's clock is CLOCK_MONOTONIC_COARSE (a few ms a tick), so nothing
 * finer than 1 ms means anything; a hello that was there at accept is 0.
 * The top is past the longest peek_timeout plus handoff_timeout anyone
 * should set.  Hello sizes: most clients send 250-600 bytes, Chromium
 * about 1800 (2 KB with ECH), post-quantum key shares push past 1.5 KB;
 * 16384 + headers is the most SNItch reads.
 */
static const unsigned counters_peek_ms[COUNTERS_PEEK_BUCKETS - 1] = {
	1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
};
static const unsigned counters_hello_bytes[COUNTERS_HELLO_BUCKETS - 1] = {
	256, 512, 768, 1024, 1536, 2048, 4096, 8192, 16384,
};

/* counters_bucket - the first bucket whose bound is at least v */
static int
counters_bucket(const unsigned *bounds, int nbounds, uint64_t v)
{
	int	i;

	for (i = 0; i < nbounds; i++)
		if (v <= bounds[i])
			break;
	return i;
}

/* counters_peek_bucket - the peek latency bucket of ms */
int
counters_peek_bucket(uint64_t ms)
{
	return counters_bucket(counters_peek_ms, COUNTERS_PEEK_BUCKETS - 1, ms);
}

/* counters_hello_bucket - the hello size bucket of bytes */
int
counters_hello_bucket(size_t bytes)
{
	return counters_bucket(counters_hello_bytes, COUNTERS_HELLO_BUCKETS - 1,
	    bytes);
}

/* counters_peek_bounds - COUNTERS_PEEK_BUCKETS - 1 bounds, in ms */
const unsigned *
counters_peek_bounds(void)
{
	return counters_peek_ms;
}

/* counters_hello_bounds - COUNTERS_HELLO_BUCKETS - 1 bounds, in bytes */
const unsigned *
counters_hello_bounds(void)
{
	return counters_hello_bytes;
}
