#!/usr/bin/env bats
# split.bats - a ClientHello that does not come in one piece still routes.
#
# tls.py writes a real hello one byte per send() (TCP_NODELAY, 2 ms
# apart), or re-frames it into K TLS records, or both; the backend then
# completes the handshake on the very same bytes, so a hello SNItch had
# consumed or mangled would fail there.  No default backend: a hello
# SNItch could not parse would get an alert, not a fallback answer.

load lib

setup() {
	snitch_setup
	# a hello one byte per 2 ms takes over a second: give it time
	PEEK_TIMEOUT=10s
	start_demo alpha
	start_demo beta
	write_config
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost '*.beta.localhost'
	start_snitch
}

@test "a hello sent one byte at a time routes and completes its handshake" {
	run -0 tls --name alpha.localhost --split-bytes --print-local
	assert_line "backend=alpha"
	assert_line "tls_server_name=alpha.localhost"
	assert_line "client=$(answer from)"
}

@test "a hello split over two records routes" {
	run -0 tls --name alpha.localhost --records 2
	assert_line "backend=alpha"
	assert_line "tls_server_name=alpha.localhost"
}

@test "a hello split over three records routes" {
	run -0 tls --name x.beta.localhost --records 3
	assert_line "backend=beta"
	assert_line "tls_server_name=x.beta.localhost"
}

@test "a hello over two records, sent one byte at a time, routes" {
	run -0 tls --name a.b.beta.localhost --records 2 --split-bytes
	assert_line "backend=beta"
	assert_line "tls_server_name=a.b.beta.localhost"
}

@test "a hello over 200 small records routes" {
	run -0 tls --name alpha.localhost --records 200
	assert_line "backend=alpha"
	assert_line "tls_server_name=alpha.localhost"
}

@test "a hello split over records keeps its ALPN list" {
	run -0 tls --name alpha.localhost --alpn h2,http/1.1 --records 3
	assert_line "backend=alpha"
	assert_line "alpn=h2,http/1.1"
	run -0 tls --name beta.localhost --alpn h2,http/1.1 --records 2 --split-bytes
	assert_line "backend=beta"
	assert_line "alpn=h2,http/1.1"
}

@test "an unknown name split over records still gets alert 112" {
	run -3 tls --name nosuch.localhost --records 3 --split-bytes
	assert_output "alert 112"
}
