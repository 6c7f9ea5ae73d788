#!/usr/bin/env bats
# metrics.bats - GET /metrics on the stats socket, and snitch -s.
#
# snitch.ini(5), stats; doc/operating.md: the stats socket (a Unix socket or a TCP address) answers GET
# /metrics with the Prometheus text format; the body is parsed here with
# prometheus_client's own parser (t/metrics.py), which also checks that
# every family has HELP and TYPE and that histograms are cumulative with
# _count equal to the +Inf bucket.  The counts must equal what the test
# sent.  Other requests get 404, an oversized one 431, and a client that
# sends nothing or dribbles cannot keep snitch-stats from answering the
# next one.

load lib
load lib_faults

METRICS_PY=$SNITCH_ROOT/t/metrics.py
HELLO_BYTES=517		# Python's ssl pads its ClientHello to 512 + 5

setup() {
	snitch_setup
	WORKERS=1
	start_demo alpha
	STATS_URL=http://localhost/metrics
	STATS_CURL=(--unix-socket "$T/stats.sock")
}

# start_with_stats STATS - snitch with `stats = STATS`, one worker; the
# figures once start_snitch's probe (a connect and close: client_gone)
# is counted are the base of delta
start_with_stats() {
	write_config "stats = $1"
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 1
	wait_until metric_is 'snitch_connections_total{outcome="client_gone"}' 1
	wait_until metric_is 'snitch_connections_pending{worker="0"}' 0
	cp "$T/metrics.txt" "$T/base.txt"
}

# get_stats PATH [CURL ARGS...] - curl PATH on the stats socket or
# address: the body on stdout, the status in $T/status
get_stats() {
	local path=$1
	shift
	curl -sS -g -m 5 -o "$T/body" -w '%{http_code}\n' "${STATS_CURL[@]}" \
	    "$@" "${STATS_URL%/metrics}$path" >"$T/status" || return 1
	cat "$T/body"
}

# scrape - GET /metrics, checked by metrics.py, flat in $T/metrics.txt
scrape() {
	get_stats /metrics -D "$T/headers" >"$T/metrics.body" &&
	    [ "$(cat "$T/status")" = 200 ] &&
	    "$PYTHON" "$METRICS_PY" <"$T/metrics.body" >"$T/metrics.txt"
}

# metric KEY - a sample of the last scrape (labels sorted by name)
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$T/metrics.txt"
}

# delta KEY - how much KEY grew since start_with_stats
delta() {
	echo $(($(metric "$1") - $(awk -v k="$1" '$1 == k { print $2 }' \
	    "$T/base.txt")))
}

# metric_is KEY VALUE - scrape now: KEY has VALUE
metric_is() {
	scrape && [ "$(metric "$1")" = "$2" ]
}

# send_not_tls - a client that speaks SSH to the TLS port (HTTP would be
# answered, and counted as http_refused)
send_not_tls() {
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'SSH-2.0-OpenSSH9\r\n' >&7
	timeout 5 cat <&7 >/dev/null || true
	exec 7>&-
}

# send_timeout - a client that sends the start of a record, then nothing
send_timeout() {
	exec 8<>"/dev/tcp/127.0.0.1/$PORT"
	printf '\026\003\001' >&8
	wait_for 10 log_has "outcome=timeout"
	exec 8>&-
}

# route_some - 3 handoffs, 2 alert 112, 1 not TLS, 1 timeout
route_some() {
	run -0 faults clients --name alpha.localhost --count 3
	assert_equal "$(grep -c '^answer alpha alpha.localhost$' <<<"$output")" 3
	run -0 faults clients --name nosuch.localhost --count 2
	assert_equal "$(grep -c '^alert 112$' <<<"$output")" 2
	send_not_tls
	wait_until log_has "outcome=not-tls"
	send_timeout
	wait_until metric_is snitch_connections_pending'{worker="0"}' 0
}

# assert_routed_some - the figures of route_some, in the last scrape
assert_routed_some() {
	local c=snitch_connections_total
	assert_equal "$(delta snitch_connections_accepted_total)" 7
	assert_equal "$(delta "$c"'{outcome="handoff"}')" 3
	assert_equal "$(delta "$c"'{alert="112",outcome="alert"}')" 2
	assert_equal "$(delta "$c"'{alert="80",outcome="alert"}')" 0
	assert_equal "$(delta "$c"'{outcome="not_tls"}')" 1
	assert_equal "$(delta "$c"'{outcome="timeout"}')" 1
	assert_equal "$(delta "$c"'{outcome="client_gone"}')" 0
	assert_equal "$(delta "$c"'{outcome="lost"}')" 0
	assert_equal "$(delta 'snitch_backend_handoffs_total{backend="alpha"}')" 3
	assert_equal "$(delta 'snitch_backend_down_total{backend="alpha"}')" 0
	assert_equal "$(delta 'snitch_handoff_failures_total{cause="connect"}')" 0
	# every connection that ended was timed; the timeout took
	# peek_timeout (2 s), the others were answered at once
	# (figures grown since start: start_snitch's probe is one more)
	assert_equal "$(delta snitch_peek_duration_seconds_count)" 7
	assert_equal "$(delta 'snitch_peek_duration_seconds_bucket{le="1"}')" 6
	assert_equal "$(delta 'snitch_peek_duration_seconds_bucket{le="2.5"}')" 7
	# the five complete hellos, 517 bytes each
	assert_equal "$(delta snitch_client_hello_size_bytes_count)" 5
	assert_equal "$(delta snitch_client_hello_size_bytes_sum)" \
	    $((5 * HELLO_BYTES))
	assert_equal "$(delta 'snitch_client_hello_size_bytes_bucket{le="512"}')" 0
	assert_equal "$(delta 'snitch_client_hello_size_bytes_bucket{le="768"}')" 5
	# the parser's work: each byte once and each whole hello's 512-byte
	# message once more, 1 byte for the not-TLS client, 3 for the
	# timeout; plus a whole parse again each time a handoff that waited
	# for alpha's channel (the 3 at most) was tried: once the master
	# answered with the channel, once alpha said its version
	local examined once=$((5 * (2 * HELLO_BYTES - 5) + 1 + 3))
	examined=$(delta snitch_hello_bytes_examined_total)
	[ "$examined" -ge "$once" ] &&
	    [ "$examined" -le $((once + 2 * 3 * (2 * HELLO_BYTES - 5))) ] ||
	    fail "hello bytes examined: $examined, not $once (+ 1029 a try)"
}

@test "GET /metrics on the Unix socket: every figure is what was sent" {
	start_with_stats "$T/stats.sock"
	scrape
	assert_equal "$(metric snitch_connections_accepted_total)" 1
	assert_equal "$(metric snitch_config_generation)" 1
	assert_equal "$(metric snitch_config_last_reload_successful)" 1
	assert_equal "$(metric snitch_worker_restarts_total)" 0
	route_some
	scrape
	assert_routed_some
	assert_equal "$(metric 'snitch_connections_pending{worker="0"}')" 0
	run -0 grep -i '^content-type: text/plain; version=0.0.4' "$T/headers"
	# the names doc/operating.md lists are all there, with their types
	for f in connections_accepted_total:counter connections_total:counter \
	    connections_pending:gauge backend_handoffs_total:counter \
	    backend_fallbacks_total:counter backend_down_total:counter \
	    backend_busy_total:counter backend_errors_total:counter \
	    backend_held_total:counter backend_rehanded_total:counter \
	    handoff_failures_total:counter worker_restarts_total:counter \
	    log_lines_dropped_total:counter config_generation:gauge config_last_reload_successful:gauge \
	    config_last_reload_timestamp_seconds:gauge \
	    peek_duration_seconds:histogram \
	    client_hello_size_bytes:histogram \
	    hello_bytes_examined_total:counter; do
		run -0 grep -qx "# TYPE snitch_${f%%:*} ${f#*:}" "$T/metrics.body"
	done
}

@test "snitch -s prints the same figures as /metrics" {
	start_with_stats "$T/stats.sock"
	route_some
	scrape
	run -0 snitch_stats
	local c=snitch_connections_total
	assert_line "accepted $(metric snitch_connections_accepted_total)"
	assert_line "handoff $(metric "$c"'{outcome="handoff"}')"
	assert_line "alert_112 $(metric "$c"'{alert="112",outcome="alert"}')"
	assert_line "not_tls $(metric "$c"'{outcome="not_tls"}')"
	assert_line "timeout $(metric "$c"'{outcome="timeout"}')"
	assert_line "client_gone $(metric "$c"'{outcome="client_gone"}')"
	assert_line "backend alpha handoff 3 fallback 0 down 0 busy 0 errors 0 held 0 rehanded 0"
	assert_line "worker 0 pending 0"
	assert_line "handoff_failures connect 0 queue_full 0 too_many_refs 0 no_memory 0 channel_lost 0 owner 0"
	assert_line "log_dropped $(metric snitch_log_lines_dropped_total)"
	assert_line --regexp '^last_reload ok [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
	assert_line --regexp "^peek_seconds count $(metric snitch_peek_duration_seconds_count) sum [0-9.]+ <=0.001 [0-9]+ .* <=2.5 $(metric snitch_peek_duration_seconds_count) .* \\+Inf [0-9]+\$"
	assert_line --regexp "^hello_bytes count 5 sum $((5 * HELLO_BYTES)) <=256 0 <=512 0 <=768 5 .* \\+Inf 5\$"
	assert_line "hello_bytes_examined $(metric snitch_hello_bytes_examined_total)"
	assert_line "source_penalties $(metric snitch_source_penalties_total)"
	stats_add_up "$output"
}

@test "a worker SIGKILLed: snitch_worker_restarts_total goes up" {
	local old
	start_with_stats "$T/stats.sock"
	scrape
	assert_equal "$(metric snitch_worker_restarts_total)" 0
	old=$(worker_pids)
	kill -KILL "$old"
	wait_until has_workers 1
	wait_until metric_is snitch_worker_restarts_total 1
	[ "$(worker_pids)" != "$old" ]
	run -0 faults clients --name alpha.localhost
	assert_line "answer alpha alpha.localhost"
	scrape
	assert_equal "$(metric 'snitch_connections_total{outcome="handoff"}')" 1
	assert_equal "$(metric snitch_config_generation)" 1
}

@test "SIGHUP: generation and reload gauges follow a valid and an invalid file" {
	local t0 t1 t2
	start_with_stats "$T/stats.sock"
	scrape
	t0=$(metric snitch_config_last_reload_timestamp_seconds)
	[ "$t0" -ge "$(($(date +%s) - 10))" ]
	sleep 1.1	# the timestamp counts seconds
	kill -HUP "$SNITCH_PID"
	wait_until metric_is snitch_config_generation 2
	assert_equal "$(metric snitch_config_last_reload_successful)" 1
	t1=$(metric snitch_config_last_reload_timestamp_seconds)
	[ "$t1" -gt "$t0" ]
	sleep 1.1
	sed -i '/^\[snitch\]/a bogus = 1' "$T/snitch.ini"
	kill -HUP "$SNITCH_PID"
	wait_until metric_is snitch_config_last_reload_successful 0
	assert_equal "$(metric snitch_config_generation)" 2
	t2=$(metric snitch_config_last_reload_timestamp_seconds)
	[ "$t2" -gt "$t1" ]
	sed -i '/^bogus = 1$/d' "$T/snitch.ini"
	run -0 snitch_stats
	assert_line --regexp '^last_reload failed '
	kill -HUP "$SNITCH_PID"
	wait_until metric_is snitch_config_last_reload_successful 1
	assert_equal "$(metric snitch_config_generation)" 3
}

@test "GET /metrics on a TCP stats address, and snitch -s over TCP" {
	local sport
	sport=$(free_port)
	STATS_URL=http://127.0.0.1:$sport/metrics
	STATS_CURL=()
	start_with_stats "127.0.0.1:$sport"
	route_some
	scrape
	assert_routed_some
	run -0 get_stats /nope
	assert_equal "$(cat "$T/status")" 404
	run -0 snitch_stats
	assert_line "accepted $(metric snitch_connections_accepted_total)"
	stats_add_up "$output"
}

@test "GET /metrics on an IPv6 loopback stats address" {
	have_ipv6_lo || skip "no IPv6 loopback"
	local sport
	sport=$(free_port v6)
	STATS_URL="http://[::1]:$sport/metrics"
	STATS_CURL=()
	start_with_stats "[::1]:$sport"
	run -0 faults clients --name alpha.localhost
	wait_until metric_is 'snitch_connections_total{outcome="handoff"}' 1
	run -0 snitch_stats
	assert_line "handoff 1"
	run -0 get_stats /nope
	assert_equal "$(cat "$T/status")" 404
}

@test "requests other than GET /metrics: 404; too long: 431; not HTTP: 400" {
	start_with_stats "$T/stats.sock"
	run -0 get_stats /
	assert_equal "$(cat "$T/status")" 404
	run -0 get_stats /metrics/x
	assert_equal "$(cat "$T/status")" 404
	run -0 get_stats /metrics -X POST
	assert_equal "$(cat "$T/status")" 404
	run -0 get_stats /metrics -I
	assert_equal "$(cat "$T/status")" 404
	run -0 get_stats /metrics -H "X-Padding: $(printf 'a%.0s' {1..3000})"
	assert_equal "$(cat "$T/status")" 431
	run -0 get_stats /metrics --http1.0
	assert_equal "$(cat "$T/status")" 200
	run -0 timeout 5 "$PYTHON" - "$T/stats.sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
s.connect(sys.argv[1])
s.sendall(b"HELLO THERE\r\n\r\n")
print(s.recv(100).split(b"\r\n")[0].decode())
EOF
	assert_output "HTTP/1.1 400 Bad Request"
	scrape
	assert_equal "$(metric snitch_config_generation)" 1
}

@test "a stats client that sends nothing, or dribbles, does not hold up the next" {
	start_with_stats "$T/stats.sock"
	# one silent client and one sending a byte every 50 ms: each is
	# dropped within STATS_IO_MS (200 ms), well before 2 s
	"$PYTHON" - "$T/stats.sock" >"$T/slow.out" 2>&1 <<'EOF' &
import socket, sys, threading, time

def client(dribble):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    start = time.monotonic()
    try:
        if dribble:
            s.settimeout(0.05)
            for b in b"GET /metrics HTTP/1.1\r\nHost: x\r\n" * 10:
                s.send(bytes([b]))
                try:
                    if s.recv(100) == b"":
                        break
                except socket.timeout:
                    pass
        else:
            s.recv(100)
    except OSError:
        pass
    print("%s dropped after %.1f s" % ("dribbling" if dribble else "silent",
                                       time.monotonic() - start), flush=True)

threads = [threading.Thread(target=client, args=(d,)) for d in (0, 1)]
for t in threads:
    t.start()
for t in threads:
    t.join()
EOF
	track_pid $!
	sleep 0.05
	local start end
	start=$(date +%s%N)
	scrape
	end=$(date +%s%N)
	assert_equal "$(metric snitch_config_generation)" 1
	[ $(((end - start) / 1000000)) -lt 1500 ]
	wait_for 5 grep -q dribbling "$T/slow.out"
	wait_for 5 grep -q silent "$T/slow.out"
	run -0 cat "$T/slow.out"
	assert_line --regexp '^silent dropped after 0\.[0-9] s$'
	assert_line --regexp '^dribbling dropped after 0\.[0-9] s$'
	# and the master is still serving clients and stats
	run -0 faults clients --name alpha.localhost
	assert_line "answer alpha alpha.localhost"
	wait_until metric_is 'snitch_connections_total{outcome="handoff"}' 1
}
