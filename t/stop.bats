#!/usr/bin/env bats
# stop.bats - SIGTERM (or SIGINT) stops snitch gracefully: master and
# workers are gone within peek_timeout + 2 s, even with a client that
# never sends its hello, the exit status is 0 and the port is free.

load lib

setup() {
	snitch_setup
	PEEK_TIMEOUT=1s
	start_demo alpha
	write_config
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost
	start_snitch
	wait_until has_workers 2
}

# stop_with SIGNAL - send SIGNAL to the master while a client sits idle;
# assert everything is gone within peek_timeout + 2 s with status 0
stop_with() {
	local -a workers
	local pid=$SNITCH_PID i rc
	mapfile -t workers < <(worker_pids)
	[ "${#workers[@]}" -eq 2 ]
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	# an idle client: connected, never sends a byte
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	kill "-$1" "$pid"
	# peek_timeout 1 s + 2 s, in 100 ms steps
	for ((i = 0; i < 30; i++)); do
		gone "$pid" "${workers[@]}" && break
		sleep 0.1
	done
	exec 7>&-
	gone "$pid" "${workers[@]}" || {
		ps -o pid,user,stat,args -p "$(IFS=,; echo "$pid,${workers[*]}")" || true
		false
	}
	rc=0
	wait "$pid" || rc=$?
	SNITCH_PID=
	assert_equal "$rc" 0
	run -0 port_bindable "$PORT"
	run tcp_accepts 127.0.0.1 "$PORT"
	assert_failure
}

@test "SIGTERM: master and workers exit in time, status 0, port free" {
	stop_with TERM
}

@test "SIGINT: master and workers exit in time, status 0, port free" {
	stop_with INT
}
