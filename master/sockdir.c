/*
 * sockdir.c - judge the directories on the way to a socket path: warn
 * about handoff socket paths another user could replace or take first,
 * and refuse a stats socket directory another user could replace the
 * stats socket in.
 *
 * Runs in the master at start (as root, before the privilege drop) and
 * at each reload (unprivileged: a directory it cannot stat is skipped).
 * A user who can write to a directory on the way to a socket, and is not
 * stopped by its sticky bit, can rename or remove the socket and bind
 * their own in its place.  The sticky bit stops that for a socket that
 * exists, not for one that does not: in a sticky directory every user
 * may bind the socket's path while it is missing (before its backend
 * starts, while it restarts) and be handed that backend's clients.  The
 * workers check the listener's uid where an owner is known (backend.c):
 * then the worst is clients refused, and this says so early; for
 * backends without an owner it is the only warning there is.  Warnings
 * only for backends and tenants: the operator may know better (a group
 * of trusted users).
 *
 * A directory is flagged when its group or others may write to it (for
 * the socket's own directory, also with the sticky bit), or (where the
 * owner is known: a backend's owner, a tenant's uid, the stats socket's
 * `user`) when it belongs to neither root nor the owner.  Each directory
 * is checked from the socket's up to "/", and named once per check even
 * when several sockets are under it.  With `chroot`, the paths are the
 * workers' and are looked at under the chroot directory (which conf.c
 * already requires to be root's alone), not above it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "sockdir.h"

#define SOCKDIR_SEEN_MAX	256	/* directories named per check */

/* what a directory on a socket's path lets another user do */
enum sockdir_risk {
	SOCKDIR_FINE,
	SOCKDIR_REPLACE,	/* rename or remove the socket: no sticky bit */
	SOCKDIR_SQUAT,		/* bind the path while it is missing: sticky */
};

/* one directory flagged, for a sockdir_walk callback */
struct sockdir_hit {
	const char		*sh_dir;
	mode_t			 sh_mode;
	enum sockdir_risk	 sh_risk;
	const char		*sh_why;
};

typedef void	sockdir_fn(void *, const struct sockdir_hit *);

struct sockdir_seen {
	char	*ss_dirs[SOCKDIR_SEEN_MAX];
	size_t	 ss_n;
};

/* what sockdir_check's callback is told about the socket */
struct sockdir_warn {
	struct sockdir_seen	*sw_seen;
	const char		*sw_what;
	int64_t			 sw_owner;	/* -1: none known */
};

/* sockdir_seen - whether dir was named already in this check; notes it */
static int
sockdir_seen(struct sockdir_seen *seen, const char *dir)
{
	size_t	i;

	for (i = 0; i < seen->ss_n; i++)
		if (strcmp(seen->ss_dirs[i], dir) == 0)
			return 1;
	if (seen->ss_n < SOCKDIR_SEEN_MAX &&
	    (seen->ss_dirs[seen->ss_n] = strdup(dir)) != NULL)
		seen->ss_n++;
	return 0;
}

/*
 * sockdir_why - what others could do to a socket under dir (st), which
 * is the socket's own directory when own is set; the reason in why
 */
static enum sockdir_risk
sockdir_why(const struct stat *st, int64_t owner, int own, char *why,
    size_t size)
{
	if (!S_ISDIR(st->st_mode))
		return SOCKDIR_FINE;
	/* A directory's owner may remove anything in it, sticky or not. */
	if (owner != -1 && st->st_uid != 0 && (int64_t)st->st_uid != owner) {
		snprintf(why, size, "it belongs to uid %lu, neither root nor "
		    "the owner uid %lld", (unsigned long)st->st_uid,
		    (long long)owner);
		return SOCKDIR_REPLACE;
	}
	if (st->st_mode & S_IWOTH)
		snprintf(why, size, "every user can write to it");
	else if (st->st_mode & S_IWGRP)
		snprintf(why, size, "group %lu can write to it",
		    (unsigned long)st->st_gid);
	else
		return SOCKDIR_FINE;
	/* Above the socket's own directory, the entries exist: kept. */
	if (st->st_mode & S_ISVTX)
		return own ? SOCKDIR_SQUAT : SOCKDIR_FINE;
	return SOCKDIR_REPLACE;
}

/*
 * sockdir_walk - judge root/dir and each of its ancestors up to root
 * ("" when there is no chroot: up to "/"); fn(arg, hit) for each one
 * flagged
 */
static void
sockdir_walk(const char *root, const char *dir, int64_t owner,
    sockdir_fn *fn, void *arg)
{
	struct sockdir_hit	 hit;
	char			 path[PATH_MAX], why[96], *slash;
	struct stat		 st;
	size_t			 rootlen = strlen(root);
	int			 own = 1;

	if (snprintf(path, sizeof(path), "%s%s", root, dir) >=
	    (int)sizeof(path))
		return;
	for (;; own = 0) {
		hit.sh_dir = path[0] != '\0' ? path : "/";
		if (stat(hit.sh_dir, &st) == 0 && (hit.sh_risk =
		    sockdir_why(&st, owner, own, why, sizeof(why))) !=
		    SOCKDIR_FINE) {
			hit.sh_mode = st.st_mode & 07777;
			hit.sh_why = why;
			fn(arg, &hit);
		}
		if (path[0] == '\0' || (slash = strrchr(path, '/')) == NULL)
			return;
		*slash = '\0';
		if (rootlen > 0 && strlen(path) < rootlen)
			return;
	}
}

/* sockdir_warn - sockdir_walk callback: warn about a handoff socket */
static void
sockdir_warn(void *arg, const struct sockdir_hit *hit)
{
	struct sockdir_warn	*sw = arg;

	if (hit->sh_risk == SOCKDIR_REPLACE) {
		if (!sockdir_seen(sw->sw_seen, hit->sh_dir))
			log_warnx("%s: directory %s (mode %04o, no sticky "
			    "bit): %s, so another user could replace the "
			    "socket", sw->sw_what, hit->sh_dir,
			    (unsigned)hit->sh_mode, hit->sh_why);
		return;
	}
	/* Once per socket: what to do about it depends on its owner. */
	if (sw->sw_owner != -1)
		log_warnx("%s: directory %s (mode %04o, sticky): %s, so "
		    "another user could bind the socket's path while it is "
		    "missing; workers check the listener's uid, so clients "
		    "would be refused, not handed to that user", sw->sw_what,
		    hit->sh_dir, (unsigned)hit->sh_mode, hit->sh_why);
	else
		log_warnx("%s: directory %s (mode %04o, sticky): %s, so "
		    "another user could bind the socket's path while it is "
		    "missing (before the backend listens, or while it "
		    "restarts) and be handed its clients; set owner = (the "
		    "backend's user) so that workers refuse a listener of "
		    "another uid", sw->sw_what, hit->sh_dir,
		    (unsigned)hit->sh_mode, hit->sh_why);
}

/* sockdir_check - warn about each backend's and tenant's directories */
void
sockdir_check(const struct conf *cf)
{
	const struct wconf	*wc = &cf->cf_wconf;
	struct sockdir_seen	 seen;
	struct sockdir_warn	 sw = { &seen, NULL, -1 };
	char			 what[WCONF_NAME_MAX + WCONF_PATH_MAX + 32];
	char			 dir[WCONF_PATH_MAX + 1], *slash;
	const char		*root = wc->wc_chroot != NULL &&
				    strcmp(wc->wc_chroot, "/") != 0 ?
				    wc->wc_chroot : "";
	size_t			 i;

	memset(&seen, 0, sizeof(seen));
	sw.sw_what = what;
	for (i = 0; i < wc->wc_nbackends; i++) {
		snprintf(what, sizeof(what), "backend %s: socket %s",
		    wc->wc_backends[i].wb_name, wc->wc_backends[i].wb_socket);
		strcpy(dir, wc->wc_backends[i].wb_socket);
		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = '\0';
		sw.sw_owner = wc->wc_backends[i].wb_owner_uid;
		sockdir_walk(root, dir, sw.sw_owner, sockdir_warn, &sw);
	}
	for (i = 0; i < wc->wc_ntenants; i++) {
		snprintf(what, sizeof(what), "tenant %s: dir %s",
		    wc->wc_tenants[i].wt_name, wc->wc_tenants[i].wt_dir);
		sw.sw_owner = wc->wc_tenants[i].wt_uid;
		sockdir_walk(root, wc->wc_tenants[i].wt_dir, sw.sw_owner,
		    sockdir_warn, &sw);
	}
	for (i = 0; i < seen.ss_n; i++)
		free(seen.ss_dirs[i]);
}

/*
 * sockdir_stats_hit - sockdir_walk callback for the stats socket: refuse
 * a directory others could replace it in, warn about a sticky one
 */
static void
sockdir_stats_hit(void *arg, const struct sockdir_hit *hit)
{
	const char	*path = arg;

	if (hit->sh_risk == SOCKDIR_REPLACE)
		fatalx("stats %s: directory %s (mode %04o, no sticky bit): "
		    "%s, so another user could replace the stats socket with "
		    "their own and answer snitch -s and scrapers; make it "
		    "writable by root (or user) alone", path, hit->sh_dir,
		    (unsigned)hit->sh_mode, hit->sh_why);
	log_warnx("stats %s: directory %s (mode %04o, sticky): %s, so "
	    "another user could bind the path first and keep SNItch from "
	    "starting; a directory only root (or user) can write to is "
	    "better", path, hit->sh_dir, (unsigned)hit->sh_mode,
	    hit->sh_why);
}

/*
 * sockdir_stats - the stats socket path's directories: fatal when another
 * user than root and owner (the uid snitch runs as) could replace the
 * socket; a warning when one could take the path first (sticky)
 */
void
sockdir_stats(const char *path, const char *dir, int64_t owner)
{
	sockdir_walk("", dir, owner, sockdir_stats_hit, (void *)path);
}
