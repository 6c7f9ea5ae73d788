#!/usr/bin/env bats
# faults_limits.bats - descriptors and connection slots run out.
#
# Under a descriptor limit too low for max_pending, the worker lowers it
# (and says so); with every slot taken by idle clients, the workers do
# not spin, make room by evicting the idle ones (a FIN each, counted),
# and a real client is served at once, not after the idle ones time out.
# With max_pending = 5 a worker never holds more than 5 connections.  A worker
# that runs out of descriptors at accept anyway (its limit lowered while
# it runs) pauses accepting, logs that once, and resumes when it can.
# The idle clients here send nothing, so these tests turn defer_accept
# off: with it the kernel holds silent clients itself for a while.

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
	# silent clients must take slots at once: no kernel deferral; the
	# 300 from one address would earn it a source penalty (penalty.bats)
	write_config "max_pending = 1000" "defer_accept = off" \
	    "source_penalty = off"
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
	# it is served: an idle one was evicted to make room for it
	wait_pid_for 20 "$client"
	run -0 cat "$T/client.out"
	assert_output "answer alpha alpha.localhost"$'\n'"done 1"
	# every idle one was accepted in turn and closed with a FIN, evicted
	# or at its peek_timeout: none reset, none left waiting
	wait_pid_for 25 "$idle"
	run -0 cat "$T/idle.out"
	assert_output "open=300 closed=300 reset=0 still=0"
	assert_equal $(($(counter timeout) + $(counter evicted))) 300
	[ "$(counter evicted)" -gt 0 ]
	refute log_has "accept: pausing"
	stats_add_up "$(snitch_stats)"
}

@test "max_pending = 5: a worker never holds more than 5, and clients behind idle ones all complete" {
	local peak=0 now
	WORKERS=1
	write_config "max_pending = 5" "defer_accept = off"
	stats_on
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 1
	FAULTS_LIMIT=40 faults_bg "$T/idle.out" idle --count 20 --hold 25 \
	    --ready "$T/idle.ready"
	local idle=$FAULTS_PID
	wait_until test -f "$T/idle.ready"
	# 5 normal clients behind the 20 idle ones: idle ones make room
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
	assert_equal $(($(counter timeout) + $(counter evicted))) 20
	assert_equal "$(counter handoff)" 5
	stats_add_up "$(snitch_stats)"
}

# start_settled_worker - snitch with one worker (pid in WORKER) that has
# handed off one client: its backend channel is open, it has settled
start_settled_worker() {
	WORKERS=1
	write_config
	stats_on
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 1
	WORKER=$(worker_pids)
	run -0 faults clients --name alpha.localhost
	assert_line "answer alpha alpha.localhost"
}

# lowest_free_fd PID - the lowest descriptor number PID has not open: the
# number its next accept would get
lowest_free_fd() {
	local n=0
	while [ -e "/proc/$1/fd/$n" ]; do
		n=$((n + 1))
	done
	echo "$n"
}

# as_worker_user CMD... - CMD as the workers' user: prlimit(2) on another
# user's process needs CAP_SYS_RESOURCE, which a container may not grant
as_worker_user() {
	if is_root; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
	else
		"$@"
	fi
}

@test "out of descriptors at accept (EMFILE): the worker pauses without spinning, logs it once, and resumes" {
	local worker hz before used
	start_settled_worker
	worker=$WORKER
	# from now on its next accept finds no descriptor (the limit was
	# checked at start, so only a change at run time gets it here)
	as_worker_user prlimit --pid "$worker" \
	    --nofile="$(lowest_free_fd "$worker"):"
	hz=$(getconf CLK_TCK)
	before=$(cpu_ticks "$worker")
	faults_bg "$T/clients.out" clients --name alpha.localhost --count 3 \
	    --timeout 20
	local clients=$FAULTS_PID
	sleep 2
	# 2 s of EMFILE: paused, not spinning, the clients still waiting in
	# the backlog, and one log line for the whole shortage
	used=$(($(cpu_ticks "$worker") - before))
	echo "worker $worker: $used ticks in 2 s"
	[ "$used" -lt $((hz / 4)) ]
	alive "$clients"
	assert_equal "$(log_count 'accept: pausing 100 ms at a time: Too many open files')" 1
	# descriptors again: every waiting client is served by the same worker
	as_worker_user prlimit --pid "$worker" --nofile=1024:
	wait_pid_for 10 "$clients"
	run -0 cat "$T/clients.out"
	assert_equal "$(count_lines '^answer alpha alpha\.localhost$' "$T/clients.out")" 3
	assert_line "done 3"
	wait_until log_has "accept: resumed after [0-9]+ pauses"
	assert_equal "$(worker_pids)" "$worker"
	assert_equal "$(counter handoff)" 4
	stats_add_up "$(snitch_stats)"
}

# hold_inflight N READY - as the workers' user, keep N descriptors in
# flight on a socketpair nobody reads, and touch READY; the kernel counts
# in-flight descriptors per user, and refuses one more (ETOOMANYREFS)
# from a process of that user whose descriptor limit is below the count
hold_inflight() {
	local -a cmd=("$PYTHON" -c '
import os, socket, sys, time
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(int(sys.argv[1]))]
socket.send_fds(a, [b"x"], fds)
for fd in fds:
    os.close(fd)
open(sys.argv[2], "w").close()
time.sleep(60)
' "$1" "$2")
	if is_root; then
		cmd=(setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    "${cmd[@]}")
	fi
	"${cmd[@]}" </dev/null 3>&- &
	HOLD_PID=$!
	track_pid "$HOLD_PID"
	wait_until test -f "$2"
}

@test "a handoff refused with ETOOMANYREFS: backend busy, alert 80 after handoff_timeout, routed once it clears" {
	local worker hz before used
	start_settled_worker
	worker=$WORKER
	# the worker may have 64 descriptors, its user has 200 in flight
	as_worker_user prlimit --pid "$worker" --nofile=64:
	hold_inflight 200 "$T/inflight.ready"
	hz=$(getconf CLK_TCK)
	before=$(cpu_ticks "$worker")
	run -0 faults clients --name alpha.localhost --timeout 10
	assert_output "alert 80"$'\n'"done 1"
	used=$(($(cpu_ticks "$worker") - before))
	echo "worker $worker: $used ticks for a 2 s handoff_timeout"
	[ "$used" -lt $((hz / 4)) ]
	assert log_has "name=alpha\.localhost backend=alpha outcome=alert alert=80 reason=backend-busy"
	assert_equal "$(backend_stat alpha busy)" 1
	# the descriptors leave flight: routed again, by the same worker
	stop_pid "$HOLD_PID"
	run -0 faults clients --name alpha.localhost
	assert_line "answer alpha alpha.localhost"
	assert_equal "$(worker_pids)" "$worker"
	stats_add_up "$(snitch_stats)"
}
