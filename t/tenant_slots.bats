#!/usr/bin/env bats
# tenant_slots.bats - no tenant, nor tenants acting together, can take
# every tenant channel slot of a worker from the others.
#
# A worker has 64 tenant channel slots.  The attack: a tenant makes
# many sockets that accept channels and never receive, and sends a
# client to each, so that each takes a slot and keeps it busy (its
# client waits); once every slot is busy, every other tenant's client
# gets alert 80.  Each tenant may hold her share busy, 64 divided by the
# number of tenants; over it, her client gets alert 80 at once, counted
# as busy on her line of `snitch -s`.  Tenants are users made by the
# test (root only); handoff_timeout is long, so that the waiting clients
# hold their slots for the whole test.

load lib
load lib_faults

setup() {
	snitch_setup
	TEST_USERS=()
	if ! is_root; then
		skip "needs root: makes users with useradd"
	fi
	WORKERS=1
	start_demo alpha
	write_config
	stats_on
	set_key handoff_timeout 60s
	add_backend alpha alpha.localhost
	# from $T: the tree may be readable by root only
	cp "$BATS_TEST_DIRNAME/busy.py" "$BATS_TEST_DIRNAME/tlshello.py" "$T/"
	chmod 0644 "$T/busy.py" "$T/tlshello.py"
	mkdir -p "$T/tenants"
	chmod 755 "$T/tenants"
	add_tenant BOB b
	start_demo_as "$BOB" bob "$T/tenants/b/_.b.test.sock"
}

teardown() {
	local rc=0
	snitch_teardown || rc=$?
	remove_test_users
	return "$rc"
}

# add_tenant VAR X - a new user (its name in VAR) as tenant X, with the
# names *.X.test and the directory $T/tenants/X
add_tenant() {
	add_test_user "$1"
	mkdir -p "$T/tenants/$2"
	chown "${!1}:${!1}" "$T/tenants/$2"
	chmod 755 "$T/tenants/$2"
	cat >>"$T/snitch.ini" <<EOF

[tenant $2]
uid = ${!1}
names = *.$2.test
dir = $T/tenants/$2
EOF
}

# names X COUNT - n1.X.test,...,nCOUNT.X.test
names() {
	seq -s, -f "n%g.$1.test" 1 "$2"
}

# start_sockets USER MODE X COUNT - t/busy.py MODE (stuck or turn) as
# USER on the sockets of names X COUNT; its pid in SOCKETS_PID
start_sockets() {
	local socks
	read -ra socks <<<"$(seq -s ' ' -f "$T/tenants/$3/n%g.$3.test.sock" 1 "$4")"
	setpriv --reuid="$1" --regid="$1" --clear-groups \
	    "$PYTHON" "$T/busy.py" "$2" "${socks[@]}" \
	    </dev/null >>"$T/sockets-$3.log" 2>&1 3>&- &
	SOCKETS_PID=$!
	track_pid "$SOCKETS_PID"
	wait_for 20 unix_listening "${socks[-1]}"
}

# attack X COUNT - one client for each of names X COUNT, held (60 s) in
# the background
attack() {
	busy_crowd "$T/crowd-$1.out" "$(names "$1" "$2")" 1 60
	track_pid "$CROWD_PID"
}

# tenant_stat X FIELD - a counter of tenant X's line of snitch -s
tenant_stat() {
	snitch_stats 2>/dev/null | awk -v n="$1" -v f="$2" '
	    $1 == "tenant" && $2 == n { for (i = 3; i < NF; i += 2)
	        if ($i == f) print $(i + 1) }'
}

# refused_is X COUNT - tenant X's busy counter is COUNT
refused_is() {
	[ "$(tenant_stat "$1" busy)" = "$2" ]
}

# over_share X - how many of X's clients the log says were over her share
over_share() {
	grep -c "tenant $1: her sockets hold as many channels as one tenant may; refusing" \
	    "$T/snitch.log" || true
}

# others_served - bob's clients and alpha's are routed, and bob's
# counters say nothing was refused
others_served() {
	local i
	for i in 1 2 3; do
		run -0 tls --name "x$i.b.test"
		assert_line "backend=bob"
		run -0 tls --name alpha.localhost
		assert_line "backend=alpha"
	done
	assert_equal "$(tenant_stat b busy)" 0
	assert_equal "$(tenant_stat b handoff)" 3
}

@test "one tenant's stalled sockets hold her share of the slots, never the others'" {
	add_tenant ALICE a
	start_sockets "$ALICE" stuck a 70
	start_snitch
	attack a 70
	# two tenants: alice's share is 32; the other 38 are refused at once
	wait_for 20 refused_is a 38 || true
	others_served
	assert_equal "$(tenant_stat a busy)" 38
	assert_equal "$(over_share a)" 38
	[ "$(grep -c "backend=- outcome=alert alert=80 reason=backend-busy" "$T/snitch.log")" -eq 38 ]
}

@test "four tenants acting together hold four shares, and the fifth is served" {
	local x v
	for x in a c d e; do
		v=U_$x
		add_tenant "$v" "$x"
		start_sockets "${!v}" stuck "$x" 20
	done
	start_snitch
	for x in a c d e; do
		attack "$x" 20
	done
	# five tenants: a share is 12, so 8 of each attacker's 20 are refused
	for x in a c d e; do
		wait_for 20 refused_is "$x" 8 || true
	done
	others_served
	for x in a c d e; do
		assert_equal "$(tenant_stat "$x" busy)" 8
		assert_equal "$(over_share "$x")" 8
	done
}

@test "slots a tenant took idle and then stalls count against her share" {
	local batch
	add_tenant ALICE a
	start_sockets "$ALICE" turn a 64
	start_snitch
	# alice takes all 64 slots, 8 names at a time, each handed and idle
	for batch in 0 8 16 24 32 40 48 56; do
		run -0 "$PYTHON" "$BATS_TEST_DIRNAME/busy.py" crowd 127.0.0.1 \
		    "$PORT" "$(seq -s, -f "n%g.a.test" $((batch + 1)) \
		    $((batch + 8)))" 1 10
		assert_output "alert80=0 other=0 silent=8"
	done
	assert_equal "$(tenant_stat a handoff)" 64
	# her sockets stop receiving: a client on each would keep each busy
	kill -USR1 "$SOCKETS_PID"
	wait_until grep -qx stopped "$T/sockets-a.log"
	attack a 64
	wait_for 20 refused_is a 32 || true
	others_served
	assert_equal "$(tenant_stat a busy)" 32
	assert_equal "$(over_share a)" 32
}

@test "a tenant churning through names reuses idle slots; others are served" {
	local round
	add_tenant ALICE a
	start_sockets "$ALICE" turn a 96
	start_snitch
	run -0 tls --name x.b.test
	assert_line "backend=bob"
	# 96 names 8 at a time through 64 slots: bob's idle one is reused
	for round in $(seq 0 8 88); do
		run -0 "$PYTHON" "$BATS_TEST_DIRNAME/busy.py" crowd 127.0.0.1 \
		    "$PORT" "$(seq -s, -f "n%g.a.test" $((round + 1)) \
		    $((round + 8)))" 1 10
		assert_output "alert80=0 other=0 silent=8"
		run -0 tls --name "r$round.b.test"
		assert_line "backend=bob"
	done
	assert_equal "$(tenant_stat a handoff)" 96
	assert_equal "$(tenant_stat a busy)" 0
	assert_equal "$(tenant_stat b busy)" 0
	assert_equal "$(tenant_stat b handoff)" 13
}
