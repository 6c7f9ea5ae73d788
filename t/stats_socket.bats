#!/usr/bin/env bats
# stats_socket.bats - the stats Unix socket is made without root ever
# touching its path by name (root only: the attack needs a second user).
#
# man/snitch.ini.5, stats: the socket is bound in a fresh directory only
# root can write, chowned there to `user` without following links, then
# renamed over the path; what is at the path is replaced only when it is
# a socket nobody listens on that is no backend's; a directory another
# user could replace the socket in is refused, a sticky one warned
# about.  Here: a process of `user` (nobody, who owns $T) swapping a
# symlink to a root-only file in at the path whenever a file appears in
# $T, across several starts: the file's owner, mode and bytes never
# change (before, chmod and chown followed the link: the file became
# nobody's).  Then a stale socket, a live one, a backend's, a regular
# file and the directories.

load lib

setup() {
	snitch_setup
	if ! is_root; then
		skip "needs root: the attacker is another user (nobody)"
	fi
	WORKERS=1
	start_demo alpha
}

# stats_config [STATS] - snitch.ini with stats = STATS (default
# $T/stats.sock) and backend alpha
stats_config() {
	write_config "stats = ${1:-$T/stats.sock}"
	add_backend alpha alpha.localhost
}

# scrape - GET /metrics on $T/stats.sock succeeds
scrape() {
	curl -sS -m 5 --unix-socket "$T/stats.sock" -o /dev/null \
	    -w '%{http_code}' http://x/metrics | grep -qx 200
}

# stale_socket PATH - a socket file nobody listens on (its process gone)
stale_socket() {
	"$PYTHON" -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"
}

# refused PATTERN - snitch exits 1 at start with a line matching PATTERN
refused() {
	run -1 timeout 10 "$SNITCH" -c "$T/snitch.ini"
	assert_output --regexp "$1"
}

# owner_mode FILE - "uid:gid mode" of FILE itself
owner_mode() {
	stat -c '%u:%g %a' "$1"
}

@test "a symlink swapped in at the stats path by user, at every start: the root-only file it points to is never chowned nor chmodded" {
	local round before swaps
	mkdir -m 700 "$T/root-only"
	echo "root's secret" >"$T/root-only/secret"
	chmod 600 "$T/root-only/secret"
	before=$(owner_mode "$T/root-only/secret")
	assert_equal "$before" "0:0 600"
	stats_config
	# from $T: nobody may not reach the tree (a clone in a private
	# directory)
	cp "$BATS_TEST_DIRNAME/swap_link.py" "$T/swap_link.py"
	chmod 0644 "$T/swap_link.py"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$PYTHON" "$T/swap_link.py" "$T" stats.sock \
	    "$T/root-only/secret" >"$T/swap.log" 2>&1 </dev/null 3>&- &
	track_pid $!
	wait_until grep -q ready "$T/swap.log"
	for round in 1 2 3 4 5 6 7 8 9 10; do
		# the last round's link (or socket) is root's to clear
		rm -f "$T/stats.sock"
		start_snitch || true
		stop_snitch
		assert_equal "$(owner_mode "$T/root-only/secret")" "$before"
		assert_equal "$(cat "$T/root-only/secret")" "root's secret"
	done
	# the attack ran: it swapped its link in during the starts
	swaps=$(grep -c '^swapped' "$T/swap.log")
	[ "$swaps" -ge 5 ] || fail "the attacker swapped only $swaps times"
	# and no private directory was left behind
	run -0 find "$T" -maxdepth 1 -name '.stats.sock.*' -type d
	assert_output ""
}

@test "the stats socket is born 0660 and user's, in a directory user owns, and serves" {
	stats_config
	start_snitch
	wait_until scrape
	assert_equal "$(owner_mode "$T/stats.sock")" \
	    "$(id -u nobody):$(id -g nobody) 660"
	run -0 find "$T" -maxdepth 1 -name '.stats.sock.*'
	assert_output ""
}

@test "a stale socket at the stats path is replaced" {
	stale_socket "$T/stats.sock"
	stats_config
	start_snitch
	wait_until scrape
}

@test "a live socket at the stats path is refused, and left listening" {
	"$PYTHON" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
time.sleep(60)' "$T/stats.sock" 3>&- &
	track_pid $!
	wait_until test -S "$T/stats.sock"
	stats_config
	refused "stats $T/stats.sock: a process listens on it \(another snitch\?\)"
	run -0 "$PYTHON" -c 'import socket, sys
socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$T/stats.sock"
}

@test "a backend's socket at the stats path is refused, live or stale" {
	stats_config "$T/alpha.sock"
	refused "stats $T/alpha.sock: it is backend alpha's socket: choose another path"
	run -0 routes_to_after_start alpha
	# beta's backend is not running: its socket file is stale
	stale_socket "$T/beta.sock"
	stats_config "$T/beta.sock"
	add_backend beta beta.localhost
	refused "stats $T/beta.sock: it is backend beta's socket"
	[ -S "$T/beta.sock" ]
}

# routes_to_after_start BACKEND - with a plain config, a client for
# BACKEND.localhost reaches it (its socket still works)
routes_to_after_start() {
	write_config
	add_backend "$1" "$1.localhost"
	start_snitch
	routes_to "$1.localhost" "$1"
	stop_snitch
}

@test "a regular file or a symlink at the stats path is refused, and left as it was" {
	echo "not a socket" >"$T/stats.sock"
	stats_config
	refused "stats $T/stats.sock: there is a regular file there, and only a socket nobody listens on is replaced"
	assert_equal "$(cat "$T/stats.sock")" "not a socket"
	rm "$T/stats.sock"
	ln -s /etc/hostname "$T/stats.sock"
	refused "stats $T/stats.sock: there is a symbolic link there"
	[ -L "$T/stats.sock" ]
}

@test "a stats directory others may write to is refused; a sticky one is warned about" {
	mkdir "$T/open" "$T/sticky"
	chmod 0777 "$T/open"
	chmod 1777 "$T/sticky"
	stats_config "$T/open/stats.sock"
	refused "stats $T/open/stats.sock: directory $T/open \(mode 0777, no sticky bit\): every user can write to it, so another user could replace the stats socket"
	[ ! -e "$T/open/stats.sock" ]
	chmod 0775 "$T/open"
	refused "directory $T/open \(mode 0775, no sticky bit\): group [0-9]+ can write to it"
	stats_config "$T/sticky/stats.sock"
	start_snitch
	log_has "stats $T/sticky/stats.sock: directory $T/sticky \(mode 1777, sticky\): every user can write to it, so another user could bind the path first"
	wait_until test -S "$T/sticky/stats.sock"
}
