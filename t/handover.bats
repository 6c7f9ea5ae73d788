#!/usr/bin/env bats
# handover.bats - a backend on libsnitch hands over to its next instance
# without losing a client: the new instance (-r) binds a temporary name
# and renames it over the socket path, the old one, on SIGTERM, takes no
# new handoff, serves every one already sent to it and exits, leaving
# the new instance's socket in place.  snitch_listen never leaves the
# path missing and never follows a symlink planted in the directory.

load lib
load lib_faults

setup() {
	handover_setup
}

teardown() {
	snitch_teardown
}

# handover NAME - start a new instance of demo NAME with -r on its socket,
# wait until the path is the new one's, SIGTERM the old one and wait for
# it to exit (at most 10 s); OLD: the old pid
handover() {
	take_over "$1" "$T/demo-$1.log" "$SNITCH_DEMO" -r -s "$T/$1.sock" \
	    -n "$1" -c "$T/cert.pem" -k "$T/key.pem"
}

# connect_loop PATH SECONDS - connect to the SOCK_SEQPACKET socket PATH
# again and again for SECONDS; prints "connects=N enoent=N refused=N
# other=N"
connect_loop() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import errno, socket, sys, time
path, end = sys.argv[1], time.monotonic() + float(sys.argv[2])
n = {"connects": 0, "enoent": 0, "refused": 0, "other": 0}
while time.monotonic() < end:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(path)
        n["connects"] += 1
    except FileNotFoundError:
        n["enoent"] += 1
    except ConnectionRefusedError:
        n["refused"] += 1
    except OSError:
        n["other"] += 1
    s.close()
print(" ".join("%s=%d" % kv for kv in n.items()))
EOF
}

@test "three handovers under load: every client served, the old instances exit" {
	start_demo alpha
	start_snitch
	"$PYTHON" "$BATS_TEST_DIRNAME/faults_clients.py" load --port "$PORT" \
	    --names alpha.localhost=alpha --concurrency 20 --seconds 8 \
	    >"$T/load.out" 2>&1 3>&- &
	local load=$! i
	for i in 1 2 3; do
		sleep 1.5
		handover alpha
		alive "${DEMO_PIDS[alpha]}"
	done
	wait "$load"
	# at least a hundred clients, none failed
	load_served "$T/load.out" 100
	run -1 grep -c "outcome=alert" "$T/snitch.log"
	wait_until eval '[ "$(counter pending)" = 0 ]'
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
}

@test "snitch_listen replacing a live instance never leaves the path missing or refusing" {
	start_demo alpha
	connect_loop "$T/alpha.sock" 4 >"$T/loop.out" &
	local loop=$! i
	for i in 1 2 3 4 5; do
		sleep 0.5
		handover alpha
	done
	wait "$loop"
	run -0 cat "$T/loop.out"
	assert_output --regexp '^connects=[1-9][0-9]* enoent=0 refused=0 other=0$'
}

@test "without -r a second instance is refused and the first keeps its socket" {
	start_demo alpha
	local ino
	ino=$(stat -c %i "$T/alpha.sock")
	run -1 "$SNITCH_DEMO" -s "$T/alpha.sock" -n two -c "$T/cert.pem" \
	    -k "$T/key.pem"
	assert_output --partial "Address already in use"
	assert_equal "$(stat -c %i "$T/alpha.sock")" "$ino"
	run -0 find "$T" -name '.alpha.sock.*'
	assert_output ""
}

@test "the old instance leaves the new instance's socket in place and exits" {
	start_demo alpha
	start_snitch
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	local ino
	handover alpha
	ino=$(stat -c %i "$T/alpha.sock")
	[ -S "$T/alpha.sock" ]
	unix_listening "$T/alpha.sock"
	grep -q "stopped" "$T/demo-alpha.log"
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	assert_equal "$(stat -c %i "$T/alpha.sock")" "$ino"
	# No temporary name left behind by either instance.
	run -0 find "$T" -name '.alpha.sock.*'
	assert_output ""
	# Stopped with nobody to take over, the socket file goes with it.
	stop_demo alpha
	[ ! -e "$T/alpha.sock" ]
}

@test "handoffs queued in the old instance's channel when it is told to stop are served" {
	start_demo alpha
	start_snitch
	# the channels are up, of version 2
	run -0 tls --name alpha.localhost
	run -0 tls --name alpha.localhost
	kill -STOP "${DEMO_PIDS[alpha]}"
	local -a pids=()
	local i old
	for i in 1 2 3 4 5 6; do
		tls --name alpha.localhost >"$T/client$i.out" 2>&1 &
		pids+=($!)
	done
	wait_until eval '[ "$(grep -c "name=alpha.localhost backend=alpha outcome=handoff" "$T/snitch.log")" -ge 8 ]'
	old=${DEMO_PIDS[alpha]}
	track_pid "$old"
	start_backend "$T/alpha.sock" "$T/demo-new.log" "$SNITCH_DEMO" -r \
	    -s "$T/alpha.sock" -n alpha -c "$T/cert.pem" -k "$T/key.pem"
	DEMO_PIDS[alpha]=$BACKEND_PID
	kill -TERM "$old"
	kill -CONT "$old"
	for i in 1 2 3 4 5 6; do
		wait "${pids[$((i - 1))]}" || true
		run -0 cat "$T/client$i.out"
		assert_line "backend=alpha"
	done
	wait_for 10 gone "$old"
	# the old instance served them: it received them before it exited
	[ "$(grep -c "server_name=alpha.localhost ech=0 done" "$T/demo-alpha.log")" -ge 8 ]
	run -1 grep -c "outcome=alert" "$T/snitch.log"
	wait_until eval '[ "$(counter pending)" = 0 ]'
}

@test "snitch_listen never follows a symlink: not at the path, not while racing for it" {
	is_root || skip "needs root: the attack is on a root backend"
	local secret=$T/secret before
	echo secret >"$secret"
	chmod 600 "$secret"
	before=$(stat -c '%a %U' "$secret")
	ln -s "$secret" "$T/evil.sock"
	run -1 "$SNITCH_DEMO" -s "$T/evil.sock" -n evil -m 0666 \
	    -c "$T/cert.pem" -k "$T/key.pem"
	run -1 "$SNITCH_DEMO" -r -s "$T/evil.sock" -n evil -m 0666 \
	    -c "$T/cert.pem" -k "$T/key.pem"
	assert_equal "$(stat -c '%a %U' "$secret")" "$before"
	[ -L "$T/evil.sock" ]
	# A racer swapping every name in the directory for a symlink to the
	# secret while root backends start, over and over.
	"$PYTHON" - "$T" "$secret" 3 <<'EOF' &
import os, sys, time
d, secret, end = sys.argv[1], sys.argv[2], time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    for name in os.listdir(d):
        if name.startswith(".evil.sock.") or name == "evil.sock":
            p = os.path.join(d, name)
            try:
                os.unlink(p)
                os.symlink(secret, p)
            except OSError:
                pass
EOF
	local racer=$! i pid
	for i in $(seq 1 20); do
		rm -f "$T/evil.sock"
		"$SNITCH_DEMO" -r -s "$T/evil.sock" -n evil -m 0666 \
		    -c "$T/cert.pem" -k "$T/key.pem" 2>>"$T/evil.log" &
		pid=$!
		sleep 0.05
		stop_pid "$pid" 2
	done
	wait "$racer"
	assert_equal "$(stat -c '%a %U' "$secret")" "$before"
	assert_equal "$(cat "$secret")" "secret"
}

# echo_load PORT SECONDS - 10 clients at a time for SECONDS, each sending
# a ClientHello for relay.localhost through snitch to an echo target and
# reading it back whole; prints "clients N failed N"
echo_load() {
	"$PYTHON" - "$1" "$2" "$BATS_TEST_DIRNAME" <<'PY'
import socket, sys, threading, time
sys.path.insert(0, sys.argv[3])
import tlshello
port, end = int(sys.argv[1]), time.monotonic() + float(sys.argv[2])
_, hello = tlshello.first_flight(tlshello.make_context(), "relay.localhost")
n = {"clients": 0, "failed": 0}
lock = threading.Lock()
def one():
    got = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(hello)
            while len(got) < len(hello):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
    except OSError:
        pass
    return got == hello
def loop():
    while time.monotonic() < end:
        ok = one()
        with lock:
            n["clients"] += 1
            n["failed"] += not ok
threads = [threading.Thread(target=loop) for _ in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("clients %d failed %d" % (n["clients"], n["failed"]))
PY
}

@test "snitch-relay's restart signal (SIGUSR2) under load: its next instance takes over, MAINPID says so, no client fails" {
	local echo_port notify pid i
	echo_port=$(free_port)
	"$PYTHON" -c '
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
def serve(c):
    with c:
        while data := c.recv(65536):
            c.sendall(data)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
' "$echo_port" </dev/null >>"$T/echo.log" 2>&1 3>&- &
	track_pid $!
	wait_until tcp_accepts 127.0.0.1 "$echo_port"
	notify="$T/notify.sock"
	"$PYTHON" "$BATS_TEST_DIRNAME/notify_recv.py" "$notify" "$T/notify.out" \
	    </dev/null 3>&- &
	track_pid $!
	wait_until test -e "$T/notify.out"
	chmod 0666 "$notify"	# the relay may run as another user
	write_config
	add_backend relay relay.localhost
	NOTIFY_SOCKET=$notify start_relay "127.0.0.1:$echo_port"
	start_snitch
	echo_load "$PORT" 6 >"$T/load.out" 3>&- &
	local load=$!
	pid=$RELAY_PID
	for i in 1 2; do
		sleep 1.5
		kill -USR2 "$pid"
		# the old one names its successor, then stops and exits
		wait_until grep -q "^pid=$pid|MAINPID=" "$T/notify.out"
		wait_for 10 gone "$pid"
		pid=$(sed -n "s/^pid=$pid|MAINPID=\\([0-9]*\\)$/\\1/p" "$T/notify.out")
		track_pid "$pid"
		alive "$pid"
	done
	wait "$load"
	run -0 cat "$T/load.out"
	[[ "$output" =~ ^clients\ ([0-9]+)\ failed\ 0$ ]]
	[ "${BASH_REMATCH[1]}" -ge 50 ]
	run -0 grep -c "restart: pid [0-9]* took $T/relay.sock over" "$T/relay.log"
	assert_output 2
	run -1 grep -c "outcome=alert" "$T/snitch.log"
}
