#!/usr/bin/env bats
# refusal.bats - what a client gets when SNItch cannot route it.
#
# No default backend here.  alpha runs; ghost's socket never exists.
# Each refusal is checked the way a client sees it (tls.py prints the
# alert it read, and would print "reset" after it if the close were a
# RST rather than a FIN), then a normal client must still route: one
# refused client does not hurt the next.

load lib

setup() {
	snitch_setup
	PEEK_TIMEOUT=1s
	start_demo alpha
	start_refusing
}

# start_refusing - snitch with alpha and ghost and no default
start_refusing() {
	write_config
	add_backend alpha alpha.localhost
	add_backend ghost ghost.localhost
	start_snitch
}

# connected - some client connection to $PORT is established
connected() {
	[ -n "$(ss -Htn state established "( dport = :$PORT )")" ]
}

# still_routes - a normal client still reaches alpha
still_routes() {
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}

# logged_alert N [NAME] - snitch.log has the connection refused with
# alert N (and the name NAME): the contract's "alert=N" in its log line
logged_alert() {
	local re="alert=$1( |\$)"
	if [ $# -gt 1 ]; then
		re="name=${2//./\\.} .*$re"
	fi
	wait_until log_has "$re"
}

# hello_hex SNI_EXT - a ClientHello record around one extension block
#
#   16 0301 LLLL          record: handshake, TLS 1.0, length
#   01 LLLLLL             handshake: ClientHello, length
#   0303 <32 bytes>       legacy_version, random
#   00                    legacy_session_id: empty
#   0002 1301             cipher_suites: TLS_AES_128_GCM_SHA256
#   01 00                 legacy_compression_methods: null
#   <extensions>          as given, its own 2-byte length included
#
# The record and handshake lengths are right: the hello is complete, so
# what is wrong is inside it.
hello_hex() {
	python3 - "$1" <<'EOF'
import sys
ext = bytes.fromhex(sys.argv[1])
body = bytes.fromhex("0303") + bytes(32) + bytes.fromhex("00 0002 1301 01 00") + ext
msg = bytes([1]) + len(body).to_bytes(3, "big") + body
print((bytes.fromhex("16 0301") + len(msg).to_bytes(2, "big") + msg).hex())
EOF
}

@test "an unknown name without a default gets alert 112 (unrecognized_name)" {
	run -3 tls --name nosuch.localhost
	assert_output "alert 112"
	run s_client nosuch.localhost
	assert_output --regexp 'alert number 112|unrecognized name'
	still_routes
	logged_alert 112 nosuch.localhost
}

@test "no SNI and no default is refused with an alert" {
	run -3 tls
	assert_output --regexp '^alert [0-9]+$'
	still_routes
}

@test "a name that is not a host name is no match; the log escapes it" {
	run -3 tls --name $'evil\nname=x.localhost'
	assert_output "alert 112"
	still_routes
	wait_until log_has 'evil'
	# the client's newline did not start a log line of its own
	run grep -c '^name=x\.localhost' "$T/snitch.log"
	assert_output 0
	logged_alert 112
}

@test "a backend whose socket does not exist gets alert 80 (internal_error)" {
	run -3 tls --name ghost.localhost
	assert_output "alert 80"
	run s_client ghost.localhost
	assert_output --regexp 'alert number 80|internal error'
	still_routes
	logged_alert 80 ghost.localhost
}

@test "a malformed ClientHello gets alert 50 (decode_error)" {
	local overrun
	# extensions: 256 bytes claimed, an empty server_name (4 bytes) follows
	overrun=$(hello_hex "0100 0000 0000")
	run -3 tls --raw-hex "$overrun"
	assert_output "alert 50"
	# server_name: list of 3 bytes, whose host_name claims 16 bytes
	overrun=$(hello_hex "0009 0000 0005 0003 00 0010")
	run -3 tls --raw-hex "$overrun"
	assert_output "alert 50"
	still_routes
	logged_alert 50
}

@test "a record that is not a handshake gets alert 10 (unexpected_message)" {
	# application_data (23), TLS 1.2, 5 bytes
	run -3 tls --raw-hex "1703030005 0102030405"
	assert_output "alert 10"
	# a handshake record carrying a ServerHello (2), not a ClientHello
	run -3 tls --raw-hex "1603030008 02000004 03030000"
	assert_output "alert 10"
	still_routes
	logged_alert 10
}

@test "bytes that are not TLS are closed without an answer" {
	# (a whole HTTP request head is told to use https: t/http.bats)
	run -4 tls --raw-hex "$(printf 'SSH-2.0-OpenSSH9\r\n' | od -An -tx1 | tr -d ' \n')"
	assert_output "closed"
	still_routes
	wait_until log_has 'outcome=not-tls'
}

@test "a client that sends nothing is closed after peek_timeout" {
	local start end
	start=$(date +%s%N)
	run -4 tls --raw-hex ""
	end=$(date +%s%N)
	assert_output "closed"
	# peek_timeout is 1 s; the close came after it, and not much later
	[ $(((end - start) / 1000000)) -ge 900 ]
	[ $(((end - start) / 1000000)) -lt 3000 ]
	still_routes
	wait_until log_has 'outcome=timeout'
}

@test "a client that stops in the middle of its hello is closed after peek_timeout" {
	# the first 9 bytes of a hello: record header and handshake header
	run -4 tls --raw-hex "1603010200 010001fc 03"
	assert_output "closed"
	still_routes
}

@test "a client dripping its hello neither holds the worker nor outlives peek_timeout" {
	local drip start end rc=0
	# one worker: it must serve others while the slow client trickles
	stop_snitch
	WORKERS=1
	start_refusing
	start=$(date +%s%N)
	# one byte per 50 ms: the hello alone would take over 25 s
	tls --name alpha.localhost --split-bytes --split-delay 0.05 \
	    >"$T/drip.out" 2>&1 3>&- &
	drip=$!
	track_pid "$drip"
	wait_until connected
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	alive "$drip"
	wait "$drip" || rc=$?
	end=$(date +%s%N)
	# cut off at peek_timeout (1 s): closed, or reset as it kept sending
	run cat "$T/drip.out"
	assert_output --regexp '^(closed|reset)$'
	[ "$rc" -eq 4 ] || [ "$rc" -eq 5 ]
	[ $(((end - start) / 1000000)) -lt 3000 ]
	wait_until log_has 'outcome=timeout'
}
