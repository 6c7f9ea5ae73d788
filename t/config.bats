#!/usr/bin/env bats
# config.bats - `snitch -t -c FILE` says "configuration OK", or names the
# file and the line that is wrong and exits 1.
#
# Every file is written out in full in its test so the line numbers the
# assertions name can be counted in the heredoc.  `user = nobody` is in
# all of them: snitch needs it when the tests run as root.

load lib

# check - write stdin to $T/c.ini and run snitch -t on it
check() {
	cat >"$T/c.ini"
	run timeout 10 "$SNITCH" -t -c "$T/c.ini"
}

# bad_at LINE - snitch -t exited 1 naming $T/c.ini:LINE
bad_at() {
	assert_failure 1
	assert_output --partial "$T/c.ini:$1: "
}

@test "a valid file: configuration OK" {
	check <<EOF
; SNItch test configuration
[snitch]
listen = 127.0.0.1:$PORT [::1]:$PORT   ; both families
user = nobody
workers = 2
peek_timeout = 500ms
handoff_timeout = 2
default = web

[backend web]
socket = $T/web.sock
names = example.org www.example.org
    *.example.org *.example.net

[backend all]
socket = $T/all.sock
names = *
EOF
	assert_success
	assert_output "configuration OK"
}

@test "snitch -V prints the version" {
	run -0 "$SNITCH" -V
	assert_output --partial "$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' "$SNITCH_ROOT/Makefile")"
}

@test "an unknown key" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
colour = blue

[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	bad_at 4
}

@test "an unknown key in a backend" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody

[backend a]
socket = $T/a.sock
names = a.localhost
workers = 2
EOF
	bad_at 8
}

@test "an unknown section type" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
[frontend x]
socket = $T/x.sock
EOF
	bad_at 4
}

@test "a listen address that is not an address" {
	check <<EOF
[snitch]
user = nobody
listen = 999.1.1.1:80
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	bad_at 3
}

@test "a listen address without a port" {
	check <<EOF
[snitch]
user = nobody
listen = 127.0.0.1
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	bad_at 3
}

@test "a listen port out of range" {
	check <<EOF
[snitch]
user = nobody
listen = 127.0.0.1:99999
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	bad_at 3
}

@test "a bad address second on a listen line" {
	check <<EOF
[snitch]
user = nobody
listen = 127.0.0.1:$PORT [::1]
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	bad_at 3
}

@test "a duration in an unknown unit" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
peek_timeout = 10 fortnights
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	bad_at 4
}

@test "a negative duration" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
workers = 1
peek_timeout = -1s
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	bad_at 5
}

@test "a backend without a socket: the line of its header" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody

[backend a]
socket = $T/a.sock
names = a.localhost

[backend b]
names = b.localhost

[backend c]
socket = $T/c.sock
names = c.localhost
EOF
	bad_at 9
}

@test "a default that is no backend: the line of the default key" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
default = nosuch

[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	bad_at 4
}

@test "the same name in two backends: the line of the second" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody

[backend a]
socket = $T/a.sock
names = a.localhost same.localhost

[backend b]
socket = $T/b.sock
names = b.localhost same.localhost
EOF
	bad_at 11
}

@test "a name that is not a host name pattern" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody

[backend a]
socket = $T/a.sock
names = a.localhost bad_name!.com
EOF
	bad_at 7
}

@test "workers = 0" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
workers = 0
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	bad_at 4
}

@test "a missing file" {
	run timeout 10 "$SNITCH" -t -c "$T/nosuch.ini"
	assert_failure 1
	assert_output --partial "$T/nosuch.ini: No such file"
}

@test "the flood keys, all set: configuration OK" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
max_pending = 1000
max_pending_per_source = 16
source_netblock_ipv4 = 24
source_netblock_ipv6 = 48
pressure_threshold = 75
pressure_peek_timeout = 2s
pressure_first_byte_timeout = 250ms
source_penalty = 5m
source_penalty_stalls = 64
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	assert_success
	assert_output "configuration OK"
}

@test "the flood keys, extremes: configuration OK" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
max_pending_per_source = 1
source_netblock_ipv4 = 1
source_netblock_ipv6 = 128
pressure_threshold = 100
source_penalty = off
source_penalty_stalls = 1
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	assert_success
	assert_output "configuration OK"
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
source_netblock_ipv4 = 32
source_netblock_ipv6 = 1
pressure_threshold = 1
source_penalty = 60m
source_penalty_stalls = 1000000
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	assert_success
	assert_output "configuration OK"
}

@test "the flood keys: each bad value refused at its line, not as an unknown key" {
	local row
	for row in "max_pending = 0" "max_pending = many" \
	    "max_pending_per_source = 0" "max_pending_per_source = -1" \
	    "source_netblock_ipv4 = 0" "source_netblock_ipv4 = 33" \
	    "source_netblock_ipv6 = 0" "source_netblock_ipv6 = 129" \
	    "pressure_threshold = 0" "pressure_threshold = 101" \
	    "pressure_peek_timeout = 0" "pressure_first_byte_timeout = 0" \
	    "pressure_peek_timeout = 10 fortnights" \
	    "pressure_peek_timeout = -1s" \
	    "pressure_first_byte_timeout = 10 fortnights" \
	    "pressure_first_byte_timeout = -1s" \
	    "source_penalty = 0" "source_penalty = on" \
	    "source_penalty = 61m" "source_penalty = -1s" \
	    "source_penalty_stalls = 0" "source_penalty_stalls = 1000001" \
	    "source_penalty_stalls = some"; do
		echo "row: $row"
		check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
$row
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
		bad_at 4
		assert_output --partial "${row%% *}"
		refute_output --partial "unknown key"
	done
}

# chroot_tree - $RUN, a fresh root-owned directory under /run (not under
# /tmp, which every user may write; teardown removes it): RUN/user is
# nobody's, RUN/user/jail and RUN/safe are root's, RUN/via-user links to
# user/jail, RUN/via-safe to safe and RUN/up to RUN
chroot_tree() {
	RUN=$(mktemp -d /run/snitch-config.XXXXXX)
	chmod 755 "$RUN"
	mkdir -m 755 "$RUN/user" "$RUN/user/jail" "$RUN/safe"
	chown nobody "$RUN/user"
	ln -s user/jail "$RUN/via-user"
	ln -s safe "$RUN/via-safe"
	ln -s "$RUN" "$RUN/up"
}

teardown() {
	if [ -n "${RUN:-}" ]; then
		rm -rf "$RUN"
	fi
	snitch_teardown
}

# check_chroot DIR - check a file with chroot = DIR on line 4
check_chroot() {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
chroot = $1
[backend a]
socket = /a.sock
names = a.localhost
EOF
}

@test "chroot: a symbolic link on the path is refused at its line, not judged by its target" {
	is_root || skip "needs root: makes directories under /run for nobody and root"
	chroot_tree
	# the attack: a root-owned jail inside nobody's directory, reached
	# through a link in root's: nobody could rename the jail away and
	# put a tree of their own there.  Before, stat followed the link,
	# saw root's jail, and said configuration OK.
	check_chroot "$RUN/via-user"
	bad_at 4
	assert_output --partial "chroot $RUN/via-user is a symbolic link: give the path without links ($RUN/user/jail), so that every directory on it is checked"
	# without the link, the path names nobody's directory
	check_chroot "$RUN/user/jail"
	bad_at 4
	assert_output --partial "chroot $RUN/user is owned by uid $(id -u nobody), not root"
	# a link is refused even where its target is fine, and higher up
	check_chroot "$RUN/via-safe"
	bad_at 4
	assert_output --partial "chroot $RUN/via-safe is a symbolic link: give the path without links ($RUN/safe)"
	check_chroot "$RUN/up/safe"
	bad_at 4
	assert_output --partial "chroot $RUN/up is a symbolic link: give the path without links ($RUN/safe)"
	# the path without links is fine
	check_chroot "$RUN/safe"
	assert_success
	assert_output "configuration OK"
}

@test "proxy_protocol and proxy_from, IPv4, IPv6 and v4-mapped blocks: configuration OK" {
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT [::1]:$PORT
user = nobody
proxy_protocol = 127.0.0.1:$PORT [::1]:$PORT
proxy_from = 10.0.0.0/8 127.0.0.1 2001:db8::/32 ::ffff:192.0.2.0/120
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
	assert_success
	assert_output "configuration OK"
}

@test "listen_http, acme_http, proxy_protocol on a listen_http address: configuration OK" {
	local http
	http=$(free_port)
	check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
listen_http = 127.0.0.1:$http [::1]:$http
user = nobody
acme_http = acme
proxy_protocol = 127.0.0.1:$http
proxy_from = 127.0.0.1
[backend a]
socket = $T/a.sock
names = a.localhost
[backend acme]
socket = $T/acme.sock
names = acme.localhost
EOF
	assert_success
	assert_output "configuration OK"
}

@test "listen_http and acme_http: each refusal at its line" {
	local row line http
	http=$(free_port)
	# "LINE|PATTERN|KEY LINES...": the file line the refusal must name,
	# what it must say, then the lines written after user (line 3)
	for row in \
	    "4|both listen and listen_http|listen_http = 127.0.0.1:$PORT" \
	    "5|both listen and listen_http|listen_http = 127.0.0.1:$http\nlisten = 127.0.0.1:$http" \
	    "4|listen_http address .* given twice|listen_http = 127.0.0.1:$http 127.0.0.1:$http" \
	    "4|bad listen_http address|listen_http = localhost:$http" \
	    "5|acme_http backend 'nope' is not defined|listen_http = 127.0.0.1:$http\nacme_http = nope" \
	    "4|acme_http is set but listen_http is not|acme_http = a"; do
		line=${row%%|*}
		row=${row#*|}
		echo "row: $line|$row"
		check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
$(printf '%b' "${row#*|}")
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
		bad_at "$line"
		assert_output --regexp "${row%%|*}"
	done
}

@test "proxy_protocol and proxy_from: each refusal at its line" {
	local row line
	# "LINE|KEY LINES...": the file line the refusal must name, then the
	# lines written after user (line 3), "\n" between two of them
	for row in \
	    "4|proxy_protocol = 127.0.0.1:1\nproxy_from = 127.0.0.1" \
	    "4|proxy_protocol = 127.0.0.1:$PORT" \
	    "4|proxy_from = 127.0.0.1" \
	    "5|proxy_protocol = 127.0.0.1:$PORT\nproxy_from = 10.0.0.0/33" \
	    "5|proxy_protocol = 127.0.0.1:$PORT\nproxy_from = 10.0.0.1/8" \
	    "5|proxy_protocol = 127.0.0.1:$PORT\nproxy_from = 10.0.0.0/" \
	    "5|proxy_protocol = 127.0.0.1:$PORT\nproxy_from = example.org/8" \
	    "5|proxy_protocol = 127.0.0.1:$PORT\nproxy_from = 127.0.0.1 ::1/129" \
	    "4|proxy_protocol = localhost:$PORT\nproxy_from = 127.0.0.1" \
	    "4|proxy_protocol = 127.0.0.1:$PORT 127.0.0.1:$PORT\nproxy_from = ::1"; do
		line=${row%%|*}
		echo "row: $row"
		check <<EOF
[snitch]
listen = 127.0.0.1:$PORT
user = nobody
$(printf '%b' "${row#*|}")
[backend a]
socket = $T/a.sock
names = a.localhost
EOF
		bad_at "$line"
		assert_output --regexp "proxy_(protocol|from)"
		refute_output --partial "unknown key"
	done
}
