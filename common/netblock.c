/*
 * netblock.c - a client address reduced to its netblock, compared and
 * hashed for worker/source.c's table.
 *
 * Pure: no system call but inet_ntop.  The hash is keyed: clients choose
 * their addresses, so with a fixed function one who owns enough of them
 * could put them all in one chain of the table.  It is the multilinear
 * family (a random 64-bit multiplier per 32-bit word, the top half of
 * the sum kept), which is universal for keys of a fixed length.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netblock.h"

static const uint8_t netblock_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* netblock_mask - keep the first bits of len bytes at addr, zero the rest */
static void
netblock_mask(uint8_t *addr, size_t len, unsigned bits)
{
	size_t	i;

	for (i = 0; i < len; i++, bits = bits > 8 ? bits - 8 : 0)
		if (bits < 8)
			addr[i] &= (uint8_t)(0xff00 >> bits);
}

/* netblock_of - the netblock of sa's address; family 0 when not IP */
void
netblock_of(const struct sockaddr *sa, unsigned v4_prefix, unsigned v6_prefix,
    struct netblock *nb)
{
	const struct sockaddr_in6	*sin6 = (const void *)sa;
	const struct sockaddr_in	*sin = (const void *)sa;

	memset(nb, 0, sizeof(*nb));
	if (sa->sa_family == AF_INET6 && memcmp(&sin6->sin6_addr,
	    netblock_mapped, sizeof(netblock_mapped)) == 0) {
		nb->nb_family = AF_INET;
		memcpy(nb->nb_addr, (const uint8_t *)&sin6->sin6_addr + 12, 4);
	} else if (sa->sa_family == AF_INET6) {
		nb->nb_family = AF_INET6;
		nb->nb_prefix = (uint8_t)(v6_prefix > 128 ? 128 : v6_prefix);
		memcpy(nb->nb_addr, &sin6->sin6_addr, 16);
		netblock_mask(nb->nb_addr, 16, nb->nb_prefix);
		return;
	} else if (sa->sa_family == AF_INET) {
		nb->nb_family = AF_INET;
		memcpy(nb->nb_addr, &sin->sin_addr, 4);
	} else
		return;
	nb->nb_prefix = (uint8_t)(v4_prefix > 32 ? 32 : v4_prefix);
	netblock_mask(nb->nb_addr, 4, nb->nb_prefix);
}

/* netblock_equal - whether a and b are the same netblock */
int
netblock_equal(const struct netblock *a, const struct netblock *b)
{
	return a->nb_family == b->nb_family && a->nb_prefix == b->nb_prefix &&
	    memcmp(a->nb_addr, b->nb_addr, sizeof(a->nb_addr)) == 0;
}

/* netblock_hash - nb hashed with key, a secret of the caller's */
uint32_t
netblock_hash(const struct netblock *nb, const uint64_t key[NETBLOCK_KEY_WORDS])
{
	uint64_t	sum = key[0] + (uint64_t)nb->nb_family * key[1] +
	    (uint64_t)nb->nb_prefix * key[2];
	uint32_t	word;
	size_t		i;

	for (i = 0; i < sizeof(nb->nb_addr) / sizeof(word); i++) {
		memcpy(&word, nb->nb_addr + i * sizeof(word), sizeof(word));
		sum += (uint64_t)word * key[3 + i];
	}
	return (uint32_t)(sum >> 32);
}

/* netblock_text - nb as "ADDR/PREFIX" in buf, for a log line */
const char *
netblock_text(const struct netblock *nb, char *buf, size_t size)
{
	char	addr[NETBLOCK_TEXT_MAX];

	if (nb->nb_family == 0 ||
	    inet_ntop(nb->nb_family, nb->nb_addr, addr, sizeof(addr)) == NULL)
		snprintf(buf, size, "unknown");
	else
		snprintf(buf, size, "%s/%u", addr, nb->nb_prefix);
	return buf;
}

/*
 * netblock_parse - "ADDR/PREFIX" or a bare ADDR (all of it: /32, /128)
 * into nb; 0, or -1 when it is no address, the prefix is out of range,
 * or the address has bits set past the prefix (10.1.2.3/8 is a typo
 * more often than a meaning).  An IPv4-mapped block, ::ffff:A.B.C.D/N
 * with N >= 96, is the IPv4 block A.B.C.D/(N - 96), as netblock_of
 * counts such addresses.
 */
int
netblock_parse(const char *text, struct netblock *nb)
{
	char		 addr[NETBLOCK_TEXT_MAX], *end;
	const char	*slash = strchr(text, '/');
	size_t		 len = slash != NULL ? (size_t)(slash - text) :
	    strlen(text);
	unsigned long	 prefix;
	uint8_t		 masked[16];

	memset(nb, 0, sizeof(*nb));
	if (len == 0 || len >= sizeof(addr))
		return -1;
	memcpy(addr, text, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, nb->nb_addr) == 1)
		nb->nb_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, nb->nb_addr) == 1)
		nb->nb_family = AF_INET6;
	else
		return -1;
	prefix = nb->nb_family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9' ||
		    (slash[1] == '0' && slash[2] != '\0'))
			return -1;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || prefix > (nb->nb_family == AF_INET ?
		    32UL : 128UL))
			return -1;
	}
	memcpy(masked, nb->nb_addr, sizeof(masked));
	netblock_mask(masked, nb->nb_family == AF_INET ? 4 : 16,
	    (unsigned)prefix);
	if (memcmp(masked, nb->nb_addr, sizeof(masked)) != 0)
		return -1;
	nb->nb_prefix = (uint8_t)prefix;
	if (nb->nb_family == AF_INET6 && prefix >= 96 &&
	    memcmp(nb->nb_addr, netblock_mapped, sizeof(netblock_mapped)) == 0) {
		memmove(nb->nb_addr, nb->nb_addr + 12, 4);
		memset(nb->nb_addr + 4, 0, 12);
		nb->nb_family = AF_INET;
		nb->nb_prefix = (uint8_t)(prefix - 96);
	}
	return 0;
}

/*
 * netblock_contains - whether sa's address is in nb; an IPv4-mapped
 * IPv6 address is the IPv4 address it carries (netblock_of)
 */
int
netblock_contains(const struct netblock *nb, const struct sockaddr *sa)
{
	struct netblock	of;

	netblock_of(sa, nb->nb_prefix, nb->nb_prefix, &of);
	return of.nb_family != 0 && netblock_equal(&of, nb);
}
