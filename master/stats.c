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
#include "spawn.h"
#include "stats.h"

#define STATS_RETRY_MS	100	/* a push that did not go through */

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

/* stats_listen_unix - the stats Unix socket, mode 0660, owned by user */
static int
stats_listen_unix(const char *path, const char *user)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	struct passwd		*pw;
	uid_t			 uid;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("stats %s: path too long", path);
	strcpy(sun.sun_path, path);
	/* Replace a stale socket, never anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0660) == -1 || listen(fd, 16) == -1)
		fatal("stats %s", path);
	/* `user` by the one rule (ids.h), as privdrop.c reads it. */
	if (geteuid() == 0 && user != NULL && ids_uid(user, &uid) == 0 &&
	    (pw = getpwuid(uid)) != NULL &&
	    chown(path, pw->pw_uid, pw->pw_gid) == -1)
		fatal("stats %s: chown", path);
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
	return stats_listen_unix(cf->cf_stats, cf->cf_user);
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
