#!/usr/bin/env bats
# hostile.bats - SNItch survives anything a hostile client sends.
#
# t/hostile.py builds each ClientHello byte by byte, so that one line
# says what is wrong with it.  Its hand-built hello is a real TLS 1.3
# offer: a backend that gets it answers with a ServerHello, which the
# client reports as "server-hello".  Which backend that was, and what
# SNItch decided, is read from SNItch's log line for the client's own
# port (hostile.py prints it as from=); --real hellos (from Python's ssl)
# complete their handshake and print the backend's answer.
#
# The whole file runs against one set of processes, started once in
# setup_file: three snitch instances of one worker each, whose pids must
# never change (the master would restart a crashed worker quietly, and
# the next client would route), and three demo backends.  So every
# hostile client of the file meets the same worker, and every test ends
# with serves_still: that worker, still there, routes a normal client.
#
#   strict     alpha.localhost -> alpha; ghost.localhost -> ghost, whose
#              socket never exists; no default
#   fallback   alpha.localhost -> alpha; '*' -> beta; default fallback:
#              a name that is not a host name must reach fallback, not
#              beta
#   ghost      as strict, with default = ghost (down: alert 80)
#
# Already covered elsewhere, not repeated here: refusal.bats (an
# application_data record, a ServerHello, an extensions block overrun,
# a server_name overrun, HTTP, silent and stalled and dripping clients),
# split.bats (one byte per write; 2, 3 and 200 records), routing.bats
# (upper case, trailing dot, underscore).  idle.bats holds the load case.

load lib

# The instances' processes, exported from setup_file to the tests.
INSTANCES="strict fallback ghost nodefer"

setup_file() {
	local name
	snitch_setup_file
	snitch_setup
	export ROOT=$T
	WORKERS=1
	# no case here waits for peek_timeout (refusal.bats and idle.bats
	# do); a 16 KiB hello sent one byte per write takes its time
	PEEK_TIMEOUT=20s
	export DEMOS=
	for name in alpha beta fallback; do
		start_demo "$name"
		DEMOS+=" ${DEMO_PIDS[$name]}"
	done
	instance strict
	add_shared_backend alpha alpha.localhost
	add_shared_backend ghost ghost.localhost
	launch strict
	instance fallback "default = fallback"
	add_shared_backend alpha alpha.localhost
	add_shared_backend beta '*'
	add_shared_backend fallback fallback.localhost
	launch fallback
	instance ghost "default = ghost"
	add_shared_backend alpha alpha.localhost
	add_shared_backend ghost ghost.localhost
	launch ghost
	# the kernel's accept deferral off: SNItch sees silent connections
	instance nodefer "defer_accept = off"
	add_shared_backend alpha alpha.localhost
	launch nodefer
}

teardown_file() {
	local name pid
	for name in $INSTANCES; do
		pid=PID_$name
		SNITCH_PID=${!pid:-}
		stop_snitch
	done
	for pid in $DEMOS; do
		stop_pid "$pid"
	done
	[ -n "${ROOT:-}" ] && rm -rf "$ROOT"
}

setup() {
	use strict
}

# teardown - a sanitizer report in any log fails the test that was
# running when it appeared; a failed test shows the last lines of every
# log
teardown() {
	local f sanitized=0
	if [ ! -e "$ROOT/sanitized" ] &&
	    grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' \
	    "$ROOT"/*.log "$ROOT"/*/*.log 2>/dev/null; then
		sanitized=1
		touch "$ROOT/sanitized"
		echo "a sanitizer reported an error: see the logs below"
	fi
	if [ -z "${BATS_TEST_COMPLETED:-}" ] || [ "$sanitized" -eq 1 ]; then
		for f in "$ROOT"/*/snitch.log "$ROOT"/*.log; do
			echo "--- ${f#"$ROOT"/} (last 30 lines)"
			tail -n 30 "$f"
		done
	fi
	[ "$sanitized" -eq 0 ]
}

# instance NAME [LINE...] - a config in $ROOT/NAME with LINEs in [snitch]
instance() {
	T=$ROOT/$1
	mkdir -p "$T"
	chmod 755 "$T"
	PORT=$(free_port)
	LISTEN=127.0.0.1:$PORT
	write_config "${@:2}"
}

# add_shared_backend NAME PATTERN... - a backend on the demo's socket in $ROOT
add_shared_backend() {
	printf '\n[backend %s]\nsocket = %s\nnames = %s\n' \
	    "$1" "$ROOT/$1.sock" "${*:2}" >>"$T/snitch.ini"
}

# launch NAME - start the instance; export its port, master and worker
# (the master first: teardown_file stops whatever started)
launch() {
	start_snitch
	export "PID_$1=$SNITCH_PID" "PORT_$1=$PORT"
	wait_until has_workers 1
	export "WORKER_$1=$(worker_pids)"
}

# use NAME - talk to instance NAME: $PORT, $T (its log), $WORKER
use() {
	local port=PORT_$1 pid=PID_$1 worker=WORKER_$1
	T=$ROOT/$1
	PORT=${!port}
	SNITCH_PID=${!pid}
	WORKER=${!worker}
}

# serves_still - the same worker is alive and routes a normal client
serves_still() {
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	assert_equal "$(worker_pids)" "$WORKER"
}

# cases - run the table on stdin, one case a line: "EXPECT | OPTIONS"
# (blank lines and # comments skipped).  OPTIONS are hostile.py's, shell
# quoted; all the table's hellos go through one hostile.py --batch (a
# Python start costs more than a case), then each outcome and its
# client's log line are checked.  EXPECT is one of
#
#   routed BACKEND            the backend answered (server-hello); logged
#                             "backend=BACKEND outcome=handoff"
#   handed BACKEND OUTCOME    handed off likewise, and the backend itself
#                             answered OUTCOME (e.g. "alert 112")
#   refused ALERT REASON      SNItch sent alert ALERT, then a FIN; logged
#                             "backend=- outcome=alert alert=ALERT
#                             reason=REASON"
#   down BACKEND              alert 80, logged as BACKEND being down
#   not-tls                   closed, nothing sent; logged as not-tls
#   gone OUTCOME              the client saw OUTCOME ("closed", "sent 20");
#                             logged as client-gone
#
# and may end with name=ESCAPED: the log shows the server name so.
cases() {
	local -a expects=() opts=() results=()
	local line i verb rest name want log
	while IFS= read -r line; do
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		expects+=("${line%%|*}")
		opts+=("${line#*|}")
	done
	log_mark
	mapfile -t results < <(printf '%s\n' "${opts[@]}" | hostile --batch)
	[ ${#results[@]} -eq ${#opts[@]} ] ||
	    fail "hostile.py --batch: ${#results[@]} answers to ${#opts[@]} cases: ${results[*]}"
	for ((i = 0; i < ${#opts[@]}; i++)); do
		client=${results[i]%% *}
		read -r verb rest <<<"${expects[i]}"
		name=
		if [[ " $rest" == *" name="* ]]; then
			name=${rest##*name=}
			rest=${rest% name=*}
			[[ $rest == name=* ]] && rest=
		fi
		case $verb in
		routed)	want=server-hello
			log="backend=$rest outcome=handoff" ;;
		handed)	want=${rest#* }
			log="backend=${rest%% *} outcome=handoff" ;;
		refused) want="alert ${rest%% *}"
			log="backend=- outcome=alert alert=${rest%% *} reason=${rest#* }" ;;
		down)	want="alert 80"
			log="backend=$rest outcome=alert alert=80 reason=backend-down" ;;
		not-tls) want=closed
			log="backend=- outcome=not-tls" ;;
		gone)	want=$rest
			log="backend=- outcome=client-gone" ;;
		*)	fail "cases: unknown expectation: ${expects[i]}" ;;
		esac
		[ "${results[i]#* }" = "$want" ] || fail "case:${opts[i]}
wanted: $want
got:    ${results[i]#* }"
		logged "$log" "${opts[i]}"
		[ -z "$name" ] || logged_name "$name"
	done
}

# log_mark - from now on log_new reads only what snitch.log gets next: a
# client's port may be one an earlier connection to this snitch had
log_mark() {
	LOG_MARK=$(stat -c %s "$T/snitch.log")
}

# log_new - what snitch.log got since log_mark
log_new() {
	tail -c +$((LOG_MARK + 1)) "$T/snitch.log"
}

# logged TEXT [CASE] - $client's one log line has " TEXT" right before
# its " alpn=" (the outcome and its detail, nothing more)
logged() {
	local line i
	for ((i = 0; i < WAIT_STEPS; i++)); do
		line=$(log_new | grep -F -- "client=$client ") && break
		sleep 0.1
	done
	[ -n "$line" ] || fail "no log line for $client (case:${2:-})"
	[[ $line != *$'\n'* ]] ||
	    fail "more than one log line for $client (case:${2:-}): $line"
	# held=1: the first client of a backend that is down waits for it
	[[ $line == *" $1 alpn="* || $line == *" $1 held=1 alpn="* ]] ||
	    fail "case:${2:-}
log line: $line
wanted it to have: $1 alpn="
}

# logged_name NAME - $client's log line shows the server name as NAME
logged_name() {
	log_new | grep -F -- "client=$client name=$1 backend=" >/dev/null ||
	    fail "log line: $(log_new | grep -F -- "client=$client ")
wanted name=$1"
}

# label N C - N times the letter C
label() {
	printf "%$1s" "" | tr ' ' "$2"
}

@test "a real hello in one-byte records completes, written at once or a record per write" {
	run -0 hostile --real --name alpha.localhost --record-size 1
	assert_line "backend=alpha"
	assert_line "tls_server_name=alpha.localhost"
	run -0 hostile --real --name alpha.localhost --record-size 1 \
	    --write records --delay 0
	assert_line "backend=alpha"
	assert_line "tls_server_name=alpha.localhost"
	serves_still
}

@test "the bounds: 16384 bytes and 2048 records route; a byte or a record more, alert 50" {
	cases <<'EOF'
# the record bound: 2048 records of one byte, then 2049
routed alpha                 | --name alpha.localhost --pad-to 2048 --record-size 1
refused 50 malformed-hello   | --name alpha.localhost --pad-to 2049 --record-size 1
# a 16 KiB hello, grown with the padding extension (type 21)
routed alpha                 | --name alpha.localhost --pad-to 16000
# HELLO_MSG_MAX, its 4-byte header included: in one record of 2^14,
# in 2048 records of 8 bytes (26624 bytes: HELLO_WIRE_MAX), and in
# 16389 writes of one byte, each of them peeked
routed alpha                 | --name alpha.localhost --pad-to 16384
routed alpha                 | --name alpha.localhost --pad-to 16384 --record-size 8
routed alpha                 | --name alpha.localhost --pad-to 16384 --write bytes --delay 0
# the largest hello on the wire, 26624 bytes, one byte per write
routed alpha                 | --name alpha.localhost --pad-to 16384 --record-size 8 --write bytes --delay 0
refused 50 malformed-hello   | --name alpha.localhost --pad-to 16385 --records 2
# the handshake header alone says 16385: refused before the rest comes
refused 50 malformed-hello   | --name alpha.localhost --pad-to 16385 --records 2 --stop-after 9
EOF
	serves_still
}

@test "records that break the framing get alert 50; any 3.x version is TLS" {
	cases <<'EOF'
# an empty handshake record first (RFC 8446 5.1: MUST NOT)
refused 50 malformed-hello   | --name alpha.localhost --before 1603010000
# a record header claiming 2^14 + 1 bytes
refused 50 malformed-hello   | --raw 1603014001
# the hello's second half in an alert record, or an application_data one
refused 50 malformed-hello   | --name alpha.localhost --records 2 --record-type 22,21
refused 50 malformed-hello   | --name alpha.localhost --records 2 --record-type 22,23
# the second record's version is not 3.x
refused 50 malformed-hello   | --name alpha.localhost --records 2 --record-version 0301,0201
# any 3.x is TLS: the backend judges the minor version
routed alpha                 | --name alpha.localhost --record-version 0300
routed alpha                 | --name alpha.localhost --record-version 03ff
EOF
	serves_still
}

@test "an SSLv2-compatible hello, or a record of version 2.x, is closed without an answer" {
	cases <<'EOF'
# SSL 2.0 CLIENT-HELLO: length 0x801c, type 1, version 3.1, one cipher
# spec, no session id, 16 bytes of challenge
not-tls | --raw '801c 01 0301 0003 0000 0010 00002f 000102030405060708090a0b0c0d0e0f'
not-tls | --name alpha.localhost --record-version 0200
EOF
	serves_still
}

@test "TLS records and handshakes that are not a ClientHello get alert 10" {
	cases <<'EOF'
# an alert record (21): a fatal handshake_failure
refused 10 not-a-hello   | --raw 15030300020228
# change_cipher_spec (20), heartbeat (24)
refused 10 not-a-hello   | --raw 140303000101
refused 10 not-a-hello   | --name alpha.localhost --record-type 24
# hello_request (0), certificate (11)
refused 10 not-a-hello   | --name alpha.localhost --msg-type 0
refused 10 not-a-hello   | --name alpha.localhost --msg-type 11
# a ServerHello (2), its type byte alone in the first record
refused 10 not-a-hello   | --name alpha.localhost --msg-type 2 --record-size 1
EOF
	serves_still
}

@test "broken extensions get alert 50" {
	cases <<'EOF'
# the last extension's header cut short: its type and one length byte
refused 50 malformed-hello   | --name alpha.localhost --ext-raw 000000
# an extension claiming 4096 bytes where 4 are left
refused 50 malformed-hello   | --name alpha.localhost --ext-raw '0015 1000 00000000'
# a byte after the extensions block
refused 50 malformed-hello   | --name alpha.localhost --trailing 00
# a block length that stops inside the extensions
refused 50 malformed-hello   | --name alpha.localhost --ext-block-len 4
# a handshake length that stops inside the extensions (the record goes on)
refused 50 malformed-hello   | --name alpha.localhost --msg-len 60
# one byte where the block's length would be
refused 50 malformed-hello   | --no-extensions --trailing 00
EOF
	serves_still
}

@test "server_name twice, two host_names, an empty list or name, a bad ALPN list: alert 50" {
	cases <<'EOF'
refused 50 malformed-hello   | --name alpha.localhost --sni-twice
refused 50 malformed-hello   | --name alpha.localhost --sni-entry 0:ghost.localhost
refused 50 malformed-hello   | --name ''
# a server_name extension holding an empty list, or nothing
refused 50 malformed-hello   | --ext 0:0000
refused 50 malformed-hello   | --ext 0:
# an empty protocol name; ALPN twice
refused 50 malformed-hello   | --name alpha.localhost --alpn h2,
refused 50 malformed-hello   | --name alpha.localhost --alpn h2 --ext 16:0003026832
EOF
	serves_still
}

@test "a server_name list with another name_type routes by its host_name" {
	cases <<'EOF'
# SNItch hands these to alpha; alpha's OpenSSL accepts only a list of
# one host_name, and answers decode_error itself
handed alpha alert 50 name=alpha.localhost | --name alpha.localhost --sni-entry 1:other.example
handed alpha alert 50 name=alpha.localhost | --sni-entry 1:other.example --sni-entry 0:alpha.localhost
# no host_name at all: no name, and no default here
refused 112 no-route      | --sni-entry 1:alpha.localhost
# a repeat of an extension SNItch does not read is the backend's to
# judge: OpenSSL refuses it (illegal_parameter)
handed alpha alert 47     | --name alpha.localhost --ext 21: --ext 21:
# no extensions at all (TLS 1.2 allows it), or an empty block: no name
refused 112 no-route      | --no-extensions
refused 112 no-route      | --ext-block-len 0 --no-extensions --trailing 0000
EOF
	serves_still
}

@test "a name that is not a host name matches nothing, not even '*': it goes to the default" {
	local ok
	use fallback
	ok="$(label 63 a).$(label 63 b).$(label 63 c).$(label 61 d)"
	# not quoted: the long names are expanded; no backslash pairs here
	cases <<EOF
# the control: valid names nobody claims go to '*', up to 253 bytes
routed beta                   | --name nosuch.localhost
routed beta                   | --name $ok
routed beta                   | --name $ok.
routed beta                   | --name xn--caf-dma.localhost
routed beta                   | --name 123.localhost
routed fallback               | --name ${ok}d
# over 255 bytes, fallback's OpenSSL refuses the name itself
handed fallback alert 112 name=$(label 128 a)... | --name $(label 300 a)
routed fallback               | --name $(label 64 a).localhost
# IP literals (RFC 6066 3: not allowed in SNI)
routed fallback name=127.0.0.1 | --name 127.0.0.1
routed fallback               | --name 127.0.0.1.
routed fallback               | --name ::1
routed fallback               | --name '[::1]'
routed fallback               | --name 2001:db8::1
# bytes outside letters, digits, hyphen and dot, escaped in the log
routed fallback name=caf\303\251.localhost | --name 'caf\xc3\xa9.localhost'
routed fallback name=x\ny.localhost        | --name 'x\x0ay.localhost'
routed fallback name=x\sy.localhost        | --name 'x y.localhost'
routed fallback               | --name=-x.localhost
routed fallback               | --name x-.localhost
routed fallback               | --name a..localhost
routed fallback               | --name alpha.localhost..
routed fallback               | --name .
# a wildcard is a pattern, not a name; an all-digit last label is no TLD
routed fallback               | --name '*.localhost'
routed fallback               | --name a.123
# a NUL: fallback's OpenSSL refuses the name itself (unrecognized_name)
handed fallback alert 112 name=alpha.localhost\0 | --name 'alpha.localhost\x00'
EOF
	serves_still
}

@test "without a default, a name that is not a host name gets alert 112" {
	# not quoted: the long name is expanded; no backslash pairs here
	cases <<EOF
refused 112 no-route name=alpha.localhost\0.x   | --name 'alpha.localhost\x00.x'
refused 112 no-route name=alpha\n.localhost     | --name 'alpha\x0a.localhost'
refused 112 no-route name=alph\341.localhost    | --name 'alph\xe1.localhost'
refused 112 no-route                            | --name $(label 300 a)
refused 112 no-route                            | --name 127.0.0.1
refused 112 no-route                            | --name ::1
EOF
	serves_still
}

@test "no byte a client sends reaches the log raw" {
	# each name as sent (hostile.py's \xHH), then as the log must show it
	local names=(
		'a\x01b'		'a\001b'
		'a\x1bb'		'a\033b'
		'a\x0ab'		'a\nb'
		'a\x0db'		'a\rb'
		'a\x7fb'		'a\177b'
		'a\xffb'		'a\377b'
		'a\x00b'		'a\0b'
		'\x1b[2J\x1b]0;owned\x07.localhost'
		'\033[2J\033]0;owned\a.localhost'
		'x backend=evil outcome=handoff'
		'x\sbackend=evil\soutcome=handoff'
		'x\\x0a\\n.localhost'	'x\\x0a\\n.localhost'
		"$(printf '\\xff%.0s' {1..2000})"
		"$(printf '\\377%.0s' {1..128})..."
	)
	local -a got
	local i f bad
	# three paths that log the name: handed to the default, refused for
	# no route, refused because the default backend is down.  What the
	# default backend answers varies with the name (its OpenSSL refuses
	# some), so for that path only SNItch's log line is checked.
	use fallback
	log_mark
	mapfile -t got < <(for ((i = 0; i < ${#names[@]}; i += 2)); do
		printf -- "--name '%s'\n" "${names[i]}"
	done | hostile --batch)
	[ ${#got[@]} -eq $((${#names[@]} / 2)) ]
	for ((i = 0; i < ${#got[@]}; i++)); do
		client=${got[i]%% *}
		logged "backend=fallback outcome=handoff" "${names[2 * i]}"
	done
	use strict
	cases < <(for ((i = 0; i < ${#names[@]}; i += 2)); do
		printf "refused 112 no-route | --name '%s'\n" "${names[i]}"
	done)
	use ghost
	cases < <(for ((i = 0; i < ${#names[@]}; i += 2)); do
		printf "down ghost | --name '%s'\n" "${names[i]}"
	done)
	# each name escaped the same way on each path
	for ((i = 1; i < ${#names[@]}; i += 2)); do
		run grep -chF -- " name=${names[i]} backend=" \
		    "$ROOT"/{fallback,strict,ghost}/snitch.log
		assert_output $'1\n1\n1'
	done
	# no line was split, none forged: each starts as the logger starts it
	for f in "$ROOT"/*/snitch.log; do
		run grep -cvE '^snitch(-worker)?\[[0-9]+\]: ' "$f"
		assert_output 0
		run grep -c ' backend=evil' "$f"
		assert_output 0
	done
	# every byte of every log is printable ASCII or a line's newline
	for f in "$ROOT"/*/snitch.log "$ROOT"/*.log; do
		bad=$(LC_ALL=C tr -d '\n\040-\176' <"$f" | od -An -c | head -n 5)
		[ -z "$bad" ] || fail "${f#"$ROOT"/} holds raw bytes: $bad"
	done
	for f in fallback strict ghost; do
		use "$f"
		serves_still
	done
}

@test "a client that resets or half-closes in mid-hello is client-gone" {
	cases <<'EOF'
# a RST (SO_LINGER 0, then close) after 20 bytes
gone sent 20   | --name alpha.localhost --stop-after 20 --then reset --pause 0.1
# a FIN after 20 bytes: SNItch closes too
gone closed    | --name alpha.localhost --stop-after 20 --then shut
EOF
	serves_still
}

@test "a RST before any byte: client-gone without defer_accept; with it, never accepted, nothing to log" {
	use nodefer
	cases <<'EOF'
gone sent 0    | --stop-after 0 --then reset --pause 0.1
EOF
	serves_still
	# defer_accept (the default, 1 s): the kernel holds the connection
	# until data comes, and the RST ends it there
	use strict
	log_mark
	run -0 hostile --print-local --stop-after 0 --then reset --pause 0.1
	assert_line "sent 0"
	client=$(sed -n 's/^from=//p' <<<"$output")
	[ -n "$client" ]
	sleep 2.5
	run grep -F -- "client=$client " <(log_new)
	assert_failure
	serves_still
}

@test "a whole hello then a half-close, a reset or more bytes is handed off all the same" {
	cases <<'EOF'
routed alpha          | --name alpha.localhost --then shut
# the rest is the backend's to read: application data after the hello
routed alpha          | --name alpha.localhost --after '1703030005 0102030405'
# a RST once the hello is out: the backend gets a reset socket
handed alpha sent all | --name alpha.localhost --then reset --pause 0.5
EOF
	serves_still
}
