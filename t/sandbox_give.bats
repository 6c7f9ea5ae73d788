#!/usr/bin/env bats
# sandbox_give.bats - a worker taken over cannot give its descriptors
# away.
#
# A build made with SANDBOX_PROBE=1 (once, in setup_file, sanitized like
# the build under test) has its workers act as an attacker would once
# a client's hello took them over (worker/sandbox.c, sandbox_give): for
# the server name sandbox-give.invalid, make a Unix datagram socket,
# connect it to $SNITCH_PROBE_GIVE_TO and send the first listener and
# the access log over it (SCM_RIGHTS); for fdN.sandbox-give.invalid,
# send them over its own descriptor N, addressed to the same socket.
# The attacker (t/attacker.py, another process) records what it gets,
# and accepts a client on any listener it is given.  The worker makes
# no socket and connects nothing (the master connects its channels),
# and passes descriptors on channels only: it dies of SIGSYS, the
# attacker gets nothing, and the restarted workers serve on.

load lib

setup_file() {
	local -a san=()
	snitch_setup_file
	if ldd "$BUILD/snitch-worker" | grep -q libasan; then
		san=(SAN=1)
	fi
	export PROBE_BUILD=$BATS_FILE_TMPDIR/probe
	make -s -C "$SNITCH_ROOT" B="$PROBE_BUILD" SANDBOX_PROBE=1 "${san[@]}" \
	    "$PROBE_BUILD/snitch" "$PROBE_BUILD/snitch-worker" \
	    >"$BATS_FILE_TMPDIR/make.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/make.log" >&2
		return 1
	}
}

# start_attacker - t/attacker.py on $T/attacker/sock, its log attacker.log
start_attacker() {
	mkdir -m 777 "$T/attacker"
	export SNITCH_PROBE_GIVE_TO=$T/attacker/sock
	"$PYTHON" "$SNITCH_ROOT/t/attacker.py" "$SNITCH_PROBE_GIVE_TO" \
	    "$T/attacker.log" &
	track_pid $!
	wait_until test -S "$SNITCH_PROBE_GIVE_TO"
}

# kills - how many workers the master says their sandbox killed
kills() {
	grep -cE 'was killed by its sandbox \(signal 31, SIGSYS\)' \
	    "$T/snitch.log" || true
}

# kills_are N - exactly N so far (a function, for wait_until)
kills_are() {
	[ "$(kills)" -eq "$1" ]
}

# give NAME - a client asking for NAME; its fate does not matter
give() {
	tls --name "$1" >/dev/null 2>&1 || true
}

# attacker_got_nothing - the attacker received no message, no descriptor
attacker_got_nothing() {
	if grep -q 'received' "$T/attacker.log"; then
		cat "$T/attacker.log"
		return 1
	fi
}

@test "a worker taken over cannot give the listener or the access log to another process" {
	local round fd n=0
	SNITCH=$PROBE_BUILD/snitch
	start_attacker
	start_demo alpha
	write_config "access_log = $T/access.log"
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 2
	# a socket of its own, connected to the attacker
	give sandbox-give.invalid
	wait_until log_has 'sandbox_give: connecting a socket of our own'
	n=$((n + 1))
	wait_for 5 kills_are "$n"
	run ! log_has 'still alive'
	# its fixed descriptors: stderr, the control and broker sockets, a
	# listener (each worker restarted after the young-death delay)
	for fd in 2 4 7 8; do
		wait_until has_workers 2
		sleep 2.1
		give "fd$fd.sandbox-give.invalid"
		n=$((n + 1))
		wait_for 5 kills_are "$n"
		run ! log_has 'still alive'
	done
	wait_until has_workers 2
	for ((round = 0; round < 6; round++)); do
		run -0 get_https alpha.localhost
		assert_line "backend=alpha"
	done
	attacker_got_nothing
}
