#!/usr/bin/env bats
# owner.bats - backend identity: a backend's `owner` is checked against
# the listener's credentials, libsnitch can refuse channels that do not
# come from SNItch's uid, and socket directories other users may write
# to are warned about.  The users are made by the test (root only).

load lib

setup() {
	snitch_setup
	TEST_USERS=()
	if ! is_root; then
		skip "needs root: makes users with useradd"
	fi
	add_test_user OWNER
	add_test_user OTHER
	WORKERS=1	# one worker: "logged once" is one line
	# A directory only OWNER writes to, like /run/web for a web server.
	mkdir "$T/own"
	chown "$OWNER:$OWNER" "$T/own"
	chmod 755 "$T/own"
}

teardown() {
	local rc=0
	snitch_teardown || rc=$?
	remove_test_users
	return "$rc"
}

# owner_config [OWNER] - snitch.ini with backend alpha on $T/own/alpha.sock
# owned by OWNER (default $OWNER), and stats on $T/stats.sock
owner_config() {
	write_config "stats = $T/stats.sock"
	printf '\n[backend alpha]\nsocket = %s\nnames = alpha.localhost\n' \
	    "$T/own/alpha.sock" >>"$T/snitch.ini"
	printf 'owner = %s\n' "${1:-$OWNER}" >>"$T/snitch.ini"
}

# uid_of USER - the user's uid
uid_of() {
	id -u "$1"
}

# channel_as USER SOCKET - connect to a handoff socket as USER, as a
# worker would, and say what the other end did within 10 s: "closed"
# (refused the channel), "open" (kept it) or "data"
channel_as() {
	setpriv --reuid="$1" --regid="$1" --clear-groups \
	    timeout 20 "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(10)
try:
    print("closed" if s.recv(1) == b"" else "data")
except socket.timeout:
    print("open")
except ConnectionResetError:
    print("closed")
' "$2"
}

@test "a backend listened on by its owner gets its clients" {
	start_demo_as "$OWNER" alpha "$T/own/alpha.sock"
	owner_config "$OWNER:$OWNER"
	start_snitch
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
}

@test "another user on the owner's path: alert 80, logged once with both uids, then the owner's listener is used without a reload" {
	local own other lines
	own=$(uid_of "$OWNER")
	other=$(uid_of "$OTHER")
	# The path's directory lets OTHER in: the sticky bit keeps OTHER from
	# removing OWNER's socket, not from binding the free path.
	chmod 1777 "$T/own"
	start_demo_as "$OTHER" alpha "$T/own/alpha.sock"
	owner_config
	start_snitch
	for _ in 1 2 3; do
		run -3 tls --name alpha.localhost
		assert_output "alert 80"
	done
	lines=$(grep -c "backend alpha: $T/own/alpha.sock is listened on by uid $other gid [0-9]*, not by its owner uid $own" "$T/snitch.log")
	[ "$lines" -eq 1 ]
	run -0 "$SNITCH" -c "$T/snitch.ini" -s
	assert_line --regexp "^handoff_failures .* owner [1-9][0-9]*$"
	assert_line --regexp "^backend alpha handoff 0 fallback 0 down 3 busy 0 errors [1-9][0-9]* held 0 rehanded 0$"
	grep -q 'reason=backend-owner' "$T/snitch.log"
	# The impostor goes; its socket file stays (root removes it here,
	# as an operator would), and the owner's backend comes back.
	stop_demo alpha
	rm -f "$T/own/alpha.sock"
	start_demo_as "$OWNER" alpha "$T/own/alpha.sock"
	wait_until routes_to alpha.localhost alpha
	log_has "backend alpha: connected again"
}

@test "a fallback takes the clients of a backend whose owner does not match" {
	start_demo beta
	chmod 1777 "$T/own"
	start_demo_as "$OTHER" alpha "$T/own/alpha.sock"
	owner_config
	echo "fallback = beta" >>"$T/snitch.ini"
	add_backend beta beta.localhost
	start_snitch
	run -0 tls --name alpha.localhost
	assert_line "backend=beta"
}

@test "libsnitch with -u: SNItch's uid is served, another user's channel is closed at once" {
	# snitch runs as nobody: the demo (as OWNER) takes channels from it only.
	start_demo_as "$OWNER" alpha "$T/own/alpha.sock" -u nobody
	owner_config
	start_snitch
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	# OTHER can connect (the socket is 0666) but gets no channel.
	run -0 channel_as "$OTHER" "$T/own/alpha.sock"
	assert_output "closed"
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
}

@test "libsnitch with SNITCH_PEER_UID: another user's channel is closed; a user that does not exist is refused at start" {
	SNITCH_PEER_UID=nobody start_demo_as "$OWNER" alpha "$T/own/alpha.sock"
	owner_config
	start_snitch
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	run -0 channel_as "$OTHER" "$T/own/alpha.sock"
	assert_output "closed"
	run -1 env SNITCH_PEER_UID=no-such-user-snitch "$SNITCH_DEMO" \
	    -s "$T/nobody.sock" -n x -c "$T/cert.pem" -k "$T/key.pem"
	assert_output --partial "Invalid argument"
	run -1 "$BUILD/snitch-exec" -u no-such-user-snitch -s "$T/x.sock" -- true
	assert_output --partial "no-such-user-snitch: no such user"
}

@test "snitch-relay -u: another user's channel is refused and logged" {
	start_relay -u nobody 127.0.0.1:9
	chmod 666 "$T/relay.sock"
	run -0 channel_as "$OTHER" "$T/relay.sock"
	assert_output "closed"
	wait_until relay_log_has "a channel not from SNItch's uid was refused"
}

@test "a socket directory others can write to is warned about, sticky or not, at start and at reload" {
	mkdir -m 0777 "$T/open" "$T/sticky"
	chmod 0777 "$T/open"
	chmod 1777 "$T/sticky"
	start_demo beta
	write_config
	add_backend beta beta.localhost
	printf '\n[backend open]\nsocket = %s\nnames = open.localhost\n' \
	    "$T/open/x.sock" >>"$T/snitch.ini"
	printf '\n[backend sticky]\nsocket = %s\nnames = sticky.localhost\n' \
	    "$T/sticky/x.sock" >>"$T/snitch.ini"
	start_snitch
	log_has "backend open: socket $T/open/x.sock: directory $T/open \(mode 0777, no sticky bit\): every user can write to it, so another user could replace the socket"
	# sticky: the socket cannot be replaced, but its missing path taken
	log_has "backend sticky: socket $T/sticky/x.sock: directory $T/sticky \(mode 1777, sticky\): every user can write to it, so another user could bind the socket's path while it is missing \(before the backend listens, or while it restarts\) and be handed its clients; set owner = \(the backend's user\) so that workers refuse a listener of another uid"
	run ! log_has "directory $T \("
	run ! log_has "directory /tmp "
	run -0 tls --name beta.localhost
	assert_line "backend=beta"
	kill -HUP "$SNITCH_PID"
	wait_until log_has "reload: configuration generation 2"
	[ "$(grep -c "directory $T/open (mode 0777" "$T/snitch.log")" -eq 2 ]
	[ "$(grep -c "directory $T/sticky (mode 1777" "$T/snitch.log")" -eq 2 ]
}

@test "a sticky directory: another user binds a backend's missing socket there; without owner it gets the clients, with owner none, and both are warned about" {
	local other
	other=$(uid_of "$OTHER")
	mkdir "$T/sticky"
	chmod 1777 "$T/sticky"
	# the backend is not running: OTHER binds its path first
	start_demo_as "$OTHER" web "$T/sticky/web.sock"
	write_config
	printf '\n[backend web]\nsocket = %s\nnames = web.localhost\n' \
	    "$T/sticky/web.sock" >>"$T/snitch.ini"
	start_snitch
	log_has "backend web: socket $T/sticky/web.sock: directory $T/sticky \(mode 1777, sticky\): .* and be handed its clients; set owner ="
	# the hijack the warning is about: OTHER's listener gets the client
	run -0 tls --name web.localhost
	assert_line "backend=web"
	stop_snitch
	# owner = OWNER: the workers refuse OTHER's listener; clients get
	# alert 80 and OTHER nothing
	echo "owner = $OWNER" >>"$T/snitch.ini"
	: >"$T/snitch.log"
	start_snitch
	log_has "backend web: socket $T/sticky/web.sock: directory $T/sticky \(mode 1777, sticky\): every user can write to it, so another user could bind the socket's path while it is missing; workers check the listener's uid, so clients would be refused, not handed to that user"
	run -3 tls --name web.localhost
	assert_output "alert 80"
	wait_until log_has "backend web: $T/sticky/web.sock is listened on by uid $other gid [0-9]*, not by its owner uid $(uid_of "$OWNER")"
	run ! log_has "backend=web outcome=handoff"
}

@test "an owner's directory that belongs to another user is warned about" {
	chown "$OTHER" "$T/own"
	owner_config
	start_snitch
	log_has "directory $T/own \(mode 0755, no sticky bit\): it belongs to uid $(uid_of "$OTHER"), neither root nor the owner uid $(uid_of "$OWNER")"
}
