#!/bin/bash
# demo.sh - what `make run` runs: SNItch in front of two demo backends.
#
# Makes a temp dir under /tmp with a demo certificate, starts the demo
# backends alpha (alpha.localhost, *.alpha.localhost)
# and beta (beta.localhost, *.beta.localhost), and snitch on
# 127.0.0.1:$PORT (and [::1]:$PORT when ::1 is on lo) in the foreground,
# its log on the terminal; plain HTTP on 127.0.0.1:$HTTP_PORT (listen_http)
# reaches the same backends, which answer it in clear.  As root, snitch drops to nobody and the
# backends run as nobody.  Ctrl-C or SIGTERM stops everything and removes
# the temp dir.
#
#   PORT=9443 t/demo.sh        another port than 8443
#   HTTP_PORT=9080 t/demo.sh   another HTTP port than 8080

set -u
cd "$(dirname "$0")/.." || exit 1

PORT=${PORT:-8443}
HTTP_PORT=${HTTP_PORT:-8080}
BUILD=${SNITCH_BUILD:-build}
SNITCH=$BUILD/snitch
SNITCH_DEMO=$BUILD/snitch-demo
pids=()
snitch_pid=
dir=

# cleanup - stop snitch, then the backends, remove the temp dir
cleanup() {
	local pid timer
	trap - EXIT INT TERM
	if [ -n "$snitch_pid" ]; then
		kill -TERM "$snitch_pid" 2>/dev/null
		# snitch stops within its peek_timeout (2 s here); 5 s at most
		(sleep 5 && kill -KILL "$snitch_pid" 2>/dev/null) &
		timer=$!
		wait "$snitch_pid" 2>/dev/null
		kill "$timer" 2>/dev/null
	fi
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "$dir" ] && rm -rf "$dir"
}

die() {
	echo "demo: $*" >&2
	exit 1
}

for b in "$SNITCH" "$BUILD/snitch-worker" "$SNITCH_DEMO"; do
	[ -x "$b" ] || die "$b is missing: run make all"
done

port_free() {
	python3 - "$1" "$2" <<'EOF'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
except OSError as e:
    sys.exit(1)
EOF
}

have_ipv6_lo() {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
	    2>/dev/null
}

listen="127.0.0.1:$PORT"
port_free 127.0.0.1 "$PORT" ||
    die "port $PORT is taken on 127.0.0.1: stop what uses it, or run PORT=9443 make run"
if have_ipv6_lo; then
	port_free ::1 "$PORT" ||
	    die "port $PORT is taken on ::1: stop what uses it, or run PORT=9443 make run"
	listen="$listen [::1]:$PORT"
fi
port_free 127.0.0.1 "$HTTP_PORT" ||
    die "port $HTTP_PORT is taken on 127.0.0.1: stop what uses it, or run HTTP_PORT=9080 make run"

trap cleanup EXIT
trap 'exit 0' INT TERM

dir=$(mktemp -d /tmp/snitch-demo.XXXXXX) || die "mktemp failed"
chmod 755 "$dir"
as_user=()
user_line=
if [ "$(id -u)" -eq 0 ]; then
	chown nobody:nogroup "$dir"
	as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	user_line="user = nobody"
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 30 -subj /CN=localhost \
    -addext 'subjectAltName=DNS:*.localhost,DNS:localhost,DNS:*.beta.localhost' \
    >/dev/null 2>&1 || die "openssl req failed"
chmod 644 "$dir/key.pem" "$dir/cert.pem"

cat >"$dir/snitch.ini" <<EOF
; SNItch demo configuration (made by t/demo.sh)
[snitch]
listen = $listen
listen_http = 127.0.0.1:$HTTP_PORT
$user_line
workers = 2
peek_timeout = 2s
handoff_timeout = 2s

[backend alpha]
socket = $dir/alpha.sock
names = alpha.localhost *.alpha.localhost

[backend beta]
socket = $dir/beta.sock
names = beta.localhost *.beta.localhost
EOF
chmod 644 "$dir/snitch.ini"

for name in alpha beta; do
	"${as_user[@]}" "$SNITCH_DEMO" -s "$dir/$name.sock" -n "$name" \
	    -c "$dir/cert.pem" -k "$dir/key.pem" </dev/null &
	pids+=($!)
done
for name in alpha beta; do
	for ((i = 0; i < 50; i++)); do
		[ -S "$dir/$name.sock" ] && break
		sleep 0.1
	done
	[ -S "$dir/$name.sock" ] || die "backend $name did not start"
done

cat <<EOF
SNItch demo: snitch on $listen, plain HTTP on 127.0.0.1:$HTTP_PORT,
backends alpha and beta, configuration in $dir/snitch.ini.  Try, from
another terminal:

  curl -k https://alpha.localhost:$PORT/
  curl -k https://beta.localhost:$PORT/
  curl -k https://www.beta.localhost:$PORT/
  curl http://www.beta.localhost:$HTTP_PORT/     (by Host, in clear)
  curl -k --resolve nosuch.example:$PORT:127.0.0.1 https://nosuch.example:$PORT/
  openssl s_client -connect 127.0.0.1:$PORT -servername nosuch.example

(curl resolves *.localhost to the loopback by itself.)  The last two name
no configured backend and there is no default: the client gets TLS alert
112 (unrecognized_name); an HTTP client, 421 Misdirected Request.  Add "default = alpha" under [snitch] in the file
and send snitch a SIGHUP (kill -HUP <pid below>) to route them to alpha.

Ctrl-C stops everything.  snitch's log follows.

EOF

"$SNITCH" -c "$dir/snitch.ini" </dev/null &
snitch_pid=$!
echo "snitch pid $snitch_pid"
wait "$snitch_pid"
status=$?
snitch_pid=
# a signal for us interrupts wait with status > 128; the trap exits
exit "$status"
