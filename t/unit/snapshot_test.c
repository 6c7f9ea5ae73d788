/*
 * snapshot_test.c - a snapshot survives encode and decode; a damaged
 * one is refused rather than half-read; the message carries the
 * snapshot and one descriptor per generation, and nothing else is taken.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "snapshot.h"
#include "blob.h"
#include "tap.h"

/* blob - encode sn into memory; its length in *len */
static uint8_t *
blob(const struct snapshot *sn, size_t *len)
{
	int	fd = blob_memfd();

	if (snapshot_encode(sn, fd) == -1)
		abort();
	return blob_take(fd, len);
}

/* sample - a snapshot with gone totals and two running generations */
static void
sample(struct snapshot *sn, struct snapshot_gen *gens,
    struct wconf_backend *names)
{
	memset(sn, 0, sizeof(*sn));
	sn->sn_generation = 7;
	sn->sn_restarts = 3;
	sn->sn_reload_ok = 0;
	sn->sn_reload_time = 1700000000;
	sn->sn_gone.ty_w.cw_accepted = 41;
	sn->sn_gone.ty_w.cw_peek_ms[2] = 5;
	sn->sn_gone.ty_lost = 2;
	tally_backend(&sn->sn_gone, "alpha")->cb_handoff = 30;
	tally_backend(&sn->sn_gone, "tenant:bob")->cb_busy = 1;
	strcpy(names[0].wb_name, "alpha");
	strcpy(names[1].wb_name, "beta");
	gens[0] = (struct snapshot_gen){ 6, 2, 1, names };
	gens[1] = (struct snapshot_gen){ 7, 4, 2, names };
	sn->sn_gens = gens;
	sn->sn_ngens = 2;
}

/* same - out is what sample made */
static int
same(const struct snapshot *in, const struct snapshot *out)
{
	size_t	i;

	if (out->sn_generation != 7 || out->sn_restarts != 3 ||
	    out->sn_reload_ok != 0 || out->sn_reload_time != 1700000000 ||
	    memcmp(&out->sn_gone.ty_w, &in->sn_gone.ty_w,
	    sizeof(in->sn_gone.ty_w)) != 0 || out->sn_gone.ty_lost != 2 ||
	    out->sn_gone.ty_nbackends != 2 ||
	    memcmp(out->sn_gone.ty_backends, in->sn_gone.ty_backends,
	    2 * sizeof(struct tally_backend)) != 0 || out->sn_ngens != 2)
		return 0;
	for (i = 0; i < 2; i++)
		if (out->sn_gens[i].sg_number != in->sn_gens[i].sg_number ||
		    out->sn_gens[i].sg_nworkers != in->sn_gens[i].sg_nworkers ||
		    out->sn_gens[i].sg_nbackends !=
		    in->sn_gens[i].sg_nbackends)
			return 0;
	return strcmp(out->sn_gens[1].sg_backends[1].wb_name, "beta") == 0;
}

/* test_message - the snapshot and counters descriptors in one message */
static void
test_message(void)
{
	int	sv[2], memfd, fds[SNAPSHOT_GENS_MAX], pass[3], n_open = 0;
	size_t	n = 99, i;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		abort();
	for (i = 0; i < 3; i++)
		pass[i] = memfd_create("snapshot-test", 0);
	TAP_OK(snapshot_send(sv[0], pass[0], pass + 1, 2) == 0,
	    "message sent");
	TAP_OK(snapshot_recv(sv[1], &memfd, fds, &n) == 1 && n == 2,
	    "message received: the snapshot and 2 descriptors");
	n_open = fcntl(memfd, F_GETFD) != -1 && fcntl(fds[0], F_GETFD) != -1 &&
	    fcntl(fds[1], F_GETFD) != -1;
	TAP_OK(n_open, "the descriptors are open here");
	close(memfd);
	close(fds[0]);
	close(fds[1]);
	TAP_OK(snapshot_send(sv[0], pass[0], pass, SNAPSHOT_GENS_MAX + 1) ==
	    -1 && errno == E2BIG, "more than SNAPSHOT_GENS_MAX refused");
	if (write(sv[0], "X", 1) != 1)
		abort();
	TAP_OK(snapshot_recv(sv[1], &memfd, fds, &n) == -1 && errno == EBADMSG,
	    "a message without descriptors is refused");
	close(sv[0]);
	TAP_OK(snapshot_recv(sv[1], &memfd, fds, &n) == 0,
	    "the master gone: 0");
	close(sv[1]);
	for (i = 0; i < 3; i++)
		close(pass[i]);
}

int
main(void)
{
	struct snapshot		in, out;
	struct snapshot_gen	gens[2];
	struct wconf_backend	names[2];
	uint8_t			*b;
	size_t			 len, cut, refused = 0;

	memset(names, 0, sizeof(names));
	sample(&in, gens, names);
	b = blob(&in, &len);
	TAP_OK(snapshot_decode(b, len, &out) == 0 && same(&in, &out),
	    "every figure survives encode and decode");
	snapshot_clear(&out);
	for (cut = 0; cut < len; cut++)
		if (snapshot_decode(b, cut, &out) == -1 && errno == EBADMSG)
			refused++;
	TAP_OK(refused == len, "every truncation is refused (%zu of %zu)",
	    refused, len);
	b[0] ^= 1;
	TAP_OK(snapshot_decode(b, len, &out) == -1 && errno == EBADMSG,
	    "another magic is refused");
	b[0] ^= 1;
	b[len - 2] = 'x';
	TAP_OK(snapshot_decode(b, len, &out) == -1, "a damaged end is refused");
	free(b);
	in.sn_ngens = 0;
	b = blob(&in, &len);
	TAP_OK(snapshot_decode(b, len, &out) == 0 && out.sn_ngens == 0,
	    "no running generation");
	snapshot_clear(&out);
	free(b);
	tally_clear(&in.sn_gone);
	test_message();
	return TAP_DONE();
}
