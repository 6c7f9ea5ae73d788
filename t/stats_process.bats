#!/usr/bin/env bats
# stats_process.bats - the stats socket is served by snitch-stats, a
# process of its own, never by the master (issue 14).
#
# man/snitch.8: with `stats`, the master runs snitch-stats, which answers
# every stats client (GET /metrics, snitch -s) one at a time; it runs as
# `user` with no capability, no_new_privs, not dumpable and a seccomp
# filter, and is restarted like a worker when it dies, its figures
# carrying on.  Here: stalling stats clients are held by snitch-stats,
# not the master, which meanwhile restarts a killed worker and reloads;
# snitch-stats SIGKILLed comes back with the same figures, the second
# young death after 1 s; its privileges, also with chroot (root only).
#
# Timing: only generous bounds that prove "not held up" (seconds where
# the work takes milliseconds), never a measurement as pass or fail.

load lib
load lib_faults

setup() {
	snitch_setup
	WORKERS=1
	start_demo alpha
	SPORT=$(free_port)
	CHROOT=
}

teardown() {
	snitch_teardown
	if [ -n "${CHROOT:-}" ]; then
		rm -rf "$CHROOT"
	fi
}

# start_with_stats [LINE...] - snitch with stats on 127.0.0.1:$SPORT,
# one worker, backend alpha; waits until snitch-stats answers
start_with_stats() {
	write_config "stats = 127.0.0.1:$SPORT" "$@"
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 1
	wait_until scrape
}

# scrape - GET /metrics from the stats address into $T/metrics.txt
scrape() {
	curl -sS -m 5 -o "$T/metrics.txt" -w '%{http_code}' \
	    "http://127.0.0.1:$SPORT/metrics" >"$T/status" 2>/dev/null &&
	    [ "$(cat "$T/status")" = 200 ]
}

# metric NAME - a sample of the last scrape (no labels, or as written)
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$T/metrics.txt"
}

# start_stallers N - N stats clients at a time that each connect, send
# half a request and stall; one that is dropped is replaced at once, so
# the stats socket always has clients stalling on it (tracked)
start_stallers() {
	timeout 60 "$PYTHON" - "$SPORT" "$1" >"$T/stallers.log" 2>&1 <<'EOF_PY' &
import socket, sys, threading
port, n = int(sys.argv[1]), int(sys.argv[2])

def staller():
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            s.recv(100)	# until dropped
            s.close()
        except OSError:
            pass

for _ in range(n):
    threading.Thread(target=staller, daemon=True).start()
threading.Event().wait()
EOF_PY
	track_pid $!
}

# server_side_pids - the pids holding the server side of established
# stats connections, one a line (none when none is accepted now)
server_side_pids() {
	ss -Htnp state established "( sport = :$SPORT )" |
	    grep -oE 'pid=[0-9]+' | cut -d= -f2 | sort -u
}

# held_by_stats_only - over 40 looks, stalling stats connections were
# held by snitch-stats, at least once, and never by the master
held_by_stats_only() {
	local i pid stats seen=0
	for ((i = 0; i < 40; i++)); do
		stats=$(stats_pid)
		for pid in $(server_side_pids); do
			if [ "$pid" = "$SNITCH_PID" ]; then
				echo "the master (pid $pid) holds a stats client"
				return 1
			fi
			[ -n "$stats" ] && [ "$pid" = "$stats" ] && seen=1
		done
		sleep 0.05
	done
	[ "$seen" -eq 1 ] || echo "no stats client held by snitch-stats"
	[ "$seen" -eq 1 ]
}

# status_field PID FIELD - a line's value in /proc/PID/status
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

@test "stalling stats clients are held by snitch-stats, and the master restarts a worker and reloads meanwhile" {
	local old start took
	start_with_stats
	start_stallers 4
	# the clients stall on snitch-stats, never on the master (before
	# issue 14 the master accepted and read them itself: this fails)
	run held_by_stats_only
	assert_success
	# a worker killed now is logged and replaced at once by the master
	old=$(worker_pids)
	start=$(date +%s%N)
	kill -KILL "$old"
	wait_for 3 log_has "worker 0 \(pid $old\) killed by signal 9 \(Killed\); restarting it now"
	wait_for 3 eval '[ -n "$(worker_pids)" ] && [ "$(worker_pids)" != "$old" ]'
	took=$((($(date +%s%N) - start) / 1000000))
	[ "$took" -lt 3000 ]
	# and a reload completes: the new generation's worker runs
	kill -HUP "$SNITCH_PID"
	wait_for 3 log_has "reload: configuration generation 2 loaded"
	wait_for 3 eval 'ps -o args= --ppid "$SNITCH_PID" | grep -q "worker 0 gen 2"'
	run held_by_stats_only
	assert_success
	# the stallers never kept other clients from being answered
	run -0 faults clients --name alpha.localhost
	assert_line "answer alpha alpha.localhost"
	wait_for 5 scrape
	assert_equal "$(metric snitch_config_generation)" 2
	assert_equal "$(metric snitch_worker_restarts_total)" 1
}

@test "snitch-stats SIGKILLed: restarted, /metrics answers again, the figures do not go back" {
	local old new
	start_with_stats
	run -0 faults clients --name alpha.localhost --count 3
	# a reload folds generation 1 into the totals the master keeps
	kill -HUP "$SNITCH_PID"
	wait_for 5 eval 'scrape && [ "$(metric snitch_config_generation)" = 2 ]'
	wait_until eval '! ps -o args= --ppid "$SNITCH_PID" | grep -q "gen 1"'
	run -0 faults clients --name alpha.localhost --count 2
	wait_until eval 'scrape && [ "$(metric '\''snitch_connections_total{outcome="handoff"}'\'')" = 5 ]'
	cp "$T/metrics.txt" "$T/before.txt"
	old=$(stats_pid)
	kill -KILL "$old"
	wait_until log_has "stats process \(pid $old\) killed by signal 9 \(Killed\); restarting it now"
	wait_until eval 'new=$(stats_pid); [ -n "$new" ] && [ "$new" != "$old" ]'
	wait_until scrape
	# every figure as it was: nothing was counted since
	run -0 diff <(grep -v '^snitch_connections_pending' "$T/before.txt") \
	    <(grep -v '^snitch_connections_pending' "$T/metrics.txt")
	assert_equal "$(metric 'snitch_connections_total{outcome="handoff"}')" 5
	assert_equal "$(metric 'snitch_backend_handoffs_total{backend="alpha"}')" 5
	assert_equal "$(metric snitch_worker_restarts_total)" 0
	run -0 snitch_stats
	assert_line "handoff 5"
	# counting goes on from there
	run -0 faults clients --name alpha.localhost
	wait_until eval 'scrape && [ "$(metric '\''snitch_connections_total{outcome="handoff"}'\'')" = 6 ]'
}

@test "snitch-stats dying young: restarted at once the first time, after 1 s the second" {
	local first second
	start_with_stats
	first=$(stats_pid)
	kill -KILL "$first"
	wait_until eval 'second=$(stats_pid); [ -n "$second" ] && [ "$second" != "$first" ]'
	kill -KILL "$second"
	wait_until log_has "stats process \(pid $second\) killed by signal 9 \(Killed\); restarting it in 1\.0s"
	wait_for 5 eval '[ -n "$(stats_pid)" ] && [ "$(stats_pid)" != "$second" ]'
	wait_until scrape
	# workers are not stats: their restart count did not move
	assert_equal "$(metric snitch_worker_restarts_total)" 0
}

@test "snitch-stats runs as user with no capability, no_new_privs, not dumpable, the seccomp filter" {
	local pid uid
	start_with_stats
	pid=$(stats_pid)
	[ -n "$pid" ]
	uid=$(id -u)
	if is_root; then
		uid=$(id -u nobody)
	fi
	assert_equal "$(status_field "$pid" Uid)" "$uid	$uid	$uid	$uid"
	for f in CapInh CapPrm CapEff CapAmb; do
		assert_equal "$(status_field "$pid" $f)" 0000000000000000
	done
	assert_equal "$(status_field "$pid" NoNewPrivs)" 1
	assert_equal "$(status_field "$pid" Seccomp)" 2
	# not dumpable: the kernel gives its /proc/PID files to root
	assert_equal "$(stat -c %u "/proc/$pid/status")" 0
	run -0 cat "/proc/$pid/cmdline"
	assert_output --partial "snitch: stats"
	[ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$BUILD/snitch-stats")" ]
}

@test "with chroot, snitch-stats gets no capability either (root)" {
	is_root || skip "chroot needs root"
	local pid
	CHROOT=$(mktemp -d /run/snitch-chroot.XXXXXX)
	chmod 755 "$CHROOT"
	start_with_stats "chroot = $CHROOT"
	# the master keeps CAP_SYS_CHROOT (privdrop.c); snitch-stats not
	[ "$(status_field "$SNITCH_PID" CapPrm)" != 0000000000000000 ]
	pid=$(stats_pid)
	for f in CapInh CapPrm CapEff CapAmb; do
		assert_equal "$(status_field "$pid" $f)" 0000000000000000
	done
	assert_equal "$(status_field "$pid" Seccomp)" 2
}
