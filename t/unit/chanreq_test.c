/*
 * chanreq_test.c - the channel requests between a worker and the
 * master (chanreq.c), from tables: which requests decode, what the
 * answers say, which paths a configuration allows, and which penalties
 * the master takes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "chanreq.h"
#include "tap.h"

struct chanreq_path_row {
	const char	*label;
	const char	*path;
	int		 allowed;
};

static const struct chanreq_path_row chanreq_paths[] = {
	{ "a backend's socket", "/run/web.sock", 1 },
	{ "a backend's socket with a slash more", "/run//web.sock", 0 },
	{ "another socket in its directory", "/run/other.sock", 0 },
	{ "a tenant's name", "/srv/alice/www.example.org.sock", 1 },
	{ "a tenant's wildcard", "/srv/alice/_.example.org.sock", 1 },
	{ "a tenant's subdirectory", "/srv/alice/sub/x.sock", 0 },
	{ "a tenant's parent", "/srv/alice/../bob/x.sock", 0 },
	{ "hidden", "/srv/alice/.x.sock", 0 },
	{ "not .sock", "/srv/alice/x.socket", 0 },
	{ "only .sock", "/srv/alice/.sock", 0 },
	{ "upper case", "/srv/alice/X.sock", 0 },
	{ "a space", "/srv/alice/a b.sock", 0 },
	{ "the directory's prefix", "/srv/alicex/x.sock", 0 },
	{ "the directory itself", "/srv/alice", 0 },
	{ "elsewhere", "/tmp/evil.sock", 0 },
};

/* test_allowed - each path of the table against one configuration */
static void
test_allowed(void)
{
	struct wconf	wc;
	size_t		i;

	wconf_init(&wc);
	TAP_OK(wconf_add_backend(&wc, "web", "/run/web.sock") == 0 &&
	    wconf_add_tenant(&wc, "alice", 1000, "/srv/alice") >= 0,
	    "a configuration");
	for (i = 0; i < sizeof(chanreq_paths) / sizeof(chanreq_paths[0]); i++)
		TAP_OK(chanreq_allowed(&wc, chanreq_paths[i].path) ==
		    chanreq_paths[i].allowed, "%s: %s", chanreq_paths[i].label,
		    chanreq_paths[i].path);
	wconf_clear(&wc);
}

/* test_ask - a request decodes to itself; any change to it is refused */
static void
test_ask(void)
{
	uint8_t			msg[CHANREQ_ASK_LEN + 1], bad[CHANREQ_ASK_LEN];
	struct chanreq_ask	ca;
	char			longest[WCONF_PATH_MAX + 2];

	TAP_OK(chanreq_ask_encode(msg, 0x01020304, "/run/web.sock") == 0 &&
	    chanreq_ask_decode(msg, CHANREQ_ASK_LEN, &ca) == 0 &&
	    ca.ca_id == 0x01020304 && strcmp(ca.ca_path, "/run/web.sock") == 0,
	    "a request decodes to itself");
	TAP_OK(chanreq_ask_decode(msg, CHANREQ_ASK_LEN - 1, &ca) == -1 &&
	    errno == EBADMSG, "one byte short");
	msg[CHANREQ_ASK_LEN] = 0;
	TAP_OK(chanreq_ask_decode(msg, CHANREQ_ASK_LEN + 1, &ca) == -1,
	    "one byte more");
	memcpy(bad, msg, sizeof(bad));
	bad[0] = 's';
	TAP_OK(chanreq_ask_decode(bad, sizeof(bad), &ca) == -1, "bad magic");
	memcpy(bad, msg, sizeof(bad));
	bad[9] = 0;
	TAP_OK(chanreq_ask_decode(bad, sizeof(bad), &ca) == -1, "length 0");
	memcpy(bad, msg, sizeof(bad));
	bad[9] = 5;
	TAP_OK(chanreq_ask_decode(bad, sizeof(bad), &ca) == -1,
	    "shorter than the path");
	memcpy(bad, msg, sizeof(bad));
	bad[9] = 20;
	TAP_OK(chanreq_ask_decode(bad, sizeof(bad), &ca) == -1,
	    "longer than the path: a NUL inside");
	memcpy(bad, msg, sizeof(bad));
	bad[CHANREQ_ASK_LEN - 1] = 'x';
	TAP_OK(chanreq_ask_decode(bad, sizeof(bad), &ca) == -1,
	    "a byte after the path");
	memcpy(bad, msg, sizeof(bad));
	bad[8] = 1;
	TAP_OK(chanreq_ask_decode(bad, sizeof(bad), &ca) == -1,
	    "length over WCONF_PATH_MAX");
	memset(longest, 'a', sizeof(longest));
	longest[WCONF_PATH_MAX] = '\0';
	TAP_OK(chanreq_ask_encode(msg, 1, longest) == 0 &&
	    chanreq_ask_decode(msg, CHANREQ_ASK_LEN, &ca) == 0 &&
	    strlen(ca.ca_path) == WCONF_PATH_MAX, "the longest path");
	longest[WCONF_PATH_MAX] = 'a';
	longest[WCONF_PATH_MAX + 1] = '\0';
	TAP_OK(chanreq_ask_encode(msg, 1, longest) == -1, "one too long");
	TAP_OK(chanreq_ask_encode(msg, 1, "") == -1, "empty");
}

/* test_answer - answers decode to themselves; a bad one is refused */
static void
test_answer(void)
{
	uint8_t			msg[CHANREQ_ANSWER_LEN];
	struct chanreq_answer	can;

	chanreq_answer_encode(msg, 7, 0);
	TAP_OK(chanreq_answer_decode(msg, sizeof(msg), &can) == 0 &&
	    can.can_id == 7 && can.can_errno == 0, "connected");
	chanreq_answer_encode(msg, 8, ECONNREFUSED);
	TAP_OK(chanreq_answer_decode(msg, sizeof(msg), &can) == 0 &&
	    can.can_id == 8 && can.can_errno == ECONNREFUSED, "refused");
	TAP_OK(chanreq_answer_decode(msg, sizeof(msg) - 1, &can) == -1,
	    "one byte short");
	chanreq_answer_encode(msg, 8, -1);
	TAP_OK(chanreq_answer_decode(msg, sizeof(msg), &can) == -1,
	    "a negative errno");
	chanreq_answer_encode(msg, 8, 0);
	msg[3] = 'Q';
	TAP_OK(chanreq_answer_decode(msg, sizeof(msg), &can) == -1,
	    "a request's magic");
}

/*
 * Penalties as the master receives them, built byte by byte from the
 * layout in chanreq.c: the family and prefix bytes, the address bytes
 * (IPv4 in the first 4), the decoder's netblock sizes, the length handed
 * over, one byte then set (at -1: none), and whether it is taken.  One
 * taken is netblock_of's block of its address, and what encode makes.
 */
struct chanreq_penalty_row {
	const char	*label;
	uint8_t		 family, prefix;
	const char	*addr;
	unsigned	 v4, v6;
	size_t		 len;
	int		 at;
	uint8_t		 value;
	int		 taken;
};

static const struct chanreq_penalty_row chanreq_penalties[] = {
	{ "an IPv4 /32", 4, 32, "192.0.2.77", 32, 64, 22, -1, 0, 1 },
	{ "an IPv6 /64", 6, 64, "2001:db8:1:2::", 32, 64, 22, -1, 0, 1 },
	{ "an IPv4 /24", 4, 24, "192.0.2.0", 24, 64, 22, -1, 0, 1 },
	{ "an IPv6 /57", 6, 57, "2001:db8:1:ff80::", 32, 57, 22, -1, 0, 1 },
	{ "one byte short", 4, 32, "192.0.2.77", 32, 64, 21, -1, 0, 0 },
	{ "one byte more", 4, 32, "192.0.2.77", 32, 64, 23, -1, 0, 0 },
	{ "another magic", 4, 32, "192.0.2.77", 32, 64, 22, 3, 'Q', 0 },
	{ "family 5", 5, 32, "192.0.2.77", 32, 64, 22, -1, 0, 0 },
	{ "family 0", 0, 32, "192.0.2.77", 32, 64, 22, -1, 0, 0 },
	{ "IPv4 /24 to a /32 worker", 4, 24, "192.0.2.0", 32, 64, 22, -1, 0,
	    0 },
	{ "IPv4 /32 to a /24 worker", 4, 32, "192.0.2.77", 24, 64, 22, -1, 0,
	    0 },
	{ "IPv4 bits past the prefix", 4, 24, "192.0.2.1", 24, 64, 22, -1, 0,
	    0 },
	{ "a byte after the IPv4 address", 4, 32, "192.0.2.77", 32, 64, 22,
	    10, 1, 0 },
	{ "the last byte after the IPv4 address", 4, 32, "192.0.2.77", 32, 64,
	    22, 21, 0x80, 0 },
	{ "IPv6 /64 with its last bit", 6, 64, "2001:db8:1:2::1", 32, 64, 22,
	    -1, 0, 0 },
	{ "IPv6 /64 with bit 64", 6, 64, "2001:db8:1:2:8000::", 32, 64, 22,
	    -1, 0, 0 },
	{ "IPv6 /48 to a /64 worker", 6, 48, "2001:db8:1::", 32, 64, 22, -1,
	    0, 0 },
	{ "IPv4-mapped in IPv6, /64", 6, 64, "::ffff:192.0.2.1", 32, 64, 22,
	    -1, 0, 0 },
	{ "IPv4-mapped in IPv6, /128", 6, 128, "::ffff:192.0.2.1", 32, 128, 22,
	    -1, 0, 0 },
	{ "IPv4-mapped in IPv6, /96", 6, 96, "::ffff:0.0.0.0", 32, 96, 22,
	    -1, 0, 0 },
};

/* test_penalty_message - row's message in msg, as its columns say */
static void
test_penalty_message(const struct chanreq_penalty_row *row,
    uint8_t msg[CHANREQ_PENALTY_LEN + 1])
{
	memset(msg, 0, CHANREQ_PENALTY_LEN + 1);
	memcpy(msg, "SNPN", 4);
	msg[4] = row->family;
	msg[5] = row->prefix;
	if (inet_pton(AF_INET, row->addr, msg + 6) != 1)
		(void)inet_pton(AF_INET6, row->addr, msg + 6);
	if (row->at >= 0)
		msg[row->at] = row->value;
}

/* test_penalty_block - netblock_of row's address at row's sizes */
static void
test_penalty_block(const struct chanreq_penalty_row *row,
    struct netblock *nb)
{
	struct sockaddr_storage	ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, row->addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, row->addr, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	netblock_of((struct sockaddr *)&ss, row->v4, row->v6, nb);
}

/*
 * test_penalty - each row decoded: a taken one is its address's
 * netblock, and encoding that gives the row's bytes back; a refused one
 * is -1 (EBADMSG) with nothing left in the netblock
 */
static void
test_penalty(void)
{
	const struct chanreq_penalty_row	*row;
	uint8_t		msg[CHANREQ_PENALTY_LEN + 1], back[CHANREQ_PENALTY_LEN];
	struct netblock	nb, want;
	struct wconf	wc;
	size_t		i;
	int		r;

	wconf_init(&wc);
	TAP_OK(wc.wc_netblock_ipv4 == 32 && wc.wc_netblock_ipv6 == 64,
	    "penalty: wconf_init's netblocks are /32 and /64");
	for (i = 0; i < sizeof(chanreq_penalties) /
	    sizeof(chanreq_penalties[0]); i++) {
		row = &chanreq_penalties[i];
		test_penalty_message(row, msg);
		wc.wc_netblock_ipv4 = row->v4;
		wc.wc_netblock_ipv6 = row->v6;
		errno = 0;
		r = chanreq_penalty_decode(msg, row->len, &wc, &nb);
		test_penalty_block(row, &want);
		chanreq_penalty_encode(back, &want);
		TAP_OK(row->taken ? r == 0 && netblock_equal(&nb, &want) &&
		    memcmp(back, msg, sizeof(back)) == 0 : r == -1 &&
		    errno == EBADMSG && nb.nb_family == 0, "penalty: %s: %s",
		    row->label, row->taken ? "taken" : "refused");
	}
	wconf_clear(&wc);
}

int
main(void)
{
	test_allowed();
	test_ask();
	test_answer();
	test_penalty();
	return TAP_DONE();
}
