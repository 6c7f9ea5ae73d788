/*
 * snapshot.c - the master's push to snitch-stats: encode and decode a
 * snapshot, and pass it over the control socket.
 *
 * Push, don't pull: the master sends a whole snapshot (never a change)
 * each time something in it changes, and when it starts snitch-stats,
 * so a snapshot that could not be sent is simply replaced by the next,
 * and a restarted snitch-stats has everything at once.  Live worker
 * slots are not in it: snitch-stats maps each running generation's
 * counters memfd read-only and adds them up at each request (tally.c).
 *
 * A message (SOCK_SEQPACKET) is the byte 'S' with descriptors
 * (SCM_RIGHTS): the snapshot (a sealed memfd), then one read-only
 * counters memfd per running generation, in sn_gens order.  The
 * snapshot, in host byte order (both ends are the same build):
 *
 *   "snitch-snapshot-1\0"
 *   u32 sizeof(struct counters_worker)   same layout on both ends
 *   u32 generation  u64 restarts  u32 reload_ok  i64 reload_time
 *   struct counters_worker  u64 lost    gone generations, no backends
 *   u32 N, then N struct tally_backend  their backends, by name
 *   u32 G, then G times:
 *     u32 number  u32 nworkers  u32 B, then B names of
 *     WCONF_NAME_MAX + 1 bytes, NUL-padded
 *   "end\0"
 *
 * snitch-stats trusts its master but decodes strictly anyway, so a
 * mismatch between binaries fails loudly rather than shows nonsense.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "snapshot.h"

#define SNAPSHOT_MAGIC	"snitch-snapshot-1"
#define SNAPSHOT_END	"end"
#define SNAPSHOT_MSG	'S'

/* snapshot_u32 - write v as a u32 */
static void
snapshot_u32(FILE *f, size_t v)
{
	uint32_t	u = (uint32_t)v;

	fwrite(&u, sizeof(u), 1, f);
}

/* snapshot_put_gen - one running generation: number, workers, names */
static void
snapshot_put_gen(FILE *f, const struct snapshot_gen *sg)
{
	char	name[WCONF_NAME_MAX + 1];
	size_t	i;

	snapshot_u32(f, sg->sg_number);
	snapshot_u32(f, sg->sg_nworkers);
	snapshot_u32(f, sg->sg_nbackends);
	for (i = 0; i < sg->sg_nbackends; i++) {
		memset(name, 0, sizeof(name));
		memcpy(name, sg->sg_backends[i].wb_name,
		    strnlen(sg->sg_backends[i].wb_name, WCONF_NAME_MAX));
		fwrite(name, sizeof(name), 1, f);
	}
}

/* snapshot_encode - write sn to fd; 0, or -1 with errno */
int
snapshot_encode(const struct snapshot *sn, int fd)
{
	char	*blob = NULL;
	size_t	 len = 0, off = 0, i;
	ssize_t	 n;
	FILE	*f;
	int	 rc = -1;

	if ((f = open_memstream(&blob, &len)) == NULL)
		return -1;
	fwrite(SNAPSHOT_MAGIC, sizeof(SNAPSHOT_MAGIC), 1, f);
	snapshot_u32(f, sizeof(struct counters_worker));
	snapshot_u32(f, sn->sn_generation);
	fwrite(&sn->sn_restarts, sizeof(sn->sn_restarts), 1, f);
	snapshot_u32(f, sn->sn_reload_ok ? 1 : 0);
	fwrite(&sn->sn_reload_time, sizeof(sn->sn_reload_time), 1, f);
	fwrite(&sn->sn_gone.ty_w, sizeof(sn->sn_gone.ty_w), 1, f);
	fwrite(&sn->sn_gone.ty_lost, sizeof(sn->sn_gone.ty_lost), 1, f);
	snapshot_u32(f, sn->sn_gone.ty_nbackends);
	if (sn->sn_gone.ty_nbackends > 0)
		fwrite(sn->sn_gone.ty_backends, sizeof(struct tally_backend),
		    sn->sn_gone.ty_nbackends, f);
	snapshot_u32(f, sn->sn_ngens);
	for (i = 0; i < sn->sn_ngens; i++)
		snapshot_put_gen(f, &sn->sn_gens[i]);
	fwrite(SNAPSHOT_END, sizeof(SNAPSHOT_END), 1, f);
	if (fclose(f) != 0)
		goto out;
	while (off < len && (n = write(fd, blob + off, len - off)) > 0)
		off += (size_t)n;
	rc = off == len ? 0 : -1;
out:
	free(blob);
	return rc;
}

/* what is left to decode */
struct snapshot_in {
	const uint8_t	*si_at;
	size_t		 si_left;
};

/* snapshot_get - take size bytes into to; 0, or -1 when there are not */
static int
snapshot_get(struct snapshot_in *in, void *to, size_t size)
{
	if (in->si_left < size)
		return -1;
	memcpy(to, in->si_at, size);
	in->si_at += size;
	in->si_left -= size;
	return 0;
}

/* snapshot_get_u32 - take a u32 into a size_t */
static int
snapshot_get_u32(struct snapshot_in *in, size_t *v)
{
	uint32_t	u;

	if (snapshot_get(in, &u, sizeof(u)) == -1)
		return -1;
	*v = u;
	return 0;
}

/* snapshot_get_name - a NUL-padded name, which must end in its bytes */
static int
snapshot_get_name(struct snapshot_in *in, char *name)
{
	if (snapshot_get(in, name, WCONF_NAME_MAX + 1) == -1 ||
	    name[WCONF_NAME_MAX] != '\0')
		return -1;
	return 0;
}

/* snapshot_get_gen - one running generation */
static int
snapshot_get_gen(struct snapshot_in *in, struct snapshot_gen *sg)
{
	size_t	number, i;

	if (snapshot_get_u32(in, &number) == -1 ||
	    snapshot_get_u32(in, &sg->sg_nworkers) == -1 ||
	    snapshot_get_u32(in, &sg->sg_nbackends) == -1 ||
	    sg->sg_nbackends > in->si_left / (WCONF_NAME_MAX + 1))
		return -1;
	sg->sg_number = (unsigned)number;
	if ((sg->sg_backends = calloc(sg->sg_nbackends + 1,
	    sizeof(*sg->sg_backends))) == NULL)
		return -1;
	for (i = 0; i < sg->sg_nbackends; i++)
		if (snapshot_get_name(in, sg->sg_backends[i].wb_name) == -1)
			return -1;
	return 0;
}

/* snapshot_get_gone - the totals of the gone generations */
static int
snapshot_get_gone(struct snapshot_in *in, struct tally *ty)
{
	size_t	i;

	if (snapshot_get(in, &ty->ty_w, sizeof(ty->ty_w)) == -1 ||
	    snapshot_get(in, &ty->ty_lost, sizeof(ty->ty_lost)) == -1 ||
	    snapshot_get_u32(in, &ty->ty_nbackends) == -1 ||
	    ty->ty_nbackends > in->si_left / sizeof(struct tally_backend))
		return -1;
	if ((ty->ty_backends = calloc(ty->ty_nbackends + 1,
	    sizeof(*ty->ty_backends))) == NULL ||
	    snapshot_get(in, ty->ty_backends, ty->ty_nbackends *
	    sizeof(*ty->ty_backends)) == -1)
		return -1;
	for (i = 0; i < ty->ty_nbackends; i++)
		if (ty->ty_backends[i].tb_name[WCONF_NAME_MAX] != '\0')
			return -1;
	return 0;
}

/* snapshot_get_head - magic, layout, and the single figures */
static int
snapshot_get_head(struct snapshot_in *in, struct snapshot *sn)
{
	char	magic[sizeof(SNAPSHOT_MAGIC)];
	size_t	layout, generation, ok;

	if (snapshot_get(in, magic, sizeof(magic)) == -1 ||
	    memcmp(magic, SNAPSHOT_MAGIC, sizeof(magic)) != 0 ||
	    snapshot_get_u32(in, &layout) == -1 ||
	    layout != sizeof(struct counters_worker) ||
	    snapshot_get_u32(in, &generation) == -1 ||
	    snapshot_get(in, &sn->sn_restarts, sizeof(sn->sn_restarts)) == -1 ||
	    snapshot_get_u32(in, &ok) == -1 ||
	    snapshot_get(in, &sn->sn_reload_time,
	    sizeof(sn->sn_reload_time)) == -1)
		return -1;
	sn->sn_generation = (unsigned)generation;
	sn->sn_reload_ok = ok != 0;
	return 0;
}

/*
 * snapshot_decode - a snapshot from len bytes of buf; 0, or -1 (EBADMSG:
 * damaged or from another version; ENOMEM) with sn empty
 */
int
snapshot_decode(const uint8_t *buf, size_t len, struct snapshot *sn)
{
	struct snapshot_in	 in = { buf, len };
	char			 end[sizeof(SNAPSHOT_END)];
	size_t			 i;

	memset(sn, 0, sizeof(*sn));
	errno = EBADMSG;
	if (snapshot_get_head(&in, sn) == -1 ||
	    snapshot_get_gone(&in, &sn->sn_gone) == -1 ||
	    snapshot_get_u32(&in, &sn->sn_ngens) == -1 ||
	    sn->sn_ngens > SNAPSHOT_GENS_MAX)
		goto fail;
	if ((sn->sn_gens = calloc(sn->sn_ngens + 1, sizeof(*sn->sn_gens))) ==
	    NULL)
		goto fail;
	for (i = 0; i < sn->sn_ngens; i++)
		if (snapshot_get_gen(&in, &sn->sn_gens[i]) == -1)
			goto fail;
	if (snapshot_get(&in, end, sizeof(end)) == -1 ||
	    memcmp(end, SNAPSHOT_END, sizeof(end)) != 0 || in.si_left != 0)
		goto fail;
	return 0;
fail:
	if (errno != ENOMEM)
		errno = EBADMSG;
	snapshot_clear(sn);
	return -1;
}

/* snapshot_clear - release what snapshot_decode allocated */
void
snapshot_clear(struct snapshot *sn)
{
	size_t	i;

	for (i = 0; sn->sn_gens != NULL && i < sn->sn_ngens; i++)
		free(sn->sn_gens[i].sg_backends);
	free(sn->sn_gens);
	tally_clear(&sn->sn_gone);
	memset(sn, 0, sizeof(*sn));
}

/*
 * snapshot_send - the snapshot memfd and n counters memfds, in one
 * message; 0, or -1 with errno (EAGAIN: snitch-stats has not read the
 * ones before; the caller sends a newer snapshot later)
 */
int
snapshot_send(int sock, int snapshot_fd, const int *counters_fds, size_t n)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE((SNAPSHOT_GENS_MAX + 1) *
				    sizeof(int))];
	}		 cm;
	char		 cmd = SNAPSHOT_MSG;
	struct iovec	 iov = { &cmd, 1 };
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;

	if (n > SNAPSHOT_GENS_MAX) {
		errno = E2BIG;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = CMSG_SPACE((n + 1) * sizeof(int));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN((n + 1) * sizeof(int));
	memcpy(CMSG_DATA(cmsg), &snapshot_fd, sizeof(int));
	if (n > 0)
		memcpy(CMSG_DATA(cmsg) + sizeof(int), counters_fds,
		    n * sizeof(int));
	/* snitch-stats busy with a client must not hold the master. */
	return sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/*
 * snapshot_recv - the next message: 1 with *snapshot_fd and *n counters
 * descriptors (close-on-exec, SNAPSHOT_GENS_MAX room), 0 when the
 * master is gone, -1 with errno (EBADMSG: not a message we know, every
 * descriptor in it closed).  Checked as nginx's ngx_read_channel does.
 */
int
snapshot_recv(int sock, int *snapshot_fd, int *counters_fds, size_t *n)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE((SNAPSHOT_GENS_MAX + 1) *
				    sizeof(int))];
	}		 cm;
	int		 fds[SNAPSHOT_GENS_MAX + 1];
	char		 cmd;
	struct iovec	 iov = { &cmd, 1 };
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	ssize_t		 got;
	size_t		 i, nfds = 0, room;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	if ((got = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) <= 0)
		return got == 0 ? 0 : -1;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		room = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < room; i++) {
			int one;

			memcpy(&one, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (nfds < SNAPSHOT_GENS_MAX + 1)
				fds[nfds++] = one;
			else
				close(one);
		}
	}
	if (cmd != SNAPSHOT_MSG || nfds == 0 ||
	    (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		errno = EBADMSG;
		return -1;
	}
	*snapshot_fd = fds[0];
	memcpy(counters_fds, fds + 1, (nfds - 1) * sizeof(int));
	*n = nfds - 1;
	return 1;
}
