/*
 * stats.c - the stats process, seen from the master: bind its socket,
 * start snitch-stats and restart it when it dies, push it snapshots.
 *
 * The master never reads a byte a stats client sends: snitch-stats
 * (stats/) answers GET /metrics and `snitch -s`, in a process of its
 * own, unprivileged and sandboxed.  Its descriptors (snapshot.h):
 *   3  SNAPSHOT_LISTEN_FD  the stats socket, bound here as root before
 *                          the privilege drop (a Unix socket, mode 0660
 *                          owned by `user`, or a TCP address)
 *   4  SNAPSHOT_CTL_FD     a control socket it cannot send on: the
 *                          master's snapshots; EOF tells it to exit
 * It is started after the drop (child.c): it gets no capability, not
 * even the CAP_SYS_CHROOT workers get with `chroot`.  When it dies it
 * is restarted like a worker, with the same delays for young deaths
 * (child_delay), and is sent a snapshot at once.
 *
 * Push, don't pull: whenever what it shows changes (spawn_version: a
 * generation started or folded away, a worker restarted; a reload's
 * outcome), the master sends a whole new snapshot (snapshot.c): the
 * totals of gone generations, the restart count, the generation and
 * reload figures, and one read-only descriptor of each running
 * generation's counters, which snitch-stats adds up at each request.
 * The send never blocks: a snapshot snitch-stats has no room for yet
 * is sent again, newer, STATS_RETRY_MS later.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "ids.h"
#include "log.h"
#include "snapshot.h"
#include "sockdir.h"
#include "sockfile.h"
#include "spawn.h"
#include "stats.h"

#define STATS_RETRY_MS	100	/* a push that did not go through */
#define STATS_TMP_TRIES	8	/* names tried for the private directory */

static int			 stats_exe = -1;	/* snitch-stats */
static int			 stats_listen_fd = -1;
static int			 stats_syslog;
static int			 stats_verbose;
static pid_t			 stats_pid;	/* 0: not running */
static int			 stats_ctl = -1;	/* our end */
static struct child_throttle	 stats_throttle;
static uint64_t			 stats_respawn_ms;
static int			 stats_stopping;
static int			 stats_dirty = 1;	/* a push is due */
static uint64_t			 stats_pushed;	/* spawn_version then */
static uint64_t			 stats_retry_ms;
static int			 stats_reload_ok = 1;	/* the last load of the file */
static time_t			 stats_reload_time;	/* when it was; 0: not yet */

/* stats_reloaded - the configuration was loaded (at start, on SIGHUP) */
void
stats_reloaded(int ok)
{
	stats_reload_ok = ok;
	stats_reload_time = time(NULL);
	stats_dirty = 1;
}

/*
 * stats_path_why - whether what is at name in dirfd (path, also in sun)
 * may be replaced by the stats socket: NULL when nothing is there or a
 * socket nobody listens on that is not a backend's, else why not (in
 * why)
 */
static const char *
stats_path_why(const struct conf *cf, int dirfd, const char *name,
    const struct sockaddr_un *sun, char *why, size_t size)
{
	const struct wconf	*wc = &cf->cf_wconf;
	const char		*root = wc->wc_chroot != NULL ? wc->wc_chroot :
				    "";
	char			 backend[PATH_MAX];
	struct stat		 st, bst;
	size_t			 i;
	int			 live;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return NULL;
		snprintf(why, size, "%s", strerror(errno));
		return why;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, size, "there is a %s there, and only a socket "
		    "nobody listens on is replaced: remove it or choose "
		    "another path", S_ISLNK(st.st_mode) ? "symbolic link" :
		    S_ISDIR(st.st_mode) ? "directory" : S_ISREG(st.st_mode) ?
		    "regular file" : "file that is not a socket");
		return why;
	}
	/* Its identity: a backend's path may be written another way. */
	for (i = 0; i < wc->wc_nbackends; i++) {
		snprintf(backend, sizeof(backend), "%s%s", root,
		    wc->wc_backends[i].wb_socket);
		if (lstat(backend, &bst) == 0 && bst.st_dev == st.st_dev &&
		    bst.st_ino == st.st_ino) {
			snprintf(why, size, "it is backend %s's socket: choose "
			    "another path", wc->wc_backends[i].wb_name);
			return why;
		}
	}
	if ((live = sockfile_live(sun)) == 1) {
		snprintf(why, size, "a process listens on it (another snitch?): "
		    "stop it or choose another path");
		return why;
	}
	if (live == -1) {
		snprintf(why, size, "cannot tell whether a process listens on "
		    "it: %s", strerror(errno));
		return why;
	}
	return NULL;
}

/*
 * stats_private_dir - a fresh directory only root can write, made beside
 * name in dirfd, its name in out; its descriptor (fatal on failure)
 */
static int
stats_private_dir(const char *path, int dirfd, const char *name, char *out,
    size_t size)
{
	struct stat	st;
	int		tries, fd;

	for (tries = 0; tries < STATS_TMP_TRIES; tries++) {
		if (sockfile_tmpname(name, out, size) == -1)
			fatal("stats %s", path);
		if (mkdirat(dirfd, out, 0700) == 0)
			break;
		if (errno != EEXIST)
			fatal("stats %s: mkdir %s", path, out);
	}
	if (tries == STATS_TMP_TRIES)
		fatalx("stats %s: no free temporary name", path);
	/* Whoever may write dirfd could have put another one in its place. */
	if ((fd = openat(dirfd, out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1)
		fatal("stats %s: open %s", path, out);
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		fatalx("stats %s: the directory %s just made was replaced "
		    "(uid %lu, mode %04o): another user is at work there",
		    path, out, (unsigned long)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
	return fd;
}

/*
 * stats_owner - whom the stats socket will belong to: `user` (by the one
 * rule, ids.h, as privdrop.c reads it) when started as root; 0, or -1
 * to leave it as bound
 */
static int
stats_owner(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	uid_t		 u;

	if (geteuid() != 0 || user == NULL || ids_uid(user, &u) == -1 ||
	    (pw = getpwuid(u)) == NULL)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/*
 * stats_listen_unix - the stats Unix socket, mode 0660, owned by user.
 *
 * Root never touches the path by name once something may be there: the
 * directory may be `user`'s, and a chmod or chown by name follows the
 * symlink that user swaps in, as a rename does not.  So the socket is
 * bound in a fresh directory only root can write (born 0660 under a
 * umask), chowned there without following links, listening, and only
 * then renamed over the path, whose directory is held open throughout.
 */
static int
stats_listen_unix(const struct conf *cf)
{
	const char		*path = cf->cf_stats, *name, *why;
	struct sockaddr_un	 sun, here;
	char			 dir[sizeof(sun.sun_path)], priv[NAME_MAX + 1];
	char			 whybuf[256], *slash;
	uid_t			 uid = (uid_t)-1;
	gid_t			 gid = (gid_t)-1;
	int			 dirfd, privfd, cwd, fd, chowned, r, err;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("stats %s: path too long", path);
	strcpy(sun.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');	/* conf.c: an absolute path */
	*slash = '\0';
	name = path + (slash - dir) + 1;
	if (*name == '\0')
		fatalx("stats %s: no file name", path);
	chowned = stats_owner(cf->cf_user, &uid, &gid) == 0;
	sockdir_stats(path, dir, chowned ? (int64_t)uid :
	    (int64_t)geteuid());
	if ((dirfd = open(dir[0] != '\0' ? dir : "/", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatal("stats %s: directory %s", path, dir);
	if ((why = stats_path_why(cf, dirfd, name, &sun, whybuf,
	    sizeof(whybuf))) != NULL)
		fatalx("stats %s: %s", path, why);
	privfd = stats_private_dir(path, dirfd, name, priv, sizeof(priv));

	memset(&here, 0, sizeof(here));
	here.sun_family = AF_UNIX;
	strcpy(here.sun_path, name);
	/* bind has no *at form: bind the name inside, from there. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || (cwd = open(".", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || fchdir(privfd) == -1)
		fatal("stats %s", path);
	r = sockfile_bind(fd, &here, 0660);
	err = errno;
	if (fchdir(cwd) == -1)
		fatal("stats %s: back to the working directory", path);
	close(cwd);
	errno = err;
	why = NULL;
	if (r == -1 || (chowned && fchownat(privfd, name, uid, gid,
	    AT_SYMLINK_NOFOLLOW) == -1) || listen(fd, 16) == -1)
		why = strerror(errno);
	/* Checked again just before: the rename replaces what is there. */
	else if ((why = stats_path_why(cf, dirfd, name, &sun, whybuf,
	    sizeof(whybuf))) == NULL && renameat(privfd, name, dirfd,
	    name) == -1)
		why = strerror(errno);
	if (why != NULL)
		(void)unlinkat(privfd, name, 0);
	if (unlinkat(dirfd, priv, AT_REMOVEDIR) == -1 && why == NULL)
		log_warn("stats %s: cannot remove %s", path, priv);
	close(privfd);
	close(dirfd);
	if (why != NULL)
		fatalx("stats %s: %s", path, why);
	return fd;
}

/* stats_listen_inet - the stats TCP socket */
static int
stats_listen_inet(const struct conf_listen *cl)
{
	int	fd, on = 1;

	fd = socket(cl->cl_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (cl->cl_addr.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, (const struct sockaddr *)&cl->cl_addr, cl->cl_len) == -1 ||
	    listen(fd, 16) == -1)
		fatal("stats %s", cl->cl_text);
	return fd;
}

/* stats_listen - bind the stats socket (as root); fatal on failure */
int
stats_listen(const struct conf *cf)
{
	if (cf->cf_stats_inet)
		return stats_listen_inet(&cf->cf_stats_addr);
	return stats_listen_unix(cf);
}

/* stats_init - what snitch-stats will be given; listen_fd -1: no stats */
void
stats_init(int exe_fd, int listen_fd, int use_syslog, int verbose)
{
	stats_exe = exe_fd;
	stats_listen_fd = listen_fd;
	stats_syslog = use_syslog;
	stats_verbose = verbose;
}

/* a snapshot being put together */
struct stats_push {
	struct snapshot	sp_sn;
	int		sp_fds[SNAPSHOT_GENS_MAX];	/* read-only counters */
	int		sp_failed;
};

static struct snapshot_gen	stats_gens[SNAPSHOT_GENS_MAX];

/* stats_push_gen - spawn_live callback: a running generation */
static void
stats_push_gen(void *arg, unsigned number, int counters_fd, size_t nworkers,
    size_t nbackends, const struct wconf_backend *backends)
{
	struct stats_push	*sp = arg;
	struct snapshot_gen	*sg;
	char			 path[64];
	int			 fd;

	if (sp->sp_failed)
		return;
	if (sp->sp_sn.sn_ngens == SNAPSHOT_GENS_MAX) {
		errno = E2BIG;
		sp->sp_failed = 1;
		return;
	}
	/* Opened again read-only: snitch-stats cannot map it writable. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", counters_fd);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		sp->sp_failed = 1;
		return;
	}
	sg = &sp->sp_sn.sn_gens[sp->sp_sn.sn_ngens];
	sg->sg_number = number;
	sg->sg_nworkers = nworkers;
	sg->sg_nbackends = nbackends;
	sg->sg_backends = (struct wconf_backend *)backends;
	sp->sp_fds[sp->sp_sn.sn_ngens++] = fd;
}

/* stats_snapshot - a sealed memfd holding sn, or -1 */
static int
stats_snapshot(const struct snapshot *sn)
{
	int	fd;

	if ((fd = memfd_create("snitch-snapshot", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	if (snapshot_encode(sn, fd) == -1 || fcntl(fd, F_ADD_SEALS,
	    F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* stats_push - send snitch-stats a snapshot of now; 0, or -1 with errno */
static int
stats_push(void)
{
	struct stats_push	sp;
	size_t			i;
	int			memfd = -1, rc = -1, err;

	memset(&sp, 0, sizeof(sp));
	sp.sp_sn.sn_generation = spawn_current_gen();
	sp.sp_sn.sn_restarts = spawn_restarts();
	sp.sp_sn.sn_reload_ok = stats_reload_ok;
	sp.sp_sn.sn_reload_time = stats_reload_time;
	sp.sp_sn.sn_gone = *spawn_gone();	/* read, not owned */
	sp.sp_sn.sn_gens = stats_gens;
	spawn_live(stats_push_gen, &sp);
	if (!sp.sp_failed && (memfd = stats_snapshot(&sp.sp_sn)) != -1)
		rc = snapshot_send(stats_ctl, memfd, sp.sp_fds,
		    sp.sp_sn.sn_ngens);
	err = errno;
	if (memfd != -1)
		close(memfd);
	for (i = 0; i < sp.sp_sn.sn_ngens; i++)
		close(sp.sp_fds[i]);
	errno = err;
	return rc;
}

static void	stats_died(int, uint64_t);

/* stats_start - fork and exec snitch-stats; on failure, retry later */
static void
stats_start(uint64_t now_ms)
{
	char			*argv[] = { "snitch-stats", NULL, NULL, NULL };
	int			 from[2], to[2] = { SNAPSHOT_LISTEN_FD,
				    SNAPSHOT_CTL_FD };
	struct child_exec	 ce = { "stats", stats_exe, argv, from, to, 2, 0 };
	enum child_start	 started;
	int			 argc = 1, ctl, child_ctl_end, status;

	if (stats_syslog)
		argv[argc++] = "-s";
	if (stats_verbose)
		argv[argc++] = "-v";
	if (child_ctl(&ctl, &child_ctl_end) == -1) {
		log_warn("stats: control socket");
		stats_respawn_ms = now_ms + 1000;
		return;
	}
	from[0] = stats_listen_fd;
	from[1] = child_ctl_end;
	started = child_start(&ce, &stats_pid, &status);
	close(child_ctl_end);
	if (started == CHILD_NOT_FORKED) {
		log_warn("stats: fork");
		close(ctl);
		stats_pid = 0;
		stats_respawn_ms = now_ms + 1000;
		return;
	}
	stats_ctl = ctl;
	stats_throttle.ct_started_ms = now_ms;
	stats_dirty = 1;	/* it knows nothing yet */
	stats_retry_ms = 0;
	log_debug("%s: snitch-stats is pid %ld", __func__, (long)stats_pid);
	if (started == CHILD_EXEC_FAILED)
		stats_died(status, now_ms);
}

/* stats_died - log snitch-stats' end and decide when it comes back */
static void
stats_died(int status, uint64_t now_ms)
{
	char		how[160];
	uint64_t	delay;

	child_how(status, how, sizeof(how));
	close(stats_ctl);
	stats_ctl = -1;
	if (stats_stopping) {
		log_debug("%s: stats process (pid %ld) %s", __func__,
		    (long)stats_pid, how);
		stats_pid = 0;
		return;
	}
	delay = child_delay(&stats_throttle, now_ms);
	log_warnx("stats process (pid %ld) %s; restarting it %s%.1fs",
	    (long)stats_pid, how, delay ? "in " : "now, after ", delay ?
	    delay / 1000.0 : (now_ms - stats_throttle.ct_started_ms) / 1000.0);
	stats_pid = 0;
	stats_respawn_ms = now_ms + delay;
}

/* stats_exited - pid ended with status: 1 if it was snitch-stats */
int
stats_exited(pid_t pid, int status, uint64_t now_ms)
{
	if (stats_pid == 0 || pid != stats_pid)
		return 0;
	stats_died(status, now_ms);
	return 1;
}

/*
 * stats_due - start snitch-stats if it is due, push it a snapshot if
 * one is; ms until this wants to run again, or -1
 */
int
stats_due(uint64_t now_ms)
{
	static int	failing;
	uint64_t	version;

	if (stats_listen_fd == -1 || stats_stopping)
		return -1;
	if (stats_pid == 0 && now_ms >= stats_respawn_ms)
		stats_start(now_ms);
	if (stats_pid == 0)
		return stats_respawn_ms > now_ms ?
		    (int)(stats_respawn_ms - now_ms) : 0;
	version = spawn_version();
	if (!stats_dirty && stats_pushed == version)
		return -1;
	if (now_ms < stats_retry_ms)
		return (int)(stats_retry_ms - now_ms);
	if (stats_push() == 0) {
		stats_dirty = failing = 0;
		stats_pushed = version;
		return -1;
	}
	/* Busy (EAGAIN) is normal for a moment; anything else, say once. */
	if (errno != EAGAIN && !failing)
		log_warn("stats: cannot send a snapshot; trying again");
	failing = errno != EAGAIN;
	stats_dirty = 1;
	stats_retry_ms = now_ms + STATS_RETRY_MS;
	return STATS_RETRY_MS;
}

/* stats_stop - snitch is stopping: end snitch-stats, do not restart it */
void
stats_stop(void)
{
	stats_stopping = 1;
	if (stats_pid > 0)
		kill(stats_pid, SIGTERM);
}
