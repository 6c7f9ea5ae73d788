/*
 * synfilter_test.c - synfilter_build's program, run over fake segments
 * by a small classic BPF interpreter, from a table: the netblocks, a
 * segment (its IP version, source, TCP flags) and the verdict; then how
 * many netblocks fit SYNFILTER_MAX instructions.
 *
 * The interpreter knows only the opcodes synfilter emits and fails on
 * anything else, on a load outside the segment and on a jump out of the
 * program, as the kernel's checker would refuse the program or its
 * interpreter would drop the segment.  It sees what a TCP socket filter
 * sees: the TCP header at 0, the IP header at SKF_NET_OFF.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "netblock.h"
#include "synfilter.h"
#include "tap.h"
#include "text_sockaddr.h"

#define SEG_FIN		0x01	/* the TCP flags (RFC 9293 3.1, RFC 3168) */
#define SEG_SYN		0x02
#define SEG_RST		0x04
#define SEG_ACK		0x10
#define SEG_ECE		0x40
#define SEG_CWR		0x80
#define CBPF_NET	((uint32_t)SKF_NET_OFF)	/* k of the IP header */
#define PASS		SYNFILTER_PASS
#define DROP		SYNFILTER_DROP

struct fake_segment {
	uint8_t	fs_ip[40];	/* IPv4: 20 bytes; IPv6: 40 */
	size_t	fs_iplen;
	uint8_t	fs_tcp[20];
};

struct synfilter_row {
	const char	*sr_label;
	unsigned	 sr_v4, sr_v6;	/* netblock_of's prefixes */
	const char	*sr_blocks[4];	/* addresses; NULL ends */
	unsigned	 sr_version;	/* the IP header's version nibble */
	const char	*sr_source;
	uint8_t		 sr_flags;
	uint32_t	 sr_verdict;
};

static const struct synfilter_row synfilter_rows[] = {
	{ "empty list", 32, 64, { NULL }, 4, "192.0.2.1", SEG_SYN, PASS },
	{ "empty list", 32, 64, { NULL }, 6, "2001:db8::1", SEG_SYN, PASS },
	{ "/32: the address", 32, 64, { "192.0.2.77" }, 4, "192.0.2.77",
	    SEG_SYN, DROP },
	{ "/32: the next one", 32, 64, { "192.0.2.77" }, 4, "192.0.2.78",
	    SEG_SYN, PASS },
	{ "/32: the one before", 32, 64, { "192.0.2.77" }, 4, "192.0.2.76",
	    SEG_SYN, PASS },
	{ "/32: among three", 32, 64, { "198.51.100.1", "192.0.2.77",
	    "203.0.113.9" }, 4, "203.0.113.9", SEG_SYN, DROP },
	{ "/24: its first", 24, 48, { "192.0.2.77" }, 4, "192.0.2.0",
	    SEG_SYN, DROP },
	{ "/24: its last", 24, 48, { "192.0.2.77" }, 4, "192.0.2.255",
	    SEG_SYN, DROP },
	{ "/24: just below", 24, 48, { "192.0.2.77" }, 4, "192.0.1.255",
	    SEG_SYN, PASS },
	{ "/24: just above", 24, 48, { "192.0.2.77" }, 4, "192.0.3.0",
	    SEG_SYN, PASS },
	{ "/25: its first", 25, 57, { "192.0.2.200" }, 4, "192.0.2.128",
	    SEG_SYN, DROP },
	{ "/25: its last", 25, 57, { "192.0.2.200" }, 4, "192.0.2.255",
	    SEG_SYN, DROP },
	{ "/25: the lower half", 25, 57, { "192.0.2.200" }, 4, "192.0.2.127",
	    SEG_SYN, PASS },
	{ "/25: the next /24", 25, 57, { "192.0.2.200" }, 4, "192.0.3.128",
	    SEG_SYN, PASS },
	{ "/1: its last", 1, 128, { "10.0.0.1" }, 4, "127.255.255.255",
	    SEG_SYN, DROP },
	{ "/1: the other half", 1, 128, { "10.0.0.1" }, 4, "128.0.0.0",
	    SEG_SYN, PASS },
	{ "a mapped address is its IPv4 block", 32, 64,
	    { "::ffff:192.0.2.77" }, 4, "192.0.2.77", SEG_SYN, DROP },
	{ "/64: its first", 32, 64, { "2001:db8:1:2::5" }, 6,
	    "2001:db8:1:2::", SEG_SYN, DROP },
	{ "/64: its last", 32, 64, { "2001:db8:1:2::5" }, 6,
	    "2001:db8:1:2:ffff:ffff:ffff:ffff", SEG_SYN, DROP },
	{ "/64: the next", 32, 64, { "2001:db8:1:2::5" }, 6,
	    "2001:db8:1:3::", SEG_SYN, PASS },
	{ "/64: the one before", 32, 64, { "2001:db8:1:2::5" }, 6,
	    "2001:db8:1:1:ffff:ffff:ffff:ffff", SEG_SYN, PASS },
	{ "/64: the first word differs", 32, 64, { "2001:db8:1:2::5" }, 6,
	    "2001:db9:1:2::5", SEG_SYN, PASS },
	{ "/57: its first", 25, 57, { "2001:db8:1:ffff::1" }, 6,
	    "2001:db8:1:ff80::", SEG_SYN, DROP },
	{ "/57: its last", 25, 57, { "2001:db8:1:ffff::1" }, 6,
	    "2001:db8:1:ffff:ffff:ffff:ffff:ffff", SEG_SYN, DROP },
	{ "/57: just below", 25, 57, { "2001:db8:1:ffff::1" }, 6,
	    "2001:db8:1:ff7f:ffff:ffff:ffff:ffff", SEG_SYN, PASS },
	{ "/57: a bit above the mask", 25, 57, { "2001:db8:1:ffff::1" }, 6,
	    "2001:db8:3:ff80::", SEG_SYN, PASS },
	{ "/128: the address", 1, 128, { "2001:db8::1" }, 6, "2001:db8::1",
	    SEG_SYN, DROP },
	{ "/128: the next", 1, 128, { "2001:db8::1" }, 6, "2001:db8::2",
	    SEG_SYN, PASS },
	{ "/128: the third word differs", 1, 128, { "2001:db8::1" }, 6,
	    "2001:db8::1:0:0:1", SEG_SYN, PASS },
	{ "/128: the last word's high bit", 1, 128, { "2001:db8::1" }, 6,
	    "2001:db8::8000:1", SEG_SYN, PASS },
	{ "/48: its last", 24, 48, { "2001:db8:1:2::5" }, 6,
	    "2001:db8:1:ffff:ffff:ffff:ffff:ffff", SEG_SYN, DROP },
	{ "/48: the next", 24, 48, { "2001:db8:1:2::5" }, 6,
	    "2001:db8:2::", SEG_SYN, PASS },
	{ "/48: the one before", 24, 48, { "2001:db8:1:2::5" }, 6,
	    "2001:db8:0:ffff::", SEG_SYN, PASS },
	/* 32.1.13.184 is 0x20010db8, 192.0.2.1 is c000:0201 */
	{ "mixed: IPv4", 32, 32, { "192.0.2.1", "2001:db8::" }, 4,
	    "192.0.2.1", SEG_SYN, DROP },
	{ "mixed: IPv6", 32, 32, { "192.0.2.1", "2001:db8::" }, 6,
	    "2001:db8:ffff::1", SEG_SYN, DROP },
	{ "mixed: IPv4 as the IPv6 block's word", 32, 32, { "192.0.2.1",
	    "2001:db8::" }, 4, "32.1.13.184", SEG_SYN, PASS },
	{ "mixed: IPv6 with the IPv4 block's word", 32, 32, { "192.0.2.1",
	    "2001:db8::" }, 6, "c000:201::", SEG_SYN, PASS },
	{ "mixed: IPv6 mapped from the IPv4 block", 32, 32, { "192.0.2.1",
	    "2001:db8::" }, 6, "::ffff:192.0.2.1", SEG_SYN, PASS },
	{ "mixed /32 and /128: IPv4", 32, 128, { "2001:db8::1",
	    "192.0.2.1", "2001:db8::2" }, 4, "192.0.2.1", SEG_SYN, DROP },
	{ "mixed /32 and /128: IPv6", 32, 128, { "2001:db8::1",
	    "192.0.2.1", "2001:db8::2" }, 6, "2001:db8::2", SEG_SYN, DROP },
	{ "mixed /32 and /128: neither", 32, 128, { "2001:db8::1",
	    "192.0.2.1", "2001:db8::2" }, 6, "2001:db8::3", SEG_SYN, PASS },
	{ "SYN-ACK", 32, 64, { "192.0.2.77" }, 4, "192.0.2.77",
	    SEG_SYN | SEG_ACK, PASS },
	{ "ACK", 32, 64, { "192.0.2.77" }, 4, "192.0.2.77", SEG_ACK, PASS },
	{ "RST", 32, 64, { "192.0.2.77" }, 4, "192.0.2.77", SEG_RST, PASS },
	{ "FIN-ACK", 32, 64, { "192.0.2.77" }, 4, "192.0.2.77",
	    SEG_FIN | SEG_ACK, PASS },
	{ "SYN-ACK", 32, 64, { "2001:db8::" }, 6, "2001:db8::1",
	    SEG_SYN | SEG_ACK, PASS },
	{ "ACK", 32, 64, { "2001:db8::" }, 6, "2001:db8::1", SEG_ACK, PASS },
	{ "RST", 32, 64, { "2001:db8::" }, 6, "2001:db8::1", SEG_RST, PASS },
	{ "FIN-ACK", 32, 64, { "2001:db8::" }, 6, "2001:db8::1",
	    SEG_FIN | SEG_ACK, PASS },
	/* ECN setup (RFC 3168 6.1.1): still a bare SYN */
	{ "SYN with ECE and CWR", 32, 64, { "192.0.2.77" }, 4, "192.0.2.77",
	    SEG_SYN | SEG_ECE | SEG_CWR, DROP },
	{ "IP version 5", 32, 64, { "192.0.2.77" }, 5, "192.0.2.77",
	    SEG_SYN, PASS },
	{ "IP version 0", 32, 64, { "2001:db8::" }, 0, "2001:db8::1",
	    SEG_SYN, PASS },
	{ "IP version 15", 32, 64, { "192.0.2.77" }, 15, "192.0.2.77",
	    SEG_SYN, PASS },
};

/* fake_sockaddr_of - nb's own (masked) address as a sockaddr */
static void
fake_sockaddr_of(const struct netblock *nb, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = nb->nb_family;
	if (nb->nb_family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, nb->nb_addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, nb->nb_addr,
		    16);
}

/*
 * fake_segment - a segment from sa with flags, its IP header of sa's
 * family but with version as its nibble; the other fields hold values
 * unlike a source's, so that a load at the wrong offset mismatches
 */
static void
fake_segment(struct fake_segment *fs, const struct sockaddr *sa,
    unsigned version, uint8_t flags)
{
	const struct sockaddr_in6	*sin6 = (const void *)sa;
	const struct sockaddr_in	*sin = (const void *)sa;

	memset(fs, 0xa5, sizeof(*fs));
	if (sa->sa_family == AF_INET6) {
		fs->fs_iplen = 40;
		fs->fs_ip[0] = 0;
		fs->fs_ip[6] = IPPROTO_TCP;
		memcpy(fs->fs_ip + 8, &sin6->sin6_addr, 16);
	} else {
		fs->fs_iplen = 20;
		fs->fs_ip[0] = 5;	/* IHL: no options */
		fs->fs_ip[9] = IPPROTO_TCP;
		memcpy(fs->fs_ip + 12, &sin->sin_addr, 4);
	}
	fs->fs_ip[0] |= (uint8_t)(version << 4);
	fs->fs_tcp[12] = 5 << 4;	/* data offset: no options */
	fs->fs_tcp[13] = flags;
}

/*
 * cbpf_load - size bytes at k, big-endian as the kernel loads them, into
 * *a; 0, or -1 when they are not all in the segment
 */
static int
cbpf_load(const struct fake_segment *fs, uint32_t k, size_t size,
    uint32_t *a)
{
	const uint8_t	*from = fs->fs_tcp;
	size_t		 have = sizeof(fs->fs_tcp), off = k, i;

	if (k >= CBPF_NET) {
		from = fs->fs_ip;
		have = fs->fs_iplen;
		off = k - CBPF_NET;
	}
	if (off > have || have - off < size)
		return -1;
	for (*a = 0, i = 0; i < size; i++)
		*a = *a << 8 | from[off + i];
	return 0;
}

/* cbpf_jump - skip off instructions after *pc; 0, or -1 out of len */
static int
cbpf_jump(size_t *pc, uint32_t off, size_t len)
{
	if (off >= len - *pc)
		return -1;
	*pc += off;
	return 0;
}

/* cbpf_run - prog over fs: 0 and its *verdict, or -1 when it faults */
static int
cbpf_run(const struct sock_filter *prog, size_t len,
    const struct fake_segment *fs, uint32_t *verdict)
{
	const struct sock_filter	*in;
	uint32_t			 a = 0;
	size_t				 pc = 0;
	int				 r;

	while (pc < len) {
		in = &prog[pc++];
		switch (in->code) {
		case BPF_LD | BPF_B | BPF_ABS:
		case BPF_LD | BPF_W | BPF_ABS:
			r = cbpf_load(fs, in->k, BPF_SIZE(in->code) == BPF_B ?
			    1 : 4, &a);
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= in->k;
			r = 0;
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			r = in->k < 32 ? (a >>= in->k, 0) : -1;
			break;
		case BPF_JMP | BPF_JA:
			r = cbpf_jump(&pc, in->k, len);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			r = cbpf_jump(&pc, a == in->k ? in->jt : in->jf, len);
			break;
		case BPF_RET | BPF_K:
			*verdict = in->k;
			return 0;
		default:
			return -1;
		}
		if (r == -1)
			return -1;
	}
	return -1;
}

/*
 * cbpf_check - whether prog is one the kernel would attach: of a size
 * it takes, only known opcodes, every jump inside, a return at its end
 */
static int
cbpf_check(const struct sock_filter *prog, size_t len)
{
	size_t	pc;

	if (len == 0 || len > SYNFILTER_MAX ||
	    prog[len - 1].code != (BPF_RET | BPF_K))
		return 0;
	for (pc = 0; pc < len; pc++) {
		switch (prog[pc].code) {
		case BPF_LD | BPF_B | BPF_ABS:
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_ALU | BPF_AND | BPF_K:
		case BPF_RET | BPF_K:
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			if (prog[pc].k >= 32)
				return 0;
			break;
		case BPF_JMP | BPF_JA:
			if (prog[pc].k >= len - pc - 1)
				return 0;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			if (pc + 1 + prog[pc].jt >= len ||
			    pc + 1 + prog[pc].jf >= len)
				return 0;
			break;
		default:
			return 0;
		}
	}
	return 1;
}

/* cbpf_verdict - prog's verdict on a segment from sa; -1: it faulted */
static int64_t
cbpf_verdict(const struct sock_filter *prog, size_t len,
    const struct sockaddr *sa, unsigned version, uint8_t flags)
{
	struct fake_segment	fs;
	uint32_t		verdict;

	fake_segment(&fs, sa, version, flags);
	if (cbpf_run(prog, len, &fs, &verdict) == -1)
		return -1;
	return verdict;
}

/*
 * Programs for the interpreter itself: it must fault where the kernel
 * would refuse the program (cbpf_check says so too) or drop the segment
 */
static const struct cbpf_row {
	const char		*cr_label;
	struct sock_filter	 cr_prog[2];
	size_t			 cr_len;
	int			 cr_valid;	/* cbpf_check's answer */
	int64_t			 cr_verdict;	/* -1: a fault */
} cbpf_rows[] = {
	{ "a return", { BPF_STMT(BPF_RET | BPF_K, 7) }, 1, 1, 7 },
	{ "the IPv4 header's last word", { BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    SKF_NET_OFF + 16), BPF_STMT(BPF_RET | BPF_K, 7) }, 2, 1, 7 },
	{ "past the IPv4 header", { BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    SKF_NET_OFF + 17), BPF_STMT(BPF_RET | BPF_K, 7) }, 2, 1, -1 },
	{ "past the TCP header", { BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
	    BPF_STMT(BPF_RET | BPF_K, 7) }, 2, 1, -1 },
	{ "the link layer", { BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_LL_OFF),
	    BPF_STMT(BPF_RET | BPF_K, 7) }, 2, 1, -1 },
	{ "a half-word load", { BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0),
	    BPF_STMT(BPF_RET | BPF_K, 7) }, 2, 0, -1 },
	{ "a shift by 32", { BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 32),
	    BPF_STMT(BPF_RET | BPF_K, 7) }, 2, 0, -1 },
	{ "a jump out", { BPF_STMT(BPF_JMP | BPF_JA, 1),
	    BPF_STMT(BPF_RET | BPF_K, 7) }, 2, 0, -1 },
	{ "a conditional jump out", { BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0,
	    1), BPF_STMT(BPF_RET | BPF_K, 7) }, 2, 0, -1 },
	{ "no return", { BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 1) }, 1, 0, -1 },
};

/* test_cbpf - the interpreter and checker on cbpf_rows, an IPv4 SYN */
static void
test_cbpf(void)
{
	struct sockaddr_storage	ss;
	const struct cbpf_row	*cr;
	size_t			i;

	text_sockaddr("192.0.2.1", &ss);
	for (i = 0; i < sizeof(cbpf_rows) / sizeof(cbpf_rows[0]); i++) {
		cr = &cbpf_rows[i];
		TAP_OK(cbpf_verdict(cr->cr_prog, cr->cr_len, (struct sockaddr *)
		    &ss, 4, SEG_SYN) == cr->cr_verdict &&
		    cbpf_check(cr->cr_prog, cr->cr_len) == cr->cr_valid,
		    "interpreter: %s", cr->cr_label);
	}
}

/* test_rows - each row's netblocks built into a program, run on its segment */
static void
test_rows(void)
{
	static struct sock_filter	prog[SYNFILTER_MAX];
	struct sockaddr_storage		ss;
	struct netblock			nbs[4];
	const struct synfilter_row	*sr;
	size_t				i, n, len, out;
	int64_t				got;

	for (i = 0; i < sizeof(synfilter_rows) / sizeof(synfilter_rows[0]);
	    i++) {
		sr = &synfilter_rows[i];
		for (n = 0; n < 4 && sr->sr_blocks[n] != NULL; n++) {
			text_sockaddr(sr->sr_blocks[n], &ss);
			netblock_of((struct sockaddr *)&ss, sr->sr_v4,
			    sr->sr_v6, &nbs[n]);
		}
		out = synfilter_build(nbs, n, prog, &len);
		text_sockaddr(sr->sr_source, &ss);
		got = cbpf_verdict(prog, len, (struct sockaddr *)&ss,
		    sr->sr_version, sr->sr_flags);
		TAP_OK(out == 0 && cbpf_check(prog, len) &&
		    got == sr->sr_verdict, "%s (/%u /%u): v%u %s flags %#x: %s "
		    "(got %lld)", sr->sr_label, sr->sr_v4, sr->sr_v6,
		    sr->sr_version, sr->sr_source, sr->sr_flags,
		    sr->sr_verdict == DROP ? "drop" : "pass", (long long)got);
	}
}

/* test_flags - every flag byte from a listed source: only bare SYNs drop */
static void
test_flags(const char *block, const char *source, unsigned version)
{
	static struct sock_filter	prog[SYNFILTER_MAX];
	struct sockaddr_storage		ss;
	struct netblock			nb;
	size_t				len, wrong = 0;
	unsigned			flags;
	int64_t				want;

	text_sockaddr(block, &ss);
	netblock_of((struct sockaddr *)&ss, 32, 64, &nb);
	(void)synfilter_build(&nb, 1, prog, &len);
	text_sockaddr(source, &ss);
	for (flags = 0; flags < 256; flags++) {
		want = (flags & (SEG_SYN | SEG_ACK)) == SEG_SYN ? DROP : PASS;
		if (cbpf_verdict(prog, len, (struct sockaddr *)&ss, version,
		    (uint8_t)flags) != want)
			wrong++;
	}
	TAP_OK(wrong == 0, "all 256 flag bytes from %s: only SYN without ACK "
	    "drops (%zu wrong)", source, wrong);
}

/*
 * fake_blocks - n netblocks of family at prefix, one after another from
 * 10.0.0.0 or 2001:db8:0::/48 (the third group counts, so that any
 * prefix from /48 keeps them apart), into nbs
 */
static void
fake_blocks(struct netblock *nbs, size_t n, int family, unsigned prefix)
{
	struct sockaddr_storage	ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	size_t			i;

	for (i = 0; i < n; i++) {
		if (family == AF_INET) {
			text_sockaddr("10.0.0.0", &ss);
			sin->sin_addr.s_addr = htonl(0x0a000000u |
			    (uint32_t)i << (32 - prefix));
		} else {
			text_sockaddr("2001:db8::1", &ss);
			sin6->sin6_addr.s6_addr[4] = (uint8_t)(i >> 8);
			sin6->sin6_addr.s6_addr[5] = (uint8_t)i;
		}
		netblock_of((struct sockaddr *)&ss, prefix, prefix, &nbs[i]);
	}
}

/*
 * fake_dropped - how many of the n netblocks at nbs prog drops a bare SYN
 * of; -1 when a run faults, or when one drops after one of its family
 * passed: synfilter fills in order, and a family's netblocks here are
 * of one size, so those left out are its last
 */
static long
fake_dropped(const struct sock_filter *prog, size_t len,
    const struct netblock *nbs, size_t n)
{
	struct sockaddr_storage	ss;
	int			passed[2] = { 0, 0 }, v6;
	int64_t			got;
	long			dropped = 0;
	size_t			i;

	for (i = 0; i < n; i++) {
		v6 = nbs[i].nb_family == AF_INET6;
		fake_sockaddr_of(&nbs[i], &ss);
		got = cbpf_verdict(prog, len, (struct sockaddr *)&ss,
		    v6 ? 6 : 4, SEG_SYN);
		if (got == -1 || (got == DROP && passed[v6]))
			return -1;
		if (got == DROP)
			dropped++;
		else
			passed[v6] = 1;
	}
	return dropped;
}

/*
 * test_capacity - n4 IPv4 netblocks at prefix4 then n6 IPv6 ones at
 * prefix6: a program the kernel takes, no longer than SYNFILTER_MAX,
 * dropping the SYNs of all but those it says it left out, and passing
 * unlisted ones of both families (they run every block to its end)
 */
static void
test_capacity(size_t n4, unsigned prefix4, size_t n6, unsigned prefix6,
    int some_out)
{
	static struct netblock		nbs[4000];
	static struct sock_filter	prog[SYNFILTER_MAX];
	struct sockaddr_storage		ss;
	size_t				len = 0, out;
	long				dropped;
	int				others;	/* unlisted SYNs pass */

	fake_blocks(nbs, n4, AF_INET, prefix4);
	fake_blocks(nbs + n4, n6, AF_INET6, prefix6);
	out = synfilter_build(nbs, n4 + n6, prog, &len);
	dropped = fake_dropped(prog, len, nbs, n4 + n6);
	text_sockaddr("192.0.2.1", &ss);
	others = cbpf_verdict(prog, len, (struct sockaddr *)&ss, 4,
	    SEG_SYN) == PASS;
	text_sockaddr("2001:db8:ffff::1", &ss);
	others &= cbpf_verdict(prog, len, (struct sockaddr *)&ss, 6,
	    SEG_SYN) == PASS;
	TAP_OK((out > 0) == some_out && len <= SYNFILTER_MAX &&
	    cbpf_check(prog, len) && dropped >= 0 &&
	    (size_t)dropped == n4 + n6 - out && others,
	    "%zu IPv4 /%u and %zu IPv6 /%u: %zu left out, %ld drop, "
	    "%zu instructions, jumps inside", n4, prefix4, n6, prefix6, out,
	    dropped, len);
}

int
main(void)
{
	test_cbpf();
	test_rows();
	test_flags("192.0.2.77", "192.0.2.77", 4);
	test_flags("2001:db8::", "2001:db8::1", 6);
	test_capacity(0, 32, 0, 64, 0);
	test_capacity(1000, 32, 0, 64, 0);
	test_capacity(3000, 32, 0, 64, 1);
	test_capacity(0, 32, 3000, 57, 1);
	/*
	 * The IPv6 room left is 2682 = 298 blocks of 9, exactly; then 2690,
	 * 8 short of a 299th: one off in the room or the fit overflows
	 */
	test_capacity(700, 24, 400, 128, 1);
	test_capacity(696, 24, 400, 128, 1);
	test_capacity(2000, 32, 100, 64, 1);
	return TAP_DONE();
}
