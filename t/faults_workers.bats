#!/usr/bin/env bats
# faults_workers.bats - workers killed, workers in a crash loop, the
# master killed.
#
# A killed worker is replaced at once and only the connection it held at
# that instant (counted as lost) can fail; one that keeps dying young is
# restarted after growing delays (1 s, 2 s, ...) while the other worker
# serves; workers whose master was SIGKILLed finish what they hold and
# exit, and nothing keeps the port.

load lib
load lib_faults

setup() {
	snitch_setup
	start_demo alpha
	start_demo beta
	write_config
	stats_on
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost
	start_snitch
	wait_until has_workers 2
}

# handed_by_both - each of the two workers has handed a client to alpha
handed_by_both() {
	log_has "worker=0 .* backend=alpha outcome=handoff" &&
	    log_has "worker=1 .* backend=alpha outcome=handoff"
}

# worker_index PID - a worker's index, from its title "snitch: worker N gen G"
worker_index() {
	ps -o args= -p "$1" | sed -n 's/^snitch: worker \([0-9]*\) gen [0-9]*$/\1/p'
}

# worker_with_index I - the live worker with index I, if any
worker_with_index() {
	local pid
	for pid in $(worker_pids); do
		[ "$(worker_index "$pid")" = "$1" ] && echo "$pid"
	done
	return 0
}

# replaced I OLD - worker I runs again, in a process other than OLD
replaced() {
	local now
	now=$(worker_with_index "$1")
	[ -n "$now" ] && [ "$now" != "$2" ]
}

# kill_worker I - SIGKILL worker I; sets KILLED to its pid
kill_worker() {
	KILLED=$(worker_with_index "$1")
	[ -n "$KILLED" ]
	kill -KILL "$KILLED"
}

@test "a worker killed while clients keep routing: replaced within a second, no other client fails" {
	local -a before
	local lost0 result clients failed
	mapfile -t before < <(worker_pids)
	lost0=$(counter lost)
	assert_equal "$lost0" 0
	# short sequential clients for 4 s, across the kill
	faults_bg "$T/load.out" load --names alpha.localhost=alpha,beta.localhost=beta \
	    --concurrency 1 --seconds 4
	local load=$FAULTS_PID
	wait_until eval '[ "$(log_count "outcome=handoff")" -ge 10 ]'
	kill_worker 0
	# replaced within a second: 10 polls of 100 ms
	WAIT_STEPS=10 wait_until replaced 0 "$KILLED"
	wait_until has_workers 2
	wait_pid_for 20 "$load"
	cat "$T/load.out"	# shown if the test fails
	result=$(head -n 1 "$T/load.out")
	[[ $result =~ ^clients\ ([0-9]+)\ ok\ [0-9]+\ failed\ ([0-9]+)\ resets\ [0-9]+$ ]]
	clients=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]}
	[ "$clients" -ge 20 ]
	# Only a connection the killed worker held at that instant may fail,
	# and each such one is counted as lost: clients are sequential, so at
	# most one.  A kill that lands between a handoff's sendmsg and its
	# count (a few instructions, worker/outcome.c) counts as lost one
	# that its backend got: lost may be one more than failed, not less.
	local lost
	lost=$(counter lost)
	[ "$failed" -le "$lost" ]
	[ "$lost" -le 1 ]
	assert log_has "worker 0 \(pid $KILLED\) killed by signal 9 \(Killed\); restarting it now"
	assert_equal "$(counter worker_restarts)" 1
	# the other worker was never touched
	local pid
	for pid in "${before[@]}"; do
		[ "$pid" = "$KILLED" ] || alive "$pid"
	done
	run -0 faults clients --name beta.localhost
	assert_line "answer beta beta.localhost"
}

@test "a worker that keeps dying young is restarted after growing delays, the other one serves" {
	local other kills
	other=$(worker_with_index 1)
	# kill worker 0 as soon as it is back, until a restart waits 2 s
	for ((kills = 1; kills <= 5; kills++)); do
		kill_worker 0
		wait_until log_has "\(pid $KILLED\) killed by signal 9"
		log_has "\(pid $KILLED\) .*restarting it in 2\.0s" && break
		wait_for 4 replaced 0 "$KILLED"
	done
	[ "$kills" -le 5 ]
	# while worker 0 waits out its delay, worker 1 takes every client
	for _ in 1 2 3 4 5; do
		run -0 faults clients --name alpha.localhost
		assert_line "answer alpha alpha.localhost"
	done
	wait_for 4 replaced 0 "$KILLED"
	# the delays grow: "in 1.0s" came right before "in 2.0s", and each
	# kill was logged
	run -0 grep -oE 'worker 0 \(pid [0-9]+\) killed by signal 9 \(Killed\); restarting it (now|in [0-9.]+s)' \
	    "$T/snitch.log"
	assert_equal "${#lines[@]}" "$kills"
	assert_line --index $((kills - 2)) --partial "restarting it in 1.0s"
	assert_line --index $((kills - 1)) --partial "restarting it in 2.0s"
	assert_equal "$(counter worker_restarts)" "$kills"
	alive "$other"
	assert_equal "$(worker_with_index 1)" "$other"
	wait_until has_workers 2
	run -0 faults clients --name beta.localhost
	assert_line "answer beta beta.localhost"
}

@test "a worker dying young: restarted at once the first time, after 1 s the second (snitch(8))" {
	# snitch(8), SIGNALS: "A worker that dies is restarted at once, also the first
	# time it dies within 2 s of starting; the second such early death
	# in a row is restarted after 1 s, then 2 s ..."  Let the first
	# workers get past their first 2 s.
	sleep 2.2
	kill_worker 0
	wait_until replaced 0 "$KILLED"
	assert log_has "worker 0 \(pid $KILLED\) killed by signal 9 \(Killed\); restarting it now"
	# the first early death: at once
	kill_worker 0
	wait_until replaced 0 "$KILLED"
	assert log_has "worker 0 \(pid $KILLED\) killed by signal 9 \(Killed\); restarting it now"
	# the second in a row: after 1 s
	kill_worker 0
	wait_for 4 replaced 0 "$KILLED"
	assert log_has "worker 0 \(pid $KILLED\) killed by signal 9 \(Killed\); restarting it in 1\.0s"
}

@test "the master SIGKILLed: workers finish the client they hold, exit, and free the port" {
	local -a workers
	local master=$SNITCH_PID
	mapfile -t workers < <(worker_pids)
	track_workers
	# Each worker's channel to alpha open first: the master opens
	# channels for the workers, so without it they can open none (a
	# client whose backend has no channel yet gets alert 80).
	handed_by_both || for _ in $(seq 20); do
		faults clients --name alpha.localhost --count 20 >/dev/null
		handed_by_both && break
	done
	handed_by_both
	# a client that sends its hello over about 1 s
	faults_bg "$T/slow.out" clients --name alpha.localhost --chunks 20 \
	    --delay 0.05 --timeout 10
	local slow=$FAULTS_PID
	wait_until pending_is 1
	kill -KILL "$master"
	wait "$master" || true
	SNITCH_PID=
	wait_pid_for 10 "$slow"
	run -0 cat "$T/slow.out"
	assert_output "answer alpha alpha.localhost"$'\n'"done 1"
	# gone by themselves within a few seconds, port free
	wait_for 5 gone "${workers[@]}" || {
		ps -o pid,stat,args -p "$(IFS=,; echo "${workers[*]}")" || true
		false
	}
	run -0 port_bindable "$PORT"
	run tcp_accepts 127.0.0.1 "$PORT"
	assert_failure
	assert log_has "worker [01] gen 1: master is gone; finishing 1 connections"
	assert_equal "$(log_count 'master is gone')" 2
}
