/*
 * fair.c - snitch-exec's share of its programs among client netblocks.
 *
 * Runs in snitch-exec, unprivileged, in its one loop; no system call.
 * A client's source is its address with the host bits cleared (-n, by
 * default each IPv4 address and each IPv6 /64, since one host or site
 * is handed a whole /64 and picks addresses in it at will).  The table
 * counts the programs each source runs: a source can hold no more than
 * fr_size sources because each runs at least one of fr_max programs.
 *
 * The policy, in fair_admit (snitch-exec(8) says it to the user):
 *  - a source running its share (-C) is refused, whoever else runs;
 *  - when every program runs, the newcomer makes room only if the
 *    busiest source runs at least two more than the newcomer's own:
 *    then one of the busiest's ends.  With one more only, the swap
 *    would make the busiest the newcomer's source and could go back and
 *    forth for ever; so a few connections from one place can hold no
 *    more than their fair part once others come, and a client from the
 *    busiest source itself is refused, as without fairness.
 * Which of the busiest source's programs ends is the caller's choice
 * (snitch-exec ends the newest).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fair.h"
#include "log.h"

/* fair_init - an empty table for max programs; 0, or -1 with errno */
int
fair_init(struct fair *fr, size_t max, size_t per_source, unsigned v4_bits,
    unsigned v6_bits)
{
	memset(fr, 0, sizeof(*fr));
	if (max == 0 || v4_bits > 32 || v6_bits > 128) {
		errno = EINVAL;
		return -1;
	}
	if ((fr->fr_sources = calloc(max, sizeof(*fr->fr_sources))) == NULL)
		return -1;
	fr->fr_size = max;
	fr->fr_max = max;
	fr->fr_per_source = per_source;
	fr->fr_v4_bits = v4_bits;
	fr->fr_v6_bits = v6_bits;
	return 0;
}

/* fair_free - release the table */
void
fair_free(struct fair *fr)
{
	free(fr->fr_sources);
	fr->fr_sources = NULL;
	fr->fr_size = 0;
}

/* fair_bits_one - a decimal prefix length within 0..hi; its end, or NULL */
static const char *
fair_bits_one(const char *arg, unsigned hi, unsigned *bits)
{
	unsigned	v = 0;
	const char	*p;

	for (p = arg; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > hi)
			return NULL;
	}
	if (p == arg)
		return NULL;
	*bits = v;
	return p;
}

/*
 * fair_bits - "-n V4[:V6]", OpenSSH's PerSourceNetBlockSize form: the
 * prefix lengths that make a source (V6 keeps its value when absent);
 * 0, or -1 with errno EINVAL
 */
int
fair_bits(const char *arg, unsigned *v4_bits, unsigned *v6_bits)
{
	unsigned	 v4, v6 = *v6_bits;
	const char	*p;

	if ((p = fair_bits_one(arg, 32, &v4)) == NULL)
		goto bad;
	if (*p == ':' && (p = fair_bits_one(p + 1, 128, &v6)) == NULL)
		goto bad;
	if (*p != '\0')
		goto bad;
	*v4_bits = v4;
	*v6_bits = v6;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/*
 * fair_block - the netblock of a client's address (common/netblock.c:
 * an IPv4-mapped IPv6 address, a dual-stack listener's IPv4 client,
 * counts as that IPv4 address).  A client with no address (a PROXY
 * LOCAL handoff) is in one block, with every other such client.
 */
void
fair_block(const struct fair *fr, const struct sockaddr_storage *ss,
    struct netblock *fb)
{
	netblock_of((const struct sockaddr *)ss, fr->fr_v4_bits,
	    fr->fr_v6_bits, fb);
}

/* fair_find - the source of block fb, or NULL when it runs nothing */
static struct fair_source *
fair_find(const struct fair *fr, const struct netblock *fb)
{
	size_t	i;

	for (i = 0; i < fr->fr_size; i++)
		if (fr->fr_sources[i].fs_running > 0 &&
		    netblock_equal(&fr->fr_sources[i].fs_block, fb))
			return &fr->fr_sources[i];
	return NULL;
}

/*
 * fair_admit - what a client from block fb gets, by the policy above;
 * for FAIR_EVICT, *victim is the source one of whose programs is to end
 */
enum fair_verdict
fair_admit(const struct fair *fr, const struct netblock *fb,
    const struct fair_source **victim)
{
	const struct fair_source	*own, *busiest = NULL;
	size_t				 mine, i;

	*victim = NULL;
	own = fair_find(fr, fb);
	mine = own != NULL ? own->fs_running : 0;
	if (fr->fr_running < fr->fr_max) {
		if (fr->fr_per_source != 0 && mine >= fr->fr_per_source)
			return FAIR_REFUSE_SOURCE;
		return FAIR_RUN;
	}
	for (i = 0; i < fr->fr_size; i++)
		if (busiest == NULL ||
		    fr->fr_sources[i].fs_running > busiest->fs_running)
			busiest = &fr->fr_sources[i];
	if (busiest == NULL || busiest->fs_running < mine + 2)
		return FAIR_REFUSE_BUSY;
	*victim = busiest;
	return FAIR_EVICT;
}

/* fair_add - count a program for block fb; its source */
const struct fair_source *
fair_add(struct fair *fr, const struct netblock *fb)
{
	struct fair_source	*fs;
	size_t			 i;

	if (fr->fr_running >= fr->fr_max)
		log_panic("%s: %zu programs counted already", __func__,
		    fr->fr_running);
	if ((fs = fair_find(fr, fb)) == NULL) {
		/* Fewer than fr_max running: some slot is free. */
		for (i = 0; i < fr->fr_size; i++)
			if (fr->fr_sources[i].fs_running == 0)
				break;
		if (i == fr->fr_size)
			log_panic("%s: no free source slot", __func__);
		fs = &fr->fr_sources[i];
		fs->fs_block = *fb;
	}
	fs->fs_running++;
	fr->fr_running++;
	return fs;
}

/* fair_remove - a program of source fs ended, or is being ended */
void
fair_remove(struct fair *fr, const struct fair_source *fs)
{
	struct fair_source	*own;

	if (fs < fr->fr_sources || fs >= fr->fr_sources + fr->fr_size ||
	    fs->fs_running == 0 || fr->fr_running == 0)
		log_panic("%s: not a source with programs", __func__);
	own = &fr->fr_sources[fs - fr->fr_sources];
	own->fs_running--;
	fr->fr_running--;
}
