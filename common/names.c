/*
 * names.c - the route table: server name to backend number.
 *
 * Built by the master (to check a config) and by each worker (from the
 * worker configuration); read on every connection.  Two open-addressing
 * hash tables share one string arena: exact names, and the suffixes of
 * wildcard patterns ("*.example.org" is stored as "example.org").
 * Lookup walks the name's suffixes from the longest, so the first
 * wildcard hit is the longest matching one; cost is one probe per label,
 * whatever the table size.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostname.h"
#include "names.h"

struct names_slot {
	uint32_t	ns_hash;
	uint32_t	ns_offset;	/* into nm_text */
	uint16_t	ns_len;		/* 0: empty slot */
	int32_t		ns_backend;
};

struct names_table {
	struct names_slot	*nt_slots;
	size_t			 nt_mask;	/* capacity - 1, a power of two */
	size_t			 nt_count;
};

struct names {
	struct names_table	 nm_exact;
	struct names_table	 nm_wild;
	int			 nm_any;	/* backend for "*", or -1 */
	char			*nm_text;
	size_t			 nm_text_len;
	size_t			 nm_text_cap;
};

#define NAMES_INITIAL	64

/* names_hash - FNV-1a, folded; names are short and already lowercase */
static uint32_t
names_hash(const char *s, size_t len)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	while (len-- > 0) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
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

/* names_find - the slot holding name, or the empty slot where it would go */
static struct names_slot *
names_find(const struct names *nm, const struct names_table *t,
    const char *name, size_t len, uint32_t hash)
{
	size_t			 i = hash & t->nt_mask;
	struct names_slot	*s;

	for (;; i = (i + 1) & t->nt_mask) {
		s = &t->nt_slots[i];
		if (s->ns_len == 0)
			return s;
		if (s->ns_hash == hash && s->ns_len == len &&
		    memcmp(nm->nm_text + s->ns_offset, name, len) == 0)
			return s;
	}
}

/* names_grow - double a table that is over half full */
static int
names_grow(struct names *nm, struct names_table *t)
{
	struct names_table	 bigger;
	struct names_slot	*s;
	size_t			 i;

	if (names_table_init(&bigger, (t->nt_mask + 1) * 2) == -1)
		return -1;
	for (i = 0; i <= t->nt_mask; i++) {
		if (t->nt_slots[i].ns_len == 0)
			continue;
		/* An empty name matches no used slot: this finds a free one. */
		s = names_find(nm, &bigger, "", 0, t->nt_slots[i].ns_hash);
		*s = t->nt_slots[i];
	}
	bigger.nt_count = t->nt_count;
	free(t->nt_slots);
	*t = bigger;
	return 0;
}

/* names_store - copy a name into the arena; its offset, or -1 */
static int64_t
names_store(struct names *nm, const char *name, size_t len)
{
	size_t	 cap, offset = nm->nm_text_len;
	char	*text;

	if (nm->nm_text_len + len > nm->nm_text_cap) {
		cap = nm->nm_text_cap ? nm->nm_text_cap * 2 : 4096;
		while (cap < nm->nm_text_len + len)
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
	memcpy(nm->nm_text + offset, name, len);
	nm->nm_text_len += len;
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
	if (s->ns_len != 0) {
		if (other != NULL)
			*other = s->ns_backend;
		errno = EEXIST;
		return -1;
	}
	if ((offset = names_store(nm, name, len)) == -1)
		return -1;
	s->ns_hash = hash;
	s->ns_offset = (uint32_t)offset;
	s->ns_len = (uint16_t)len;
	s->ns_backend = backend;
	if (++t->nt_count * 2 > t->nt_mask + 1)
		return names_grow(nm, t);
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
	return names_insert(nm, t, name, (size_t)len, backend, other);
}

/* names_get - the backend of name in t, or -1 */
static int
names_get(const struct names *nm, const struct names_table *t,
    const char *name, size_t len)
{
	const struct names_slot	*s;

	if (t->nt_count == 0)
		return -1;
	s = names_find(nm, t, name, len, names_hash(name, len));
	return s->ns_len ? s->ns_backend : -1;
}

/*
 * names_lookup - the backend for a normalized host name (see
 * hostname_normalize), or -1 when nothing matches.
 */
int
names_lookup(const struct names *nm, const char *name, size_t len)
{
	const char	*dot;
	int		 backend;

	if ((backend = names_get(nm, &nm->nm_exact, name, len)) != -1)
		return backend;
	while ((dot = memchr(name, '.', len)) != NULL) {
		len -= (size_t)(dot + 1 - name);
		name = dot + 1;
		if ((backend = names_get(nm, &nm->nm_wild, name, len)) != -1)
			return backend;
	}
	return nm->nm_any;
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
	size_t	 i, plen = strlen(prefix);
	const struct names_slot *s;

	for (i = 0; i <= t->nt_mask; i++) {
		s = &t->nt_slots[i];
		if (s->ns_len == 0)
			continue;
		memcpy(pattern, prefix, plen);
		memcpy(pattern + plen, nm->nm_text + s->ns_offset, s->ns_len);
		pattern[plen + s->ns_len] = '\0';
		if (fn(arg, pattern, s->ns_backend) == -1)
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
