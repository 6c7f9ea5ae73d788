#!/usr/bin/env bats
# clients.bats - every real ClientHello routes: the real-client matrix.
#
# Two demo backends: alpha (alpha.localhost, chromium.test) and beta
# (beta.localhost, *.beta.localhost, *.chromium.test).  No default, so a
# hello that does not route by its name gets alert 112 and fails the test
# loudly instead of landing quietly on a default; the no-SNI test adds
# "default = alpha".  Each client (curl, openssl s_client, gnutls-cli,
# Python's ssl module, headless Chromium) completes its own handshake with
# the demo behind snitch, and the test checks the demo's answer: which
# backend, the server name snitch handed over and the one the demo's own
# handshake saw, the client address (the exact port when the client can
# tell it), and snitch's log line for that very connection.
#
# Chromium's hello is the big one: GREASE, an ECH GREASE extension and an
# X25519MLKEM768 key share, about 2 KB.  Its net log (SSL_HANDSHAKE_
# MESSAGE_SENT) holds the hello's bytes, so the test checks that the hello
# really was that, not only that it routed.

load lib

setup() {
	snitch_setup
	start_demo alpha
	start_demo beta
}

# start_routes [LINE...] - snitch with alpha and beta; LINEs go to [snitch]
start_routes() {
	write_config "$@"
	add_backend alpha alpha.localhost chromium.test
	add_backend beta beta.localhost '*.beta.localhost' '*.chromium.test'
	start_snitch
}

# logged_handoff CLIENT NAME BACKEND - snitch logged this connection
# (CLIENT as the demo saw it, IP:PORT) as handed off to BACKEND
logged_handoff() {
	local client=${1//./\\.} name=${2//./\\.}
	wait_until log_has \
	    "client=$client name=$name backend=$3 outcome=handoff( |\$)"
}

# request NAME - an HTTP/1.1 GET for NAME that asks the server to close
request() {
	printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1"
}

# s_client_session NAME [ARGS...] - openssl s_client with SNI NAME sending
# a GET: unlike s_client (lib.bash) it prints the session summary
# ("New, TLSv1.3, Cipher is ...") before the answer; CRs are dropped, the
# exit status is openssl's
s_client_session() {
	local name=$1
	shift
	request "$name" |
	    timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
	    -servername "$name" -ign_eof "$@" 2>&1 | tr -d '\r'
	return "${PIPESTATUS[1]}"
}

# gnutls_get NAME|- - gnutls-cli with SNI NAME (- for none) sending a GET
#
# gnutls-cli answers stdin's EOF with a close_notify (SHUT_WR) and reads on
# until the server closes: the whole answer is printed.  CRs are dropped,
# the exit status is gnutls-cli's.
gnutls_get() {
	local host=$1
	local -a sni=(--sni-hostname "$1")
	if [ "$1" = - ]; then
		host=127.0.0.1
		sni=(--disable-sni)
	fi
	request "$host" |
	    timeout 10 gnutls-cli --insecure --port "$PORT" "${sni[@]}" \
	    127.0.0.1 2>&1 | tr -d '\r'
	return "${PIPESTATUS[1]}"
}

# py_ssl NAME|- [tls1.2] - a GET with Python's ssl module, SNI NAME (- for
# none), TLS 1.2 only with tls1.2
#
# Prints "from=IP:PORT" (its own address), "version=TLSv1.x", the status
# line and the body; exit 0.  A TLS error (an alert) prints
# "error: REASON" (OpenSSL's reason, e.g. TLSV1_UNRECOGNIZED_NAME), exit 3.
py_ssl() {
	timeout 15 "$PYTHON" - "$PORT" "$1" "${2:-}" <<'EOF'
import socket, ssl, sys
port, name, variant = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if variant == "tls1.2":
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
host = None if name == "-" else name
sock = socket.create_connection(("127.0.0.1", port), timeout=5)
print("from=%s:%d" % sock.getsockname()[:2], flush=True)
try:
    tls = ctx.wrap_socket(sock, server_hostname=host)
except ssl.SSLError as e:
    print("error: %s" % e.reason)
    sys.exit(3)
print("version=%s" % tls.version())
tls.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
             % (host or "127.0.0.1")).encode("ascii"))
answer = b""
while chunk := tls.recv(65536):
    answer += chunk
head, _, body = answer.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode())
sys.stdout.write(body.decode())
EOF
}

# s_client_received ARGS... - run openssl s_client -msg (ARGS: -servername
# NAME or -noservername) and print only what it received: each "<<<"
# line with the hex lines under it
s_client_received() {
	timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -msg "$@" \
	    </dev/null 2>/dev/null |
	    awk '/^<<< / { show = 1; print; next } /^[^ ]/ { show = 0 } show'
}

# chromium_get NAME - headless Chromium loads https://NAME:$PORT/; prints
# the page's text (the DOM without its tags)
#
# Only NAME resolves (to 127.0.0.1:$PORT); every other name, such as those
# of Chromium's background requests, fails to resolve.  The net log, with
# the bytes of each handshake message, is kept in $T/chromium-net.json.
# HOME and XDG_* point into $T: Chromium writes its crash reports, NSS
# database and dconf cache there, not in the real home.
chromium_get() {
	command -v chromium >/dev/null || {
		echo "chromium is not installed: make deps-test" >&2
		return 1
	}
	mkdir -p "$T/home"
	HOME=$T/home XDG_CONFIG_HOME=$T/home/.config \
	    XDG_CACHE_HOME=$T/home/.cache XDG_DATA_HOME=$T/home/.local/share \
	    timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$T/chromium" \
	    --host-resolver-rules="MAP $1 127.0.0.1:$PORT, MAP * ~NOTFOUND" \
	    --ignore-certificate-errors \
	    --log-net-log="$T/chromium-net.json" \
	    --net-log-capture-mode=Everything \
	    --dump-dom "https://$1:$PORT/" \
	    </dev/null 2>>"$T/chromium.log" 3>&- >"$T/chromium.dom" ||
		return
	sed -e 's/<[^>]*>//g' "$T/chromium.dom"
}

# chromium_hello - what Chromium's first ClientHello (from its net log)
# carried, one fact a line:
#
#   hello_bytes=N          the handshake message, its 4-byte header included
#   server_name=NAME       the host_name in server_name (extension 0)
#   key_shares=G ...       the key_share groups (extension 51), by name;
#                          GREASE for RFC 8701 values, else hex
#   grease_ciphers=0|1     a GREASE cipher suite was offered
#   grease_extensions=0|1  a GREASE extension was sent
#   ech_extension=0|1      encrypted_client_hello (0xfe0d) was sent
#
# ClientHello layout (RFC 8446 4.1.2): type(1) length(3) version(2)
# random(32) session_id<0..32> cipher_suites<2..2^16-2>
# compression_methods<1..2^8-1> extensions<8..2^16-1>, each extension
# type(2) length(2) data.
chromium_hello() {
	"$PYTHON" - "$T/chromium-net.json" <<'EOF'
import base64, json, sys

GROUPS = {0x11ec: "X25519MLKEM768", 0x001d: "X25519", 0x0017: "secp256r1",
          0x0018: "secp384r1", 0x6399: "X25519Kyber768Draft00"}

def u16(b, i):
    return int.from_bytes(b[i:i + 2], "big")

def grease(v):
    return v & 0x0f0f == 0x0a0a and v >> 8 == v & 0xff

log = json.load(open(sys.argv[1]))
sent = log["constants"]["logEventTypes"]["SSL_HANDSHAKE_MESSAGE_SENT"]
hellos = [base64.b64decode(e["params"]["bytes"]) for e in log["events"]
          if e["type"] == sent and e.get("params", {}).get("type") == 1]
if not hellos:
    sys.exit("no ClientHello in the net log")
h = hellos[0]
p = 4 + 2 + 32
p += 1 + h[p]
suites = [u16(h, p + 2 + i) for i in range(0, u16(h, p), 2)]
p += 2 + u16(h, p)
p += 1 + h[p]
end = p + 2 + u16(h, p)
p += 2
exts = {}
while p < end:
    exts[u16(h, p)] = h[p + 4:p + 4 + u16(h, p + 2)]
    p += 4 + u16(h, p + 2)
sni = exts.get(0, b"")
shares, ks = [], exts.get(51, b"")
i = 2
while i < len(ks):
    g = u16(ks, i)
    shares.append("GREASE" if grease(g) else GROUPS.get(g, "%04x" % g))
    i += 4 + u16(ks, i + 2)
print("hello_bytes=%d" % len(h))
print("server_name=%s" % sni[5:5 + u16(sni, 3)].decode("ascii", "replace"))
print("key_shares=%s" % " ".join(shares))
print("grease_ciphers=%d" % any(grease(s) for s in suites))
print("grease_extensions=%d" % any(grease(t) for t in exts))
print("ech_extension=%d" % (0xfe0d in exts))
EOF
}

@test "curl --http1.1: exact and wildcard names reach their backends, which see curl's port" {
	start_routes
	run -0 get_https alpha.localhost --http1.1
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
	assert_line "tls_server_name=alpha.localhost"
	assert_line "client=127.0.0.1:$(answer local_port)"
	assert_line "local=127.0.0.1:$PORT"
	assert_line "alpn=http/1.1"
	assert_line "ech=0"
	logged_handoff "$(answer client)" alpha.localhost alpha
	run -0 get_https www.beta.localhost --http1.1
	assert_line "backend=beta"
	assert_line "server_name=www.beta.localhost"
	assert_line "tls_server_name=www.beta.localhost"
	assert_line "client=127.0.0.1:$(answer local_port)"
	assert_line "alpn=http/1.1"
	logged_handoff "$(answer client)" www.beta.localhost beta
}

@test "curl --http2: the backend sees curl's offer h2,http/1.1 and answers in HTTP/1.1" {
	start_routes
	# the last -w wins: get_https's, plus the HTTP version curl ended with
	run -0 get_https beta.localhost --http2 \
	    -w 'local_port=%{local_port}\nhttp_version=%{http_version}\n'
	assert_line "backend=beta"
	assert_line "server_name=beta.localhost"
	assert_line "tls_server_name=beta.localhost"
	assert_line "client=127.0.0.1:$(answer local_port)"
	assert_line "alpn=h2,http/1.1"
	assert_line "http_version=1.1"
	logged_handoff "$(answer client)" beta.localhost beta
}

@test "openssl s_client -tls1_2 -servername: a TLS 1.2 hello routes" {
	start_routes
	run -0 s_client_session alpha.localhost -tls1_2
	assert_line --regexp '^New, TLSv1\.2, Cipher is '
	assert_line "HTTP/1.1 200 OK"
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
	assert_line "tls_server_name=alpha.localhost"
	assert_line --regexp '^client=127\.0\.0\.1:[0-9]+$'
	assert_line "local=127.0.0.1:$PORT"
	assert_line "alpn=-"
	logged_handoff "$(answer client)" alpha.localhost alpha
}

@test "openssl s_client -tls1_3 -servername: a TLS 1.3 hello routes by wildcard" {
	start_routes
	run -0 s_client_session x.beta.localhost -tls1_3
	assert_line --regexp '^New, TLSv1\.3, Cipher is '
	assert_line "HTTP/1.1 200 OK"
	assert_line "backend=beta"
	assert_line "server_name=x.beta.localhost"
	assert_line "tls_server_name=x.beta.localhost"
	assert_line --regexp '^client=127\.0\.0\.1:[0-9]+$'
	logged_handoff "$(answer client)" x.beta.localhost beta
}

@test "gnutls-cli --sni-hostname: GnuTLS's hello routes by exact name and wildcard" {
	start_routes
	run -0 gnutls_get alpha.localhost
	assert_line "- Handshake was completed"
	assert_line --regexp '^- Description: \(TLS1\.3-'
	assert_line "HTTP/1.1 200 OK"
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
	assert_line "tls_server_name=alpha.localhost"
	assert_line --regexp '^client=127\.0\.0\.1:[0-9]+$'
	assert_line "alpn=-"
	logged_handoff "$(answer client)" alpha.localhost alpha
	run -0 gnutls_get a.b.beta.localhost
	assert_line "- Handshake was completed"
	assert_line "backend=beta"
	assert_line "tls_server_name=a.b.beta.localhost"
	assert_line --regexp '^client=127\.0\.0\.1:[0-9]+$'
	logged_handoff "$(answer client)" a.b.beta.localhost beta
}

@test "Python ssl: a default context's hello routes; the backend sees its port" {
	start_routes
	run -0 py_ssl beta.localhost
	assert_line "version=TLSv1.3"
	assert_line "HTTP/1.1 200 OK"
	assert_line "backend=beta"
	assert_line "server_name=beta.localhost"
	assert_line "tls_server_name=beta.localhost"
	assert_line "client=$(answer from)"
	assert_line "alpn=-"
	logged_handoff "$(answer from)" beta.localhost beta
}

@test "Python ssl, TLS 1.2 only: the hello routes; the backend sees its port" {
	start_routes
	run -0 py_ssl alpha.localhost tls1.2
	assert_line "version=TLSv1.2"
	assert_line "HTTP/1.1 200 OK"
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
	assert_line "tls_server_name=alpha.localhost"
	assert_line "client=$(answer from)"
	logged_handoff "$(answer from)" alpha.localhost alpha
	run -0 py_ssl www.beta.localhost tls1.2
	assert_line "version=TLSv1.2"
	assert_line "backend=beta"
	assert_line "tls_server_name=www.beta.localhost"
	assert_line "client=$(answer from)"
}

@test "Chromium: a 2 KB hello (GREASE, ECH GREASE, X25519MLKEM768) routes by exact name" {
	start_routes
	run -0 chromium_get chromium.test
	assert_line "backend=alpha"
	assert_line "server_name=chromium.test"
	assert_line "tls_server_name=chromium.test"
	assert_line --regexp '^client=127\.0\.0\.1:[0-9]+$'
	assert_line "local=127.0.0.1:$PORT"
	assert_line "alpn=h2,http/1.1"
	assert_line "ech=1"
	logged_handoff "$(answer client)" chromium.test alpha
	# the hello really was the big, modern one
	run -0 chromium_hello
	assert_line "server_name=chromium.test"
	assert_line --regexp '^key_shares=(.* )?X25519MLKEM768( |$)'
	assert_line "grease_ciphers=1"
	assert_line "grease_extensions=1"
	assert_line "ech_extension=1"
	[ "$(answer hello_bytes)" -gt 1500 ]
}

@test "Chromium: its hello routes by wildcard" {
	start_routes
	run -0 chromium_get www.chromium.test
	assert_line "backend=beta"
	assert_line "server_name=www.chromium.test"
	assert_line "tls_server_name=www.chromium.test"
	assert_line --regexp '^client=127\.0\.0\.1:[0-9]+$'
	assert_line "ech=1"
	logged_handoff "$(answer client)" www.chromium.test beta
	run -0 chromium_hello
	assert_line "server_name=www.chromium.test"
	[ "$(answer hello_bytes)" -gt 1500 ]
}

@test "no SNI goes to the default: curl to an IP, s_client, gnutls-cli, Python" {
	start_routes "default = alpha"
	# curl sends no server name for an IP address
	run -0 curl -sSk -m 5 -w 'local_port=%{local_port}\n' \
	    "https://127.0.0.1:$PORT/"
	assert_line "backend=alpha"
	assert_line "server_name=-"
	assert_line "tls_server_name=-"
	assert_line "client=127.0.0.1:$(answer local_port)"
	logged_handoff "$(answer client)" - alpha
	run -0 s_client -
	assert_line "backend=alpha"
	assert_line "server_name=-"
	assert_line "tls_server_name=-"
	assert_line --regexp '^client=127\.0\.0\.1:[0-9]+$'
	logged_handoff "$(answer client)" - alpha
	run -0 gnutls_get -
	assert_line "backend=alpha"
	assert_line "server_name=-"
	assert_line "tls_server_name=-"
	logged_handoff "$(answer client)" - alpha
	run -0 py_ssl -
	assert_line "backend=alpha"
	assert_line "server_name=-"
	assert_line "tls_server_name=-"
	assert_line "client=$(answer from)"
	logged_handoff "$(answer from)" - alpha
	# a name still routes by itself with a default there
	run -0 py_ssl beta.localhost
	assert_line "backend=beta"
}

@test "an unknown name without a default: the client receives exactly alert 112, then a FIN" {
	start_routes
	run -0 raw_reply nosuch.localhost
	assert_output $'15 03 03 00 02 02 70\nfin'
	# the same bytes as openssl s_client -msg decodes them
	run -0 s_client_received -servername nosuch.localhost
	assert_output - <<'EOF'
<<< TLS 1.2, RecordHeader [length 0005]
    15 03 03 00 02
<<< TLS 1.3, Alert [length 0002], fatal unrecognized_name
    02 70
EOF
	run -3 tls --name nosuch.localhost
	assert_output "alert 112"
	# no server name and no default: the same refusal
	run -0 raw_reply -
	assert_output $'15 03 03 00 02 02 70\nfin'
	wait_until log_has \
	    'name=nosuch\.localhost backend=- outcome=alert alert=112 reason=no-route'
	wait_until log_has 'name=- backend=- outcome=alert alert=112 reason=no-route'
}

@test "an unknown name without a default: gnutls-cli, openssl, curl and Python name alert 112" {
	start_routes
	run -1 gnutls_get nosuch.localhost
	assert_line "*** Received alert [112]: The server name sent was not recognized"
	refute_line "- Handshake was completed"
	run -1 s_client nosuch.localhost
	assert_line --regexp ':tlsv1 unrecognized name:.*:SSL alert number 112$'
	run -35 curl -sSk -m 5 --resolve "nosuch.localhost:$PORT:127.0.0.1" \
	    "https://nosuch.localhost:$PORT/"
	assert_output --regexp '^curl: \(35\) .*tlsv1 unrecognized name$'
	run -35 curl -sSk -m 5 "https://127.0.0.1:$PORT/"
	assert_output --regexp '^curl: \(35\) .*tlsv1 unrecognized name$'
	run -3 py_ssl nosuch.localhost
	assert_line "error: TLSV1_UNRECOGNIZED_NAME"
	# the refused clients did not hurt the next one
	run -0 py_ssl alpha.localhost
	assert_line "backend=alpha"
}
