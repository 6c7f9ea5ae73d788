#!/usr/bin/env bats
# systemd.bats - SNItch under a service manager: socket activation (with
# Debian's systemd-socket-activate, which binds, waits for the first
# connection, then execs snitch with LISTEN_FDS), sd_notify (to a fake
# NOTIFY_SOCKET, t/notify_recv.py) and the units in systemd/, checked by
# systemd-analyze verify and against the user snitch that make install
# makes and snitch.ini.example names.  PID 1 need not be systemd.

load lib

ACTIVATE=${ACTIVATE:-/usr/bin/systemd-socket-activate}

setup_file() {
	snitch_setup_file
	if [ ! -x "$ACTIVATE" ]; then
		echo "$ACTIVATE is missing: install Debian's systemd package" \
		    "(make deps-test)" >&2
		return 1
	fi
	# snitch and snitch-worker where nobody may run them: the tree may
	# sit in a directory only root can enter (a `mktemp -d` clone)
	SNITCH_BIN=$(mktemp -d /tmp/snitch-bin.XXXXXX)
	chmod 755 "$SNITCH_BIN"
	cp "$SNITCH" "$BUILD/snitch-worker" "$SNITCH_BIN/"
	export SNITCH_BIN
}

teardown_file() {
	rm -rf "$SNITCH_BIN"
}

setup() {
	snitch_setup
	SNITCH=$SNITCH_BIN/snitch
	start_demo alpha
	start_demo beta
}

# UNPRIVILEGED - the command prefix that runs a program as nobody when
# the tests run as root (setpriv execs it: the pid stays the program's)
UNPRIVILEGED=()
if [ "$(id -u)" -eq 0 ]; then
	UNPRIVILEGED=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi

# activate_cmd ADDR... - the systemd-socket-activate command line that
# passes a listening socket for each ADDR to snitch -c $T/snitch.ini; it
# passes on no environment but -E's, so the sanitizers' options too
activate_cmd() {
	local v
	ACTIVATE_CMD=("$ACTIVATE")
	for v in "$@"; do
		ACTIVATE_CMD+=(-l "$v")
	done
	for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
		[ -n "${!v:-}" ] && ACTIVATE_CMD+=(-E "$v=${!v}")
	done
	for v in "${ACTIVATE_ENV[@]}"; do
		ACTIVATE_CMD+=(-E "$v")
	done
	ACTIVATE_CMD+=("$SNITCH" -c "$T/snitch.ini")
}

# activate_snitch [WRAPPER...] - snitch socket-activated on $LISTEN
# (ACTIVATE_ENV: NAME=VALUE for its environment), run by WRAPPER; the
# first connection makes systemd-socket-activate exec snitch in its own
# process, so SNITCH_PID is snitch's pid; waits for its workers
activate_snitch() {
	activate_cmd "$LISTEN"
	start_snitch_cmd "$@" "${ACTIVATE_CMD[@]}"
	wait_until has_workers "$WORKERS"
}

# activate_refused PORT ADDR... - snitch socket-activated on ADDRs, as
# nobody, must exit 1 once a connection to 127.0.0.1:PORT starts it
activate_refused() {
	local port=$1 pid i rc=0
	shift
	activate_cmd "$@"
	"${UNPRIVILEGED[@]}" "${ACTIVATE_CMD[@]}" </dev/null \
	    >>"$T/snitch.log" 2>&1 3>&- &
	pid=$!
	track_pid "$pid"
	for ((i = 0; i < START_STEPS; i++)); do
		tcp_accepts 127.0.0.1 "$port" && break
		sleep 0.02
	done
	wait_until gone "$pid"
	wait "$pid" || rc=$?
	assert_equal "$rc" 1
}

# no_user_config - write_config without `user` (ignored unprivileged)
no_user_config() {
	write_config "$@"
	sed -i '/^user = /d' "$T/snitch.ini"
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost
}

# environ_has PID NAME - NAME is in PID's environment
environ_has() {
	tr '\0' '\n' <"/proc/$1/environ" | grep -q "^$2="
}

@test "socket activation without root: the passed socket serves clients" {
	local uid worker
	no_user_config
	activate_snitch "${UNPRIVILEGED[@]}"
	assert log_has "listen 127\.0\.0\.1:$PORT: using socket 3 passed by the service manager"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	uid=$(id -u nobody)
	is_root || uid=$(id -u)
	run -0 grep -E '^Uid:' "/proc/$SNITCH_PID/status"
	assert_output --regexp "^Uid:[[:space:]]+$uid[[:space:]]"
	# the workers do not get the variables
	worker=$(worker_pids | head -n 1)
	run environ_has "$worker" 'LISTEN_(PID|FDS|FDNAMES)'
	assert_failure
	# a reload keeps the passed socket: a new name routes
	write_config
	sed -i '/^user = /d' "$T/snitch.ini"
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost gamma.localhost
	kill -HUP "$SNITCH_PID"
	wait_until log_has 'reload: configuration generation 2'
	run -0 get_https gamma.localhost
	assert_line "backend=beta"
	run log_has 'reload: listen changed'
	assert_failure
}

@test "socket activation as root: the master still drops to user" {
	is_root || skip "needs root"
	write_config
	add_backend alpha alpha.localhost
	activate_snitch
	assert log_has "using socket 3 passed by the service manager"
	run -0 grep -E '^Uid:' "/proc/$SNITCH_PID/status"
	assert_output --regexp "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]"
	run -0 ps -o user= --ppid "$SNITCH_PID"
	assert_output "$(printf 'nobody\nnobody')"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}

@test "socket activation without listen: every passed socket is used" {
	local port2
	port2=$(free_port)
	no_user_config
	sed -i '/^listen = /d' "$T/snitch.ini"
	activate_cmd "$LISTEN" "127.0.0.1:$port2"
	start_snitch_cmd "${UNPRIVILEGED[@]}" "${ACTIVATE_CMD[@]}"
	wait_until has_workers 2
	assert log_has "listen 127\.0\.0\.1:$PORT: using socket 3 passed"
	assert log_has "listen 127\.0\.0\.1:$port2: using socket 4 passed"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	run -0 curl -sSk -m 5 --resolve "beta.localhost:$port2:127.0.0.1" \
	    "https://beta.localhost:$port2/"
	assert_line "backend=beta"
	assert_line "local=127.0.0.1:$port2"
	# reloading a file still without listen keeps both, without a warning
	kill -HUP "$SNITCH_PID"
	wait_until log_has 'reload: configuration generation 2'
	run log_has 'reload: listen changed'
	assert_failure
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}

@test "without listen: -t says it needs passed sockets, a plain start refuses" {
	no_user_config
	sed -i '/^listen = /d' "$T/snitch.ini"
	run -0 "$SNITCH" -t -c "$T/snitch.ini"
	assert_output "configuration OK (no listen: valid only when systemd passes the listening sockets)"
	run -1 "${UNPRIVILEGED[@]}" "$SNITCH" -c "$T/snitch.ini"
	assert_output "$T/snitch.ini: no listen address in [snitch] (needed unless systemd passes the listening sockets)"
}

@test "socket activation: a passed socket that is not in listen is refused" {
	local port2
	port2=$(free_port)
	no_user_config
	activate_refused "$PORT" "$LISTEN" "127.0.0.1:$port2"
	assert log_has "$T/snitch\.ini: the service manager passed socket 4 for 127\.0\.0\.1:$port2, which is not a listen address \(listen = 127\.0\.0\.1:$PORT\)"
}

@test "socket activation: a listen entry without a passed socket is refused" {
	local port2
	port2=$(free_port)
	no_user_config
	sed -i "s/^listen = .*/listen = 127.0.0.1:$PORT 127.0.0.1:$port2/" \
	    "$T/snitch.ini"
	activate_refused "$PORT" "$LISTEN"
	assert log_has "$T/snitch\.ini: listen 127\.0\.0\.1:$port2: the service manager passed no socket for it \(passed: 127\.0\.0\.1:$PORT\)"
}

@test "socket activation: a datagram socket is refused" {
	local pid rc=0
	no_user_config
	activate_cmd "$LISTEN"
	ACTIVATE_CMD=("$ACTIVATE" --datagram "${ACTIVATE_CMD[@]:1}")
	"${UNPRIVILEGED[@]}" "${ACTIVATE_CMD[@]}" </dev/null \
	    >>"$T/snitch.log" 2>&1 3>&- &
	pid=$!
	track_pid "$pid"
	wait_until log_has "Listening on 127\.0\.0\.1:$PORT"
	echo x >"/dev/udp/127.0.0.1/$PORT"
	wait_until gone "$pid"
	wait "$pid" || rc=$?
	assert_equal "$rc" 1
	assert log_has 'socket activation: fd 3 is not a listening stream socket'
}

@test "sd_notify: READY, RELOADING then READY around SIGHUP, STOPPING" {
	local n line now usec rc=0 worker
	# a socket only root could connect to: the master connects before it
	# drops to nobody, and keeps using it after
	mkdir -m 700 "$T/manager"
	start_notify "$T/manager/notify"
	write_config
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost
	start_snitch_under env NOTIFY_SOCKET="$T/manager/notify"
	wait_until notified 1
	run -0 datagram 1
	assert_output "pid=$SNITCH_PID|READY=1|STATUS=serving 2 workers, 2 backends, generation 1"
	# READY=1 came once both workers run snitch-worker: no wait needed
	run -0 ps -o comm= --ppid "$SNITCH_PID"
	assert_output "$(printf 'snitch-worker\nsnitch-worker')"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	# the workers do not inherit NOTIFY_SOCKET
	for worker in $(worker_pids); do
		run environ_has "$worker" NOTIFY_SOCKET
		assert_failure
	done
	# a valid reload: RELOADING=1 with the monotonic clock, then READY=1
	add_backend gamma gamma.localhost
	now=$("$PYTHON" -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)')
	kill -HUP "$SNITCH_PID"
	wait_until notified 3
	run -0 datagram 2
	assert_output --regexp "^pid=$SNITCH_PID\|RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=reloading the configuration\$"
	usec=$(sed -n 's/.*MONOTONIC_USEC=\([0-9]*\).*/\1/p' <<<"$output")
	[ "$usec" -ge "$now" ] && [ "$usec" -lt $((now + 10000000)) ]
	run -0 datagram 3
	assert_output "pid=$SNITCH_PID|READY=1|STATUS=serving 2 workers, 3 backends, generation 2"
	# an invalid file: refused, READY=1 all the same, STATUS says why
	echo "bogus = 1" >>"$T/snitch.ini"
	line=$(wc -l <"$T/snitch.ini")
	kill -HUP "$SNITCH_PID"
	wait_until notified 5
	run -0 datagram 4
	assert_output --regexp "^pid=$SNITCH_PID\|RELOADING=1\|MONOTONIC_USEC=[0-9]+\|"
	run -0 datagram 5
	assert_output "pid=$SNITCH_PID|READY=1|STATUS=reload refused: $T/snitch.ini:$line: unknown key 'bogus' in [backend]; serving generation 2"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	# SIGTERM: STOPPING=1, then the master exits 0
	kill -TERM "$SNITCH_PID"
	wait_until notified 6
	run -0 datagram 6
	assert_output "pid=$SNITCH_PID|STOPPING=1|STATUS=stopping: workers finish what they hold"
	wait_until gone "$SNITCH_PID"
	wait "$SNITCH_PID" || rc=$?
	SNITCH_PID=
	assert_equal "$rc" 0
	n=$(wc -l <"$T/notify.out")
	assert_equal "$n" 6
	run log_has NOTIFY_SOCKET
	assert_failure
}

@test "sd_notify: no READY=1 while no worker can be exec'd" {
	# snitch with a snitch-worker beside it that is not executable
	mkdir -m 755 "$T/bin"
	cp "$SNITCH" "$T/bin/snitch"
	echo 'not a program' >"$T/bin/snitch-worker"
	chmod 644 "$T/bin/snitch-worker"
	start_notify "$T/notify"
	write_config
	add_backend alpha alpha.localhost
	start_snitch_cmd env NOTIFY_SOCKET="$T/notify" "$T/bin/snitch" \
	    -c "$T/snitch.ini"
	wait_until log_has 'exec snitch-worker: Permission denied'
	wait_until log_has 'exited with status 127; restarting it in 1\.0s'
	run -0 cat "$T/notify.out"
	assert_output ""
	kill -TERM "$SNITCH_PID"
	wait_until notified 1
	run -0 cat "$T/notify.out"
	assert_output "pid=$SNITCH_PID|STOPPING=1|STATUS=stopping: workers finish what they hold"
}

@test "sd_notify and socket activation together, abstract NOTIFY_SOCKET, no root" {
	local name=@snitch-test-$$-$RANDOM
	start_notify "$name"
	no_user_config
	ACTIVATE_ENV=("NOTIFY_SOCKET=$name")
	activate_snitch "${UNPRIVILEGED[@]}"
	wait_until notified 1
	run -0 datagram 1
	assert_output "pid=$SNITCH_PID|READY=1|STATUS=serving 2 workers, 2 backends, generation 1"
	run -0 get_https beta.localhost
	assert_line "backend=beta"
}

@test "sd_notify: a NOTIFY_SOCKET nobody listens on is logged, not fatal" {
	write_config
	add_backend alpha alpha.localhost
	start_snitch_under env NOTIFY_SOCKET="$T/nobody-listens"
	assert log_has "NOTIFY_SOCKET $T/nobody-listens: connect; not notifying: No such file or directory"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	kill -HUP "$SNITCH_PID"
	wait_until log_has 'reload: configuration generation 2'
	alive "$SNITCH_PID"
}

@test "the units in systemd/ pass systemd-analyze verify" {
	local f
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	# a copy, with ExecStart pointing at the build: verify checks that
	# the programs exist and are executable
	mkdir "$T/units"
	cp "$SNITCH_ROOT"/systemd/*.service "$SNITCH_ROOT"/systemd/*.socket \
	    "$T/units/"
	sed -i -e "s|@sbindir@|$(realpath "$BUILD")|g" \
	    -e "s|@sysconfdir@|/etc|g" "$T"/units/*
	for f in snitch.service snitch.socket snitch-relay@alpha.service; do
		run systemd-analyze verify --man=no "$T/units/$f"
		assert_success
		assert_output ""
	done
	run -0 grep -c '^ExecStart=@sbindir@/' \
	    "$SNITCH_ROOT/systemd/snitch.service" \
	    "$SNITCH_ROOT/systemd/snitch-relay@.service"
}

@test "the units, snitch.ini.example and make install agree on the user snitch" {
	local unit=$SNITCH_ROOT/systemd/snitch.service
	local relay=$SNITCH_ROOT/systemd/snitch-relay@.service
	# make install makes it (t/install.bats), the example runs as it
	run -0 make -s --no-print-directory -C "$SNITCH_ROOT" -p -n install-user
	assert_line "SNITCH_USER = snitch"
	run -0 grep -E '^user[[:space:]]*=' "$SNITCH_ROOT/snitch.ini.example"
	assert_output --regexp '^user = snitch[[:space:]]'
	# snitch.service starts as root (the master binds and drops to
	# `user` itself); its unprivileged drop-in names the same user
	run ! grep -E '^(User|Group|DynamicUser)=' "$unit"
	grep -qxF '#   User=snitch' "$unit"
	grep -qxF '#   Group=snitch' "$unit"
	# snitch-relay's socket is group snitch, mode 0660: SNItch's user,
	# whose primary group is snitch, may connect
	run -0 grep -E '^(User|Group)=' "$relay"
	assert_line "Group=snitch"
	grep -qE '^ExecStart=.* -m 0660 ' "$relay"
}
