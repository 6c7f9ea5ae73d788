/*
 * fake_ids.h - a user and a group database of a few entries, for the
 * unit tests of what reads user and group names (common/ids.c, through
 * conf.c and libsnitch): the test program's getpwnam_r and getgrnam_r
 * are these, so that a test can have names no system has, such as one
 * made of digits whose uid is another number.
 */
#ifndef FAKE_IDS_H
#define FAKE_IDS_H

#include <grp.h>
#include <pwd.h>
#include <string.h>

struct fake_id {
	const char	*fi_name;
	unsigned	 fi_id;
};

/* the same in both databases, as useradd -U makes them */
static const struct fake_id fake_ids[] = {
	{ "root", 0 }, { "nobody", 65534 }, { "nogroup", 65534 },
	{ "7eleven", 7007 },	/* a name that starts with a digit */
	{ "4242", 4343 },	/* a name made of digits: not uid 4242 */
};

/* fake_find - the entry named name, or NULL */
static const struct fake_id *
fake_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(fake_ids) / sizeof(fake_ids[0]); i++)
		if (strcmp(fake_ids[i].fi_name, name) == 0)
			return &fake_ids[i];
	return NULL;
}

/* getpwnam_r - the user database, faked */
int
getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t size,
    struct passwd **result)
{
	const struct fake_id	*f = fake_find(name);

	(void)buf;
	(void)size;
	*result = NULL;
	if (f == NULL)
		return 0;
	memset(pw, 0, sizeof(*pw));
	pw->pw_uid = f->fi_id;
	pw->pw_gid = f->fi_id;
	*result = pw;
	return 0;
}

/* getgrnam_r - the group database, faked */
int
getgrnam_r(const char *name, struct group *gr, char *buf, size_t size,
    struct group **result)
{
	const struct fake_id	*f = fake_find(name);

	(void)buf;
	(void)size;
	*result = NULL;
	if (f == NULL)
		return 0;
	memset(gr, 0, sizeof(*gr));
	gr->gr_gid = f->fi_id;
	*result = gr;
	return 0;
}

#endif
