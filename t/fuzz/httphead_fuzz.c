/*
 * httphead_fuzz.c - libFuzzer harness for httphead_parse and
 * httphead_resume.
 *
 * The request head reader walks bytes nobody has checked yet, in the
 * workers: this feeds it arbitrary input (built with AddressSanitizer
 * and UndefinedBehaviorSanitizer, so any read outside the input is a
 * crash) and traps when a promise of httphead.h is broken:
 *
 *   - the answer is one of the enum values, with its status (400 for
 *     malformed, 414 or 431 for too large, 505 for the version, none
 *     otherwise) and a reason for every answer but done and need-more;
 *     an answer but done sets nothing else, need-more only hh_need (1
 *     or more, never past the byte over HTTPHEAD_MAX);
 *   - on done, the head is within the input and HTTPHEAD_MAX, ends in
 *     CRLF CRLF, the method and target and host point into it, and the
 *     name is -1 or a lowercase LDH name that normalizing again leaves
 *     as it is, and the host normalized gives it;
 *   - the whole parse walks as many bytes as it took to answer: none
 *     after the answer, the byte over the bound not at all;
 *   - an answer other than need-more never changes with more bytes: a
 *     few prefixes, each copied into a buffer of exactly its size,
 *     answer need-more or the same as the whole (the same fields for
 *     done), and a prefix short of a whole head asks for no more than
 *     the head's end;
 *   - the split property: the input cut into pieces at points drawn
 *     from a generator seeded by the input, fed through one walk (each
 *     call from a buffer of exactly the bytes so far), ends in the
 *     answer of the whole with the same fields, each byte walked once;
 *     an answer given is given again without walking.
 *
 * Built and run by `make fuzz` and `make fuzz-check` (t/fuzz/run.sh);
 * the seed corpus is t/fuzz/corpus/httphead/, the dictionary
 * t/fuzz/httphead.dict.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostname.h"
#include "httphead.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond))							\
		__builtin_trap();					\
} while (0)

/* The answer of a parse, its pointers made into offsets */
struct fuzz_answer {
	enum httphead_result fa_result;
	size_t		 fa_method_len;
	size_t		 fa_target_off, fa_target_len;
	size_t		 fa_host_off, fa_host_len;
	int		 fa_has_host;
	enum httphead_form fa_form;
	enum httphead_from fa_from;
	int		 fa_version;
	int		 fa_acme;
	char		 fa_name[HOSTNAME_MAX + 1];
	ssize_t		 fa_name_len;
	size_t		 fa_head_len;
	int		 fa_status;
	const char	*fa_reason;
};

/* head_fuzz_inside - whether [p, p + n) lies within [base, base + size) */
static int
head_fuzz_inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size)
{
	uintptr_t	 pp = (uintptr_t)p, bb = (uintptr_t)base;

	return pp >= bb && pp - bb <= size && n <= size - (pp - bb);
}

/* head_fuzz_status - the status each answer carries */
static int
head_fuzz_status(enum httphead_result r, int status)
{
	switch (r) {
	case HTTPHEAD_MALFORMED:
		return status == 400;
	case HTTPHEAD_TOO_LARGE:
		return status == 414 || status == 431;
	case HTTPHEAD_VERSION:
		return status == 505;
	default:
		return status == 0;
	}
}

/* head_fuzz_name - a done answer's name against its host */
static void
head_fuzz_name(const struct httphead *hh)
{
	char	 again[HOSTNAME_MAX + 1];
	ssize_t	 i, n = hh->hh_name_len;

	if (n == -1) {
		FUZZ_CHECK(hh->hh_host == NULL || hh->hh_host_len == 0 ||
		    hostname_normalize(hh->hh_host, hh->hh_host_len,
		    again) == -1);
		return;
	}
	FUZZ_CHECK(hh->hh_host != NULL && n >= 1 && n <= HOSTNAME_MAX &&
	    (size_t)n <= hh->hh_host_len && strlen(hh->hh_name) == (size_t)n);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((hh->hh_name[i] >= 'a' && hh->hh_name[i] <= 'z') ||
		    (hh->hh_name[i] >= '0' && hh->hh_name[i] <= '9') ||
		    hh->hh_name[i] == '-' || hh->hh_name[i] == '.');
	FUZZ_CHECK(hostname_normalize((const uint8_t *)hh->hh_name, (size_t)n,
	    again) == n && strcmp(again, hh->hh_name) == 0);
}

/*
 * head_fuzz_check - the invariants of one answer for the len bytes at
 * wire, and the answer saved into fa
 */
static void
head_fuzz_check(const uint8_t *wire, size_t len, const struct httphead *hh,
    enum httphead_result r, struct fuzz_answer *fa)
{
	FUZZ_CHECK(r >= HTTPHEAD_DONE && r <= HTTPHEAD_VERSION);
	FUZZ_CHECK(strcmp(httphead_result_name(r), "unknown") != 0);
	FUZZ_CHECK(head_fuzz_status(r, hh->hh_status));
	memset(fa, 0, sizeof(*fa));
	fa->fa_result = r;
	fa->fa_status = hh->hh_status;
	fa->fa_reason = hh->hh_reason;
	fa->fa_name_len = -1;
	if (r != HTTPHEAD_DONE) {
		FUZZ_CHECK(hh->hh_method == NULL && hh->hh_target == NULL &&
		    hh->hh_host == NULL && hh->hh_name_len == -1 &&
		    hh->hh_head_len == 0 && hh->hh_acme == 0 &&
		    hh->hh_form == HTTPHEAD_FORM_NONE && hh->hh_version == 0);
		if (r == HTTPHEAD_NEED_MORE)
			FUZZ_CHECK(hh->hh_need >= 1 && hh->hh_reason == NULL &&
			    len + hh->hh_need <= (size_t)HTTPHEAD_MAX + 1);
		else
			FUZZ_CHECK(hh->hh_need == 0 && hh->hh_reason != NULL);
		return;
	}
	FUZZ_CHECK(hh->hh_need == 0 && hh->hh_reason == NULL);
	FUZZ_CHECK(hh->hh_head_len >= 4 && hh->hh_head_len <= len &&
	    hh->hh_head_len <= HTTPHEAD_MAX);
	FUZZ_CHECK(memcmp(wire + hh->hh_head_len - 4, "\r\n\r\n", 4) == 0);
	FUZZ_CHECK(hh->hh_method == wire && hh->hh_method_len >= 1 &&
	    hh->hh_target == wire + hh->hh_method_len + 1 &&
	    hh->hh_target_len >= 1 &&
	    head_fuzz_inside(hh->hh_target, hh->hh_target_len, wire,
	    hh->hh_head_len));
	FUZZ_CHECK(hh->hh_form >= HTTPHEAD_FORM_ORIGIN &&
	    hh->hh_form <= HTTPHEAD_FORM_ASTERISK);
	FUZZ_CHECK(hh->hh_version == 10 || hh->hh_version == 11);
	FUZZ_CHECK(hh->hh_acme == 0 || hh->hh_acme == 1);
	FUZZ_CHECK((hh->hh_from == HTTPHEAD_FROM_NONE) ==
	    (hh->hh_host == NULL));
	FUZZ_CHECK(hh->hh_from != HTTPHEAD_FROM_TARGET ||
	    hh->hh_form == HTTPHEAD_FORM_ABSOLUTE);
	FUZZ_CHECK(hh->hh_from != HTTPHEAD_FROM_NONE || hh->hh_version == 10);
	if (hh->hh_host != NULL) {
		FUZZ_CHECK(head_fuzz_inside(hh->hh_host, hh->hh_host_len, wire,
		    hh->hh_head_len));
		fa->fa_has_host = 1;
		fa->fa_host_off = (size_t)(hh->hh_host - wire);
		fa->fa_host_len = hh->hh_host_len;
	}
	head_fuzz_name(hh);
	fa->fa_method_len = hh->hh_method_len;
	fa->fa_target_off = (size_t)(hh->hh_target - wire);
	fa->fa_target_len = hh->hh_target_len;
	fa->fa_form = hh->hh_form;
	fa->fa_from = hh->hh_from;
	fa->fa_version = hh->hh_version;
	fa->fa_acme = hh->hh_acme;
	memcpy(fa->fa_name, hh->hh_name, sizeof(fa->fa_name));
	fa->fa_name_len = hh->hh_name_len;
	fa->fa_head_len = hh->hh_head_len;
}

/* head_fuzz_same - whether two answers agree in every field */
static int
head_fuzz_same(const struct fuzz_answer *a, const struct fuzz_answer *b)
{
	return a->fa_result == b->fa_result &&
	    a->fa_method_len == b->fa_method_len &&
	    a->fa_target_off == b->fa_target_off &&
	    a->fa_target_len == b->fa_target_len &&
	    a->fa_has_host == b->fa_has_host &&
	    a->fa_host_off == b->fa_host_off &&
	    a->fa_host_len == b->fa_host_len && a->fa_form == b->fa_form &&
	    a->fa_from == b->fa_from && a->fa_version == b->fa_version &&
	    a->fa_acme == b->fa_acme && a->fa_name_len == b->fa_name_len &&
	    strcmp(a->fa_name, b->fa_name) == 0 &&
	    a->fa_head_len == b->fa_head_len &&
	    a->fa_status == b->fa_status && a->fa_reason == b->fa_reason;
}

/* head_fuzz_copy - the first len bytes in a buffer of exactly that size */
static uint8_t *
head_fuzz_copy(const uint8_t *data, size_t len)
{
	uint8_t	*copy = malloc(len ? len : 1);

	if (copy == NULL)
		abort();
	memcpy(copy, data, len);
	return copy;
}

/* head_fuzz_prefix - the first len bytes alone, against the whole */
static void
head_fuzz_prefix(const uint8_t *data, size_t len,
    const struct fuzz_answer *whole)
{
	static struct fuzz_answer fa;
	struct httphead	 hh;
	enum httphead_result r;
	uint8_t		*copy = head_fuzz_copy(data, len);

	memset(&hh, 0xa5, sizeof(hh));
	r = httphead_parse(copy, len, &hh);
	head_fuzz_check(copy, len, &hh, r, &fa);
	free(copy);
	if (whole->fa_result == HTTPHEAD_NEED_MORE) {
		FUZZ_CHECK(r == HTTPHEAD_NEED_MORE);
		return;
	}
	if (whole->fa_result != HTTPHEAD_DONE) {
		FUZZ_CHECK(r == HTTPHEAD_NEED_MORE || head_fuzz_same(&fa, whole));
		return;
	}
	/* the head ends at fa_head_len: no sooner, and the same after */
	if (len < whole->fa_head_len) {
		FUZZ_CHECK(r == HTTPHEAD_NEED_MORE &&
		    len + hh.hh_need <= whole->fa_head_len);
		return;
	}
	FUZZ_CHECK(head_fuzz_same(&fa, whole));
}

/*
 * head_fuzz_split - the input through one walk, in pieces cut at points
 * drawn from a generator seeded by the input, then asked again
 */
static void
head_fuzz_split(const uint8_t *data, size_t size,
    const struct fuzz_answer *whole, size_t whole_examined)
{
	static struct fuzz_answer fa;
	struct httphead_walk hw;
	struct httphead	 hh;
	enum httphead_result r;
	uint32_t	 seed = (uint32_t)size * 2654435761U;
	size_t		 len = 0, examined = 0;
	int		 answered = 0, again = 0;
	uint8_t		*copy;

	if (size > 0)
		seed ^= data[0] | (uint32_t)data[size / 2] << 8 |
		    (uint32_t)data[size - 1] << 16;
	memset(&hw, 0, sizeof(hw));
	do {
		seed = seed * 1103515245U + 12345U;
		if (len < size)
			len += 1 + (seed >> 8) % (size / 3 + 1);
		else
			again = 1;
		if (len > size)
			len = size;
		copy = head_fuzz_copy(data, len);
		memset(&hh, 0xa5, sizeof(hh));
		r = httphead_resume(copy, len, &hw, &hh);
		head_fuzz_check(copy, len, &hh, r, &fa);
		free(copy);
		if (answered) {
			/* given again, without walking */
			FUZZ_CHECK(head_fuzz_same(&fa, whole) &&
			    hh.hh_examined == 0);
			continue;
		}
		examined += hh.hh_examined;
		if (r != HTTPHEAD_NEED_MORE)
			answered = 1;
	} while (!again);
	FUZZ_CHECK(head_fuzz_same(&fa, whole));
	FUZZ_CHECK(examined == whole_examined);
}

/* LLVMFuzzerTestOneInput - one input: the whole, its cuts, some prefixes */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_answer whole;
	struct httphead	 hh;
	enum httphead_result r;

	memset(&hh, 0xa5, sizeof(hh));	/* what it must clear, poisoned */
	r = httphead_parse(data, size, &hh);
	head_fuzz_check(data, size, &hh, r, &whole);
	/* walked up to the answer and no further (the bound: not at all) */
	if (r == HTTPHEAD_DONE)
		FUZZ_CHECK(hh.hh_examined == hh.hh_head_len);
	else if (r == HTTPHEAD_TOO_LARGE)
		FUZZ_CHECK(hh.hh_examined == HTTPHEAD_MAX);
	else if (r == HTTPHEAD_NEED_MORE)
		FUZZ_CHECK(hh.hh_examined == size);
	else
		FUZZ_CHECK(hh.hh_examined >= 1 && hh.hh_examined <= size);
	head_fuzz_split(data, size, &whole, hh.hh_examined);
	if (size == 0)
		return 0;
	head_fuzz_prefix(data, size - 1, &whole);
	head_fuzz_prefix(data, size / 2, &whole);
	if (r == HTTPHEAD_DONE) {
		head_fuzz_prefix(data, whole.fa_head_len, &whole);
		head_fuzz_prefix(data, whole.fa_head_len - 1, &whole);
	} else if (r != HTTPHEAD_NEED_MORE) {
		head_fuzz_prefix(data, hh.hh_examined, &whole);
		head_fuzz_prefix(data, hh.hh_examined - 1, &whole);
	}
	return 0;
}
