#!/usr/bin/env bats
# go.bats - backends in Go on package snitch (go/): its examples behind
# a real snitch.  curl reaches the net/http example through snitch, and
# the example reports the server name and the very address and port
# curl connected from (getpeername on the socket it received); every
# handoff is acknowledged (nothing pending, nothing handed twice); the
# certificate example picks its certificate by the server name; a
# backend requiring SNItch's uid refuses another's channels and serves
# none of them; three handovers under a stream of curl clients fail
# none.  `make tests` builds the examples when Go is installed.

load lib
load lib_faults

GO_HTTPS=$BUILD/go/snitch-go-https
GO_GETCERT=$BUILD/go/snitch-go-getcert

setup_file() {
	snitch_setup_file || return 1
	need_built "$GO_HTTPS" && need_built "$GO_GETCERT"
}

setup() {
	snitch_setup
	write_config
	stats_on
	add_backend gohttps alpha.localhost
}

# start_go [ARGS...] - the https example on $T/gohttps.sock as backend
# gohttps (as nobody when root), its log in $T/go-https.log
start_go() {
	start_backend "$T/gohttps.sock" "$T/go-https.log" "$GO_HTTPS" \
	    -s "$T/gohttps.sock" -n gohttps -c "$T/cert.pem" -k "$T/key.pem" "$@"
	local rc=$?
	DEMO_PIDS[gohttps]=$BACKEND_PID
	return "$rc"
}

# go_curl NAME [ARGS...] - curl https://NAME:$PORT/ through snitch on
# 127.0.0.1, its answer then curl_local=ADDR:PORT, the address curl
# connected from
go_curl() {
	local name=$1
	shift
	timeout 20 curl -sSk --max-time 10 --resolve "$name:$PORT:127.0.0.1" \
	    -w 'curl_local=%{local_ip}:%{local_port}\n' "$@" \
	    "https://$name:$PORT/"
}

@test "curl through snitch to the Go example: server name, and curl's own address and port" {
	start_go
	start_snitch
	local i curl_local
	for i in 1 2 3; do
		run -0 go_curl alpha.localhost
		assert_line "backend=gohttps"
		assert_line "server_name=alpha.localhost"
		curl_local=$(answer curl_local)
		[[ "$curl_local" =~ ^127\.0\.0\.1:[0-9]+$ ]]
		# what SNItch said, and what getpeername says, are curl's
		assert_line "client=$curl_local"
		assert_line "peer=$curl_local"
		assert_line "local=127.0.0.1:$PORT"
	done
	run -0 go_curl alpha.localhost --http1.1
	assert_line "alpn=http/1.1"
	assert_line "proto=HTTP/1.1"
	run -0 go_curl alpha.localhost --http2
	assert_line "alpn=h2,http/1.1"
	assert_line "proto=HTTP/2.0"
	# acknowledged by itself: nothing pending, nothing handed twice
	wait_until eval '[ "$(counter pending)" = 0 ]'
	assert_equal "$(backend_stat gohttps handoff)" 5
	run -1 grep -c "rehanded" "$T/snitch.log"
}

@test "each handoff is acknowledged while its client is still connected" {
	start_go
	start_snitch
	local -a pids=()
	local i
	# three TLS clients that stay connected: only an ACK lets the
	# worker count them before they end (else it waits 10 s)
	for i in 1 2 3; do
		"$PYTHON" -c '
import socket, ssl, sys, time
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="alpha.localhost")
print("connected", flush=True)
time.sleep(20)
' "$PORT" >"$T/held$i.out" 2>&1 3>&- &
		pids+=($!)
		track_pid "$!"
	done
	wait_until eval '[ "$(backend_stat gohttps handoff)" = 3 ]'
	assert_equal "$(counter pending)" 0
	alive "${pids[@]}"
	run -0 cat "$T/held1.out" "$T/held2.out" "$T/held3.out"
	assert_equal "$(grep -c connected <<<"$output")" 3
}

@test "a Go backend killed with unreceived handoffs: its next instance serves them (version 2)" {
	start_go
	start_snitch
	run -0 go_curl alpha.localhost
	kill -STOP "${DEMO_PIDS[gohttps]}"
	local -a pids=()
	local i old=${DEMO_PIDS[gohttps]}
	for i in 1 2 3 4; do
		go_curl alpha.localhost >"$T/client$i.out" 2>&1 &
		pids+=($!)
	done
	wait_until eval '[ "$(grep -c "backend=gohttps outcome=handoff" "$T/snitch.log")" -ge 5 ]'
	# never received: without ACKs the worker still holds them
	kill -KILL "$old"
	wait "$old" 2>/dev/null || true
	rm -f "$T/gohttps.sock"
	start_go
	for i in 1 2 3 4; do
		wait "${pids[$((i - 1))]}" || true
		run -0 cat "$T/client$i.out"
		assert_line "backend=gohttps"
	done
	wait_until eval '[ "$(counter pending)" = 0 ]'
	[ "$(grep -c "backend=gohttps outcome=handoff .*rehanded=1" "$T/snitch.log")" -ge 4 ]
}

@test "a Go backend of version 1 (SNITCH_HANDOFF_VERSION=1) works as before" {
	SNITCH_HANDOFF_VERSION=1 start_go
	start_snitch
	run -0 go_curl alpha.localhost
	assert_line "backend=gohttps"
	wait_until eval '[ "$(counter pending)" = 0 ]'
	assert_equal "$(backend_stat gohttps handoff)" 1
}

@test "GetCertificate picks the certificate by the handoff's server name" {
	local d=$T/certs n
	mkdir "$d"
	for n in alpha.localhost beta.localhost default; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$d/$n.key" -out "$d/$n.crt" -days 30 \
		    -subj "/CN=$n" >/dev/null 2>&1
	done
	chmod 755 "$d"
	chmod 644 "$d"/*
	write_config
	stats_on
	add_backend getcert alpha.localhost beta.localhost
	sed -i "/^\[snitch\]/a default = getcert" "$T/snitch.ini"
	start_backend "$T/getcert.sock" "$T/go-getcert.log" "$GO_GETCERT" \
	    -s "$T/getcert.sock" -d "$d"
	DEMO_PIDS[getcert]=$BACKEND_PID
	start_snitch
	for n in alpha.localhost beta.localhost; do
		run -0 go_curl "$n" -v
		assert_output --partial "subject: CN=$n"
		assert_line "server_name=$n"
	done
	# no server name at all: the default certificate
	run -0 timeout 20 curl -sSkv --max-time 10 "https://127.0.0.1:$PORT/"
	assert_output --partial "subject: CN=default"
}

@test "a Go backend requiring SNItch's uid refuses another's channels and serves none" {
	is_root || skip "needs root: snitch's workers run as nobody"
	# the workers run as nobody: a backend wanting root's channels
	SNITCH_PEER_UID=root start_go
	start_snitch
	run go_curl alpha.localhost
	refute_line "backend=gohttps"
	[ "$status" -ne 0 ]
	grep -q "refused: .*permission denied" "$T/go-https.log"
	run -1 grep -c "backend=gohttps outcome=handoff" "$T/snitch.log"
	stop_demo gohttps
	# with nobody's uid (as -u), the same clients are served
	rm -f "$T/gohttps.sock"
	start_go -u nobody
	run -0 go_curl alpha.localhost
	assert_line "backend=gohttps"
}

# curl_loop SECONDS - 4 curl clients at a time, one after another, for
# SECONDS; prints "clients N failed N"
curl_loop() {
	local end=$((SECONDS + $1)) j
	for j in 1 2 3 4; do
		(
			local n=0 f=0 out
			while [ "$SECONDS" -lt "$end" ]; do
				n=$((n + 1))
				out=$(go_curl alpha.localhost 2>&1)
				grep -q '^backend=gohttps$' <<<"$out" || {
					f=$((f + 1))
					echo "$out" >>"$T/curl-failed$j.log"
				}
			done
			echo "$n $f"
		) >"$T/loop$j.out" &
	done
	wait
	cat "$T"/loop?.out | awk '{ n += $1; f += $2 }
	    END { printf "clients %d failed %d\n", n, f }'
}

# handovers - three handovers of the https example under curl_loop: no
# client fails, each old instance drains and exits
handovers() {
	start_go
	start_snitch
	curl_loop 8 >"$T/load.out" 3>&- &
	local load=$! i old ino
	for i in 1 2 3; do
		sleep 1.5
		old=${DEMO_PIDS[gohttps]}
		track_pid "$old"
		ino=$(stat -c %i "$T/gohttps.sock")
		start_go -r
		wait_until eval '[ "$(stat -c %i "$T/gohttps.sock")" != "$ino" ]'
		kill -TERM "$old"
		wait_for 10 gone "$old"
		alive "${DEMO_PIDS[gohttps]}"
	done
	wait "$load"
	run -0 cat "$T/load.out"
	[[ "$output" =~ ^clients\ ([0-9]+)\ failed\ 0$ ]] || { echo "$output"; false; }
	[ "${BASH_REMATCH[1]}" -ge 40 ]
	run -1 grep -c "outcome=alert" "$T/snitch.log"
	[ "$(grep -c "^https: stopped" "$T/go-https.log")" -eq 3 ]
	wait_until eval '[ "$(counter pending)" = 0 ]'
	# the last instance's socket is in place, no temporary name left
	unix_listening "$T/gohttps.sock"
	run -0 find "$T" -name '.gohttps.sock.*'
	assert_output ""
}

@test "three handovers under a stream of curl clients: none fails, the old instances exit" {
	handovers
}

@test "the same with handoff version 1, where nothing is handed again: none fails" {
	export SNITCH_HANDOFF_VERSION=1
	handovers
}

@test "handoffs queued in the old instance's channels when it drains are served by it (version 1)" {
	# version 1: the worker lets go of each socket once sent, so one
	# the old instance dropped would be lost, not handed again
	export SNITCH_HANDOFF_VERSION=1
	start_go
	start_snitch
	run -0 go_curl alpha.localhost
	run -0 go_curl alpha.localhost
	local old=${DEMO_PIDS[gohttps]} i
	local -a pids=()
	track_pid "$old"
	kill -STOP "$old"
	for i in 1 2 3 4 5 6; do
		go_curl alpha.localhost >"$T/client$i.out" 2>&1 &
		pids+=($!)
	done
	wait_until eval '[ "$(grep -c "backend=gohttps outcome=handoff" "$T/snitch.log")" -ge 8 ]'
	start_go -r
	kill -TERM "$old"
	kill -CONT "$old"
	for i in 1 2 3 4 5 6; do
		wait "${pids[$((i - 1))]}" || true
		run -0 cat "$T/client$i.out"
		assert_line "backend=gohttps"
	done
	wait_for 10 gone "$old"
	[ "$(grep -c "^https: stopped" "$T/go-https.log")" -eq 1 ]
	run -1 grep -c "outcome=alert" "$T/snitch.log"
}
