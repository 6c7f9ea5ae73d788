/*
 * chanreq.c - the messages on a worker's broker socket (WCONF_BROKER_FD),
 * and the rule for what a worker may ask for.
 *
 * Pure: no allocation, no system call.  A worker makes no socket and
 * connects nothing (its seccomp filter forbids both): the master
 * connects a channel for it and passes it back.  The master decodes
 * bytes a worker sent, which may be a worker a client took over, so
 * anything but an exact message is refused, and a path is granted only
 * when the worker's own generation's configuration names it
 * (chanreq_allowed).  Each message is one SOCK_SEQPACKET record; every
 * number is big-endian.
 *
 * A request, worker to master, CHANREQ_ASK_LEN bytes, no descriptor:
 *
 *	offset  size            value
 *	0       4               'S' 'N' 'R' 'Q'         (magic)
 *	4       4               id: the worker's, echoed in the answer
 *	8       2               path length, 1 .. WCONF_PATH_MAX
 *	10      WCONF_PATH_MAX  the path (no NUL), then zeros
 *
 * An answer, master to worker, CHANREQ_ANSWER_LEN bytes:
 *
 *	offset  size  value
 *	0       4     'S' 'N' 'R' 'A'                   (magic)
 *	4       4     id of the request
 *	8       4     errno of socket(2) or connect(2), or 0: then the
 *	              connected channel is the one SCM_RIGHTS descriptor
 *
 * A penalty, worker to master, CHANREQ_PENALTY_LEN bytes, no answer: the
 * worker saw source_penalty_stalls connections of a netblock stall
 * (worker/penalty.c), and the master is to drop its SYNs for
 * source_penalty (master/penalty.c).  It names one netblock of the
 * worker's own size, so that a worker a client took over can shut out
 * no more than its own clients' netblocks, one at a time:
 *
 *	offset  size  value
 *	0       4     'S' 'N' 'P' 'N'                   (magic)
 *	4       1     4 or 6: the family
 *	5       1     the prefix: the generation's netblock size for it
 *	6       16    the address, masked to the prefix (IPv4: 4 bytes,
 *	              then zeros)
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "chanreq.h"

static const uint8_t chanreq_ask_magic[4] = { 'S', 'N', 'R', 'Q' };
static const uint8_t chanreq_answer_magic[4] = { 'S', 'N', 'R', 'A' };
static const uint8_t chanreq_penalty_magic[4] = { 'S', 'N', 'P', 'N' };

/* chanreq_put32 - n, big-endian, at out */
static void
chanreq_put32(uint8_t *out, uint32_t n)
{
	out[0] = (uint8_t)(n >> 24);
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
}

/* chanreq_get32 - the big-endian number at in */
static uint32_t
chanreq_get32(const uint8_t *in)
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
	    (uint32_t)in[2] << 8 | in[3];
}

/* chanreq_ask_encode - the request for path; 0, or -1 if it cannot be one */
int
chanreq_ask_encode(uint8_t out[CHANREQ_ASK_LEN], uint32_t id,
    const char *path)
{
	size_t	len = strlen(path);

	if (len == 0 || len > WCONF_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(out, 0, CHANREQ_ASK_LEN);
	memcpy(out, chanreq_ask_magic, sizeof(chanreq_ask_magic));
	chanreq_put32(out + 4, id);
	out[8] = (uint8_t)(len >> 8);
	out[9] = (uint8_t)len;
	memcpy(out + 10, path, len);
	return 0;
}

/* chanreq_ask_decode - a request, exactly; 0, or -1 (EBADMSG) */
int
chanreq_ask_decode(const uint8_t *msg, size_t len, struct chanreq_ask *ca)
{
	size_t	plen, i;

	memset(ca, 0, sizeof(*ca));
	if (len != CHANREQ_ASK_LEN ||
	    memcmp(msg, chanreq_ask_magic, sizeof(chanreq_ask_magic)) != 0)
		goto bad;
	plen = (size_t)msg[8] << 8 | msg[9];
	if (plen == 0 || plen > WCONF_PATH_MAX)
		goto bad;
	for (i = 0; i < WCONF_PATH_MAX; i++)
		if ((i < plen) != (msg[10 + i] != '\0'))
			goto bad;
	ca->ca_id = chanreq_get32(msg + 4);
	memcpy(ca->ca_path, msg + 10, plen);
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

/* chanreq_answer_encode - the answer to request id: connected, or error */
void
chanreq_answer_encode(uint8_t out[CHANREQ_ANSWER_LEN], uint32_t id, int error)
{
	memcpy(out, chanreq_answer_magic, sizeof(chanreq_answer_magic));
	chanreq_put32(out + 4, id);
	chanreq_put32(out + 8, (uint32_t)error);
}

/* chanreq_answer_decode - an answer, exactly; 0, or -1 (EBADMSG) */
int
chanreq_answer_decode(const uint8_t *msg, size_t len,
    struct chanreq_answer *can)
{
	uint32_t	error;

	memset(can, 0, sizeof(*can));
	if (len != CHANREQ_ANSWER_LEN || memcmp(msg, chanreq_answer_magic,
	    sizeof(chanreq_answer_magic)) != 0)
		goto bad;
	/* An errno is small and positive; anything else is no answer. */
	if ((error = chanreq_get32(msg + 8)) > 4095)
		goto bad;
	can->can_id = chanreq_get32(msg + 4);
	can->can_errno = (int)error;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

/* chanreq_penalty_encode - the penalty of nb, from netblock_of */
void
chanreq_penalty_encode(uint8_t out[CHANREQ_PENALTY_LEN],
    const struct netblock *nb)
{
	memcpy(out, chanreq_penalty_magic, sizeof(chanreq_penalty_magic));
	out[4] = nb->nb_family == AF_INET6 ? 6 : 4;
	out[5] = nb->nb_prefix;
	memcpy(out + 6, nb->nb_addr, sizeof(nb->nb_addr));
}

/*
 * chanreq_penalty_decode - a penalty, exactly, of a netblock of wc's
 * size for its family; 0, or -1 (EBADMSG)
 */
int
chanreq_penalty_decode(const uint8_t *msg, size_t len, const struct wconf *wc,
    struct netblock *nb)
{
	struct sockaddr_in6	sin6;
	struct sockaddr_in	sin;
	struct netblock		masked;

	memset(nb, 0, sizeof(*nb));
	if (len != CHANREQ_PENALTY_LEN || memcmp(msg, chanreq_penalty_magic,
	    sizeof(chanreq_penalty_magic)) != 0 || (msg[4] != 4 &&
	    msg[4] != 6))
		goto bad;
	nb->nb_family = msg[4] == 6 ? AF_INET6 : AF_INET;
	nb->nb_prefix = msg[5];
	memcpy(nb->nb_addr, msg + 6, sizeof(nb->nb_addr));
	/* Exactly what netblock_of makes of that address with wc's sizes */
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_addr, nb->nb_addr, 4);
	sin6.sin6_family = AF_INET6;
	memcpy(&sin6.sin6_addr, nb->nb_addr, 16);
	netblock_of(nb->nb_family == AF_INET ? (struct sockaddr *)&sin :
	    (struct sockaddr *)&sin6, wc->wc_netblock_ipv4,
	    wc->wc_netblock_ipv6, &masked);
	if (!netblock_equal(nb, &masked))
		goto bad;
	return 0;
bad:
	memset(nb, 0, sizeof(*nb));
	errno = EBADMSG;
	return -1;
}

/*
 * chanreq_file - whether name is a file a tenant's socket may have
 * (tenant.c's <name>.sock or _.<suffix>.sock): host name characters
 * and "_", no "/", not hidden, ending in ".sock" after something
 */
static int
chanreq_file(const char *name)
{
	size_t	len = strlen(name), i;

	if (len <= 5 || name[0] == '.' || strcmp(name + len - 5, ".sock") != 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
		    name[i] == '.' || name[i] == '_'))
			return 0;
	return 1;
}

/*
 * chanreq_allowed - whether a worker configured with wc may have a
 * channel to path: a backend's socket exactly, or one file in a
 * tenant's directory that her sockets may be named; 1 or 0
 */
int
chanreq_allowed(const struct wconf *wc, const char *path)
{
	size_t	i, dlen;

	for (i = 0; i < wc->wc_nbackends; i++)
		if (strcmp(wc->wc_backends[i].wb_socket, path) == 0)
			return 1;
	for (i = 0; i < wc->wc_ntenants; i++) {
		dlen = strlen(wc->wc_tenants[i].wt_dir);
		if (dlen > 0 && strncmp(path, wc->wc_tenants[i].wt_dir,
		    dlen) == 0 && path[dlen] == '/' &&
		    chanreq_file(path + dlen + 1))
			return 1;
	}
	return 0;
}
