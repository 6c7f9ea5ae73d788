#!/usr/bin/env bats
# ech.bats - a ClientHello offering Encrypted Client Hello (RFC 9849,
# extension 0xfe0d) is routed by its outer server name, the ECH public
# name, and its handoff carries SNItch's TLV 0xE1 = 1 (PROTOCOL); one
# without the extension has no such TLV.
#
# The hellos are t/hostile.py's, hand-built: a TLS 1.3 offer with an
# outer ECHClientHello (type 0 = outer, HPKE suite, config_id, a 32-byte
# enc, a 208-byte payload) whose inner hello would name another host.
# What receives them:
#   - $T/tlv.py as a backend: it implements the receiving side of
#     PROTOCOL itself (SOCK_SEQPACKET, SCM_RIGHTS, PROXY v2) and writes
#     each handoff's TLVs to a file, so the test reads the TLV bytes;
#   - snitch-demo through libsnitch: its log says ech=1 (its OpenSSL
#     answers the hello, the fake key share ends the handshake there);
#   - snitch-relay -p v2 in front of $T/tlv.py on TCP, reading the
#     PROXY v2 header a daemon behind the relay gets.
# Chromium's real ECH GREASE is t/clients.bats's.

load lib

# ECH_EXT - the encrypted_client_hello extension, type:data for hostile.py
ECH_EXT="0xfe0d:00 0001 0001 2a 0020 $(printf 'ab%.0s' {1..32}) 00d0 $(printf 'cd%.0s' {1..208})"

setup_file() {
	snitch_setup_file
}

setup() {
	snitch_setup
	cat >"$T/tlv.py" <<'EOF'
# tlv.py handoff SOCKET OUT | tcp PORT OUT - write one line per handoff
# (a SOCK_SEQPACKET message with a descriptor) or per TCP connection that
# sends something (a PROXY v2 header first): "authority=NAME alpn=HEX ech=HEX", "-" for a
# TLV that is absent; then close the client's connection.
import os, selectors, socket, sys
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
def tlvs(header):
    if header[:12] != SIG or header[12] != 0x21:
        return "bad header " + header[:16].hex()
    body = header[16:16 + int.from_bytes(header[14:16], "big")]
    pos = 12 if header[13] == 0x11 else 36
    found = {}
    while pos + 3 <= len(body):
        t, n = body[pos], int.from_bytes(body[pos + 1:pos + 3], "big")
        if t in found:
            return "repeated TLV %02x" % t
        found[t] = body[pos + 3:pos + 3 + n]
        pos += 3 + n
    if pos != len(body):
        return "TLVs do not fill the header"
    return "authority=%s alpn=%s ech=%s" % (
        found[2].decode() if 2 in found else "-",
        found[0xe0].hex() if 0xe0 in found else "-",
        found[0xe1].hex() if 0xe1 in found else "-")
def record(line):
    with open(sys.argv[3], "a") as f:
        f.write(line + "\n")
def recv_exactly(c, n):
    got = b""
    while len(got) < n:
        more = c.recv(n - len(got))
        if not more:
            break
        got += more
    return got
mode, where = sys.argv[1], sys.argv[2]
if mode == "handoff":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(where)
else:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(where)))
s.listen(64)
sel = selectors.DefaultSelector()
sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is s:
            c, _ = s.accept()
            sel.register(c, selectors.EVENT_READ)
            continue
        c = key.fileobj
        if mode == "handoff":
            msg, fds, _, _ = socket.recv_fds(c, 65536, 4)
            if not msg and not fds:
                sel.unregister(c)
                c.close()
                continue
            for fd in fds:
                # read the hello first: a close with unread bytes is a RST
                client = socket.socket(fileno=fd)
                client.setblocking(False)
                try:
                    client.recv(65536)
                except OSError:
                    pass
                client.close()
            record(tlvs(msg) if len(fds) == 1 else "%d fds" % len(fds))
        else:
            sel.unregister(c)
            head = recv_exactly(c, 16)
            if head:    # a connect probe sends nothing
                rest = int.from_bytes(head[14:16], "big") \
                    if len(head) == 16 else 0
                record(tlvs(head + recv_exactly(c, rest)))
                # the hello behind the header: one record, from hostile.py
                c.settimeout(5)
                try:
                    record_head = recv_exactly(c, 5)
                    recv_exactly(c, int.from_bytes(record_head[3:5], "big"))
                except OSError:
                    pass
            c.close()
EOF
}

# start_tlv_backend - $T/tlv.py as the backend on $T/tlv.sock
start_tlv_backend() {
	start_backend "$T/tlv.sock" "$T/tlv.log" "$PYTHON" "$T/tlv.py" \
	    handoff "$T/tlv.sock" "$T/handoffs"
	track_pid "$BACKEND_PID"
}

# ech_config - public.localhost (the ECH public name) to the tlv backend,
# secret.localhost (the inner name) to a demo that must not see these
# hellos, demo.localhost to a demo, the default to the tlv backend too
ech_config() {
	write_config "default = tlv"
	add_backend tlv public.localhost
	add_backend secret secret.localhost
	add_backend demo demo.localhost
}

# handoffs_line N - the Nth line of $T/handoffs, once there
handoffs_line() {
	[ "$(wc -l <"$T/handoffs" 2>/dev/null || echo 0)" -ge "$1" ] &&
	    sed -n "${1}p" "$T/handoffs"
}

@test "an outer hello with ECH routes by its public name; the handoff has TLV 0xE1 = 1" {
	start_tlv_backend
	start_demo secret
	start_demo demo
	ech_config
	start_snitch
	run hostile --name public.localhost --alpn h2 --ext "$ECH_EXT" --print-local
	assert_line closed
	local from
	from=$(answer from)
	wait_until handoffs_line 1
	run handoffs_line 1
	assert_output "authority=public.localhost alpn=026832 ech=01"
	wait_until log_has "client=$from name=public\.localhost backend=tlv outcome=handoff alpn=h2 "
	run grep -c 'server_name=' "$T/demo-secret.log"
	assert_output 0
}

@test "the same hello without the extension: no TLV 0xE1" {
	start_tlv_backend
	start_demo secret
	start_demo demo
	ech_config
	start_snitch
	run hostile --name public.localhost --alpn h2
	assert_line closed
	wait_until handoffs_line 1
	run handoffs_line 1
	assert_output "authority=public.localhost alpn=026832 ech=-"
}

@test "ECH without a server name: the default, with TLV 0xE1 and no authority" {
	start_tlv_backend
	start_demo secret
	start_demo demo
	ech_config
	start_snitch
	run hostile --ext "$ECH_EXT"
	assert_line closed
	wait_until handoffs_line 1
	run handoffs_line 1
	assert_output "authority=- alpn=- ech=01"
}

@test "the ECH extension twice: alert 50, nothing handed off" {
	start_tlv_backend
	start_demo secret
	start_demo demo
	ech_config
	start_snitch
	run hostile --name public.localhost --ext "$ECH_EXT" --ext "$ECH_EXT" \
	    --print-local
	assert_line "alert 50"
	local from
	from=$(answer from)
	wait_until log_has "client=$from name=- backend=- outcome=alert alert=50 reason=malformed-hello"
	# a good hello after it is handed off, and is the only handoff
	run hostile --name public.localhost --ext "$ECH_EXT"
	assert_line closed
	wait_until handoffs_line 1
	run cat "$T/handoffs"
	assert_output "authority=public.localhost alpn=- ech=01"
}

@test "snitch-demo (libsnitch) sees ech=1 for the ECH hello, ech=0 without" {
	start_tlv_backend
	start_demo secret
	start_demo demo
	ech_config
	start_snitch
	# the demo's OpenSSL answers; the fixed key share ends it there
	run hostile --name demo.localhost --ext "$ECH_EXT"
	assert_line server-hello
	wait_until grep -q 'server_name=demo.localhost ech=1' "$T/demo-demo.log"
	run hostile --name demo.localhost
	assert_line server-hello
	wait_until grep -q 'server_name=demo.localhost ech=0' "$T/demo-demo.log"
	run grep -c 'server_name=' "$T/demo-demo.log"
	assert_output 2
}

@test "snitch-relay -p v2: the daemon behind it reads TLV 0xE1 = 1" {
	local tport
	tport=$(free_port)
	"$PYTHON" "$T/tlv.py" tcp "$tport" "$T/handoffs" </dev/null \
	    >>"$T/tlv.log" 2>&1 3>&- &
	track_pid $!
	wait_until tcp_accepts 127.0.0.1 "$tport"
	start_relay -p v2 "127.0.0.1:$tport"
	write_config
	add_backend relay public.localhost
	start_snitch
	run hostile --name public.localhost --alpn acme-tls/1 --ext "$ECH_EXT"
	assert_line closed
	wait_until handoffs_line 1
	run hostile --name Public.Localhost. --alpn acme-tls/1
	assert_line closed
	wait_until handoffs_line 2
	run cat "$T/handoffs"
	assert_line --index 0 "authority=public.localhost alpn=0a61636d652d746c732f31 ech=01"
	assert_line --index 1 "authority=public.localhost alpn=0a61636d652d746c732f31 ech=-"
}
