#!/usr/bin/env bats
# relay.bats - snitch-relay connects each handed-off connection to a
# target and relays both directions (splice through pipes).
#
# snitch routes relay.localhost to snitch-relay on $T/relay.sock; the
# targets are openssl s_server (IPv4 and IPv6), ports nobody listens on
# and small Python servers: an echo ($T/echo.py), one answering with a
# tag ($T/tag.py).  Each target is a tracked process.

load lib

setup_file() {
	snitch_setup_file
	need_built "$SNITCH_RELAY"
}

# relay_routes - snitch.ini: relay.localhost to the backend `relay`
relay_routes() {
	write_config
	add_backend relay relay.localhost
}

# wait_tcp PORT - wait until 127.0.0.1:PORT accepts (at most 5 s)
wait_tcp() {
	wait_until tcp_accepts 127.0.0.1 "$1"
}

# fd_count PID - how many descriptors PID has open
fd_count() {
	ls "/proc/$1/fd" | wc -l
}

# fd_count_is PID N - PID has N descriptors open
fd_count_is() {
	[ "$(fd_count "$1")" -eq "$2" ]
}

# start_echo PORT - $T/echo.py on 127.0.0.1:PORT: echoes each
# connection's bytes back, closes after the client's EOF
start_echo() {
	cat >"$T/echo.py" <<'EOF'
import socket, sys, threading
def serve(c):
    with c:
        while data := c.recv(262144):
            c.sendall(data)
        c.shutdown(socket.SHUT_WR)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
	"$PYTHON" "$T/echo.py" "$1" </dev/null >>"$T/echo.log" 2>&1 3>&- &
	track_pid $!
	wait_tcp "$1"
}

# start_tag PORT TAG - $T/tag.py on 127.0.0.1:PORT: answers each
# connection's first bytes with TAG, then closes once the client has
start_tag() {
	cat >"$T/tag.py" <<'EOF'
import socket, sys, threading
def serve(c, tag):
    with c:
        try:
            if c.recv(65536):
                c.sendall(tag)
                c.shutdown(socket.SHUT_WR)
                while c.recv(65536):
                    pass
        except OSError:
            pass    # a readiness probe, gone at once
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c, sys.argv[2].encode()),
                     daemon=True).start()
EOF
	"$PYTHON" "$T/tag.py" "$1" "$2" </dev/null >>"$T/tag.log" 2>&1 3>&- &
	track_pid $!
	wait_tcp "$1"
}

# tags N - N clients one after the other: the one-byte tag each got, on
# one line
tags() {
	local i hex
	for ((i = 0; i < $1; i++)); do
		hex=$(raw_reply relay.localhost | sed -n 1p)
		printf "\\x${hex:-3f}"
	done
	echo
}

# bulk NAME MB - a ClientHello then MB MiB of random bytes through
# snitch, shutting down writing at the end; reads the echo to EOF while
# sending and prints "sent=N received=N match" (or "differ")
bulk() {
	PYTHONPATH=$BATS_TEST_DIRNAME timeout 60 "$PYTHON" - "$PORT" "$1" "$2" <<'EOF'
import hashlib, os, socket, sys, threading
import tlshello
port, name, mb = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
_, hello = tlshello.first_flight(tlshello.make_context(), name)
payload = hello + os.urandom(mb << 20)
sock = socket.create_connection(("127.0.0.1", port), timeout=20)
def send():
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
got = hashlib.sha256()
n = 0
while chunk := sock.recv(262144):
    got.update(chunk)
    n += len(chunk)
t.join()
same = got.digest() == hashlib.sha256(payload).digest()
print("sent=%d received=%d %s" % (len(payload), n, "match" if same else "differ"))
EOF
}

@test "openssl s_server behind snitch-relay: curl gets its page, one log line" {
	local tport lp
	tport=$(free_port)
	openssl s_server -accept "127.0.0.1:$tport" -cert "$T/cert.pem" \
	    -key "$T/key.pem" -www -quiet </dev/null >>"$T/s_server.log" 2>&1 3>&- &
	track_pid $!
	wait_tcp "$tport"
	relay_routes
	start_relay -v "127.0.0.1:$tport"
	start_snitch
	run -0 get_https relay.localhost
	assert_output --partial "s_server"
	lp=$(answer local_port)
	wait_until relay_log_has \
	    "^snitch-relay\[[0-9]+\]: client=127\.0\.0\.1:$lp name=relay\.localhost target=127\.0\.0\.1:$tport up=[1-9][0-9]* down=[1-9][0-9]* duration=[0-9]+\.[0-9]{3}s end=done$"
}

@test "an IPv6 target, [::1]:PORT: curl gets s_server's page" {
	local tport
	tport=$(free_port)
	openssl s_server -accept "[::1]:$tport" -cert "$T/cert.pem" \
	    -key "$T/key.pem" -www -quiet </dev/null >>"$T/s_server.log" 2>&1 3>&- &
	track_pid $!
	wait_until tcp_accepts ::1 "$tport"
	relay_routes
	start_relay "[::1]:$tport"
	start_snitch
	run -0 get_https relay.localhost
	assert_output --partial "s_server"
	wait_until relay_log_has \
	    "name=relay\\.localhost target=\\[::1\\]:$tport up=[1-9][0-9]* down=[1-9][0-9]* .* end=done$"
}

@test "target down: the client gets exactly alert 80 then a FIN, logged connect-failed; no fd left" {
	local tport base
	tport=$(free_port)
	relay_routes
	start_relay "127.0.0.1:$tport"
	start_snitch
	base=$(fd_count "$RELAY_PID")
	run -0 raw_reply relay.localhost
	assert_output $'15 03 03 00 02 02 50\nfin'
	wait_until relay_log_has \
	    "client=127\.0\.0\.1:[0-9]+ name=relay\.localhost target=127\.0\.0\.1:$tport up=0 down=0 duration=[0-9]+\.[0-9]{3}s end=connect-failed$"
	# the channel accepted on the first handoff stays: one more fd
	wait_until fd_count_is "$RELAY_PID" $((base + 1))
}

@test "bulk: 200 MiB echoed both ways, checksums match, half-close honoured; SIGTERM exits 0" {
	local tport n base status=0
	tport=$(free_port)
	start_echo "$tport"
	relay_routes
	start_relay "127.0.0.1:$tport"
	start_snitch
	run -0 bulk relay.localhost 200
	assert_output --regexp '^sent=[0-9]+ received=[0-9]+ match$'
	n=$(sed 's/^sent=\([0-9]*\) .*/\1/' <<<"$output")
	assert_output "sent=$n received=$n match"
	wait_until relay_log_has \
	    "name=relay\.localhost target=127\.0\.0\.1:$tport up=$n down=$n duration=[0-9]+\.[0-9]{3}s end=done$"
	base=$(fd_count "$RELAY_PID")
	run -0 bulk relay.localhost 1
	wait_until relay_log_has "up=$((1048576 + n - 209715200)) .* end=done$"
	fd_count_is "$RELAY_PID" "$base"
	kill -TERM "$RELAY_PID"
	wait_until gone "$RELAY_PID"
	# not `run wait`: run's subshell cannot wait for the test's child
	wait "$RELAY_PID" || status=$?
	[ "$status" -eq 0 ]
	relay_log_has "stopped: 2 relayed, 0 refused$"
	[ ! -e "$T/relay.sock" ]
}

@test "-p v1: the target gets a PROXY TCP4 line with the client's address first" {
	local tport
	tport=$(free_port)
	start_capture "$tport"
	relay_routes
	start_relay -p v1 "127.0.0.1:$tport"
	start_snitch
	run -0 bulk relay.localhost 1
	assert_output --regexp 'match$'
	wait_until test -s "$T/header.hex"
	run xxd -r -p "$T/header.hex"
	assert_output --regexp "^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 [0-9]+ $PORT"$'\r'"$"
	wait_until relay_log_has "end=done$"
}

@test "-p v2 to a Unix socket target: binary header with the server name and ALPN" {
	start_capture "$T/target.sock"
	relay_routes
	start_relay -p v2 "$T/target.sock"
	start_snitch
	# the echo sends curl its own hello back: the handshake fails, but
	# the header came first
	run get_https relay.localhost --http1.1 -m 2
	wait_until test -s "$T/header.hex"
	local h
	h=$(cat "$T/header.hex")
	# signature, version 2 PROXY, TCP over IPv4
	[ "${h:0:28}" = "0d0a0d0a000d0a515549540a2111" ]
	# PP2_TYPE_AUTHORITY: type 02, length 15, the name
	[[ $h == *"02000f$(hex relay.localhost)"* ]]
	# SNItch's ALPN TLV (e0), the list body: curl offered http/1.1
	[[ $h == *"e0000908$(hex http/1.1)"* ]]
	wait_until relay_log_has "name=relay\.localhost target=$T/target\.sock up=[0-9]+ down=[0-9]+ "
}

@test "-t 1: a silent connection ends idle after a second, the client sees a FIN" {
	local tport
	tport=$(free_port)
	start_echo "$tport"
	relay_routes
	start_relay -t 1 "127.0.0.1:$tport"
	start_snitch
	# the echo sends the ClientHello back, then nothing comes
	run -0 raw_reply relay.localhost
	assert_line --index 0 --regexp '^16 03 0[13] '
	assert_line --index 1 fin
	wait_until relay_log_has "name=relay\.localhost .* duration=1\.[0-9]{3}s end=idle$"
}

# start_blackhole PORT - a listener on 127.0.0.1:PORT whose accept queue
# its own connections fill: a further SYN is dropped, a connect hangs
start_blackhole() {
	"$PYTHON" - "$1" "$T/blackhole.ready" </dev/null >>"$T/blackhole.log" \
	    2>&1 3>&- <<'EOF' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(0)
held = []
for _ in range(4):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", int(sys.argv[1])))
    held.append(c)
open(sys.argv[2], "w").close()
time.sleep(60)
EOF
	track_pid $!
	wait_until test -e "$T/blackhole.ready"
}

@test "-T 1: a target that never answers: alert 80 after a second, logged connect-timeout" {
	local tport
	tport=$(free_port)
	start_blackhole "$tport"
	relay_routes
	start_relay -T 1 "127.0.0.1:$tport"
	start_snitch
	run -0 raw_reply relay.localhost
	assert_output $'15 03 03 00 02 02 50\nfin'
	wait_until relay_log_has \
	    "name=relay\.localhost target=127\.0\.0\.1:$tport up=0 down=0 duration=1\.[0-9]{3}s end=connect-timeout$"
}

# target_connected PORT - an established connection to 127.0.0.1:PORT
target_connected() {
	[ -n "$(ss -Htn state established dst "127.0.0.1:$1")" ]
}

@test "SIGTERM with a connection open: socket removed at once, the relay finishes it, exit 0" {
	local tport status=0
	tport=$(free_port)
	start_echo "$tport"
	relay_routes
	start_relay "127.0.0.1:$tport"
	start_snitch
	# a client that says more once $T/go exists (at most 10 s)
	timeout 20 "$PYTHON" - "$PORT" "$T/go" >"$T/late.out" 2>&1 <<'EOF' &
import os, socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing, server_hostname="relay.localhost")
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = outgoing.read()
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
sock.sendall(hello)
for _ in range(100):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.1)
sock.sendall(b"late bytes")
sock.shutdown(socket.SHUT_WR)
got = b""
while chunk := sock.recv(65536):
    got += chunk
print("echoed" if got == hello + b"late bytes" else "wrong %d" % len(got))
EOF
	local client=$!
	track_pid "$client"
	wait_until target_connected "$tport"
	kill -TERM "$RELAY_PID"
	wait_until relay_log_has "stopping: 1 connections"
	[ ! -e "$T/relay.sock" ]
	alive "$RELAY_PID"
	touch "$T/go"
	wait "$client"
	run cat "$T/late.out"
	assert_output echoed
	wait_until gone "$RELAY_PID"
	wait "$RELAY_PID" || status=$?
	[ "$status" -eq 0 ]
	relay_log_has "up=[0-9]+ down=[0-9]+ duration=[0-9.]+s end=done$"
}

@test "two targets share the connections round robin" {
	local a b
	a=$(free_port)
	b=$(free_port)
	start_tag "$a" A
	start_tag "$b" B
	relay_routes
	start_relay "127.0.0.1:$a" "127.0.0.1:$b"
	start_snitch
	run -0 tags 6
	assert_output ABABAB
	relay_log_has "target=127\\.0\\.0\\.1:$a up=[0-9]+ down=1 .* end=done$"
	relay_log_has "target=127\\.0\\.0\\.1:$b up=[0-9]+ down=1 .* end=done$"
}

@test "a target that refuses is skipped for -D seconds, logged once; then tried again and logged up" {
	local dead live
	dead=$(free_port)
	live=$(free_port)
	start_tag "$live" L
	relay_routes
	start_relay -v -D 2 "127.0.0.1:$dead" "127.0.0.1:$live"
	start_snitch
	# the first client tries the dead one, then the live one: no alert
	run -0 tags 4
	assert_output LLLL
	run grep -c "target 127\\.0\\.0\\.1:$dead down (Connection refused): skipped for 2 s$" \
	    "$T/relay.log"
	assert_output 1
	# skipped: only the first client tried it (-v logs each attempt)
	run grep -c "connect 127\\.0\\.0\\.1:$dead: Connection refused$" "$T/relay.log"
	assert_output 1
	# it comes back; once -D has passed it gets its turn again
	start_tag "$dead" D
	sleep 2.2
	run -0 tags 4
	assert_output DLDL
	relay_log_has "target 127\\.0\\.0\\.1:$dead up again$"
	run grep -c "end=connect-failed" "$T/relay.log"
	assert_output 0
}

@test "every target down: alert 80 after trying each once, logged connect-failed" {
	local a b
	a=$(free_port)
	b=$(free_port)
	relay_routes
	start_relay "127.0.0.1:$a" "127.0.0.1:$b"
	start_snitch
	run -0 raw_reply relay.localhost
	assert_output $'15 03 03 00 02 02 50\nfin'
	wait_until relay_log_has "target=127\\.0\\.0\\.1:$b up=0 down=0 .* end=connect-failed$"
	relay_log_has "target 127\\.0\\.0\\.1:$a down"
	relay_log_has "target 127\\.0\\.0\\.1:$b down"
	# both down: the next client still tries (the one down longest first)
	run -0 raw_reply relay.localhost
	assert_output $'15 03 03 00 02 02 50\nfin'
	run grep -c "end=connect-failed" "$T/relay.log"
	assert_output 2
}
