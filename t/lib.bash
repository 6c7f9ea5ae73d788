# lib.bash - shared helpers of the SNItch integration tests (t/*.bats).
#
# Loaded by every bats file with `load lib`.  It gives each test its own
# temp dir ($T), its own free port ($PORT), a copy of the test certificate,
# and helpers to start demo backends and snitch and to run clients.  The
# default setup/teardown below are used unless a file defines its own (it
# then calls snitch_setup/snitch_teardown itself).
#
# Privilege: when the tests run as root, snitch needs `user = nobody`
# (write_config adds it) and the demo backends run as nobody too, so $T is
# 755 and owned by nobody (the demos create their sockets in it), and the
# key is 644.  Everything listens on 127.0.0.1 or ::1 only, and nothing is
# shared between tests except the read-only certificate of the file, so
# tests can run in parallel.
#
# Teardown stops everything the test started (snitch first, TERM then KILL
# after 5 s, then its leftover workers, then the demos and anything given
# to track_pid) and removes $T, also when the test failed; a failed test
# gets the snitch and demo logs printed under its output, and a sanitizer
# report in them fails the test.

bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

SNITCH_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BUILD=${SNITCH_BUILD:-$SNITCH_ROOT/build}
SNITCH=$BUILD/snitch
SNITCH_DEMO=$BUILD/snitch-demo
SNITCH_RELAY=$BUILD/snitch-relay
TLS_PY=$SNITCH_ROOT/t/tls.py
# Debian's python3 when there is one: a pyenv shim first in PATH costs
# 200 ms a run, and the tests run python a few hundred times
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

# every wait below is a bounded poll: WAIT_STEPS of 100 ms (5 s), or for
# process start-up, START_STEPS of 20 ms (5 s)
WAIT_STEPS=50
START_STEPS=250

# is_root - true when the tests run as root
is_root() {
	[ "$(id -u)" -eq 0 ]
}

# make_cert DIR - an EC P-256 self-signed certificate for the test names
make_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1/key.pem" -out "$1/cert.pem" -days 30 \
	    -subj /CN=localhost \
	    -addext 'subjectAltName=DNS:*.localhost,DNS:localhost,DNS:*.beta.localhost' \
	    >/dev/null 2>&1 || {
		echo "make_cert: openssl req failed" >&2
		return 1
	}
	chmod 644 "$1/key.pem" "$1/cert.pem"
}

# snitch_setup_file - once per bats file: the binaries exist, the certificate
snitch_setup_file() {
	local b
	for b in "$SNITCH" "$BUILD/snitch-worker" "$SNITCH_DEMO"; do
		if [ ! -x "$b" ]; then
			echo "$b is missing: run make all first" >&2
			return 1
		fi
	done
	make_cert "$BATS_FILE_TMPDIR"
}

# snitch_setup - per test: $T, $PORT, the certificate copied into $T
#
# The certificate is copied because bats' own temp dirs are 700: a demo
# running as nobody could not read it there.
snitch_setup() {
	T=$(mktemp -d /tmp/snitch-test.XXXXXX)
	chmod 755 "$T"
	if is_root; then
		chown nobody:nogroup "$T"
	fi
	cp "$BATS_FILE_TMPDIR/cert.pem" "$BATS_FILE_TMPDIR/key.pem" "$T/"
	chmod 644 "$T/cert.pem" "$T/key.pem"
	PORT=$(free_port)
	LISTEN="127.0.0.1:$PORT"
	WORKERS=2
	PEEK_TIMEOUT=2s
	SNITCH_PID=
	declare -gA DEMO_PIDS=()
	TRACKED_PIDS=()
}

# snitch_teardown - per test: stop everything, remove $T
#
# A sanitizer report in any log (a `make SAN=1` build) fails the test,
# even one whose client saw nothing wrong: a worker that crashed is
# restarted quietly.
snitch_teardown() {
	local name pid sanitized=0
	stop_snitch
	for name in "${!DEMO_PIDS[@]}"; do
		stop_pid "${DEMO_PIDS[$name]}"
	done
	for pid in "${TRACKED_PIDS[@]}"; do
		stop_pid "$pid"
	done
	DEMO_PIDS=()
	TRACKED_PIDS=()
	[ -n "${T:-}" ] && [ -d "$T" ] || return 0
	if grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$T"/*.log \
	    2>/dev/null; then
		sanitized=1
		echo "a sanitizer reported an error: see the logs below"
	fi
	if [ -z "${BATS_TEST_COMPLETED:-}" ] || [ "$sanitized" -eq 1 ]; then
		dump_logs
	fi
	rm -rf "$T"
	[ "$sanitized" -eq 0 ]
}

setup_file() {
	snitch_setup_file
}

setup() {
	snitch_setup
}

teardown() {
	snitch_teardown
}

# dump_logs - print the logs of $T, for a failed test's output
dump_logs() {
	local f
	for f in "$T"/*.log "$T"/snitch.ini; do
		[ -f "$f" ] || continue
		echo "--- ${f##*/}"
		cat "$f"
	done
}

# track_pid PID - a background process teardown must stop
track_pid() {
	TRACKED_PIDS+=("$1")
}

# alive PID... - one of these processes still runs (a zombie does not:
# an exited child of the test stays one until it is waited for, and an
# orphaned worker until PID 1 reaps it)
alive() {
	local pid state
	for pid in "$@"; do
		state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
		    "/proc/$pid/status" 2>/dev/null) || continue
		[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] &&
		    return 0
	done
	return 1
}

# gone PID... - none of these processes still runs
gone() {
	! alive "$@"
}

# stop_pid PID [SECONDS] - TERM, then KILL after SECONDS (default 5); reap
stop_pid() {
	local pid=$1 steps=$((${2:-5} * 10)) i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	for ((i = 0; i < steps; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return 0
}

# free_port [v6] - a TCP port free on 127.0.0.1 (and on ::1 with v6)
free_port() {
	"$PYTHON" - "${1:-}" <<'EOF'
import socket, sys
for _ in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    if sys.argv[1] == "v6":
        try:
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s6.bind(("::1", port))
            s6.close()
        except OSError:
            s.close()
            continue
    s.close()
    print(port)
    sys.exit(0)
sys.exit(1)
EOF
}

# have_ipv6_lo - ::1 is configured and usable
have_ipv6_lo() {
	"$PYTHON" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
	    2>/dev/null
}

# port_bindable PORT - a listener could bind PORT on 127.0.0.1 again
# (with SO_REUSEADDR, as any server does: TIME_WAIT is not "taken")
port_bindable() {
	"$PYTHON" - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen()
except OSError as e:
    print("bind 127.0.0.1:%s: %s" % (sys.argv[1], e.strerror))
    sys.exit(1)
EOF
}

# unix_listening PATH - a process listens on the AF_UNIX socket PATH
#
# libsnitch binds a temporary name and renames it to PATH, and ss shows
# the name bound: when ss does not know PATH, a connect asks the socket
# itself (EPROTOTYPE: a listener of another type, live all the same).
unix_listening() {
	[ -S "$1" ] || return 1
	[ -n "$(ss -Hxl src "$1" 2>/dev/null)" ] && return 0
	"$PYTHON" - "$1" 2>/dev/null <<'EOF'
import errno, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect(sys.argv[1])
except OSError as e:
    sys.exit(0 if e.errno == errno.EPROTOTYPE else 1)
EOF
}

# busy_crowd OUT NAME COUNT SECONDS - t/busy.py's crowd in the
# background: COUNT clients for NAME held up to SECONDS, its one-line
# result ("alert80=N other=N silent=N") in OUT; CROWD_PID: its pid
busy_crowd() {
	"$PYTHON" "$BATS_TEST_DIRNAME/busy.py" crowd 127.0.0.1 "$PORT" \
	    "$2" "$3" "$4" >"$1" 3>&- &
	CROWD_PID=$!
}

# tcp_accepts HOST PORT - a TCP connect to HOST:PORT succeeds
tcp_accepts() {
	(exec 5<>"/dev/tcp/$1/$2") 2>/dev/null
}

# start_demo NAME [ARGS...] - a demo backend on $T/NAME.sock
#
# Runs as nobody when the tests run as root.  Waits until the socket
# listens (at most 5 s); fails with the demo's log if it died or did not.
start_demo() {
	local name=$1 rc=0
	shift
	start_backend "$T/$name.sock" "$T/demo-$name.log" "$SNITCH_DEMO" \
	    -s "$T/$name.sock" -n "$name" -c "$T/cert.pem" -k "$T/key.pem" \
	    "$@" || rc=$?
	DEMO_PIDS[$name]=$BACKEND_PID	# for teardown, also when it failed
	return "$rc"
}

# need_built PROGRAM - setup_file's check that make built PROGRAM
need_built() {
	[ -x "$1" ] && return 0
	echo "$1 is missing: run make all first" >&2
	return 1
}

# start_backend SOCK LOG CMD... - a backend program listening on SOCK, as
# nobody when the tests run as root, its output in LOG, its pid in
# BACKEND_PID; waits until SOCK listens (at most 5 s), fails with the log
# if it died or did not
start_backend() {
	local sock=$1 log=$2 pid i
	shift 2
	local -a cmd=("$@")
	if is_root; then
		cmd=(setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    "${cmd[@]}")
	fi
	"${cmd[@]}" </dev/null >>"$log" 2>&1 3>&- &
	pid=$!
	BACKEND_PID=$pid
	for ((i = 0; i < START_STEPS; i++)); do
		if ! alive "$pid"; then
			echo "start_backend ${cmd[*]}: exited: $(cat "$log")" >&2
			return 1
		fi
		unix_listening "$sock" && return 0
		sleep 0.02
	done
	echo "start_backend ${cmd[*]}: $sock not listening after 5 s" >&2
	return 1
}

# start_capture ADDR - $T/capture.py on ADDR (a port on 127.0.0.1, or a
# Unix socket path, mode 666): writes the PROXY header it gets first to
# $T/header.hex, then echoes as start_echo does
start_capture() {
	cat >"$T/capture.py" <<'EOF'
import os, socket, sys, threading
def header(c):
    got = b""
    while not (got.startswith(b"PROXY ") and got.endswith(b"\r\n")):
        if got.startswith(b"\r\n\r\n\0\r\nQUIT\n") and len(got) >= 16 and \
                len(got) == 16 + int.from_bytes(got[14:16], "big"):
            break
        got += c.recv(1)
    return got
def serve(c):
    with c:
        with open(sys.argv[2], "w") as f:
            f.write(header(c).hex())
        while data := c.recv(262144):
            c.sendall(data)
        c.shutdown(socket.SHUT_WR)
where = sys.argv[1]
if where.startswith("/"):
    s = socket.socket(socket.AF_UNIX)
    s.bind(where)
    os.chmod(where, 0o666)
else:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(where)))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
	"$PYTHON" "$T/capture.py" "$1" "$T/header.hex" </dev/null \
	    >>"$T/capture.log" 2>&1 3>&- &
	track_pid $!
	case $1 in
	/*) wait_until unix_listening "$1" ;;
	*) wait_until tcp_accepts 127.0.0.1 "$1" ;;
	esac
}

# hex TEXT - TEXT as lowercase hex, no separators
hex() {
	printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'
}

# start_relay ARGS... - snitch-relay -s $T/relay.sock ARGS, as nobody
# when root, its stderr in $T/relay.log, its pid in RELAY_PID; waits
# until the socket listens (at most 5 s)
start_relay() {
	local rc=0
	start_backend "$T/relay.sock" "$T/relay.log" "$SNITCH_RELAY" \
	    -s "$T/relay.sock" "$@" || rc=$?
	RELAY_PID=$BACKEND_PID
	track_pid "$RELAY_PID"
	return "$rc"
}

# relay_log_has PATTERN - relay.log has a line matching the extended regex
relay_log_has() {
	grep -qE -- "$1" "$T/relay.log"
}

# stop_demo NAME - SIGTERM the demo NAME and wait for it to exit
stop_demo() {
	stop_pid "${DEMO_PIDS[$1]}"
	unset "DEMO_PIDS[$1]"
}

# write_config [LINE...] - a fresh $T/snitch.ini: the [snitch] section
#
# Listens on $LISTEN with $WORKERS workers and $PEEK_TIMEOUT; as root
# adds `user = nobody`.  Each LINE is added to [snitch] as given
# (e.g. "default = alpha").  Backends come after, with add_backend.
write_config() {
	{
		echo "[snitch]"
		echo "listen = $LISTEN"
		if is_root; then
			echo "user = nobody"
		fi
		echo "workers = $WORKERS"
		echo "peek_timeout = $PEEK_TIMEOUT"
		echo "handoff_timeout = 2s"
		if [ $# -gt 0 ]; then
			printf '%s\n' "$@"
		fi
	} >"$T/snitch.ini"
	chmod 644 "$T/snitch.ini"
}

# add_backend NAME PATTERN... - append [backend NAME] on $T/NAME.sock
add_backend() {
	local name=$1
	shift
	printf '\n[backend %s]\nsocket = %s\nnames = %s\n' \
	    "$name" "$T/$name.sock" "$*" >>"$T/snitch.ini"
}

# start_snitch [ARGS...] - snitch -c $T/snitch.ini in the foreground,
# in the background of the test, its stderr in $T/snitch.log; waits until
# 127.0.0.1:$PORT accepts connections (at most 5 s)
start_snitch() {
	start_snitch_cmd "$SNITCH" -c "$T/snitch.ini" "$@"
}

# start_snitch_under WRAPPER... - start_snitch, with snitch run by a
# wrapper that execs it (prlimit ...): SNITCH_PID is snitch's own pid
start_snitch_under() {
	start_snitch_cmd "$@" "$SNITCH" -c "$T/snitch.ini"
}

# start_snitch_cmd CMD... - run CMD (snitch, or a wrapper that execs it)
# as start_snitch does
start_snitch_cmd() {
	local i
	"$@" </dev/null >>"$T/snitch.log" 2>&1 3>&- &
	SNITCH_PID=$!
	for ((i = 0; i < START_STEPS; i++)); do
		if ! alive "$SNITCH_PID"; then
			echo "start_snitch: exited: $(cat "$T/snitch.log")" >&2
			SNITCH_PID=
			return 1
		fi
		tcp_accepts 127.0.0.1 "$PORT" && return 0
		sleep 0.02
	done
	echo "start_snitch: 127.0.0.1:$PORT not accepting after 5 s" >&2
	return 1
}

# stop_snitch - SIGTERM the master, SIGKILL after 5 s, then kill any
# worker it left behind
stop_snitch() {
	local -a workers
	local pid
	[ -n "${SNITCH_PID:-}" ] || return 0
	mapfile -t workers < <(worker_pids)
	stop_pid "$SNITCH_PID"
	for pid in "${workers[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	SNITCH_PID=
}

# worker_pids - the pids of the master's live workers, one a line (its
# children but snitch-stats, the stats process, see stats_pid)
worker_pids() {
	ps -o pid=,stat=,comm= --ppid "$SNITCH_PID" |
	    awk '$2 !~ /^Z/ && $3 != "snitch-stats" { print $1 }'
}

# stats_pid - the pid of the master's live snitch-stats, or nothing
stats_pid() {
	ps -o pid=,stat=,comm= --ppid "$SNITCH_PID" |
	    awk '$2 !~ /^Z/ && $3 == "snitch-stats" { print $1 }'
}

# listen_fd PID - the descriptor number at which PID holds the listening
# socket of 127.0.0.1:$PORT (from ss, which needs root for others' pids)
listen_fd() {
	ss -ltnpH "sport = :$PORT" |
	    grep -oE "pid=$1,fd=[0-9]+" | head -n 1 | sed 's/.*fd=//'
}

# has_workers N - the master has N children
has_workers() {
	[ "$(worker_pids | wc -l)" -eq "$1" ]
}

# wait_until CMD... - run CMD every 100 ms until it succeeds, at most
# WAIT_STEPS times (5 s)
wait_until() {
	poll_steps "$WAIT_STEPS" "$@"
}

# wait_for SECONDS CMD... - wait_until, for at most SECONDS
wait_for() {
	local seconds=$1
	shift
	poll_steps $((seconds * 10)) "$@"
}

# poll_steps N CMD... - run CMD every 100 ms until it succeeds, N times;
# CMD's status the last time
poll_steps() {
	local steps=$1 i
	shift
	for ((i = 1; i < steps; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# log_has PATTERN - snitch.log has a line matching the extended regex
log_has() {
	grep -qE -- "$1" "$T/snitch.log"
}

# get_https NAME [CURL ARGS...] - curl https://NAME:$PORT/ through snitch,
# printing the body, then "local_port=N" (curl's own port)
get_https() {
	local name=$1
	shift
	curl -sSk -m 5 --resolve "$name:$PORT:127.0.0.1" \
	    -w 'local_port=%{local_port}\n' "$@" "https://$name:$PORT/"
}

# tls [ARGS...] - t/tls.py against 127.0.0.1:$PORT: 5 s for each step,
# 30 s in all (a later --host wins)
tls() {
	timeout 30 "$PYTHON" "$TLS_PY" --host 127.0.0.1 --port "$PORT" --timeout 5 "$@"
}

# s_client NAME [ARGS...] - openssl s_client with SNI NAME (- for none)
# sending a GET; its stderr (alerts, verify notes) goes with stdout
s_client() {
	local name=$1
	local -a sni=(-servername "$name")
	shift
	if [ "$name" = - ]; then
		name=127.0.0.1
		sni=(-noservername)
	fi
	printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$name" |
	    timeout 10 openssl s_client -connect "127.0.0.1:$PORT" "${sni[@]}" \
	    -quiet "$@" 2>&1
}

# answer KEY - the value of KEY=... in $output (a demo answer), or nothing
answer() {
	sed -n "s/^$1=//p" <<<"$output" | head -n 1
}

# --- added for t/hostile.bats and t/idle.bats ---------------------------

HOSTILE_PY=$SNITCH_ROOT/t/hostile.py

# hostile [ARGS...] - t/hostile.py against 127.0.0.1:$PORT: 5 s for each
# step, 30 s in all (a later --timeout wins)
hostile() {
	timeout 30 "$PYTHON" "$HOSTILE_PY" --port "$PORT" --timeout 5 "$@"
}

# raw_reply NAME|- - send a real ClientHello (Python's ssl, SNI NAME, -
# for none) on a plain socket; print every byte that came back as hex,
# then how the connection ended: fin, reset or timeout
raw_reply() {
	timeout 15 "$PYTHON" - "$PORT" "$1" <<'EOF'
import socket, ssl, sys
port, name = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing,
                   server_hostname=None if name == "-" else name)
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
sock = socket.create_connection(("127.0.0.1", port), timeout=5)
sock.sendall(outgoing.read())
got, end = b"", "fin"
try:
    while chunk := sock.recv(65536):
        got += chunk
except ConnectionResetError:
    end = "reset"
except socket.timeout:
    end = "timeout"
print(got.hex(" "))
print(end)
EOF
}

# --- added for t/owner.bats and t/tenant.bats ---------------------------

# add_test_user VAR - create a fresh user with its own group, named at
# random (tests may run in parallel), and set VAR to its name; root only.
# remove_test_users deletes every one made, also after a failure.
TEST_USERS=()
add_test_user() {
	local name i
	name="snt$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
	# a parallel useradd holds /etc/passwd's lock for a moment: retry
	for ((i = 0; i < WAIT_STEPS; i++)); do
		if useradd -M -U -d /nonexistent -s /usr/sbin/nologin "$name" \
		    2>/dev/null; then
			TEST_USERS+=("$name")
			printf -v "$1" '%s' "$name"
			return 0
		fi
		sleep 0.1
	done
	echo "add_test_user: useradd $name failed" >&2
	return 1
}

# remove_test_users - userdel every user add_test_user made
remove_test_users() {
	local name i
	for name in "${TEST_USERS[@]}"; do
		for ((i = 0; i < WAIT_STEPS; i++)); do
			userdel "$name" 2>/dev/null && break
			id "$name" >/dev/null 2>&1 || break
			sleep 0.1
		done
	done
	TEST_USERS=()
}

# start_demo_as USER NAME SOCK [ARGS...] - a demo backend run as USER
# listening on SOCK (mode 0666: snitch's user must connect to it), its
# log in $T/demo-NAME.log; waits until SOCK listens (at most 5 s)
start_demo_as() {
	local user=$1 name=$2 sock=$3 pid i
	shift 3
	setpriv --reuid="$user" --regid="$user" --clear-groups \
	    "$SNITCH_DEMO" -s "$sock" -n "$name" -c "$T/cert.pem" \
	    -k "$T/key.pem" -m 0666 "$@" </dev/null \
	    >>"$T/demo-$name.log" 2>&1 3>&- &
	pid=$!
	DEMO_PIDS[$name]=$pid
	for ((i = 0; i < START_STEPS; i++)); do
		if ! alive "$pid"; then
			echo "start_demo_as $user $name: exited:" \
			    "$(cat "$T/demo-$name.log")" >&2
			return 1
		fi
		unix_listening "$sock" && return 0
		sleep 0.02
	done
	echo "start_demo_as $user $name: $sock not listening after 5 s" >&2
	return 1
}

# routes_to NAME BACKEND - a client for NAME gets BACKEND's answer
routes_to() {
	tls --name "$1" 2>/dev/null | grep -qx "backend=$2"
}

# --- the fake service manager of t/systemd.bats and t/reload_restart.bats

NOTIFY_RECV=$SNITCH_ROOT/t/notify_recv.py

# start_notify ADDRESS - the fake NOTIFY_SOCKET at ADDRESS, writing
# $T/notify.out; waits until it is bound
start_notify() {
	"$PYTHON" "$NOTIFY_RECV" "$1" "$T/notify.out" </dev/null \
	    >>"$T/notify.log" 2>&1 3>&- &
	track_pid "$!"
	wait_until test -f "$T/notify.out"
}

# notified N - $T/notify.out has at least N datagrams
notified() {
	[ -f "$T/notify.out" ] && [ "$(wc -l <"$T/notify.out")" -ge "$1" ]
}

# datagram N - the Nth datagram received
datagram() {
	sed -n "${1}p" "$T/notify.out"
}
