/*
 * tap.h - the unit tests' tiny harness: TAP output, one line per check.
 *
 * t/run counts "ok" and "not ok" lines of every test program and of bats.
 * A test program exits 1 when any check failed.
 */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

/* The condition is evaluated once: it may have side effects. */
#define TAP_OK(cond, ...) do {						\
	int tap_pass = (cond) ? 1 : 0;					\
	tap_n++;							\
	if (!tap_pass)							\
		tap_failed++;						\
	printf("%s %d - ", tap_pass ? "ok" : "not ok", tap_n);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!tap_pass)							\
		printf("#   failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
} while (0)

#define TAP_DONE() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#endif
