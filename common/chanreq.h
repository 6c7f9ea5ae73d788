/*
 * chanreq.h - a worker asks the master for a channel: the request (the
 * socket it wants), the answer (connected, or why not), and which
 * sockets a worker of a given configuration may have.  chanreq.c
 * encodes, decodes and checks; the master's broker.c serves, the
 * worker's channel.c asks.
 */
#ifndef CHANREQ_H
#define CHANREQ_H

#include <stddef.h>
#include <stdint.h>

#include "netblock.h"
#include "wconf.h"

#define CHANREQ_ASK_LEN		(10 + WCONF_PATH_MAX)	/* every request */
#define CHANREQ_ANSWER_LEN	12			/* every answer */
#define CHANREQ_PENALTY_LEN	22			/* every penalty */

struct chanreq_ask {
	uint32_t	ca_id;		/* the worker's, echoed in the answer */
	char		ca_path[WCONF_PATH_MAX + 1];	/* as the worker
						   sees it: in its chroot */
};

struct chanreq_answer {
	uint32_t	can_id;
	int		can_errno;	/* 0: connected, the channel attached */
};

int	chanreq_ask_encode(uint8_t out[CHANREQ_ASK_LEN], uint32_t id,
	    const char *path);
int	chanreq_ask_decode(const uint8_t *msg, size_t len,
	    struct chanreq_ask *);
void	chanreq_answer_encode(uint8_t out[CHANREQ_ANSWER_LEN], uint32_t id,
	    int error);
int	chanreq_answer_decode(const uint8_t *msg, size_t len,
	    struct chanreq_answer *);
void	chanreq_penalty_encode(uint8_t out[CHANREQ_PENALTY_LEN],
	    const struct netblock *);
int	chanreq_penalty_decode(const uint8_t *msg, size_t len,
	    const struct wconf *, struct netblock *);
int	chanreq_allowed(const struct wconf *, const char *path);

#endif
