#!/usr/bin/env bats
# tenant.bats - tenant delegation: each tenant serves the names of her
# patterns from sockets she creates in her directory, without a reload;
# the listener must be her uid; a backend's own names come first, then
# tenants, then "*".  Two tenants are users made by the test (root only).

load lib

setup() {
	snitch_setup
	TEST_USERS=()
	if ! is_root; then
		skip "needs root: makes users with useradd"
	fi
	add_test_user ALICE
	add_test_user BOB
	WORKERS=1
	mkdir -p "$T/tenants/alice" "$T/tenants/bob"
	chown "$ALICE:$ALICE" "$T/tenants/alice"
	chown "$BOB:$BOB" "$T/tenants/bob"
	chmod 755 "$T/tenants" "$T/tenants/alice" "$T/tenants/bob"
	start_demo alpha
	start_demo any
	write_config "stats = $T/stats.sock"
	add_backend alpha alpha.localhost www.a.test
	add_backend any '*'
	cat >>"$T/snitch.ini" <<EOF

[tenant alice]
uid = $ALICE
names = *.a.test a.test
dir = $T/tenants/alice

[tenant bob]
uid = $(id -u "$BOB")
names = *.b.test
dir = $T/tenants/bob
EOF
	A="$T/tenants/alice"
	B="$T/tenants/bob"
}

teardown() {
	local rc=0
	snitch_teardown || rc=$?
	remove_test_users
	return "$rc"
}

@test "two tenants each serve their names: exact and wildcard sockets" {
	start_demo_as "$ALICE" alice-exact "$A/a.test.sock"
	start_demo_as "$ALICE" alice-www "$A/shop.a.test.sock"
	start_demo_as "$ALICE" alice-wild "$A/_.a.test.sock"
	start_demo_as "$BOB" bob-wild "$B/_.b.test.sock"
	start_snitch
	run -0 tls --name a.test
	assert_line "backend=alice-exact"
	assert_line "server_name=a.test"
	run -0 tls --name shop.a.test
	assert_line "backend=alice-www"
	run -0 tls --name other.a.test
	assert_line "backend=alice-wild"
	run -0 tls --name deep.other.a.test
	assert_line "backend=alice-wild"
	run -0 tls --name x.b.test
	assert_line "backend=bob-wild"
	# b.test itself is not under *.b.test: not bob's, so "*"
	run -0 tls --name b.test
	assert_line "backend=any"
	run -0 get_https shop.a.test
	assert_line "backend=alice-www"
	run -0 "$SNITCH" -c "$T/snitch.ini" -s
	assert_line --regexp "^tenant alice handoff 5 "
	assert_line --regexp "^tenant bob handoff 1 "
	grep -q "name=shop.a.test backend=tenant:alice outcome=handoff" \
	    "$T/snitch.log"
}

@test "a new name works without a reload once its socket exists" {
	start_snitch
	run -0 tls --name new.a.test
	assert_line "backend=any"
	start_demo_as "$ALICE" alice-new "$A/new.a.test.sock"
	wait_until routes_to new.a.test alice-new
	# and it goes away the same way
	stop_demo alice-new
	rm -f "$A/new.a.test.sock"
	wait_until routes_to new.a.test any
	run ! log_has "reload"
}

@test "bob's socket for alice's name in his own directory gets nothing" {
	start_demo_as "$BOB" bob-steal "$B/a.test.sock"
	start_demo_as "$BOB" bob-steal-wild "$B/_.a.test.sock"
	start_snitch
	run -0 tls --name a.test
	assert_line "backend=any"
	run -0 tls --name www2.a.test
	assert_line "backend=any"
	start_demo_as "$ALICE" alice-exact "$A/a.test.sock"
	wait_until routes_to a.test alice-exact
}

@test "bob's socket in alice's directory is refused by its credentials" {
	# alice's directory open to others (1777), as a careless one could be
	chmod 1777 "$A"
	start_demo_as "$BOB" bob-in-alice "$A/steal.a.test.sock"
	start_snitch
	run -3 tls --name steal.a.test
	assert_output "alert 80"
	run -3 tls --name steal.a.test
	assert_output "alert 80"
	[ "$(grep -c "backend tenant:alice: $A/steal.a.test.sock is listened on by uid $(id -u "$BOB") gid [0-9]*, not by its owner uid $(id -u "$ALICE")" "$T/snitch.log")" -eq 1 ]
	grep -q "name=steal.a.test backend=tenant:alice outcome=alert alert=80 reason=backend-owner" "$T/snitch.log"
	run -0 "$SNITCH" -c "$T/snitch.ini" -s
	assert_line --regexp "^tenant alice handoff 0 fallback 0 down 2 "
	assert_line --regexp "^handoff_failures .* owner [1-9][0-9]*$"
}

@test "a configured backend's name wins over a tenant's socket; tenants win over *" {
	start_demo_as "$ALICE" alice-www "$A/www.a.test.sock"
	start_demo_as "$ALICE" alice-wild "$A/_.a.test.sock"
	start_snitch
	run -0 tls --name www.a.test
	assert_line "backend=alpha"
	run -0 tls --name other.a.test
	assert_line "backend=alice-wild"
	run -0 tls --name unrelated.test
	assert_line "backend=any"
}

@test "without * or default, a tenant name without a socket gets alert 112" {
	sed -i '/^\[backend any\]/,/^names/d' "$T/snitch.ini"
	start_snitch
	run -3 tls --name nothing.a.test
	assert_output "alert 112"
	start_demo_as "$ALICE" alice-wild "$A/_.a.test.sock"
	wait_until routes_to nothing.a.test alice-wild
}

@test "a tenant directory others can write to is warned about" {
	chmod 0777 "$B"
	start_snitch
	log_has "tenant bob: dir $B: directory $B \(mode 0777, no sticky bit\): every user can write to it"
	run ! log_has "directory $A \("
}

@test "snitch -T lists the tenants' patterns between the wildcards and *" {
	run -0 --separate-stderr "$SNITCH" -T -c "$T/snitch.ini"
	# KIND PATTERN ALPN -> BACKEND, in precedence order
	run -0 awk '{ print $1, $2, $5 }' <<<"$output"
	assert_output "$(printf '%s\n' \
	    'exact alpha.localhost alpha' \
	    'exact www.a.test alpha' \
	    'tenant a.test tenant:alice' \
	    'tenant *.a.test tenant:alice' \
	    'tenant *.b.test tenant:bob' \
	    'any * any')"
}

@test "an HTTP client on listen_http reaches a tenant's socket by its Host" {
	local http_port
	http_port=$(free_port)
	sed -i "/^\[snitch\]/a listen_http = 127.0.0.1:$http_port" "$T/snitch.ini"
	start_demo_as "$ALICE" alice-wild "$A/_.a.test.sock"
	start_snitch
	run -0 curl -sS -m 5 -H "Host: Shop.A.Test" "http://127.0.0.1:$http_port/"
	assert_line "backend=alice-wild"
	assert_line "server_name=shop.a.test"
	assert_line "tls=0"
	grep -q "name=shop.a.test backend=tenant:alice outcome=handoff" \
	    "$T/snitch.log"
}
