/*
 * penalty.c - a netblock whose connections keep stalling is reported to
 * the master, which drops its new connections' SYNs in the kernel for
 * source_penalty (master/penalty.c).
 *
 * Runs in the worker, unprivileged.  Eviction and the shorter deadlines
 * keep the table open to real clients, but a flood that opens a new
 * connection for each one closed comes straight back: every eviction
 * then costs an accept, a peek and a close, on both sides, as fast as
 * the attacker can connect.  A penalized netblock's SYNs never reach
 * the accept queue, so that flood costs the loop nothing until the
 * penalty ends, and the connections it already holds run out as usual.
 *
 * What counts as a stall: a connection peeking (source.c) that was
 * evicted (evict.c), or that timed out while the table was under
 * pressure (peek.c).  A timeout without pressure does not: a slow
 * client, or a scanner that waits, costs nothing then.  The stalls of a
 * netblock drain at one a second (source_stall): it is reported when
 * source_penalty_stalls of them are outstanding at once, and counts
 * from zero again after.  A connection that came through a PROXY
 * listener is never counted: its SYNs are its proxy's.
 *
 * The report is one message on the broker socket (common/chanreq.c),
 * sent without waiting: when the socket is full it is dropped, and the
 * next source_penalty_stalls stalls send it again.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "chanreq.h"
#include "log.h"
#include "worker.h"

/* penalty_stall - c, peeking, is ended as stalled: count it, report */
void
penalty_stall(struct worker *w, struct conn *c)
{
	uint8_t	msg[CHANREQ_PENALTY_LEN];

	if (w->w_conf.wc_penalty_ms == 0 ||
	    w->w_listeners[c->cn_listener].ls_proxy ||
	    !source_stall(w, c, w->w_conf.wc_penalty_stalls))
		return;
	chanreq_penalty_encode(msg, source_block(w, c));
	/* send(2), not sendmsg: no descriptor ever goes this way. */
	if (send(w->w_broker, msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(msg))
		log_debug("worker %d: penalty not sent: %s", w->w_index,
		    strerror(errno));
	COUNTERS_ADD(w->w_counters->cw_penalties, 1);
}
