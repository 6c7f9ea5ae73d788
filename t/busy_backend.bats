#!/usr/bin/env bats
# busy_backend.bats - a backend that accepts its channel but never
# receives fills the channel's queue.  The worker must not block on it:
# other backends keep routing at once, and the hung backend's clients
# wait at most handoff_timeout, then get alert 80 (internal_error).

load lib

setup() {
	snitch_setup
	WORKERS=1	# one worker: if it blocked, nothing would route
	start_demo alpha
	"$PYTHON" "$BATS_TEST_DIRNAME/busy.py" stuck "$T/stuck.sock" \
	    </dev/null >>"$T/stuck.log" 2>&1 3>&- &
	track_pid $!
	wait_until unix_listening "$T/stuck.sock"
	write_config
	sed -i 's/^handoff_timeout = .*/handoff_timeout = 1s/' "$T/snitch.ini"
	add_backend alpha alpha.localhost
	add_backend stuck stuck.localhost
	start_snitch
}

@test "a backend that never receives: its clients get alert 80, others still route" {
	# Enough clients to fill the channel's queue many times over.
	busy_crowd "$T/crowd.out" stuck.localhost 800 6
	local crowd=$CROWD_PID
	wait_until log_has "outcome=handoff"
	# While the worker holds queued connections, alpha routes.
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	wait "$crowd"
	local result refused handed
	result=$(cat "$T/crowd.out")
	[[ $result =~ ^alert80=([0-9]+)\ other=0\ silent=([0-9]+)$ ]]
	refused=${BASH_REMATCH[1]} handed=${BASH_REMATCH[2]}
	# Some were handed off (they sit in the hung backend's queue and get
	# nothing), the rest were refused after handoff_timeout, each logged.
	[ "$refused" -gt 0 ]
	[ "$handed" -gt 0 ]
	run -0 grep -c "name=stuck.localhost backend=stuck outcome=alert alert=80 reason=backend-busy" \
	    "$T/snitch.log"
	[ "$output" -eq "$refused" ]
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
}
