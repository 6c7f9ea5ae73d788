#!/usr/bin/env bats
# reload_restart.bats - a reload of a file that changes a key only a
# restart can apply (listen, defer_accept, stats ...): the running value
# stays, and every reload says so, as long as the file differs: in the
# log, and in the STATUS told to a service manager (a fake NOTIFY_SOCKET,
# t/notify_recv.py).  The old listener serves; the new address is never
# bound.

load lib

setup() {
	snitch_setup
	start_demo alpha
	start_notify "$T/notify"
	write_config
	add_backend alpha alpha.localhost
	start_snitch_under env NOTIFY_SOCKET="$T/notify"
	wait_until notified 1
}

# warnings KEY - how many reloads warned that KEY needs a restart
warnings() {
	grep -cE "reload: $1( [a-z ]+)? changed; that needs a restart" \
	    "$T/snitch.log" || true
}

# reload_to GEN - SIGHUP; wait until generation GEN is loaded and READY=1
# (the datagram after RELOADING=1) has come
reload_to() {
	kill -HUP "$SNITCH_PID"
	wait_until log_has "reload: configuration generation $1 loaded"
	wait_until notified $((2 * $1 - 1))
}

@test "listen changed: both reloads warn, STATUS keeps the note, the old listener serves, the new address is not bound" {
	local new
	new=$(free_port)
	sed -i "s/^listen = .*/listen = 127.0.0.1:$new/" "$T/snitch.ini"
	reload_to 2
	assert_equal "$(warnings listen)" 1
	run -0 datagram 3
	assert_output "pid=$SNITCH_PID|READY=1|STATUS=serving 2 workers, 1 backends, generation 2; listen changed, needs a restart"
	# the same file again: it still differs from what runs
	reload_to 3
	assert_equal "$(warnings listen)" 2
	run -0 datagram 5
	assert_output "pid=$SNITCH_PID|READY=1|STATUS=serving 2 workers, 1 backends, generation 3; listen changed, needs a restart"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	run tcp_accepts 127.0.0.1 "$new"
	assert_failure
	run -0 port_bindable "$new"
	# the file as it runs again: no warning, no note
	sed -i "s/^listen = .*/listen = $LISTEN/" "$T/snitch.ini"
	reload_to 4
	assert_equal "$(warnings listen)" 2
	run -0 datagram 7
	assert_output "pid=$SNITCH_PID|READY=1|STATUS=serving 2 workers, 1 backends, generation 4"
}

@test "defer_accept and stats changed: every reload names both, STATUS too; no stats socket appears" {
	sed -i "/^\[snitch\]/a defer_accept = 3s\nstats = $T/stats.sock" \
	    "$T/snitch.ini"
	reload_to 2
	reload_to 3
	assert_equal "$(warnings stats)" 2
	assert_equal "$(warnings defer_accept)" 2
	run -0 datagram 5
	assert_output "pid=$SNITCH_PID|READY=1|STATUS=serving 2 workers, 1 backends, generation 3; stats, defer_accept changed, needs a restart"
	[ ! -e "$T/stats.sock" ]
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}
