/*
 * privdrop.c - switch the master from root to the configured user, once
 * and irrevocably, after the listeners are bound.
 *
 * Order matters: supplementary groups and the gid while still root, the
 * uid last; then check that no saved id can bring root back, and set
 * no_new_privs so no exec can gain privileges either.  Any failure is
 * fatal: running half-privileged is worse than not running.
 *
 * Capabilities: none is kept, whatever the master was started with,
 * except CAP_SYS_CHROOT when workers are to chroot (privdrop_chroot
 * called before privdrop).  The master cannot chroot its workers
 * itself: snitch-worker is dynamically linked, so it is exec'd outside
 * the chroot and chroots itself, also when restarted or reloaded long
 * after the drop.  So the master keeps CAP_SYS_CHROOT permitted and
 * inheritable, never effective, across setresuid (PR_SET_KEEPCAPS);
 * spawn.c raises it as an ambient capability in the child just before
 * the exec, and the worker drops it, with everything else, once it has
 * chrooted.  Capabilities are set with common/caps.c: no libcap.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "caps.h"
#include "dumpable.h"
#include "ids.h"
#include "log.h"
#include "privdrop.h"

static int	privdrop_keep_chroot;

/* privdrop_caps - set permitted and inheritable to keep, effective empty */
static int
privdrop_caps(uint64_t keep)
{
	struct caps	cs = { keep, 0, keep };

	return caps_set(&cs);
}

/* privdrop_permitted - the permitted capabilities, as a mask */
static uint64_t
privdrop_permitted(void)
{
	struct caps	cs;

	if (caps_get(&cs) == -1)
		fatal("capget");
	return cs.cs_permitted;
}

/*
 * privdrop_chroot - before privdrop: workers will chroot, so keep
 * CAP_SYS_CHROOT (and nothing else) through the drop
 */
void
privdrop_chroot(void)
{
	if (!(privdrop_permitted() & (1ULL << CAP_SYS_CHROOT)))
		fatalx("chroot: the workers need CAP_SYS_CHROOT to chroot: "
		    "start snitch as root (it drops to `user` after) or with "
		    "that capability");
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_KEEPCAPS");
	privdrop_keep_chroot = 1;
}

/*
 * privdrop_capabilities - after the switch: keep CAP_SYS_CHROOT when
 * asked, and nothing else, whether started as root or not
 */
static void
privdrop_capabilities(void)
{
	uint64_t	keep = 0;

	if (privdrop_keep_chroot)
		keep = 1ULL << CAP_SYS_CHROOT;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		fatal("PR_CAP_AMBIENT_CLEAR_ALL");
	if (privdrop_caps(keep) == -1)
		fatal("capset");
	if (privdrop_permitted() != keep)
		fatalx("capabilities were not dropped");
	if (privdrop_keep_chroot && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		fatal("PR_SET_KEEPCAPS");
}

/* privdrop_lookup - the passwd entry of user, read as ids.c reads it */
static struct passwd *
privdrop_lookup(const char *user)
{
	uid_t	uid;

	if (ids_uid(user, &uid) == -1)
		return NULL;
	return getpwuid(uid);
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
	/* The uid change reset it to fs.suid_dumpable: 1 would undo main's. */
	if (dumpable_set(0) == -1)
		fatal("PR_SET_DUMPABLE");
	privdrop_capabilities();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
}
