/*
 * routes_test.c - the routing decision with ALPN routes: a row for every
 * level of the precedence order and for each tie, the fall-through when
 * the offered protocol has no route for the name, names that are not
 * host names, the bound on offered protocols examined, ALPN lists that
 * a client got wrong, and the refusals of routes_add.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "routes.h"
#include "tap.h"

enum {
	ACME,		/* alpn acme-tls/1: www.example.org *.example.org * */
	WEB,		/* www.example.org *.example.org *.deep.example.org */
	H2ONLY,		/* alpn h2: www.example.org *.deep.example.org */
	ANY,		/* * */
	DEFAULT,
	XMPP,		/* alpn xmpp-client: *.example.org */
	P2,		/* alpn p2: * */
};

/* A row: name (NULL: none, "!": not a host name), offer, the verdict. */
struct routes_row {
	const char	*label;
	const char	*name;
	const char	*alpn;		/* comma separated; NULL: no extension */
	int		 backend;
	const char	*protocol;	/* of the ALPN route taken; NULL: none */
};

static const struct routes_row routes_rows[] = {
	{ "1 exact name with ALPN", "www.example.org", "acme-tls/1", ACME,
	    "acme-tls/1" },
	{ "1 among other protocols", "www.example.org", "h3,acme-tls/1,x",
	    ACME, "acme-tls/1" },
	{ "1 tie: first offered wins (h2)", "www.example.org", "h2,acme-tls/1",
	    H2ONLY, "h2" },
	{ "1 tie: first offered wins (acme)", "www.example.org",
	    "acme-tls/1,h2", ACME, "acme-tls/1" },
	{ "2 exact name, no ALPN", "www.example.org", NULL, WEB, NULL },
	{ "2 exact name, protocol without routes", "www.example.org",
	    "http/1.1", WEB, NULL },
	{ "2 exact name beats a wildcard with ALPN", "www.example.org",
	    "xmpp-client", WEB, NULL },
	{ "3 wildcard with ALPN", "a.example.org", "acme-tls/1", ACME,
	    "acme-tls/1" },
	{ "3 beats a longer plain wildcard", "x.deep.example.org",
	    "acme-tls/1", ACME, "acme-tls/1" },
	{ "3 longest suffix over the client's order", "x.deep.example.org",
	    "acme-tls/1,h2", H2ONLY, "h2" },
	{ "3 tie on suffix: first offered wins (xmpp)", "a.example.org",
	    "xmpp-client,acme-tls/1", XMPP, "xmpp-client" },
	{ "3 tie on suffix: first offered wins (acme)", "a.example.org",
	    "acme-tls/1,xmpp-client", ACME, "acme-tls/1" },
	{ "3 several labels", "a.b.c.example.org", "xmpp-client", XMPP,
	    "xmpp-client" },
	{ "4 wildcard, protocol routed elsewhere only", "a.example.org", "h2",
	    WEB, NULL },
	{ "4 wildcard, no ALPN", "a.example.org", NULL, WEB, NULL },
	{ "4 longest plain suffix", "x.deep.example.org", "http/1.1", WEB,
	    NULL },
	{ "5 * with ALPN", "other.net", "acme-tls/1", ACME, "acme-tls/1" },
	{ "5 beats a wildcard-with-ALPN miss", "other.net",
	    "xmpp-client,acme-tls/1", ACME, "acme-tls/1" },
	{ "5 tie: first offered wins (p2)", "other.net", "p2,acme-tls/1", P2,
	    "p2" },
	{ "5 tie: first offered wins (acme)", "other.net", "acme-tls/1,p2",
	    ACME, "acme-tls/1" },
	{ "6 *, protocol without * route", "other.net", "h2", ANY, NULL },
	{ "6 *, no ALPN", "other.net", NULL, ANY, NULL },
	{ "6 bare domain of a wildcard with ALPN", "example.org",
	    "xmpp-client", ANY, NULL },
	{ "7 no name: default, whatever is offered", NULL, "acme-tls/1",
	    DEFAULT, NULL },
	{ "7 not a host name: default", "!", "p2", DEFAULT, NULL },
	{ "protocols compare exactly: no case folding", "other.net",
	    "ACME-TLS/1", ANY, NULL },
	{ "a prefix of a protocol is not it", "other.net", "acme-tls", ANY,
	    NULL },
	{ "16th offered protocol is examined", "other.net",
	    "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,acme-tls/1", ACME, "acme-tls/1" },
	{ "17th offered protocol is not", "other.net",
	    "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,acme-tls/1", ANY, NULL },
};

/* alpn_body - a ProtocolNameList body from a comma separated list */
static size_t
alpn_body(const char *list, uint8_t *out, size_t size)
{
	size_t		 n = 0, len;
	const char	*p = list, *comma;

	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (n + 1 + len > size)
			return 0;
		out[n++] = (uint8_t)len;
		memcpy(out + n, p, len);
		n += len;
		if (comma == NULL)
			return n;
		p = comma + 1;
	}
}

/* add - routes_add that must work */
static void
add(struct routes *rt, const char *protocol, const char *pattern, int b)
{
	TAP_OK(routes_add(rt, protocol, pattern, b, NULL) == 0,
	    "add %s %s -> %d", protocol, pattern, b);
}

/* tables - the configuration the rows are checked against */
static void
tables(struct names *nm, struct routes *rt)
{
	add(rt, "acme-tls/1", "www.example.org", ACME);
	add(rt, "acme-tls/1", "*.example.org", ACME);
	add(rt, "acme-tls/1", "*", ACME);
	add(rt, "h2", "www.example.org", H2ONLY);
	add(rt, "h2", "*.deep.example.org", H2ONLY);
	add(rt, "xmpp-client", "*.example.org", XMPP);
	add(rt, "p2", "*", P2);
	names_add(nm, "www.example.org", WEB, NULL);
	names_add(nm, "*.example.org", WEB, NULL);
	names_add(nm, "*.deep.example.org", WEB, NULL);
	names_add(nm, "*", ANY, NULL);
}

/* lookup - routes_lookup for a row's name and offer */
static int
lookup(const struct names *nm, const struct routes *rt, int deflt,
    const char *name, const char *alpn, int *protocol)
{
	uint8_t		body[512];
	size_t		blen = 0;
	ssize_t		len = -1;

	if (name != NULL && strcmp(name, "!") != 0)
		len = (ssize_t)strlen(name);
	if (alpn != NULL)
		blen = alpn_body(alpn, body, sizeof(body));
	return routes_lookup(nm, rt, deflt, name ? name : "", len,
	    alpn ? body : NULL, blen, protocol);
}

/* test_rows - every level and tie of the precedence order */
static void
test_rows(void)
{
	struct names	*nm = names_new();
	struct routes	*rt = routes_new();
	const char	*got_protocol;
	size_t		 i;
	int		 got, protocol;

	tables(nm, rt);
	TAP_OK(routes_count(rt) == 7, "7 ALPN routes (got %zu)",
	    routes_count(rt));
	for (i = 0; i < sizeof(routes_rows) / sizeof(routes_rows[0]); i++) {
		const struct routes_row *r = &routes_rows[i];

		got = lookup(nm, rt, DEFAULT, r->name, r->alpn, &protocol);
		got_protocol = routes_protocol(rt, protocol);
		TAP_OK(got == r->backend && (r->protocol == NULL ?
		    got_protocol == NULL : got_protocol != NULL &&
		    strcmp(got_protocol, r->protocol) == 0),
		    "%s: %s [%s] -> %d %s (got %d %s)", r->label,
		    r->name ? r->name : "(none)", r->alpn ? r->alpn : "",
		    r->backend, r->protocol ? r->protocol : "-", got,
		    got_protocol ? got_protocol : "-");
	}
	routes_free(rt);
	names_free(nm);
}

/* test_without - no "*", no default; no ALPN routes at all */
static void
test_without(void)
{
	struct names	*nm = names_new();
	struct routes	*rt = routes_new();
	int		 protocol;

	add(rt, "acme-tls/1", "www.example.org", ACME);
	names_add(nm, "www.example.org", WEB, NULL);
	TAP_OK(lookup(nm, rt, DEFAULT, "other.net", "acme-tls/1",
	    &protocol) == DEFAULT && protocol == -1,
	    "no *: an unknown name goes to the default");
	TAP_OK(lookup(nm, rt, -1, "other.net", "acme-tls/1", &protocol) == -1,
	    "no * and no default: no route");
	TAP_OK(lookup(nm, NULL, -1, "www.example.org", "acme-tls/1",
	    &protocol) == WEB && protocol == -1,
	    "no ALPN tables: the name table alone");
	TAP_OK(lookup(nm, NULL, DEFAULT, NULL, NULL, &protocol) == DEFAULT,
	    "no ALPN tables, no name: the default");
	routes_free(rt);
	names_free(nm);
}

/* test_bad_lists - ProtocolNameLists a client got wrong are walked safely */
static void
test_bad_lists(void)
{
	static const struct {
		const char	*label;
		const char	*bytes;
		size_t		 len;
		int		 backend;
	} rows[] = {
		{ "a length past the end", "\x0a" "acme-tls", 9, ANY },
		{ "a length past the end after a match", "\x0a" "acme-tls/1"
		    "\x05" "ab", 14, ACME },
		{ "an empty name first", "\x00\x0a" "acme-tls/1", 12, ANY },
		{ "an empty list", "", 0, ANY },
		{ "a lone length byte", "\x0a", 1, ANY },
	};
	struct names	*nm = names_new();
	struct routes	*rt = routes_new();
	size_t		 i;
	int		 protocol, got;

	add(rt, "acme-tls/1", "*", ACME);
	names_add(nm, "*", ANY, NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		got = routes_lookup(nm, rt, DEFAULT, "other.net", 9,
		    (const uint8_t *)rows[i].bytes, rows[i].len, &protocol);
		TAP_OK(got == rows[i].backend, "bad list, %s: -> %d (got %d)",
		    rows[i].label, rows[i].backend, got);
	}
	routes_free(rt);
	names_free(nm);
}

/* count_route - routes_walk callback counting the pairs */
static int
count_route(void *arg, const char *protocol, const char *pattern, int b)
{
	(void)protocol;
	(void)pattern;
	(void)b;
	(*(int *)arg)++;
	return 0;
}

/* test_add_errors - what routes_add refuses, and why */
static void
test_add_errors(void)
{
	struct routes	*rt = routes_new();
	char		 long_protocol[ROUTES_PROTOCOL_MAX + 2], name[16];
	int		 other = -9, i, n = 0;

	memset(long_protocol, 'a', sizeof(long_protocol) - 1);
	long_protocol[sizeof(long_protocol) - 1] = '\0';
	TAP_OK(routes_add(rt, "", "a.test", 1, NULL) == -1 && errno == EINVAL,
	    "empty protocol");
	TAP_OK(routes_add(rt, "a b", "a.test", 1, NULL) == -1 &&
	    errno == EINVAL, "protocol with a space");
	TAP_OK(routes_add(rt, "h\x01", "a.test", 1, NULL) == -1 &&
	    errno == EINVAL, "protocol with a control byte");
	TAP_OK(routes_add(rt, "caf\xc3\xa9", "a.test", 1, NULL) == -1 &&
	    errno == EINVAL, "protocol with UTF-8");
	TAP_OK(routes_add(rt, long_protocol, "a.test", 1, NULL) == -1 &&
	    errno == EINVAL, "protocol of 256 bytes");
	long_protocol[ROUTES_PROTOCOL_MAX] = '\0';
	TAP_OK(routes_add(rt, long_protocol, "a.test", 1, NULL) == 0,
	    "protocol of 255 bytes");
	TAP_OK(routes_add(rt, "h2", "bad_name!", 1, NULL) == -1 &&
	    errno == EINVAL, "not a pattern");
	TAP_OK(routes_add(rt, "h2", "a.test", 1, NULL) == 0 &&
	    routes_add(rt, "h2", "A.TEST.", 2, &other) == -1 &&
	    errno == EEXIST && other == 1, "a (protocol, pattern) pair twice");
	TAP_OK(routes_add(rt, "h3", "a.test", 2, NULL) == 0,
	    "the same pattern for another protocol");
	for (i = 3; i < ROUTES_PROTOCOLS_MAX; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		if (routes_add(rt, name, "*", 1, NULL) == -1)
			break;
	}
	TAP_OK(i == ROUTES_PROTOCOLS_MAX, "%d protocols fit",
	    ROUTES_PROTOCOLS_MAX);
	TAP_OK(routes_add(rt, "one-too-many", "*", 1, NULL) == -1 &&
	    errno == ENOSPC, "protocol %d is refused", ROUTES_PROTOCOLS_MAX + 1);
	TAP_OK(routes_add(rt, "h2", "b.test", 1, NULL) == 0,
	    "a known protocol still takes patterns");
	TAP_OK(routes_walk(rt, count_route, &n) == 0 &&
	    (size_t)n == routes_count(rt) && n == ROUTES_PROTOCOLS_MAX + 1,
	    "routes_walk sees every pair (%d)", n);
	routes_free(rt);
}

#define TENANT_CHANNEL	100	/* what the fake tenant level returns */

/* tenant_fake - a tenant level: one name served, one with no room */
static int
tenant_fake(void *arg, const char *name, size_t len)
{
	(*(int *)arg)++;
	if (len == 12 && memcmp(name, "t.tenant.org", len) == 0)
		return TENANT_CHANNEL;
	if (len == 15 && memcmp(name, "full.tenant.org", len) == 0)
		return ROUTES_FULL;
	return ROUTES_NONE;
}

/* A row of the tenant level: name, offer, backend, level, asked it. */
struct tenant_row {
	const char		*label;
	const char		*name;
	const char		*alpn;
	int			 backend;
	enum routes_level	 level;
	int			 asked;
};

static const struct tenant_row tenant_rows[] = {
	{ "exact name before the tenant level", "www.example.org", NULL, WEB,
	    ROUTES_EXACT, 0 },
	{ "wildcard with ALPN before it", "a.example.org", "xmpp-client",
	    XMPP, ROUTES_WILD_ALPN, 0 },
	{ "wildcard before it", "a.example.org", NULL, WEB, ROUTES_WILD, 0 },
	{ "tenant before * with ALPN", "t.tenant.org", "acme-tls/1",
	    TENANT_CHANNEL, ROUTES_TENANT, 1 },
	{ "tenant before *", "t.tenant.org", NULL, TENANT_CHANNEL,
	    ROUTES_TENANT, 1 },
	{ "a tenant level without room ends the lookup", "full.tenant.org",
	    NULL, ROUTES_FULL, ROUTES_TENANT, 1 },
	{ "the tenant has no socket: * with ALPN", "x.tenant.org",
	    "acme-tls/1", ACME, ROUTES_ANY_ALPN, 1 },
	{ "the tenant has no socket: *", "x.tenant.org", NULL, ANY,
	    ROUTES_ANY, 1 },
	{ "no name: default, tenant level not asked", NULL, NULL, DEFAULT,
	    ROUTES_DEFAULT, 0 },
};

/* test_tenant_level - the caller's level sits between wildcards and "*" */
static void
test_tenant_level(void)
{
	struct names		*nm = names_new();
	struct routes		*rt = routes_new();
	struct routes_tenants	 tenants = { tenant_fake, NULL };
	enum routes_level	 level;
	uint8_t			 alpn[512];
	size_t			 i, alen;
	int			 asked, protocol, got;

	tables(nm, rt);
	tenants.rt_arg = &asked;
	for (i = 0; i < sizeof(tenant_rows) / sizeof(tenant_rows[0]); i++) {
		const struct tenant_row *r = &tenant_rows[i];

		asked = 0;
		alen = r->alpn ? alpn_body(r->alpn, alpn, sizeof(alpn)) : 0;
		got = routes_rank(nm, rt, &tenants, DEFAULT,
		    r->name ? r->name : "", r->name ? (ssize_t)strlen(r->name) :
		    0, r->alpn ? alpn : NULL, alen, &protocol, &level);
		TAP_OK(got == r->backend && level == r->level &&
		    asked == r->asked && (level != ROUTES_TENANT ||
		    protocol == -1), "tenant level: %s (got %d, level %d, "
		    "asked %d)", r->label, got, (int)level, asked);
	}
	TAP_OK(routes_levels[ROUTES_TENANT].rl_source == ROUTES_BY_TENANT &&
	    strcmp(routes_levels[ROUTES_TENANT].rl_label, "tenant") == 0 &&
	    routes_levels[ROUTES_DEFAULT].rl_source == ROUTES_BY_DEFAULT,
	    "routes_levels: the tenant level and the default are rows");
	names_free(nm);
	routes_free(rt);
}

int
main(void)
{
	test_rows();
	test_tenant_level();
	test_without();
	test_bad_lists();
	test_add_errors();
	return TAP_DONE();
}
