#!/usr/bin/env bats
# parse_once.bats - a hello dribbled in small segments is parsed once.
#
# The largest hello SNItch takes (16384 bytes of message in 2,048
# records of 8 bytes: 26,624 bytes on the wire, HELLO_WIRE_MAX) is
# written a record per send (t/hostile.py, TCP_NODELAY), so that it
# arrives in about 2,048 segments.  A worker that peeked and parsed all
# it had received on each of them examined some 27 MB; one that keeps
# its parse and sleeps until the hello may be whole (SO_RCVLOWAT)
# examines each byte once and the message once more.  The figure is the
# parser's own count (snitch -s hello_bytes_examined), not a timing.
# The socket the backend gets must read as any other (SO_RCVLOWAT back
# at 1), and a client that stops or half-closes mid-hello is still seen.

load lib
load lib_faults

HELLO_WIRE_MAX=26624	# 16384 + 2048 record headers of 5 bytes

setup() {
	snitch_setup
	WORKERS=1
	PEEK_TIMEOUT=10s
	start_demo alpha
	write_config
	stats_on
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 1
}

# client_line FROM - the log line of the client that printed from=FROM
client_line() {
	grep -F "client=${1#from=} " "$T/snitch.log"
}

@test "the largest hello in 2,048 records, a record per segment: parsed once, routed" {
	local before after examined from
	# the channel to alpha made and greeted first: a client queued
	# while it is, is parsed again when it is sent (dispatch.c)
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	before=$(counter hello_bytes_examined)
	[ -n "$before" ]
	# ~2,048 writes 100 us apart: about half a second of dribbling
	run -0 hostile --print-local --name alpha.localhost --pad-to 16384 \
	    --record-size 8 --write records --delay 0.0001
	assert_line server-hello
	from=${lines[0]}
	wait_until client_line "$from"
	client_line "$from" | grep -qF "backend=alpha outcome=handoff" ||
	    fail "not handed to alpha: $(client_line "$from")"
	client_line "$from" |
	    grep -qF "hello_bytes=$HELLO_WIRE_MAX records=2048" ||
	    fail "not the largest hello: $(client_line "$from")"
	after=$(counter hello_bytes_examined)
	examined=$((after - before))
	echo "# examined $examined bytes for a $HELLO_WIRE_MAX-byte hello" >&3
	# every byte walked once, the 16384-byte message parsed once more
	[ "$examined" -ge "$HELLO_WIRE_MAX" ] ||
	    fail "examined $examined bytes: fewer than the hello's"
	[ "$examined" -le $((2 * HELLO_WIRE_MAX)) ] ||
	    fail "examined $examined bytes for a $HELLO_WIRE_MAX-byte hello"
}

@test "a backend reads the socket it was handed as any other: a real handshake after a dribbled hello" {
	# 512 one-byte records a write each: the worker raised the socket's
	# low-water mark while it waited; the backend's reads of the
	# client's Finished and GET, far smaller, must not wait for more
	run -0 hostile --real --name alpha.localhost --record-size 1 \
	    --write records --delay 0.0002
	assert_line "backend=alpha"
	assert_line "tls_server_name=alpha.localhost"
	run -0 tls --name alpha.localhost --split-bytes --split-delay 0.0002
	assert_line "backend=alpha"
}

@test "a half-close mid-hello is seen at once, while the worker waits for the rest" {
	local from t0 t1
	t0=$(date +%s%N)
	run hostile --print-local --name alpha.localhost --pad-to 16384 \
	    --record-size 8 --write records --delay 0 --stop-after 2000 \
	    --then shut
	assert_line closed
	from=${lines[0]}
	wait_until client_line "$from"
	t1=$(date +%s%N)
	client_line "$from" | grep -qF "backend=- outcome=client-gone" ||
	    fail "not client-gone: $(client_line "$from")"
	# long before peek_timeout (10 s): the FIN woke the worker
	[ $(((t1 - t0) / 1000000)) -lt 8000 ]
}

@test "a hello that stops short of its length times out at peek_timeout" {
	local from
	stop_snitch
	PEEK_TIMEOUT=1s
	write_config
	stats_on
	add_backend alpha alpha.localhost
	start_snitch
	run hostile --print-local --timeout 5 --name alpha.localhost \
	    --pad-to 16384 --record-size 8 --write records --delay 0 \
	    --stop-after 20000
	assert_line closed
	from=${lines[0]}
	wait_until client_line "$from"
	client_line "$from" | grep -qF "backend=- outcome=timeout" ||
	    fail "not a timeout: $(client_line "$from")"
	# and the worker still routes
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
}
