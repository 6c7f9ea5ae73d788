#!/usr/bin/env bats
# ack.bats - handoff protocol version 2: a worker keeps each socket it
# handed until the backend acknowledges it, so a backend that dies with
# handoffs it never received costs no client: each is peeked again and
# handed to the restarted instance (or the fallback).  Backends of
# version 1 work as before.

load lib
load lib_faults

setup() {
	setup_alpha_beta
}

# start_fake MODE - t/busy.py MODE on $T/alpha.sock; FAKE: its pid
start_fake() {
	"$PYTHON" "$BATS_TEST_DIRNAME/busy.py" "$1" "$T/alpha.sock" \
	    </dev/null >>"$T/fake.log" 2>&1 3>&- &
	FAKE=$!
	track_pid "$FAKE"
	wait_until unix_listening "$T/alpha.sock"
}

# killed_unreceived MODE VERSION - 40 clients handed to a fake backend
# (t/busy.py MODE) that never receives them, which is then killed; a
# demo speaking handoff protocol VERSION restarted on the same path
# serves every one of them
killed_unreceived() {
	local mode=$1 crowd
	start_fake "$mode"
	start_snitch
	busy_crowd "$T/crowd.out" alpha.localhost 40 8
	crowd=$CROWD_PID
	wait_until eval '[ "$(grep -c "backend=alpha outcome=handoff" "$T/snitch.log")" -ge 40 ]'
	kill -KILL "$FAKE"
	wait "$FAKE" 2>/dev/null || true
	rm -f "$T/alpha.sock"
	SNITCH_HANDOFF_VERSION=$2 start_demo alpha
	wait "$crowd"
	# "other": the demo's TLS answer; none lost, none refused
	run -0 cat "$T/crowd.out"
	assert_output "alert80=0 other=40 silent=0"
	# Each handed again at least once (twice when the first try met
	# the dying instance's listener), and counted once, when received.
	run -0 grep -c "name=alpha.localhost backend=alpha outcome=handoff .*rehanded=1" \
	    "$T/snitch.log"
	[ "$output" -ge 40 ]
	wait_until eval '[ "$(counter pending)" = 0 ]'
	assert_equal "$(backend_stat alpha handoff)" 40
	[ "$(backend_stat alpha rehanded)" -ge 40 ]
}

@test "a backend killed with unreceived handoffs: every client is served by its next instance" {
	killed_unreceived stuck2 2
	run -0 tls --name beta.localhost
	assert_line "backend=beta"
}

@test "a backend that dies unacknowledged with a fallback: its clients go there" {
	sed -i '/^\[backend alpha\]/a fallback = beta' "$T/snitch.ini"
	set_key handoff_timeout 1s
	start_fake stuck2
	start_snitch
	busy_crowd "$T/crowd.out" alpha.localhost 10 8
	local crowd=$CROWD_PID
	wait_until eval '[ "$(grep -c "backend=alpha outcome=handoff" "$T/snitch.log")" -ge 10 ]'
	kill -KILL "$FAKE"
	wait "$crowd"
	run -0 cat "$T/crowd.out"
	assert_output "alert80=0 other=10 silent=0"
	run -0 grep -c "backend=beta outcome=handoff fallback_of=alpha .*rehanded=1" \
	    "$T/snitch.log"
	assert_output 10
	wait_until eval '[ "$(counter pending)" = 0 ]'
	assert_equal "$(backend_stat beta fallback)" 10
}

@test "libsnitch acknowledges by itself: nothing stays pending" {
	start_demo alpha
	start_snitch
	local i
	for i in 1 2 3 4 5; do
		run -0 tls --name alpha.localhost
		assert_line "backend=alpha"
	done
	wait_until eval '[ "$(counter pending)" = 0 ]'
	assert_equal "$(backend_stat alpha handoff)" 5
	run -1 grep -c "rehanded" "$T/snitch.log"
}

@test "a backend of version 1 (SNITCH_HANDOFF_VERSION=1) works as before" {
	SNITCH_HANDOFF_VERSION=1 start_demo alpha
	start_snitch
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	wait_until eval '[ "$(counter pending)" = 0 ]'
	assert_equal "$(backend_stat alpha handoff)" 1
}

@test "a backend of version 1 killed with unreceived handoffs: every client is served by its next instance" {
	# version 1 says nothing, but the kernel's count of its channel's
	# queue says it never took them
	killed_unreceived stuck 1
}

@test "a backend that made a socket non-blocking and died unacknowledged: handed again in blocking mode" {
	local i
	local -a clients=()
	start_fake grab2
	start_snitch
	# real clients, which finish their handshake with whoever answers
	for i in 1 2 3; do
		tls --name alpha.localhost >"$T/client-$i.out" 2>&1 &
		clients+=("$!")
	done
	# received, set non-blocking (the flag is the open file
	# description's, which the worker's copy shares), never acknowledged
	wait_until grep -q "grabbed 3" "$T/fake.log"
	kill -KILL "$FAKE"
	wait "$FAKE" 2>/dev/null || true
	rm -f "$T/alpha.sock"
	# libsnitch promises a socket in blocking mode: the demo's handshake
	# reads it so, and would fail at once on a non-blocking one
	start_demo alpha
	wait "${clients[@]}"
	for i in 1 2 3; do
		run -0 cat "$T/client-$i.out"
		assert_line "backend=alpha"
	done
	[ "$(backend_stat alpha rehanded)" -ge 3 ]
}

@test "a backend of version 1: the worker's copy goes as it receives, not after a timeout" {
	# receives 5 s after it starts: time enough for snitch to start
	# and hand it the crowd on a loaded machine
	"$PYTHON" "$BATS_TEST_DIRNAME/busy.py" slow "$T/alpha.sock" 5 \
	    </dev/null >>"$T/fake.log" 2>&1 3>&- &
	track_pid $!
	wait_until unix_listening "$T/alpha.sock"
	start_snitch
	busy_crowd "$T/crowd.out" alpha.localhost 10 8
	wait_until eval '[ "$(counter pending)" -ge 10 ]'
	# received later, and kept open by the backend: the copies go
	# then, far before DISPATCH_ACK_TIMEOUT (10 s)
	wait_for 10 grep -q "received 10" "$T/fake.log"
	wait_for 3 eval '[ "$(counter pending)" = 0 ]'
	assert_equal "$(backend_stat alpha handoff)" 10
	run -1 grep -c "rehanded" "$T/snitch.log"
}

@test "a backend that says something not of the protocol: its channel is closed, snitch serves on" {
	start_fake garbage
	start_snitch
	run tls --name alpha.localhost
	wait_until log_has "backend alpha: a message that is not of the handoff protocol"
	run -0 tls --name beta.localhost
	assert_line "backend=beta"
	alive "$SNITCH_PID"
}
