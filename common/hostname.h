/*
 * hostname.h - the one definition of "a host name SNItch routes on".
 *
 * RFC 6066 section 3: HostName is an ASCII A-label name, no trailing dot,
 * never an IP literal.  Names are compared lowercase.
 */
#ifndef HOSTNAME_H
#define HOSTNAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HOSTNAME_MAX	253	/* RFC 1035 2.3.4, without the root dot */
#define HOSTNAME_LABEL_MAX 63

/*
 * hostname_normalize - lowercase and drop one trailing dot into out
 * (NUL-terminated); returns the length, or -1 when in is not an LDH host
 * name: empty, too long, empty or overlong label, a byte outside
 * [A-Za-z0-9-], a label starting or ending with '-', or an all-digit last
 * label (which is how an IPv4 literal looks).
 */
ssize_t	hostname_normalize(const uint8_t *in, size_t len,
	    char out[HOSTNAME_MAX + 1]);

#endif
