#!/usr/bin/env bats
# privileges.bats - started as root, snitch keeps no privilege it does
# not need: the listeners are bound first, then everything runs as the
# configured user.  A `user` that is a shared account (nobody, or one
# that already runs other processes) is warned about, naming one such
# process.  Only meaningful as root: skipped otherwise.

load lib

setup() {
	is_root || skip "needs root"
	snitch_setup
	start_demo alpha
}

# nobody_ids - "uid gid" of user nobody
nobody_ids() {
	echo "$(id -u nobody) $(id -g nobody)"
}

@test "the workers run as the configured user" {
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 2
	run -0 ps -o user= --ppid "$SNITCH_PID"
	assert_output "$(printf 'nobody\nnobody')"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}

@test "the master drops its privileges for good" {
	local uid gid
	read -r uid gid < <(nobody_ids)
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 2
	run -0 grep -E '^(Uid|Gid|Groups|NoNewPrivs):' "/proc/$SNITCH_PID/status"
	assert_line --regexp "^Uid:[[:space:]]+${uid}[[:space:]]+${uid}[[:space:]]+${uid}[[:space:]]+$uid\$"
	assert_line --regexp "^Gid:[[:space:]]+${gid}[[:space:]]+${gid}[[:space:]]+${gid}[[:space:]]+$gid\$"
	# no supplementary group but the user's own, if any
	assert_line --regexp "^Groups:[[:space:]]*(${gid}[[:space:]]*)?\$"
	assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
}

@test "a privileged port is bound before the privileges are dropped" {
	# a random free port below 1024: tests in parallel do not pick the same
	PORT=$("$PYTHON" -c '
import random, socket
ports = list(range(600, 1024))
random.shuffle(ports)
for p in ports:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break')
	[ -n "$PORT" ]
	LISTEN="127.0.0.1:$PORT"
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}

@test "started as root without user, snitch refuses and names the key" {
	write_config
	sed -i '/^user = /d' "$T/snitch.ini"
	add_backend alpha alpha.localhost
	run -1 timeout 10 "$SNITCH" -c "$T/snitch.ini"
	assert_output --partial user
}

@test "snitch -t checks the configuration as root" {
	write_config
	add_backend alpha alpha.localhost
	run -0 timeout 10 "$SNITCH" -t -c "$T/snitch.ini"
	assert_output "configuration OK"
}

# run_as USER - write_config's user replaced by USER
run_as() {
	write_config
	sed -i "s/^user = .*/user = $1/" "$T/snitch.ini"
	add_backend alpha alpha.localhost
}

@test "user = nobody: a shared account, warned about at start; it serves" {
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	log_has "snitch\[$SNITCH_PID\]: user 'nobody' \(uid 65534\) is a shared account"
	# the demo backend runs as nobody too: named as another process
	log_has "user 'nobody' \(uid 65534\) already runs other processes, such as pid [0-9]+ \(snitch-demo\)"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
}

@test "a user that already runs another process is warned about, naming it" {
	local pid
	setpriv --reuid=daemon --regid=daemon --clear-groups sleep 60 &
	pid=$!
	track_pid "$pid"
	# exec'd sleep, after setpriv changed its uid
	wait_until test "$(ps -o comm= -p "$pid")" = sleep
	run_as daemon
	start_snitch
	log_has "user 'daemon' \(uid 1\) already runs other processes, such as pid $pid \(sleep\)"
	run ! log_has "shared account"
}

@test "a user of its own, running nothing else: no warning" {
	pgrep -u games >/dev/null && skip "user games runs processes here"
	run_as games
	start_snitch
	wait_until has_workers 2
	run ! log_has "shared account|already runs other processes"
}
