/*
 * hostname.c - the one definition of "a host name SNItch routes on".
 *
 * The workers run it, unprivileged, on the server_name a client sent; the
 * config loader and libsnitch run it on names an operator wrote, so both
 * sides of a route agree on what a name is.  Pure: no allocation, and no
 * <ctype.h>, whose answers follow the locale while host names are ASCII
 * (RFC 6066 section 3, RFC 5890 A-labels).
 */
#include <errno.h>

#include "hostname.h"

/* hostname_ldh - c lowercased, or -1 when it may not appear in a label */
static int
hostname_ldh(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
		return c;
	return -1;
}

/*
 * hostname_label - judge one lowercased label (RFC 1035 2.3.1, RFC 1123
 * 2.1: 1..63 letters, digits and hyphens, no hyphen at either end);
 * -1 when bad, else 1 when it is all digits and 0 when not.
 */
static int
hostname_label(const char *label, size_t len)
{
	size_t	 i;
	int	 digits = 1;

	if (len == 0 || len > HOSTNAME_LABEL_MAX ||
	    label[0] == '-' || label[len - 1] == '-')
		return -1;
	for (i = 0; i < len; i++)
		if (label[i] < '0' || label[i] > '9')
			digits = 0;
	return digits;
}

/*
 * hostname_normalize - lowercase and drop one trailing dot into out.
 *
 * RFC 6066 says HostName has no trailing dot, but some clients send one,
 * and "example.org." names the same host.  An all-digit last label is
 * refused because no top-level domain is numeric: that is what an IPv4
 * literal looks like, which RFC 6066 forbids in SNI.  IPv6 literals fail
 * on ':', wildcards on '*'.
 */
ssize_t
hostname_normalize(const uint8_t *in, size_t len, char out[HOSTNAME_MAX + 1])
{
	size_t	 i, start = 0;
	int	 c, digits = 0;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > HOSTNAME_MAX)
		goto bad;
	for (i = 0; i <= len; i++) {
		if (i < len && in[i] != '.') {
			if ((c = hostname_ldh(in[i])) == -1)
				goto bad;
			out[i] = (char)c;
			continue;
		}
		if ((digits = hostname_label(out + start, i - start)) == -1)
			goto bad;
		if (i < len)
			out[i] = '.';
		start = i + 1;
	}
	if (digits)
		goto bad;
	out[len] = '\0';
	return (ssize_t)len;
bad:
	out[0] = '\0';
	errno = EINVAL;
	return -1;
}
