#!/usr/bin/env bats
# python.bats - the Python module (python/snitch) behind a real snitch:
# python/examples/https_server.py, blocking (socketserver) and asyncio,
# answers curl with the address curl used and the server name; it
# acknowledges every handoff (nothing stays pending, none handed again);
# SNITCH_PEER_UID closes another user's channel; and a handover (-r,
# then SIGTERM to the old instance) loses no client under load.  The
# message checks themselves are python/tests/snitch_test.py's
# (build/t/python_snitch_test).

load lib
load lib_faults

setup() {
	handover_setup
	# the module and the example from $T: the backend runs as nobody,
	# who may not reach the tree (a clone in a private directory)
	cp -r "$SNITCH_ROOT/python" "$T/python"
	chmod -R a+rX "$T/python"
	HTTPS_PY=$T/python/examples/https_server.py
}

teardown() {
	snitch_teardown
}

# start_py NAME [ARGS...] - https_server.py on $T/NAME.sock (as nobody
# when root, like the demos), its log in $T/py-NAME.log, its pid in
# DEMO_PIDS[NAME]
start_py() {
	local name=$1 rc=0
	shift
	start_backend "$T/$name.sock" "$T/py-$name.log" "$PYTHON" "$HTTPS_PY" \
	    -s "$T/$name.sock" -n "$name" -c "$T/cert.pem" -k "$T/key.pem" \
	    "$@" || rc=$?
	DEMO_PIDS[$name]=$BACKEND_PID
	return "$rc"
}

# round_trip - curl through snitch to backend alpha: the answer names
# alpha and the server name, and both the handoff's client address and
# getpeername on the received socket are curl's own address and port
round_trip() {
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
	assert_line "local=127.0.0.1:$PORT"
	assert_line "alpn=h2,http/1.1"
	local port
	port=$(answer local_port)
	[ -n "$port" ]
	assert_line "client=127.0.0.1:$port"
	assert_line "peer=127.0.0.1:$port"
}

@test "python, blocking (socketserver): curl gets its own address and the server name" {
	start_py alpha
	start_snitch
	round_trip
	round_trip
}

@test "python, asyncio: curl gets its own address and the server name" {
	start_py alpha --asyncio
	start_snitch
	round_trip
	round_trip
}

# hold_client SECONDS - a TLS client for alpha.localhost that completes
# its handshake, then holds the connection SECONDS, sending nothing; its
# pid in HOLD_PID
hold_client() {
	timeout 20 "$PYTHON" - "$PORT" "$1" <<'EOF' &
import socket, ssl, sys, time
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
t = ctx.wrap_socket(s, server_hostname="alpha.localhost")
time.sleep(float(sys.argv[2]))
EOF
	HOLD_PID=$!
	track_pid "$HOLD_PID"
}

@test "python gets a load balancer's TLVs and client: a PROXY v2 header with a unique id in front" {
	write_config "proxy_protocol = $LISTEN" "proxy_from = 127.0.0.1/32"
	add_backend alpha alpha.localhost
	start_py alpha --asyncio
	start_snitch
	# a balancer's header (client 127.0.0.5:4242, TLV 0x05), then TLS
	run -0 timeout 20 "$PYTHON" - "$PORT" <<'EOF'
import socket, ssl, struct, sys
port = int(sys.argv[1])
body = socket.inet_aton("127.0.0.5") + socket.inet_aton("127.0.0.1") + \
    struct.pack(">HH", 4242, port) + b"\x05" + struct.pack(">H", 6) + b"uid-42"
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"\r\n\r\n\0\r\nQUIT\n\x21\x11" + struct.pack(">H", len(body)) + body)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="alpha.localhost")
t.sendall(b"GET / HTTP/1.1\r\nHost: alpha.localhost\r\n\r\n")
got = b""
while chunk := t.recv(4096):
    got += chunk
print(got.decode())
EOF
	assert_line "server_name=alpha.localhost"
	assert_line "client=127.0.0.5:4242"
	assert_line "unique_id=$(hex uid-42)"
	# the received socket is still the balancer's connection
	assert_line --regexp "^peer=127\.0\.0\.1:[0-9]+$"
}

# acked [ARGS...] - https_server.py ARGS acknowledges: a client still
# connected is no longer pending in snitch (without an ACK it would be
# for 10 s), five more are counted as handed off, none handed again
acked() {
	start_py alpha "$@"
	start_snitch
	hold_client 8
	wait_until eval '[ "$(backend_stat alpha handoff)" = 1 ]'
	wait_until eval '[ "$(counter pending)" = 0 ]'
	alive "$HOLD_PID"
	local i
	for i in 1 2 3 4 5; do
		run -0 get_https alpha.localhost
		assert_line "backend=alpha"
	done
	wait_until eval '[ "$(counter pending)" = 0 ]'
	assert_equal "$(backend_stat alpha handoff)" 6
	run -1 grep -c "rehanded" "$T/snitch.log"
}

@test "python acknowledges every handoff: nothing stays pending (blocking)" {
	acked
}

@test "python acknowledges every handoff: nothing stays pending (asyncio)" {
	acked --asyncio
}

@test "python with SNITCH_HANDOFF_VERSION=1 works as a backend of version 1" {
	SNITCH_HANDOFF_VERSION=1 start_py alpha
	start_snitch
	round_trip
	wait_until eval '[ "$(counter pending)" = 0 ]'
	assert_equal "$(backend_stat alpha handoff)" 1
}

# channel_from PATH - connect to PATH as this user: "closed" when the
# channel is closed unread, "hello" when the backend said HELLO
channel_from() {
	timeout 20 "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(10)
try:
    print("closed" if s.recv(64) == b"" else "hello")
except ConnectionResetError:
    print("closed")
' "$1"
}

@test "python with SNITCH_PEER_UID: snitch's channels kept, another user's closed unread" {
	is_root || skip "needs root: the backend and snitch run as nobody"
	SNITCH_PEER_UID=nobody start_py alpha -m 0666
	start_snitch
	round_trip
	# root is not nobody: its channel is closed before anything is read
	run -0 channel_from "$T/alpha.sock"
	assert_output "closed"
	round_trip
}

@test "python with -u naming another user: snitch's channels are refused" {
	is_root || skip "needs root: the backend and snitch run as nobody"
	set_key handoff_timeout 1s
	start_py alpha -u root
	start_snitch
	run get_https alpha.localhost
	refute_line "backend=alpha"
	run -0 channel_from "$T/alpha.sock"
	assert_output "hello"
}

@test "python refuses to start with SNITCH_PEER_UID naming no user" {
	run -1 env SNITCH_PEER_UID=no-such-user-snitch "$PYTHON" "$HTTPS_PY" \
	    -s "$T/x.sock" -n x -c "$T/cert.pem" -k "$T/key.pem"
	assert_output --partial "no-such-user-snitch: no such user"
	[ ! -e "$T/x.sock" ]
}

# py_handover [ARGS...] - a new https_server.py ARGS -r on alpha's socket,
# then SIGTERM to the old one, which must exit within 10 s
py_handover() {
	take_over alpha "$T/py-alpha.log" "$PYTHON" "$HTTPS_PY" -r \
	    -s "$T/alpha.sock" -n alpha -c "$T/cert.pem" -k "$T/key.pem" "$@"
}

# handovers [ARGS...] - three handovers under a bounded client loop: no
# client fails, the old instances exit, the last one's socket is in place
handovers() {
	start_py alpha "$@"
	start_snitch
	"$PYTHON" "$BATS_TEST_DIRNAME/faults_clients.py" load --port "$PORT" \
	    --names alpha.localhost=alpha --concurrency 10 --seconds 8 \
	    >"$T/load.out" 2>&1 3>&- &
	local load=$! i
	for i in 1 2 3; do
		sleep 1.5
		py_handover "$@"
		alive "${DEMO_PIDS[alpha]}"
	done
	wait "$load"
	load_served "$T/load.out" 50
	run -1 grep -c "outcome=alert" "$T/snitch.log"
	[ "$(grep -c "stopped" "$T/py-alpha.log")" -eq 3 ]
	wait_until eval '[ "$(counter pending)" = 0 ]'
	run -0 find "$T" -name '.alpha.sock.*'
	assert_output ""
	round_trip
}

@test "python handover under load, blocking: no client lost, the old instances exit" {
	handovers
}

@test "python handover under load, asyncio: no client lost, the old instances exit" {
	handovers --asyncio
}

@test "python without -r: a second instance is refused, the first keeps its socket" {
	start_py alpha
	local ino
	ino=$(stat -c %i "$T/alpha.sock")
	run -1 "$PYTHON" "$HTTPS_PY" -s "$T/alpha.sock" -n two \
	    -c "$T/cert.pem" -k "$T/key.pem"
	assert_output --partial "Address already in use"
	assert_equal "$(stat -c %i "$T/alpha.sock")" "$ino"
	stop_demo alpha
	[ ! -e "$T/alpha.sock" ]
}
