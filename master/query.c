/*
 * query.c - `snitch -s`: ask the stats process of a running snitch for
 * its summary, and print it.
 *
 * Runs in the snitch binary started by a person or a script, as the
 * client of the stats socket (a Unix socket readable by root and `user`
 * only, or a TCP address); the server is snitch-stats (stats/serve.c),
 * which answers the line SNAPSHOT_SUMMARY with "key value..." lines.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>

#include "log.h"
#include "query.h"
#include "snapshot.h"

#define QUERY_WAIT_S	5	/* snitch -s gives up after this */

/* query_connect - snitch -s: a connected socket to the stats address */
static int
query_connect(const struct conf *cf)
{
	struct sockaddr_un	 sun;
	const struct sockaddr	*sa = (const struct sockaddr *)&sun;
	socklen_t		 salen = sizeof(sun);
	struct timeval		 tv = { .tv_sec = QUERY_WAIT_S };
	int			 fd;

	if (cf->cf_stats_inet) {
		sa = (const struct sockaddr *)&cf->cf_stats_addr.cl_addr;
		salen = cf->cf_stats_addr.cl_len;
	} else {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strlcpy(sun.sun_path, cf->cf_stats, sizeof(sun.sun_path));
	}
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	/* A wedged or foreign listener must not hang snitch -s. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, sa, salen) == -1) {
		fprintf(stderr, "snitch: stats %s: %s (is snitch running?)\n",
		    cf->cf_stats, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* query_summary - snitch -s: ask a running snitch, print the answer */
int
query_summary(const struct conf *cf)
{
	char	buf[4096];
	ssize_t	n;
	int	fd;

	if ((fd = query_connect(cf)) == -1)
		return 1;
	if (write(fd, SNAPSHOT_SUMMARY, strlen(SNAPSHOT_SUMMARY)) ==
	    (ssize_t)strlen(SNAPSHOT_SUMMARY))
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, stdout);
	else
		n = -1;
	if (n == -1)
		fprintf(stderr, "snitch: stats %s: %s\n", cf->cf_stats,
		    strerror(errno));
	close(fd);
	return n == 0 && fflush(stdout) == 0 ? 0 : 1;
}
