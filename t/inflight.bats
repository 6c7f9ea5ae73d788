#!/usr/bin/env bats
# inflight.bats - a backend or tenant cannot pin the worker's descriptors.
#
# Every socket queued in a channel and not yet received counts, in the
# kernel, against the workers' user; past its descriptor limit every
# send fails (ETOOMANYREFS), for every backend.  The attack: a backend
# that accepts channels, never receives, and shuts each down for writing
# (t/busy.py pin), so that a worker taking that for a closed channel
# connects again and queues more.  Snitch runs as a user of its own, so
# that what other tests queue does not count, with a descriptor limit of
# 1024: without the bounds, the attack passes it within seconds.

load lib
load lib_faults

setup() {
	snitch_setup
	TEST_USERS=()
	if ! is_root; then
		skip "needs root: runs snitch as a user of its own"
	fi
	add_test_user SNU
	WORKERS=1
	start_demo beta
	chmod 0666 "$T/beta.sock"	# for the user of its own
	write_config
	sed -i "s/^user = .*/user = $SNU/" "$T/snitch.ini"
	# Not in $T, which is nobody's: a stats socket's directories must
	# be root's or the user's (snitch.ini(5) stats).
	STATS_DIR=$(mktemp -d /run/snitch-inflight.XXXXXX)
	stats_on "$STATS_DIR/stats.sock"
	set_key handoff_timeout 1s
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost
}

teardown() {
	local rc=0
	snitch_teardown || rc=$?
	[ -z "${STATS_DIR:-}" ] || rm -rf "$STATS_DIR"
	remove_test_users
	return "$rc"
}

# start_pin PATH... - t/busy.py pin on each PATH, as USER (root if unset)
start_pin() {
	# from $T: the tree may be readable by root only
	cp "$BATS_TEST_DIRNAME/busy.py" "$BATS_TEST_DIRNAME/tlshello.py" "$T/"
	chmod 0644 "$T/busy.py" "$T/tlshello.py"
	setpriv --reuid="${PIN_USER:-0}" --regid="${PIN_USER:-0}" \
	    --clear-groups "$PYTHON" "$T/busy.py" pin "$@" \
	    </dev/null >>"$T/pin.log" 2>&1 3>&- &
	track_pid "$!"
	# all of them: 24 sockets, from a Python start on a loaded machine
	wait_for 20 unix_listening "${@: -1}"
}

# crowd NAME COUNT SECONDS - busy_crowd for NAME, one of CROWDS
crowd() {
	busy_crowd "$T/crowd-$1.out" "$1" "$2" "$3"
	CROWDS+=("$CROWD_PID")
}

# beta_serves_meanwhile - beta's clients are served while the crowds run
beta_serves_meanwhile() {
	local i
	for i in 1 2 3; do
		run -0 tls --name beta.localhost
		assert_line "backend=beta"
		sleep 0.5
	done
	wait "${CROWDS[@]}"
}

# too_many_refs - handoffs that failed with ETOOMANYREFS, from snitch -s
too_many_refs() {
	snitch_stats | awk '$1 == "handoff_failures" {
	    for (i = 2; i < NF; i += 2) if ($i == "too_many_refs") print $(i + 1) }'
}

# handed_to BACKEND - how many handoffs to BACKEND the access log has
handed_to() {
	grep -c "backend=$1 outcome=handoff" "$T/snitch.log" || true
}

@test "a backend that pins handoffs is busy alone: its in-flight is bounded, the others keep routing" {
	start_pin "$T/alpha.sock"
	start_snitch_under prlimit --nofile=1024:1024
	CROWDS=()
	crowd alpha.localhost 1500 8
	# The attack is under way once alpha is busy.
	wait_until eval '[ "$(backend_stat alpha busy)" -ge 1 ]'
	beta_serves_meanwhile
	# One channel's worth, never more, whatever the reconnects.
	[ "$(handed_to alpha)" -le 128 ]
	[ "$(handed_to alpha)" -ge 1 ]
	log_has "handoffs it has not received or acknowledged stay in its old channel"
	assert_equal "$(too_many_refs)" 0
	run -0 tls --name beta.localhost
	assert_line "backend=beta"
}

@test "a tenant whose sockets pin handoffs is busy alone: bounded over all her sockets" {
	add_test_user ALICE
	mkdir -p "$T/tenants/alice"
	chown "$ALICE:$ALICE" "$T/tenants/alice"
	chmod 755 "$T/tenants" "$T/tenants/alice"
	cat >>"$T/snitch.ini" <<EOF

[tenant alice]
uid = $ALICE
names = *.a.test
dir = $T/tenants/alice
EOF
	local i socks=()
	for i in $(seq 1 24); do
		socks+=("$T/tenants/alice/n$i.a.test.sock")
	done
	PIN_USER=$(id -u "$ALICE") start_pin "${socks[@]}"
	start_snitch_under prlimit --nofile=1024:1024
	CROWDS=()
	for i in $(seq 1 24); do
		crowd "n$i.a.test" 60 8
	done
	wait_until eval '[ "$(grep -c "backend=tenant:alice outcome=alert" "$T/snitch.log")" -ge 1 ]'
	beta_serves_meanwhile
	# TENANT_INFLIGHT_MAX over all her sockets, whatever their number
	[ "$(handed_to tenant:alice)" -le 256 ]
	[ "$(handed_to tenant:alice)" -ge 1 ]
	assert_equal "$(too_many_refs)" 0
	run -0 tls --name beta.localhost
	assert_line "backend=beta"
}
