/*
 * ids_test.c - users and groups read as chown(1) reads them: a name in
 * the database first, else an all-digits decimal number; by ids.c, and
 * by libsnitch's snitch_peer_uid (SNITCH_PEER_UID), which must agree.
 * The databases are fake_ids.h's.
 */
#include <errno.h>
#include <stdio.h>

#include "fake_ids.h"
#include "ids.h"
#include "snitch.h"
#include "tap.h"

struct ids_row {
	const char	*text;
	int		 ok;
	unsigned	 id;
};

/* a name first: "4242" is the user named so, uid 4343 */
static const struct ids_row ids_users[] = {
	{ "root", 1, 0 },
	{ "nobody", 1, 65534 },
	{ "7eleven", 1, 7007 },
	{ "4242", 1, 4343 },
	{ "0", 1, 0 },
	{ "1000", 1, 1000 },
	{ "0042", 1, 42 },
	{ "4294967294", 1, 4294967294u },
	{ "4294967295", 0, 0 },		/* (uid_t)-1: "no change" */
	{ "99999999999999999999", 0, 0 },
	{ "", 0, 0 },
	{ "-1", 0, 0 },
	{ "+1", 0, 0 },
	{ " 1", 0, 0 },
	{ "12a", 0, 0 },
	{ "no-such-user", 0, 0 },
};

static const struct ids_row ids_groups[] = {
	{ "root", 1, 0 },
	{ "nogroup", 1, 65534 },
	{ "7eleven", 1, 7007 },
	{ "4242", 1, 4343 },
	{ "5", 1, 5 },
	{ "4294967295", 0, 0 },
	{ "", 0, 0 },
	{ "no-such-group", 0, 0 },
};

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))

/* test_uid - fn (ids_uid, or libsnitch's snitch_peer_uid) reads users */
static void
test_uid(const char *label, int (*fn)(const char *, uid_t *))
{
	size_t	i;
	uid_t	uid;
	int	rc;

	for (i = 0; i < NROWS(ids_users); i++) {
		const struct ids_row *r = &ids_users[i];

		uid = 12345;
		errno = 0;
		rc = fn(r->text, &uid);
		TAP_OK(r->ok ? rc == 0 && uid == r->id :
		    rc == -1 && errno == EINVAL && uid == 12345,
		    "%s '%s': %s %u", label, r->text,
		    r->ok ? "uid" : "refused", r->id);
	}
}

/* test_ids_gid - ids_gid */
static void
test_ids_gid(void)
{
	size_t	i;
	gid_t	gid;
	int	rc;

	for (i = 0; i < NROWS(ids_groups); i++) {
		const struct ids_row *r = &ids_groups[i];

		gid = 12345;
		rc = ids_gid(r->text, &gid);
		TAP_OK(r->ok ? rc == 0 && gid == r->id : rc == -1 &&
		    gid == 12345, "ids_gid '%s': %s %u", r->text,
		    r->ok ? "gid" : "refused", r->id);
	}
}

int
main(void)
{
	test_uid("ids_uid", ids_uid);
	test_uid("snitch_peer_uid", snitch_peer_uid);
	test_ids_gid();
	return TAP_DONE();
}
