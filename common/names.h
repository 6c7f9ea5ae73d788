/*
 * names.h - the route table: server name to backend number.
 *
 * Patterns: an exact name ("example.org"), a wildcard for every name
 * under a domain ("*.example.org", one or more labels), or "*" for every
 * name.  Lookup order: exact, then the wildcard with the longest matching
 * suffix, then "*".  Both tables are hashes: lookup cost does not grow
 * with the number of names.
 */
#ifndef NAMES_H
#define NAMES_H

#include <stddef.h>

struct names;

/* Which kind of pattern names_match found. */
enum names_kind {
	NAMES_NONE,
	NAMES_EXACT,	/* "example.org" */
	NAMES_WILD,	/* "*.example.org" */
	NAMES_ANY,	/* "*" */
};

struct names	*names_new(void);
void		 names_free(struct names *);
int		 names_add(struct names *, const char *pattern, int backend,
		    int *other);
int		 names_lookup(const struct names *, const char *name, size_t len);
int		 names_match(const struct names *, const char *name, size_t len,
		    enum names_kind *kind, size_t *suffix);
int		 names_overlap(const char *a, const char *b);
size_t		 names_count(const struct names *);
int		 names_walk(const struct names *,
		    int (*fn)(void *arg, const char *pattern, int backend),
		    void *arg);

#endif
