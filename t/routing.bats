#!/usr/bin/env bats
# routing.bats - a client reaches the backend its server name routes to.
#
# Four demo backends: alpha (alpha.localhost), beta (beta.localhost and
# *.beta.localhost), gamma (exact.beta.localhost, inside beta's wildcard,
# and *.deep.beta.localhost, a longer suffix), fallback (the default).
# Every answer is the demo's: it proves which backend did the handshake
# (tls_server_name is what its own OpenSSL saw) and whose address it saw.

load lib

setup() {
	snitch_setup
	start_demo alpha
	start_demo beta
	start_demo gamma
	start_demo fallback
}

# start_routes - the routes above, snitch listening on $LISTEN
start_routes() {
	write_config "default = fallback"
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost '*.beta.localhost'
	add_backend gamma exact.beta.localhost '*.deep.beta.localhost'
	add_backend fallback fallback.localhost
	start_snitch
}

@test "curl: an exact name reaches its backend, which sees the client's address" {
	start_routes
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
	assert_line "tls_server_name=alpha.localhost"
	assert_line "client=127.0.0.1:$(answer local_port)"
	assert_line "local=127.0.0.1:$PORT"
	assert_line "ech=0"
}

@test "openssl s_client: an exact name reaches its backend" {
	start_routes
	run -0 s_client alpha.localhost
	assert_line "backend=alpha"
	assert_line "tls_server_name=alpha.localhost"
	assert_line --regexp '^client=127\.0\.0\.1:[0-9]+$'
}

@test "tls.py: the backend sees the client's own port" {
	start_routes
	run -0 tls --name alpha.localhost --print-local
	assert_line "backend=alpha"
	assert_line "client=$(answer from)"
}

@test "the connection is logged with its client, name, backend and outcome" {
	start_routes
	run -0 get_https beta.localhost
	assert_line "backend=beta"
	local lp
	lp=$(answer local_port)
	wait_until log_has "client=127\.0\.0\.1:$lp name=beta\.localhost backend=beta outcome=handoff"
}

@test "a wildcard matches one label: x.beta.localhost -> beta" {
	start_routes
	run -0 get_https x.beta.localhost
	assert_line "backend=beta"
	assert_line "tls_server_name=x.beta.localhost"
	run -0 s_client x.beta.localhost
	assert_line "backend=beta"
	assert_line "tls_server_name=x.beta.localhost"
}

@test "a wildcard matches several labels: a.b.beta.localhost -> beta" {
	start_routes
	run -0 get_https a.b.beta.localhost
	assert_line "backend=beta"
	assert_line "tls_server_name=a.b.beta.localhost"
	run -0 s_client a.b.beta.localhost
	assert_line "backend=beta"
	assert_line "tls_server_name=a.b.beta.localhost"
}

@test "an exact name wins over a wildcard that also matches it" {
	start_routes
	run -0 get_https exact.beta.localhost
	assert_line "backend=gamma"
	assert_line "tls_server_name=exact.beta.localhost"
	run -0 s_client exact.beta.localhost
	assert_line "backend=gamma"
}

@test "the wildcard with the longest suffix wins" {
	start_routes
	run -0 get_https x.deep.beta.localhost
	assert_line "backend=gamma"
	run -0 get_https deep.beta.localhost
	assert_line "backend=beta"
}

@test "no SNI goes to the default backend" {
	start_routes
	run -0 tls --print-local
	assert_line "backend=fallback"
	assert_line "server_name=-"
	assert_line "tls_server_name=-"
	assert_line "client=$(answer from)"
	run -0 s_client -
	assert_line "backend=fallback"
	assert_line "tls_server_name=-"
}

@test "an unknown name goes to the default backend" {
	start_routes
	run -0 get_https nosuch.localhost
	assert_line "backend=fallback"
	assert_line "tls_server_name=nosuch.localhost"
	run -0 s_client nosuch.example
	assert_line "backend=fallback"
	assert_line "tls_server_name=nosuch.example"
}

@test "upper case and a trailing dot route like the plain name" {
	start_routes
	run -0 tls --name ALPHA.LOCALHOST. --print-local
	assert_line "backend=alpha"
	assert_line "tls_server_name=ALPHA.LOCALHOST."
	assert_line "client=$(answer from)"
	run -0 tls --name X.Beta.LocalHost
	assert_line "backend=beta"
	run -0 s_client Alpha.Localhost
	assert_line "backend=alpha"
}

@test "a name that is not a host name is no match: it goes to the default" {
	start_routes
	# would match *.beta.localhost, but _ is not allowed in a host name
	run -0 tls --name x_y.beta.localhost
	assert_line "backend=fallback"
	assert_line "tls_server_name=x_y.beta.localhost"
	run -0 tls --name 'beta.localhost!'
	assert_line "backend=fallback"
}

@test "curl --http2: the backend sees the client's ALPN list" {
	start_routes
	run -0 get_https alpha.localhost --http2
	assert_line "backend=alpha"
	assert_line "alpn=h2,http/1.1"
	run -0 get_https alpha.localhost --http1.1
	assert_line "alpn=http/1.1"
	run -0 tls --name alpha.localhost --alpn h2,http/1.1
	assert_line "alpn=h2,http/1.1"
	run -0 tls --name alpha.localhost
	assert_line "alpn=-"
}

@test "a listener on [::1] routes too, and the backend sees the v6 client" {
	have_ipv6_lo || skip "::1 is not configured on lo"
	PORT=$(free_port v6)
	LISTEN="127.0.0.1:$PORT [::1]:$PORT"
	start_routes
	run -0 tls --host ::1 --name alpha.localhost --print-local
	assert_line "backend=alpha"
	assert_line "local=[::1]:$PORT"
	assert_line --regexp '^from=\[::1\]:[0-9]+$'
	assert_line "client=$(answer from)"
	run -0 curl -sSk -m 5 --resolve "beta.localhost:$PORT:[::1]" \
	    "https://beta.localhost:$PORT/"
	assert_line "backend=beta"
	assert_line --regexp '^client=\[::1\]:[0-9]+$'
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}
