#!/usr/bin/env bats
# ssh.bats - OpenSSH's server and an HTTPS backend on one port: sshd in
# inetd mode (`sshd -i`) behind snitch-exec as the non_tls and silent
# backend, the demo backend alpha for TLS by name.
#
# sshd runs unprivileged, logging in the user it runs as, with a config,
# a host key and an authorized key the test generates in $T (sshd -i as
# a user other than root runs without privilege separation, so it needs
# no /run/sshd).  When the tests run as root that user is nobody, whose
# shell is nologin and whose account nss-systemd reports as locked: so
# snitch-exec runs in a mount namespace of its own (unshare --mount,
# private propagation) where /etc/passwd and /etc/nsswitch.conf are
# copies in $T giving nobody /bin/sh, $T/ssh as its home and no
# nss-systemd.  Nothing outside $T changes; the namespace ends with
# snitch-exec.  The client is OpenSSH's ssh, with its known_hosts
# holding exactly the generated host key (StrictHostKeyChecking=yes),
# so it can only have reached this sshd.

load lib

SNITCH_EXEC=$BUILD/snitch-exec
NONTLS_PY=$SNITCH_ROOT/t/nontls.py
SSHD=/usr/sbin/sshd

setup_file() {
	snitch_setup_file
	need_built "$SNITCH_EXEC"
	local p
	for p in "$SSHD" /usr/bin/ssh /usr/bin/ssh-keygen; do
		[ -x "$p" ] && continue
		echo "$p is missing: apt-get install openssh-server openssh-client" >&2
		return 1
	done
}

setup() {
	snitch_setup
	PEEK_TIMEOUT=5s
	SSH_USER=$(id -un)
	is_root && SSH_USER=nobody
	ssh_files
}

# ssh_files - $T/ssh: host key, sshd_config, authorized_keys (and, as
# root, the passwd and nsswitch.conf copies); $T/client: the client key
# and known_hosts, the runner's own
ssh_files() {
	mkdir -m 755 "$T/ssh"
	mkdir -m 700 "$T/client"
	ssh-keygen -q -t ed25519 -N '' -C snitch-test-host -f "$T/ssh/host_key"
	ssh-keygen -q -t ed25519 -N '' -C snitch-test-client \
	    -f "$T/client/key"
	cp "$T/client/key.pub" "$T/ssh/authorized_keys"
	# The files are under /tmp, which is world-writable: StrictModes
	# would refuse them whatever their own modes.
	cat >"$T/ssh/sshd_config" <<EOF
HostKey $T/ssh/host_key
AuthorizedKeysFile $T/ssh/authorized_keys
StrictModes no
AllowUsers $SSH_USER
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile none
LogLevel VERBOSE
EOF
	if is_root; then
		sed "s#^nobody:.*#nobody:x:65534:65534:nobody:$T/ssh:/bin/sh#" \
		    /etc/passwd >"$T/ssh/passwd"
		sed -E 's/^(passwd|group|shadow|gshadow):.*/\1: files/' \
		    /etc/nsswitch.conf >"$T/ssh/nsswitch.conf"
		chmod 644 "$T/ssh/passwd" "$T/ssh/nsswitch.conf"
		chown -R nobody:nogroup "$T/ssh"
	fi
	printf '[127.0.0.1]:%s %s\n' "$PORT" \
	    "$(cut -d' ' -f1,2 "$T/ssh/host_key.pub")" >"$T/client/known_hosts"
}

# start_sshd_exec - snitch-exec on $T/ssh.sock running `sshd -i` for
# each connection, its stderr (and sshd's) in $T/exec-ssh.log
start_sshd_exec() {
	local -a cmd=("$SNITCH_EXEC" -s "$T/ssh.sock" -- "$SSHD" -i -e \
	    -f "$T/ssh/sshd_config")
	local i
	if is_root; then
		cmd=(unshare --mount --propagation private sh -c \
		    'mount --bind "$1/passwd" /etc/passwd &&
		    mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf &&
		    shift && exec setpriv --reuid=nobody --regid=nogroup \
		    --clear-groups "$@"' sh "$T/ssh" "${cmd[@]}")
	fi
	"${cmd[@]}" </dev/null >>"$T/exec-ssh.log" 2>&1 3>&- &
	track_pid $!
	for ((i = 0; i < START_STEPS; i++)); do
		unix_listening "$T/ssh.sock" && return 0
		alive "$!" || break
		sleep 0.02
	done
	echo "start_sshd_exec: not listening: $(cat "$T/exec-ssh.log")" >&2
	return 1
}

# ssh_config LINES... - snitch.ini: ssh and HTTPS on one port, as
# doc/recipes.md's example, with LINES in [snitch]
ssh_config() {
	write_config "$@"
	cat >>"$T/snitch.ini" <<EOF

[backend ssh]
socket = $T/ssh.sock

[backend alpha]
socket = $T/alpha.sock
names = alpha.localhost
EOF
}

# ssh_run COMMAND... - ssh to 127.0.0.1:$PORT as $SSH_USER, running
# COMMAND, with only the test's key and known_hosts
ssh_run() {
	timeout 30 ssh -F /dev/null -p "$PORT" -i "$T/client/key" \
	    -o IdentitiesOnly=yes -o BatchMode=yes \
	    -o StrictHostKeyChecking=yes \
	    -o UserKnownHostsFile="$T/client/known_hosts" \
	    -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 \
	    "$SSH_USER@127.0.0.1" "$@"
}

# nontls ARGS... - t/nontls.py against 127.0.0.1:$PORT
nontls() {
	timeout 30 "$PYTHON" "$NONTLS_PY" --port "$PORT" "$@"
}

@test "ssh and curl https on one port: sshd -i behind snitch-exec as non_tls" {
	start_sshd_exec
	start_demo alpha
	ssh_config "non_tls = ssh" "silent = ssh" "silent_timeout = 1s"
	start_snitch

	run ssh_run echo hello
	assert_success
	assert_output hello
	wait_until log_has "backend=ssh outcome=handoff route=non_tls "
	# sshd has the client's own socket: the client's address and port,
	# and the port it connected to, are the ones snitch logged
	client=$(grep -oE "client=127\.0\.0\.1:[0-9]+ name=- backend=ssh outcome=handoff route=non_tls " \
	    "$T/snitch.log" | sed 's/^client=127.0.0.1:\([0-9]*\) .*/\1/')
	grep -qF "Connection from 127.0.0.1 port $client on 127.0.0.1 port $PORT" \
	    "$T/exec-ssh.log"
	grep -qE "Accepted publickey for $SSH_USER from 127\.0\.0\.1 port $client " \
	    "$T/exec-ssh.log"

	run -0 get_https alpha.localhost
	assert_equal "$(answer backend)" alpha
	assert_line "server_name=alpha.localhost"

	# a client that waits for the server to speak first gets its banner
	run -0 nontls --expect 'SSH-2.0-OpenSSH' --close
	assert_line --regexp '^SSH-2\.0-OpenSSH_[^ ]+'
	wait_until log_has "backend=ssh outcome=handoff route=silent "
}

@test "silent = ssh without non_tls: a client that only reads gets sshd's banner" {
	start_sshd_exec
	start_demo alpha
	ssh_config "silent = ssh" "silent_timeout = 500ms"
	start_snitch

	run -0 nontls --expect 'SSH-2.0-OpenSSH' --close
	from=$(sed -n 's/^from=//p' <<<"$output")
	assert_line --regexp '^SSH-2\.0-OpenSSH_[^ ]+'
	wait_until log_has "client=$from name=- backend=ssh outcome=handoff route=silent "

	# ssh itself sends its banner at once: not TLS, and no non_tls
	run ssh_run echo hello
	assert_failure
	refute_output hello
	wait_until log_has "backend=- outcome=not-tls "

	run -0 get_https alpha.localhost
	assert_equal "$(answer backend)" alpha
}
