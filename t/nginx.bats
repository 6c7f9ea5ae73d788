#!/usr/bin/env bats
# nginx.bats - Debian's nginx behind snitch-relay with a PROXY header:
# nginx serves HTTPS itself and learns the real client from the header.
#
# snitch routes nginx.localhost to snitch-relay on $T/relay.sock, which
# connects to nginx on a free port of 127.0.0.1 (`listen ... ssl
# proxy_protocol`), sending a PROXY v1 or v2 header first.  nginx runs in
# the foreground from $T/nginx.conf, every file it writes under $T, its
# master a tracked process (TERM stops its workers too); as root its
# workers run as nobody.  curl connects from 127.0.0.7, so the client's
# address differs from the relay's (127.0.0.1) in nginx's access log.

load lib

NGINX=${NGINX:-/usr/sbin/nginx}
# the client's own address: anywhere in 127/8 is loopback on Linux
CLIENT_IP=127.0.0.7

setup_file() {
	snitch_setup_file
	need_built "$SNITCH_RELAY"
	if [ ! -x "$NGINX" ]; then
		echo "$NGINX is missing: make deps-test (nginx-light)" >&2
		return 1
	fi
}

# nginx_routes - snitch.ini: nginx.localhost to the backend `relay`
nginx_routes() {
	write_config
	add_backend relay nginx.localhost
}

# tcp_listening PORT - a process listens on 127.0.0.1:PORT (asked of
# the kernel: a probe connection would be a broken PROXY header to nginx)
tcp_listening() {
	[ -n "$(ss -Htl src "127.0.0.1:$1" 2>/dev/null)" ]
}

# nginx_conf PORT [LINE...] - $T/nginx.conf: HTTPS with PROXY headers on
# 127.0.0.1:PORT, the page $T/www/index.html, the access log
# $T/nginx-access.log; each LINE goes into the http block
nginx_conf() {
	local port=$1 line extra=
	shift
	for line in "$@"; do
		extra+=$'\t'"$line"$'\n'
	done
	mkdir -p "$T/www" "$T/nginx-temp"
	echo "served by nginx behind snitch-relay" >"$T/www/index.html"
	chmod 644 "$T/www/index.html"
	{
		if is_root; then
			echo "user nobody nogroup;"
		fi
		cat <<EOF
worker_processes 1;
pid $T/nginx.pid;
lock_file $T/nginx.lock;
error_log $T/nginx-error.log info;
events {
	worker_connections 64;
}
http {
	# Debian compiles in temp paths under /var/lib/nginx, outside $T
	client_body_temp_path $T/nginx-temp/body;
	proxy_temp_path $T/nginx-temp/proxy;
	fastcgi_temp_path $T/nginx-temp/fastcgi;
	uwsgi_temp_path $T/nginx-temp/uwsgi;
	scgi_temp_path $T/nginx-temp/scgi;
	default_type text/plain;
	log_format snitch
	    'client=\$proxy_protocol_addr:\$proxy_protocol_port '
	    'server=\$proxy_protocol_server_addr:\$proxy_protocol_server_port '
	    'remote_addr=\$remote_addr realip=\$realip_remote_addr '
	    'name=\$ssl_server_name '
	    'request="\$request" status=\$status';
	access_log $T/nginx-access.log snitch;
$extra	server {
		listen 127.0.0.1:$port ssl proxy_protocol;
		ssl_certificate $T/cert.pem;
		ssl_certificate_key $T/key.pem;
		root $T/www;
	}
}
EOF
	} >"$T/nginx.conf"
}

# start_nginx PORT [LINE...] - nginx_conf, then nginx in the foreground, its
# master tracked; waits until PORT listens (at most 5 s), fails with
# its logs if it exited or did not
start_nginx() {
	local pid i
	nginx_conf "$@"
	"$NGINX" -p "$T/" -c "$T/nginx.conf" -e "$T/nginx-error.log" \
	    -g 'daemon off;' </dev/null >>"$T/nginx.log" 2>&1 3>&- &
	pid=$!
	track_pid "$pid"
	for ((i = 0; i < START_STEPS; i++)); do
		if ! alive "$pid"; then
			echo "start_nginx: exited: $(cat "$T/nginx.log" \
			    "$T/nginx-error.log" 2>/dev/null)" >&2
			return 1
		fi
		tcp_listening "$1" && return 0
		sleep 0.02
	done
	echo "start_nginx: 127.0.0.1:$1 not listening after 5 s" >&2
	return 1
}

# access_log_has PATTERN - nginx-access.log has a line matching the
# extended regex
access_log_has() {
	grep -qE -- "$1" "$T/nginx-access.log"
}

# real_client_through VERSION [REMOTE [LINE...]] - curl from $CLIENT_IP
# through snitch and snitch-relay -p VERSION to nginx (LINEs added to its
# http block): the page, and nginx's access log holds curl's address and
# port from the PROXY header, REMOTE as $remote_addr (default the
# relay's address) and the server name curl asked for
real_client_through() {
	local version=$1 remote=${2:-127.0.0.1} nport lp
	shift $(($# < 2 ? $# : 2))
	nport=$(free_port)
	start_nginx "$nport" "$@"
	nginx_routes
	start_relay -p "$version" "127.0.0.1:$nport"
	start_snitch
	run -0 get_https nginx.localhost --interface "$CLIENT_IP" --http1.1
	assert_line "served by nginx behind snitch-relay"
	lp=$(answer local_port)
	[ -n "$lp" ]
	wait_until access_log_has \
	    "^client=127\.0\.0\.7:$lp server=127\.0\.0\.1:$PORT remote_addr=${remote//./\\.} realip=127\.0\.0\.1 name=nginx\.localhost request=\"GET / HTTP/1\.1\" status=200$"
	wait_until relay_log_has \
	    "client=127\.0\.0\.7:$lp name=nginx\.localhost target=127\.0\.0\.1:$nport up=[1-9][0-9]* down=[1-9][0-9]* duration=[0-9]+\.[0-9]{3}s end=done$"
}

@test "nginx behind snitch-relay -p v1: curl gets the page, nginx logs the client's address and port, not the relay's" {
	real_client_through v1
}

@test "nginx behind snitch-relay -p v2: curl gets the page, nginx logs the client's address and port, not the relay's" {
	real_client_through v2
}

@test "nginx with real_ip_header proxy_protocol: \$remote_addr itself is the client's address" {
	real_client_through v2 "$CLIENT_IP" "set_real_ip_from 127.0.0.1;" \
	    "real_ip_header proxy_protocol;"
}
