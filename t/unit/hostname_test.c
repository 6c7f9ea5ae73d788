/*
 * hostname_test.c - hostname_normalize against a table of names.
 *
 * Each row is a label, the input bytes (NULs included) and the expected
 * normal form, or NULL when the input is not a host name.  Long names are
 * generated from label lengths so that a row says what it measures.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "hostname.h"
#include "tap.h"

/* A string literal and its length, NUL bytes inside included */
#define IN(s)	(const uint8_t *)(s), sizeof(s) - 1

struct name_case {
	const char	*nc_label;
	const uint8_t	*nc_in;
	size_t		 nc_len;
	const char	*nc_out;	/* expected result; NULL: refused */
};

static const struct name_case name_cases[] = {
	/* accepted */
	{ "plain name", IN("example.org"), "example.org" },
	{ "mixed case and trailing dot", IN("Example.ORG."), "example.org" },
	{ "all uppercase", IN("WWW.EXAMPLE.ORG"), "www.example.org" },
	{ "single label", IN("localhost"), "localhost" },
	{ "single letter", IN("a"), "a" },
	{ "single letter, trailing dot", IN("a."), "a" },
	{ "A-label", IN("xn--bcher-kva.example"), "xn--bcher-kva.example" },
	{ "all-digit first label", IN("123.example"), "123.example" },
	{ "digits then letters in last label", IN("1.2.3.4a"), "1.2.3.4a" },
	{ "hyphen inside", IN("a-b.c-d"), "a-b.c-d" },
	{ "double hyphen inside", IN("a--b.example"), "a--b.example" },
	{ "digit-led labels", IN("0a.9b"), "0a.9b" },
	{ "many labels", IN("a.b.c.d.e.f.g"), "a.b.c.d.e.f.g" },

	/* refused */
	{ "empty", IN(""), NULL },
	{ "root dot", IN("."), NULL },
	{ "two dots", IN(".."), NULL },
	{ "empty label inside", IN("a..b"), NULL },
	{ "leading dot", IN(".a"), NULL },
	{ "two trailing dots", IN("a.."), NULL },
	{ "leading hyphen", IN("-a.b"), NULL },
	{ "trailing hyphen", IN("a-.b"), NULL },
	{ "leading hyphen, last label", IN("a.-b"), NULL },
	{ "trailing hyphen, last label", IN("a.b-"), NULL },
	{ "lone hyphen", IN("-"), NULL },
	{ "IPv4 literal", IN("1.2.3.4"), NULL },
	{ "IPv4 literal, trailing dot", IN("1.2.3.4."), NULL },
	{ "all-digit last label", IN("example.123"), NULL },
	{ "all-digit single label", IN("123"), NULL },
	{ "all ten digits in last label", IN("a.1234567890"), NULL },
	{ "private IPv4 literal", IN("10.0.0.9"), NULL },
	{ "IPv6 literal", IN("::1"), NULL },
	{ "bracketed IPv6 literal", IN("[::1]"), NULL },
	{ "underscore", IN("a_b.c"), NULL },
	{ "NUL inside", IN("a\0b"), NULL },
	{ "NUL at the end", IN("example.org\0"), NULL },
	{ "space", IN("a b.c"), NULL },
	{ "wildcard", IN("*"), NULL },
	{ "wildcard pattern", IN("*.example.org"), NULL },
	{ "star inside", IN("ex*ample.org"), NULL },
	{ "UTF-8 U-label", IN("b\xc3\xbc" "cher.example"), NULL },
	{ "high byte", IN("a\x80.b"), NULL },
	{ "slash", IN("a/b.c"), NULL },
	{ "port", IN("example.org:443"), NULL },
	{ "newline", IN("example.org\n"), NULL },
	{ "DEL", IN("a\x7f.b"), NULL },
	{ "percent escape", IN("a%2eb"), NULL },
};

/* Long names: label lengths, joined by dots */
struct long_case {
	const char	*lc_label;
	size_t		 lc_labels[5];	/* 0 ends the list */
	int		 lc_dot;	/* add a trailing dot */
	int		 lc_ok;
};

static const struct long_case long_cases[] = {
	{ "63-byte label", { 63, 7 }, 0, 1 },
	{ "64-byte label", { 64, 7 }, 0, 0 },
	{ "64-byte last label", { 7, 64 }, 0, 0 },
	{ "63-byte single label", { 63 }, 0, 1 },
	{ "253-byte name", { 63, 63, 63, 61 }, 0, 1 },
	{ "253-byte name and a trailing dot", { 63, 63, 63, 61 }, 1, 1 },
	{ "254-byte name", { 63, 63, 63, 62 }, 0, 0 },
	{ "254-byte name and a trailing dot", { 63, 63, 63, 62 }, 1, 0 },
};

/* long_name - labels of the given lengths ('a', 'b', ...), joined by dots */
static size_t
long_name(const struct long_case *lc, uint8_t *buf)
{
	size_t	 n = 0, i;

	for (i = 0; i < 5 && lc->lc_labels[i] != 0; i++) {
		if (i > 0)
			buf[n++] = '.';
		memset(buf + n, 'a' + i, lc->lc_labels[i]);
		n += lc->lc_labels[i];
	}
	if (lc->lc_dot)
		buf[n++] = '.';
	return n;
}

/* check_name - one input against its expected form (NULL: refused) */
static void
check_name(const char *label, const uint8_t *in, size_t len, const char *want)
{
	char	 out[HOSTNAME_MAX + 1];
	ssize_t	 n;
	int	 ok;

	memset(out, 'x', sizeof(out));
	errno = 0;
	n = hostname_normalize(in, len, out);
	if (want == NULL) {
		TAP_OK(n == -1 && out[0] == '\0' && errno == EINVAL,
		    "%s: refused", label);
		return;
	}
	ok = n == (ssize_t)strlen(want) && memcmp(out, want, n + 1) == 0;
	TAP_OK(ok, "%s: %zu bytes \"%.24s%s\"", label, strlen(want), want,
	    strlen(want) > 24 ? "..." : "");
	if (!ok)
		printf("#   got %zd \"%.*s\"\n", n, n > 0 ? (int)n : 0, out);
}

/* test_idempotent - a normal form normalizes to itself */
static void
test_idempotent(void)
{
	char	 out[HOSTNAME_MAX + 1], again[HOSTNAME_MAX + 1];
	size_t	 i, bad = 0;
	ssize_t	 n;

	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		if (name_cases[i].nc_out == NULL)
			continue;
		n = hostname_normalize(name_cases[i].nc_in,
		    name_cases[i].nc_len, out);
		if (n == -1 || hostname_normalize((const uint8_t *)out, n,
		    again) != n || strcmp(out, again) != 0)
			bad++;
	}
	TAP_OK(bad == 0, "normal forms are fixed points (%zu not)", bad);
}

/* test_every_byte - exactly [A-Za-z0-9-] pass inside a label, and '.' */
static void
test_every_byte(void)
{
	char	 out[HOSTNAME_MAX + 1];
	uint8_t	 in[3];
	int	 c, ok, wrong = 0;

	for (c = 0; c < 256; c++) {
		/* "x<c>y": c inside a label, away from the hyphen rules */
		in[0] = 'x';
		in[1] = c;
		in[2] = 'y';
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.';
		if ((hostname_normalize(in, 3, out) == 3) != ok)
			wrong++;
	}
	TAP_OK(wrong == 0, "every byte inside a label (%d judged wrong)",
	    wrong);
}

/* main - the table, the long names, then the properties */
int
main(void)
{
	uint8_t	 buf[512];
	char	 want[512];
	size_t	 i, n;

	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++)
		check_name(name_cases[i].nc_label, name_cases[i].nc_in,
		    name_cases[i].nc_len, name_cases[i].nc_out);
	for (i = 0; i < sizeof(long_cases) / sizeof(long_cases[0]); i++) {
		n = long_name(&long_cases[i], buf);
		memcpy(want, buf, n);
		want[n - (long_cases[i].lc_dot ? 1 : 0)] = '\0';
		check_name(long_cases[i].lc_label, buf, n,
		    long_cases[i].lc_ok ? want : NULL);
	}
	test_idempotent();
	test_every_byte();
	return TAP_DONE();
}
