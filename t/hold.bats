#!/usr/bin/env bats
# hold.bats - a backend that restarts loses no client: while its socket
# is missing or refuses, its clients wait for it (in order, up to
# handoff_timeout) and are handed to it as soon as it is back; once a
# hold has expired with the backend still down, the outage is
# established and later clients no longer wait, until it is back.

load lib
load lib_faults

setup() {
	setup_alpha_beta
}

# peek_us_of N - the peek_us of the Nth access line for alpha.localhost
peek_us_of() {
	grep 'name=alpha.localhost' "$T/snitch.log" |
	    sed -n "$1{s/.* peek_us=\\([0-9]*\\).*/\\1/p}"
}

@test "a backend started while its first client waits: the client is served" {
	start_snitch
	tls --name alpha.localhost >"$T/client.out" 2>&1 &
	local client=$!
	wait_until log_has "backend alpha: cannot connect"
	start_demo alpha
	wait "$client"
	run -0 cat "$T/client.out"
	assert_line "backend=alpha"
	run -1 grep -c "outcome=alert" "$T/snitch.log"
	assert_output 0
	assert log_has "name=alpha.localhost backend=alpha outcome=handoff"
}

@test "a backend restarted under clients: every client waits for it and is served" {
	start_demo alpha
	start_snitch
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	stop_demo alpha
	local -a pids=()
	local i
	for i in 1 2 3 4 5; do
		tls --name alpha.localhost >"$T/client$i.out" 2>&1 &
		pids+=($!)
	done
	sleep 0.5
	start_demo alpha
	for i in 1 2 3 4 5; do
		wait "${pids[$((i - 1))]}"
		run -0 cat "$T/client$i.out"
		assert_line "backend=alpha"
	done
	run -1 grep -c "outcome=alert" "$T/snitch.log"
	assert_output 0
	# each held client says so, and is counted once
	run -0 grep -c "backend=alpha outcome=handoff held=1 " "$T/snitch.log"
	assert_output 5
	assert_equal "$(backend_stat alpha held)" 5
	run -0 tls --name beta.localhost
	assert_line "backend=beta"
}

@test "an established outage: one client waits handoff_timeout, later ones do not" {
	start_snitch
	run -3 tls --name alpha.localhost
	assert_output "alert 80"
	assert log_has "backend alpha: still down after handoff_timeout"
	run -3 tls --name alpha.localhost
	assert_output "alert 80"
	# The first waited the hold (3 s), the second not at all.
	[ "$(peek_us_of 1)" -ge 2900000 ]
	[ "$(peek_us_of 2)" -lt 1000000 ]
	# Back: served, and the next outage holds again.
	start_demo alpha
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	stop_demo alpha
	tls --name alpha.localhost >"$T/late.out" 2>&1 &
	local late=$!
	sleep 0.5
	start_demo alpha
	wait "$late"
	run -0 cat "$T/late.out"
	assert_line "backend=alpha"
}

@test "held, then to the fallback; once established, to the fallback at once" {
	sed -i '/^\[backend alpha\]/a fallback = beta' "$T/snitch.ini"
	start_snitch
	run -0 tls --name alpha.localhost
	assert_line "backend=beta"
	run -0 tls --name alpha.localhost
	assert_line "backend=beta"
	run -0 grep -c "name=alpha.localhost backend=beta outcome=handoff fallback_of=alpha" \
	    "$T/snitch.log"
	assert_output 2
	[ "$(peek_us_of 1)" -ge 2900000 ]
	[ "$(peek_us_of 2)" -lt 1000000 ]
}
