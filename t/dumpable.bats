#!/usr/bin/env bats
# dumpable.bats - no process of SNItch's user can copy SNItch's
# descriptors: every SNItch process is non-dumpable (common/dumpable.c).
#
# The attack, as a security review ran it: a process of the run-as user
# (here nobody, through setpriv) calls pidfd_getfd(2) (t/getfd.py) on a
# worker's listening socket, and on the master's and snitch-stats'; a
# copy of the listener accepts SNItch's clients and can clear its
# O_NONBLOCK.  Each must now fail with EPERM, and the worker's
# /proc/PID/fd be unreadable to that user.  The backend programs
# (snitch-demo, snitch-relay, snitch-exec) are not dumpable either,
# while what snitch-exec runs is, as any program; `sandbox = off` makes
# workers dumpable again on purpose (strace, cores).  Needs root.

load lib

setup() {
	is_root || skip "needs root: the attacker is another process of user nobody"
	snitch_setup
	start_demo alpha
	SPORT=$(free_port)
	# from $T: nobody may not reach the tree (a clone in a private
	# directory)
	GETFD=$T/getfd.py
	cp "$SNITCH_ROOT/t/getfd.py" "$GETFD"
	chmod 0644 "$GETFD"
}

teardown() {
	snitch_teardown
}

# as_nobody CMD... - CMD as user nobody, as the attacker runs
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# nobody_refused PID FD - pidfd_getfd of PID's FD, as user nobody, fails
# with EPERM
nobody_refused() {
	run -1 as_nobody "$PYTHON" "$GETFD" "$1" "$2"
	assert_output "refused EPERM"
}

# plain_client - a client of 127.0.0.1:$PORT that speaks no TLS (so
# `non_tls` gets it): sends 18 bytes, prints all it gets until EOF
plain_client() {
	"$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.settimeout(5)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
out = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
' "$PORT"
}

# start_snitch_stats [LINE...] - snitch as root with user nobody, one
# worker and snitch-stats on 127.0.0.1:$SPORT
start_snitch_stats() {
	WORKERS=1
	write_config "stats = 127.0.0.1:$SPORT" "$@"
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 1
	wait_until test -n "$(stats_pid)"
}

@test "pidfd_getfd by the run-as user: the worker's, master's and snitch-stats' sockets are refused" {
	local worker wfd fd
	start_snitch_stats
	worker=$(worker_pids)
	# the worker's listener (WCONF_LISTEN_FD) and the master's copy
	wfd=$(listen_fd "$worker")
	[ -n "$wfd" ]
	nobody_refused "$worker" "$wfd"
	fd=$(listen_fd "$SNITCH_PID")
	[ -n "$fd" ]
	nobody_refused "$SNITCH_PID" "$fd"
	# snitch-stats' listening stats socket (SNAPSHOT_LISTEN_FD)
	nobody_refused "$(stats_pid)" 3
	# nor can that user list what a worker holds
	run ! as_nobody ls "/proc/$worker/fd"
	assert_output --partial "Permission denied"
	# the attack itself works: root (CAP_SYS_PTRACE) copies the listener
	run -0 "$PYTHON" "$GETFD" "$worker" "$wfd"
	assert_output "copied"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}

@test "started unprivileged (no privilege drop), the master and worker are not dumpable either" {
	local worker fd
	WORKERS=1
	# no `user`: started as nobody it runs as it is
	write_config
	sed -i '/^user = /d' "$T/snitch.ini"
	add_backend alpha alpha.localhost
	# snitch with its snitch-worker and snitch-stats beside it (it
	# execs them from its own directory) in $T, which nobody can reach
	# whatever the tree's directories are
	mkdir -m 0755 "$T/bin"
	cp "$SNITCH" "$BUILD/snitch-worker" "$BUILD/snitch-stats" "$T/bin/"
	start_snitch_cmd setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$T/bin/snitch" -c "$T/snitch.ini"
	wait_until has_workers 1
	worker=$(worker_pids)
	fd=$(listen_fd "$SNITCH_PID")
	[ -n "$fd" ]
	nobody_refused "$SNITCH_PID" "$fd"
	nobody_refused "$worker" "$(listen_fd "$worker")"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}

@test "the backend programs are not dumpable; a program snitch-exec runs is, as any program" {
	local pid
	# snitch-demo, as start_demo ran it (as nobody)
	nobody_refused "${DEMO_PIDS[alpha]}" 0
	start_relay 127.0.0.1:1
	nobody_refused "$RELAY_PID" 0
	# snitch-exec, and the program it runs for a client: that one
	# copies a descriptor of its own shell (its parent), as any
	# program of its user may
	start_backend "$T/exec.sock" "$T/exec.log" "$BUILD/snitch-exec" \
	    -s "$T/exec.sock" -- /bin/sh -c \
	    "head -c 18 >/dev/null; $PYTHON $GETFD \$\$ 0; echo status=\$?"
	pid=$BACKEND_PID
	track_pid "$pid"
	nobody_refused "$pid" 0
	write_config "non_tls = exec"
	add_backend exec exec.localhost
	start_snitch
	run -0 plain_client
	assert_line "copied"
	assert_line "status=0"
}

@test "sandbox = off: workers are dumpable again, for strace and cores, and the log says so" {
	local worker
	start_snitch_stats "sandbox = off"
	worker=$(worker_pids)
	run -0 as_nobody "$PYTHON" "$GETFD" "$worker" "$(listen_fd "$worker")"
	assert_output "copied"
	log_has "SANDBOX OFF: this worker runs .* and dumpable"
	# the master and snitch-stats stay as they are
	nobody_refused "$SNITCH_PID" "$(listen_fd "$SNITCH_PID")"
	nobody_refused "$(stats_pid)" 3
}
