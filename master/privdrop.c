/*
 * privdrop.c - switch the master from root to the configured user, once
 * and irrevocably, after the listeners are bound.
 *
 * Order matters: supplementary groups and the gid while still root, the
 * uid last; then check that no saved id can bring root back, and set
 * no_new_privs so no exec can gain privileges either.  Any failure is
 * fatal: running half-privileged is worse than not running.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

/* privdrop_lookup - the passwd entry of a user name or number */
static struct passwd *
privdrop_lookup(const char *user)
{
	struct passwd	*pw;
	char		*end;
	unsigned long	 uid;

	if ((pw = getpwnam(user)) != NULL)
		return pw;
	errno = 0;
	uid = strtoul(user, &end, 10);
	if (*user != '\0' && *end == '\0' && errno == 0)
		return getpwuid((uid_t)uid);
	return NULL;
}

/* privdrop_switch - become user for good, from root */
static void
privdrop_switch(const char *user)
{
	struct passwd	*pw;
	uid_t		 ruid, euid, suid;
	gid_t		 rgid, egid, sgid;

	if ((pw = privdrop_lookup(user)) == NULL)
		fatalx("user '%s': no such user", user);
	if (pw->pw_uid == 0)
		fatalx("user '%s' is root: choose an unprivileged user", user);
	if (setgroups(1, &pw->pw_gid) == -1)
		fatal("setgroups");
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1)
		fatal("setresgid %u", (unsigned)pw->pw_gid);
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("setresuid %u", (unsigned)pw->pw_uid);
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		fatal("getresuid");
	if (ruid != pw->pw_uid || euid != pw->pw_uid || suid != pw->pw_uid ||
	    rgid != pw->pw_gid || egid != pw->pw_gid || sgid != pw->pw_gid)
		fatalx("privileges were not dropped to '%s'", user);
	if (setuid(0) != -1)
		fatalx("privileges could be regained after dropping them");
}

/*
 * privdrop - as root, become user; started unprivileged, stay as we are.
 * Either way, no exec from here on can gain privileges.
 */
void
privdrop(const char *user)
{
	if (geteuid() == 0)
		privdrop_switch(user);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
}
