#!/usr/bin/env bats
# idle.bats - a crowd of clients that never finish a hello holds nobody up.
#
# t/hostile.py --idle opens 2,000 connections at once: half send nothing,
# half the first 9 bytes of a hello.  While all of them are held, 50
# normal clients (real TLS handshakes and a GET, 10 at a time, from the
# same process) must all reach their backend; then every idle one must be
# closed by SNItch at peek_timeout, with a FIN, and logged as a timeout.
# Two workers; the crowd lands on both.  Bounded: the helper gives up
# 20 s after it started, the log poll after 10 s more.

load lib

IDLE=2000
CLIENTS=50

setup() {
	snitch_setup
	# 2,000 sockets in the test's process and as many in the workers
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 500)) ]; then
		skip "the descriptor limit $(ulimit -Hn) is below $((IDLE + 500))"
	fi
	WORKERS=2
	# long enough for the 50 handshakes to end well before the first
	# idle client times out, also under the sanitizers on a busy machine
	# (3 s was measured too short there)
	PEEK_TIMEOUT=5s
	start_demo alpha
	# the crowd comes from one address: without this, all but 256 a
	# worker would be evicted (flood.bats tests that), and this file
	# tests the timeout
	write_config "max_pending_per_source = $IDLE"
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 2
}

# timeouts - the number of connections snitch logged as timed out
timeouts() {
	grep -c ' outcome=timeout alpn=' "$T/snitch.log"
}

@test "2,000 idle clients: 50 normal clients all route while they are held, then they time out" {
	local workers i slowest
	workers=$(worker_pids)
	run -0 hostile --idle "$IDLE" --idle-partial --clients "$CLIENTS" \
	    --name alpha.localhost --timeout 20
	assert_line "open $IDLE"
	assert_line "clients backend=alpha:$CLIENTS"
	# every idle one was still open when the last normal client was done
	assert_line "held $IDLE"
	# then SNItch closed each, with a FIN, within a few peek_timeouts
	assert_line "closed $IDLE reset 0 data 0 open 0"
	slowest=$(sed -n 's/^slowest \([0-9]*\)\..*/\1/p' <<<"$output")
	[ "$slowest" -lt 15 ]
	for ((i = 0; i < 100; i++)); do
		[ "$(timeouts)" -ge "$IDLE" ] && break
		sleep 0.1
	done
	assert_equal "$(timeouts)" "$IDLE"
	# nothing ran out: no accept pause, no worker restarted
	run grep -c 'accept: pausing' "$T/snitch.log"
	assert_output 0
	assert_equal "$(worker_pids)" "$workers"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}
