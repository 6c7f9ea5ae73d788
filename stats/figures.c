/*
 * figures.c - snitch-stats' figures: the last snapshot the master
 * pushed, plus the running generations' counter slots, read at each
 * request.
 *
 * Runs in snitch-stats, unprivileged.  A snapshot replaces the one
 * before whole, or not at all: a damaged one is logged and the old one
 * kept.  Each running generation's counters memfd comes with it,
 * opened read-only by the master, and is mapped PROT_READ here (a
 * writable mapping of it would fail): snitch-stats can read what the
 * workers count, never change it.  Until the first snapshot there are
 * no figures, and a request is answered as if none had been counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "figures.h"
#include "log.h"

struct figures_gen {
	const void	*fg_counters;	/* mapped read-only, or NULL */
	size_t		 fg_size;
};

static struct snapshot		 figures_now;	/* all zero: none yet */
static struct figures_gen	*figures_gens;	/* by figures_now.sn_gens */

/* figures_unmap - release n mapped generations */
static void
figures_unmap(struct figures_gen *fg, size_t n)
{
	size_t	i;

	for (i = 0; fg != NULL && i < n; i++)
		if (fg[i].fg_counters != NULL)
			munmap((void *)fg[i].fg_counters, fg[i].fg_size);
	free(fg);
}

/* figures_map - map a generation's counters; 0, or -1 (too small) */
static int
figures_map(const struct snapshot_gen *sg, int fd, struct figures_gen *fg)
{
	struct stat	st;
	void		*base;

	fg->fg_size = counters_size(sg->sg_nworkers, sg->sg_nbackends);
	if (fstat(fd, &st) == -1 || (size_t)st.st_size < fg->fg_size ||
	    fg->fg_size == 0) {
		errno = EBADMSG;
		return -1;
	}
	if ((base = mmap(NULL, fg->fg_size, PROT_READ, MAP_SHARED, fd,
	    0)) == MAP_FAILED)
		return -1;
	fg->fg_counters = base;
	return 0;
}

/* figures_decode - the snapshot in memfd; 0, or -1 */
static int
figures_decode(int memfd, struct snapshot *sn)
{
	struct stat	 st;
	void		*blob;
	int		 rc;

	if (fstat(memfd, &st) == -1 || st.st_size <= 0) {
		errno = EBADMSG;
		return -1;
	}
	blob = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, memfd,
	    0);
	if (blob == MAP_FAILED)
		return -1;
	rc = snapshot_decode(blob, (size_t)st.st_size, sn);
	munmap(blob, (size_t)st.st_size);
	return rc;
}

/* figures_install - sn and its n counters fds replace what we had */
static int
figures_install(struct snapshot *sn, const int *fds, size_t n)
{
	struct figures_gen	*fg;
	size_t			 i;

	if (n != sn->sn_ngens) {
		errno = EBADMSG;
		return -1;
	}
	if ((fg = calloc(n + 1, sizeof(*fg))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (figures_map(&sn->sn_gens[i], fds[i], &fg[i]) == -1) {
			figures_unmap(fg, n);
			return -1;
		}
	figures_unmap(figures_gens, figures_now.sn_ngens);
	snapshot_clear(&figures_now);
	figures_now = *sn;
	figures_gens = fg;
	return 0;
}

/*
 * figures_update - read what the master pushed on ctl: 1 (a snapshot,
 * taken or refused and logged), 0 when the master is gone, -1 with
 * errno when nothing could be read (EAGAIN: nothing more)
 */
int
figures_update(int ctl)
{
	struct snapshot	 sn;
	int		 fds[SNAPSHOT_GENS_MAX], memfd, rc;
	size_t		 n = 0, i;

	if ((rc = snapshot_recv(ctl, &memfd, fds, &n)) != 1) {
		if (rc == -1 && errno == EBADMSG)
			log_warnx("%s: a message from the master that is not a "
			    "snapshot, ignored", __func__);
		return rc == -1 && errno == EBADMSG ? 1 : rc;
	}
	if (figures_decode(memfd, &sn) == -1)
		log_warn("%s: snapshot unreadable, keeping the last one (are "
		    "snitch and snitch-stats the same version?)", __func__);
	else if (figures_install(&sn, fds, n) == -1) {
		log_warn("%s: cannot map the counters, keeping the last "
		    "snapshot", __func__);
		snapshot_clear(&sn);
	} else
		log_debug("%s: generation %u, %zu running", __func__,
		    figures_now.sn_generation, figures_now.sn_ngens);
	close(memfd);
	for (i = 0; i < n; i++)
		close(fds[i]);
	return 1;
}

/* figures_collect - the totals now: gone generations plus live slots */
static int
figures_collect(struct tally *sum)
{
	const struct snapshot_gen	*sg;
	size_t				 g, i;

	if (tally_copy(sum, &figures_now.sn_gone) == -1)
		return -1;
	for (g = 0; g < figures_now.sn_ngens; g++) {
		sg = &figures_now.sn_gens[g];
		for (i = 0; i < sg->sg_nworkers; i++)
			if (tally_add_live(sum, i, counters_slot((void *)
			    figures_gens[g].fg_counters, sg->sg_nbackends, i),
			    sg->sg_nbackends, sg->sg_backends) == -1) {
				tally_clear(sum);
				return -1;
			}
	}
	return 0;
}

/* figures_text - the figures, rendered by render; NULL when out of memory */
char *
figures_text(void (*render)(FILE *, const struct tally *,
    const struct snapshot *), size_t *len)
{
	struct tally	 sum;
	char		*text = NULL;
	FILE		*f;

	if (figures_collect(&sum) == -1)
		return NULL;
	if ((f = open_memstream(&text, len)) != NULL) {
		render(f, &sum, &figures_now);
		if (fclose(f) != 0) {
			free(text);
			text = NULL;
		}
	}
	tally_clear(&sum);
	return text;
}

/* figures_clear - release everything, at exit */
void
figures_clear(void)
{
	figures_unmap(figures_gens, figures_now.sn_ngens);
	figures_gens = NULL;
	snapshot_clear(&figures_now);
}
