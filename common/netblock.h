/*
 * netblock.h - the netblock a client address belongs to: the unit that
 * per-source limits count (worker/source.c).
 *
 * An IPv4 address keeps its first source_netblock_ipv4 bits, an IPv6 one
 * its first source_netblock_ipv6 (a host usually has a whole /64), and
 * an IPv4-mapped IPv6 address counts as the IPv4 address it carries.
 */
#ifndef NETBLOCK_H
#define NETBLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NETBLOCK_TEXT_MAX	(46 + 4)	/* INET6_ADDRSTRLEN, "/128" */
#define NETBLOCK_KEY_WORDS	7	/* family, prefix, 4 address words, 1 */

struct netblock {
	uint8_t	nb_family;	/* AF_INET, AF_INET6, or 0: unknown */
	uint8_t	nb_prefix;	/* bits kept */
	uint8_t	nb_addr[16];	/* masked; IPv4 in the first 4 bytes */
};

void	netblock_of(const struct sockaddr *sa, unsigned v4_prefix,
	    unsigned v6_prefix, struct netblock *nb);
int	netblock_equal(const struct netblock *a, const struct netblock *b);
uint32_t netblock_hash(const struct netblock *nb,
	    const uint64_t key[NETBLOCK_KEY_WORDS]);
int	netblock_parse(const char *text, struct netblock *nb);
int	netblock_contains(const struct netblock *nb, const struct sockaddr *sa);
const char *netblock_text(const struct netblock *nb, char *buf, size_t size);

#endif
