/*
 * netblock_test.c - netblock_of, _equal and _text against a table of
 * addresses and prefix lengths, and the hash's use of its key.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "netblock.h"
#include "tap.h"
#include "text_sockaddr.h"

struct block_case {
	const char	*bc_addr;
	unsigned	 bc_v4, bc_v6;
	const char	*bc_text;	/* netblock_text of the result */
};

static const struct block_case block_cases[] = {
	{ "192.0.2.77", 32, 64, "192.0.2.77/32" },
	{ "192.0.2.77", 24, 64, "192.0.2.0/24" },
	{ "192.0.2.77", 25, 64, "192.0.2.0/25" },
	{ "192.0.2.200", 25, 64, "192.0.2.128/25" },
	{ "192.0.2.77", 1, 64, "128.0.0.0/1" },
	{ "10.1.2.3", 1, 64, "0.0.0.0/1" },
	{ "192.0.2.77", 33, 64, "192.0.2.77/32" },	/* clamped */
	{ "2001:db8:1:2:3:4:5:6", 32, 64, "2001:db8:1:2::/64" },
	{ "2001:db8:1:2:3:4:5:6", 32, 128, "2001:db8:1:2:3:4:5:6/128" },
	{ "2001:db8:1:2:3:4:5:6", 32, 48, "2001:db8:1::/48" },
	{ "2001:db8:1:ffff::1", 32, 57, "2001:db8:1:ff80::/57" },
	{ "::1", 32, 64, "::/64" },
	{ "::ffff:192.0.2.77", 24, 64, "192.0.2.0/24" },	/* mapped */
	{ "::ffff:192.0.2.77", 32, 64, "192.0.2.77/32" },
};

/* block_of - the netblock of text */
static struct netblock
block_of(const char *text, unsigned v4, unsigned v6)
{
	struct sockaddr_storage	ss;
	struct netblock		nb;

	text_sockaddr(text, &ss);
	netblock_of((struct sockaddr *)&ss, v4, v6, &nb);
	return nb;
}

/* The CIDR blocks of proxy_from: text, 1 when it parses, its text back */
static const struct {
	const char	*text;
	int		 ok;
	const char	*back;
} parse_rows[] = {
	{ "10.0.0.0/8", 1, "10.0.0.0/8" },
	{ "127.0.0.1", 1, "127.0.0.1/32" },
	{ "0.0.0.0/0", 1, "0.0.0.0/0" },
	{ "2001:db8::/32", 1, "2001:db8::/32" },
	{ "::1", 1, "::1/128" },
	{ "::ffff:192.0.2.0/120", 1, "192.0.2.0/24" },
	{ "::ffff:0:0/96", 1, "0.0.0.0/0" },
	{ "10.0.0.1/8", 0, NULL },		/* bits past the prefix */
	{ "10.0.0.0/33", 0, NULL },
	{ "::/129", 0, NULL },
	{ "10.0.0.0/", 0, NULL },
	{ "10.0.0.0/08", 0, NULL },
	{ "10.0.0.0/8x", 0, NULL },
	{ "/8", 0, NULL },
	{ "example.org/8", 0, NULL },
	{ "", 0, NULL },
};

/* test_parse - netblock_parse from the table; netblock_contains */
static void
test_parse(void)
{
	struct sockaddr_storage	ss;
	struct netblock		nb;
	char			buf[NETBLOCK_TEXT_MAX];
	size_t			i;
	int			ok;

	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		ok = netblock_parse(parse_rows[i].text, &nb) == 0;
		TAP_OK(ok == parse_rows[i].ok && (!ok || strcmp(netblock_text(
		    &nb, buf, sizeof(buf)), parse_rows[i].back) == 0),
		    "parse '%s'", parse_rows[i].text);
	}
	(void)netblock_parse("192.0.2.0/24", &nb);
	text_sockaddr("192.0.2.200", &ss);
	TAP_OK(netblock_contains(&nb, (struct sockaddr *)&ss), "in its /24");
	text_sockaddr("::ffff:192.0.2.7", &ss);
	TAP_OK(netblock_contains(&nb, (struct sockaddr *)&ss),
	    "a mapped address is in the IPv4 block");
	text_sockaddr("192.0.3.1", &ss);
	TAP_OK(!netblock_contains(&nb, (struct sockaddr *)&ss), "not in it");
	(void)netblock_parse("::/0", &nb);
	TAP_OK(!netblock_contains(&nb, (struct sockaddr *)&ss),
	    "::/0 holds no IPv4 address");
}

int
main(void)
{
	static const uint64_t	key[NETBLOCK_KEY_WORDS] = { 1, 2, 3, 4, 5,
	    6, 7 };
	uint64_t		other[NETBLOCK_KEY_WORDS];
	struct sockaddr_storage	ss;
	struct netblock		a, b;
	char			buf[NETBLOCK_TEXT_MAX];
	size_t			i;

	for (i = 0; i < sizeof(block_cases) / sizeof(block_cases[0]); i++) {
		const struct block_case *bc = &block_cases[i];

		a = block_of(bc->bc_addr, bc->bc_v4, bc->bc_v6);
		TAP_OK(strcmp(netblock_text(&a, buf, sizeof(buf)),
		    bc->bc_text) == 0, "%s /%u /%u is %s (got %s)",
		    bc->bc_addr, bc->bc_v4, bc->bc_v6, bc->bc_text, buf);
	}
	a = block_of("192.0.2.1", 24, 64);
	b = block_of("192.0.2.254", 24, 64);
	TAP_OK(netblock_equal(&a, &b), "one /24: equal");
	TAP_OK(netblock_hash(&a, key) == netblock_hash(&b, key),
	    "one /24: one hash");
	b = block_of("192.0.3.1", 24, 64);
	TAP_OK(!netblock_equal(&a, &b), "two /24s: not equal");
	b = block_of("::ffff:192.0.2.9", 24, 64);
	TAP_OK(netblock_equal(&a, &b), "mapped IPv4 is the IPv4 block");
	a = block_of("0.0.0.0", 32, 64);
	b = block_of("::", 32, 32);
	TAP_OK(!netblock_equal(&a, &b), "0.0.0.0/32 is not ::/32");
	a = block_of("2001:db8::1", 32, 64);
	memcpy(other, key, sizeof(other));
	other[3] ^= 0x5555555555555555ULL;
	TAP_OK(netblock_hash(&a, key) != netblock_hash(&a, other),
	    "the hash depends on its key");
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	netblock_of((struct sockaddr *)&ss, 32, 64, &a);
	TAP_OK(a.nb_family == 0 && strcmp(netblock_text(&a, buf,
	    sizeof(buf)), "unknown") == 0, "not IP: unknown");
	test_parse();
	return TAP_DONE();
}
