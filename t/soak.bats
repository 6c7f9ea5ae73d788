#!/usr/bin/env bats
# soak.bats - about 20 s of mixed clients (good, unknown name, slow,
# idle, resetting mid-hello) while a backend is killed and restarted, a
# worker is killed and the configuration is reloaded twice.
#
# Afterwards every client ended the way a user would accept (its
# backend's answer, or an alert; none hung, none reset by snitch except
# the ones a killed worker held, which `lost` counts), the counters add
# up exactly and count every connection the clients made, and no process
# of snitch holds a descriptor more than before the run.

load lib
load lib_faults

# config NAMES - alpha and beta; alpha's names are NAMES
config() {
	write_config
	stats_on
	add_backend alpha "$@"
	add_backend beta beta.localhost
}

setup() {
	snitch_setup
	WORKERS=2
	PEEK_TIMEOUT=2s
	start_demo alpha
	start_demo beta
	config alpha.localhost
	start_snitch
	wait_until has_workers 2
}

# fds_of PID - t/faults_clients.py fds: descriptors of PID by kind
fds_of() {
	faults fds "$1"
}

# fd_field TEXT KEY - the value of KEY=N in an fds_of line
fd_field() {
	sed -n "s/.*\\b$2=\\([0-9]*\\).*/\\1/p" <<<"$1"
}

# judge KILLED - read the soak's "KIND BACKEND OUTCOME COUNT" lines on
# stdin; print "unexpected LINE" for each outcome a user would not
# accept, and last "budget N": how many ended with a close or a reset
# that only a killed worker explains
#
#   good, slow  BACKEND's answer; for the killed backend's clients also
#               alert 80 (while it was down) or a close or a reset (the
#               kernel closed the ones queued in its channel)
#   unknown     alert 112
#   idle        closed with a FIN (peek_timeout)
#   reset       the client reset itself: nothing to check but that it
#               did not hang
judge() {
	awk -v killed="$1" '
	    $1 == "connections" { next }
	    NF != 4 { print "unexpected " $0; next }
	    {
		kind = $1; be = $2; out = $3; n = $4
		if (kind == "good" || kind == "slow") {
			if (out == "answer-" be) next
			if (be == killed && (out == "alert-80" ||
			    out == "closed" || out == "reset")) next
			if (out == "closed" || out == "reset") {
				budget += n; next
			}
		} else if (kind == "unknown") {
			if (out == "alert-112") next
			if (out == "closed" || out == "reset") {
				budget += n; next
			}
		} else if (kind == "idle") {
			if (out == "closed") next
			if (out == "reset") { budget += n; next }
		} else if (kind == "reset") {
			if (out == "reset-sent") next
		}
		print "unexpected " $0
	    }
	    END { print "budget " budget + 0 }'
}

@test "20 s of mixed clients through a backend kill, a worker kill and two reloads" {
	local master=$SNITCH_PID accepted0 master_fds0 worker_fds0 pid
	local -a gen1
	mapfile -t gen1 < <(worker_pids)
	track_workers
	wait_until pending_is 0
	accepted0=$(counter accepted)
	master_fds0=$(fds_of "$master")
	# A fresh worker holds no client and no channel (channels are
	# connected when first needed): its two Unix sockets are the
	# control and broker sockets from the master.  Every worker of this config's
	# shape (same listeners, same backends) starts with the same set,
	# so gen 1's, taken now, is the reference for the workers that
	# will be running at the end (gen 3).
	worker_fds0=$(fds_of "${gen1[0]}")
	assert_equal "$(fds_of "${gen1[1]}")" "$worker_fds0"
	assert_equal "$(fd_field "$worker_fds0" unix)" 2
	assert_equal "$(fd_field "$worker_fds0" tcp_conn)" 0

	FAULTS_LIMIT=50 faults_bg "$T/soak.out" soak --seconds 20 \
	    --good alpha.localhost=alpha,beta.localhost=beta \
	    --unknown nosuch.localhost --peek-timeout 2
	local soak=$FAULTS_PID
	sleep 3
	# the backend alpha crashes, and is back 2 s later
	kill -KILL "${DEMO_PIDS[alpha]}"
	wait "${DEMO_PIDS[alpha]}" 2>/dev/null || true
	unset 'DEMO_PIDS[alpha]'
	sleep 2
	start_demo alpha
	sleep 2
	# a worker is killed
	kill -KILL "$(worker_pids | head -n 1)"
	sleep 2
	# two valid reloads
	config alpha.localhost alpha2.localhost
	kill -HUP "$master"
	wait_until log_has "configuration generation 2 loaded"
	sleep 3
	config alpha.localhost
	kill -HUP "$master"
	wait_until log_has "configuration generation 3 loaded"
	track_workers
	wait_pid_for 45 "$soak"
	alive "$master"

	# the clients' side
	cat "$T/soak.out"
	run -0 cat "$T/soak.out"
	refute_output --partial "error"
	local connections budget
	connections=$(sed -n 's/^connections //p' "$T/soak.out")
	[ "$connections" -ge 200 ]
	# enough of each kind to mean something
	[ "$(awk '$1 == "good" && $3 == "answer-beta" { print $4 }' "$T/soak.out")" -ge 50 ]
	[ "$(awk '$1 == "slow" && $3 == "answer-beta" { print $4 }' "$T/soak.out")" -ge 5 ]
	[ "$(awk '$1 == "idle" && $3 == "closed" { print $4 }' "$T/soak.out")" -ge 5 ]
	run -0 judge alpha <"$T/soak.out"
	refute_output --partial unexpected
	budget=$(sed -n 's/^budget //p' <<<"$output")

	# the counters: every connection counted once, in one outcome
	wait_for 5 pending_is 0
	local stats
	stats=$(snitch_stats)
	echo "$stats"
	stats_add_up "$stats"
	# A connection the killed worker took from the kernel and died
	# before counting is in no counter: its client saw a reset.
	local accepted resets
	accepted=$(($(awk '$1 == "accepted" { print $2 }' <<<"$stats") - accepted0))
	resets=$(awk '$1 != "reset" && $3 == "reset" { n += $4 } END { print n + 0 }' \
	    "$T/soak.out")
	[ "$accepted" -le "$connections" ] &&
	    [ "$accepted" -ge $((connections - resets)) ] ||
	    fail "accepted $accepted of $connections connections ($resets reset)"
	assert_equal "$(awk '$1 == "generation" { print $2 }' <<<"$stats")" 3
	assert_equal "$(awk '$1 == "worker_restarts" { print $2 }' <<<"$stats")" 1
	# a client that failed with no backend to blame was held by the
	# killed worker
	[ "$budget" -le "$(awk '$1 == "lost" { print $2 }' <<<"$stats")" ]

	# descriptors: the old generations are gone; the master holds what
	# it held before; each gen 3 worker holds what a fresh worker holds
	# plus at most one channel per backend, and no client socket
	wait_until gone "${gen1[@]}"
	wait_until has_workers 2
	assert_equal "$(workers_of_gen 3 | wc -l)" 2
	assert_equal "$(fds_of "$master")" "$master_fds0"
	for pid in $(worker_pids); do
		local now
		now=$(fds_of "$pid")
		echo "worker $pid: $now (fresh: $worker_fds0)"
		assert_equal "$(fd_field "$now" tcp_listen)" "$(fd_field "$worker_fds0" tcp_listen)"
		assert_equal "$(fd_field "$now" other)" "$(fd_field "$worker_fds0" other)"
		assert_equal "$(fd_field "$now" tcp_conn)" 0
		assert_equal "$(fd_field "$now" other_socket)" 0
		# control and broker, and a channel per backend (2)
		[ "$(fd_field "$now" unix)" -le 4 ]
	done
}
