#!/usr/bin/env bats
# nontls.bats - clients that do not speak TLS (`non_tls`) or speak not at
# all (`silent`), on the port where TLS clients are routed by name.
#
# The non_tls and silent backends are snitch-exec running small sh
# programs: `echo` answers with the UCSPI variables it got, then echoes
# every byte the client sent (so the client sees that its bytes reached
# the program intact, from the first); `http` answers an HTTP request;
# `greet` speaks first, as an SMTP or SSH server does.  TLS clients go
# to the demo backend alpha meanwhile.  Every client is a real socket on
# 127.0.0.1: t/nontls.py, curl, t/hostile.py.

load lib
load lib_faults

SNITCH_EXEC=$BUILD/snitch-exec
NONTLS_PY=$SNITCH_ROOT/t/nontls.py

setup_file() {
	snitch_setup_file
	need_built "$SNITCH_EXEC"
}

setup() {
	snitch_setup
	PEEK_TIMEOUT=5s
}

# programs - $T/echo.sh, $T/http.sh and $T/greet.sh
programs() {
	cat >"$T/echo.sh" <<'EOF'
#!/bin/sh
# echo.sh - what snitch-exec told us, then every byte the client sent
env | grep -E '^(TCPREMOTEPORT|SSL_SERVER_NAME|SNITCH_ALPN)=' | sort
echo ==
exec cat
EOF
	cat >"$T/http.sh" <<'EOF'
#!/bin/sh
# http.sh - read the request head, answer with its first line
cr=$(printf '\r')
IFS= read -r first
while IFS= read -r line; do
	case $line in "" | "$cr") break ;; esac
done
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n'
printf 'plain backend got: %s\n' "${first%"$cr"}"
EOF
	cat >"$T/greet.sh" <<'EOF'
#!/bin/sh
# greet.sh - speak first, as SMTP does, then echo one line
printf '220 greet.localhost ready\r\n'
IFS= read -r line && printf '250 got %s\n' "$line"
EOF
	chmod 755 "$T/echo.sh" "$T/http.sh" "$T/greet.sh"
}

# start_exec NAME SCRIPT [OPTION...] - snitch-exec on $T/NAME.sock
# running $T/SCRIPT, as nobody when root, its stderr in $T/exec-NAME.log
start_exec() {
	start_backend "$T/$1.sock" "$T/exec-$1.log" "$SNITCH_EXEC" "${@:3}" \
	    -s "$T/$1.sock" -- "$T/$2" || return 1
	track_pid "$BACKEND_PID"
}

# nontls ARGS... - t/nontls.py against 127.0.0.1:$PORT
nontls() {
	timeout 30 "$PYTHON" "$NONTLS_PY" --port "$PORT" "$@"
}

# line_of CLIENT - snitch.log's access line for the client IP:PORT
line_of() {
	grep -F -- "client=$1 " "$T/snitch.log"
}

# logged CLIENT TEXT - the access line of CLIENT has " TEXT" right
# before " alpn=": its backend, outcome and detail, nothing more
logged() {
	wait_until line_of "$1" >/dev/null || fail "no line for $1"
	line_of "$1" | grep -qF -- " $2 alpn=" ||
	    fail "wanted \"$2\" in: $(line_of "$1")"
}

@test "non_tls: an HTTP client's bytes reach the program intact, from the first" {
	programs
	start_exec plain echo.sh
	start_demo alpha
	write_config "non_tls = plain" "stats = $T/stats.sock"
	add_backend plain plain.localhost
	add_backend alpha alpha.localhost
	start_snitch

	run -0 nontls --send 'GET / HTTP/1.0\r\nHost: plain\r\n\r\n' --shut
	from=$(sed -n 's/^from=//p' <<<"$output")
	# exactly: the variables, then the request as sent, then the FIN
	assert_equal "$(sed 1d <<<"$output")" "TCPREMOTEPORT=${from##*:}
==
GET / HTTP/1.0\\r
Host: plain\\r
\\r
end=fin"
	logged "$from" "name=- backend=plain outcome=handoff route=non_tls"
	# one write of 31 bytes on loopback: the peek saw them all
	line_of "$from" | grep -qF " hello_bytes=31 records=-"
	assert_equal "$(backend_stat plain handoff)" 1
	assert_equal "$(counter handoff)" 1
	assert_equal "$(counter not_tls)" 0

	# the same port still routes TLS by name
	run -0 get_https alpha.localhost
	assert_equal "$(answer backend)" alpha
}

@test "non_tls: curl http:// gets the plain backend's answer" {
	programs
	start_exec plain http.sh
	write_config "non_tls = plain"
	add_backend plain plain.localhost
	start_snitch

	run -0 curl -sS -m 10 "http://127.0.0.1:$PORT/hello"
	assert_output "plain backend got: GET /hello HTTP/1.1"
	wait_until log_has "backend=plain outcome=handoff route=non_tls "
}

@test "non_tls: TLS clients never reach it: bad records get their alert, SSL 2.0 is closed" {
	programs
	start_exec plain echo.sh
	start_demo alpha
	write_config "non_tls = plain"
	add_backend plain plain.localhost
	add_backend alpha alpha.localhost
	start_snitch

	# a handshake record of length 0: malformed, alert 50
	run hostile --print-local --raw '16 0301 0000'
	assert_line "alert 50"
	logged "$(sed -n 's/^from=//p' <<<"$output")" \
	    "backend=- outcome=alert alert=50 reason=malformed-hello"
	# an alert record first: TLS, not a hello, alert 10
	run hostile --print-local --raw '15 0303 0002 0228'
	assert_line "alert 10"
	# a handshake record of version 2.x, and an SSL 2.0 compatible hello:
	# TLS clients, closed as without non_tls
	run hostile --print-local --raw '16 0200 0010 01'
	assert_line closed
	logged "$(sed -n 's/^from=//p' <<<"$output")" "backend=- outcome=not-tls"
	run hostile --print-local --raw '801c 01 0301 0003 0000 0010 00002f 000102030405060708090a0b0c0d0e0f'
	assert_line closed
	logged "$(sed -n 's/^from=//p' <<<"$output")" "backend=- outcome=not-tls"
	# and the hello whole still routes by name, not to non_tls
	run -0 hostile --print-local --name alpha.localhost
	assert_line server-hello
	logged "$(sed -n 's/^from=//p' <<<"$output")" \
	    "name=alpha.localhost backend=alpha outcome=handoff"
	[ ! -s "$T/exec-plain.log" ] || ! grep -q 'client=' "$T/exec-plain.log"
}

@test "non_tls: one byte decides, the first byte alone reaches the program" {
	programs
	start_exec plain echo.sh
	write_config "non_tls = plain"
	add_backend plain plain.localhost
	start_snitch

	# one byte, then nothing more until the program has answered
	run -0 nontls --send 'S' --expect == --send 'SH-2.0-x\r\n' --shut
	assert_equal "$(sed 1,3d <<<"$output")" "SSH-2.0-x\\r
end=fin"
	logged "$(sed -n 's/^from=//p' <<<"$output")" \
	    "name=- backend=plain outcome=handoff route=non_tls"
	grep -qF " hello_bytes=1 records=-" "$T/snitch.log"
}

@test "without non_tls: a non-TLS client is closed as before" {
	start_demo alpha
	write_config
	add_backend alpha alpha.localhost
	start_snitch

	run -0 nontls --send 'SSH-2.0-OpenSSH9\r\n'
	from=$(sed -n 's/^from=//p' <<<"$output")
	assert_equal "$(sed 1d <<<"$output")" "end=fin"
	logged "$from" "name=- backend=- outcome=not-tls"
}

@test "non_tls backend down: its fallback, or a FIN and nothing sent" {
	programs
	start_exec spare echo.sh
	write_config "non_tls = plain" "stats = $T/stats.sock"
	add_backend plain plain.localhost
	add_backend spare spare.localhost
	start_snitch

	run -0 nontls --send 'HELO x\r\n'
	from=$(sed -n 's/^from=//p' <<<"$output")
	assert_equal "$(sed 1d <<<"$output")" "end=fin"
	logged "$from" \
	    "name=- backend=plain outcome=not-tls route=non_tls reason=backend-down held=1"
	assert_equal "$(backend_stat plain down)" 1
	assert_equal "$(counter not_tls)" 1

	set_fallback plain spare
	kill -HUP "$SNITCH_PID"
	wait_until log_has "generation 2"
	run -0 nontls --send 'HELO y\r\n' --shut
	from=$(sed -n 's/^from=//p' <<<"$output")
	assert_line 'HELO y\r'
	logged "$from" \
	    "name=- backend=spare outcome=handoff route=non_tls fallback_of=plain held=1"
}

@test "silent: a client that only reads gets the greeting of the silent backend" {
	programs
	start_exec greet greet.sh
	start_demo alpha
	write_config "silent = greet" "silent_timeout = 500ms" \
	    "stats = $T/stats.sock"
	add_backend greet greet.localhost
	add_backend alpha alpha.localhost
	start_snitch

	# a generous bounded wait; no timing is asserted
	run -0 nontls --expect '220 ' --send 'EHLO me\r\n' --expect '250 ' \
	    --timeout 15
	from=$(sed -n 's/^from=//p' <<<"$output")
	assert_line '220 greet.localhost ready\r'
	assert_line '250 got EHLO me\r'
	assert_line "end=fin"
	logged "$from" "name=- backend=greet outcome=handoff route=silent"
	line_of "$from" | grep -qF " hello_bytes=0 records=-"
	assert_equal "$(backend_stat greet handoff)" 1
	assert_equal "$(counter timeout)" 0

	# TLS clients are not held back by it
	run -0 get_https alpha.localhost
	assert_equal "$(answer backend)" alpha
}

@test "silent: a client that sent part of a hello is not silent" {
	programs
	start_exec greet greet.sh
	PEEK_TIMEOUT=2s
	write_config "silent = greet" "silent_timeout = 500ms"
	add_backend greet greet.localhost
	start_snitch

	# 3 bytes of a record header, then nothing: peek_timeout ends it
	run -0 nontls --send '\x16\x03\x01' --timeout 15
	from=$(sed -n 's/^from=//p' <<<"$output")
	assert_equal "$(sed 1d <<<"$output")" "end=fin"
	logged "$from" "name=- backend=- outcome=timeout"
}

@test "without silent: a silent client is closed at peek_timeout" {
	start_demo alpha
	PEEK_TIMEOUT=1s
	write_config
	add_backend alpha alpha.localhost
	start_snitch

	run -0 nontls --timeout 15
	from=$(sed -n 's/^from=//p' <<<"$output")
	assert_equal "$(sed 1d <<<"$output")" "end=fin"
	logged "$from" "name=- backend=- outcome=timeout"
}

@test "silent backend down: a FIN at silent_timeout, logged as a timeout" {
	start_demo alpha
	write_config "silent = greet" "silent_timeout = 300ms" \
	    "stats = $T/stats.sock"
	add_backend greet greet.localhost
	add_backend alpha alpha.localhost
	start_snitch

	run -0 nontls --timeout 15
	from=$(sed -n 's/^from=//p' <<<"$output")
	assert_equal "$(sed 1d <<<"$output")" "end=fin"
	logged "$from" \
	    "name=- backend=greet outcome=timeout route=silent reason=backend-down held=1"
	assert_equal "$(backend_stat greet down)" 1
	assert_equal "$(counter timeout)" 1
}

@test "snitch-exec busy: a non-TLS client gets a FIN, not an alert" {
	programs
	start_exec plain echo.sh -c 1 -v
	write_config "non_tls = plain"
	add_backend plain plain.localhost
	start_snitch

	# the one program slot: a client that holds it for up to 10 s
	nontls --send 'one\r\n' --expect one --timeout 10 >"$T/first.out" &
	track_pid $!
	wait_until grep -qE 'name=- pid=[0-9]+ started' "$T/exec-plain.log"
	run -0 nontls --send 'SSH-2.0-two\r\n'
	from=$(sed -n 's/^from=//p' <<<"$output")
	assert_equal "$(sed 1d <<<"$output")" "end=fin"
	logged "$from" "name=- backend=plain outcome=handoff route=non_tls"
	wait_until grep -qF "client=$from name=- outcome=closed reason=busy " \
	    "$T/exec-plain.log"
}

# crowd N - N clients that wait for a greeting and N that reset before
# silent_timeout, all at once; prints "greeted G reset R"
crowd() {
	timeout 60 "$PYTHON" - "$PORT" "$1" <<'PY'
import socket, struct, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
quiet = [socket.create_connection(("127.0.0.1", port), timeout=20)
         for _ in range(n)]
gone = [socket.create_connection(("127.0.0.1", port), timeout=20)
        for _ in range(n)]
time.sleep(0.1)
for s in gone:
    # SO_LINGER 0: close sends a RST
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
greeted = 0
for s in quiet:
    got = b""
    try:
        while b"\n" not in got:
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    greeted += got.startswith(b"220 ")
    s.close()
print("greeted %d reset %d" % (greeted, n))
PY
}

@test "silent: a crowd of silent clients and resets, twice: each greeted or gone" {
	programs
	start_exec greet greet.sh
	write_config "silent = greet" "silent_timeout = 300ms" \
	    "stats = $T/stats.sock"
	add_backend greet greet.localhost
	start_snitch

	run -0 crowd 20
	assert_output "greeted 20 reset 20"
	run -0 crowd 20
	assert_output "greeted 20 reset 20"
	wait_until [ "$(backend_stat greet handoff)" = 40 ]
	wait_until [ "$(counter pending)" = 0 ]
	# start_snitch's probe connections are client-gone too
	[ "$(counter client_gone)" -ge 40 ]
	assert_equal "$(counter timeout)" 0
	stats_add_up "$(snitch_stats)"
}

@test "snitch -T lists non_tls and silent after the default" {
	write_config "non_tls = plain" "silent = quiet" "default = alpha"
	add_backend alpha alpha.localhost
	add_backend plain plain.localhost
	add_backend quiet quiet.localhost
	run -0 --separate-stderr "$SNITCH" -T -c "$T/snitch.ini"
	run -0 awk '{ print $1, $2, $3, $5 }' <<<"$output"
	assert_output "$(printf '%s\n' \
	    'exact alpha.localhost - alpha' \
	    'exact plain.localhost - plain' \
	    'exact quiet.localhost - quiet' \
	    'default - - alpha' \
	    'non_tls - - plain' \
	    'silent - - quiet')"
}
