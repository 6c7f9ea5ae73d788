#!/usr/bin/env bats
# listenflags.bats - a worker's accept cannot be made to wait by whoever
# clears O_NONBLOCK on a shared listener (worker/guard.c).
#
# The attack: a process holding a copy of the listener (a worker taken
# over by a client; here root, whose CAP_SYS_PTRACE lets t/getfd.py
# copy it from a non-dumpable worker) clears O_NONBLOCK, a flag of the
# open file description every holder shares.  Before, the worker
# accepted a client, then waited in accept4 for the next one, holding
# the first, with SIGTERM masked (it takes it only in epoll_pwait).
# Now a client is routed within seconds, the flag is back, the log says
# so once per burst, and the worker ends promptly on SIGTERM.  Timing:
# only generous bounds (5 and 10 s), never a measurement.

load lib

GETFD=$SNITCH_ROOT/t/getfd.py

setup() {
	is_root || skip "needs root: copying a worker's listener needs CAP_SYS_PTRACE"
	snitch_setup
	WORKERS=1
	start_demo alpha
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 1
	WORKER=$(worker_pids)
	LFD=$(listen_fd "$WORKER")
	[ -n "$LFD" ]
}

# block_listener - clear O_NONBLOCK on the worker's listener ($LFD)
# through a copy of it (the worker may set it again
# at once: not checked here)
block_listener() {
	run -0 "$PYTHON" "$GETFD" --block "$WORKER" "$LFD"
	assert_line "cleared"
}

# nonblocking - the worker's listener has O_NONBLOCK (04000 in the octal
# flags of its fdinfo)
nonblocking() {
	local flags
	flags=$(awk '$1 == "flags:" { print $2 }' "/proc/$WORKER/fdinfo/$LFD")
	(( (8#$flags & 8#4000) != 0 ))
}

@test "O_NONBLOCK cleared on the listener: clients are still routed, the flag is set again and logged" {
	local i
	block_listener
	# each within curl's 5 s, one after another: before, the first
	# waited for the worker to accept a second
	for i in 1 2 3; do
		run -0 get_https alpha.localhost
		assert_line "backend=alpha"
	done
	wait_until nonblocking
	wait_until log_has "snitch-worker\[$WORKER\]: listener 127\.0\.0\.1:$PORT: O_NONBLOCK was cleared by another process holding it; set again"
	# the same worker served them all
	[ "$(worker_pids)" = "$WORKER" ]
}

@test "O_NONBLOCK cleared again and again: one log line per burst, clients routed" {
	local i
	for i in 1 2 3 4 5; do
		block_listener
		run -0 get_https alpha.localhost
		assert_line "backend=alpha"
	done
	wait_until nonblocking
	[ "$(grep -c 'O_NONBLOCK was cleared' "$T/snitch.log")" -eq 1 ]
}

@test "O_NONBLOCK cleared, a client in accept: SIGTERM still ends the worker" {
	block_listener
	# a client that sends the first byte of a hello (accepted at once,
	# in spite of defer_accept): the worker accepts it, then would wait
	# in accept4 for the next
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	printf '\x16' >&5
	sleep 0.5
	kill -TERM "$WORKER"
	exec 5>&-
	# generous: it finishes the silent client (peek_timeout 2 s) first
	wait_for 10 gone "$WORKER"
	log_has "snitch-worker\[$WORKER\]: worker 0 gen 1: stopping"
}
