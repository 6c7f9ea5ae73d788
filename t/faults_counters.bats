#!/usr/bin/env bats
# faults_counters.bats - the counters of `snitch -s` while connections
# are refused and while a worker dies holding some.
#
# snitch(8), DIAGNOSTICS: "at every moment accepted = handoff + alert_* + not_tls +
# timeout + client_gone + error + lost + pending", and a killed worker's
# own pending clients "are closed by the kernel (counted as lost)".

load lib
load lib_faults

setup() {
	snitch_setup
	WORKERS=1
	start_demo alpha
	write_config
	stats_on
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 1
	wait_until pending_is 0
}

@test "the counters add up while a refused client has not closed yet" {
	faults hello nosuch.localhost >"$T/hello.bin"
	# a client that sends its hello, gets alert 112 and keeps the
	# connection open: snitch waits up to a second for its FIN
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	cat "$T/hello.bin" >&7
	wait_until log_has "name=nosuch\.localhost backend=- outcome=alert alert=112"
	local during
	during=$(snitch_stats)
	exec 7>&-
	run stats_add_up "$during"
	assert_success
	wait_until pending_is 0
	stats_add_up "$(snitch_stats)"
}

@test "a worker killed while a refused client has not closed yet: the counters still add up" {
	local worker
	worker=$(worker_pids)
	faults hello nosuch.localhost >"$T/hello.bin"
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	cat "$T/hello.bin" >&7
	wait_until log_has "name=nosuch\.localhost backend=- outcome=alert alert=112"
	# killed within the second snitch waits for that client's FIN
	kill -KILL "$worker"
	exec 7>&-
	wait_until has_workers 1
	wait_until pending_is 0
	run stats_add_up "$(snitch_stats)"
	assert_success
}

@test "a worker killed holding connections: they are closed and counted as lost, the counters add up" {
	local worker
	worker=$(worker_pids)
	# three clients that never send a byte, held by the only worker
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	exec 8<>"/dev/tcp/127.0.0.1/$PORT"
	exec 9<>"/dev/tcp/127.0.0.1/$PORT"
	wait_until pending_is 3
	kill -KILL "$worker"
	# each sees its connection end at once, not at peek_timeout
	run -0 timeout 1 cat <&7
	run -0 timeout 1 cat <&8
	run -0 timeout 1 cat <&9
	exec 7>&- 8>&- 9>&-
	wait_until has_workers 1
	wait_until pending_is 0
	assert_equal "$(counter lost)" 3
	assert_equal "$(counter worker_restarts)" 1
	stats_add_up "$(snitch_stats)"
	run -0 faults clients --name alpha.localhost
	assert_line "answer alpha alpha.localhost"
}

@test "snitch -s prints the counters and exits 0" {
	# the socket: mode 0660, owned by `user` (nobody when run as root)
	run -0 stat -c '%a %F' "$T/stats.sock"
	assert_output "660 socket"
	if is_root; then
		run -0 stat -c '%U' "$T/stats.sock"
		assert_output nobody
	fi
	run timeout 5 "$SNITCH" -s -c "$T/snitch.ini"
	assert_success
	assert_line "generation 1"
	assert_line "accepted 1"
	assert_line "backend alpha handoff 0 fallback 0 down 0 busy 0 errors 0 held 0 rehanded 0"
	refute_output --partial "Sanitizer"
}
