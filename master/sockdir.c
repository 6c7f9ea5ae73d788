/*
 * sockdir.c - warn about handoff socket paths another user could
 * replace.
 *
 * Runs in the master at start (as root, before the privilege drop) and
 * at each reload (unprivileged: a directory it cannot stat is skipped).
 * A user who can write to a directory on the way to a socket, and is not
 * stopped by its sticky bit, can rename or remove the socket and bind
 * their own in its place.  The workers check the listener's uid where an
 * owner is known (backend.c); this says so early, and for backends
 * without an owner it is the only warning there is.  Warnings only: the
 * operator may know better (a group of trusted users).
 *
 * A directory is flagged, unless it has the sticky bit, when its group
 * or others may write to it, or (where the owner is known: a backend's
 * owner, a tenant's uid) when it belongs to neither root nor the owner.
 * Each directory is checked from the socket's up to "/", and named once
 * per check even when several sockets are under it.  With `chroot`,
 * the paths are the workers' and are looked at under the chroot
 * directory (which conf.c already requires to be root's alone), not
 * above it.
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

struct sockdir_seen {
	char	*ss_dirs[SOCKDIR_SEEN_MAX];
	size_t	 ss_n;
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

/* sockdir_why - why others could replace a file in dir, or NULL */
static const char *
sockdir_why(const struct stat *st, int64_t owner, char *why, size_t size)
{
	if (!S_ISDIR(st->st_mode) || (st->st_mode & S_ISVTX))
		return NULL;
	if (st->st_mode & S_IWOTH)
		return "every user can write to it";
	if (st->st_mode & S_IWGRP) {
		snprintf(why, size, "group %lu can write to it",
		    (unsigned long)st->st_gid);
		return why;
	}
	if (owner != -1 && st->st_uid != 0 && (int64_t)st->st_uid != owner) {
		snprintf(why, size, "it belongs to uid %lu, neither root nor "
		    "the owner uid %lld", (unsigned long)st->st_uid,
		    (long long)owner);
		return why;
	}
	return NULL;
}

/*
 * sockdir_walk - check root/dir and each of its ancestors up to root
 * ("" when there is no chroot: up to "/")
 */
static void
sockdir_walk(struct sockdir_seen *seen, const char *what, const char *root,
    const char *dir, int64_t owner)
{
	char		 path[PATH_MAX], why[96], *slash;
	const char	*reason;
	struct stat	 st;
	size_t		 rootlen = strlen(root);

	if (snprintf(path, sizeof(path), "%s%s", root, dir) >=
	    (int)sizeof(path))
		return;
	for (;;) {
		if (stat(path[0] != '\0' ? path : "/", &st) == 0 &&
		    (reason = sockdir_why(&st, owner, why, sizeof(why))) !=
		    NULL && !sockdir_seen(seen, path[0] ? path : "/"))
			log_warnx("%s: directory %s (mode %04o, no sticky bit): "
			    "%s, so another user could replace the socket",
			    what, path[0] != '\0' ? path : "/",
			    (unsigned)(st.st_mode & 07777), reason);
		if (path[0] == '\0' || (slash = strrchr(path, '/')) == NULL)
			return;
		*slash = '\0';
		if (rootlen > 0 && strlen(path) < rootlen)
			return;
	}
}

/* sockdir_check - warn about each backend's and tenant's directories */
void
sockdir_check(const struct conf *cf)
{
	const struct wconf	*wc = &cf->cf_wconf;
	struct sockdir_seen	 seen;
	char			 what[WCONF_NAME_MAX + WCONF_PATH_MAX + 32];
	char			 dir[WCONF_PATH_MAX + 1], *slash;
	const char		*root = wc->wc_chroot != NULL &&
				    strcmp(wc->wc_chroot, "/") != 0 ?
				    wc->wc_chroot : "";
	size_t			 i;

	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < wc->wc_nbackends; i++) {
		snprintf(what, sizeof(what), "backend %s: socket %s",
		    wc->wc_backends[i].wb_name, wc->wc_backends[i].wb_socket);
		strcpy(dir, wc->wc_backends[i].wb_socket);
		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = '\0';
		sockdir_walk(&seen, what, root, dir,
		    wc->wc_backends[i].wb_owner_uid);
	}
	for (i = 0; i < wc->wc_ntenants; i++) {
		snprintf(what, sizeof(what), "tenant %s: dir %s",
		    wc->wc_tenants[i].wt_name, wc->wc_tenants[i].wt_dir);
		sockdir_walk(&seen, what, root, wc->wc_tenants[i].wt_dir,
		    wc->wc_tenants[i].wt_uid);
	}
	for (i = 0; i < seen.ss_n; i++)
		free(seen.ss_dirs[i]);
}
