#!/usr/bin/env bats
# proxy_in.bats - SNItch behind a load balancer: proxy_protocol and
# proxy_from.  HAProxy (send-proxy-v2, send-proxy) and nginx stream
# (proxy_protocol on) in front, curl from 127.0.0.5 through them, and the
# demo backend and SNItch's access log see 127.0.0.5, with the balancer
# (127.0.0.1) as via=.  Then what a balancer, or someone posing as one,
# can get wrong: a peer outside proxy_from, a header on a listener
# without proxy_protocol, LOCAL health checks, malformed, cut and
# stalled headers (t/proxyin.py), and per-source limits by the header's
# address rather than the balancer's.

load lib
load lib_faults

HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
NGINX=${NGINX:-/usr/sbin/nginx}
NGINX_STREAM=${NGINX_STREAM:-/usr/lib/nginx/modules/ngx_stream_module.so}
PROXYIN_PY=$SNITCH_ROOT/t/proxyin.py
CLIENT_IP=127.0.0.5

setup_file() {
	snitch_setup_file
	if [ ! -x "$HAPROXY" ] || [ ! -x "$NGINX" ] || [ ! -f "$NGINX_STREAM" ]; then
		echo "haproxy, nginx or its stream module is missing:" \
		    "make deps-test (haproxy, libnginx-mod-stream)" >&2
		return 1
	fi
}

# proxy_config [LINE...] - snitch.ini: $LISTEN takes PROXY headers from
# 127.0.0.1, the access log in $T/access.log, alpha.localhost to the
# demo alpha; each LINE goes into [snitch]
proxy_config() {
	write_config "proxy_protocol = $LISTEN" "proxy_from = 127.0.0.1/32" \
	    "access_log = $T/access.log" "stats = $T/stats.sock" "$@"
	add_backend alpha alpha.localhost
}

# tcp_listening PORT - something listens on 127.0.0.1:PORT (asked of the
# kernel: a probe connection would be a broken header to SNItch)
tcp_listening() {
	[ -n "$(ss -Htl src "127.0.0.1:$1" 2>/dev/null)" ]
}

# wait_listening PID PORT LOG - PID listens on PORT within 5 s, or fail
# with LOG
wait_listening() {
	local i
	for ((i = 0; i < START_STEPS; i++)); do
		if ! alive "$1"; then
			echo "exited: $(cat "$3")" >&2
			return 1
		fi
		tcp_listening "$2" && return 0
		sleep 0.02
	done
	echo "127.0.0.1:$2 not listening after 5 s: $(cat "$3")" >&2
	return 1
}

# start_haproxy OPTION - HAProxy, mode tcp, on 127.0.0.1:$LB_PORT, in
# front of SNItch with `server ... OPTION` (send-proxy-v2, send-proxy);
# $LB_FRONTEND, if set, is one more line of its frontend
start_haproxy() {
	LB_PORT=$(free_port)
	cat >"$T/haproxy.cfg" <<EOF
global
	pidfile $T/haproxy.pid
defaults
	mode tcp
	timeout connect 2s
	timeout client 10s
	timeout server 10s
frontend lb
	bind 127.0.0.1:$LB_PORT
	${LB_FRONTEND:-}
	default_backend snitch
backend snitch
	server snitch $LISTEN $1
EOF
	"$HAPROXY" -db -f "$T/haproxy.cfg" </dev/null >>"$T/haproxy.log" \
	    2>&1 3>&- &
	track_pid $!
	wait_listening $! "$LB_PORT" "$T/haproxy.log"
}

# start_nginx_stream - nginx's stream module on 127.0.0.1:$LB_PORT in
# front of SNItch with `proxy_protocol on`
start_nginx_stream() {
	LB_PORT=$(free_port)
	cat >"$T/nginx.conf" <<EOF
load_module $NGINX_STREAM;
$(is_root && echo "user nobody nogroup;")
worker_processes 1;
pid $T/nginx.pid;
lock_file $T/nginx.lock;
error_log $T/nginx-error.log info;
events {
	worker_connections 64;
}
stream {
	server {
		listen 127.0.0.1:$LB_PORT;
		proxy_pass $LISTEN;
		proxy_protocol on;
	}
}
EOF
	"$NGINX" -p "$T/" -c "$T/nginx.conf" -e "$T/nginx-error.log" \
	    -g 'daemon off;' </dev/null >>"$T/nginx.log" 2>&1 3>&- &
	track_pid $!
	wait_listening $! "$LB_PORT" "$T/nginx-error.log"
}

# through_balancer - curl from $CLIENT_IP to the balancer on $LB_PORT:
# the demo answers with 127.0.0.5 as the client, and SNItch's access log
# says client=127.0.0.5:curl's port via=127.0.0.1:the balancer's port
through_balancer() {
	local lp
	run -0 curl -sSk -m 5 --interface "$CLIENT_IP" \
	    --resolve "alpha.localhost:$LB_PORT:127.0.0.1" \
	    -w 'local_port=%{local_port}\n' "https://alpha.localhost:$LB_PORT/"
	lp=$(answer local_port)
	assert_line "client=$CLIENT_IP:$lp"
	wait_until grep -qE "client=127\.0\.0\.5:$lp name=alpha\.localhost backend=alpha outcome=handoff .* via=127\.0\.0\.1:[0-9]+$" \
	    "$T/access.log"
	refute_line --regexp "^client=127\.0\.0\.1:"
}

# proxyin ARGS... - t/proxyin.py against SNItch
proxyin() {
	timeout 60 "$PYTHON" "$PROXYIN_PY" --port "$PORT" "$@"
}

# access_has PATTERN - the access log has a line matching the regex
access_has() {
	grep -qE -- "$1" "$T/access.log"
}

@test "HAProxy send-proxy-v2 in front: the backend and the access log see the client HAProxy saw" {
	start_demo alpha
	proxy_config
	start_snitch
	start_haproxy send-proxy-v2
	through_balancer
}

@test "HAProxy's unique id (proxy-v2-options unique-id) reaches the backend: snitch_tlv, the demo's unique_id=" {
	local lp
	start_demo alpha
	proxy_config
	start_snitch
	LB_FRONTEND='unique-id-format lb-%ci-%cp'
	start_haproxy "send-proxy-v2 proxy-v2-options unique-id"
	run -0 curl -sSk -m 5 --interface "$CLIENT_IP" \
	    --resolve "alpha.localhost:$LB_PORT:127.0.0.1" \
	    -w 'local_port=%{local_port}\n' "https://alpha.localhost:$LB_PORT/"
	lp=$(answer local_port)
	assert_line "client=$CLIENT_IP:$lp"
	assert_line "unique_id=lb-$CLIENT_IP-$lp"
	# and without the option, none
	LB_FRONTEND=
	start_haproxy send-proxy-v2
	run -0 curl -sSk -m 5 --interface "$CLIENT_IP" \
	    --resolve "alpha.localhost:$LB_PORT:127.0.0.1" \
	    "https://alpha.localhost:$LB_PORT/"
	assert_line "unique_id=-"
}

@test "snitch-relay -p v2 passes the balancer's unique id on to its target, after SNItch's own TLVs" {
	local h id
	start_capture "$T/target.sock"
	proxy_config
	add_backend relay relay.localhost
	start_relay -p v2 "$T/target.sock"
	start_snitch
	LB_FRONTEND='unique-id-format lb-%ci-%cp'
	start_haproxy "send-proxy-v2 proxy-v2-options unique-id"
	# the capture echoes curl's hello back: the handshake fails, but
	# the header came first
	run curl -sSk -m 2 --interface "$CLIENT_IP" \
	    --resolve "relay.localhost:$LB_PORT:127.0.0.1" \
	    "https://relay.localhost:$LB_PORT/"
	wait_until test -s "$T/header.hex"
	h=$(cat "$T/header.hex")
	# the client HAProxy saw, then SNItch's authority, then 0x05
	[ "${h:32:8}" = "$(printf '%02x' 127 0 0 5)" ]
	[[ $h == *"02000f$(hex relay.localhost)"*"05"????"$(hex "lb-$CLIENT_IP-")"* ]]
}

@test "HAProxy send-proxy (v1) in front: the backend and the access log see the client HAProxy saw" {
	start_demo alpha
	proxy_config
	start_snitch
	start_haproxy send-proxy
	through_balancer
}

@test "nginx stream with proxy_protocol on in front: the backend and the access log see the client nginx saw" {
	start_demo alpha
	proxy_config
	start_snitch
	start_nginx_stream
	through_balancer
}

@test "a header from a peer outside proxy_from: closed with a FIN, nothing read, logged and counted" {
	start_demo alpha
	write_config "proxy_protocol = $LISTEN" "proxy_from = 127.0.0.2/32" \
	    "access_log = $T/access.log" "stats = $T/stats.sock"
	add_backend alpha alpha.localhost
	start_snitch
	run -0 proxyin --bind 127.0.0.9 --v2 203.0.113.7:4000 \
	    --hello alpha.localhost
	assert_output --regexp "^end=fin bytes=0 "
	wait_until access_has "client=127\.0\.0\.9:[0-9]+ name=- backend=- outcome=proxy-refused reason=not-in-proxy_from .* via=-$"
	refute access_has "203\.0\.113\.7"
	# and start_snitch's probe, from 127.0.0.1
	wait_until counter_is proxy_refused 2
	assert_equal "$(counter handoff)" 0
	# from an allowed peer the same bytes are served
	run -0 proxyin --bind 127.0.0.2 --v2 203.0.113.7:4000 \
	    --hello alpha.localhost
	assert_output --regexp "^end=(fin|timeout) bytes=[1-9]"
	wait_until access_has "client=203\.0\.113\.7:4000 name=alpha\.localhost backend=alpha outcome=handoff .* via=127\.0\.0\.2:[0-9]+$"
}

@test "a header on a listener without proxy_protocol is not honoured: the client's own bytes, not TLS" {
	local other
	other=$(free_port)
	start_demo alpha
	write_config "listen = 127.0.0.1:$other" \
	    "proxy_protocol = 127.0.0.1:$other" "proxy_from = 127.0.0.1" \
	    "access_log = $T/access.log" "stats = $T/stats.sock"
	add_backend alpha alpha.localhost
	start_snitch
	for h in --v1 --v2; do
		run -0 proxyin "$h" 203.0.113.7:4000 --hello alpha.localhost
		assert_output --regexp "^end=fin bytes=0 "
	done
	wait_until eval '[ "$(grep -c "client=127\.0\.0\.1:[0-9]* name=- backend=- outcome=not-tls .* via=-$" "$T/access.log")" = 2 ]'
	refute access_has "203\.0\.113\.7"
	assert_equal "$(counter handoff)" 0
}

@test "LOCAL health checks (v2 LOCAL, v1 UNKNOWN): closed politely, counted, no error" {
	proxy_config
	start_snitch
	run -0 proxyin --v2-local --count 3
	assert_equal "$(grep -c '^end=fin bytes=0 ' <<<"$output")" 3
	run -0 proxyin --header "$(printf 'PROXY UNKNOWN\r\n' | xxd -p)"
	assert_output --regexp "^end=fin bytes=0 "
	wait_until counter_is health_check 4
	wait_until eval '[ "$(grep -c "outcome=health-check" "$T/access.log")" = 4 ]'
	assert_equal "$(counter error)" 0
	assert_equal "$(counter proxy_invalid)" 0
	refute log_has "health|LOCAL|proxy"
	# HAProxy's own checks with send-proxy-v2 are LOCAL headers too
	LB_PORT=
	start_haproxy "send-proxy-v2 check inter 200ms"
	wait_until counter_at_least health_check 6
	assert_equal "$(counter error)" 0
}

@test "malformed headers: each closed with a FIN and logged with the rule it broke" {
	local row hex why
	proxy_config
	start_snitch
	# "HEX|REASON": the bytes sent, the reason= the access log names
	for row in \
	    "16030100|neither-PROXY-v1-nor-v2" \
	    "$(printf 'GET / HTTP/1.1\r\n\r\n' | xxd -p)|neither-PROXY-v1-nor-v2" \
	    "$(printf 'PROXY TCP4 1.2.3.400 1.2.3.4 1 2\r\n' | xxd -p)|v1-bad-source-address" \
	    "$(printf 'PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n' | xxd -p)|v1-bad-source-port" \
	    "$(printf 'PROXY TCP5 ' | xxd -p)|v1-protocol-not-TCP4-TCP6-or-UNKNOWN" \
	    "$(printf 'PROXY UNKNOWN\r\r' | xxd -p)|v1-CR-not-followed-by-LF" \
	    "$(printf 'PROXY UNKNOWN %0100d\r\n' 0 | xxd -p | tr -d '\n')|v1-no-CRLF-within-107-bytes" \
	    "0d0a0d0a000d0a515549540a31110000|v2-version-not-2" \
	    "0d0a0d0a000d0a515549540a2b110000|v2-command-not-LOCAL-or-PROXY" \
	    "0d0a0d0a000d0a515549540a21120000|v2-family-not-UNSPEC-or-a-stream-over-IPv4-IPv6-UNIX" \
	    "0d0a0d0a000d0a515549540a21110004|v2-" \
	    "0d0a0d0a000d0a515549540b|v2-bad-signature"; do
		hex=${row%%|*}
		why=${row#*|}
		echo "row: $row"
		run -0 proxyin --header "$hex"
		assert_output --regexp "^end=fin bytes=0 "
		wait_until access_has "outcome=proxy-invalid reason=$why"
	done
	wait_until counter_is proxy_invalid 12
	assert_equal "$(counter handoff)" 0
}

@test "a cut header is client-gone; a stalled one times out at peek_timeout, not before" {
	proxy_config
	start_snitch
	# the first 20 bytes of a v2 header, then a FIN
	run -0 proxyin --header 0d0a0d0a000d0a515549540a2111000c7f000001 \
	    --timeout 1
	wait_until access_has "outcome=client-gone reason=proxy-header"
	# stalled: half a v1 header, the connection held open
	run -0 proxyin --header "$(printf 'PROXY TCP4 10.1' | xxd -p)" \
	    --timeout 8
	assert_output --regexp "^end=fin bytes=0 seconds=(1\.[5-9]|2\.|3\.)"
	wait_until access_has "outcome=timeout reason=proxy-header"
	# start_snitch's probe connection is the other client-gone
	assert_equal "$(counter client_gone)" 2
	assert_equal "$(counter timeout)" 1
}

@test "per-source limits count the header's client, not the balancer every client shares" {
	WORKERS=1
	PEEK_TIMEOUT=10s
	start_demo alpha
	proxy_config "max_pending_per_source = 2" "pressure_threshold = 100"
	start_snitch
	# four clients of 198.51.100.7, all through 127.0.0.1, sending their
	# header and then no hello: its two oldest are evicted
	proxyin --v1 198.51.100.7:5000 --count 4 --hold 1 --timeout 1 \
	    >"$T/stalled.out" &
	track_pid $!
	wait_until counter_is evicted 2
	wait_until eval '[ "$(grep -c "client=198\.51\.100\.7:5000 .*outcome=evicted reason=per-source .* via=127\.0\.0\.1:" "$T/access.log")" = 2 ]'
	# other clients through the same balancer are served all along
	run -0 proxyin --v2 192.0.2.1:6000 --hello alpha.localhost
	run -0 proxyin --v1 192.0.2.2:6000 --hello alpha.localhost
	run -0 proxyin --v2 192.0.2.3:6000 --hello alpha.localhost
	wait_until counter_is handoff 3
	assert_equal "$(counter evicted)" 2
}

@test "stalled partial headers from the balancer go first when the table is full: real clients are served" {
	WORKERS=1
	PEEK_TIMEOUT=10s
	start_demo alpha
	proxy_config "max_pending = 8" "max_pending_per_source = 8" \
	    "pressure_threshold = 100"
	start_snitch
	# eight connections of the balancer stuck in their header fill the
	# table; none is counted per source (they would all be 127.0.0.1)
	proxyin --header "$(printf 'PROXY TCP4 ' | xxd -p)" --count 8 \
	    --hold 3 --timeout 1 >"$T/stalled.out" &
	track_pid $!
	wait_until eval '[ "$(snitch_stats | awk "\$1 == \"worker\" && \$2 == 0 { print \$4 }")" = 8 ]'
	# curl through HAProxy is served, taking the slot of one of them
	# (handed on, the slot is free again for the next)
	start_haproxy send-proxy-v2
	through_balancer
	through_balancer
	wait_until counter_is evicted 1
	wait_until access_has "client=127\.0\.0\.1:[0-9]+ name=- backend=- outcome=evicted reason=full .* via=-$"
	assert_equal "$(counter handoff)" 2
}
