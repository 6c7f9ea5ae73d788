/*
 * penalty.c - the netblocks whose new connections the kernel drops for
 * a while, at the workers' word (worker/penalty.c says when).
 *
 * Runs in the master, after privileges are dropped.  A table of at most
 * PENALTY_MAX netblocks, each with the time its penalty ends.  While it
 * is not empty, each listener carries the socket filter that
 * common/synfilter.c builds from it: a bare SYN from a penalized
 * netblock is dropped before it makes a connection, so the client's
 * connect times out as if the host were down, and nothing reaches an
 * accept queue or a worker.  A PROXY listener never carries it: its SYNs
 * come from its proxies, whom it must not shut out.  Connections made
 * before are not touched, and the accepted ones' copies of the filter
 * pass everything but a SYN.  When the table empties, the filter is
 * taken off.
 *
 * A report of a netblock already penalized extends its penalty (no new
 * filter).  The filter is built and attached at most once per pass of
 * the master's loop, however many reports that pass read.  What the
 * table or the kernel's instruction limit cannot hold is counted and
 * logged, and left unpenalized: the workers' eviction still holds.  A
 * filter the kernel refuses (EPERM without CAP_NET_ADMIN where it asks
 * for it, ENOMEM past net.core.optmem_max) leaves the old one in place
 * until the next change.  The log gets at most one line of each kind
 * per PENALTY_LOG_MS.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "penalty.h"
#include "privdrop.h"
#include "synfilter.h"

#define PENALTY_MAX	2048	/* netblocks; synfilter fits ~2000 IPv4 */
#define PENALTY_LOG_MS	1000

struct penalty {
	struct netblock	pn_block;
	uint64_t	pn_until;	/* ms */
};

static struct penalty	penalty_table[PENALTY_MAX];
static size_t		penalty_n;
static int		penalty_dirty;	/* the filter is not the table's */
static size_t		penalty_attached; /* netblocks in the filter */
static uint64_t		penalty_new;	/* since the last line */
static uint64_t		penalty_refused; /* table full, since then */
static int		penalty_error;	/* the last attach's errno, to log */
static size_t		penalty_unfit;	/* left out of it, to log */
static char		penalty_last[NETBLOCK_TEXT_MAX];
static uint64_t		penalty_log_at;

/* penalty_add - nb's SYNs dropped for ms from now, or for longer */
void
penalty_add(const struct netblock *nb, unsigned ms, uint64_t now)
{
	size_t	i;

	for (i = 0; i < penalty_n; i++)
		if (netblock_equal(&penalty_table[i].pn_block, nb)) {
			penalty_table[i].pn_until = now + ms;
			return;
		}
	if (penalty_n == PENALTY_MAX) {
		penalty_refused++;
		return;
	}
	penalty_table[penalty_n].pn_block = *nb;
	penalty_table[penalty_n].pn_until = now + ms;
	penalty_n++;
	penalty_dirty = 1;
	penalty_new++;
	netblock_text(nb, penalty_last, sizeof(penalty_last));
}

/* penalty_expire - forget the penalties over by now, or all with off */
static void
penalty_expire(uint64_t now, int off)
{
	size_t	i = 0;

	while (i < penalty_n) {
		if (!off && penalty_table[i].pn_until > now) {
			i++;
			continue;
		}
		penalty_table[i] = penalty_table[--penalty_n];
		penalty_dirty = 1;
	}
}

/* penalty_to_log - whether penalty_log has something to say */
static int
penalty_to_log(void)
{
	return penalty_new > 0 || penalty_refused > 0 || penalty_unfit > 0 ||
	    penalty_error != 0;
}

/* penalty_log - say what was penalized since the last line, if due */
static void
penalty_log(const struct conf *cf, uint64_t now)
{
	if (!penalty_to_log() || now < penalty_log_at)
		return;
	if (penalty_new > 0)
		log_warnx("penalized %llu more netblocks for %u s, the last "
		    "%s: their SYNs are dropped (%zu netblocks in all)",
		    (unsigned long long)penalty_new,
		    cf->cf_wconf.wc_penalty_ms / 1000, penalty_last,
		    penalty_n);
	if (penalty_refused > 0)
		log_warnx("penalty table full (%d netblocks): %llu more "
		    "not penalized", PENALTY_MAX,
		    (unsigned long long)penalty_refused);
	if (penalty_unfit > 0)
		log_warnx("%zu penalized netblocks do not fit the kernel's "
		    "filter: not penalized", penalty_unfit);
	if (penalty_error != 0)
		log_warnx("cannot give the listeners the SYN filter of %zu "
		    "netblocks: %s%s", penalty_n, strerror(penalty_error),
		    penalty_error == ENOMEM ? " (raise net.core.optmem_max)" :
		    penalty_error == EPERM ? " (this kernel asks for "
		    "CAP_NET_ADMIN, which snitch was not started with)" : "");
	penalty_new = penalty_refused = 0;
	penalty_unfit = 0;
	penalty_error = 0;
	penalty_log_at = now + PENALTY_LOG_MS;
}

/* penalty_filtered - whether the listener fd takes the filter */
static int
penalty_filtered(const struct conf *cf, int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		log_warn("%s: getsockname", __func__);
		return 0;
	}
	return !wconf_proxy_listener(&cf->cf_wconf, (struct sockaddr *)&ss);
}

/* penalty_attach - the filter of the table (none: empty) on each listener */
static void
penalty_attach(const struct conf *cf, const int *fds, size_t n)
{
	static struct sock_filter	 prog[SYNFILTER_MAX];
	struct netblock			 nbs[PENALTY_MAX];
	struct sock_fprog		 fp;
	size_t				 i, len, out;
	int				 none = 0;

	for (i = 0; i < penalty_n; i++)
		nbs[i] = penalty_table[i].pn_block;
	penalty_unfit = out = synfilter_build(nbs, penalty_n, prog, &len);
	fp.len = (unsigned short)len;
	fp.filter = prog;
	if (privdrop_net_admin(1) == -1)
		log_warn("%s: capset", __func__);
	for (i = 0; i < n; i++) {
		/* A failure keeps the old filter: logged by penalty_log.  A
		 * listener a reload made a PROXY one loses its filter. */
		if (penalty_n == 0 || !penalty_filtered(cf, fds[i])) {
			if (setsockopt(fds[i], SOL_SOCKET, SO_DETACH_FILTER,
			    &none, sizeof(none)) == -1 && errno != ENOENT)
				penalty_error = errno;
		} else if (setsockopt(fds[i], SOL_SOCKET, SO_ATTACH_FILTER,
		    &fp, sizeof(fp)) == -1)
			penalty_error = errno;
	}
	if (privdrop_net_admin(0) == -1)
		fatal("%s: capset: CAP_NET_ADMIN stays effective", __func__);
	if (penalty_n == 0 && penalty_attached > 0)
		log_info("penalties over: no netblock penalized");
	penalty_attached = penalty_n - out;
}

/*
 * penalty_apply - once per pass of the master's loop: end the penalties
 * due (all of them if source_penalty is off now), log, and give the
 * listeners the filter of what is left when that changed
 */
void
penalty_apply(const struct conf *cf, const int *fds, size_t n, uint64_t now)
{
	penalty_expire(now, cf->cf_wconf.wc_penalty_ms == 0);
	if (penalty_dirty) {
		penalty_dirty = 0;
		penalty_attach(cf, fds, n);
	}
	penalty_log(cf, now);
}

/* penalty_due - ms until a penalty ends or a line is due; -1: never */
int
penalty_due(uint64_t now)
{
	uint64_t	soonest = UINT64_MAX;
	size_t		i;

	if (penalty_to_log())
		soonest = penalty_log_at;
	for (i = 0; i < penalty_n; i++)
		if (penalty_table[i].pn_until < soonest)
			soonest = penalty_table[i].pn_until;
	if (soonest == UINT64_MAX)
		return -1;
	return soonest <= now ? 0 : (int)(soonest - now);
}
