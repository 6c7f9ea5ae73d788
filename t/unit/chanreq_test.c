/*
 * chanreq_test.c - the channel requests between a worker and the
 * master (chanreq.c), from tables: which requests decode, what the
 * answers say, and which paths a configuration allows.
 */
#include <errno.h>
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

int
main(void)
{
	test_allowed();
	test_ask();
	test_answer();
	return TAP_DONE();
}
