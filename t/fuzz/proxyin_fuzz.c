/*
 * proxyin_fuzz.c - libFuzzer harness for proxyin_parse and
 * proxyin_resume, the workers' reader of PROXY headers.
 *
 * Built with AddressSanitizer and UndefinedBehaviorSanitizer, so any
 * read outside the bytes given is a crash, it traps when a promise of
 * proxyin.h is broken:
 *
 *   - the answer is one of the enum values; PROXYIN_NEED_MORE comes with
 *     a px_need of 1 or more, PROXYIN_INVALID with a reason, and only
 *     PROXYIN_DONE sets anything else;
 *   - PROXYIN_DONE never claims more bytes than given: px_len is within
 *     the input, at most PROXYIN_V1_MAX (v1) or PROXYIN_V2_MAX (v2),
 *     the family matches the command, and the kept TLVs are well formed
 *     and at most PROXYIN_KEPT_MAX bytes;
 *   - the split property: the input resumed through one walk in pieces
 *     cut where the input says, each call on a buffer of exactly the
 *     bytes so far, answers PROXYIN_NEED_MORE until it answers as the
 *     whole parse did, with the same fields, and examines as many bytes
 *     in all (none twice);
 *   - a prefix answers PROXYIN_NEED_MORE, with a px_need that does not
 *     overshoot a header found whole, or the whole's answer.
 *
 * Built and run by `make fuzz` and `make fuzz-check` (t/fuzz/run.sh);
 * the seed corpus is t/fuzz/corpus/proxyin/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyin.h"
#include "../unit/proxyin_same.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond))							\
		__builtin_trap();					\
} while (0)

/* proxyin_fuzz_tlvs - whether a kept block is TLVs filling it exactly */
static int
proxyin_fuzz_tlvs(const struct proxyin *px)
{
	size_t	 off = 0, vlen;

	while (off < px->px_tlvs_len) {
		if (px->px_tlvs_len - off < 3)
			return 0;
		vlen = (size_t)px->px_tlvs[off + 1] << 8 | px->px_tlvs[off + 2];
		if (vlen > px->px_tlvs_len - off - 3)
			return 0;
		off += 3 + vlen;
	}
	return 1;
}

/* proxyin_fuzz_check - the promises of one answer for len bytes */
static void
proxyin_fuzz_check(size_t len, enum proxyin_result r,
    const struct proxyin *px)
{
	FUZZ_CHECK(r == PROXYIN_DONE || r == PROXYIN_NEED_MORE ||
	    r == PROXYIN_INVALID);
	FUZZ_CHECK(strcmp(proxyin_result_name(r), "unknown") != 0);
	FUZZ_CHECK((r == PROXYIN_NEED_MORE) == (px->px_need > 0));
	FUZZ_CHECK((r == PROXYIN_INVALID) == (px->px_reason != NULL));
	if (r != PROXYIN_DONE) {
		FUZZ_CHECK(px->px_len == 0 && px->px_version == 0 &&
		    px->px_family == AF_UNSPEC && px->px_tlvs_len == 0 &&
		    px->px_src.ss_family == AF_UNSPEC);
		return;
	}
	FUZZ_CHECK(px->px_len >= PROXYIN_MIN && px->px_len <= len);
	FUZZ_CHECK(px->px_version == 1 || px->px_version == 2);
	FUZZ_CHECK(px->px_len <= (px->px_version == 1 ? PROXYIN_V1_MAX :
	    PROXYIN_V2_MAX));
	FUZZ_CHECK(px->px_examined >= px->px_len);
	if (px->px_command == PROXYIN_LOCAL) {
		FUZZ_CHECK(px->px_family == AF_UNSPEC && px->px_socktype == 0 &&
		    px->px_tlvs_len == 0);
	} else {
		FUZZ_CHECK(px->px_command == PROXYIN_PROXY);
		FUZZ_CHECK(px->px_family == AF_INET ||
		    px->px_family == AF_INET6 || px->px_family == AF_UNIX);
		FUZZ_CHECK(px->px_src.ss_family == px->px_family &&
		    px->px_dst.ss_family == px->px_family);
		FUZZ_CHECK(px->px_socktype == SOCK_STREAM);
	}
	FUZZ_CHECK(px->px_src.ss_family == px->px_dst.ss_family);
	FUZZ_CHECK(px->px_tlvs_len <= PROXYIN_KEPT_MAX &&
	    px->px_tlvs_len <= px->px_len);
	FUZZ_CHECK(proxyin_fuzz_tlvs(px));
	FUZZ_CHECK(px->px_version == 2 || px->px_tlvs_len == 0);
}

/*
 * proxyin_fuzz_split - the input resumed in pieces cut at points drawn
 * from a generator seeded by the input
 */
static void
proxyin_fuzz_split(const uint8_t *data, size_t size, enum proxyin_result want,
    const struct proxyin *whole)
{
	static struct proxyin	 px;
	struct proxyin_walk	 pw;
	enum proxyin_result	 r;
	uint32_t		 seed = (uint32_t)size * 2654435761U;
	size_t			 len = 0, examined = 0;

	if (size > 0)
		seed ^= data[0] | (uint32_t)data[size - 1] << 8;
	memset(&pw, 0, sizeof(pw));
	for (;;) {
		r = proxyin_same_call(data, len, &pw, &px);
		proxyin_fuzz_check(len, r, &px);
		examined += px.px_examined;
		if (r != PROXYIN_NEED_MORE || len == size)
			break;
		seed = seed * 1103515245U + 12345U;
		len += (seed >> 8) % (size / 8 + 2);
		if (len > size)
			len = size;
	}
	FUZZ_CHECK(r == want && proxyin_same(&px, whole));
	FUZZ_CHECK(examined == whole->px_examined);
	/* asked again: the same, and an invalid walk looks at nothing */
	r = proxyin_same_call(data, len, &pw, &px);
	FUZZ_CHECK(r == want && proxyin_same(&px, whole));
	FUZZ_CHECK(r != PROXYIN_INVALID || px.px_examined == 0);
}

/* proxyin_fuzz_prefix - the first len bytes alone, against the whole */
static void
proxyin_fuzz_prefix(const uint8_t *data, size_t len, enum proxyin_result want,
    const struct proxyin *whole)
{
	static struct proxyin	 px;
	struct proxyin_walk	 pw;
	enum proxyin_result	 r;

	memset(&pw, 0, sizeof(pw));
	r = proxyin_same_call(data, len, &pw, &px);
	proxyin_fuzz_check(len, r, &px);
	if (r == PROXYIN_NEED_MORE) {
		FUZZ_CHECK(want != PROXYIN_DONE || (len < whole->px_len &&
		    px.px_need <= whole->px_len - len));
		return;
	}
	FUZZ_CHECK(r == want && proxyin_same(&px, whole));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proxyin	 whole;
	enum proxyin_result	 r;

	/* fields the parser must set, poisoned */
	memset(&whole, 0xa5, sizeof(whole));
	r = proxyin_parse(data, size, &whole);
	proxyin_fuzz_check(size, r, &whole);
	proxyin_fuzz_split(data, size, r, &whole);
	if (size == 0)
		return 0;
	proxyin_fuzz_prefix(data, size - 1, r, &whole);
	proxyin_fuzz_prefix(data, size / 2, r, &whole);
	if (r == PROXYIN_DONE) {
		proxyin_fuzz_prefix(data, whole.px_len, r, &whole);
		proxyin_fuzz_prefix(data, whole.px_len - 1, r, &whole);
	}
	return 0;
}
