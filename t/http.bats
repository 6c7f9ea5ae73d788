#!/usr/bin/env bats
# http.bats - plain HTTP on listen_http: routed by Host to the same
# backends as TLS clients, handed on untouched, or answered with a short
# HTTP/1.1 response.
#
# Demo backends alpha (alpha.localhost), beta (*.beta.localhost),
# fallback (the default) and acme (acme_http); snitch-demo answers a
# client in clear with tls=0, and server_name= is the authority of the
# handoff's PROXY v2 header: the request's host.  t/httpclient.py sends
# raw requests (cut into segments, after a PROXY header, or a TLS hello
# instead).

load lib

HTTPCLIENT_PY=$SNITCH_ROOT/t/httpclient.py

setup() {
	snitch_setup
	HTTP_PORT=$(free_port)
	start_demo alpha
	start_demo beta
	start_demo fallback
}

# http_config [LINE...] - snitch.ini: TLS on $LISTEN, HTTP on
# $HTTP_PORT, the routes above; each LINE goes into [snitch]
http_config() {
	write_config "listen_http = 127.0.0.1:$HTTP_PORT" \
	    "$@"
	add_backend alpha alpha.localhost
	add_backend beta '*.beta.localhost'
	add_backend fallback fallback.localhost
}

# get_http NAME [ARGS...] - curl http://NAME:$HTTP_PORT/ on loopback
get_http() {
	local name=$1
	shift
	curl -sS -m 5 --resolve "$name:$HTTP_PORT:127.0.0.1" \
	    -w 'local_port=%{local_port}\nstatus=%{http_code}\n' "$@" \
	    "http://$name:$HTTP_PORT/"
}

# http_raw [ARGS...] - t/httpclient.py against $HTTP_PORT
http_raw() {
	timeout 30 "$PYTHON" "$HTTPCLIENT_PY" --port "$HTTP_PORT" "$@"
}

@test "curl http://: an exact name reaches its backend in clear, Host as the authority" {
	http_config "default = fallback"
	start_snitch
	run -0 get_http alpha.localhost
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
	assert_line "tls=0"
	assert_line "alpn=-"
	assert_line "client=127.0.0.1:$(answer local_port)"
	assert_line "local=127.0.0.1:$HTTP_PORT"
	assert_line "status=200"
	wait_until log_has "name=alpha.localhost backend=alpha outcome=handoff .*method=GET"
}

@test "curl http://: a wildcard, a name with no route to the default" {
	http_config "default = fallback"
	start_snitch
	run -0 get_http www.beta.localhost
	assert_line "backend=beta"
	assert_line "server_name=www.beta.localhost"
	run -0 get_http nowhere.localhost
	assert_line "backend=fallback"
}

@test "Host with a port, in upper case, with a trailing dot: normalized as SNI is" {
	http_config
	start_snitch
	run -0 curl -sS -m 5 -H "Host: ALPHA.Localhost.:8080" \
	    "http://127.0.0.1:$HTTP_PORT/"
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
}

@test "an absolute-form target's host wins over Host" {
	http_config
	start_snitch
	run -0 http_raw 'GET http://www.beta.localhost/x HTTP/1.1\r\nHost: alpha.localhost\r\n\r\n'
	assert_line "backend=beta"
	assert_line "server_name=www.beta.localhost"
}

@test "HTTP/1.0 without Host goes to the default" {
	http_config "default = fallback"
	start_snitch
	run -0 http_raw 'GET / HTTP/1.0\r\n\r\n'
	assert_line "HTTP/1.1 200 OK"
	assert_line "backend=fallback"
	assert_line "server_name=-"
}

@test "a request head sent one byte per segment is routed, and reaches the backend whole" {
	http_config
	start_snitch
	run -0 http_raw --segment 1 --gap 0.002 'GET /one/byte HTTP/1.1\r\nHost: alpha.localhost\r\nUser-Agent: dribble\r\n\r\n'
	assert_line "HTTP/1.1 200 OK"
	assert_line "backend=alpha"
	assert_line "end=fin"
}

@test "a name no route takes, without default: 421 Misdirected Request, then FIN" {
	http_config
	start_snitch
	run -0 http_raw 'GET / HTTP/1.1\r\nHost: nowhere.localhost\r\n\r\n'
	assert_line "HTTP/1.1 421 Misdirected Request"
	assert_line "Connection: close"
	assert_line --regexp '^Content-Length: [0-9]+$'
	assert_line "end=fin"
	wait_until log_has "outcome=http-refused status=421 reason=no-route"
}

@test "a head not whole within peek_timeout gets 408 Request Timeout; a silent client only a FIN" {
	http_config "defer_accept = off"
	start_snitch
	run -0 http_raw --timeout 8 'GET / HTTP/1.1\r\nHost: alp'
	assert_line "HTTP/1.1 408 Request Timeout"
	assert_line "Connection: close"
	assert_line "end=fin"
	wait_until log_has "outcome=timeout status=408 reason=request-head"
	run -0 http_raw --timeout 8
	assert_output "end=fin"
	refute log_has "outcome=http-refused"
}

@test "malformed heads get 400: two Host lines, a bare LF, not HTTP at all" {
	http_config "default = fallback"
	start_snitch
	run -0 http_raw 'GET / HTTP/1.1\r\nHost: alpha.localhost\r\nHost: www.beta.localhost\r\n\r\n'
	assert_line "HTTP/1.1 400 Bad Request"
	assert_line "end=fin"
	run -0 http_raw 'GET / HTTP/1.1\nHost: alpha.localhost\n\n'
	assert_line "HTTP/1.1 400 Bad Request"
	run -0 http_raw '\x00\x01binary'
	assert_line "HTTP/1.1 400 Bad Request"
	assert_line "end=fin"
}

@test "a head over HTTPHEAD_MAX gets 431, a request line over it 414, HTTP/2.0 505" {
	http_config "default = fallback"
	start_snitch
	local big
	big=$(printf 'a%.0s' {1..9000})
	run -0 http_raw "GET / HTTP/1.1\\r\\nHost: alpha.localhost\\r\\nX-Big: $big\\r\\n\\r\\n"
	assert_line "HTTP/1.1 431 Request Header Fields Too Large"
	assert_line "end=fin"
	run -0 http_raw "GET /$big HTTP/1.1\\r\\nHost: alpha.localhost\\r\\n\\r\\n"
	assert_line "HTTP/1.1 414 URI Too Long"
	run -0 http_raw 'GET / HTTP/2.0\r\nHost: alpha.localhost\r\n\r\n'
	assert_line "HTTP/1.1 505 HTTP Version Not Supported"
	wait_until log_has "outcome=http-refused status=431"
}

@test "acme_http: an ACME http-01 request goes to its backend whatever the name" {
	start_demo acme
	http_config "acme_http = acme"
	add_backend acme acme.localhost
	start_snitch
	run -0 curl -sS -m 5 --resolve "alpha.localhost:$HTTP_PORT:127.0.0.1" \
	    "http://alpha.localhost:$HTTP_PORT/.well-known/acme-challenge/tok"
	assert_line "backend=acme"
	assert_line "server_name=alpha.localhost"
	run -0 http_raw 'GET /.well-known/acme-challenge/tok HTTP/1.1\r\nHost: unrouted.localhost\r\n\r\n'
	assert_line "backend=acme"
	# Other paths route by name as ever.
	run -0 get_http alpha.localhost
	assert_line "backend=alpha"
	wait_until log_has "backend=acme outcome=handoff .*method=GET acme=1"
}

@test "a TLS hello on the HTTP listener gets alert 10 (unexpected_message)" {
	http_config "default = fallback"
	start_snitch
	run -0 http_raw --hello alpha.localhost
	assert_line "15 03 03 00 02 02 0a"
	assert_line "end=fin"
	wait_until log_has "outcome=alert alert=10 reason=tls-on-http"
}

@test "plain HTTP on the TLS listener gets 400 and a hint to use https" {
	http_config "default = fallback"
	start_snitch
	run curl -sS -m 5 "http://127.0.0.1:$PORT/"
	assert_output --partial "use https://"
	run -0 curl -sS -m 5 -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$PORT/"
	assert_output "400"
	wait_until log_has "outcome=http-refused status=400 reason=http-on-tls"
}

@test "a backend that is down: 503 Service Unavailable" {
	http_config "default = fallback"
	add_backend gone gone.localhost
	start_snitch
	run -0 http_raw 'GET / HTTP/1.1\r\nHost: gone.localhost\r\n\r\n'
	assert_line "HTTP/1.1 503 Service Unavailable"
	assert_line "end=fin"
	wait_until log_has "backend=gone outcome=http-refused status=503"
}

@test "proxy_protocol on a listen_http address: a PROXY header, then the request" {
	http_config "proxy_protocol = 127.0.0.1:$HTTP_PORT" \
	    "proxy_from = 127.0.0.1/32"
	start_snitch
	run -0 http_raw --proxy 127.0.0.5:4242 'GET / HTTP/1.1\r\nHost: alpha.localhost\r\n\r\n'
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
	assert_line "client=127.0.0.5:4242"
	assert_line "tls=0"
}

@test "snitch-relay hands an HTTP client to a plain HTTP server, bytes untouched" {
	need_built "$SNITCH_RELAY"
	local web_port
	web_port=$(free_port)
	mkdir "$T/www"
	echo "served by http.server" >"$T/www/index.html"
	"$PYTHON" -m http.server --bind 127.0.0.1 --directory "$T/www" \
	    "$web_port" >"$T/web.log" 2>&1 3>&- &
	track_pid $!
	wait_until tcp_accepts 127.0.0.1 "$web_port"
	start_relay "127.0.0.1:$web_port"
	write_config "listen_http = 127.0.0.1:$HTTP_PORT"
	printf '\n[backend relay]\nsocket = %s\nnames = web.localhost\n' \
	    "$T/relay.sock" >>"$T/snitch.ini"
	start_snitch
	run -0 curl -sS -m 5 --resolve "web.localhost:$HTTP_PORT:127.0.0.1" \
	    "http://web.localhost:$HTTP_PORT/index.html"
	assert_output "served by http.server"
}

@test "snitch -T lists acme_http after the backends of clients without a hello" {
	http_config "acme_http = acme" "default = fallback"
	add_backend acme acme.localhost
	run -0 --separate-stderr "$SNITCH" -T -c "$T/snitch.ini"
	run -0 awk '{ print $1, $2, $3, $5 }' <<<"$output"
	assert_line --index 4 'default - - fallback'
	assert_line --index 5 'acme_http - - acme'
}
