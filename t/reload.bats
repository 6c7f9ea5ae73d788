#!/usr/bin/env bats
# reload.bats - SIGHUP re-reads the configuration: a bad file changes
# nothing (and says where it is bad), a good one takes effect within
# seconds, in the same master, without failing a single connection.

load lib

setup() {
	snitch_setup
	start_demo alpha
	start_demo beta
	write_config
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost
	start_snitch
}

# routes NAME BACKEND - a client for NAME gets BACKEND's answer
routes() {
	tls --name "$1" 2>/dev/null | grep -qx "backend=$2"
}

@test "SIGHUP with an invalid file keeps the old routes and logs file:line" {
	local line master=$SNITCH_PID
	routes alpha.localhost alpha
	echo "bogus = 1" >>"$T/snitch.ini"
	line=$(wc -l <"$T/snitch.ini")
	kill -HUP "$SNITCH_PID"
	wait_until log_has "$T/snitch\.ini:$line: "
	assert log_has "$T/snitch\.ini:$line: .*keeping|keeping.*$T/snitch\.ini:$line: "
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	run -0 tls --name beta.localhost
	assert_line "backend=beta"
	[ "$SNITCH_PID" = "$master" ]
	alive "$master"
}

@test "SIGHUP with a valid file: new names route, old ones still do" {
	local master=$SNITCH_PID
	local -a old
	run -3 tls --name gamma.localhost
	assert_output "alert 112"
	wait_until has_workers 2
	mapfile -t old < <(worker_pids)
	write_config
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost gamma.localhost
	kill -HUP "$SNITCH_PID"
	wait_until routes gamma.localhost beta
	run -0 get_https gamma.localhost
	assert_line "backend=beta"
	assert_line "tls_server_name=gamma.localhost"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	run -0 get_https beta.localhost
	assert_line "backend=beta"
	# the same master; its old workers, holding nothing, are gone
	alive "$master"
	run -0 ps -o comm= -p "$master"
	assert_output --partial snitch
	wait_until gone "${old[@]}"
	wait_until has_workers 2
}

@test "no connection fails while snitch reloads" {
	local loop done_count
	local -a old
	wait_until has_workers 2
	mapfile -t old < <(worker_pids)
	(
		for i in $(seq 50); do
			if curl -sk -m 5 --resolve "alpha.localhost:$PORT:127.0.0.1" \
			    "https://alpha.localhost:$PORT/" | grep -qx 'backend=alpha'; then
				echo ok
			else
				echo "failed $i"
			fi >>"$T/loop.out"
		done
	) 3>&- &
	loop=$!
	track_pid "$loop"
	# reload three times while the loop runs
	for done_count in 10 25 40; do
		wait_until loop_reached "$done_count"
		kill -HUP "$SNITCH_PID"
	done
	wait "$loop"
	run -0 cat "$T/loop.out"
	refute_output --partial failed
	assert_equal "$(grep -c '^ok$' "$T/loop.out")" 50
	# and the reloads did happen: the first workers are gone
	wait_until gone "${old[@]}"
	alive "$SNITCH_PID"
}

# loop_reached N - the request loop has done N requests
loop_reached() {
	[ -f "$T/loop.out" ] && [ "$(wc -l <"$T/loop.out")" -ge "$1" ]
}
