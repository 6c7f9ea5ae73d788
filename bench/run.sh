#!/usr/bin/env bash
# run.sh - SNItch side by side with HAProxy, nginx and sniproxy (make bench).
#
# Starts two bench-backend processes (letters a and b, each with a TCP
# port and a SNItch socket), then each switch on its own loopback port
# with 2 workers or threads, all routing a.bench.test and b.bench.test to
# those two backends, each with its own config in a temp dir: SNItch,
# HAProxy (mode tcp, inspect-delay, req.ssl_sni), nginx (stream,
# ssl_preread, map), sniproxy (two instances with reuseport: it is single
# threaded).  "direct" is bench-load talking to the backends themselves.
#
# Every measurement is run in every round (but the idle runs, below),
# the systems in a different
# order each time (the machine is shared and noisy); the report gives
# medians over rounds, and ratios taken within a round.  Measured:
# connection rate and latency at 20 and 200 concurrent connections, both
# hello variants at 20; bulk MiB/s (4 connections, 50 MiB each, 3 times a
# round); CPU seconds of the switch's processes (from /proc/PID/stat) per
# 10,000 connections and during bulk; peak RSS (VmHWM, reset between
# phases with clear_refs); the rate while 10,000 idle connections are
# held open.  Then bench/report.sh writes bench/RESULTS.md, and it is
# printed.  Raw rows stay in bench/out/ (not in git).
#
# The relay runs compare paths that all end at a bench-backend's TCP
# port, so the backend does the same work in each: SNItch handing off to
# snitch-relay (one per backend, splice to the TCP port; system "relay",
# a second SNItch on its own port), HAProxy, nginx, sniproxy, and direct.
# Download (-b) and upload (-u): 4 connections, 64 MiB each, 2 times a
# round per direction; MiB/s, and CPU seconds per GiB of the switch (for
# "relay": SNItch's master and workers plus both snitch-relays) and of
# the whole path (switch, backends and bench-load's own, which it
# reports).
#
# To keep make bench under 10 minutes with the two phases below, three
# phases whose results vary little were trimmed: the idle runs (10,000
# held, the slowest of a round; their held counts do not vary) run in
# the first IDLE_ROUNDS rounds only (1; they ran in every round), the
# bulk runs 3 times a round (were 5), the relay runs 2 (were 3).
#
# The PROXY input runs (proxy_phase) come next, on a fresh set of
# processes: the two backends with -x (a TCP connection begins with a
# PROXY header, which they read and skip), and the switches, each with a
# second listener on its own port that takes a PROXY header in front of
# the hello: SNItch's in proxy_protocol (proxy_from 127.0.0.0/8), HAProxy's
# bind with accept-proxy, nginx's listen with proxy_protocol.  The rest
# of each config is the other phases', and each passes the client on to
# the backends on both listeners, so that the backends' work is the same
# in a system's two runs: SNItch in the PROXY v2 header of its handoff
# (always), HAProxy by send-proxy-v2 on its servers, nginx by
# proxy_protocol on (version 1) with set_real_ip_from 127.0.0.0/8 (the
# header's client, not the balancer's, is the one it passes on).
# sniproxy has no PROXY input: its plain listener only.  Each round runs
# each system on its plain listener and, with bench-load -P, on its
# PROXY one for each header version of PROXY_VERSIONS (2: what AWS NLB
# and HAProxy's send-proxy-v2 send), c=20, x25519 hello, PROXY_SECS
# after the warm-up, the systems and their runs in a new order each
# round.  bench-load's fake clients are in 198.51.100.0/24; at the end
# the backends are stopped and say how many clients from there each way
# told them of.  Rows like raw.tsv's go to proxy.tsv; the report takes
# each PROXY run over the same system's plain run within each round.
# With its defaults (3 rounds of 3 s runs, version 2 only: make bench is
# long enough) it takes about 1.5 minutes.  BENCH_ONLY=proxy runs this
# phase alone (make bench-proxy) and writes its table to
# bench/out/proxy.md.
#
# The acknowledgement runs (ack_phase) come next, on a fresh set of
# processes: two SNItch with the same build and config, "snitch" routing
# to the two bench-backends, "snitch-v1" to two more started with
# SNITCH_HANDOFF_VERSION=1 in their environment (libsnitch then speaks
# handoff protocol version 1: no HELLO, no ACK, and the worker hands and
# forgets).  Each round runs both once, c=20, x25519 hello, ACK_SECS
# after the warm-up, in alternating order; rate, p99, and CPU seconds of
# the workers (the master's children) and of the two backends go to
# ack.tsv, and the report takes version 2 over version 1 within each
# round.  BENCH_ONLY=ack runs this phase alone (make bench-ack) and
# writes its table to bench/out/ack.md.
#
# The restart runs come last (restart_phase), on a fresh set of the same
# processes: for each system, bench-load at c=20 for 10 s while the
# backend of a.bench.test is restarted 5 times, 1.5 s apart (b's stays
# up: a control), first by SIGKILL, then gracefully (SIGTERM, its exit
# awaited, at most 5 s): the same bench-backend, stopped and started the
# same way, behind every system.  HAProxy then has retries 3 and option
# redispatch, nginx proxy_next_upstream with 3 tries; SNItch its usual
# config (a restarting backend holds its clients up to handoff_timeout,
# 2 s), sniproxy its usual one (it has no retry).  "snitch-v1" is SNItch
# again, with its version-1 backends, the a.bench.test one restarted in
# its runs.  Failed clients and the longest stall go to restart.tsv.
# BENCH_ONLY=restart runs this phase alone (make bench-restart) and
# writes its table to bench/out/restart.md instead of RESULTS.md.
#
# The flood runs come last (flood_phase), on a fresh set of processes:
# the two backends and the four switches, SNItch with its default
# configuration (listen, user, workers, stats, backends: nothing else),
# HAProxy, nginx and sniproxy with their knobs for holding FLOOD_N
# connections (maxconn; worker_rlimit_nofile and worker_connections;
# -n), the rest of their configs as in the other phases.  For each
# system: bench-load at c=20 for 5 s with no flood, then while FLOOD_N
# half-hellos are held, then while FLOOD_N silent connections are held
# by FLOOD_PROCS bench-flood processes from 762 loopback sources, a
# client not served within 1 s counted as failed; after each flood, the
# switch settles.  The descriptor limit each process runs with and the
# kernel settings that matter go to the report; none is changed.  Rate,
# p99, failed clients by kind and the flood's own counts go to
# flood.tsv.  BENCH_ONLY=flood runs this phase alone (make bench-flood,
# about 2 minutes) and writes its table to bench/out/flood.md.
#
# The HTTP routing runs (http_phase) come after all of these, on a fresh
# set of processes: the two backends with -h (they read a plain HTTP
# request head and answer "200 OK" with a 64-byte body of their letter,
# at both doors), and the four switches routing plain HTTP by its Host,
# a.bench.test and b.bench.test, each on its usual port, the rest of
# each config as in the other phases: SNItch with listen_http in place
# of listen (it peeks the request head and hands the socket off, the
# request unread); HAProxy in mode http, use_backend on hdr(host);
# nginx's http module, a map from $host to the backend's TCP address and
# proxy_pass http://$bench_backend, access_log off (none of the others
# logs a connection), proxy_http_version 1.1 (what a current proxy
# speaks; the request still says Connection: close, nginx's default,
# with no keepalive upstream: the backend closes after each response,
# and SNItch and sniproxy cannot reuse a backend connection either);
# sniproxy's two instances with protocol http.  "direct" is bench-load
# talking to the backends themselves.  Each round runs every system
# once, `bench-load -h` (a GET with Host, Connection: close; served
# when the reply is an HTTP/1.x 200 whose body is the Host's backend's
# 64 bytes), c=20, HTTP_SECS after the warm-up, the systems in a new
# order each round; rate, latency, errors and CPU of the switch and of
# the backends go to http.tsv, rows as raw.tsv's.  With its defaults
# (3 rounds of 4 s runs) it takes about 1.5 minutes.  BENCH_ONLY=http
# runs this phase alone (make bench-http) and writes its table to
# bench/out/http.md.
#
# The dribble runs (dribble_phase) come last, on a fresh set of
# processes configured as in the main phases: DRIBBLE_N clients at once
# against each switch, each sending the largest hello SNItch takes
# (2,048 records of 8 bytes, 26,624 bytes) a byte per send, 200 us
# apart, with t/hostile.py; the CPU of all the switch's processes and
# threads over the run (schedstat, in ns: clock ticks are too coarse
# for a few ms) and what the clients saw go to dribble.tsv, and SNItch's
# counters to the report.  Each run takes some 10 s (the hellos' own pace), so the
# phase about 2 minutes with its defaults (3 rounds of 4 hellos).
# BENCH_ONLY=dribble runs it alone (make bench-dribble) and writes its
# table to bench/out/dribble.md.
#
# Run as root (SNItch then runs its workers as nobody, sniproxy too).
# Everything listens on 127.0.0.1 only, and everything started here is
# stopped on exit.  BENCH_ROUNDS, BENCH_SECONDS and BENCH_IDLE override
# the defaults (3 rounds, 5 s per measurement, 10,000 idle);
# BENCH_IDLE_ROUNDS how many rounds have the idle runs (1);
# BENCH_ACK_ROUNDS the acknowledgement phase's rounds (6, of 3 s each);
# BENCH_RESTART_ROUNDS the restart phase's (1 round: it takes about
# 2 minutes a round, and make bench must stay under 10 minutes);
# BENCH_FLOOD the connections of a flood (45,000); BENCH_FLOOD_SYSTEMS
# which switches the flood phase runs (all four), BENCH_FLOOD_CONFIG
# lines added to SNItch's config there (none: its defaults);
# BENCH_PROXY_ROUNDS the PROXY input phase's rounds (3),
# BENCH_PROXY_SECONDS its measurements' seconds (3), BENCH_PROXY_VERSIONS
# which header versions it sends ("2"; "1 2" for both);
# BENCH_HTTP_ROUNDS the HTTP routing phase's rounds (3),
# BENCH_HTTP_SECONDS its measurements' seconds (4); BENCH_DRIBBLE_ROUNDS
# the dribble phase's rounds (3), BENCH_DRIBBLE_HELLOS its clients at
# once (4).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
BIN=$BUILD/bench
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}
OUT=$ROOT/bench/out
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-5}
WARM=0.5
IDLE=${BENCH_IDLE:-10000}
BULK_MIB=50
BULK_CONNS=4
BULK_REPEAT=3
RELAY_MIB=64
RELAY_CONNS=4
RELAY_REPEAT=2
WORKERS=2
SYSTEMS=(direct snitch haproxy nginx sniproxy)
RELAY_SYSTEMS=(direct relay haproxy nginx sniproxy)
# label concurrency hello-variant
RATE_TESTS=("r20x 20 x25519" "r20m 20 mlkem" "r200x 200 x25519")
COMMAND=${BENCH_COMMAND:-"bench/run.sh"}
HZ=$(getconf CLK_TCK)
ONLY=${BENCH_ONLY:-}
IDLE_ROUNDS=${BENCH_IDLE_ROUNDS:-1}
ACK_ROUNDS=${BENCH_ACK_ROUNDS:-6}
ACK_SECS=3
# the acknowledgement runs' systems: version-2 backends, version-1 ones
ACK_SYSTEMS=(snitch snitch-v1)
RESTART_ROUNDS=${BENCH_RESTART_ROUNDS:-1}
RESTART_SECS=10
RESTART_CONC=20
RESTART_COUNT=5
RESTART_EVERY_MS=1500
RESTART_WAIT_MS=5000	# graceful: how long a backend may take to exit
# The restart runs' systems, each a row of the report's restart table
# (report.awk names them).  "snitch" is SNItch with the libsnitch
# bench-backend (handoff protocol version 2, acknowledged), "snitch-v1"
# with the same program speaking version 1 (SNITCH_HANDOFF_VERSION=1).
RESTART_SYSTEMS=(direct snitch snitch-v1 haproxy nginx sniproxy)
# 1 while the restart phase's switches are configured and started
RESTART=0
# The flood runs: FLOOD_N connections held by FLOOD_PROCS bench-flood
# processes (a process holds at most its descriptor limit), each with
# its own 254 sources, 127.0.2.1-254, 127.0.3.1-254, ... for the
# half-hellos, and the next /24s on for the silent flood (a source
# SNItch penalized in the first flood must not meet the second one
# penalized already): none of them bench-load's (127.0.1.1-64), all on
# loopback.  Each opens at most
# FLOOD_RATE a second; the flood is up when all are connected, or no
# more have been for 2 s, or after FLOOD_WAIT s.  The clients:
# bench-load at c=FLOOD_CONC for FLOOD_SECS, a client not served within
# FLOOD_TIMEOUT_MS counted as failed.
FLOOD_N=${BENCH_FLOOD:-45000}
FLOOD_PROCS=3
FLOOD_RATE=5000
FLOOD_WAIT=15
FLOOD_SECS=5
FLOOD_CONC=20
FLOOD_TIMEOUT_MS=1000
read -r -a FLOOD_SYSTEMS <<<"${BENCH_FLOOD_SYSTEMS:-snitch haproxy nginx sniproxy}"
FLOOD_MODES=(none half silent)
# 1 while the flood phase's switches are configured and started
FLOOD=0
# The PROXY input runs: each system of PROXY_SYSTEMS on its plain
# listener (run "plain") and on its PROXY one with each version of
# PROXY_VERSIONS (runs "v2", "v1"), but sniproxy, which has no PROXY one
PROXY_ROUNDS=${BENCH_PROXY_ROUNDS:-3}
PROXY_SECS=${BENCH_PROXY_SECONDS:-3}
read -r -a PROXY_VERSIONS <<<"${BENCH_PROXY_VERSIONS:-2}"
PROXY_SYSTEMS=(snitch haproxy nginx sniproxy)
PROXY_CONC=20
# 1 while the PROXY phase's switches are configured and started
PROXY=0
# The HTTP routing runs: each system of HTTP_SYSTEMS routing plain HTTP
# by its Host on its usual port, bench-load -h at c=HTTP_CONC
HTTP_ROUNDS=${BENCH_HTTP_ROUNDS:-3}
HTTP_SECS=${BENCH_HTTP_SECONDS:-4}
HTTP_SYSTEMS=(direct snitch haproxy nginx sniproxy)
HTTP_CONC=20
# 1 while the HTTP phase's switches are configured and started
HTTP=0
# The dribble runs: DRIBBLE_N clients at once, each sending the largest
# hello SNItch takes (16384 bytes of message in 2,048 records of 8) a
# byte per send, 200 us apart (t/hostile.py), to each system of
# DRIBBLE_SYSTEMS; the switch's CPU per hello, from schedstat
DRIBBLE_ROUNDS=${BENCH_DRIBBLE_ROUNDS:-3}
DRIBBLE_N=${BENCH_DRIBBLE_HELLOS:-4}
DRIBBLE_SYSTEMS=(snitch haproxy nginx sniproxy)

declare -A PID=() PORT=() SOCKET=()
STARTED=()
T=
HOLDER=
FLOODERS=()

# note - progress on stderr
note() {
	printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

# die - give up with a message
die() {
	echo "bench/run.sh: $*" >&2
	exit 1
}

# alive PID - the process runs and is not a zombie
alive() {
	local s
	s=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" \
	    2>/dev/null) || return 1
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

# descendants PID - PID and every process under it, one a line
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
	    { parent[$1] = $2; pids[++n] = $1 }
	    END {
		keep[root] = 1; print root
		do {
			more = 0
			for (i = 1; i <= n; i++) {
				p = pids[i]
				if (!(p in keep) && (parent[p] in keep)) {
					keep[p] = 1; print p; more = 1
				}
			}
		} while (more)
	    }'
}

# stop_tree PID - TERM a process, KILL it and what it left after 5 s
stop_tree() {
	local pid=$1 i
	local -a tree
	mapfile -t tree < <(descendants "$pid")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	for pid in "${tree[@]}"; do
		alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	wait "$1" 2>/dev/null || true
}

# cleanup - stop everything started here, remove the temp dir
cleanup() {
	local pid
	[ -n "$HOLDER" ] && stop_tree "$HOLDER"
	for pid in "${FLOODERS[@]}"; do
		stop_tree "$pid"
	done
	for pid in "${STARTED[@]}"; do
		stop_tree "$pid"
	done
	[ -n "$T" ] && [ -d "$T" ] && rm -rf "$T"
	return 0
}

# port_free PORT - nothing listens on 127.0.0.1:PORT or any address
port_free() {
	[ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
}

# pick_ports NAME... - a free loopback port for each name, in PORT[]
pick_ports() {
	local name p=$((20000 + RANDOM % 20000))
	for name in "$@"; do
		while ! port_free "$p"; do
			p=$((p + 1))
		done
		PORT[$name]=$p
		p=$((p + 1))
	done
}

# tcp_accepts PORT - a connect to 127.0.0.1:PORT succeeds
tcp_accepts() {
	(exec 5<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# listening NAME - NAME accepts on 127.0.0.1:PORT[NAME], or, if it has a
# SOCKET[NAME], that Unix socket exists
listening() {
	if [ -n "${SOCKET[$1]:-}" ]; then
		[ -S "${SOCKET[$1]}" ]
	else
		tcp_accepts "${PORT[$1]}"
	fi
}

# launch NAME LOG CMD... - start a process, remember it, wait until it
# is listening
launch() {
	local name=$1 log=$2 i
	shift 2
	"$@" </dev/null >>"$log" 2>&1 &
	PID[$name]=$!
	STARTED+=("$!")
	for ((i = 0; i < 250; i++)); do
		alive "${PID[$name]}" || die "$name exited: $(tail -5 "$log")"
		listening "$name" && return 0
		sleep 0.02
	done
	die "$name does not listen on" \
	    "${SOCKET[$name]:-127.0.0.1:${PORT[$name]}}: $(tail -5 "$log")"
}

# backend_command NAME - BACKEND_CMD, the command line of bench-backend
# NAME: backend_a and backend_b have a TCP port and a SNItch socket in
# the temp dir; backend_v1a and backend_v1b the same in its v1/, and
# SNITCH_HANDOFF_VERSION=1 (libsnitch then speaks handoff protocol
# version 1), which the others never inherit; in the PROXY phase, -x; in
# the HTTP phase, -h
backend_command() {
	local l=${1: -1}
	case $1 in
	backend_v1?)
		BACKEND_CMD=(env SNITCH_HANDOFF_VERSION=1 "$BIN/bench-backend"
		    -n "$l" -p "${PORT[$1]}" -s "$T/v1/$l.sock") ;;
	*)
		BACKEND_CMD=(env -u SNITCH_HANDOFF_VERSION "$BIN/bench-backend"
		    -n "$l" -p "${PORT[$1]}" -s "$T/$l.sock") ;;
	esac
	# the PROXY phase's switches put a header in front of the hello
	[ "$PROXY" -eq 0 ] || BACKEND_CMD+=(-x)
	# the HTTP phase's clients send a request, not a hello
	[ "$HTTP" -eq 0 ] || BACKEND_CMD+=(-h)
}

# http_pick WORD OTHER - WORD in the HTTP phase's configs, OTHER in the
# others'
http_pick() {
	if [ "$HTTP" -eq 1 ]; then
		echo "$1"
	else
		echo "$2"
	fi
}

# backend_log NAME - where bench-backend NAME's stderr goes
backend_log() {
	echo "$T/${1//_/-}.log"
}

# start_backends [v1] - letters a and b, a TCP port and a SNItch socket
# each; with v1, the version-1 pair (backend_v1a, backend_v1b)
start_backends() {
	local l name
	[ "${1:-}" != v1 ] || mkdir -p "$T/v1"
	for l in a b; do
		name=backend_${1:-}$l
		backend_command "$name"
		launch "$name" "$(backend_log "$name")" "${BACKEND_CMD[@]}"
	done
}

# snitch_config FILE PORTS WORKERS [LINE...] - SNItch on 127.0.0.1 at
# each of PORTS (one, or several separated by spaces; their key
# LISTEN_KEY, default listen), routing the two names to the sockets
# a.sock and b.sock in SOCKET_DIR (default: the temp dir)
snitch_config() {
	local file=$1 workers=$3 dir=${SOCKET_DIR:-$T} port
	local -a ports
	read -r -a ports <<<"$2"
	shift 3
	{
		echo "[snitch]"
		printf '%s =' "${LISTEN_KEY:-listen}"
		for port in "${ports[@]}"; do
			printf ' 127.0.0.1:%s' "$port"
		done
		echo
		[ "$(id -u)" -eq 0 ] && echo "user = nobody"
		echo "workers = $workers"
		printf '%s\n' "$@"
		printf '\n[backend a]\nsocket = %s\nnames = a.bench.test\n' "$dir/a.sock"
		printf '\n[backend b]\nsocket = %s\nnames = b.bench.test\n' "$dir/b.sock"
	} >"$file"
	chmod 644 "$file"
}

# start_snitch [v1] - stderr (one line per connection) to /dev/null, as
# the others log no connections either; its counters are read with -s.
# With v1, "snitch-v1": the same config on its own port, its backends the
# version-1 pair's sockets.  In the flood phase its config has nothing
# but the listener, user, workers, stats and backends; in the PROXY
# phase a second listener, on port snitch-pp, takes a PROXY header; in
# the HTTP phase its listener is a listen_http one
start_snitch() {
	local name=snitch stats=$T/stats.sock dir=$T ports
	local -a pp=()
	ports=${PORT[snitch]}
	if [ "$PROXY" -eq 1 ]; then
		ports+=" ${PORT[snitch-pp]}"
		pp=("proxy_protocol = 127.0.0.1:${PORT[snitch-pp]}"
		    "proxy_from = 127.0.0.0/8")
	fi
	if [ "${1:-}" = v1 ]; then
		name=snitch-v1 stats=$T/stats-v1.sock dir=$T/v1
		ports=${PORT[snitch-v1]}
	fi
	if [ "$FLOOD" -eq 1 ]; then
		# the flood runs: every key a flood meets at its default
		local -a extra=()
		[ -z "${BENCH_FLOOD_CONFIG:-}" ] ||
			mapfile -t extra <<<"$BENCH_FLOOD_CONFIG"
		snitch_config "$T/$name.ini" "${PORT[$name]}" "$WORKERS" \
		    "stats = $stats" ${extra[@]+"${extra[@]}"}
	else
		LISTEN_KEY=$(http_pick listen_http listen) SOCKET_DIR=$dir \
		    snitch_config "$T/$name.ini" "$ports" \
		    "$WORKERS" "peek_timeout = 2m" "handoff_timeout = 2s" \
		    "max_pending = $((IDLE + 240))" "stats = $stats" \
		    ${pp[@]+"${pp[@]}"}
	fi
	"$BUILD/snitch" -c "$T/$name.ini" -t >/dev/null ||
	    die "snitch -t: $("$BUILD/snitch" -c "$T/$name.ini" -t 2>&1)"
	launch "$name" /dev/null "$BUILD/snitch" -c "$T/$name.ini"
}

# snitch_stats NAME - the counters of SNItch NAME (snitch -s), or why not
snitch_stats() {
	"$BUILD/snitch" -c "$T/$1.ini" -s 2>&1 || true
}

# start_relay - system "relay": a snitch-relay per backend, relaying to
# its TCP port, and a second SNItch whose backends are the two relays.
# Like bench-backend they run as the caller, their sockets mode 0666 for
# SNItch's workers; their line per connection goes to a log (the relay
# runs have a few connections).
start_relay() {
	local l
	mkdir -p "$T/relay"
	for l in a b; do
		SOCKET[relay_$l]=$T/relay/$l.sock
		launch "relay_$l" "$T/relay-$l.log" "$BUILD/snitch-relay" \
		    -m 0666 -s "${SOCKET[relay_$l]}" "127.0.0.1:${PORT[backend_$l]}"
	done
	SOCKET_DIR=$T/relay snitch_config "$T/relay.ini" "${PORT[relay]}" \
	    "$WORKERS" "peek_timeout = 2m" "handoff_timeout = 2s"
	"$BUILD/snitch" -c "$T/relay.ini" -t >/dev/null ||
	    die "snitch -t: $("$BUILD/snitch" -c "$T/relay.ini" -t 2>&1)"
	launch relay /dev/null "$BUILD/snitch" -c "$T/relay.ini"
}

# haproxy_retries - the restart phase's lines for a backend section: a
# refused connect is retried 3 times, min(timeout connect, 1 s) apart
haproxy_retries() {
	[ "$RESTART" -eq 1 ] || return 0
	printf '\tretries 3\n\toption redispatch\n\ttimeout connect 1s\n'
}

# proxy_conf FORMAT [ARG...] - printf FORMAT ARG... in the PROXY phase's
# configs, nothing in the others'
proxy_conf() {
	[ "$PROXY" -eq 1 ] || return 0
	# shellcheck disable=SC2059 # the format is the caller's
	printf "$@"
}

# haproxy_routes - the frontend's rules: the hello inspected for its
# SNI; in the HTTP phase, the request's Host
haproxy_routes() {
	local l fetch=req.ssl_sni
	if [ "$HTTP" -eq 1 ]; then
		fetch='hdr(host)'
	else
		printf '\ttcp-request inspect-delay 2m\n'
		printf '\ttcp-request content accept if { req.ssl_hello_type 1 }\n'
	fi
	for l in a b; do
		printf '\tuse_backend be_%s if { %s -i %s.bench.test }\n' \
		    "$l" "$fetch" "$l"
	done
}

# start_haproxy - mode tcp, the hello inspected for its SNI; in the PROXY
# phase a second bind, on port haproxy-pp, with accept-proxy, and a PROXY
# v2 header to the backends; in the HTTP phase mode http, routed by Host
start_haproxy() {
	# maxconn: 10,000 held (the flood phase: 45,000) + the load; the fd
	# hard limit may be lower than 2 * maxconn, which is fine as long as
	# it is not reached.
	cat >"$T/haproxy.cfg" <<EOF
global
	nbthread $WORKERS
	maxconn $(($(held_most) + 2000))
	no strict-limits
	pidfile $T/haproxy.pid

defaults
	mode $(http_pick http tcp)
	timeout connect 5s
	timeout client 2m
	timeout server 2m

frontend bench
	bind 127.0.0.1:${PORT[haproxy]}
$(proxy_conf '\tbind 127.0.0.1:%s accept-proxy\n' "${PORT[haproxy-pp]:-}")
$(haproxy_routes)

backend be_a
$(haproxy_retries)
	server a 127.0.0.1:${PORT[backend_a]}$(proxy_conf ' send-proxy-v2')

backend be_b
$(haproxy_retries)
	server b 127.0.0.1:${PORT[backend_b]}$(proxy_conf ' send-proxy-v2')
EOF
	launch haproxy "$T/haproxy.log" haproxy -db -f "$T/haproxy.cfg"
}

# nginx_routes VARIABLE - the map from the name (nginx's variable of
# that name) to the backend.  In the restart
# phase each backend is an upstream listing its one address 3 times:
# nginx's next upstream is another server of the upstream, never the
# one that failed (max_fails=0: a failure does not take one out)
nginx_routes() {
	local l
	if [ "$RESTART" -eq 1 ]; then
		for l in a b; do
			printf '\tupstream be_%s {\n' "$l"
			printf '\t\tserver 127.0.0.1:%s max_fails=0;\n' \
			    "${PORT[backend_$l]}" "${PORT[backend_$l]}" \
			    "${PORT[backend_$l]}"
			printf '\t}\n'
		done
	fi
	# shellcheck disable=SC2016 # nginx's variable, not ours
	printf '\tmap $%s $bench_backend {\n' "$1"
	for l in a b; do
		if [ "$RESTART" -eq 1 ]; then
			printf '\t\t%s.bench.test be_%s;\n' "$l" "$l"
		else
			printf '\t\t%s.bench.test 127.0.0.1:%s;\n' "$l" \
			    "${PORT[backend_$l]}"
		fi
	done
	printf '\t}\n'
}

# nginx_retries - the restart phase's lines for the server: a failed
# connect goes to the next server, 3 tries within 2 s at most
nginx_retries() {
	[ "$RESTART" -eq 1 ] || return 0
	printf '\t\tproxy_next_upstream on;\n'
	printf '\t\tproxy_next_upstream_tries 3;\n'
	printf '\t\tproxy_next_upstream_timeout 2s;\n'
}

# held_most - how many connections a switch is asked to hold at once:
# IDLE, or in the flood phase FLOOD_N
held_most() {
	if [ "$FLOOD" -eq 1 ]; then
		echo "$FLOOD_N"
	else
		echo "$IDLE"
	fi
}

# peer_nofile - the descriptors nginx's workers and each sniproxy ask
# for: NOFILE, or in the flood phase two per connection (client and
# upstream) for FLOOD_N and the load, past the hard limit if need be
# (they ask; the kernel caps what they get, and the report says what)
peer_nofile() {
	if [ "$FLOOD" -eq 1 ]; then
		echo $((2 * (FLOOD_N + 2000)))
	else
		echo "$NOFILE"
	fi
}

# nginx_stream - the stream block: ssl_preread, a map from the name to
# the backend; in the PROXY phase a second listen, on port nginx-pp, with
# proxy_protocol, the header's client taken as the client's
# (set_real_ip_from) and passed on in a PROXY v1 header (proxy_protocol on)
nginx_stream() {
	cat <<EOF
stream {
$(nginx_routes ssl_preread_server_name)
	server {
		listen 127.0.0.1:${PORT[nginx]};
$(proxy_conf '\t\tlisten 127.0.0.1:%s proxy_protocol;\n\t\tset_real_ip_from 127.0.0.0/8;\n\t\tproxy_protocol on;\n' "${PORT[nginx-pp]:-}")
		ssl_preread on;
		preread_timeout 2m;
		proxy_pass \$bench_backend;
		proxy_connect_timeout 5s;
		proxy_timeout 2m;
$(nginx_retries)
	}
}
EOF
}

# nginx_http - the HTTP phase's http block: a map from \$host (the
# request's Host, lowercase, its port dropped) to the backend, and
# proxy_pass to it, HTTP/1.1 with nginx's default Connection: close (the
# header comment says why); no access log, as the others log none
nginx_http() {
	cat <<EOF
http {
	access_log off;
$(nginx_routes host)
	server {
		listen 127.0.0.1:${PORT[nginx]};
		location / {
			proxy_pass http://\$bench_backend;
			proxy_http_version 1.1;
			proxy_connect_timeout 5s;
		}
	}
}
EOF
}

# start_nginx - 2 worker processes with the stream block, or in the HTTP
# phase the http block
start_nginx() {
	cat >"$T/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes $WORKERS;
daemon off;
pid $T/nginx.pid;
error_log $T/nginx-error.log warn;
worker_rlimit_nofile $(peer_nofile);
events {
	worker_connections $(($(peer_nofile) - 100));
}
$(if [ "$HTTP" -eq 1 ]; then nginx_http; else nginx_stream; fi)
EOF
	launch nginx "$T/nginx.log" nginx -c "$T/nginx.conf" -p "$T" \
	    -e "$T/nginx-error.log"
}

# start_sniproxy - single-threaded: two instances on one port, reuseport;
# in the HTTP phase its listener takes plain HTTP, routed by Host
start_sniproxy() {
	{
		[ "$(id -u)" -eq 0 ] && echo "user nobody"
		cat <<EOF
error_log {
	filename $T/sniproxy-error.log
	priority notice
}
listener 127.0.0.1:${PORT[sniproxy]} {
	protocol $(http_pick http tls)
	table bench
	reuseport yes
}
table bench {
	^a\\.bench\\.test\$ 127.0.0.1:${PORT[backend_a]}
	^b\\.bench\\.test\$ 127.0.0.1:${PORT[backend_b]}
}
EOF
	} >"$T/sniproxy.conf"
	chmod 644 "$T/sniproxy.conf"
	touch "$T/sniproxy-error.log"
	chmod 666 "$T/sniproxy-error.log"
	launch sniproxy "$T/sniproxy.log" sniproxy -f -c "$T/sniproxy.conf" \
	    -n "$(peer_nofile)"
	launch sniproxy2 "$T/sniproxy.log" sniproxy -f -c "$T/sniproxy.conf" \
	    -n "$(peer_nofile)"
}

# start_switches - the two backends and the four switches, with the
# configs of the phase under way, then a second for them to settle
start_switches() {
	start_backends
	start_snitch
	start_haproxy
	start_nginx
	start_sniproxy
	sleep 1
}

# sys_pids SYS - every process of a switch, one a line
sys_pids() {
	case $1 in
	direct) ;;
	sniproxy) descendants "${PID[sniproxy]}"; descendants "${PID[sniproxy2]}" ;;
	relay) descendants "${PID[relay]}"
		printf '%s\n' "${PID[relay_a]}" "${PID[relay_b]}" ;;
	backends) descendants "${PID[backend_a]}"; descendants "${PID[backend_b]}" ;;
	backends_v1) descendants "${PID[backend_v1a]}"
		descendants "${PID[backend_v1b]}" ;;
	*) descendants "${PID[$1]}" ;;
	esac
}

# cpu_ns PID... - nanoseconds on a CPU of every thread of each, summed
# (schedstat: finer than the clock ticks of /proc/PID/stat)
cpu_ns() {
	local pid f sum=0 ns rest
	for pid in "$@"; do
		for f in /proc/"$pid"/task/*/schedstat; do
			read -r ns rest <"$f" 2>/dev/null || continue
			sum=$((sum + ns))
		done
	done
	echo "$sum"
}

# cpu_ticks PID... - utime + stime, summed (clock ticks)
cpu_ticks() {
	local pid sum=0 stat
	for pid in "$@"; do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		# fields after the ")" closing comm: utime is the 12th, stime 13th
		stat=${stat##*) }
		# shellcheck disable=SC2086
		set -- $stat
		sum=$((sum + ${12} + ${13}))
	done
	echo "$sum"
}

# status_kb PID FIELD - VmRSS or VmHWM of a process, kB
status_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null ||
	    echo 0
}

# memory SYS FIELD - "total breakdown" in kB: role=kB for each process
memory() {
	local pid total=0 kb role parts=""
	local -a pids
	mapfile -t pids < <(sys_pids "$1")
	for pid in "${pids[@]}"; do
		kb=$(status_kb "$pid" "$2")
		[ -n "$kb" ] || continue
		role=$(process_role "$1" "$pid")
		total=$((total + kb))
		parts="$parts${parts:+,}$role=$kb"
	done
	echo "$total $parts"
}

# process_role SYS PID - master, worker, helper...
process_role() {
	local cmd
	cmd=$(tr '\0' ' ' <"/proc/$2/cmdline" 2>/dev/null)
	case $1:$cmd in
	# a worker's title ("snitch: worker N gen G") replaces its argv
	snitch:"snitch: worker"* | snitch:snitch-worker*) echo worker ;;
	snitch:"snitch: stats"*) echo stats ;;
	snitch:*) echo master ;;
	nginx:*worker*) echo worker ;;
	nginx:*) echo master ;;
	haproxy:*) echo process ;;
	sniproxy:*)
		if [ "$2" = "${PID[sniproxy]}" ] || [ "$2" = "${PID[sniproxy2]}" ]; then
			echo instance
		else
			echo binder
		fi ;;
	*) echo proc ;;
	esac
}

# reset_hwm SYS - VmHWM back to the current RSS (clear_refs 5)
reset_hwm() {
	local pid
	for pid in $(sys_pids "$1"); do
		echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
	done
}

# target SYS - bench-load's -t (and -T) for a system
target() {
	case $1 in
	direct) echo "-t 127.0.0.1:${PORT[backend_a]} -T 127.0.0.1:${PORT[backend_b]}" ;;
	sniproxy) echo "-t 127.0.0.1:${PORT[sniproxy]}" ;;
	*) echo "-t 127.0.0.1:${PORT[$1]}" ;;
	esac
}

# kv KEY LINE - the value of KEY=... in a bench-load line
kv() {
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

# measure ROUND SYS TEST ARGS... - one bench-load run, one raw row:
# round sys test rate p50 p90 p99 errors all switch_s backend_s mibps
# load_s (bench-load's own CPU).  bench-load goes to the target of
# TARGET (default SYS), the row to TSV (default raw.tsv)
measure() {
	local round=$1 sys=$2 test=$3 line s0 s1 b0 b1
	local -a sp bp
	shift 3
	mapfile -t sp < <(sys_pids "$sys")
	mapfile -t bp < <(sys_pids backends)
	s0=$(cpu_ticks "${sp[@]}")
	b0=$(cpu_ticks "${bp[@]}")
	# shellcheck disable=SC2046
	line=$("$BIN/bench-load" $(target "${TARGET:-$sys}") -o 5000 "$@")
	s1=$(cpu_ticks "${sp[@]}")
	b1=$(cpu_ticks "${bp[@]}")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
	    "$round" "$sys" "$test" "$(kv rate "$line")" "$(kv p50_us "$line")" \
	    "$(kv p90_us "$line")" "$(kv p99_us "$line")" \
	    "$(kv errors "$line")" "$(kv all "$line")" \
	    "$(awk -v t=$((s1 - s0)) -v hz="$HZ" 'BEGIN { printf "%.3f", t / hz }')" \
	    "$(awk -v t=$((b1 - b0)) -v hz="$HZ" 'BEGIN { printf "%.3f", t / hz }')" \
	    "$(kv mibps "$line")" "$(kv cpu_s "$line")" >>"${TSV:-$OUT/raw.tsv}"
	echo "$line" >>"$OUT/load.log"
	if [ "$test" = bulk ] || [ "${test#relay-}" != "$test" ]; then
		note "round $round $sys $test: $(kv mibps "$line") MiB/s," \
		    "CPU $(tail -1 "${TSV:-$OUT/raw.tsv}" | cut -f10) s," \
		    "errors $(kv errors "$line")"
	else
		note "round $round $sys $test: $(kv rate "$line")/s," \
		    "p99 $(kv p99_us "$line") us, errors $(kv errors "$line")"
	fi
}

# wait_held FILE - until the idle holder writing FILE holds them all
# (at most 60 s: SYNs dropped by a full accept queue come back late)
wait_held() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q '^held=' "$1" && return 0
		alive "$HOLDER" || return 1
		sleep 0.1
	done
	return 1
}

# load_peak ROUND SYS - SYS's peak memory since the last reset (the
# round's rate, bulk and relay runs) as rss.tsv's "load" row; reset
load_peak() {
	printf '%s\t%s\tload\t%s\n' "$1" "$2" "$(memory "$2" VmHWM)" \
	    >>"$OUT/rss.tsv"
	reset_hwm "$2"
}

# idle_run ROUND SYS - the c=20 rate while IDLE connections are held
idle_run() {
	local round=$1 sys=$2 first final mem
	load_peak "$round" "$sys"
	# emptied first: wait_held must not see the last holder's line
	: >"$T/idle.out"
	# shellcheck disable=SC2046
	"$BIN/bench-load" $(target "$sys") -H "$IDLE" -d 300 >>"$T/idle.out" &
	HOLDER=$!
	wait_held "$T/idle.out"
	first=$(head -1 "$T/idle.out")
	sleep 0.5	# the switch accepts what is still in its backlog
	measure "$round" "$sys" idle -c 20 -k x25519 -d "$SECS" -w "$WARM"
	mem=$(memory "$sys" VmHWM)
	printf '%s\t%s\tidle\t%s\n' "$round" "$sys" "$mem" >>"$OUT/rss.tsv"
	kill -TERM "$HOLDER" 2>/dev/null || true
	wait "$HOLDER" 2>/dev/null || true
	HOLDER=
	final=$(tail -1 "$T/idle.out")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$sys" \
	    "$(kv held "$first")" "$(kv held "$final")" "$(kv dropped "$final")" \
	    "$(kv connect_s "$first")" >>"$OUT/idle.tsv"
	sleep 1		# the switch closes the 10,000
	reset_hwm "$sys"
}

# now_us - the wall clock in microseconds
now_us() {
	echo "${EPOCHREALTIME/./}"
}

# sleep_until US - sleep until now_us is US (at once if it is past)
sleep_until() {
	local d=$(($1 - $(now_us)))
	[ "$d" -gt 0 ] || return 0
	sleep "$((d / 1000000)).$(printf '%06d' $((d % 1000000)))"
}

# forget PID - a process stopped here, no longer one for cleanup to stop
forget() {
	local i
	for i in "${!STARTED[@]}"; do
		[ "${STARTED[$i]}" = "$1" ] && unset 'STARTED[i]'
	done
	return 0
}

# stop_all - stop every process started so far
stop_all() {
	local pid
	for pid in "${STARTED[@]}"; do
		stop_tree "$pid"
	done
	STARTED=()
	PID=()
}

# unix_listening PATH - a socket listens at PATH (not merely its file,
# which a killed backend leaves behind)
unix_listening() {
	# Connect: libsnitch binds a temporary name and renames it over the
	# path, so /proc/net/unix shows the name it was bound to, not $1.
	[ -S "$1" ] && python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])' "$1" 2>/dev/null
}

# restart_backend NAME SIGNAL - stop bench-backend NAME (backend_a,
# backend_v1a) with SIGNAL (KILL; or TERM, its exit awaited for
# RESTART_WAIT_MS, then KILL), start the same command again at once on
# the same port and socket path, wait until it listens; RESTART_AWAY_MS:
# from the signal to that
restart_backend() {
	local name=$1 sig=$2 pid t0 deadline sock log old ino
	backend_command "$name"
	sock=${BACKEND_CMD[-1]}
	log=$(backend_log "$name")
	pid=${PID[$name]}
	old=$(stat -c %i "$sock" 2>/dev/null || true)
	# out of the job table: no "Killed" line from the shell for it
	disown "$pid" 2>/dev/null || true
	t0=$(now_us)
	kill -"$sig" "$pid" 2>/dev/null || true
	deadline=$((t0 + RESTART_WAIT_MS * 1000))
	while alive "$pid" && [ "$(now_us)" -lt "$deadline" ]; do
		sleep 0.005
	done
	if alive "$pid"; then
		note "$name still runs ${RESTART_WAIT_MS} ms after SIG$sig: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		RESTART_OVERDUE=$((RESTART_OVERDUE + 1))
		while alive "$pid"; do
			sleep 0.005
		done
	fi
	forget "$pid"
	# removed by a graceful stop: whatever is there next is new
	[ -e "$sock" ] || old=
	"${BACKEND_CMD[@]}" </dev/null >>"$log" 2>&1 &
	PID[$name]=$!
	STARTED+=("$!")
	# libsnitch listens, then renames its socket over the path: a new
	# file there is a listening backend (a stat per try, as cheap as
	# the old /proc/net/unix check; a connect would need a Python)
	deadline=$(($(now_us) + 5000000))
	until ino=$(stat -c %i "$sock" 2>/dev/null) && [ "$ino" != "$old" ]; do
		alive "${PID[$name]}" || die "$name exited: $(tail -5 "$log")"
		[ "$(now_us)" -lt "$deadline" ] ||
		    die "$name does not listen on $sock"
		sleep 0.002
	done
	RESTART_AWAY_MS=$((($(now_us) - t0) / 1000))
}

# restart_run ROUND SYS SIGNAL - bench-load on SYS at c=RESTART_CONC for
# RESTART_SECS while the backend of a.bench.test (backend_a; for
# snitch-v1 backend_v1a) is restarted RESTART_COUNT times, one every
# RESTART_EVERY_MS from the load's start; one row of restart.tsv:
# round sys signal clients failed connect reset timeout short misrouted
# alert stall_ms away_ms (median of the restarts) away_max_ms
restart_run() {
	local round=$1 sys=$2 sig=$3 load t0 k line away backend=backend_a
	local -a aways=()
	# snitch-v1's backends are the version-1 pair
	[ "$sys" != snitch-v1 ] || backend=backend_v1a
	# shellcheck disable=SC2046
	"$BIN/bench-load" $(target "$sys") -c "$RESTART_CONC" \
	    -d "$RESTART_SECS" -w 0 -o 5000 >"$T/restart.out" &
	load=$!
	t0=$(now_us)
	for ((k = 1; k <= RESTART_COUNT; k++)); do
		sleep_until $((t0 + k * RESTART_EVERY_MS * 1000))
		restart_backend "$backend" "$sig"
		aways+=("$RESTART_AWAY_MS")
	done
	wait "$load" || die "bench-load: $(cat "$T/restart.out")"
	line=$(cat "$T/restart.out")
	echo "$line" >>"$OUT/load.log"
	away=$(printf '%s\n' "${aways[@]}" | sort -n |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] "\t" v[NR] }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
	    "$round" "$sys" "$sig" "$(($(kv all "$line") + $(kv errors "$line")))" \
	    "$(kv errors "$line")" "$(kv connect "$line")" "$(kv reset "$line")" \
	    "$(kv timeout "$line")" "$(kv short "$line")" \
	    "$(kv misrouted "$line")" "$(kv alert "$line")" \
	    "$(kv stall_ms "$line")" "$away" >>"$OUT/restart.tsv"
	note "round $round $sys SIG$sig x$RESTART_COUNT: failed" \
	    "$(kv errors "$line") of $(($(kv all "$line") + $(kv errors "$line")))," \
	    "longest stall $(kv stall_ms "$line") ms, backend away ${away%%$'\t'*} ms"
}

# restart_phase - stop what the other phases started, start the same set
# again with the restart configs (HAProxy's and nginx's retries), then
# the restart runs: each system with SIGKILL, then each with SIGTERM,
# in a new order each time
restart_phase() {
	local round sys sig k=0 t0
	local -a order
	t0=$(date +%s)
	: >"$OUT/restart.tsv"
	stop_all
	RESTART=1
	RESTART_OVERDUE=0
	start_backends
	start_backends v1
	start_snitch
	start_snitch v1
	start_haproxy
	start_nginx
	start_sniproxy
	sleep 1
	for ((round = 1; round <= RESTART_ROUNDS; round++)); do
		for sig in KILL TERM; do
			mapfile -t order < <(rotate $((round + k)) \
			    "${RESTART_SYSTEMS[@]}")
			k=$((k + 1))
			for sys in "${order[@]}"; do
				restart_run "$round" "$sys" "$sig"
			done
		done
	done
	RESTART_SNITCH_STATS=$(snitch_stats snitch)
	RESTART_SNITCH_V1_STATS=$(snitch_stats snitch-v1)
	RESTART_ELAPSED=$(($(date +%s) - t0))
}

# proxy_run ROUND SYS RUN - one bench-load run of SYS at c=PROXY_CONC, a
# row of proxy.tsv (as raw.tsv's, the test being RUN): RUN plain, on its
# plain listener; v1 or v2, on its PROXY one with a header of that version
proxy_run() {
	local round=$1 sys=$2 run=$3 target=$2
	local -a header=()
	alive "${PID[$sys]}" || die "$sys exited"
	if [ "$run" != plain ]; then
		target=$sys-pp
		header=(-P "${run#v}")
	fi
	TARGET=$target TSV=$OUT/proxy.tsv measure "$round" "$sys" "$run" \
	    -c "$PROXY_CONC" -k x25519 -d "$PROXY_SECS" -w "$WARM" \
	    ${header[@]+"${header[@]}"}
}

# proxy_told - stop the two backends; PROXY_TOLD: how many clients in
# 198.51.100.0/24 (bench-load -P's) they were told of, summed over both,
# by the way they came: "handoff v1 v2" (SNItch's handoff, a PROXY v1
# header, a v2 one), from the line each writes at exit
proxy_told() {
	local name line k v
	local -a sum=(0 0 0) keys=(told_handoff told_v1 told_v2)
	for name in backend_a backend_b; do
		stop_tree "${PID[$name]}"
		forget "${PID[$name]}"
		line=$(grep '^bench-backend' "$(backend_log "$name")" | tail -1)
		for k in 0 1 2; do
			v=$(kv "${keys[k]}" "$line")
			sum[k]=$((sum[k] + ${v:-0}))
		done
	done
	PROXY_TOLD="${sum[*]}"
}

# proxy_phase - stop what ran before, start the backends (-x) and the
# four switches with the PROXY phase's configs, then PROXY_ROUNDS rounds
# of each system's runs (plain, and one per header version but for
# sniproxy), the systems and each one's runs in a new order each round
proxy_phase() {
	local round sys run t0
	local -a order runs
	t0=$(date +%s)
	: >"$OUT/proxy.tsv"
	stop_all
	PROXY=1
	start_switches
	for ((round = 1; round <= PROXY_ROUNDS; round++)); do
		mapfile -t order < <(rotate "$round" "${PROXY_SYSTEMS[@]}")
		for sys in "${order[@]}"; do
			runs=(plain)
			[ "$sys" = sniproxy ] ||
			    runs+=("${PROXY_VERSIONS[@]/#/v}")
			mapfile -t runs < <(rotate "$round" "${runs[@]}")
			for run in "${runs[@]}"; do
				proxy_run "$round" "$sys" "$run"
			done
		done
	done
	PROXY_SNITCH_STATS=$(snitch_stats snitch)
	proxy_told
	PROXY=0
	PROXY_ELAPSED=$(($(date +%s) - t0))
}

# http_phase - stop what ran before, start the backends (-h) and the
# four switches with the HTTP phase's configs, then HTTP_ROUNDS rounds of
# one bench-load -h run per system (direct too), in a new order each
# round; rows as raw.tsv's, the test "http", to http.tsv
http_phase() {
	local round sys t0
	local -a order
	t0=$(date +%s)
	: >"$OUT/http.tsv"
	stop_all
	RESTART=0
	HTTP=1
	start_switches
	for ((round = 1; round <= HTTP_ROUNDS; round++)); do
		mapfile -t order < <(rotate "$round" "${HTTP_SYSTEMS[@]}")
		for sys in "${order[@]}"; do
			[ "$sys" = direct ] || alive "${PID[$sys]}" ||
			    die "$sys exited"
			TSV=$OUT/http.tsv measure "$round" "$sys" http -h \
			    -c "$HTTP_CONC" -d "$HTTP_SECS" -w "$WARM"
		done
	done
	HTTP_SNITCH_STATS=$(snitch_stats snitch)
	HTTP=0
	HTTP_ELAPSED=$(($(date +%s) - t0))
}

# ack_run ROUND SYS - one bench-load run of SYS (snitch or snitch-v1) at
# c=20 with an x25519 hello, ACK_SECS after the warm-up; one row of
# ack.tsv: round sys rate p99 errors all worker_s backend_s (CPU
# seconds of the master's children, the workers, and of SYS's two
# backends, warm-up included, as "all" is)
ack_run() {
	local round=$1 sys=$2 line w0 w1 b0 b1 backends=backends
	local -a wp bp
	[ "$sys" = snitch ] || backends=backends_v1
	alive "${PID[$sys]}" || die "$sys exited"
	mapfile -t wp < <(descendants "${PID[$sys]}" | tail -n +2)
	mapfile -t bp < <(sys_pids "$backends")
	w0=$(cpu_ticks "${wp[@]}")
	b0=$(cpu_ticks "${bp[@]}")
	# shellcheck disable=SC2046
	line=$("$BIN/bench-load" $(target "$sys") -o 5000 -c 20 -k x25519 \
	    -d "$ACK_SECS" -w "$WARM")
	w1=$(cpu_ticks "${wp[@]}")
	b1=$(cpu_ticks "${bp[@]}")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$sys" \
	    "$(kv rate "$line")" "$(kv p99_us "$line")" "$(kv errors "$line")" \
	    "$(kv all "$line")" \
	    "$(awk -v t=$((w1 - w0)) -v hz="$HZ" 'BEGIN { printf "%.3f", t / hz }')" \
	    "$(awk -v t=$((b1 - b0)) -v hz="$HZ" 'BEGIN { printf "%.3f", t / hz }')" \
	    >>"$OUT/ack.tsv"
	echo "$line" >>"$OUT/load.log"
	note "round $round $sys: $(kv rate "$line")/s," \
	    "p99 $(kv p99_us "$line") us, errors $(kv errors "$line")," \
	    "worker $(awk -v t=$((w1 - w0)) -v hz="$HZ" -v n="$(kv all "$line")" \
	    'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }') us/conn"
}

# ack_phase - stop what ran before, start both backend pairs and both
# SNItch, then ACK_ROUNDS rounds of snitch and snitch-v1 (ACK_SYSTEMS),
# the first of the two alternating from round to round
ack_phase() {
	local round sys t0
	local -a order
	t0=$(date +%s)
	: >"$OUT/ack.tsv"
	stop_all
	start_backends
	start_backends v1
	start_snitch
	start_snitch v1
	sleep 1
	for ((round = 1; round <= ACK_ROUNDS; round++)); do
		mapfile -t order < <(rotate "$round" "${ACK_SYSTEMS[@]}")
		for sys in "${order[@]}"; do
			ack_run "$round" "$sys"
		done
	done
	ACK_ELAPSED=$(($(date +%s) - t0))
}

# flood_start MODE - FLOOD_PROCS bench-flood processes against the
# system under test (FLOOD_SYS), FLOOD_N connections between them, each
# its own /24 of sources from 127.0.2.0/24 on (half), or from the /24
# after the half flood's last (silent); their pids in FLOODERS,
# their output in $T/flood-K.out
flood_start() {
	local mode=$1 k n first=2
	[ "$mode" = half ] || first=$((2 + FLOOD_PROCS))
	FLOODERS=()
	for ((k = 0; k < FLOOD_PROCS; k++)); do
		n=$((FLOOD_N / FLOOD_PROCS))
		[ "$k" -ne 0 ] || n=$((n + FLOOD_N % FLOOD_PROCS))
		: >"$T/flood-$k.out"
		# shellcheck disable=SC2046
		"$BIN/bench-flood" $(target "$FLOOD_SYS") -n "$n" -m "$mode" \
		    -s "127.0.$((first + k)).1" -S 254 -r "$FLOOD_RATE" \
		    -w "$FLOOD_WAIT" -d 120 </dev/null >"$T/flood-$k.out" \
		    2>"$T/flood-$k.err" &
		FLOODERS+=("$!")
	done
}

# flood_up - until every bench-flood says its flood is up; FLOOD_HELD:
# the connections they hold then, FLOOD_UP_S: the slowest one's seconds
flood_up() {
	local k i line
	FLOOD_HELD=0
	FLOOD_UP_S=0
	for ((k = 0; k < FLOOD_PROCS; k++)); do
		for ((i = 0; i < (FLOOD_WAIT + 5) * 10; i++)); do
			grep -q '^held=' "$T/flood-$k.out" && break
			alive "${FLOODERS[$k]}" ||
			    die "bench-flood exited: $(cat "$T/flood-$k.err")"
			sleep 0.1
		done
		line=$(head -1 "$T/flood-$k.out")
		[ -n "$line" ] || die "bench-flood says nothing: $T/flood-$k.err"
		FLOOD_HELD=$((FLOOD_HELD + $(kv held "$line")))
		FLOOD_UP_S=$(awk -v a="$FLOOD_UP_S" -v b="$(kv connect_s "$line")" \
		    'BEGIN { print (b > a ? b : a) }')
	done
}

# flood_stop - SIGTERM to every bench-flood (each closes its connections
# with a RST), awaited; FLOOD_END: "held opened closed reopened failed",
# summed over them
flood_stop() {
	local k line f v
	local -a sum=(0 0 0 0 0) keys=(held opened closed reopened failed)
	for ((k = 0; k < ${#FLOODERS[@]}; k++)); do
		kill -TERM "${FLOODERS[$k]}" 2>/dev/null || true
	done
	for ((k = 0; k < ${#FLOODERS[@]}; k++)); do
		wait "${FLOODERS[$k]}" 2>/dev/null || true
		line=$(grep '^held=.*opened=' "$T/flood-$k.out" || true)
		for f in 0 1 2 3 4; do
			v=$(kv "${keys[f]}" "$line")
			sum[f]=$((sum[f] + ${v:-0}))
		done
	done
	FLOODERS=()
	FLOOD_END="${sum[*]}"
}

# flood_settle PORT - until the switch on PORT has fewer than 50
# connections from clients (at most 15 s), then 1 s for it to close
# what it held on to; FLOOD_SETTLE_S: how long that took
flood_settle() {
	local port=$1 t0 i n
	t0=$(now_us)
	for ((i = 0; i < 150; i++)); do
		n=$(ss -Htn state established state close-wait state syn-recv \
		    "( sport = :$port )" 2>/dev/null | wc -l)
		[ "$n" -ge 50 ] || break
		sleep 0.1
	done
	sleep 1
	FLOOD_SETTLE_S=$(awk -v us=$(($(now_us) - t0)) \
	    'BEGIN { printf "%.1f", us / 1e6 }')
}

# flood_run SYS MODE - bench-load at c=FLOOD_CONC on SYS with no flood
# (MODE none), or once FLOOD_N half-hellos (half) or silent connections
# (silent) are held; one row of flood.tsv: round (1) sys mode rate p99
# errors all connect reset timeout short misrouted alert held_up up_s
# held_end opened closed reopened failed settle_s switch_s flood_s (CPU
# seconds of the switch's processes and of the bench-flood ones while
# bench-load ran; "-" for what a run without a flood does not have)
flood_run() {
	local sys=$1 mode=$2 line port s0 s1 f0 f1 flood_s=-
	local -a fend=(- - - - -) row sp
	FLOOD_SYS=$sys
	FLOOD_HELD=- FLOOD_UP_S=- FLOOD_SETTLE_S=-
	port=$(target "$sys")
	port=${port##*:}
	alive "${PID[$sys]}" || die "$sys exited"
	if [ "$mode" != none ]; then
		flood_start "$mode"
		flood_up
		sleep 0.5	# the switch accepts what is still in its backlog
	fi
	mapfile -t sp < <(sys_pids "$sys")
	s0=$(cpu_ticks "${sp[@]}")
	f0=$(cpu_ticks "${FLOODERS[@]}")
	# shellcheck disable=SC2046
	line=$("$BIN/bench-load" $(target "$sys") -c "$FLOOD_CONC" -k x25519 \
	    -d "$FLOOD_SECS" -w "$WARM" -o "$FLOOD_TIMEOUT_MS")
	s1=$(cpu_ticks "${sp[@]}")
	f1=$(cpu_ticks "${FLOODERS[@]}")
	echo "$line" >>"$OUT/load.log"
	if [ "$mode" != none ]; then
		flood_s=$(awk -v t=$((f1 - f0)) -v hz="$HZ" \
		    'BEGIN { printf "%.2f", t / hz }')
		flood_stop
		read -r -a fend <<<"$FLOOD_END"
		flood_settle "$port"
	fi
	row=(1 "$sys" "$mode" "$(kv rate "$line")" "$(kv p99_us "$line")"
	    "$(kv errors "$line")" "$(kv all "$line")" "$(kv connect "$line")"
	    "$(kv reset "$line")" "$(kv timeout "$line")" "$(kv short "$line")"
	    "$(kv misrouted "$line")" "$(kv alert "$line")" "$FLOOD_HELD"
	    "$FLOOD_UP_S" "${fend[@]}" "$FLOOD_SETTLE_S"
	    "$(awk -v t=$((s1 - s0)) -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')"
	    "$flood_s")
	(IFS=$'\t'; echo "${row[*]}") >>"$OUT/flood.tsv"
	note "$sys, flood $mode (held $FLOOD_HELD in $FLOOD_UP_S s): " \
	    "$(kv rate "$line")/s, p99 $(kv p99_us "$line") us," \
	    "failed $(kv errors "$line") of $(($(kv all "$line") + $(kv errors "$line")))"
}

# nofile_of SYS - the descriptor limit (soft) each of SYS's processes
# runs with, "role limit" per process, counted: "2 x worker 20000"
nofile_of() {
	local pid
	for pid in $(sys_pids "$1"); do
		printf '%s %s\n' "$(process_role "$1" "$pid")" \
		    "$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits" \
		    2>/dev/null)"
	done | sort | uniq -c | awk '{ printf "%s%s%s %s", (NR > 1 ? ", " : ""),
	    ($1 > 1 ? $1 " x " : ""), $2, $3 }'
}

# backlog_of SYS - the accept queue's length of SYS's listener (ss's
# Send-Q of a listening socket)
backlog_of() {
	local port
	port=$(target "$1")
	port=${port##*:}
	ss -Hltn "( sport = :$port )" 2>/dev/null | awk '{ print $3 }' |
	    sort -u | paste -sd ' '
}

# flood_phase - stop what ran before, start the backends and the four
# switches with the flood configs (SNItch's defaults; the others' knobs
# for FLOOD_N connections), then each system, in turn: no flood, half
# hellos held, silent connections held
flood_phase() {
	local sys mode t0
	t0=$(date +%s)
	: >"$OUT/flood.tsv"
	stop_all
	RESTART=0
	FLOOD=1
	start_switches
	NCPU=$(nproc)
	FLOOD_MAXCONN=$(($(held_most) + 2000))
	FLOOD_PEER_NOFILE=$(peer_nofile)
	FLOOD_SETUP=""
	for sys in "${FLOOD_SYSTEMS[@]}"; do
		FLOOD_SETUP+="$sys	$(nofile_of "$sys")	$(backlog_of "$sys")"$'\n'
	done
	for sys in "${FLOOD_SYSTEMS[@]}"; do
		for mode in "${FLOOD_MODES[@]}"; do
			flood_run "$sys" "$mode"
		done
	done
	FLOOD_SNITCH_STATS=$(snitch_stats snitch)
	FLOOD_KERNEL="net.core.somaxconn $(sysctl -n net.core.somaxconn)"
	FLOOD_KERNEL+=", net.ipv4.tcp_max_syn_backlog $(sysctl -n net.ipv4.tcp_max_syn_backlog)"
	FLOOD_KERNEL+=", net.ipv4.tcp_syncookies $(sysctl -n net.ipv4.tcp_syncookies)"
	FLOOD_KERNEL+=", net.ipv4.ip_local_port_range $(sysctl -n net.ipv4.ip_local_port_range | tr '\t' -)"
	FLOOD_KERNEL+=", descriptor limit of bench/run.sh $(ulimit -Sn) (hard $(ulimit -Hn))"
	FLOOD=0
	FLOOD_ELAPSED=$(($(date +%s) - t0))
}

# dribble_run ROUND SYS - DRIBBLE_N dribbled hellos to SYS at once; one
# row of dribble.tsv: round sys hellos cpu_ns seconds outcomes, cpu_ns
# the switch's over the whole run, outcomes what the clients saw
# (hostile.py's first word: "data" when backend a's reply came back,
# "reset", "closed", "timeout"), as word:count,...
dribble_run() {
	local round=$1 sys=$2 k ns0 ns1 t0 outcomes
	local -a pids jobs=()
	mapfile -t pids < <(sys_pids "$sys")
	ns0=$(cpu_ns "${pids[@]}")
	t0=$(now_us)
	for ((k = 0; k < DRIBBLE_N; k++)); do
		python3 "$ROOT/t/hostile.py" --port "${PORT[$sys]}" \
		    --timeout 120 --name a.bench.test --pad-to 16384 \
		    --record-size 8 --write bytes --delay 0.0002 \
		    >"$T/dribble-$k.out" 2>&1 &
		jobs+=("$!")
	done
	for k in "${jobs[@]}"; do
		wait "$k" || true
	done
	ns1=$(cpu_ns "${pids[@]}")
	outcomes=$(for ((k = 0; k < DRIBBLE_N; k++)); do
		awk 'NR == 1 { print $1 }' "$T/dribble-$k.out"
	done | sort | uniq -c | awk '{ printf "%s%s:%s", (NR > 1 ? "," : ""), $2, $1 }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$sys" "$DRIBBLE_N" \
	    $((ns1 - ns0)) \
	    "$(awk -v us=$(($(now_us) - t0)) 'BEGIN { printf "%.1f", us / 1e6 }')" \
	    "${outcomes:--}" >>"$OUT/dribble.tsv"
}

# dribble_phase - the dribble runs, DRIBBLE_ROUNDS rounds, the systems
# in a new order each round, on a fresh set of processes
dribble_phase() {
	local round sys t0
	local -a order
	t0=$(date +%s)
	: >"$OUT/dribble.tsv"
	stop_all
	RESTART=0
	start_switches
	for ((round = 1; round <= DRIBBLE_ROUNDS; round++)); do
		mapfile -t order < <(rotate "$round" "${DRIBBLE_SYSTEMS[@]}")
		for sys in "${order[@]}"; do
			alive "${PID[$sys]}" || die "$sys exited"
			dribble_run "$round" "$sys"
		done
	done
	DRIBBLE_SNITCH_STATS=$(snitch_stats snitch)
	DRIBBLE_ELAPSED=$(($(date +%s) - t0))
}

# rotate N [SYS...] - the systems given (default SYSTEMS) rotated by N,
# one a line
rotate() {
	local by=$1 n i
	shift
	local -a list=("$@")
	[ $# -gt 0 ] || list=("${SYSTEMS[@]}")
	n=${#list[@]}
	for ((i = 0; i < n; i++)); do
		echo "${list[$(((i + by) % n))]}"
	done
}

# relay_runs ROUND - the relay runs: RELAY_REPEAT times each direction,
# the systems in a new order each time
relay_runs() {
	local round=$1 k sys dir flag
	local -a order
	for ((k = 0; k < RELAY_REPEAT; k++)); do
		for dir in down up; do
			flag=-b
			[ "$dir" = down ] || flag=-u
			mapfile -t order < <(rotate $((round + k)) \
			    "${RELAY_SYSTEMS[@]}")
			# -o: a slow switch may need more than measure's 5 s
			for sys in "${order[@]}"; do
				measure "$round" "$sys" "relay-$dir" \
				    -c "$RELAY_CONNS" -N "$RELAY_CONNS" -d 60 \
				    -o 60000 "$flag" "$RELAY_MIB"
			done
		done
	done
}

# worker_kb SYS FIELD - the largest FIELD (VmRSS, VmHWM) of SYS's workers
worker_kb() {
	local pid kb max=0
	for pid in $(sys_pids "$1" | tail -n +2); do
		kb=$(status_kb "$pid" "$2")
		[ "${kb:-0}" -gt "$max" ] && max=$kb
	done
	echo "$max"
}

# snitch_side NAME WORKERS [LINE...] - another SNItch on its own port,
# for the memory figures of other configurations; stopped by the caller
snitch_side() {
	local name=$1 workers=$2
	shift 2
	pick_ports "$name"
	snitch_config "$T/$name.ini" "${PORT[$name]}" "$workers" "$@"
	launch "$name" /dev/null "$BUILD/snitch" -c "$T/$name.ini"
	sleep 0.5
}

# snitch_default_rss - DEFAULT_MASTER_KB and DEFAULT_WORKER_KB: VmRSS,
# idle, with max_pending at its default
snitch_default_rss() {
	snitch_side snitch_default "$WORKERS"
	DEFAULT_MASTER_KB=$(status_kb "${PID[snitch_default]}" VmRSS)
	DEFAULT_WORKER_KB=$(worker_kb snitch_default VmRSS)
	stop_tree "${PID[snitch_default]}"
}

# snitch_one_worker - ONE_WORKER_HELD idle connections held (as in
# idle_run) by a single worker, and its VmHWM, ONE_WORKER_KB
snitch_one_worker() {
	snitch_side snitch_one 1 "peek_timeout = 2m" \
	    "max_pending = $((IDLE + 240))"
	: >"$T/one.out"
	"$BIN/bench-load" -t "127.0.0.1:${PORT[snitch_one]}" -H "$IDLE" -d 300 \
	    >>"$T/one.out" &
	HOLDER=$!
	wait_held "$T/one.out" || true
	sleep 1
	ONE_WORKER_HELD=$(kv held "$(head -1 "$T/one.out")")
	ONE_WORKER_KB=$(worker_kb snitch_one VmHWM)
	stop_tree "$HOLDER"
	HOLDER=
	stop_tree "${PID[snitch_one]}"
}

# versions - one line per system
versions() {
	local rev
	rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C "$ROOT" diff --quiet HEAD -- common worker master conf backend \
	    2>/dev/null || rev="$rev (with uncommitted changes)"
	echo "snitch	$("$BUILD/snitch" -V 2>&1 | head -1), git $rev"
	echo "haproxy	$(haproxy -v 2>&1 | head -1)"
	echo "nginx	$(nginx -v 2>&1 | head -1) ($(dpkg-query -W -f='${Version}' \
	    libnginx-mod-stream 2>/dev/null) libnginx-mod-stream)"
	echo "sniproxy	$(sniproxy -V 2>&1 | head -1) (Debian $(dpkg-query -W \
	    -f='${Version}' sniproxy 2>/dev/null))"
	echo "compiler	$(${CC:-cc} --version | head -1)"
}

# machine - the machine's description, as markdown list items
machine() {
	local models
	models=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
	    sort | uniq -c | sed 's/^ *//' | paste -sd ';')
	echo "- CPUs: $(nproc) ($models)"
	echo "- kernel: $(uname -srm)"
	echo "- memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' \
	    /proc/meminfo)"
	echo "- OS: $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "- load average at start: $LOAD_START; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# wanted PHASE - the run has PHASE: it has every phase, or BENCH_ONLY
# names this one
wanted() {
	[ -z "$ONLY" ] || [ "$ONLY" = "$1" ]
}

main() {
	local sys start_s k
	if [ ! -x "$BIN/bench-load" ] || [ ! -x "$BIN/bench-backend" ] ||
	    [ ! -x "$BIN/bench-flood" ] ||
	    [ ! -x "$BUILD/snitch" ] || [ ! -x "$BUILD/snitch-relay" ]; then
		die "build first: make bench-build"
	fi
	for sys in haproxy nginx sniproxy; do
		command -v "$sys" >/dev/null || die "$sys missing: bench/setup.sh"
	done
	case $ONLY in
	'' | proxy | ack | restart | flood | http | dribble) ;;
	*) die "BENCH_ONLY: proxy, ack, restart, flood, http or dribble, or unset for every phase" ;;
	esac
	start_s=$(date +%s)
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	DATE=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
	# every process started here inherits this; the hard limit may be
	# below what we ask for (no CAP_SYS_RESOURCE), then it is the limit
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	NOFILE=$(ulimit -n)
	[ "$NOFILE" = unlimited ] && NOFILE=1048576
	[ "$NOFILE" -gt 65536 ] && NOFILE=65536 && ulimit -n 65536
	[ "$NOFILE" -ge $((IDLE + 1000)) ] ||
	    die "the descriptor limit ($NOFILE) is too low for $IDLE idle connections"

	T=$(mktemp -d /tmp/snitch-bench.XXXXXX)
	chmod 755 "$T"
	trap cleanup EXIT
	trap 'exit 1' INT TERM
	mkdir -p "$OUT"
	: >"$OUT/load.log"

	pick_ports backend_a backend_b backend_v1a backend_v1b snitch snitch-v1 \
	    haproxy nginx sniproxy relay snitch-pp haproxy-pp nginx-pp
	PORT[sniproxy2]=${PORT[sniproxy]}
	note "temp dir $T; ports: $(for k in "${!PORT[@]}"; do printf '%s=%s ' "$k" "${PORT[$k]}"; done)"
	[ -n "$ONLY" ] || main_phases
	if wanted proxy; then proxy_phase; fi
	if wanted ack; then ack_phase; fi
	if wanted restart; then restart_phase; fi
	if wanted flood; then flood_phase; fi
	if wanted http; then http_phase; fi
	if wanted dribble; then dribble_phase; fi
	ELAPSED=$(($(date +%s) - start_s))
	VERSIONS=$(versions)
	MACHINE=$(machine)
	export ROUNDS SECS WARM IDLE BULK_MIB BULK_CONNS BULK_REPEAT WORKERS COMMAND DATE \
	    RELAY_MIB RELAY_CONNS RELAY_REPEAT \
	    ELAPSED VERSIONS MACHINE SNITCH_STATS DEFAULT_MASTER_KB \
	    DEFAULT_WORKER_KB ONE_WORKER_HELD ONE_WORKER_KB BUILD HZ \
	    RESTART_ROUNDS RESTART_SECS RESTART_CONC RESTART_COUNT \
	    RESTART_EVERY_MS RESTART_WAIT_MS RESTART_OVERDUE \
	    RESTART_SNITCH_STATS RESTART_SNITCH_V1_STATS RESTART_ELAPSED \
	    IDLE_ROUNDS ACK_ROUNDS ACK_SECS ACK_ELAPSED ONLY \
	    FLOOD_N FLOOD_PROCS FLOOD_RATE FLOOD_WAIT FLOOD_SECS FLOOD_CONC \
	    FLOOD_TIMEOUT_MS FLOOD_SETUP FLOOD_KERNEL FLOOD_SNITCH_STATS \
	    FLOOD_ELAPSED FLOOD_MAXCONN FLOOD_PEER_NOFILE NCPU \
	    PROXY_ROUNDS PROXY_SECS PROXY_CONC PROXY_ELAPSED PROXY_TOLD \
	    PROXY_SNITCH_STATS HTTP_ROUNDS HTTP_SECS HTTP_CONC HTTP_ELAPSED \
	    HTTP_SNITCH_STATS DRIBBLE_ROUNDS DRIBBLE_N DRIBBLE_ELAPSED \
	    DRIBBLE_SNITCH_STATS
	export PROXY_VERSIONS_LIST="${PROXY_VERSIONS[*]}"
	export RESTART_SYSTEMS_LIST="${RESTART_SYSTEMS[*]}"
	if [ -n "$ONLY" ]; then
		"$ROOT/bench/report.sh" "$OUT" "$OUT/$ONLY.md"
		cat "$OUT/$ONLY.md"
		return 0
	fi
	"$ROOT/bench/report.sh" "$OUT" "$RESULTS"
	cat "$RESULTS"
}

# main_phases - every phase but the restart runs: rate, bulk, relay and
# idle runs, ROUNDS rounds, then the memory of other configurations
main_phases() {
	local round ti test conc variant sys k
	local -a order
	: >"$OUT/raw.tsv"
	: >"$OUT/rss.tsv"
	: >"$OUT/idle.tsv"
	start_backends
	start_snitch
	start_haproxy
	start_nginx
	start_sniproxy
	start_relay
	sleep 1
	for sys in snitch haproxy nginx sniproxy; do
		printf '0\t%s\tstart\t%s\n' "$sys" "$(memory "$sys" VmRSS)" \
		    >>"$OUT/rss.tsv"
	done

	for ((round = 1; round <= ROUNDS; round++)); do
		for ((ti = 0; ti < ${#RATE_TESTS[@]}; ti++)); do
			read -r test conc variant <<<"${RATE_TESTS[$ti]}"
			mapfile -t order < <(rotate $((round + ti)))
			for sys in "${order[@]}"; do
				measure "$round" "$sys" "$test" -c "$conc" \
				    -k "$variant" -d "$SECS" -w "$WARM"
			done
		done
		# a bulk run is short: BULK_REPEAT of them per round
		for ((k = 0; k < BULK_REPEAT; k++)); do
			mapfile -t order < <(rotate $((round + 3 + k)))
			for sys in "${order[@]}"; do
				measure "$round" "$sys" bulk -c "$BULK_CONNS" \
				    -N "$BULK_CONNS" -b "$BULK_MIB" -d 60
			done
		done
		relay_runs "$round"
		mapfile -t order < <(rotate $((round + 4)))
		for sys in "${order[@]}"; do
			if [ "$round" -le "$IDLE_ROUNDS" ]; then
				idle_run "$round" "$sys"
			else
				load_peak "$round" "$sys"
			fi
		done
	done

	SNITCH_STATS=$(snitch_stats snitch)
	snitch_default_rss
	snitch_one_worker
}

# bench/profile.sh sources this file for its functions
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
