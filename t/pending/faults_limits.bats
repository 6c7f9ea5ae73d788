#!/usr/bin/env bats
# faults_limits.bats - descriptors and connection slots run out.
#
# Under a descriptor limit too low for max_pending, the worker lowers it
# (and says so); with every slot taken by idle clients, the workers do
# not spin, the kernel backlog holds the rest, and every client is served
# in turn once the idle ones time out: nothing is dropped.  With
# max_pending = 5 a worker never holds more than 5 connections.

load lib
load lib_faults

setup() {
	snitch_setup
	PEEK_TIMEOUT=2s
	start_demo alpha
}

# ticks_per_s - clock ticks per second (/proc/PID/stat's unit)
ticks_per_s() {
	getconf CLK_TCK
}

@test "a descriptor limit below max_pending: lowered with a log line, no spinning, nothing dropped" {
	local -a workers
	local pid i hz limit
	write_config "max_pending = 1000"
	stats_on
	add_backend alpha alpha.localhost
	# the master raises its soft limit to the hard one, no further
	start_snitch_under prlimit --nofile=96:96
	wait_until has_workers 2
	mapfile -t workers < <(worker_pids)
	for pid in "${workers[@]}"; do
		limit=$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")
		assert_equal "$limit" 96
	done
	wait_until log_has "max_pending 1000 does not fit in 96 descriptors: using [0-9]+"
	# 300 idle clients: more than both workers' slots together
	FAULTS_LIMIT=40 faults_bg "$T/idle.out" idle --count 300 --hold 25 \
	    --ready "$T/idle.ready"
	local idle=$FAULTS_PID
	wait_until test -f "$T/idle.ready"
	# no worker spins on a listener it cannot serve: under 0.5 s of CPU
	# in 2 s
	hz=$(ticks_per_s)
	local -a before
	for pid in "${workers[@]}"; do
		before+=("$(cpu_ticks "$pid")")
	done
	# a normal client, behind the idle ones in the backlog
	faults_bg "$T/client.out" clients --name alpha.localhost --timeout 20
	local client=$FAULTS_PID
	sleep 2
	for i in "${!workers[@]}"; do
		local used=$(($(cpu_ticks "${workers[$i]}") - before[i]))
		echo "worker ${workers[$i]}: $used ticks in 2 s"
		[ "$used" -lt $((hz / 2)) ]
	done
	# it is served once idle ones time out (2 s a round of slots)
	wait_pid_for 20 "$client"
	run -0 cat "$T/client.out"
	assert_output "answer alpha alpha.localhost"$'\n'"done 1"
	# every idle one was accepted in turn and closed with a FIN at its
	# peek_timeout: none reset, none left waiting
	wait_pid_for 25 "$idle"
	run -0 cat "$T/idle.out"
	assert_output "open=300 closed=300 reset=0 still=0"
	assert_equal "$(counter timeout)" 300
	refute log_has "accept: pausing"
	stats_add_up "$(snitch_stats)"
}

@test "max_pending = 5: a worker never holds more than 5, and clients queued behind idle ones all complete" {
	local peak=0 now
	WORKERS=1
	write_config "max_pending = 5"
	stats_on
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 1
	FAULTS_LIMIT=40 faults_bg "$T/idle.out" idle --count 20 --hold 25 \
	    --ready "$T/idle.ready"
	local idle=$FAULTS_PID
	wait_until test -f "$T/idle.ready"
	# 5 normal clients behind the 20 idle ones: 4 rounds of peek_timeout
	faults_bg "$T/clients.out" clients --name alpha.localhost --count 5 \
	    --timeout 20
	local clients=$FAULTS_PID
	# watch pending while they wait, at most 20 s
	for ((i = 0; i < 200; i++)); do
		alive "$clients" || break
		now=$(counter pending)
		[ -n "$now" ] || continue
		[ "$now" -le "$peak" ] || peak=$now
		sleep 0.1
	done
	echo "highest pending: $peak"
	assert_equal "$peak" 5
	wait_pid_for 5 "$clients"
	run -0 cat "$T/clients.out"
	assert_equal "$(count_lines '^answer alpha alpha\.localhost$' "$T/clients.out")" 5
	assert_line "done 5"
	wait_pid_for 10 "$idle"
	run -0 cat "$T/idle.out"
	assert_output "open=20 closed=20 reset=0 still=0"
	assert_equal "$(counter timeout)" 20
	assert_equal "$(counter handoff)" 5
	stats_add_up "$(snitch_stats)"
}
