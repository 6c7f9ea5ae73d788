/*
 * proxyin_same.h - what proxyin_test.c and the proxyin fuzzer both ask
 * of an answer: one resumed call on a buffer of exactly the bytes given
 * (so that AddressSanitizer sees any read past them), and whether two
 * answers agree.
 */
#ifndef PROXYIN_SAME_H
#define PROXYIN_SAME_H

#include <stdlib.h>
#include <string.h>

#include "proxyin.h"

/* proxyin_same_call - resume with the first len bytes, copied to exactly len */
static inline enum proxyin_result
proxyin_same_call(const uint8_t *buf, size_t len, struct proxyin_walk *pw,
    struct proxyin *px)
{
	enum proxyin_result r;
	uint8_t		*copy = malloc(len ? len : 1);

	if (copy == NULL)
		abort();
	memcpy(copy, buf, len);
	r = proxyin_resume(copy, len, pw, px);
	free(copy);
	return r;
}

/* proxyin_same - whether two answers agree in every field but px_examined */
static inline int
proxyin_same(const struct proxyin *a, const struct proxyin *b)
{
	return a->px_len == b->px_len && a->px_need == b->px_need &&
	    a->px_reason == b->px_reason && a->px_version == b->px_version &&
	    a->px_command == b->px_command && a->px_family == b->px_family &&
	    a->px_socktype == b->px_socktype &&
	    memcmp(&a->px_src, &b->px_src, sizeof(a->px_src)) == 0 &&
	    memcmp(&a->px_dst, &b->px_dst, sizeof(a->px_dst)) == 0 &&
	    a->px_tlvs_len == b->px_tlvs_len &&
	    memcmp(a->px_tlvs, b->px_tlvs, a->px_tlvs_len) == 0;
}

#endif
