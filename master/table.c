/*
 * table.c - `snitch -T`: the effective routing table, in precedence order.
 *
 * Runs in the master, before anything is bound, on a configuration that
 * conf_load accepted.  One row per route, one route per line:
 *
 *	KIND     PATTERN          ALPN             -> BACKEND
 *	exact    www.example.org  alpn=acme-tls/1  -> acme
 *	exact    www.example.org  -                -> web
 *	wildcard *.example.org    -                -> web
 *	default  -                -                -> fallback
 *
 * five whitespace-separated fields, "-" where one does not apply, the
 * rows in the order routes_lookup ranks them (routes.h): exact names
 * with ALPN, exact names, wildcards with ALPN, wildcards (longest suffix
 * first), a tenant's sockets for her names (exact, then wildcards),
 * "*" with ALPN, "*", the default, then the backends of clients that
 * send no hello: non_tls, silent, and acme_http's (an HTTP client's
 * ACME challenge, whatever its name).  A tenant's row names her as
 * "tenant:NAME", the way logs and counters do.  Rows of one rank are
 * sorted by pattern, then protocol (their real tie-break, the client's
 * order of protocols, is per connection).  The rows come level by
 * level from routes_levels (routes.h), the ranking the workers use, so
 * a new level shows here without a change to this file unless it has a
 * new source of routes.  Patterns are stored normalized: the table shows them lowercase
 * without a trailing dot, as they are matched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

/*
 * One route of the configuration; tr_protocol NULL for a plain one.
 * A tenant's pattern has tr_tenant set, and tr_backend is her index.
 */
struct table_row {
	char		*tr_pattern;
	const char	*tr_protocol;
	int		 tr_backend;
	int		 tr_tenant;
};

struct table {
	const struct wconf	*tb_wconf;
	struct table_row	*tb_rows;
	size_t			 tb_nrows;
	size_t			 tb_cap;
	int			 tb_width_pattern;
	int			 tb_width_alpn;
	FILE			*tb_out;
};

/* table_add - note one route; -1 when memory ran out */
static int
table_add(struct table *tb, const char *protocol, const char *pattern,
    int backend)
{
	struct table_row	*grown;
	size_t			 cap;
	int			 w;

	if (tb->tb_nrows == tb->tb_cap) {
		cap = tb->tb_cap ? tb->tb_cap * 2 : 64;
		if ((grown = reallocarray(tb->tb_rows, cap,
		    sizeof(*grown))) == NULL)
			return -1;
		tb->tb_rows = grown;
		tb->tb_cap = cap;
	}
	if ((tb->tb_rows[tb->tb_nrows].tr_pattern = strdup(pattern)) == NULL)
		return -1;
	tb->tb_rows[tb->tb_nrows].tr_protocol = protocol;
	tb->tb_rows[tb->tb_nrows].tr_tenant = 0;
	tb->tb_rows[tb->tb_nrows++].tr_backend = backend;
	if ((w = (int)strlen(pattern)) > tb->tb_width_pattern)
		tb->tb_width_pattern = w;
	if (protocol != NULL &&
	    (w = (int)strlen(protocol) + 5) > tb->tb_width_alpn)
		tb->tb_width_alpn = w;
	return 0;
}

/* table_add_plain - names_walk callback: a route without ALPN */
static int
table_add_plain(void *arg, const char *pattern, int backend)
{
	return table_add(arg, NULL, pattern, backend);
}

/* table_add_tenant - names_walk callback: a tenant's pattern */
static int
table_add_tenant(void *arg, const char *pattern, int tenant)
{
	struct table	*tb = arg;

	if (table_add(tb, NULL, pattern, tenant) == -1)
		return -1;
	tb->tb_rows[tb->tb_nrows - 1].tr_tenant = 1;
	return 0;
}

/* table_add_alpn - routes_walk callback: an ALPN route */
static int
table_add_alpn(void *arg, const char *protocol, const char *pattern,
    int backend)
{
	return table_add(arg, protocol, pattern, backend);
}

/* table_suffix_len - the length a wildcard ranks by; 0 for other patterns */
static size_t
table_suffix_len(const char *pattern)
{
	return strncmp(pattern, "*.", 2) == 0 ? strlen(pattern) - 2 : 0;
}

/* table_compare - qsort: longest wildcard suffix, pattern, protocol */
static int
table_compare(const void *a, const void *b)
{
	const struct table_row	*x = a, *y = b;
	size_t			 lx = table_suffix_len(x->tr_pattern);
	size_t			 ly = table_suffix_len(y->tr_pattern);
	int			 c;

	if (lx != ly)
		return lx > ly ? -1 : 1;
	if ((c = strcmp(x->tr_pattern, y->tr_pattern)) != 0)
		return c;
	if (x->tr_protocol == NULL || y->tr_protocol == NULL)
		return (x->tr_protocol == NULL) - (y->tr_protocol == NULL);
	return strcmp(x->tr_protocol, y->tr_protocol);
}

/* table_row - print one row: kind, pattern, protocol, backend (-1: "-") */
static void
table_row(const struct table *tb, const char *kind, const char *pattern,
    const char *protocol, const char *backend)
{
	char	alpn[8 + ROUTES_PROTOCOL_MAX] = "-";

	if (protocol != NULL)
		snprintf(alpn, sizeof(alpn), "alpn=%s", protocol);
	fprintf(tb->tb_out, "%-8s %-*s %-*s -> %s\n", kind,
	    tb->tb_width_pattern, pattern, tb->tb_width_alpn, alpn, backend);
}

/* table_backend - the name of backend b */
static const char *
table_backend(const struct table *tb, int b)
{
	return tb->tb_wconf->wc_backends[b].wb_name;
}

/* table_is - whether a row's pattern is of kind (NAMES_NONE: exact) */
static int
table_is(const struct table_row *r, enum names_kind kind)
{
	switch (kind) {
	case NAMES_WILD:
		return r->tr_pattern[0] == '*' && r->tr_pattern[1] == '.';
	case NAMES_ANY:
		return strcmp(r->tr_pattern, "*") == 0;
	default:
		return r->tr_pattern[0] != '*';
	}
}

/* table_rows - print the backends' rows of one kind, with or without ALPN */
static void
table_rows(const struct table *tb, const char *label, int alpn,
    enum names_kind kind)
{
	size_t	i;

	for (i = 0; i < tb->tb_nrows; i++)
		if (!tb->tb_rows[i].tr_tenant &&
		    (tb->tb_rows[i].tr_protocol != NULL) == alpn &&
		    table_is(&tb->tb_rows[i], kind))
			table_row(tb, label, tb->tb_rows[i].tr_pattern,
			    tb->tb_rows[i].tr_protocol,
			    table_backend(tb, tb->tb_rows[i].tr_backend));
}

/* table_tenant_rows - print the tenants' patterns of one kind */
static void
table_tenant_rows(const struct table *tb, const char *label,
    enum names_kind kind)
{
	const struct table_row	*r;
	char			 name[sizeof(WCONF_TENANT_PREFIX) +
				    WCONF_TENANT_NAME_MAX];
	size_t			 i;

	for (i = 0; i < tb->tb_nrows; i++) {
		r = &tb->tb_rows[i];
		if (!r->tr_tenant || !table_is(r, kind))
			continue;
		snprintf(name, sizeof(name), "%s%s", WCONF_TENANT_PREFIX,
		    tb->tb_wconf->wc_tenants[r->tr_backend].wt_name);
		table_row(tb, label, r->tr_pattern, NULL, name);
	}
}

/* table_extra - a backend for clients without a hello, when configured */
static void
table_extra(const struct table *tb, const char *label, int b)
{
	if (b != -1)
		table_row(tb, label, "-", NULL, table_backend(tb, b));
}

/*
 * table_level - print the rows of one level of routes_levels, the one
 * ranking the workers decide by
 */
static void
table_level(const struct table *tb, const struct routes_level_info *rl)
{
	switch (rl->rl_source) {
	case ROUTES_BY_ALPN:
	case ROUTES_BY_NAME:
		table_rows(tb, rl->rl_label, rl->rl_source == ROUTES_BY_ALPN,
		    rl->rl_kind);
		break;
	case ROUTES_BY_TENANT:
		/* A tenant has no "*" (conf.c): names, then wildcards. */
		table_tenant_rows(tb, rl->rl_label, NAMES_EXACT);
		table_tenant_rows(tb, rl->rl_label, NAMES_WILD);
		break;
	case ROUTES_BY_DEFAULT:
		table_extra(tb, rl->rl_label, tb->tb_wconf->wc_default);
		break;
	}
}

/* table_print - print cf's routing table to out; 0, or -1 (no memory) */
int
table_print(const struct conf *cf, FILE *out)
{
	struct table	 tb;
	size_t		 i;
	int		 rc = -1;

	memset(&tb, 0, sizeof(tb));
	tb.tb_wconf = &cf->cf_wconf;
	tb.tb_out = out;
	tb.tb_width_pattern = 1;
	tb.tb_width_alpn = 1;
	if (names_walk(cf->cf_wconf.wc_names, table_add_plain, &tb) == -1 ||
	    names_walk(cf->cf_wconf.wc_tenant_names, table_add_tenant,
	    &tb) == -1 ||
	    routes_walk(cf->cf_wconf.wc_routes, table_add_alpn, &tb) == -1)
		goto out;
	if (tb.tb_nrows > 0)
		qsort(tb.tb_rows, tb.tb_nrows, sizeof(*tb.tb_rows),
		    table_compare);
	for (i = 0; i < ROUTES_NLEVELS; i++)
		table_level(&tb, &routes_levels[i]);
	/* Not levels of the ranking: clients that send no hello. */
	table_extra(&tb, "non_tls", tb.tb_wconf->wc_non_tls);
	table_extra(&tb, "silent", tb.tb_wconf->wc_silent);
	/* HTTP clients' ACME challenges, before any name (worker/http.c). */
	table_extra(&tb, "acme_http", tb.tb_wconf->wc_acme_http);
	rc = 0;
out:
	for (i = 0; i < tb.tb_nrows; i++)
		free(tb.tb_rows[i].tr_pattern);
	free(tb.tb_rows);
	return rc;
}
