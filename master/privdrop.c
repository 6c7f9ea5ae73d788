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
 *
 * CAP_NET_ADMIN is kept too, permitted only (never inheritable, so no
 * child ever gets it), when source_penalty is on and the kernel lets no
 * unprivileged process attach a socket filter (some do, some do not:
 * checked after the drop by attaching one to a fresh socket; when that
 * works, it is let go).  master/penalty.c raises it to effective around
 * the setsockopt that gives the listeners their filter
 * (privdrop_net_admin), and lowers it at once.
 *
 * Before the switch, as root, it warns when `user` is a shared account:
 * nobody (uid 65534), or a uid that already runs a process that is not
 * SNItch's (found in /proc).  Another process of the same uid may
 * signal SNItch's processes, read and write what they create (the stats
 * socket, the access log), and connect to the backends as SNItch does,
 * which check only the uid; what it cannot do any more is trace them
 * or copy their descriptors (common/dumpable.c).  A warning, not a
 * refusal: a running system is not stopped by an upgrade.  The scan
 * sees what root may: under snitch.service's ProtectProc=invisible,
 * without CAP_SYS_PTRACE, other users' processes are hidden from it,
 * and only the nobody check is left.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <unistd.h>

#include "caps.h"
#include "dumpable.h"
#include "ids.h"
#include "log.h"
#include "privdrop.h"

#define PRIVDROP_NOBODY	65534	/* nobody on Linux: overflowuid */

static int	privdrop_keep_chroot;
static int	privdrop_keep_net_admin;

/* SNItch's own programs, as /proc/PID/status names them */
static const char *const privdrop_ours[] = {
	"snitch", "snitch-worker", "snitch-stats",
};

/* privdrop_caps - permitted and inheritable as given, effective empty */
static int
privdrop_caps(uint64_t permitted, uint64_t inheritable)
{
	struct caps	cs = { permitted, 0, inheritable };

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
 * privdrop_net_admin_keep - before privdrop: source penalties are on, so
 * keep CAP_NET_ADMIN through the drop if we have it (privdrop_filters
 * lets it go after, when the kernel does not ask for it)
 */
void
privdrop_net_admin_keep(void)
{
	if (!(privdrop_permitted() & (1ULL << CAP_NET_ADMIN)))
		return;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_KEEPCAPS");
	privdrop_keep_net_admin = 1;
}

/*
 * privdrop_capabilities - after the switch: keep CAP_SYS_CHROOT and
 * CAP_NET_ADMIN when asked, and nothing else, whether started as root
 * or not
 */
static void
privdrop_capabilities(void)
{
	uint64_t	keep = 0, inherit = 0;

	if (privdrop_keep_chroot)
		keep = inherit = 1ULL << CAP_SYS_CHROOT;
	if (privdrop_keep_net_admin)
		keep |= 1ULL << CAP_NET_ADMIN;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		fatal("PR_CAP_AMBIENT_CLEAR_ALL");
	if (privdrop_caps(keep, inherit) == -1)
		fatal("capset");
	if (privdrop_permitted() != keep)
		fatalx("capabilities were not dropped");
	if ((privdrop_keep_chroot || privdrop_keep_net_admin) &&
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		fatal("PR_SET_KEEPCAPS");
}

/*
 * privdrop_filters - after the drop, holding CAP_NET_ADMIN: whether the
 * kernel lets us attach a socket filter without it; if so, let it go
 */
static void
privdrop_filters(void)
{
	struct sock_filter	pass = BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
	struct sock_fprog	fp = { 1, &pass };
	int			fd, ok;

	/* A TCP socket: some kernels let anyone filter a Unix one. */
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 &&
	    (fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("%s: socket: keeping CAP_NET_ADMIN", __func__);
		return;
	}
	ok = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof(fp)) == 0;
	close(fd);
	if (!ok)
		return;
	privdrop_keep_net_admin = 0;
	if (privdrop_caps(privdrop_permitted() & ~(1ULL << CAP_NET_ADMIN),
	    privdrop_keep_chroot ? 1ULL << CAP_SYS_CHROOT : 0) == -1)
		fatal("capset");
}

/*
 * privdrop_net_admin - CAP_NET_ADMIN effective (on) or not, if it was
 * kept; 0, or -1 (errno) when capset failed
 */
int
privdrop_net_admin(int on)
{
	struct caps	cs;

	if (!privdrop_keep_net_admin)
		return 0;
	if (caps_get(&cs) == -1)
		return -1;
	cs.cs_effective = on ? 1ULL << CAP_NET_ADMIN : 0;
	return caps_set(&cs);
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

/*
 * privdrop_status - from /proc/PID/status (dir: its PID), the name and
 * the real and effective uids; 0, or -1 (gone, or unreadable)
 */
static int
privdrop_status(const char *dir, char *name, size_t size, uid_t *ruid,
    uid_t *euid)
{
	char		 path[300], line[256];
	FILE		*fp;
	unsigned int	 r, e;
	int		 found = 0;

	snprintf(path, sizeof(path), "/proc/%s/status", dir);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	name[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "Name:\t", 6) == 0)
			snprintf(name, size, "%.*s", (int)strcspn(line + 6,
			    "\n"), line + 6);
		else if (sscanf(line, "Uid:\t%u\t%u", &r, &e) == 2) {
			*ruid = r;
			*euid = e;
			found = 1;
		}
	}
	fclose(fp);
	return found ? 0 : -1;
}

/* privdrop_is_ours - whether name is one of SNItch's programs */
static int
privdrop_is_ours(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(privdrop_ours) / sizeof(privdrop_ours[0]); i++)
		if (strcmp(name, privdrop_ours[i]) == 0)
			return 1;
	return 0;
}

/*
 * privdrop_shared - as root, before the switch: warn when pw is a shared
 * account, nobody or a uid that runs processes other than SNItch's
 */
static void
privdrop_shared(const struct passwd *pw)
{
	struct dirent	*de;
	DIR		*dp;
	char		 name[64];
	uid_t		 ruid, euid;

	if (pw->pw_uid == PRIVDROP_NOBODY || strcmp(pw->pw_name, "nobody") == 0)
		log_warnx("user '%s' (uid %u) is a shared account: other "
		    "services running as it can signal SNItch's processes, "
		    "reach what they create and connect to backends as "
		    "SNItch; use a user of its own (make install creates "
		    "'snitch')", pw->pw_name, (unsigned)pw->pw_uid);
	if ((dp = opendir("/proc")) == NULL) {
		log_warn("%s: /proc", __func__);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    strtol(de->d_name, NULL, 10) == (long)getpid() ||
		    privdrop_status(de->d_name, name, sizeof(name), &ruid,
		    &euid) == -1 ||
		    (ruid != pw->pw_uid && euid != pw->pw_uid) ||
		    privdrop_is_ours(name))
			continue;
		log_warnx("user '%s' (uid %u) already runs other processes, "
		    "such as pid %s (%s): they can signal SNItch's processes, "
		    "reach what they create and connect to backends as "
		    "SNItch; use a user of its own", pw->pw_name,
		    (unsigned)pw->pw_uid, de->d_name, name);
		break;
	}
	closedir(dp);
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
	privdrop_shared(pw);
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
	if (privdrop_keep_net_admin)
		privdrop_filters();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
}
