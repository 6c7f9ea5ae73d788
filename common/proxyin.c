/*
 * proxyin.c - read a PROXY protocol header, version 1 or 2 (what is
 * accepted, and the caller's contract, in proxyin.h).
 *
 * Runs in the workers, unprivileged, over bytes nobody has checked yet,
 * from a peer that is trusted only to be a proxy: nothing here
 * allocates, logs, keeps state of its own or makes a system call
 * (inet_pton is a libc conversion).
 *
 * Two passes, as in clienthello.c: a walk, resumable (struct
 * proxyin_walk, the caller's), that judges each byte as it comes and so
 * refuses a bad header on its first bad byte, and that finds where the
 * header ends; then, once it is whole, one pass over the header that
 * copies its addresses and TLVs out and checks what needs a whole value
 * (a TLV's contents, repeats, the CRC).  The walk never looks past the
 * header, and walks each byte once over all the calls however the bytes
 * were cut.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "proxyin.h"

#define PROXYIN_V1_PREFIX	"PROXY "
#define PROXYIN_V1_PREFIX_LEN	6
#define PROXYIN_V1_ADDR_MAX	39	/* 8 groups of 4 hex digits, 7 colons */
#define PROXYIN_V1_MAPPED	"::ffff:"	/* the one dotted tail allowed */
#define PROXYIN_PORT_MAX	65535

#define PROXYIN_V2_VERSION	0x2	/* the high nibble of byte 13 */
#define PROXYIN_CMD_LOCAL	0x0
#define PROXYIN_CMD_PROXY	0x1
#define PROXYIN_FAM_UNSPEC	0x00
#define PROXYIN_FAM_TCP4	0x11
#define PROXYIN_FAM_TCP6	0x21
#define PROXYIN_FAM_UNIX	0x31
#define PROXYIN_ADDR4_LEN	12	/* 4 + 4 + 2 + 2 */
#define PROXYIN_ADDR6_LEN	36	/* 16 + 16 + 2 + 2 */
#define PROXYIN_UNIX_PATH	108	/* each address of 0x31 */
#define PROXYIN_TLV_HDR		3	/* type, 2-byte length */
#define PROXYIN_SSL_HEAD	5	/* pp2_tlv_ssl: client, verify */
#define PROXYIN_SUBTYPE_1	0x01	/* AWS VPCE id, Azure link id */
#define PROXYIN_AZURE_LINK_LEN	4	/* uint32 after the subtype */

_Static_assert(PROXYIN_V2_MAX <= UINT16_MAX, "pw_total fits 16 bits");
_Static_assert(PROXYIN_V1_MAX <= UINT8_MAX, "pw_mark fits 8 bits");
/* forwarded in a handoff, kept TLVs must still fit the v2 length field */
_Static_assert(PROXY_MAX + PROXYIN_KEPT_MAX - PROXY_HDR_LEN <= 0xffff,
    "kept TLVs fit a handoff header");
_Static_assert(PROXYIN_UNIX_PATH <= sizeof(((struct sockaddr_un *)0)->sun_path),
    "a v2 AF_UNIX address fits sun_path");

/* The steps of a walk: v1 fields, then v2 parts */
enum proxyin_step {
	PROXYIN_V1_START,	/* "PROXY " */
	PROXYIN_V1_PROTO,	/* TCP4, TCP6, UNKNOWN */
	PROXYIN_V1_SRC,
	PROXYIN_V1_DST,
	PROXYIN_V1_SPORT,
	PROXYIN_V1_DPORT,
	PROXYIN_V1_IGNORED,	/* after "UNKNOWN ", up to CR */
	PROXYIN_V1_LF,
	PROXYIN_V1_END,		/* the LF walked: the line is whole */
	PROXYIN_V2_FIXED,	/* the 16 bytes of fixed header */
	PROXYIN_V2_ADDR,
	PROXYIN_V2_TLV_HDR,
	PROXYIN_V2_TLV_VALUE,
};

/* The rules a header can break: an index into proxyin_reasons */
enum proxyin_reason {
	PROXYIN_R_NONE,
	PROXYIN_R_START,
	PROXYIN_R_V1_PREFIX,
	PROXYIN_R_V1_PROTO,
	PROXYIN_R_V1_SRC,
	PROXYIN_R_V1_DST,
	PROXYIN_R_V1_SPORT,
	PROXYIN_R_V1_DPORT,
	PROXYIN_R_V1_IGNORED,
	PROXYIN_R_V1_CRLF,
	PROXYIN_R_V1_LONG,
	PROXYIN_R_V2_SIG,
	PROXYIN_R_V2_VERSION,
	PROXYIN_R_V2_COMMAND,
	PROXYIN_R_V2_FAMILY,
	PROXYIN_R_V2_LONG,
	PROXYIN_R_V2_SHORT,
	PROXYIN_R_V2_TLV_CUT,
	PROXYIN_R_V2_TLV_OVERRUN,
	PROXYIN_R_V2_TLV_REPEATED,
	PROXYIN_R_V2_CRC,
	PROXYIN_R_V2_ALPN,
	PROXYIN_R_V2_AUTHORITY,
	PROXYIN_R_V2_CRC_LEN,
	PROXYIN_R_V2_UNIQUE_ID,
	PROXYIN_R_V2_SSL,
	PROXYIN_R_V2_NETNS,
	PROXYIN_R_V2_AWS,
	PROXYIN_R_V2_AZURE,
};

static const char *const proxyin_reasons[] = {
	[PROXYIN_R_NONE] = NULL,
	[PROXYIN_R_START] = "neither PROXY v1 nor v2",
	[PROXYIN_R_V1_PREFIX] = "v1: not \"PROXY \"",
	[PROXYIN_R_V1_PROTO] = "v1: protocol not TCP4, TCP6 or UNKNOWN",
	[PROXYIN_R_V1_SRC] = "v1: bad source address",
	[PROXYIN_R_V1_DST] = "v1: bad destination address",
	[PROXYIN_R_V1_SPORT] = "v1: bad source port",
	[PROXYIN_R_V1_DPORT] = "v1: bad destination port",
	[PROXYIN_R_V1_IGNORED] = "v1: bad byte after UNKNOWN",
	[PROXYIN_R_V1_CRLF] = "v1: CR not followed by LF",
	[PROXYIN_R_V1_LONG] = "v1: no CRLF within 107 bytes",
	[PROXYIN_R_V2_SIG] = "v2: bad signature",
	[PROXYIN_R_V2_VERSION] = "v2: version not 2",
	[PROXYIN_R_V2_COMMAND] = "v2: command not LOCAL or PROXY",
	[PROXYIN_R_V2_FAMILY] = "v2: family not UNSPEC or a stream over "
	    "IPv4, IPv6, UNIX",
	[PROXYIN_R_V2_LONG] = "v2: longer than 536 bytes",
	[PROXYIN_R_V2_SHORT] = "v2: length short of the address block",
	[PROXYIN_R_V2_TLV_CUT] = "v2: TLV header cut by the length",
	[PROXYIN_R_V2_TLV_OVERRUN] = "v2: TLV value overruns the length",
	[PROXYIN_R_V2_TLV_REPEATED] = "v2: TLV repeated",
	[PROXYIN_R_V2_CRC] = "v2: CRC32C mismatch",
	[PROXYIN_R_V2_ALPN] = "v2: bad ALPN TLV",
	[PROXYIN_R_V2_AUTHORITY] = "v2: bad AUTHORITY TLV",
	[PROXYIN_R_V2_CRC_LEN] = "v2: bad CRC32C TLV",
	[PROXYIN_R_V2_UNIQUE_ID] = "v2: bad UNIQUE_ID TLV",
	[PROXYIN_R_V2_SSL] = "v2: bad SSL TLV",
	[PROXYIN_R_V2_NETNS] = "v2: bad NETNS TLV",
	[PROXYIN_R_V2_AWS] = "v2: bad AWS TLV",
	[PROXYIN_R_V2_AZURE] = "v2: bad Azure TLV",
};

/*
 * The v1 protocols.  While the word is walked, pw_proto has a bit for
 * each one its bytes so far can still become; the shortest line each
 * allows after the word (for px_need) is its tail.
 */
static const struct proxyin_v1_proto {
	const char	*vp_word;
	size_t		 vp_word_len;
	int		 vp_family;
	size_t		 vp_addr_min;	/* "0.0.0.0", "::" */
	size_t		 vp_addr_max;	/* 4 * 3 + 3, 8 * 4 + 7 */
	size_t		 vp_tail;	/* bytes after the word, at least */
} proxyin_v1_protos[] = {
	{ "TCP4", 4, AF_INET, 7, 15, 1 + 7 + 1 + 7 + 1 + 1 + 1 + 1 + 2 },
	{ "TCP6", 4, AF_INET6, 2, PROXYIN_V1_ADDR_MAX, 1 + 2 + 1 + 2 + 1 + 1 + 1 + 1 + 2 },
	{ "UNKNOWN", 7, AF_UNSPEC, 0, 0, 2 },
};

#define PROXYIN_V1_PROTOS \
	(sizeof(proxyin_v1_protos) / sizeof(proxyin_v1_protos[0]))
#define PROXYIN_V1_ALL	((1U << PROXYIN_V1_PROTOS) - 1)

static int	proxyin_tlv_printable(const uint8_t *, size_t);
static int	proxyin_tlv_authority(const uint8_t *, size_t);
static int	proxyin_tlv_aws(const uint8_t *, size_t);
static int	proxyin_tlv_azure(const uint8_t *, size_t);

/*
 * The v2 TLV types read here, one row each: whether kept, the value's
 * length bounds, a check of its contents, and the reason when it breaks
 * them.  A row's index is its bit in the set of types seen, to refuse a
 * repeat (but NOOP, padding, which may repeat).
 */
static const struct proxyin_tlv_rule {
	uint8_t		 tr_type;
	uint8_t		 tr_kept;
	uint8_t		 tr_repeats;
	uint16_t	 tr_min, tr_max;
	int		(*tr_check)(const uint8_t *, size_t);
	enum proxyin_reason tr_reason;
} proxyin_tlv_rules[] = {
	{ PROXYIN_TLV_ALPN, 1, 0, 1, PROXYIN_V2_MAX, NULL,
	  PROXYIN_R_V2_ALPN },
	{ PROXYIN_TLV_AUTHORITY, 1, 0, 1, HOSTNAME_MAX, proxyin_tlv_authority,
	  PROXYIN_R_V2_AUTHORITY },
	{ PROXYIN_TLV_CRC32C, 0, 0, 4, 4, NULL,
	  PROXYIN_R_V2_CRC_LEN },
	{ PROXYIN_TLV_NOOP, 0, 1, 0, PROXYIN_V2_MAX, NULL,
	  PROXYIN_R_NONE },
	{ PROXYIN_TLV_UNIQUE_ID, 1, 0, 0, PROXYIN_UNIQUE_ID_MAX, NULL,
	  PROXYIN_R_V2_UNIQUE_ID },
	{ PROXYIN_TLV_SSL, 0, 0, PROXYIN_SSL_HEAD, PROXYIN_V2_MAX, NULL,
	  PROXYIN_R_V2_SSL },
	{ PROXYIN_TLV_NETNS, 1, 0, 1, PROXYIN_V2_MAX, proxyin_tlv_printable,
	  PROXYIN_R_V2_NETNS },
	{ PROXYIN_TLV_AWS, 1, 0, 1, PROXYIN_V2_MAX, proxyin_tlv_aws,
	  PROXYIN_R_V2_AWS },
	{ PROXYIN_TLV_AZURE, 1, 0, 1, PROXYIN_V2_MAX, proxyin_tlv_azure,
	  PROXYIN_R_V2_AZURE },
};

#define PROXYIN_TLV_RULES \
	(sizeof(proxyin_tlv_rules) / sizeof(proxyin_tlv_rules[0]))

/* proxyin_tlv_printable - a value of printable US-ASCII (spec 2.2.7) */
static int
proxyin_tlv_printable(const uint8_t *value, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (value[i] < 0x20 || value[i] > 0x7e)
			return -1;
	return 0;
}

/* proxyin_tlv_authority - no NUL, as proxy_decode reads an authority */
static int
proxyin_tlv_authority(const uint8_t *value, size_t len)
{
	return memchr(value, '\0', len) == NULL ? 0 : -1;
}

/*
 * proxyin_tlv_aws - AWS's TLV (Network Load Balancer docs, "Proxy
 * protocol"): a subtype byte; subtype 0x01 carries the VPC endpoint id
 * as ASCII ("vpce-..."), which must be there.  Other subtypes as given.
 */
static int
proxyin_tlv_aws(const uint8_t *value, size_t len)
{
	if (value[0] != PROXYIN_SUBTYPE_1)
		return 0;
	if (len < 2)
		return -1;
	return proxyin_tlv_printable(value + 1, len - 1);
}

/*
 * proxyin_tlv_azure - Azure Private Link's TLV: a subtype byte; subtype
 * 0x01 carries the private endpoint's LinkID, a little-endian uint32.
 */
static int
proxyin_tlv_azure(const uint8_t *value, size_t len)
{
	if (value[0] != PROXYIN_SUBTYPE_1)
		return 0;
	return len == 1 + PROXYIN_AZURE_LINK_LEN ? 0 : -1;
}

/* proxyin_v2_addr_len - the address block of a family byte accepted */
static size_t
proxyin_v2_addr_len(uint8_t family)
{
	switch (family) {
	case PROXYIN_FAM_TCP4:
		return PROXYIN_ADDR4_LEN;
	case PROXYIN_FAM_TCP6:
		return PROXYIN_ADDR6_LEN;
	case PROXYIN_FAM_UNIX:
		return 2 * PROXYIN_UNIX_PATH;
	}
	return 0;
}

/*
 * proxyin_v1_addr - convert one v1 address, as walked, into ss; -1 when
 * it is not in its family's form (spec 2.1): inet_pton's, but for a
 * dotted tail on a TCP6 address other than ::ffff:a.b.c.d.  The walk
 * has checked its bytes' classes and length.
 */
static int
proxyin_v1_addr(const uint8_t *text, size_t len, int family,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 buf[PROXYIN_V1_ADDR_MAX + 1];

	memcpy(buf, text, len);
	buf[len] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		return inet_pton(AF_INET, buf, &sin->sin_addr) == 1 ? 0 : -1;
	}
	if (memchr(buf, '.', len) != NULL &&
	    (strncasecmp(buf, PROXYIN_V1_MAPPED,
	    sizeof(PROXYIN_V1_MAPPED) - 1) != 0 ||
	    strchr(buf + sizeof(PROXYIN_V1_MAPPED) - 1, ':') != NULL))
		return -1;
	sin6->sin6_family = AF_INET6;
	return inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1 ? 0 : -1;
}

/* proxyin_v1_addr_byte - whether b may be in an address of family */
static int
proxyin_v1_addr_byte(int family, uint8_t b)
{
	if ((b >= '0' && b <= '9') || b == '.')
		return 1;
	return family == AF_INET6 && (b == ':' || (b >= 'a' && b <= 'f') ||
	    (b >= 'A' && b <= 'F'));
}

/*
 * proxyin_v1_ended - the protocol named by the word walked, now that a
 * space or CR ends it; NULL when it names none
 */
static const struct proxyin_v1_proto *
proxyin_v1_ended(const struct proxyin_walk *pw)
{
	size_t	 i;

	for (i = 0; i < PROXYIN_V1_PROTOS; i++)
		if ((pw->pw_proto & (1U << i)) &&
		    proxyin_v1_protos[i].vp_word_len == pw->pw_count)
			return &proxyin_v1_protos[i];
	return NULL;
}

/* proxyin_v1_proto - the protocol of a line past its word (one bit left) */
static const struct proxyin_v1_proto *
proxyin_v1_proto(const struct proxyin_walk *pw)
{
	size_t	 i;

	for (i = 0; !(pw->pw_proto & (1U << i)); i++)
		;
	return &proxyin_v1_protos[i];
}

/*
 * proxyin_v1_need - the fewest bytes a v1 line can still need, from the
 * step it is at: the rest of the current field's shortest form, then
 * each later field's and its separator, then LF.
 */
static size_t
proxyin_v1_need(const struct proxyin_walk *pw)
{
	const struct proxyin_v1_proto *vp;
	size_t	 i, need, best = PROXYIN_V1_MAX, min[4], rest;
	int	 field;

	switch (pw->pw_step) {
	case PROXYIN_V1_START:
		return PROXYIN_MIN - pw->pw_pos;
	case PROXYIN_V1_PROTO:
		for (i = 0; i < PROXYIN_V1_PROTOS; i++) {
			vp = &proxyin_v1_protos[i];
			if (!(pw->pw_proto & (1U << i)))
				continue;
			need = vp->vp_word_len - pw->pw_count + vp->vp_tail;
			if (need < best)
				best = need;
		}
		return best;
	case PROXYIN_V1_IGNORED:
		return 2;
	case PROXYIN_V1_LF:
		return 1;
	}
	vp = proxyin_v1_proto(pw);
	min[0] = min[1] = vp->vp_addr_min;
	min[2] = min[3] = 1;
	field = pw->pw_step - PROXYIN_V1_SRC;
	need = min[field] > pw->pw_count ? min[field] - pw->pw_count : 0;
	need += 1;		/* its separator */
	for (rest = field + 1; rest < 4; rest++)
		need += min[rest] + 1;
	return need + 1;	/* LF after the CR */
}

/*
 * proxyin_v1_port - walk one byte of a port: decimal 0..65535, "0" or no
 * leading zero (spec 2.1), ended by sep; pw_left holds the value.  1
 * when the port ended, 0 when it goes on, -1 when b breaks it.
 */
static int
proxyin_v1_port(struct proxyin_walk *pw, uint8_t b, uint8_t sep)
{
	unsigned	 digit = b - '0';

	if (b == sep)
		return pw->pw_count > 0 ? 1 : -1;
	if (b < '0' || b > '9' || (pw->pw_count > 0 && pw->pw_left == 0) ||
	    pw->pw_left * 10U + digit > PROXYIN_PORT_MAX)
		return -1;
	pw->pw_left = (uint16_t)(pw->pw_left * 10U + digit);
	pw->pw_count++;
	return 0;
}

/*
 * proxyin_v1_byte - walk one byte of a v1 line, spec section 2.1:
 *
 *	"PROXY" SP "TCP4" SP src SP dst SP sport SP dport CR LF
 *	"PROXY" SP "TCP6" SP src SP dst SP sport SP dport CR LF
 *	"PROXY" SP "UNKNOWN" [ SP <printable ASCII, ignored> ] CR LF
 *
 * Each byte is judged as it comes; an address is converted when the
 * space after it arrives (its bytes are the caller's, still there).
 * PROXYIN_R_NONE: good so far.
 */
static enum proxyin_reason
proxyin_v1_byte(struct proxyin_walk *pw, const uint8_t *peek, uint8_t b)
{
	const struct proxyin_v1_proto *vp;
	struct sockaddr_storage scratch;
	size_t			 i, pos = pw->pw_pos;
	int			 src = pw->pw_step == PROXYIN_V1_SRC, r;
	unsigned		 still = 0;

	switch (pw->pw_step) {
	case PROXYIN_V1_START:
		if (b != PROXYIN_V1_PREFIX[pos])
			return PROXYIN_R_V1_PREFIX;
		if (pos + 1 == PROXYIN_V1_PREFIX_LEN) {
			pw->pw_step = PROXYIN_V1_PROTO;
			pw->pw_proto = PROXYIN_V1_ALL;
		}
		return PROXYIN_R_NONE;
	case PROXYIN_V1_PROTO:
		if (b == ' ' || b == '\r') {
			if ((vp = proxyin_v1_ended(pw)) == NULL ||
			    (b == '\r' && vp->vp_family != AF_UNSPEC))
				return PROXYIN_R_V1_PROTO;
			pw->pw_proto = (uint8_t)(1U << (vp - proxyin_v1_protos));
			pw->pw_count = 0;
			if (vp->vp_family == AF_UNSPEC)
				pw->pw_step = b == '\r' ? PROXYIN_V1_LF :
				    PROXYIN_V1_IGNORED;
			else
				pw->pw_step = PROXYIN_V1_SRC;
			return PROXYIN_R_NONE;
		}
		for (i = 0; i < PROXYIN_V1_PROTOS; i++)
			if ((pw->pw_proto & (1U << i)) &&
			    proxyin_v1_protos[i].vp_word_len > pw->pw_count &&
			    proxyin_v1_protos[i].vp_word[pw->pw_count] == b)
				still |= 1U << i;
		if (still == 0)
			return PROXYIN_R_V1_PROTO;
		pw->pw_proto = (uint8_t)still;
		pw->pw_count++;
		return PROXYIN_R_NONE;
	case PROXYIN_V1_SRC:
	case PROXYIN_V1_DST:
		vp = proxyin_v1_proto(pw);
		if (b != ' ') {
			if (pw->pw_count == vp->vp_addr_max ||
			    !proxyin_v1_addr_byte(vp->vp_family, b))
				return src ? PROXYIN_R_V1_SRC : PROXYIN_R_V1_DST;
			pw->pw_count++;
			return PROXYIN_R_NONE;
		}
		if (pw->pw_count == 0 || proxyin_v1_addr(peek + pos -
		    pw->pw_count, pw->pw_count, vp->vp_family, &scratch) == -1)
			return src ? PROXYIN_R_V1_SRC : PROXYIN_R_V1_DST;
		pw->pw_mark[src ? 0 : 2] = (uint8_t)(pos - pw->pw_count);
		pw->pw_mark[src ? 1 : 3] = pw->pw_count;
		/* the word's bit stays in pw_proto; the count restarts */
		pw->pw_count = 0;
		pw->pw_step++;
		return PROXYIN_R_NONE;
	case PROXYIN_V1_SPORT:
		if ((r = proxyin_v1_port(pw, b, ' ')) == -1)
			return PROXYIN_R_V1_SPORT;
		if (r == 1) {
			pw->pw_port = pw->pw_left;
			pw->pw_left = 0;
			pw->pw_count = 0;
			pw->pw_step = PROXYIN_V1_DPORT;
		}
		return PROXYIN_R_NONE;
	case PROXYIN_V1_DPORT:
		if ((r = proxyin_v1_port(pw, b, '\r')) == -1)
			return PROXYIN_R_V1_DPORT;
		if (r == 1)
			pw->pw_step = PROXYIN_V1_LF;
		return PROXYIN_R_NONE;
	case PROXYIN_V1_IGNORED:
		if (b == '\r')
			pw->pw_step = PROXYIN_V1_LF;
		else if (b < 0x20 || b > 0x7e)
			return PROXYIN_R_V1_IGNORED;
		return PROXYIN_R_NONE;
	default:
		if (b != '\n')
			return PROXYIN_R_V1_CRLF;
		pw->pw_step = PROXYIN_V1_END;
		return PROXYIN_R_NONE;
	}
}

/*
 * proxyin_v2_next - the address block or a TLV ended at pw_pos: the
 * header ends here, or another TLV header must fit before its end.
 */
static enum proxyin_reason
proxyin_v2_next(struct proxyin_walk *pw)
{
	if (pw->pw_total - pw->pw_pos != 0 &&
	    pw->pw_total - pw->pw_pos < PROXYIN_TLV_HDR)
		return PROXYIN_R_V2_TLV_CUT;
	pw->pw_step = PROXYIN_V2_TLV_HDR;
	pw->pw_count = 0;
	return PROXYIN_R_NONE;
}

/*
 * proxyin_v2_byte - walk one byte of the v2 fixed header, spec section
 * 2.2 (what is accepted in proxyin.h):
 *
 *	uint8_t  sig[12];	\r \n \r \n \0 \r \n Q U I T \n
 *	uint8_t  ver_cmd;	0x20 LOCAL, 0x21 PROXY
 *	uint8_t  fam;		0x00, 0x11, 0x21, 0x31
 *	uint16_t len;		what follows, big-endian
 *
 * or of a TLV header (type, 2-byte length).  PROXYIN_R_NONE: good so
 * far.
 */
static enum proxyin_reason
proxyin_v2_byte(struct proxyin_walk *pw, uint8_t b)
{
	size_t	 pos = pw->pw_pos, len;

	if (pw->pw_step == PROXYIN_V2_TLV_HDR) {
		if (pw->pw_count == 1)
			pw->pw_left = (uint16_t)(b << 8);
		else if (pw->pw_count == 2)
			pw->pw_left |= b;
		if (++pw->pw_count < PROXYIN_TLV_HDR)
			return PROXYIN_R_NONE;
		if (pw->pw_left > pw->pw_total - pos - 1)
			return PROXYIN_R_V2_TLV_OVERRUN;
		pw->pw_step = PROXYIN_V2_TLV_VALUE;
		return PROXYIN_R_NONE;
	}
	if (pos < PROXY_SIG_LEN)
		return b == (uint8_t)PROXY_SIG[pos] ? PROXYIN_R_NONE :
		    PROXYIN_R_V2_SIG;
	switch (pos) {
	case PROXY_SIG_LEN:
		if (b >> 4 != PROXYIN_V2_VERSION)
			return PROXYIN_R_V2_VERSION;
		if ((b & 0xf) != PROXYIN_CMD_LOCAL &&
		    (b & 0xf) != PROXYIN_CMD_PROXY)
			return PROXYIN_R_V2_COMMAND;
		pw->pw_command = b & 0xf;
		return PROXYIN_R_NONE;
	case PROXY_SIG_LEN + 1:
		if (b != PROXYIN_FAM_UNSPEC && b != PROXYIN_FAM_TCP4 &&
		    b != PROXYIN_FAM_TCP6 && b != PROXYIN_FAM_UNIX)
			return PROXYIN_R_V2_FAMILY;
		pw->pw_proto = b;
		return PROXYIN_R_NONE;
	case PROXY_SIG_LEN + 2:
		pw->pw_total = (uint16_t)(b << 8);
		return PROXYIN_R_NONE;
	}
	len = pw->pw_total | b;
	if (len > PROXYIN_V2_MAX - PROXY_HDR_LEN)
		return PROXYIN_R_V2_LONG;
	if (len < proxyin_v2_addr_len(pw->pw_proto))
		return PROXYIN_R_V2_SHORT;
	pw->pw_total = (uint16_t)(PROXY_HDR_LEN + len);
	pw->pw_left = (uint16_t)proxyin_v2_addr_len(pw->pw_proto);
	pw->pw_step = PROXYIN_V2_ADDR;
	return PROXYIN_R_NONE;
}

/*
 * proxyin_v2_need - the fewest bytes a v2 header can still need: the
 * fixed header and, once the family is known, its address block; once
 * the length is known, exactly the rest.
 */
static size_t
proxyin_v2_need(const struct proxyin_walk *pw)
{
	if (pw->pw_step != PROXYIN_V2_FIXED)
		return pw->pw_total - pw->pw_pos;
	if (pw->pw_pos > PROXY_SIG_LEN + 1)
		return PROXY_HDR_LEN - pw->pw_pos +
		    proxyin_v2_addr_len(pw->pw_proto);
	return PROXY_HDR_LEN - pw->pw_pos;
}

/* proxyin_need - the fewest more bytes before the header can be whole */
static size_t
proxyin_need(const struct proxyin_walk *pw)
{
	switch (pw->pw_version) {
	case 0:
		return PROXYIN_MIN;
	case 1:
		return proxyin_v1_need(pw);
	}
	return proxyin_v2_need(pw);
}

/* proxyin_done - whether the walk reached the header's last byte */
static int
proxyin_done(const struct proxyin_walk *pw)
{
	if (pw->pw_version == 1)
		return pw->pw_step == PROXYIN_V1_END;
	return pw->pw_version == 2 && pw->pw_step == PROXYIN_V2_TLV_HDR &&
	    pw->pw_count == 0 && pw->pw_pos == pw->pw_total;
}

/*
 * proxyin_walk_on - walk from where the walk got to the end of the len
 * bytes given, or to the header's end: v1 byte by byte, v2 its headers
 * byte by byte and the address block and TLV values by their length.
 * PROXYIN_R_NONE and *done 0: good so far, wants more.
 */
static enum proxyin_reason
proxyin_walk_on(const uint8_t *peek, size_t len, struct proxyin_walk *pw,
    int *done)
{
	enum proxyin_reason r;
	size_t		 n;
	uint8_t		 b;

	*done = proxyin_done(pw);
	while (!*done && pw->pw_pos < len) {
		b = peek[pw->pw_pos];
		if (pw->pw_version == 0) {
			if (b == PROXYIN_V1_PREFIX[0]) {
				pw->pw_version = 1;
				pw->pw_step = PROXYIN_V1_START;
			} else if (b == (uint8_t)PROXY_SIG[0]) {
				pw->pw_version = 2;
				pw->pw_step = PROXYIN_V2_FIXED;
			} else {
				return PROXYIN_R_START;
			}
		}
		if (pw->pw_version == 1) {
			r = proxyin_v1_byte(pw, peek, b);
			pw->pw_pos++;
			if (r != PROXYIN_R_NONE)
				return r;
			*done = proxyin_done(pw);
			/* the shortest line from here must still fit */
			if (!*done && pw->pw_pos + proxyin_v1_need(pw) >
			    PROXYIN_V1_MAX)
				return PROXYIN_R_V1_LONG;
			continue;
		}
		if (pw->pw_step == PROXYIN_V2_FIXED ||
		    pw->pw_step == PROXYIN_V2_TLV_HDR) {
			r = proxyin_v2_byte(pw, b);
			pw->pw_pos++;
			if (r != PROXYIN_R_NONE)
				return r;
		} else {
			n = pw->pw_left;
			if (n > len - pw->pw_pos)
				n = len - pw->pw_pos;
			pw->pw_pos += (uint16_t)n;
			pw->pw_left -= (uint16_t)n;
		}
		if ((pw->pw_step == PROXYIN_V2_ADDR ||
		    pw->pw_step == PROXYIN_V2_TLV_VALUE) && pw->pw_left == 0 &&
		    (r = proxyin_v2_next(pw)) != PROXYIN_R_NONE)
			return r;
		*done = proxyin_done(pw);
	}
	return PROXYIN_R_NONE;
}

/* proxyin_clear - the answer's fields before anything is found */
static void
proxyin_clear(struct proxyin *px)
{
	px->px_len = 0;
	px->px_need = 0;
	px->px_reason = NULL;
	px->px_examined = 0;
	px->px_version = 0;
	px->px_command = PROXYIN_LOCAL;
	px->px_family = AF_UNSPEC;
	px->px_socktype = 0;
	memset(&px->px_src, 0, sizeof(px->px_src));
	memset(&px->px_dst, 0, sizeof(px->px_dst));
	px->px_tlvs_len = 0;
}

/* proxyin_set_port - a port in network order into an inet address */
static void
proxyin_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* proxyin_v1_finish - the answer of a whole v1 line the walk accepted */
static void
proxyin_v1_finish(const uint8_t *peek, const struct proxyin_walk *pw,
    struct proxyin *px)
{
	const struct proxyin_v1_proto *vp = proxyin_v1_proto(pw);

	px->px_version = 1;
	if (vp->vp_family == AF_UNSPEC)
		return;
	px->px_command = PROXYIN_PROXY;
	px->px_family = vp->vp_family;
	px->px_socktype = SOCK_STREAM;
	/* the walk converted both already: these cannot fail */
	(void)proxyin_v1_addr(peek + pw->pw_mark[0], pw->pw_mark[1],
	    vp->vp_family, &px->px_src);
	(void)proxyin_v1_addr(peek + pw->pw_mark[2], pw->pw_mark[3],
	    vp->vp_family, &px->px_dst);
	proxyin_set_port(&px->px_src, pw->pw_port);
	proxyin_set_port(&px->px_dst, pw->pw_left);
}

/*
 * proxyin_crc32c - CRC32c (Castagnoli, RFC 4960 appendix B, reflected
 * polynomial 0x82F63B78) of len bytes, continuing from crc; a header is
 * at most PROXYIN_V2_MAX bytes, checked once: bit by bit is enough.
 */
static uint32_t
proxyin_crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	size_t	 i;
	int	 k;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78U & -(crc & 1));
	}
	return crc;
}

/*
 * proxyin_v2_crc - whether the header's CRC32c, with the 4 bytes of the
 * CRC32C TLV's value at off taken as zeros, is that value (spec 2.2.3)
 */
static int
proxyin_v2_crc(const uint8_t *hdr, size_t len, size_t off)
{
	static const uint8_t zeros[4];
	uint32_t	 crc = 0xffffffffU, want;

	want = (uint32_t)hdr[off] << 24 | (uint32_t)hdr[off + 1] << 16 |
	    (uint32_t)hdr[off + 2] << 8 | hdr[off + 3];
	crc = proxyin_crc32c(crc, hdr, off);
	crc = proxyin_crc32c(crc, zeros, sizeof(zeros));
	crc = proxyin_crc32c(crc, hdr + off + 4, len - off - 4);
	return (crc ^ 0xffffffffU) == want;
}

/*
 * proxyin_v2_tlvs - check the TLVs of a whole header the walk framed,
 * spec sections 2.2.1 to 2.2.8 (the rules in proxyin_tlv_rules), and
 * copy the kept ones when keep; PROXYIN_R_NONE or the rule broken.
 */
static enum proxyin_reason
proxyin_v2_tlvs(const uint8_t *hdr, size_t off, size_t len, int keep,
    struct proxyin *px)
{
	const struct proxyin_tlv_rule *tr;
	size_t		 vlen, crc_at = 0, i;
	unsigned	 seen = 0;

	for (; off < len; off += PROXYIN_TLV_HDR + vlen) {
		vlen = (size_t)hdr[off + 1] << 8 | hdr[off + 2];
		for (i = 0; i < PROXYIN_TLV_RULES; i++)
			if (proxyin_tlv_rules[i].tr_type == hdr[off])
				break;
		if (i == PROXYIN_TLV_RULES)
			continue;
		tr = &proxyin_tlv_rules[i];
		if (!tr->tr_repeats && (seen & (1U << i)))
			return PROXYIN_R_V2_TLV_REPEATED;
		seen |= 1U << i;
		if (vlen < tr->tr_min || vlen > tr->tr_max ||
		    (tr->tr_check != NULL &&
		    tr->tr_check(hdr + off + PROXYIN_TLV_HDR, vlen) == -1))
			return tr->tr_reason;
		if (tr->tr_type == PROXYIN_TLV_CRC32C)
			crc_at = off + PROXYIN_TLV_HDR;
		if (keep && tr->tr_kept) {
			/* cannot overflow: see PROXYIN_KEPT_MAX */
			memcpy(px->px_tlvs + px->px_tlvs_len, hdr + off,
			    PROXYIN_TLV_HDR + vlen);
			px->px_tlvs_len += PROXYIN_TLV_HDR + vlen;
		}
	}
	if (crc_at != 0 && !proxyin_v2_crc(hdr, len, crc_at))
		return PROXYIN_R_V2_CRC;
	return PROXYIN_R_NONE;
}

/*
 * proxyin_v2_finish - the answer of a whole v2 header the walk framed:
 * the addresses of a PROXY command (spec 2.2, union proxy_addr; ports
 * are in network order on the wire and in a sockaddr alike), then the
 * TLVs.  PROXYIN_R_NONE or the rule broken.
 */
static enum proxyin_reason
proxyin_v2_finish(const uint8_t *hdr, const struct proxyin_walk *pw,
    struct proxyin *px)
{
	struct sockaddr_in	*src4, *dst4;
	struct sockaddr_in6	*src6, *dst6;
	struct sockaddr_un	*srcu, *dstu;
	const uint8_t		*a = hdr + PROXY_HDR_LEN;
	uint8_t			 family = pw->pw_proto;
	int			 proxy;

	px->px_version = 2;
	proxy = pw->pw_command == PROXYIN_CMD_PROXY &&
	    family != PROXYIN_FAM_UNSPEC;
	if (proxy) {
		px->px_command = PROXYIN_PROXY;
		px->px_socktype = SOCK_STREAM;
	}
	if (proxy && family == PROXYIN_FAM_TCP4) {
		src4 = (struct sockaddr_in *)&px->px_src;
		dst4 = (struct sockaddr_in *)&px->px_dst;
		px->px_family = src4->sin_family = dst4->sin_family = AF_INET;
		memcpy(&src4->sin_addr, a, 4);
		memcpy(&dst4->sin_addr, a + 4, 4);
		memcpy(&src4->sin_port, a + 8, 2);
		memcpy(&dst4->sin_port, a + 10, 2);
	} else if (proxy && family == PROXYIN_FAM_TCP6) {
		src6 = (struct sockaddr_in6 *)&px->px_src;
		dst6 = (struct sockaddr_in6 *)&px->px_dst;
		px->px_family = src6->sin6_family = dst6->sin6_family =
		    AF_INET6;
		memcpy(&src6->sin6_addr, a, 16);
		memcpy(&dst6->sin6_addr, a + 16, 16);
		memcpy(&src6->sin6_port, a + 32, 2);
		memcpy(&dst6->sin6_port, a + 34, 2);
	} else if (proxy) {
		srcu = (struct sockaddr_un *)&px->px_src;
		dstu = (struct sockaddr_un *)&px->px_dst;
		px->px_family = srcu->sun_family = dstu->sun_family = AF_UNIX;
		memcpy(srcu->sun_path, a, PROXYIN_UNIX_PATH);
		memcpy(dstu->sun_path, a + PROXYIN_UNIX_PATH, PROXYIN_UNIX_PATH);
	}
	return proxyin_v2_tlvs(hdr, PROXY_HDR_LEN +
	    proxyin_v2_addr_len(family), pw->pw_total, proxy, px);
}

/*
 * proxyin_resume - go on reading the header in the first len bytes
 * peeked, from where pw got with fewer of the same bytes.  A walk that
 * has answered gives the same answer again without walking; for
 * PROXYIN_DONE it reads the header again from the first byte, since
 * the answer is copied out of this call's bytes.
 */
enum proxyin_result
proxyin_resume(const uint8_t *peek, size_t len, struct proxyin_walk *pw,
    struct proxyin *px)
{
	enum proxyin_reason r;
	size_t		 from;
	int		 done;

	proxyin_clear(px);
	if (pw->pw_answer == 1 + PROXYIN_DONE)
		memset(pw, 0, sizeof(*pw));
	if (pw->pw_answer == 1 + PROXYIN_INVALID) {
		px->px_reason = proxyin_reasons[pw->pw_reason];
		return PROXYIN_INVALID;
	}
	/* Fewer bytes than the walk saw (a broken promise): ask for them. */
	if (len < pw->pw_pos) {
		px->px_need = pw->pw_pos - len + proxyin_need(pw);
		return PROXYIN_NEED_MORE;
	}
	from = pw->pw_pos;
	r = proxyin_walk_on(peek, len, pw, &done);
	px->px_examined = pw->pw_pos - from;
	if (r == PROXYIN_R_NONE && !done) {
		px->px_need = proxyin_need(pw);
		return PROXYIN_NEED_MORE;
	}
	if (r == PROXYIN_R_NONE) {
		px->px_examined += pw->pw_pos;
		if (pw->pw_version == 1)
			proxyin_v1_finish(peek, pw, px);
		else
			r = proxyin_v2_finish(peek, pw, px);
	}
	if (r != PROXYIN_R_NONE) {
		from = px->px_examined;
		proxyin_clear(px);
		px->px_examined = from;
		px->px_reason = proxyin_reasons[r];
		pw->pw_reason = (uint8_t)r;
		pw->pw_answer = 1 + PROXYIN_INVALID;
		return PROXYIN_INVALID;
	}
	px->px_len = pw->pw_pos;
	pw->pw_answer = 1 + PROXYIN_DONE;
	return PROXYIN_DONE;
}

/* proxyin_parse - read the header in the first len bytes peeked */
enum proxyin_result
proxyin_parse(const uint8_t *peek, size_t len, struct proxyin *px)
{
	struct proxyin_walk pw;

	memset(&pw, 0, sizeof(pw));
	return proxyin_resume(peek, len, &pw, px);
}

/*
 * proxyin_tlv - the value of the kept TLV of this type and its length in
 * *len, or NULL when the header had none
 */
const uint8_t *
proxyin_tlv(const struct proxyin *px, uint8_t type, size_t *len)
{
	size_t	 off, vlen;

	for (off = 0; off + PROXYIN_TLV_HDR <= px->px_tlvs_len;
	    off += PROXYIN_TLV_HDR + vlen) {
		vlen = (size_t)px->px_tlvs[off + 1] << 8 | px->px_tlvs[off + 2];
		if (px->px_tlvs[off] == type) {
			*len = vlen;
			return px->px_tlvs + off + PROXYIN_TLV_HDR;
		}
	}
	*len = 0;
	return NULL;
}

/* proxyin_result_name - the result as a word for logs and counters */
const char *
proxyin_result_name(enum proxyin_result r)
{
	switch (r) {
	case PROXYIN_DONE:
		return "done";
	case PROXYIN_NEED_MORE:
		return "need-more";
	case PROXYIN_INVALID:
		return "invalid";
	}
	return "unknown";
}
