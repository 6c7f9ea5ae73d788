/*
 * names.c - the route table: server name to backend number.
 *
 * Built by the master (to check a config) and by each worker (from the
 * worker configuration); read on every connection.  Two open-addressing
 * hash tables share one string arena: exact names, and the suffixes of
 * wildcard patterns ("*.example.org" is stored as "example.org").
 *
 * With a million patterns nearly every slot or string a lookup reads is
 * a cache and TLB miss, so lookup is arranged to read few of them and
 * to get to the first one soon (bench/PROFILE.md has the measurements):
 *
 * - A slot is 8 bytes: the hash of its name and where the name is in
 *   the arena.  The arena entry (backend, length, name) is only read
 *   when the hashes agree, so a probe that misses costs one read.
 * - One pass over the name, from its end, hashes the name and each
 *   suffix after a dot: the hash reads 8-byte chunks counted from the
 *   end of the string, so a suffix's hash is the state after the
 *   chunks it shares with the name, mixed with its part of the next
 *   chunk ("example.org" is hashed on the way to "www.example.org").
 *   names_hash, for insertion, hashes a stored name the same way.
 *   Chunks rather than bytes (FNV-1a was measured too): the first
 *   probe starts sooner, and 10% more lookups/s.
 * - A suffix is only a candidate when some wildcard has its length
 *   (nm_wild_lengths, one bit per length); dots outside the span of
 *   the wildcards' lengths are not even looked at.  Most suffixes of
 *   most names cost nothing; a table without wildcards, one probe.
 *
 * Then the probes go in the order of precedence: the exact name, the
 * candidates from the longest suffix to the shortest, then "*".  They
 * overlap without help: the CPU runs ahead on the predicted branches
 * (prefetching the candidates' slots was measured, and gained nothing).
 * The hash is not keyed: the table's contents come from the
 * configuration, and a client's name only chooses which probes are made.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostname.h"
#include "names.h"

struct names_slot {
	uint32_t	ns_hash;	/* names_hash of the name */
	uint32_t	ns_offset;	/* of its entry in nm_text; 0: empty */
};

/*
 * An arena entry, at ns_offset: the backend (4 bytes, host order), the
 * name's length (1 byte, names are at most HOSTNAME_MAX), the name.
 */
#define NAMES_ENTRY_LEN		0
#define NAMES_ENTRY_BACKEND	1
#define NAMES_ENTRY_NAME	(NAMES_ENTRY_BACKEND + sizeof(int32_t))

struct names_table {
	struct names_slot	*nt_slots;
	size_t			 nt_mask;	/* capacity - 1, a power of two */
	size_t			 nt_count;
};

struct names {
	struct names_table	 nm_exact;
	struct names_table	 nm_wild;
	/* Of the wildcards' suffixes: which lengths, the shortest, longest. */
	uint64_t		 nm_wild_lengths[(HOSTNAME_MAX + 64) / 64];
	size_t			 nm_wild_min;	/* HOSTNAME_MAX + 1: none */
	size_t			 nm_wild_max;	/* 0: none */
	int			 nm_any;	/* backend for "*", or -1 */
	char			*nm_text;	/* byte 0 unused: offset 0 is empty */
	size_t			 nm_text_len;
	size_t			 nm_text_cap;
};

/* A wildcard candidate of a lookup: a suffix of the name, after a dot. */
struct names_suffix {
	uint32_t	sf_hash;
	uint32_t	sf_len;
};

#define NAMES_INITIAL	64
#define NAMES_DOTS	0x2e2e2e2e2e2e2e2eULL	/* '.' in every byte */
#define NAMES_LOW7	0x7f7f7f7f7f7f7f7fULL

/* names_load - n bytes (1 to 8) at s as a little-endian number */
static inline uint64_t
names_load(const char *s, size_t n)
{
	uint64_t	v = 0;

	if (n == 8) {
		memcpy(&v, s, sizeof(v));
		return le64toh(v);
	}
	while (n-- > 0)
		v = v << 8 | (unsigned char)s[n];
	return v;
}

/*
 * names_chunk - name[start .. end - 1], 8 bytes or the name's first
 * ones, as names_load reads them.  The first ones are cut from 8 when
 * the name has 8: names_load's loop, as long as the name is long modulo
 * 8, was a mispredicted branch in lookups (5% of mixed lookups/s).
 */
static inline uint64_t
names_chunk(const char *name, size_t len, size_t start, size_t end)
{
	if (end - start == 8)
		return names_load(name + start, 8);
	if (len < 8)
		return names_load(name, end);
	return names_load(name, 8) & ((1ULL << 8 * end) - 1);
}

/* names_mix - one more chunk into the hash state */
static inline uint64_t
names_mix(uint64_t h, uint64_t chunk)
{
	/* The rotation brings high bits down: a product only carries up. */
	return ((h << 23 | h >> 41) ^ chunk) * 0x9e3779b97f4a7c15ULL;
}

/* names_finish - the hash of a len-byte string from its state */
static inline uint32_t
names_finish(uint64_t h, size_t len)
{
	/* MurmurHash3's fmix64: every bit of h reaches the low 32. */
	h ^= len;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* names_hash - hash of a name, chunks from its end like names_suffixes */
static uint32_t
names_hash(const char *name, size_t len)
{
	uint64_t	h = 0;
	size_t		end;

	for (end = len; end >= 8; end -= 8)
		h = names_mix(h, names_load(name + end - 8, 8));
	if (end > 0)
		h = names_mix(h, names_load(name, end));
	return names_finish(h, len);
}

/* names_dots - a chunk with the top bit set in each byte that is '.' */
static inline uint64_t
names_dots(uint64_t chunk)
{
	uint64_t	x = chunk ^ NAMES_DOTS;

	/*
	 * A dot is a 0 byte of x.  (x & 0x7f) + 0x7f sets a byte's top bit
	 * unless its low 7 bits are 0, | x adds x's own top bit: the top
	 * bits left clear are the 0 bytes.  No carry crosses a byte, so
	 * unlike the usual haszero() there is no false dot.
	 */
	return ~(((x & NAMES_LOW7) + NAMES_LOW7) | x) & ~NAMES_LOW7;
}

/* names_table_init - allocate an empty table */
static int
names_table_init(struct names_table *t, size_t cap)
{
	t->nt_slots = calloc(cap, sizeof(*t->nt_slots));
	if (t->nt_slots == NULL)
		return -1;
	t->nt_mask = cap - 1;
	t->nt_count = 0;
	return 0;
}

/* names_new - an empty table; NULL with errno on failure */
struct names *
names_new(void)
{
	struct names	*nm;

	if ((nm = calloc(1, sizeof(*nm))) == NULL)
		return NULL;
	nm->nm_any = -1;
	nm->nm_wild_min = HOSTNAME_MAX + 1;
	nm->nm_text_len = 1;
	if (names_table_init(&nm->nm_exact, NAMES_INITIAL) == -1 ||
	    names_table_init(&nm->nm_wild, NAMES_INITIAL) == -1) {
		names_free(nm);
		return NULL;
	}
	return nm;
}

/* names_free - release the table and its strings */
void
names_free(struct names *nm)
{
	if (nm == NULL)
		return;
	free(nm->nm_exact.nt_slots);
	free(nm->nm_wild.nt_slots);
	free(nm->nm_text);
	free(nm);
}

/* names_entry_len - the length of the name stored in slot s */
static inline size_t
names_entry_len(const struct names *nm, const struct names_slot *s)
{
	return (unsigned char)nm->nm_text[s->ns_offset + NAMES_ENTRY_LEN];
}

/* names_entry_name - the name stored in slot s, not NUL-terminated */
static inline const char *
names_entry_name(const struct names *nm, const struct names_slot *s)
{
	return nm->nm_text + s->ns_offset + NAMES_ENTRY_NAME;
}

/* names_entry_backend - the backend of the name stored in slot s */
static inline int
names_entry_backend(const struct names *nm, const struct names_slot *s)
{
	int32_t	backend;

	memcpy(&backend, nm->nm_text + s->ns_offset + NAMES_ENTRY_BACKEND,
	    sizeof(backend));
	return backend;
}

/* names_find - the slot holding name, or the empty slot where it would go */
static struct names_slot *
names_find(const struct names *nm, const struct names_table *t,
    const char *name, size_t len, uint32_t hash)
{
	size_t			 i = hash & t->nt_mask;
	struct names_slot	*s;

	for (;; i = (i + 1) & t->nt_mask) {
		s = &t->nt_slots[i];
		if (s->ns_offset == 0)
			return s;
		/* The hash first: the arena is one more cache miss. */
		if (s->ns_hash == hash && names_entry_len(nm, s) == len &&
		    memcmp(names_entry_name(nm, s), name, len) == 0)
			return s;
	}
}

/* names_grow - double a table that is over half full */
static int
names_grow(struct names_table *t)
{
	struct names_table	 bigger;
	size_t			 i, j;

	if (names_table_init(&bigger, (t->nt_mask + 1) * 2) == -1)
		return -1;
	/* The names are all different: only an empty slot is needed. */
	for (i = 0; i <= t->nt_mask; i++) {
		if (t->nt_slots[i].ns_offset == 0)
			continue;
		j = t->nt_slots[i].ns_hash & bigger.nt_mask;
		while (bigger.nt_slots[j].ns_offset != 0)
			j = (j + 1) & bigger.nt_mask;
		bigger.nt_slots[j] = t->nt_slots[i];
	}
	bigger.nt_count = t->nt_count;
	free(t->nt_slots);
	*t = bigger;
	return 0;
}

/* names_store - append an arena entry; its offset, or -1 */
static int64_t
names_store(struct names *nm, const char *name, size_t len, int backend)
{
	size_t	 cap, offset = nm->nm_text_len, size = NAMES_ENTRY_NAME + len;
	int32_t	 b = backend;
	char	*text;

	if (nm->nm_text_len + size > nm->nm_text_cap) {
		cap = nm->nm_text_cap ? nm->nm_text_cap * 2 : 4096;
		while (cap < nm->nm_text_len + size)
			cap *= 2;
		if (cap > UINT32_MAX) {
			errno = ENOMEM;
			return -1;
		}
		if ((text = realloc(nm->nm_text, cap)) == NULL)
			return -1;
		nm->nm_text = text;
		nm->nm_text_cap = cap;
	}
	nm->nm_text[offset + NAMES_ENTRY_LEN] = (char)len;
	memcpy(nm->nm_text + offset + NAMES_ENTRY_BACKEND, &b, sizeof(b));
	memcpy(nm->nm_text + offset + NAMES_ENTRY_NAME, name, len);
	nm->nm_text_len += size;
	return (int64_t)offset;
}

/* names_insert - add name to t; EEXIST with *other set when present */
static int
names_insert(struct names *nm, struct names_table *t, const char *name,
    size_t len, int backend, int *other)
{
	uint32_t		 hash = names_hash(name, len);
	struct names_slot	*s;
	int64_t			 offset;

	s = names_find(nm, t, name, len, hash);
	if (s->ns_offset != 0) {
		if (other != NULL)
			*other = names_entry_backend(nm, s);
		errno = EEXIST;
		return -1;
	}
	if ((offset = names_store(nm, name, len, backend)) == -1)
		return -1;
	s->ns_hash = hash;
	s->ns_offset = (uint32_t)offset;
	if (++t->nt_count * 2 > t->nt_mask + 1)
		return names_grow(t);
	return 0;
}

/*
 * names_add - add a pattern: "name", "*.name" or "*".  Returns 0, or -1
 * with errno EINVAL (not a pattern), EEXIST (*other gets the backend
 * that has it already) or ENOMEM.
 */
int
names_add(struct names *nm, const char *pattern, int backend, int *other)
{
	char		 name[HOSTNAME_MAX + 1];
	struct names_table *t = &nm->nm_exact;
	ssize_t		 len;

	if (strcmp(pattern, "*") == 0) {
		if (nm->nm_any != -1) {
			if (other != NULL)
				*other = nm->nm_any;
			errno = EEXIST;
			return -1;
		}
		nm->nm_any = backend;
		return 0;
	}
	if (strncmp(pattern, "*.", 2) == 0) {
		pattern += 2;
		t = &nm->nm_wild;
	}
	len = hostname_normalize((const uint8_t *)pattern, strlen(pattern),
	    name);
	if (len == -1) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * Before the insertion, which may fail after storing the name (a
	 * table that cannot grow): a length bit too many costs a probe, a
	 * bit too few would hide a wildcard.
	 */
	if (t == &nm->nm_wild) {
		nm->nm_wild_lengths[len / 64] |= 1ULL << (len % 64);
		if ((size_t)len < nm->nm_wild_min)
			nm->nm_wild_min = (size_t)len;
		if ((size_t)len > nm->nm_wild_max)
			nm->nm_wild_max = (size_t)len;
	}
	return names_insert(nm, t, name, (size_t)len, backend, other);
}

/* names_wild_length - whether some wildcard's suffix is len bytes long */
static inline int
names_wild_length(const struct names *nm, size_t len)
{
	return len <= HOSTNAME_MAX &&
	    ((nm->nm_wild_lengths[len / 64] >> (len % 64)) & 1);
}

/*
 * names_candidates - note in wild[*n] each suffix after a dot of the
 * chunk at name[start .. end - 1] that may be a wildcard, rightmost
 * first; h is the hash state of name[end .. len - 1].
 */
static void
names_candidates(const struct names *nm, size_t len, size_t start,
    size_t end, uint64_t chunk, uint64_t h, struct names_suffix *wild,
    size_t *n)
{
	uint64_t	dots, state;
	size_t		from;		/* the suffix's first byte */
	int		bit;

	for (dots = names_dots(chunk); dots != 0; dots ^= 1ULL << bit) {
		bit = 63 - __builtin_clzll(dots);
		from = start + (size_t)bit / 8 + 1;
		if (!names_wild_length(nm, len - from))
			continue;
		/* Its part of this chunk, unless it starts at the next one. */
		state = from < end ? names_mix(h, chunk >> 8 * (from - start)) :
		    h;
		wild[*n].sf_hash = names_finish(state, len - from);
		wild[*n].sf_len = (uint32_t)(len - from);
		(*n)++;
	}
}

/*
 * names_suffixes - hash name from its end, noting in wild the suffixes
 * that may be wildcards, shortest first; returns the hash of the whole
 * name.  wild needs HOSTNAME_MAX entries: each candidate has a
 * different length, and names_wild_length allows no more.
 */
static uint32_t
names_suffixes(const struct names *nm, const char *name, size_t len,
    struct names_suffix *wild, size_t *n)
{
	uint64_t	h = 0, chunk;
	size_t		start, end, lo, hi;

	/* The dots that may start a wildcard's suffix: lo to hi - 1. */
	lo = len > nm->nm_wild_max ? len - nm->nm_wild_max - 1 : 0;
	hi = len > nm->nm_wild_min ? len - nm->nm_wild_min : 0;
	*n = 0;
	for (end = len; end > 0; end = start) {
		start = end >= 8 ? end - 8 : 0;
		chunk = names_chunk(name, len, start, end);
		if (start < hi && end > lo)
			names_candidates(nm, len, start, end, chunk, h, wild,
			    n);
		h = names_mix(h, chunk);
	}
	return names_finish(h, len);
}

/* names_get - the backend of name in t, or -1 */
static int
names_get(const struct names *nm, const struct names_table *t,
    const char *name, size_t len, uint32_t hash)
{
	const struct names_slot	*s;

	if (t->nt_count == 0)
		return -1;
	s = names_find(nm, t, name, len, hash);
	return s->ns_offset != 0 ? names_entry_backend(nm, s) : -1;
}

/*
 * names_match - the backend for a normalized host name (see
 * hostname_normalize), or -1 when nothing matches; *kind says which kind
 * of pattern matched and *suffix, for a wildcard, the length of its
 * suffix ("example.org" of "*.example.org"), so that the ALPN routes
 * (routes.c) and the tenants can rank matches from several tables.
 */
int
names_match(const struct names *nm, const char *name, size_t len,
    enum names_kind *kind, size_t *suffix)
{
	struct names_suffix	 wild[HOSTNAME_MAX];
	size_t			 n;
	uint32_t		 hash;
	int			 backend;

	*suffix = 0;
	hash = names_suffixes(nm, name, len, wild, &n);
	if ((backend = names_get(nm, &nm->nm_exact, name, len, hash)) != -1) {
		*kind = NAMES_EXACT;
		return backend;
	}
	/* The last candidate is the longest suffix, the best match. */
	while (n-- > 0) {
		backend = names_get(nm, &nm->nm_wild,
		    name + len - wild[n].sf_len, wild[n].sf_len,
		    wild[n].sf_hash);
		if (backend != -1) {
			*kind = NAMES_WILD;
			*suffix = wild[n].sf_len;
			return backend;
		}
	}
	*kind = nm->nm_any != -1 ? NAMES_ANY : NAMES_NONE;
	return nm->nm_any;
}

/*
 * names_lookup - the backend for a normalized host name (see
 * hostname_normalize), or -1 when nothing matches.
 */
int
names_lookup(const struct names *nm, const char *name, size_t len)
{
	enum names_kind	kind;
	size_t		suffix;

	return names_match(nm, name, len, &kind, &suffix);
}

/* names_count - how many patterns the table holds */
size_t
names_count(const struct names *nm)
{
	return nm->nm_exact.nt_count + nm->nm_wild.nt_count +
	    (nm->nm_any != -1);
}

/* names_walk_table - call fn for each pattern of one table */
static int
names_walk_table(const struct names *nm, const struct names_table *t,
    const char *prefix, int (*fn)(void *, const char *, int), void *arg)
{
	char	 pattern[2 + HOSTNAME_MAX + 1];
	size_t	 i, len, plen = strlen(prefix);
	const struct names_slot *s;

	for (i = 0; i <= t->nt_mask; i++) {
		s = &t->nt_slots[i];
		if (s->ns_offset == 0)
			continue;
		len = names_entry_len(nm, s);
		memcpy(pattern, prefix, plen);
		memcpy(pattern + plen, names_entry_name(nm, s), len);
		pattern[plen + len] = '\0';
		if (fn(arg, pattern, names_entry_backend(nm, s)) == -1)
			return -1;
	}
	return 0;
}

/* names_walk - call fn for every pattern; stops at the first -1 */
int
names_walk(const struct names *nm,
    int (*fn)(void *arg, const char *pattern, int backend), void *arg)
{
	if (names_walk_table(nm, &nm->nm_exact, "", fn, arg) == -1 ||
	    names_walk_table(nm, &nm->nm_wild, "*.", fn, arg) == -1)
		return -1;
	if (nm->nm_any != -1)
		return fn(arg, "*", nm->nm_any);
	return 0;
}

/* names_under - whether name is a name under domain: "a.b.c" is under "b.c" */
static int
names_under(const char *name, const char *domain)
{
	size_t	nlen = strlen(name), dlen = strlen(domain);

	return nlen > dlen && name[nlen - dlen - 1] == '.' &&
	    strcmp(name + nlen - dlen, domain) == 0;
}

/*
 * names_overlap - whether some host name matches both patterns (each
 * "name", "*.name" or "*", normalized): "*" overlaps everything, two
 * wildcards when one's domain is the other's or under it, a name and
 * a wildcard when the name is under its domain.
 */
int
names_overlap(const char *a, const char *b)
{
	int	wa = strncmp(a, "*.", 2) == 0, wb = strncmp(b, "*.", 2) == 0;

	if (strcmp(a, "*") == 0 || strcmp(b, "*") == 0)
		return 1;
	if (!wa && !wb)
		return strcmp(a, b) == 0;
	if (wa && wb)
		return strcmp(a + 2, b + 2) == 0 || names_under(a + 2, b + 2) ||
		    names_under(b + 2, a + 2);
	return wa ? names_under(b, a + 2) : names_under(a, b + 2);
}
