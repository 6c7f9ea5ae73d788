#!/usr/bin/env bats
# multihost.bats - SNItch past one host, in network namespaces the test
# makes (as root): a client namespace, a router spreading one service
# address over two SNItch hosts with Linux ECMP hashing on layer 4, and
# a load balancer (HAProxy send-proxy-v2) in front of the same hosts.
# Clients keep routing while host 1 is drained, in the order
# doc/operating.md gives, and the backends see the client's own address.
#
#   client 198.51.100.2, .3 --- router 198.51.100.1
#                                 |  192.0.2.1  --- host1 192.0.2.2
#                                 |  192.0.2.17 --- host2 192.0.2.18
#                                 |  192.0.2.33 --- lb    192.0.2.34
#
# Each host holds the service address 203.0.113.10 on its loopback and
# runs its own snitch listening on it (plain, for the router's ECMP
# route) and on its own address (with proxy_protocol, for HAProxy), and
# its own snitch-demo (backend h1 or h2), which answers with the client
# address it was told.  The demos run in the test's own namespace: they
# talk to their snitch over a Unix socket path, which network
# namespaces do not separate.  Every address is a documentation one
# (RFC 5737) inside the test's namespaces; the namespaces, their veths
# and every process in them are removed in teardown, also after a
# failure.

load lib

HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
MULTIHOST_PY=$SNITCH_ROOT/t/multihost.py
SERVICE=203.0.113.10
CLIENT1=198.51.100.2
CLIENT2=198.51.100.3
ROUTER=198.51.100.1
LB=192.0.2.34
declare -gA HOST_ADDR=([h1]=192.0.2.2 [h2]=192.0.2.18)
NAME=alpha.localhost

setup_file() {
	snitch_setup_file
	if ! command -v nft >/dev/null || [ ! -x "$HAPROXY" ]; then
		echo "nft or haproxy is missing: make deps-test" \
		    "(nftables, haproxy)" >&2
		return 1
	fi
}

setup() {
	snitch_setup
	declare -gA NS=() HOST_PID=()
	NS[c]=snmh$$-$BATS_TEST_NUMBER-c
	if ! ip netns add "${NS[c]}" 2>"$T/netns.err"; then
		NS=()
		skip "ip netns add is impossible here: $(cat "$T/netns.err")"
	fi
	topology
}

teardown() {
	local rc=0 ns pids
	snitch_teardown || rc=$?
	# ip netns del leaves the processes in a namespace running (they
	# keep it alive): end the test's own first, by their pids
	for ns in "${NS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null) || continue
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null || true
	done
	NS=()
	return "$rc"
}

# nsx NS CMD... - run CMD in the test's namespace NS (c, r, h1, h2, lb)
nsx() {
	local ns=${NS[$1]}
	shift
	ip netns exec "$ns" "$@"
}

# wire A AIF AADDR B BIF BADDR - a veth pair made straight inside the
# namespaces A and B (never in the test's own), addressed and up
wire() {
	ip -n "${NS[$1]}" link add "$2" type veth peer name "$5" \
	    netns "${NS[$4]}"
	ip -n "${NS[$1]}" addr add "$3" dev "$2"
	ip -n "${NS[$4]}" addr add "$6" dev "$5"
	ip -n "${NS[$1]}" link set "$2" up
	ip -n "${NS[$4]}" link set "$5" up
}

# topology - the namespaces, links, addresses and routes of the picture
# above; the router's ECMP route over both hosts, hashing on layer 4
topology() {
	local n
	for n in r h1 h2 lb; do
		NS[$n]=snmh$$-$BATS_TEST_NUMBER-$n
		ip netns add "${NS[$n]}"
	done
	for n in "${!NS[@]}"; do
		ip -n "${NS[$n]}" link set lo up
	done
	wire c c0 "$CLIENT1/24" r r0 "$ROUTER/24"
	wire r r1 192.0.2.1/28 h1 e0 "${HOST_ADDR[h1]}/28"
	wire r r2 192.0.2.17/28 h2 e0 "${HOST_ADDR[h2]}/28"
	wire r r3 192.0.2.33/28 lb e0 "$LB/28"
	ip -n "${NS[c]}" addr add "$CLIENT2/24" dev c0
	ip -n "${NS[c]}" route add default via "$ROUTER"
	ip -n "${NS[h1]}" route add default via 192.0.2.1
	ip -n "${NS[h2]}" route add default via 192.0.2.17
	ip -n "${NS[lb]}" route add default via 192.0.2.33
	# the service address on each host's loopback: no ARP sysctls, as
	# each host's link carries only its own address; the router routes
	# the service address to the hosts, it never asks for it
	ip -n "${NS[h1]}" addr add "$SERVICE/32" dev lo
	ip -n "${NS[h2]}" addr add "$SERVICE/32" dev lo
	nsx r sysctl -qw net.ipv4.ip_forward=1
	nsx r sysctl -qw net.ipv4.fib_multipath_hash_policy=1
	ip -n "${NS[r]}" route add "$SERVICE/32" \
	    nexthop via "${HOST_ADDR[h1]}" dev r1 \
	    nexthop via "${HOST_ADDR[h2]}" dev r2
}

# start_host H - host H's demo (backend H) and snitch, listening on the
# service address and, taking PROXY headers from the balancer only, on
# the host's own address; waits until both listen
start_host() {
	local h=$1 i
	start_demo "$h"
	cat >"$T/$h.ini" <<EOF
[snitch]
listen = $SERVICE:443 ${HOST_ADDR[$h]}:443
proxy_protocol = ${HOST_ADDR[$h]}:443
proxy_from = $LB/32
user = nobody
workers = 2
peek_timeout = $PEEK_TIMEOUT
access_log = $T/$h-access.log

[backend $h]
socket = $T/$h.sock
names = $NAME
EOF
	chmod 644 "$T/$h.ini"
	# ip netns exec execs snitch: $! is the master itself
	ip netns exec "${NS[$h]}" "$SNITCH" -c "$T/$h.ini" </dev/null \
	    >>"$T/$h-snitch.log" 2>&1 3>&- &
	HOST_PID[$h]=$!
	track_pid "${HOST_PID[$h]}"
	for ((i = 0; i < START_STEPS; i++)); do
		if ! alive "${HOST_PID[$h]}"; then
			echo "snitch on $h exited: $(cat "$T/$h-snitch.log")" >&2
			return 1
		fi
		[ "$(nsx "$h" ss -Htl '( sport = :443 )' | wc -l)" -eq 2 ] &&
		    return 0
		sleep 0.02
	done
	echo "snitch on $h: not listening after 5 s" >&2
	return 1
}

# start_hosts - both hosts
start_hosts() {
	start_host h1
	start_host h2
}

# stop_host H - SIGTERM host H's snitch: its listeners close, its workers
# finish what they hold, and it exits (SIGKILL after 10 s)
stop_host() {
	stop_pid "${HOST_PID[$1]}" 10
	if alive "${HOST_PID[$1]}"; then
		echo "snitch on $1 still runs after SIGTERM and SIGKILL" >&2
		return 1
	fi
}

# host_idle H - host H holds no TCP connection on port 443 (TIME-WAIT
# aside: nothing arrives for those)
host_idle() {
	[ -z "$(nsx "$1" ss -Htn state established state syn-recv \
	    state fin-wait-1 state fin-wait-2 state close-wait \
	    state last-ack state closing '( sport = :443 )')" ]
}

# drop_syns H - host H drops new connections to port 443 without
# answering, so their SYNs are retransmitted (to wherever the route then
# leads); a stateless match on the flags, as conntrack would take a
# connection it first sees mid-stream for a new one
drop_syns() {
	nsx "$1" nft -f - <<EOF
table inet drain {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 443 tcp flags & (syn | ack) == syn counter drop
	}
}
EOF
}

# syns_dropped H - how many SYNs drop_syns has dropped on host H
syns_dropped() {
	nsx "$1" nft list chain inet drain input |
	    sed -n 's/.* counter packets \([0-9]*\) .*/\1/p'
}

# clients_cmd ARGS... - CLIENTS_CMD: t/multihost.py in the client
# namespace, from both client addresses, bounded by its own --count and
# --seconds, and by timeout
clients_cmd() {
	CLIENTS_CMD=(timeout 120 ip netns exec "${NS[c]}" "$PYTHON"
	    "$MULTIHOST_PY" --name "$NAME" --source "$CLIENT1"
	    --source "$CLIENT2" "$@")
}

# clients OUT ARGS... - clients_cmd's clients, their lines in OUT
clients() {
	local out=$1
	shift
	clients_cmd "$@"
	"${CLIENTS_CMD[@]}" >"$out" 2>&1
}

# clients_bg OUT ARGS... - clients in the background until $T/stop
# exists (or their bounds); CLIENTS_PID: timeout's pid, which passes a
# SIGTERM from teardown on
clients_bg() {
	local out=$1
	shift
	clients_cmd "$@" --until "$T/stop"
	"${CLIENTS_CMD[@]}" >"$out" 2>&1 3>&- &
	CLIENTS_PID=$!
	track_pid "$CLIENTS_PID"
}

# clients_end - stop the background clients and wait for their summary
clients_end() {
	touch "$T/stop"
	wait "$CLIENTS_PID"
}

# clients_loop OUT ADDR HOLD - eight clients to ADDR:443 in the
# background (clients_bg), each holding its connection HOLD seconds, so
# that host 1 always has established connections while the test changes
# what is in front of it; returns once host 1 has served ten
clients_loop() {
	local loop_out=$1
	clients_bg "$loop_out" --connect "$2:443" --clients 8 --hold "$3" \
	    --count 2000 --seconds 60
	wait_for 20 eval '[ "$(served "$loop_out" h1)" -ge 10 ]'
}

# served OUT BACKEND - how many clients of OUT BACKEND served
served() {
	grep -c "^ok backend=$2 " "$1" || true
}

# all_ok OUT MIN - OUT ended with no failure, at least MIN clients
# served, and each backend told each client its own address and port
# (never the router's, the balancer's or another's)
all_ok() {
	local out=$1 min=$2 ok
	run cat "$out"
	assert_line --regexp '^done ok=[0-9]+ fail=0$'
	refute_line --regexp '^fail '
	ok=$(grep -c '^ok ' "$out" || true)
	[ "$ok" -ge "$min" ] || fail "$ok clients served, wanted $min or more"
	run awk '/^ok / { split($3, c, "="); split($4, s, "=");
	    if (c[2] != s[2]) print }' "$out"
	assert_output ""
	run grep -E "^ok .* client=($CLIENT1|$CLIENT2):" "$out"
	assert_equal "${#lines[@]}" "$ok"
}

# haproxy_cmd COMMAND - a command on HAProxy's runtime API, its answer
haproxy_cmd() {
	"$PYTHON" - "$T/haproxy.sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
while chunk := s.recv(65536):
    sys.stdout.write(chunk.decode())
EOF
}

# start_haproxy - HAProxy in the balancer namespace on $LB:443, mode
# tcp, roundrobin over both hosts' own addresses with send-proxy-v2,
# its runtime API on $T/haproxy.sock
start_haproxy() {
	local i
	cat >"$T/haproxy.cfg" <<EOF
global
	pidfile $T/haproxy.pid
	stats socket $T/haproxy.sock mode 600 level admin
defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend lb
	bind $LB:443
	default_backend snitch
backend snitch
	balance roundrobin
	server h1 ${HOST_ADDR[h1]}:443 send-proxy-v2
	server h2 ${HOST_ADDR[h2]}:443 send-proxy-v2
EOF
	ip netns exec "${NS[lb]}" "$HAPROXY" -db -f "$T/haproxy.cfg" \
	    </dev/null >>"$T/haproxy.log" 2>&1 3>&- &
	track_pid $!
	for ((i = 0; i < START_STEPS; i++)); do
		alive $! || { echo "haproxy exited: $(cat "$T/haproxy.log")" >&2
		    return 1; }
		[ -n "$(nsx lb ss -Htl "src $LB:443")" ] && [ -S "$T/haproxy.sock" ] &&
		    return 0
		sleep 0.02
	done
	echo "haproxy not listening after 5 s: $(cat "$T/haproxy.log")" >&2
	return 1
}

# ecmp_drain_h1 - host 1 out of the router's route with no client lost:
# new SYNs dropped (retransmitted, not refused), its connections left
# to finish, its snitch stopped, then its nexthop withdrawn, so the
# retransmitted SYNs land on host 2.  The second before the wait is for
# the test: clients surely come while host 1 drains.
ecmp_drain_h1() {
	drop_syns h1
	sleep 1
	wait_for 20 host_idle h1
	stop_host h1
	ip -n "${NS[r]}" route replace "$SERVICE/32" \
	    via "${HOST_ADDR[h2]}" dev r2
}

@test "ECMP: the router spreads clients over both hosts by layer 4, and the backends see the client's own address" {
	start_hosts
	clients "$T/spread.out" --connect "$SERVICE:443" --clients 4 \
	    --count 60
	all_ok "$T/spread.out" 60
	[ "$(served "$T/spread.out" h1)" -ge 5 ] ||
	    fail "host 1 served $(served "$T/spread.out" h1) of 60"
	[ "$(served "$T/spread.out" h2)" -ge 5 ] ||
	    fail "host 2 served $(served "$T/spread.out" h2) of 60"
	# the hash takes the ports: one client address reaches both hosts
	run grep -E "^ok backend=h1 client=$CLIENT1:" "$T/spread.out"
	assert_success
	run grep -E "^ok backend=h2 client=$CLIENT1:" "$T/spread.out"
	assert_success
	# each host's access log has its clients, as the client saw itself
	run grep -cE "client=198\.51\.100\.[23]:[0-9]+ name=$NAME backend=h1 outcome=handoff .* via=-$" \
	    "$T/h1-access.log"
	assert_output "$(served "$T/spread.out" h1)"
	run grep -cE "client=198\.51\.100\.[23]:[0-9]+ name=$NAME backend=h2 outcome=handoff .* via=-$" \
	    "$T/h2-access.log"
	assert_output "$(served "$T/spread.out" h2)"
	run grep -hE "client=($ROUTER|192\.0\.2\.[0-9]+):" "$T/h1-access.log" \
	    "$T/h2-access.log"
	assert_output ""
}

@test "ECMP: host 1 drained (SYNs dropped, connections finished, snitch stopped, route withdrawn) under a client loop: none fails, then all go to host 2" {
	start_hosts
	clients_loop "$T/drain.out" "$SERVICE" 0.3
	ecmp_drain_h1
	# clients came while host 1 drained: their SYNs, dropped there, were
	# sent again, to host 2, and served (the drain lasts over a second,
	# with some 25 clients a second, half of them hashed to host 1)
	[ "$(syns_dropped h1)" -ge 1 ] || fail "no SYN came during the drain"
	# clients keep coming after the drain, and reach host 2
	sleep 2
	clients_end
	all_ok "$T/drain.out" 30
	[ "$(served "$T/drain.out" h2)" -ge 10 ]
	clients "$T/after.out" --connect "$SERVICE:443" --clients 4 \
	    --count 40
	all_ok "$T/after.out" 40
	assert_equal "$(served "$T/after.out" h2)" 40
}

@test "ECMP: the route withdrawn while host 1 still holds connections: those clients fail (why the drain waits)" {
	start_hosts
	clients_loop "$T/early.out" "$SERVICE" 0.5
	# host 2 answers the moved connections' next segment with a reset
	ip -n "${NS[r]}" route replace "$SERVICE/32" \
	    via "${HOST_ADDR[h2]}" dev r2
	sleep 2
	clients_end
	run grep -c '^fail ' "$T/early.out"
	[ "$output" -ge 1 ] || fail "no client failed: $(cat "$T/early.out")"
}

@test "HAProxy send-proxy-v2 in front of both hosts: roundrobin over both, the backends see the client's own address" {
	start_hosts
	start_haproxy
	clients "$T/lb.out" --connect "$LB:443" --clients 4 --count 40
	all_ok "$T/lb.out" 40
	# roundrobin: half each
	assert_equal "$(served "$T/lb.out" h1)" 20
	assert_equal "$(served "$T/lb.out" h2)" 20
	run grep -cE "client=198\.51\.100\.[23]:[0-9]+ name=$NAME backend=h1 outcome=handoff .* via=$LB:[0-9]+$" \
	    "$T/h1-access.log"
	assert_output 20
	run grep -cE "client=198\.51\.100\.[23]:[0-9]+ name=$NAME backend=h2 outcome=handoff .* via=$LB:[0-9]+$" \
	    "$T/h2-access.log"
	assert_output 20
}

@test "HAProxy: host 1 drained (drain, connections finished, maint, snitch stopped) under a client loop: none fails" {
	start_hosts
	start_haproxy
	clients_loop "$T/drain.out" "$LB" 0.3
	run -0 haproxy_cmd "set server snitch/h1 state drain"
	wait_for 20 host_idle h1
	run -0 haproxy_cmd "set server snitch/h1 state maint"
	stop_host h1
	sleep 2
	clients_end
	all_ok "$T/drain.out" 30
	clients "$T/after.out" --connect "$LB:443" --clients 4 --count 20
	all_ok "$T/after.out" 20
	assert_equal "$(served "$T/after.out" h2)" 20
}
