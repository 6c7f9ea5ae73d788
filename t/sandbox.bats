#!/usr/bin/env bats
# sandbox.bats - the workers' sandbox and chroot.
#
# Each worker runs with no_new_privs, RLIMIT_CORE 0, RLIMIT_NPROC 0 (not
# in the sanitizer build, whose leak check at exit clones a tracer), no
# capability and a seccomp filter.  A build made with SANDBOX_PROBE=1
# (once, in setup_file, into a temporary directory, sanitized like the
# build under test) has its workers open a TCP socket, which the filter
# forbids, for the server name sandbox-probe.invalid: such a worker dies
# of SIGSYS, the master says so and restarts it, and the others serve
# on.  With sandbox = off the same call goes through, and the log says
# loudly that the workers are unconfined.
#
# chroot (root only, skipped otherwise): the workers' root is the
# directory, a backend socket inside it routes, restarted and reloaded
# workers are chrooted too, and the master holds CAP_SYS_CHROOT and
# nothing else (nothing at all without chroot).  A bad directory is
# refused by -t with its reason.

load lib

setup_file() {
	local -a san=()
	snitch_setup_file
	if is_san_build; then
		san=(SAN=1)
	fi
	export PROBE_BUILD=$BATS_FILE_TMPDIR/probe
	make -s -C "$SNITCH_ROOT" B="$PROBE_BUILD" SANDBOX_PROBE=1 "${san[@]}" \
	    "$PROBE_BUILD/snitch" "$PROBE_BUILD/snitch-worker" \
	    >"$BATS_FILE_TMPDIR/make.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/make.log" >&2
		return 1
	}
}

setup() {
	snitch_setup
	CHROOT=
}

teardown() {
	snitch_teardown
	if [ -n "$CHROOT" ]; then
		rm -rf "$CHROOT"
	fi
}

# is_san_build - the build under test has AddressSanitizer
is_san_build() {
	ldd "$BUILD/snitch-worker" | grep -q libasan
}

# status_is PID FIELD VALUE - /proc/PID/status has "FIELD:<tabs>VALUE"
status_is() {
	grep -qE "^$2:[[:space:]]+$3\$" "/proc/$1/status" || {
		echo "pid $1: $(grep -E "^$2:" "/proc/$1/status"), not $3"
		return 1
	}
}

# limit_is PID NAME VALUE - /proc/PID/limits gives NAME soft and hard VALUE
limit_is() {
	grep -qE "^$2 +$3 +$3 " "/proc/$1/limits" || {
		echo "pid $1: $(grep -E "^$2 " "/proc/$1/limits")"
		return 1
	}
}

# no_caps PID - every capability set of PID is empty
no_caps() {
	local set
	for set in CapInh CapPrm CapEff CapAmb; do
		status_is "$1" "$set" 0000000000000000 || return 1
	done
}

# probe - a client asking for the probing name; its fate does not matter
probe() {
	tls --name sandbox-probe.invalid >/dev/null 2>&1 || true
}

# count_lines PATTERN - lines of snitch.log matching the extended regex
count_lines() {
	grep -cE -- "$1" "$T/snitch.log" || true
}

# lines_are N PATTERN - snitch.log has exactly N lines matching PATTERN
# (a function, so that wait_until counts again at each try)
lines_are() {
	[ "$(count_lines "$2")" -eq "$1" ]
}

# one_replaced OLD1 OLD2 - two workers run: one of OLD1 and OLD2, and a new one
one_replaced() {
	local -a now
	mapfile -t now < <(worker_pids)
	[ "${#now[@]}" -eq 2 ] || return 1
	local kept=0 pid
	for pid in "${now[@]}"; do
		if [ "$pid" = "$1" ] || [ "$pid" = "$2" ]; then
			kept=$((kept + 1))
		fi
	done
	[ "$kept" -eq 1 ]
}

# make_chroot - a chroot directory fit for it in /run (root's, 755) with
# a directory sock/ the backends (nobody) can create their sockets in
make_chroot() {
	CHROOT=$(mktemp -d /run/snitch-chroot.XXXXXX)
	chmod 755 "$CHROOT"
	mkdir "$CHROOT/sock"
	chown nobody:nogroup "$CHROOT/sock"
}

# start_chroot_demo NAME - a demo backend on $CHROOT/sock/NAME.sock
start_chroot_demo() {
	local rc=0
	start_backend "$CHROOT/sock/$1.sock" "$T/demo-$1.log" "$SNITCH_DEMO" \
	    -s "$CHROOT/sock/$1.sock" -n "$1" -c "$T/cert.pem" -k "$T/key.pem" ||
	    rc=$?
	DEMO_PIDS[$1]=$BACKEND_PID
	return "$rc"
}

# chroot_line - the line of chroot = in snitch.ini
chroot_line() {
	grep -n '^chroot = ' "$T/snitch.ini" | cut -d: -f1
}

# chroot_config - snitch.ini with chroot = $CHROOT and backend alpha in it
chroot_config() {
	write_config "chroot = $CHROOT" "$@"
	printf '\n[backend alpha]\nsocket = /sock/alpha.sock\nnames = %s\n' \
	    alpha.localhost >>"$T/snitch.ini"
}

@test "workers run with no_new_privs, the seccomp filter, no core, no fork and no capability" {
	local pid
	start_demo alpha
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 2
	for pid in $(worker_pids); do
		status_is "$pid" NoNewPrivs 1
		status_is "$pid" Seccomp 2
		limit_is "$pid" "Max core file size" 0
		# the sanitizer build keeps fork for its leak check
		is_san_build || limit_is "$pid" "Max processes" 0
		no_caps "$pid"
	done
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	run ! log_has 'SANDBOX OFF|running as root'
}

@test "a worker making a forbidden system call dies of SIGSYS, is logged and restarted; clients are served" {
	local -a before
	local round pid
	SNITCH=$PROBE_BUILD/snitch
	start_demo alpha
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 2
	mapfile -t before < <(worker_pids)
	probe
	wait_until log_has 'worker [01] \(pid [0-9]+\) was killed by its sandbox \(signal 31, SIGSYS\) for making a forbidden system call; restarting it'
	log_has 'sandbox_probe: opening a TCP socket'
	run ! log_has 'still alive'
	wait_until one_replaced "${before[@]}"
	# (bats' run sets a global i: the loop counts with another name)
	for ((round = 0; round < 6; round++)); do
		run -0 get_https alpha.localhost
		assert_line "backend=alpha"
	done
	# the restarted worker is sandboxed like the first
	for pid in $(worker_pids); do
		status_is "$pid" Seccomp 2
	done
	lines_are 1 'killed by its sandbox'
}

@test "another signal keeps its plain log line" {
	local pid
	start_demo alpha
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 2
	pid=$(worker_pids | head -n 1)
	kill -KILL "$pid"
	wait_until log_has "\(pid $pid\) killed by signal 9 \(Killed\); restarting"
	run ! log_has 'sandbox'
}

@test "sandbox = off: no filter, the probe's call goes through, and the log says so loudly" {
	local -a before
	local pid
	SNITCH=$PROBE_BUILD/snitch
	start_demo alpha
	write_config "sandbox = off"
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 2
	mapfile -t before < <(worker_pids)
	for pid in "${before[@]}"; do
		status_is "$pid" Seccomp 0
		no_caps "$pid"
	done
	log_has "snitch\[$SNITCH_PID\]: SANDBOX OFF: sandbox = off in $T/snitch.ini"
	wait_until lines_are 2 'snitch-worker\[[0-9]+\]: SANDBOX OFF: this worker runs without its system call filter'
	probe
	wait_until log_has 'sandbox_probe: still alive: no sandbox stopped it'
	run -0 worker_pids
	assert_output "$(printf '%s\n' "${before[@]}")"
	run ! log_has 'killed by'
	kill -HUP "$SNITCH_PID"
	wait_until lines_are 2 "snitch\[$SNITCH_PID\]: SANDBOX OFF"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}

@test "snitch -t refuses a chroot that is missing, not a directory or writable by others" {
	write_config "chroot = /nonexistent-snitch-chroot"
	add_backend alpha alpha.localhost
	run -1 "$SNITCH" -t -c "$T/snitch.ini"
	assert_output "$T/snitch.ini:$(chroot_line): chroot /nonexistent-snitch-chroot: No such file or directory"
	write_config "chroot = $T/cert.pem"
	add_backend alpha alpha.localhost
	run -1 "$SNITCH" -t -c "$T/snitch.ini"
	assert_output --regexp "^$T/snitch.ini:$(chroot_line): chroot /tmp is writable by its group or others \(mode 1777\)"
	write_config "chroot = /dev/null"
	add_backend alpha alpha.localhost
	run -1 "$SNITCH" -t -c "$T/snitch.ini"
	assert_output "$T/snitch.ini:$(chroot_line): chroot /dev/null is not a directory"
	write_config "chroot = /"
	add_backend alpha alpha.localhost
	run -0 "$SNITCH" -t -c "$T/snitch.ini"
	assert_output "configuration OK"
}

@test "chroot: workers' root is the directory, a socket inside it routes, restarts and reloads stay inside" {
	is_root || skip "needs root"
	local pid old
	make_chroot
	start_chroot_demo alpha
	chroot_config
	start_snitch
	wait_until has_workers 2
	for pid in $(worker_pids); do
		[ "$(readlink "/proc/$pid/root")" = "$CHROOT" ]
		no_caps "$pid"
		status_is "$pid" Seccomp 2
	done
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
	# a restarted worker chroots too: the master kept what it needs
	old=$(worker_pids | head -n 1)
	kill -KILL "$old"
	wait_until log_has "\(pid $old\) killed by signal 9"
	wait_until has_workers 2
	kill -HUP "$SNITCH_PID"
	wait_until log_has 'generation 2 loaded'
	wait_until has_workers 2
	for pid in $(worker_pids); do
		[ "$(readlink "/proc/$pid/root")" = "$CHROOT" ]
		no_caps "$pid"
	done
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	run ! log_has 'exec snitch-worker|Operation not permitted'
}

@test "chroot: a symlink in the chroot is followed inside it, never to a socket outside" {
	is_root || skip "needs root"
	make_chroot
	start_chroot_demo alpha
	# beta listens outside the chroot, where no worker can reach
	start_demo beta
	# nobody owns /sock: an absolute link to beta's socket, and a
	# relative one to alpha's, as a backend's user could plant them
	ln -s "$T/beta.sock" "$CHROOT/sock/beta.sock"
	ln -s alpha.sock "$CHROOT/sock/gamma.sock"
	chroot_config
	printf '\n[backend beta]\nsocket = /sock/beta.sock\nnames = %s\n' \
	    beta.localhost >>"$T/snitch.ini"
	printf '\n[backend gamma]\nsocket = /sock/gamma.sock\nnames = %s\n' \
	    gamma.localhost >>"$T/snitch.ini"
	start_snitch
	wait_until has_workers 2
	# the master connects the channels, and resolves the link as the
	# chrooted worker would: $CHROOT$T/beta.sock, which does not exist
	run -3 tls --name beta.localhost
	assert_output "alert 80"
	run ! grep -q "server_name=beta.localhost" "$T/demo-beta.log"
	run -0 get_https gamma.localhost
	assert_line "backend=alpha"
	assert_line "server_name=gamma.localhost"
}

@test "chroot: socket directories are checked where they are, inside the chroot" {
	is_root || skip "needs root"
	make_chroot
	chmod 0777 "$CHROOT/sock"
	start_chroot_demo alpha
	chroot_config
	start_snitch
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	run -0 log_has "backend alpha: socket /sock/alpha.sock: directory $CHROOT/sock \(mode 0777, no sticky bit\): every user can write to it"
	run ! log_has 'directory /sock '
}

@test "chroot: the master keeps CAP_SYS_CHROOT only, never effective; without chroot, nothing" {
	is_root || skip "needs root"
	make_chroot
	start_chroot_demo alpha
	# source_penalty may keep CAP_NET_ADMIN: the next test's
	chroot_config "source_penalty = off"
	start_snitch
	wait_until has_workers 2
	# CAP_SYS_CHROOT is capability 18: 0x40000
	status_is "$SNITCH_PID" CapPrm 0000000000040000
	status_is "$SNITCH_PID" CapInh 0000000000040000
	status_is "$SNITCH_PID" CapEff 0000000000000000
	status_is "$SNITCH_PID" CapAmb 0000000000000000
	status_is "$SNITCH_PID" NoNewPrivs 1
	stop_snitch
	write_config "source_penalty = off"
	printf '\n[backend alpha]\nsocket = %s\nnames = alpha.localhost\n' \
	    "$CHROOT/sock/alpha.sock" >>"$T/snitch.ini"
	start_snitch
	wait_until has_workers 2
	no_caps "$SNITCH_PID"
	[ "$(readlink "/proc/$(worker_pids | head -n 1)/root")" = / ]
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}

# filters_unprivileged - whether this kernel lets a process with no
# capability attach a socket filter (some ask for CAP_NET_ADMIN)
filters_unprivileged() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    --inh-caps=-all --bounding-set=-all "$PYTHON" -c '
import ctypes, socket, struct
prog = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0xffffffff))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, 26, struct.pack("HL", 1, ctypes.addressof(prog)))
' 2>/dev/null
}

@test "source_penalty: the master keeps CAP_NET_ADMIN, permitted only, when the kernel asks for it to filter SYNs; workers get nothing" {
	is_root || skip "needs root"
	local pid expect=0000000000001000
	! filters_unprivileged || expect=0000000000000000
	start_demo alpha
	write_config "source_penalty = 30s"
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 2
	# CAP_NET_ADMIN is capability 12: 0x1000
	status_is "$SNITCH_PID" CapPrm "$expect"
	status_is "$SNITCH_PID" CapInh 0000000000000000
	status_is "$SNITCH_PID" CapEff 0000000000000000
	status_is "$SNITCH_PID" CapAmb 0000000000000000
	status_is "$SNITCH_PID" NoNewPrivs 1
	for pid in $(worker_pids); do
		no_caps "$pid"
	done
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}

@test "chroot: a directory owned by another user is refused; so is chroot without the capability" {
	is_root || skip "needs root"
	make_chroot
	write_config "chroot = $CHROOT/sock"
	add_backend alpha alpha.localhost
	run -1 "$SNITCH" -t -c "$T/snitch.ini"
	assert_output "$T/snitch.ini:$(chroot_line): chroot $CHROOT/sock is owned by uid $(id -u nobody), not root"
	write_config "chroot = $CHROOT"
	add_backend alpha alpha.localhost
	# nobody runs a copy: the tree may sit in a directory only root can
	# enter (a `mktemp -d` clone); $T is nobody's
	mkdir -m 755 "$T/bin"
	cp "$SNITCH" "$BUILD/snitch-worker" "$T/bin/"
	run -1 timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$T/bin/snitch" -c "$T/snitch.ini"
	assert_output --partial "chroot: the workers need CAP_SYS_CHROOT to chroot"
}
