#!/usr/bin/env bats
# faults_backend.bats - backends that are missing, stop, come back, crash
# with handoffs queued in their channel, or hang.
#
# A backend that cannot take a client sends it to its `fallback` when it
# has one that can, else the client gets alert 80 (a stopped one after
# the first client waited handoff_timeout for it: t/hold.bats); the
# outage is logged once when it starts, once when that wait establishes
# it, and once when it ends, not once per client; the
# backend is used again within a few seconds of coming back.  One worker,
# so that "logged once" means exactly one line.
#
#   alpha  alpha.localhost  fallback beta
#   beta   beta.localhost
#   gamma  gamma.localhost  (no fallback)
#   stuck  stuck.localhost  (no fallback)   run as t/busy.py stuck
#   hung   hung.localhost   fallback alpha  run as t/busy.py stuck

load lib
load lib_faults

setup() {
	snitch_setup
	WORKERS=1
	write_config
	stats_on
	set_key handoff_timeout 1s
	add_backend alpha alpha.localhost
	set_fallback alpha beta
	add_backend beta beta.localhost
	add_backend gamma gamma.localhost
	add_backend stuck stuck.localhost
	add_backend hung hung.localhost
	set_fallback hung alpha
}

# ten_clients NAME EXPECTED - ten clients for NAME, one after the other,
# each gets EXPECTED ("answer beta alpha.localhost", "alert 80")
ten_clients() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		run -0 faults clients --name "$1"
		assert_output "$2"$'\n'"done 1"
	done
}

@test "a backend never started: its clients go to its fallback, or get alert 80 without one" {
	start_demo beta
	start_snitch
	run -0 faults clients --name alpha.localhost
	assert_line "answer beta alpha.localhost"
	assert log_has "name=alpha.localhost backend=beta outcome=handoff fallback_of=alpha held=1 alpn="
	run -0 get_https alpha.localhost
	assert_line "backend=beta"
	assert_line "server_name=alpha.localhost"
	assert_line "tls_server_name=alpha.localhost"
	run -3 tls --name gamma.localhost
	assert_output "alert 80"
	run -0 tls --name beta.localhost
	assert_line "backend=beta"
	assert_equal "$(backend_stat beta fallback)" 2
	assert_equal "$(backend_stat beta handoff)" 3
	assert_equal "$(backend_stat gamma down)" 1
	assert_equal "$(counter alert_80)" 1
}

@test "a backend stopped: fallback or alert 80, the outage logged once, back within a few seconds" {
	start_demo alpha
	start_demo beta
	start_demo gamma
	start_snitch
	run -0 faults clients --name alpha.localhost
	assert_line "answer alpha alpha.localhost"
	run -0 faults clients --name gamma.localhost
	assert_line "answer gamma gamma.localhost"
	stop_demo alpha
	stop_demo gamma
	ten_clients alpha.localhost "answer beta alpha.localhost"
	ten_clients gamma.localhost "alert 80"
	# a burst: one connect attempt per back-off period (50 ms growing to
	# 1 s), not one per client
	local errors
	errors=$(backend_stat gamma errors)
	run -0 faults clients --name gamma.localhost --count 50
	assert_equal "$(count_lines '^alert 80$' <(echo "$output"))" 50
	[ "$(($(backend_stat gamma errors) - errors))" -le 10 ]
	assert_equal "$(log_count 'backend alpha: cannot connect')" 1
	assert_equal "$(log_count 'backend gamma: cannot connect')" 1
	assert_equal "$(log_count 'backend=beta outcome=handoff fallback_of=alpha ')" 10
	assert_equal "$(log_count 'name=gamma.localhost backend=gamma outcome=alert alert=80 reason=backend-down')" 60
	assert_equal "$(backend_stat gamma down)" 60
	# back: routed again within a few seconds, and that is logged once
	start_demo alpha
	start_demo gamma
	wait_until routes alpha.localhost alpha
	wait_until routes gamma.localhost gamma
	for _ in 1 2 3; do
		run -0 get_https alpha.localhost
		assert_line "backend=alpha"
		assert_line "server_name=alpha.localhost"
	done
	assert_equal "$(log_count 'backend alpha: connected again')" 1
	assert_equal "$(log_count 'backend gamma: connected again')" 1
	# all that was said about alpha for 10 clients and its return: the
	# channel closed, cannot connect, still down after the first client's
	# hold (the outage established), connected again
	assert_equal "$(log_count 'backend alpha: still down after handoff_timeout')" 1
	assert_equal "$(log_count 'backend alpha: ')" 4
	assert_equal "$(log_count 'backend gamma: ')" 4
}

@test "a backend whose socket path is missing: fallback, then routed once it is back" {
	start_demo alpha
	start_demo beta
	# removed before any worker connected to it: nothing is listening
	# at that path any more, as when a backend's directory was wiped
	rm "$T/alpha.sock"
	start_snitch
	ten_clients alpha.localhost "answer beta alpha.localhost"
	assert_equal "$(log_count 'backend alpha: cannot connect')" 1
	assert log_has "backend alpha: cannot connect to $T/alpha\.sock"
	assert_equal "$(backend_stat beta fallback)" 10
	stop_demo alpha
	start_demo alpha
	wait_until routes alpha.localhost alpha
	assert_equal "$(log_count 'backend alpha: connected again')" 1
}

@test "a backend crashes with handoffs queued: those clients are held, then alert 80, later ones alert 80 at once, then it routes again" {
	start_stuck stuck
	start_snitch
	# 20 clients handed to a backend (of version 1) that never
	# receives: they sit in its channel's queue, waiting for an answer
	faults_bg "$T/queued.out" clients --name stuck.localhost --count 20 \
	    --timeout 15
	local clients=$FAULTS_PID
	wait_until eval '[ "$(log_count "name=stuck.localhost backend=stuck outcome=handoff")" -eq 20 ]'
	kill -KILL "$STUCK_PID"
	# The kernel discards its queue, but the worker kept each socket
	# it never received: they are held for its restart, and with no
	# backend back within handoff_timeout, get alert 80 (no fallback);
	# none hangs to its own 15 s timeout
	wait_pid_for 8 "$clients"
	run -0 cat "$T/queued.out"
	assert_line "done 20"
	assert_equal "$(count_lines '^alert 80$' "$T/queued.out")" 20
	# while nothing listens at stuck.sock: alert 80, one at a time
	run -3 tls --name stuck.localhost
	assert_output "alert 80"
	run -3 tls --name stuck.localhost
	assert_output "alert 80"
	# a real backend on the same path: routed again within a few seconds
	start_demo stuck
	wait_until routes stuck.localhost stuck
	# counted when received: the 20 never were
	assert_equal "$(backend_stat stuck handoff)" 1
}

@test "a busy backend with a fallback: clients beyond its queue go to the fallback after handoff_timeout" {
	start_stuck hung
	start_demo alpha
	# The fallback must never be busy itself: some 70 clients come to
	# alpha at once, and a slow build on a loaded machine may take over
	# a second to greet them all; a client waits at most handoff_timeout
	# in each queue before alert 80 (dispatch.c).
	set_key handoff_timeout 3s
	start_snitch
	# Fill hung's channel: more clients than a backend may hold
	# unreceived (128, CHANNEL_INFLIGHT_MAX).  Those beyond it wait in
	# the worker for handoff_timeout, then go to alpha.
	FAULTS_LIMIT=40 faults_bg "$T/crowd.out" clients --name hung.localhost \
	    --count 200 --timeout 10
	local crowd=$FAULTS_PID
	wait_for 10 log_has "name=hung\.localhost backend=alpha outcome=handoff fallback_of=hung alpn="
	# the queue is full: each of these goes to alpha, and gets its answer
	run -0 faults clients --name hung.localhost --count 20 --timeout 15
	assert_line "done 20"
	assert_equal "$(count_lines '^answer alpha hung\.localhost$' <(echo "$output"))" 20
	# alpha's own clients were never held up
	run -0 faults clients --name alpha.localhost --timeout 15
	assert_line "answer alpha alpha.localhost"
	# the crowd: each client was queued to hung (no answer) or went to
	# alpha, none was refused
	wait_pid_for 30 "$crowd"
	run -0 cat "$T/crowd.out"
	assert_line "done 200"
	assert_equal "$(count_lines '^(answer alpha hung\.localhost|timeout)$' "$T/crowd.out")" 200
	refute log_has "outcome=alert"
	local fell
	fell=$(log_count 'name=hung\.localhost backend=alpha outcome=handoff fallback_of=hung alpn=')
	assert_equal "$(backend_stat alpha fallback)" "$fell"
	assert_equal "$(backend_stat hung handoff)" "$(log_count 'name=hung\.localhost backend=hung outcome=handoff alpn=')"
	assert_equal "$(backend_stat hung busy)" 0
}
