/*
 * synfilter.c - a socket filter that drops the SYNs of some netblocks.
 *
 * Pure: no allocation, no system call.  The program runs in the kernel
 * on every segment that reaches a listener, and on every segment of the
 * connections accepted from it while it is attached (a child socket
 * keeps its listener's filter), so it passes anything but a bare SYN in
 * three instructions.  A bare SYN's IP source is then compared with each
 * netblock in turn: its IP header is read at SKF_NET_OFF (a TCP socket
 * filter sees the TCP header at offset 0).
 *
 * Each netblock is a block of its own that ends in "drop", and a
 * mismatch skips to the next block: every conditional jump is short,
 * whatever the number of netblocks (a classic jump offset is 8 bits).
 * An IPv4 netblock is two instructions (the masked source is loaded once
 * for all of them); an IPv6 one up to thirteen, one word at a time.
 * What does not fit SYNFILTER_MAX instructions is left out, and counted.
 */
#include <string.h>
#include <sys/socket.h>

#include "synfilter.h"

#define SYNFILTER_TCP_FLAGS	13	/* offset in the TCP header */
#define SYNFILTER_SYN		0x02
#define SYNFILTER_ACK		0x10
#define SYNFILTER_V4_SRC	12	/* offsets in the IP headers */
#define SYNFILTER_V6_SRC	8

struct synfilter {
	struct sock_filter	*sf_prog;
	size_t			 sf_len;
};

/* synfilter_emit - one instruction more; 0, or -1 when it does not fit */
static int
synfilter_emit(struct synfilter *sf, struct sock_filter insn)
{
	if (sf->sf_len >= SYNFILTER_MAX)
		return -1;
	sf->sf_prog[sf->sf_len++] = insn;
	return 0;
}

/* synfilter_word - bytes 4 * i .. 4 * i + 3 of nb, as BPF loads them */
static uint32_t
synfilter_word(const struct netblock *nb, unsigned i)
{
	const uint8_t	*b = nb->nb_addr + 4 * i;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/* synfilter_mask - the mask of word i of a prefix of bits; 0: none */
static uint32_t
synfilter_mask(unsigned bits, unsigned i)
{
	unsigned	keep = bits > 32 * i ? bits - 32 * i : 0;

	return keep >= 32 ? 0xffffffffu : keep == 0 ? 0 :
	    0xffffffffu << (32 - keep);
}

/* synfilter_v6_len - the instructions of nb's block */
static size_t
synfilter_v6_len(const struct netblock *nb)
{
	size_t		len = 1;	/* the drop */
	unsigned	i;

	for (i = 0; 32 * i < nb->nb_prefix; i++)
		len += synfilter_mask(nb->nb_prefix, i) == 0xffffffffu ? 2 : 3;
	return len;
}

/*
 * synfilter_v6 - nb's block: each word of the prefix loaded, masked and
 * compared, a mismatch jumping past the drop at its end
 */
static void
synfilter_v6(struct synfilter *sf, const struct netblock *nb)
{
	size_t		left = synfilter_v6_len(nb);
	uint32_t	mask;
	unsigned	i;

	for (i = 0; 32 * i < nb->nb_prefix; i++) {
		mask = synfilter_mask(nb->nb_prefix, i);
		(void)synfilter_emit(sf, (struct sock_filter)BPF_STMT(BPF_LD |
		    BPF_W | BPF_ABS, SKF_NET_OFF + SYNFILTER_V6_SRC + 4 * i));
		left--;
		if (mask != 0xffffffffu) {
			(void)synfilter_emit(sf, (struct sock_filter)BPF_STMT(
			    BPF_ALU | BPF_AND | BPF_K, mask));
			left--;
		}
		left--;
		(void)synfilter_emit(sf, (struct sock_filter)BPF_JUMP(BPF_JMP |
		    BPF_JEQ | BPF_K, synfilter_word(nb, i) & mask, 0,
		    (uint8_t)left));
	}
	(void)synfilter_emit(sf, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SYNFILTER_DROP));
}

/*
 * synfilter_family - the section of one family: its netblocks that fit
 * (room: instructions left for it), then "pass"; how many were left out
 */
static size_t
synfilter_family(struct synfilter *sf, const struct netblock *nbs, size_t n,
    int family, size_t room)
{
	size_t	i, out = 0, need;

	for (i = 0; i < n; i++) {
		if (nbs[i].nb_family != family)
			continue;
		need = family == AF_INET ? 2 : synfilter_v6_len(&nbs[i]);
		if (need > room) {
			out++;
			continue;
		}
		room -= need;
		if (family == AF_INET6) {
			synfilter_v6(sf, &nbs[i]);
			continue;
		}
		(void)synfilter_emit(sf, (struct sock_filter)BPF_JUMP(BPF_JMP |
		    BPF_JEQ | BPF_K, synfilter_word(&nbs[i], 0), 0, 1));
		(void)synfilter_emit(sf, (struct sock_filter)BPF_STMT(BPF_RET |
		    BPF_K, SYNFILTER_DROP));
	}
	(void)synfilter_emit(sf, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SYNFILTER_PASS));
	return out;
}

/* synfilter_v4_prefix - the IPv4 netblocks' prefix (they share one) */
static unsigned
synfilter_v4_prefix(const struct netblock *nbs, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (nbs[i].nb_family == AF_INET)
			return nbs[i].nb_prefix;
	return 32;
}

/*
 * synfilter_build - the program dropping bare SYNs from the n netblocks
 * at nbs (IPv4 ones all of one prefix length, as netblock_of makes
 * them), in prog, *len instructions; returns how many were left out
 */
size_t
synfilter_build(const struct netblock *nbs, size_t n,
    struct sock_filter prog[SYNFILTER_MAX], size_t *len)
{
	struct synfilter	 sf = { prog, 0 };
	uint32_t		 mask = synfilter_mask(synfilter_v4_prefix(nbs,
				    n), 0);
	size_t			 v6_at, out;
	/* The head below, the v4 section's three and the v6 pass */
	size_t			 room = SYNFILTER_MAX - 10 - 3 - 1;
	const struct sock_filter head[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SYNFILTER_TCP_FLAGS),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K,
		    SYNFILTER_SYN | SYNFILTER_ACK),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYNFILTER_SYN, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SYNFILTER_PASS),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 1),
		BPF_STMT(BPF_JMP | BPF_JA, 0),	/* to v6: set below */
		BPF_STMT(BPF_RET | BPF_K, SYNFILTER_PASS),
	};

	memcpy(prog, head, sizeof(head));
	sf.sf_len = sizeof(head) / sizeof(head[0]);
	/* IPv4: the masked source, once */
	(void)synfilter_emit(&sf, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W |
	    BPF_ABS, SKF_NET_OFF + SYNFILTER_V4_SRC));
	(void)synfilter_emit(&sf, (struct sock_filter)BPF_STMT(BPF_ALU |
	    BPF_AND | BPF_K, mask));
	out = synfilter_family(&sf, nbs, n, AF_INET, room);
	room -= sf.sf_len - 13;
	v6_at = sf.sf_len;
	prog[8].k = (uint32_t)(v6_at - 9);
	out += synfilter_family(&sf, nbs, n, AF_INET6, room);
	*len = sf.sf_len;
	return out;
}
