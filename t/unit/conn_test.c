/*
 * conn_test.c - worker/conn.c, the one owner of a connection's state:
 * every move of the state diagram from a table (a legal one happens, an
 * illegal one is a panic: the process aborts), the lists stay ordered
 * by deadline, the silent and paused lists follow, and the pool hands
 * out and takes back its slots.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "worker.h"

#define SLOTS	4

static struct worker	 test_w;

/* setup - a worker with SLOTS slots, one channel, counters, no epoll */
static struct worker *
setup(void)
{
	struct worker	*w = &test_w;

	memset(w, 0, sizeof(*w));
	w->w_epoll = -1;
	w->w_now = 1000;
	w->w_conf.wc_peek_timeout_ms = 5000;
	w->w_conf.wc_silent_timeout_ms = 2000;
	w->w_conf.wc_silent = -1;
	w->w_conf.wc_max_pending_per_source = SLOTS;
	w->w_conf.wc_pressure_threshold = 100;
	w->w_counters = calloc(1, sizeof(*w->w_counters) +
	    sizeof(struct counters_backend));
	w->w_listeners = calloc(1, sizeof(*w->w_listeners));
	w->w_channels = calloc(1, sizeof(*w->w_channels));
	w->w_nchannels = 1;
	TAILQ_INIT(&w->w_channels[0].ch_queue);
	TAILQ_INIT(&w->w_channels[0].ch_sent);
	if (w->w_counters == NULL || w->w_listeners == NULL ||
	    w->w_channels == NULL || conn_init(w, SLOTS) == -1)
		abort();
	return w;
}

/* teardown - release what setup made */
static void
teardown(struct worker *w)
{
	conn_free_all(w);
	free(w->w_counters);
	free(w->w_listeners);
	free(w->w_channels);
}

/* start - a new connection on a descriptor of its own */
static struct conn *
start(struct worker *w)
{
	union conn_addr	peer;

	memset(&peer, 0, sizeof(peer));
	return conn_start(w, 0, open("/dev/null", O_RDONLY | O_CLOEXEC),
	    &peer);
}

/* start_from - a new connection from IPv4 address text */
static struct conn *
start_from(struct worker *w, const char *text)
{
	union conn_addr	peer;

	memset(&peer, 0, sizeof(peer));
	peer.sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, text, &peer.sin.sin_addr) != 1)
		abort();
	return conn_start(w, 0, open("/dev/null", O_RDONLY | O_CLOEXEC),
	    &peer);
}

/* into - a connection in state (FREE: started, then released; PROXY:
 * started on a proxy_protocol listener) */
static struct conn *
into(struct worker *w, enum conn_state state)
{
	struct conn	*c;

	w->w_listeners[0].ls_proxy = state == CONN_PROXY;
	c = start(w);
	w->w_listeners[0].ls_proxy = 0;

	if (state == CONN_QUEUED)
		conn_queue(w, c, 0, -1, w->w_now + 100);
	else if (state == CONN_SENT)
		conn_sent(w, c, 0, -1, w->w_now + 100);
	else if (state == CONN_LINGER)
		conn_move(w, c, CONN_LINGER, w->w_now + 100);
	else if (state == CONN_FREE)
		conn_release(w, c);
	return c;
}

static const char *const names[] = { "free", "proxy", "peek", "queued",
    "linger", "sent" };

/* The diagram: which moves conn_move allows. */
static const int legal[CONN_NSTATES][CONN_NSTATES] = {
	/* to:           FREE PROXY PEEK QUEUED LINGER SENT */
	[CONN_FREE] =   { 0,   0,    0,   0,     0,     0 },
	[CONN_PROXY] =  { 0,   0,    1,   0,     0,     0 },
	[CONN_PEEK] =   { 0,   0,    0,   1,     1,     1 },
	[CONN_QUEUED] = { 0,   0,    0,   1,     1,     1 },
	[CONN_LINGER] = { 0,   0,    0,   0,     0,     0 },
	[CONN_SENT] =   { 0,   0,    0,   1,     1,     1 },
};

/* move - c to state: into channel 0's queue, or by conn_move */
static void
move(struct worker *w, struct conn *c, enum conn_state state)
{
	if (state == CONN_QUEUED)
		conn_queue(w, c, 0, -1, w->w_now + 10);
	else if (state == CONN_SENT)
		conn_sent(w, c, 0, -1, w->w_now + 10);
	else
		conn_move(w, c, state, w->w_now + 10);
}

/* test_moves - each move of the table, in a child: done, or aborted */
static void
test_moves(void)
{
	struct worker	*w;
	pid_t		 pid;
	int		 from, to, status;

	for (from = 0; from < CONN_NSTATES; from++) {
		for (to = 0; to < CONN_NSTATES; to++) {
			fflush(stdout);
			if ((pid = fork()) == 0) {
				/* the panic's line is expected: not on stderr */
				(void)freopen("/dev/null", "w", stderr);
				w = setup();
				move(w, into(w, (enum conn_state)from),
				    (enum conn_state)to);
				_exit(0);
			}
			(void)waitpid(pid, &status, 0);
			if (legal[from][to])
				TAP_OK(WIFEXITED(status) &&
				    WEXITSTATUS(status) == 0,
				    "%s to %s: moved", names[from], names[to]);
			else
				TAP_OK(WIFSIGNALED(status) &&
				    WTERMSIG(status) == SIGABRT,
				    "%s to %s: a panic", names[from],
				    names[to]);
		}
	}
}

/* panics - whether fn, in a child, ends in a panic (SIGABRT) */
static int
panics(void (*fn)(struct worker *))
{
	pid_t	pid;
	int	status;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		(void)freopen("/dev/null", "w", stderr);
		fn(setup());
		_exit(0);
	}
	(void)waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

/* release_twice - free a free slot */
static void
release_twice(struct worker *w)
{
	conn_release(w, into(w, CONN_FREE));
}

/* queue_nowhere - queue a connection for no channel */
static void
queue_nowhere(struct worker *w)
{
	conn_move(w, start(w), CONN_QUEUED, w->w_now + 10);
}

/* queue_past_end - queue a connection for a channel that is not there */
static void
queue_past_end(struct worker *w)
{
	conn_queue(w, start(w), 1, -1, w->w_now + 10);
}

/* sent_past_end - keep a connection for a channel that is not there */
static void
sent_past_end(struct worker *w)
{
	conn_sent(w, start(w), 1, -1, w->w_now + 10);
}

/* test_panics - the other impossible requests */
static void
test_panics(void)
{
	TAP_OK(panics(release_twice), "releasing a free slot: a panic");
	TAP_OK(panics(queue_nowhere), "queued without a channel: a panic");
	TAP_OK(panics(queue_past_end), "queued for channel 1 of 1: a panic");
	TAP_OK(panics(sent_past_end), "sent on channel 1 of 1: a panic");
}

/* test_deadlines - lists in deadline order, due heads, the next deadline */
static void
test_deadlines(void)
{
	struct worker	*w = setup();
	struct conn	*a, *b, *q;

	a = start(w);
	w->w_now += 10;
	b = start(w);
	TAP_OK(conn_next_deadline(w) == a->cn_deadline && a->cn_deadline ==
	    1000 + 5000, "the next deadline is the first peeking one");
	q = start(w);
	conn_queue(w, q, 0, -1, 2000);
	TAP_OK(conn_next_deadline(w) == 2000 && q->cn_channel == 0 &&
	    q->cn_fallback_of == -1, "a queued one's deadline counts too");
	TAP_OK(conn_due(w, CONN_PEEK) == NULL && conn_queue_due(w, 0) == NULL,
	    "nothing due at 1010");
	w->w_now = 2000;
	TAP_OK(conn_queue_due(w, 0) == q, "the queue's head is due at 2000");
	conn_queue(w, q, 0, 0, 3000);
	TAP_OK(q->cn_fallback_of == 0 && q->cn_deadline == 3000 &&
	    conn_queue_due(w, 0) == NULL, "queued again, as a fallback");
	w->w_now = 6000;
	TAP_OK(conn_due(w, CONN_PEEK) == a, "the first accepted is due first");
	conn_release(w, a);
	TAP_OK(conn_due(w, CONN_PEEK) == NULL && conn_queue_due(w, 0) == q &&
	    conn_next_deadline(w) == 3000,
	    "the second, 10 ms later, is not due yet; the queued one is");
	conn_release(w, b);
	conn_release(w, q);
	TAP_OK(w->w_pending == 0 && conn_next_deadline(w) == UINT64_MAX,
	    "all released: nothing pending, no deadline");
	teardown(w);
}

/* test_silent - the silent list: due at silent_timeout, left on a move */
static void
test_silent(void)
{
	struct worker	*w = setup();
	struct conn	*a, *b;

	w->w_conf.wc_silent = 0;
	a = start(w);
	conn_silent_listen(w, a);
	b = start(w);
	conn_silent_listen(w, b);
	TAP_OK(conn_next_deadline(w) == 1000 + 2000,
	    "the silent deadline comes before the peek deadline");
	w->w_now = 3000;
	TAP_OK(conn_silent_due(w) == a, "silent_timeout after accept: due");
	conn_heard(w, a);
	TAP_OK(conn_silent_due(w) == b && !a->cn_silent_listed,
	    "heard: off the silent list");
	conn_move(w, b, CONN_LINGER, 4000);
	TAP_OK(conn_silent_due(w) == NULL && !b->cn_silent_listed,
	    "a move out of peeking leaves the silent list");
	conn_release(w, a);
	conn_release(w, b);
	teardown(w);
}

/* pause_unwatched - pause a connection epoll does not watch */
static void
pause_unwatched(struct worker *w)
{
	(void)conn_pause(w, start(w));
}

/* start_watched - a connection on a socket, watched by a real epoll */
static struct conn *
start_watched(struct worker *w, int *peer_fd)
{
	union conn_addr	 peer;
	struct conn	*c;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	memset(&peer, 0, sizeof(peer));
	c = conn_start(w, 0, sv[0], &peer);
	if (conn_watch(w, c) == -1)
		abort();
	*peer_fd = sv[1];
	return c;
}

/* readable - whether epoll reports something for the worker now */
static int
readable(struct worker *w)
{
	struct epoll_event	ev;

	return epoll_wait(w->w_epoll, &ev, 1, 0) == 1 &&
	    (ev.events & EPOLLIN);
}

/*
 * test_paused - the paused list: no EPOLLIN while paused, due after the
 * pause (CONN_PAUSE_MS), paused again at the tail, left on a move or a
 * release
 */
static void
test_paused(void)
{
	struct worker	*w = setup();
	struct conn	*a, *b;
	int		 pa, pb;
	uint64_t	 half = CONN_PAUSE_MS / 2;

	_Static_assert(CONN_PAUSE_MS * 2 < 5000, "the peek deadline");
	if ((w->w_epoll = epoll_create1(EPOLL_CLOEXEC)) == -1)
		abort();
	a = start_watched(w, &pa);
	b = start_watched(w, &pb);
	TAP_OK(conn_pause(w, a) == 0 && a->cn_paused &&
	    conn_next_deadline(w) == 1000 + CONN_PAUSE_MS,
	    "paused: its recheck comes before the peek deadline");
	TAP_OK(write(pa, "x", 1) == 1 && !readable(w),
	    "paused: a byte that comes is not reported");
	w->w_now = 1000 + half;
	TAP_OK(conn_pause(w, b) == 0 && conn_paused_due(w) == NULL,
	    "nothing due before the pause is over");
	w->w_now = 1000 + CONN_PAUSE_MS;
	TAP_OK(conn_paused_due(w) == a, "the first paused is due first");
	TAP_OK(conn_pause(w, a) == 0 && conn_paused_due(w) == NULL &&
	    conn_next_deadline(w) == 1000 + half + CONN_PAUSE_MS,
	    "paused again: behind the other, due a pause later");
	w->w_now = 1000 + 2 * CONN_PAUSE_MS;
	TAP_OK(conn_paused_due(w) == b && conn_unpause(w, b) == 0 &&
	    !b->cn_paused && conn_paused_due(w) == a,
	    "unpaused: off the list");
	TAP_OK(write(pb, "y", 1) == 1 && readable(w),
	    "unpaused: reported again");
	conn_move(w, a, CONN_LINGER, 5000);
	TAP_OK(!a->cn_paused && conn_paused_due(w) == NULL,
	    "a move out of peeking leaves the paused list");
	TAP_OK(conn_pause(w, b) == 0, "paused once more");
	conn_release(w, b);
	TAP_OK(conn_paused_due(w) == NULL && TAILQ_EMPTY(&w->w_paused),
	    "a release leaves the paused list");
	conn_release(w, a);
	close(pa);
	close(pb);
	close(w->w_epoll);
	teardown(w);
	TAP_OK(panics(pause_unwatched),
	    "pausing a connection epoll does not watch: a panic");
}

/*
 * test_pressure - at pressure_threshold percent of the slots in use, a
 * peeking connection's deadlines are the shorter pressure ones
 */
static void
test_pressure(void)
{
	struct worker	*w = setup();
	struct conn	*a, *b, *c;

	w->w_conf.wc_pressure_threshold = 75;	/* 3 of 4 slots */
	w->w_conf.wc_pressure_peek_ms = 700;
	w->w_conf.wc_pressure_first_byte_ms = 300;
	a = start(w);
	conn_silent_listen(w, a);
	b = start(w);
	TAP_OK(conn_next_deadline(w) == 1000 + 5000,
	    "2 of 4 in use: peek_timeout, no first-byte time without silent");
	c = start(w);
	TAP_OK(conn_next_deadline(w) == 1000 + 300,
	    "3 of 4: the first byte's pressure time comes first");
	w->w_now = 1300;
	TAP_OK(conn_silent_due(w) == a && conn_due(w, CONN_PEEK) == NULL,
	    "silent past it: due; the hello's time not yet");
	conn_heard(w, a);
	TAP_OK(conn_next_deadline(w) == 1000 + 700,
	    "heard: then the hello's pressure time");
	w->w_now = 1700;
	TAP_OK(conn_due(w, CONN_PEEK) == a, "past it: due, oldest first");
	conn_release(w, a);
	TAP_OK(conn_due(w, CONN_PEEK) == NULL &&
	    conn_next_deadline(w) == 1000 + 5000,
	    "2 of 4 again: back to peek_timeout");
	w->w_conf.wc_silent = 0;
	w->w_conf.wc_silent_timeout_ms = 200;
	conn_silent_listen(w, b);
	TAP_OK(conn_next_deadline(w) == 1000 + 200,
	    "with silent: silent_timeout when shorter");
	conn_release(w, b);
	conn_release(w, c);
	teardown(w);
}

/* test_sources - peeking connections by netblock, for evict.c */
static void
test_sources(void)
{
	struct worker	*w = setup();
	struct conn	*a1, *a2, *b1, *b2, *b3, *d;

	w->w_conf.wc_netblock_ipv4 = 24;
	TAP_OK(source_busiest(w) == NULL, "none peeking: no busiest");
	a1 = start_from(w, "192.0.2.1");
	b1 = start_from(w, "198.51.100.1");
	a2 = start_from(w, "192.0.2.200");
	TAP_OK(source_count(w, a2) == 2 && source_count(w, b1) == 1 &&
	    source_busiest(w) == a1 && source_oldest(w, a2) == a1,
	    "one /24 with two: the busiest, its oldest first");
	b2 = start_from(w, "198.51.100.2");
	conn_queue(w, a1, 0, -1, 2000);
	TAP_OK(source_count(w, a2) == 1 && source_busiest(w) == b1,
	    "queued: no longer peeking; the other /24 is the busiest");
	conn_release(w, b1);
	TAP_OK(source_busiest(w) == a2 && source_oldest(w, b2) == b2,
	    "released: counts fall, ties go to the longest at that count");
	conn_release(w, a1);
	conn_release(w, a2);
	conn_release(w, b2);
	TAP_OK(source_busiest(w) == NULL && w->w_source_top == 0,
	    "all gone: none peeking");
	b3 = start_from(w, "198.51.100.3");
	d = start_from(w, "203.0.113.9");
	TAP_OK(source_count(w, b3) == 1 && source_count(w, d) == 1 &&
	    source_busiest(w) == b3, "entries reused after being freed");
	conn_release(w, b3);
	conn_release(w, d);
	teardown(w);
}

/* test_sent - the sent list: counted, due at its deadline, released */
static void
test_sent(void)
{
	struct worker	*w = setup();
	struct conn	*a, *b;

	a = start(w);
	b = start(w);
	conn_sent(w, a, 0, -1, 1500);
	conn_queue(w, b, 0, -1, 1200);
	conn_sent(w, b, 0, 0, 1600);
	TAP_OK(w->w_channels[0].ch_nsent == 2 && b->cn_fallback_of == 0 &&
	    conn_next_deadline(w) == 1500, "two sent: counted, in order");
	w->w_now = 1500;
	TAP_OK(conn_sent_due(w, 0) == a, "the first is due at its deadline");
	conn_release(w, a);
	conn_queue(w, b, 0, -1, 2000);
	TAP_OK(w->w_channels[0].ch_nsent == 0 && conn_sent_due(w, 0) == NULL,
	    "released, and queued again: none sent");
	conn_release(w, b);
	teardown(w);
}

/* test_pool - SLOTS slots, then none, a freed one again first */
static void
test_pool(void)
{
	struct worker	*w = setup();
	struct conn	*c[SLOTS], *again;
	int		 i;

	for (i = 0; i < SLOTS; i++)
		c[i] = start(w);
	TAP_OK(!conn_has_room(w) && w->w_pending == SLOTS,
	    "%d slots taken: no room", SLOTS);
	conn_release(w, c[2]);
	TAP_OK(conn_has_room(w), "one released: room");
	again = start(w);
	TAP_OK(again == c[2] && again->cn_state == CONN_PEEK,
	    "the freed slot is used again, first");
	for (i = 0; i < SLOTS; i++)
		conn_release(w, c[i]);
	TAP_OK(w->w_pending == 0 && conn_has_room(w), "all free again");
	teardown(w);
}

int
main(void)
{
	test_moves();
	test_panics();
	test_deadlines();
	test_silent();
	test_paused();
	test_pressure();
	test_sources();
	test_sent();
	test_pool();
	return TAP_DONE();
}
