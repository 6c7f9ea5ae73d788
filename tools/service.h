/*
 * service.h - what the long-lived backend programs (snitch-exec,
 * snitch-relay) share around libsnitch: the handoff listener and its
 * file, accepting and reading workers' channels, signals, the clock and
 * the command line's numbers.
 *
 * Each program keeps its own event loop and channel table; a struct
 * service holds only the listener and what receiving needs.
 */
#ifndef SERVICE_H
#define SERVICE_H

#include <sys/types.h>

#include <stdint.h>

#include "snitch.h"

#define SERVICE_PAUSE_MS	100	/* listener rest after EMFILE */
#define SERVICE_SUCCESSOR_MS	5000	/* for the next instance to take
					   the socket over */

struct service {
	const char		*sv_path;	/* the handoff socket's file */
	int			 sv_listen;	/* -1 once stopping */
	struct snitch_bound	 sv_bound;	/* the file we bound: we unlink
						   only that one */
	uint64_t		 sv_resume;	/* listener paused until, or 0 */
	int			 sv_failing;	/* accept failure logged, not over */
	unsigned long		 sv_bad;	/* handoff messages refused */
	int			 sv_peer_set;	/* -u: channels only from */
	uid_t			 sv_peer;	/* this uid */
	unsigned long		 sv_strangers;	/* channels refused for it */
	struct snitch_conn	 sv_conn;	/* the one service_recv filled */
};

/* service_recv results */
#define SERVICE_CONN	1	/* sv_conn filled: its sc_fd is the caller's */
#define SERVICE_AGAIN	0	/* nothing more queued */
#define SERVICE_CLOSE	(-1)	/* the channel ended: close it */

uint64_t service_now_ms(void);
int	service_nonblock(int fd);
int	service_number(const char *arg, int base, unsigned long lo,
	    unsigned long hi, unsigned long *value);
int	service_addr(const struct sockaddr_storage *ss, char *ip,
	    size_t ip_size, char *port, size_t port_size);
void	service_stdio(const char *progname);
int	service_signals(int with_sigchld);
int	service_successor(struct service *sv, char **argv);
void	service_peer(struct service *sv, const char *user);
void	service_listen(struct service *sv, const char *path, mode_t mode,
	    int flags);
void	service_unlink(struct service *sv);
void	service_unlisten(struct service *sv);
int	service_accept(struct service *sv);
int	service_recv(struct service *sv, int channel, unsigned *unacked);

#endif
