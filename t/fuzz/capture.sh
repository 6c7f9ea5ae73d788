#!/bin/bash
# capture.sh - regenerate t/fuzz/corpus/clienthello/ from real clients.
#
# Each client below connects once to t/fuzz/capture.py on 127.0.0.1 (a
# free port, one listener per client), which saves the records carrying
# its first ClientHello to a file named after the client and answers
# with a handshake_failure alert.  Then a few hand-made edge cases are
# derived from those hellos (capture.py reframe, sslv2).  Nothing leaves
# 127.0.0.1: the names are mapped there (curl --resolve, Chromium's
# --host-resolver-rules) or only sent as SNI.
#
#   t/fuzz/capture.sh            rewrite the hellos in the corpus
#   t/fuzz/capture.sh DIR        write them to DIR instead
#
# A client that is not installed or sends nothing complete is skipped
# with a message, and the exit status is then 1.  Not part of `make
# check`: the hellos carry fresh randoms and keys on every run, so rerun
# it only to add clients or follow new client versions, then commit the
# result.  Debian packages: curl openssl gnutls-bin python3 chromium.

set -u
cd "$(dirname "$0")/../.." || exit 1

out=${1:-t/fuzz/corpus/clienthello}
tmp=$(mktemp -d /tmp/snitch-capture.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-30}
missing=0

# capture [-n SNI] NAME CMD... - run CMD (PORT in an argument: the port),
# save the first ClientHello it sends (the first carrying SNI) as NAME
capture() {
	local name pid port arg
	local -a cmd=() want=()
	if [ "$1" = -n ]; then
		want=("$2")
		shift 2
	fi
	name=$1
	shift
	rm -f "$tmp/port" "$tmp/$name"
	t/fuzz/capture.py listen "$tmp/port" "$tmp/$name" \
	    "$CLIENT_TIMEOUT" "${want[@]}" >"$tmp/capture.log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do
		[ -s "$tmp/port" ] && break
		sleep 0.1
	done
	if [ ! -s "$tmp/port" ]; then
		echo "capture.sh: $name: capture.py did not start" >&2
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		missing=$((missing + 1))
		return
	fi
	port=$(cat "$tmp/port")
	for arg in "$@"; do
		cmd+=("${arg//PORT/$port}")
	done
	# the client failing is expected: it gets an alert
	timeout "$CLIENT_TIMEOUT" "${cmd[@]}" </dev/null >"$tmp/client.log" 2>&1
	# a client that never connected leaves capture.py waiting
	for _ in $(seq 20); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ -s "$tmp/$name" ]; then
		mv "$tmp/$name" "$out/$name"
		printf 'capture.sh: %-26s %5d bytes\n' "$name" \
		    "$(stat -c %s "$out/$name")"
	else
		echo "capture.sh: $name: no ClientHello; the client said:" >&2
		tail -n 5 "$tmp/client.log" | sed 's/^/    /' >&2
		missing=$((missing + 1))
	fi
}

# have PROGRAM - whether PROGRAM is installed; says so when it is not
have() {
	command -v "$1" >/dev/null && return 0
	echo "capture.sh: $1 is not installed: its hellos are skipped" >&2
	missing=$((missing + 1))
	return 1
}

# python_hello NAME SNI ALPN - a Python ssl client; "" for none
python_hello() {
	capture "$1" python3 -c '
import socket, ssl, sys
port, sni, alpn = int(sys.argv[1]), sys.argv[2] or None, sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if alpn:
    ctx.set_alpn_protocols(alpn.split(","))
with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
    try:
        ctx.wrap_socket(s, server_hostname=sni).close()
    except (ssl.SSLError, OSError):
        pass
' PORT "$2" "$3"
}

# derive NAME FROM SIZE... - FROM's hello re-framed into records of SIZE
derive() {
	local name=$1 from=$2
	shift 2
	if [ ! -s "$out/$from" ]; then
		echo "capture.sh: $name: no $from to derive it from" >&2
		missing=$((missing + 1))
		return
	fi
	t/fuzz/capture.py reframe "$out/$from" "$out/$name" "$@" >/dev/null &&
	    printf 'capture.sh: %-26s %5d bytes (%s re-framed: %s)\n' \
	    "$name" "$(stat -c %s "$out/$name")" "$from" "$*"
}

mkdir -p "$out"

if have curl; then
	capture curl-http11-sni curl -sk --http1.1 \
	    --resolve curl.example.test:PORT:127.0.0.1 \
	    https://curl.example.test:PORT/
	capture curl-h2-sni curl -sk --http2 \
	    --resolve curl.example.test:PORT:127.0.0.1 \
	    https://curl.example.test:PORT/
	capture curl-ip-nosni curl -sk https://127.0.0.1:PORT/
fi

if have openssl; then
	capture openssl-tls12-sni openssl s_client -connect 127.0.0.1:PORT \
	    -tls1_2 -servername openssl12.example.test
	capture openssl-tls13-sni openssl s_client -connect 127.0.0.1:PORT \
	    -tls1_3 -servername openssl13.example.test
	capture openssl-nosni openssl s_client -connect 127.0.0.1:PORT \
	    -noservername
	capture openssl-alpn-sni openssl s_client -connect 127.0.0.1:PORT \
	    -servername openssl-alpn.example.test -alpn h2,http/1.1
	# a post-quantum hybrid group, where this OpenSSL has one (3.5+)
	if openssl list -kem-algorithms 2>/dev/null | grep -qi mlkem768; then
		capture openssl-mlkem-sni openssl s_client \
		    -connect 127.0.0.1:PORT -groups X25519MLKEM768 \
		    -servername openssl-pq.example.test
	else
		echo "capture.sh: $(openssl version | cut -d' ' -f1-2) has no" \
		    "X25519MLKEM768: no openssl-mlkem-sni (Chromium sends one)"
	fi
fi

if have gnutls-cli; then
	capture gnutls-sni gnutls-cli --insecure -p PORT 127.0.0.1 \
	    --sni-hostname gnutls.example.test
	capture gnutls-nosni gnutls-cli --insecure -p PORT 127.0.0.1 \
	    --disable-sni
	capture gnutls-alpn-sni gnutls-cli --insecure -p PORT 127.0.0.1 \
	    --sni-hostname gnutls-alpn.example.test --alpn h2 --alpn http/1.1
fi

if have python3; then
	python_hello python-sni python.example.test ""
	python_hello python-nosni "" ""
	python_hello python-alpn-sni python-alpn.example.test h2,http/1.1
fi

if have chromium; then
	profile=$(mktemp -d /tmp/snitch-chromium.XXXXXX)
	# it also connects for itself (update.googleapis.com): -n
	capture -n chromium.example.test chromium chromium --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$profile" \
	    --host-resolver-rules='MAP * 127.0.0.1:PORT' \
	    --ignore-certificate-errors --dump-dom \
	    https://chromium.example.test:PORT/
	rm -rf "$profile"
fi

# Hand-made edge cases, from the hellos above
derive split-2-records curl-h2-sni 100 0
derive header-split-1-3 openssl-alpn-sni 1 3 0
derive records-1-byte openssl-tls13-sni 1
derive chromium-records-7-byte chromium 7
t/fuzz/capture.py sslv2 "$out/sslv2-compatible" >/dev/null &&
    printf 'capture.sh: %-26s %5d bytes (hand-made)\n' sslv2-compatible \
    "$(stat -c %s "$out/sslv2-compatible")"

[ "$missing" -eq 0 ]
