/*
 * ids.c - a user or group as configured or passed in the environment
 * (snitch.ini's user, owner and [tenant] uid; libsnitch's
 * SNITCH_PEER_UID), read by one rule, chown(1)'s: a name in the user
 * (group) database first, else an all-digits decimal number, which need
 * not be in the database.  So a name made of digits means that user.
 *
 * Runs in the master (as root at start, unprivileged on reload) and in
 * any backend linking libsnitch: no state, no output; getpwnam_r and
 * getgrnam_r, not getpwnam, since a backend's threads may look up users
 * of their own at the same time.  No libbsd either (strtonum): libsnitch
 * links nothing but libc.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>

#include "ids.h"

#define IDS_BUF_START	1024
#define IDS_BUF_MAX	(1024 * 1024)	/* a group of many members needs more */

/*
 * ids_number - an all-digits decimal id; 0, or -1.  (uid_t)-1 is never
 * an id: the kernel reads it as "no change".
 */
static int
ids_number(const char *text, uint32_t *id)
{
	uint64_t	n = 0;

	if (*text == '\0')
		return -1;
	for (; *text != '\0'; text++) {
		if (*text < '0' || *text > '9')
			return -1;
		n = n * 10 + (uint64_t)(*text - '0');
		if (n >= UINT32_MAX)
			return -1;
	}
	*id = (uint32_t)n;
	return 0;
}

/* ids_lookup - the id of a name in the user or group database; 0, or -1 */
static int
ids_lookup(const char *name, int is_group, uint32_t *id)
{
	struct passwd	 pw, *pwp = NULL;
	struct group	 gr, *grp = NULL;
	char		*buf = NULL, *grown;
	size_t		 size;
	int		 rc = ERANGE;

	for (size = IDS_BUF_START; rc == ERANGE && size <= IDS_BUF_MAX;
	    size *= 2) {
		if ((grown = realloc(buf, size)) == NULL)
			break;
		buf = grown;
		rc = is_group ? getgrnam_r(name, &gr, buf, size, &grp) :
		    getpwnam_r(name, &pw, buf, size, &pwp);
	}
	if (grp != NULL)
		*id = grp->gr_gid;
	else if (pwp != NULL)
		*id = pwp->pw_uid;
	free(buf);
	return grp != NULL || pwp != NULL ? 0 : -1;
}

/* ids_id - a name, else a number; 0, or -1 with EINVAL */
static int
ids_id(const char *text, int is_group, uint32_t *id)
{
	if (text == NULL || *text == '\0' ||
	    (ids_lookup(text, is_group, id) == -1 &&
	    ids_number(text, id) == -1)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* ids_uid - a user: a name in the user database, else a number */
int
ids_uid(const char *text, uid_t *uid)
{
	uint32_t	id;

	if (ids_id(text, 0, &id) == -1)
		return -1;
	*uid = id;
	return 0;
}

/* ids_gid - a group: a name in the group database, else a number */
int
ids_gid(const char *text, gid_t *gid)
{
	uint32_t	id;

	if (ids_id(text, 1, &id) == -1)
		return -1;
	*gid = id;
	return 0;
}
