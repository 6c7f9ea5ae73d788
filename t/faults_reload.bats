#!/usr/bin/env bats
# faults_reload.bats - SIGHUP and SIGTERM while clients are coming in.
#
# A reload (valid or not) under 20 concurrent clients fails none of them
# and resets none; a SIGTERM lets the clients already sending their
# hello (slowly) be routed, then master and workers exit within
# peek_timeout + 2 s.

load lib
load lib_faults

setup() {
	snitch_setup
	start_demo alpha
	start_demo beta
}

# handoffs_after TEXT N - snitch.log has N handoffs after the line with TEXT
handoffs_after() {
	[ "$(sed -n "/$1/,\$p" "$T/snitch.log" | grep -c 'outcome=handoff')" -ge "$2" ]
}

# config_v1 - alpha and beta
config_v1() {
	write_config
	stats_on
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost
}

# config_v2 - as v1, and beta also takes gamma.localhost
config_v2() {
	config_v1
	sed -i 's/^names = beta.localhost$/names = beta.localhost gamma.localhost/' \
	    "$T/snitch.ini"
}

# config_bad - v2 with a line snitch refuses
config_bad() {
	config_v2
	echo "bogus = 1" >>"$T/snitch.ini"
}

@test "SIGHUP twice under 20 concurrent clients (one valid file, one invalid): no client fails" {
	local -a old
	local result
	config_v1
	start_snitch
	wait_until has_workers 2
	mapfile -t old < <(worker_pids)
	faults_bg "$T/load.out" load --names alpha.localhost=alpha,beta.localhost=beta \
	    --concurrency 20 --seconds 30 --until "$T/stop"
	local load=$FAULTS_PID
	# each reload comes after 20 handoffs under load, and the load goes
	# on for 20 more after the second one
	wait_for 10 eval '[ "$(log_count "outcome=handoff")" -ge 20 ]'
	config_v2	# the master reads it only on SIGHUP
	kill -HUP "$SNITCH_PID"
	wait_until log_has "reload: configuration generation 2 loaded"
	wait_for 10 handoffs_after "configuration generation 2 loaded" 20
	config_bad
	kill -HUP "$SNITCH_PID"
	wait_until log_has "reload: .*snitch\.ini:[0-9]+: .*keeping the running configuration"
	wait_for 10 handoffs_after "keeping the running configuration" 20
	touch "$T/stop"
	wait_pid_for 20 "$load"
	cat "$T/load.out"	# shown if the test fails
	run -0 cat "$T/load.out"
	result=${lines[0]}
	[[ $result =~ ^clients\ ([0-9]+)\ ok\ ([0-9]+)\ failed\ 0\ resets\ 0$ ]]
	[ "${BASH_REMATCH[1]}" -ge 60 ]
	assert_equal "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}"
	# the valid file took effect, the invalid one changed nothing
	run -0 faults clients --name gamma.localhost
	assert_line "answer beta gamma.localhost"
	wait_until gone "${old[@]}"
	wait_until has_workers 2
	# (snitch -s reads the file for the stats path: make it valid again)
	config_v2
	assert_equal "$(counter generation)" 2
}

@test "SIGTERM while clients send their hello slowly: they are routed, everything exits within peek_timeout + 2 s" {
	local -a workers
	local pid i rc
	PEEK_TIMEOUT=3s
	config_v1
	start_snitch
	wait_until has_workers 2
	mapfile -t workers < <(worker_pids)
	pid=$SNITCH_PID
	# 10 clients, each sending its hello in 20 pieces 50 ms apart (1 s)
	faults_bg "$T/slow.out" clients --name alpha.localhost --count 10 \
	    --chunks 20 --delay 0.05 --timeout 10
	local slow=$FAULTS_PID
	wait_until pending_is 10
	kill -TERM "$pid"
	# peek_timeout 3 s + 2 s, in 100 ms steps
	for ((i = 0; i < 50; i++)); do
		gone "$pid" "${workers[@]}" && break
		sleep 0.1
	done
	echo "gone after $i polls of 100 ms"
	gone "$pid" "${workers[@]}"
	rc=0
	wait "$pid" || rc=$?
	SNITCH_PID=
	assert_equal "$rc" 0
	wait_pid_for 10 "$slow"
	run -0 cat "$T/slow.out"
	assert_equal "$(count_lines '^answer alpha alpha\.localhost$' "$T/slow.out")" 10
	assert_line "done 10"
	assert_equal "$(log_count 'name=alpha\.localhost backend=alpha outcome=handoff alpn=')" 10
	assert log_has "stopping; finishing [0-9]+ connections"
	run -0 port_bindable "$PORT"
}
