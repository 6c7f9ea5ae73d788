/*
 * clock.h - monotonic milliseconds for deadlines.
 *
 * CLOCK_MONOTONIC_COARSE: deadlines here are seconds long, and the
 * coarse clock is read without a system call on every loop turn.
 * clock_us measures the short spans the access log reports.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>
#include <time.h>

/* clock_ms - milliseconds since some fixed point */
static inline uint64_t
clock_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* clock_us - microseconds since some fixed point, for measuring spans */
static inline uint64_t
clock_us(void)
{
	struct timespec	ts;

	/* The precise clock: one vDSO read, no system call. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

#endif
