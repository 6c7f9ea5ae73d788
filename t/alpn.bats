#!/usr/bin/env bats
# alpn.bats - an ALPN route takes a name's clients that offer its
# protocol, the name's ordinary backend keeps the others (issue 9: RFC
# 8737 TLS-ALPN-01 challenges beside the site's own traffic).
#
# Demo backends: web (www.alpn.localhost and *.alpn.localhost), acme
# (www.alpn.localhost, alpn = acme-tls/1, fallback web), fallback (the
# default).  Real clients: openssl s_client -alpn, curl, Python's ssl
# (t/tls.py).  The demo's answer names the backend that did the
# handshake; snitch's access line says alpn_route= when one was taken.

load lib

setup() {
	snitch_setup
	start_demo web
	start_demo acme
	start_demo fallback
}

# alpn_config - the routes above in $T/snitch.ini
alpn_config() {
	write_config "default = fallback"
	add_backend web www.alpn.localhost '*.alpn.localhost'
	add_backend fallback fallback.localhost
	cat >>"$T/snitch.ini" <<EOF

[backend acme]
socket = $T/acme.sock
alpn = acme-tls/1
names = www.alpn.localhost
fallback = web
EOF
}

@test "openssl s_client -alpn acme-tls/1 reaches the ALPN route's backend" {
	alpn_config
	start_snitch
	run -0 s_client www.alpn.localhost -alpn acme-tls/1
	assert_line "backend=acme"
	assert_line "server_name=www.alpn.localhost"
	assert_line "tls_server_name=www.alpn.localhost"
	assert_line "alpn=acme-tls/1"
	wait_until log_has "name=www\.alpn\.localhost backend=acme outcome=handoff alpn_route=acme-tls/1 alpn=acme-tls/1 "
}

@test "curl offering h2,http/1.1 to the same name reaches the ordinary backend" {
	alpn_config
	start_snitch
	run -0 get_https www.alpn.localhost --http2
	assert_line "backend=web"
	assert_line "alpn=h2,http/1.1"
	run -0 get_https www.alpn.localhost --http1.1
	assert_line "backend=web"
	assert_line "alpn=http/1.1"
	wait_until log_has "name=www\.alpn\.localhost backend=web outcome=handoff alpn=h2,http/1\.1 "
	# an ordinary route says nothing about ALPN routes
	run grep -c 'backend=web .*alpn_route=' "$T/snitch.log"
	assert_output 0
}

@test "no ALPN, or another protocol only: the ordinary backend" {
	alpn_config
	start_snitch
	run -0 tls --name www.alpn.localhost
	assert_line "backend=web"
	run -0 s_client www.alpn.localhost -alpn h3,http/1.1
	assert_line "backend=web"
	run -0 s_client www.alpn.localhost -alpn ACME-TLS/1
	assert_line "backend=web"
}

@test "the route's protocol anywhere in the offer counts" {
	alpn_config
	start_snitch
	run -0 tls --name www.alpn.localhost --alpn h2,http/1.1,acme-tls/1
	assert_line "backend=acme"
	assert_line "alpn=h2,http/1.1,acme-tls/1"
}

@test "a name the ALPN backend does not list goes to its ordinary backend" {
	alpn_config
	start_snitch
	run -0 s_client x.alpn.localhost -alpn acme-tls/1
	assert_line "backend=web"
	run -0 s_client nosuch.localhost -alpn acme-tls/1
	assert_line "backend=fallback"
	# no server name: the default, whatever the client offers
	run -0 s_client - -alpn acme-tls/1
	assert_line "backend=fallback"
}

@test "the ALPN backend down: held, then its fallback, logged with both" {
	alpn_config
	start_snitch
	stop_demo acme
	run -0 s_client www.alpn.localhost -alpn acme-tls/1
	assert_line "backend=web"
	wait_until log_has "name=www\.alpn\.localhost backend=web outcome=handoff fallback_of=acme held=1 alpn_route=acme-tls/1 "
}

@test "a reload adds and removes the ALPN route" {
	write_config "default = fallback"
	add_backend web www.alpn.localhost '*.alpn.localhost'
	add_backend fallback fallback.localhost
	add_backend acme acme.localhost
	start_snitch
	wait_until log_has "started: 2 workers, 3 backends, 4 names, 0 alpn routes, "
	run -0 s_client www.alpn.localhost -alpn acme-tls/1
	assert_line "backend=web"
	alpn_config
	kill -HUP "$SNITCH_PID"
	wait_until log_has "reload: configuration generation 2 loaded from .*: 3 backends, 3 names, 1 alpn routes, "
	# the old generation may still take a client for a moment
	wait_until eval 's_client www.alpn.localhost -alpn acme-tls/1 | grep -qx backend=acme'
	write_config "default = fallback"
	add_backend web www.alpn.localhost '*.alpn.localhost'
	add_backend fallback fallback.localhost
	add_backend acme acme.localhost
	kill -HUP "$SNITCH_PID"
	wait_until log_has "reload: configuration generation 3 loaded"
	wait_until eval 's_client www.alpn.localhost -alpn acme-tls/1 | grep -qx backend=web'
}
