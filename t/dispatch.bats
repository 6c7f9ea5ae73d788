#!/usr/bin/env bats
# dispatch.bats - the policy for a backend that cannot take a client
# now (worker/dispatch.c): a busy backend's queue is retried on its own
# timer, not on every wakeup of the worker; a client its backend cannot
# take goes to the fallback's queue and waits there in its turn, even
# when the fallback is busy too.

load lib
load lib_faults

setup() {
	snitch_setup
	WORKERS=1
	start_demo alpha
}

# backend_busy NAME SECONDS - t/busy.py slow on $T/NAME.sock: receives
# nothing for SECONDS, then everything
backend_busy() {
	"$PYTHON" "$BATS_TEST_DIRNAME/busy.py" slow "$T/$1.sock" "$2" \
	    </dev/null >>"$T/$1.log" 2>&1 3>&- &
	track_pid $!
	wait_until unix_listening "$T/$1.sock"
}

@test "a busy queue is retried on its timer, not on every wakeup" {
	"$PYTHON" "$BATS_TEST_DIRNAME/busy.py" stuck "$T/stuck.sock" \
	    </dev/null >>"$T/stuck.log" 2>&1 3>&- &
	track_pid $!
	wait_until unix_listening "$T/stuck.sock"
	write_config
	stats_on
	set_key handoff_timeout 2s
	add_backend alpha alpha.localhost
	add_backend stuck stuck.localhost
	start_snitch
	# Enough clients to fill the channel: the rest wait in its queue.
	# A long ALPN offer (20 names of 100 bytes) makes each handoff
	# large, so that the channel's buffer is full (EAGAIN, counted as
	# queue_full) before the worker's cap on what a backend may hold
	# unreceived says busy (without a send).
	local alpn
	alpn=$(printf 'p%099d,' $(seq 1 20))
	BUSY_ALPN=${alpn%,} busy_crowd "$T/crowd.out" stuck.localhost 400 4
	local crowd=$CROWD_PID
	wait_until log_has "backend=stuck outcome=handoff"
	# Meanwhile the worker is woken about a thousand times a second.
	run -0 "$PYTHON" "$BATS_TEST_DIRNAME/busy.py" dribble 127.0.0.1 \
	    "$PORT" alpha.localhost 1.5
	wait "$crowd"
	# Each retry is one failed send: at most one per 20 ms timer while
	# clients waited (2 s), plus the first; once per wakeup it was
	# about 1,500.
	local full
	full=$(snitch_stats | awk '$1 == "handoff_failures" { print $5 }')
	[ -n "$full" ]
	echo "queue_full: $full" >&3
	[ "$full" -gt 0 ]
	[ "$full" -le 250 ]
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
}

@test "a busy fallback: clients of a down backend wait in its queue, in turn" {
	backend_busy beta 1
	write_config
	stats_on
	set_key handoff_timeout 3s
	add_backend alpha alpha.localhost
	add_backend gone gone.localhost		# never started: down
	set_fallback gone beta
	add_backend beta beta.localhost
	start_snitch
	# More than beta's channel holds before it receives, half for beta
	# itself, half for gone, interleaved.
	busy_crowd "$T/crowd-beta.out" beta.localhost 300 5
	local crowd_beta=$CROWD_PID
	busy_crowd "$T/crowd-gone.out" gone.localhost 300 5
	local crowd_gone=$CROWD_PID
	wait "$crowd_beta" "$crowd_gone"
	# No refusal: every client went to beta once it received.
	run -0 cat "$T/crowd-beta.out"
	assert_output "alert80=0 other=0 silent=300"
	run -0 cat "$T/crowd-gone.out"
	assert_output "alert80=0 other=0 silent=300"
	wait_until grep -qx "received 600" "$T/beta.log"
	run -0 grep -c "name=gone.localhost backend=beta outcome=handoff fallback_of=gone" \
	    "$T/snitch.log"
	assert_output 300
	run -1 grep -c "outcome=alert" "$T/snitch.log"
	assert_output 0
	assert_equal "$(backend_stat beta fallback)" 300
	assert_equal "$(backend_stat beta handoff)" 600
	assert_equal "$(backend_stat gone down)" 0
}

@test "snitch-worker by hand, or with options out of range: usage, never a start" {
	local args
	for args in "" "-i 1x -l 1" "-i -1 -l 1" "-i 0 -l 0" "-i 0 -l 1x" \
	    "-i 0 -g 4294967296 -l 1" "-i 99999999999999999999 -l 1"; do
		# shellcheck disable=SC2086
		run -1 "$BUILD/snitch-worker" $args
		assert_line "snitch-worker is started by snitch, not by hand"
	done
}

@test "a handed socket is in blocking mode, as PROTOCOL says" {
	"$PYTHON" - "$T/probe.sock" >"$T/probe.out" 2>&1 3>&- <<'PY' &
import fcntl, os, socket, sys
srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
srv.listen(1)
ch, _ = srv.accept()
_, fds, _, _ = socket.recv_fds(ch, 512, 1)
flags = fcntl.fcntl(fds[0], fcntl.F_GETFL)
print("nonblock" if flags & os.O_NONBLOCK else "blocking", flush=True)
PY
	track_pid $!
	wait_until unix_listening "$T/probe.sock"
	write_config
	add_backend probe probe.localhost
	start_snitch
	run tls --name probe.localhost
	wait_until grep -q . "$T/probe.out"
	run -0 cat "$T/probe.out"
	assert_output "blocking"
}
