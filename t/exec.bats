#!/usr/bin/env bats
# exec.bats - snitch-exec runs a program for each handed-off connection,
# ucspi style: the client's socket as fd 0 and 1, the UCSPI environment
# (PROTO, TCPREMOTEIP, ...), SSL_SERVER_NAME and SNITCH_ALPN.
#
# snitch routes exec.localhost, *.exec.localhost and clients without a
# name (the default) to snitch-exec on $T/exec.sock.  The programs are
# small sh scripts that leave what they saw in $T, or stunnel4 in inetd
# mode in front of one.  A program that holds its connection notes its
# pid in $T/held, then waits for $T/release (at most 10 s); teardown
# creates it, so that nothing outlives the test.

load lib

SNITCH_EXEC=$BUILD/snitch-exec

setup_file() {
	snitch_setup_file
	need_built "$SNITCH_EXEC"
}

setup() {
	snitch_setup
	declare -gA EXEC_PIDS=()
}

teardown() {
	# Held programs first: a stopping snitch-exec waits for them.
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		touch "$T/release"
	fi
	snitch_teardown
}

# exec_routes - snitch.ini: exec.localhost, its subdomains and the
# default to the backend `exec`
exec_routes() {
	write_config "default = exec"
	add_backend exec exec.localhost '*.exec.localhost'
}

# start_exec NAME ARGS... - snitch-exec -s $T/NAME.sock ARGS (options,
# then -- PROGRAM...), as nobody when root, its stderr in
# $T/exec-NAME.log, its pid in EXEC_PIDS[NAME]; waits until the socket
# listens (at most 5 s)
start_exec() {
	local name=$1 rc=0
	shift
	start_backend "$T/$name.sock" "$T/exec-$name.log" "$SNITCH_EXEC" \
	    -s "$T/$name.sock" "$@" || rc=$?
	EXEC_PIDS[$name]=$BACKEND_PID
	track_pid "$BACKEND_PID"
	return "$rc"
}

# exec_log_has NAME PATTERN - exec-NAME.log has a line matching the
# extended regex
exec_log_has() {
	grep -qE -- "$2" "$T/exec-$1.log"
}

# exec_log_count NAME PATTERN N - exec-NAME.log has N such lines
exec_log_count() {
	[ "$(grep -cE -- "$2" "$T/exec-$1.log")" -eq "$3" ]
}

# hold_program - sh code: note $$ in $T/held, wait for $T/release (10 s)
hold_program() {
	printf 'echo $$ >>%s/held; i=0; while [ ! -e %s/release ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done' \
	    "$T" "$T"
}

# held_count N - N programs noted themselves in $T/held
held_count() {
	[ -f "$T/held" ] && [ "$(wc -l <"$T/held")" -eq "$1" ]
}

# client_port - the port of "from=127.0.0.1:PORT" in $output
client_port() {
	answer from | sed 's/.*://'
}

# fd_count PID - how many descriptors PID has open
fd_count() {
	ls "/proc/$1/fd" | wc -l
}

# fd_count_is PID N - PID has N descriptors open
fd_count_is() {
	[ "$(fd_count "$1")" -eq "$2" ]
}

# own_fds PID - "TARGET cloexec" (or "TARGET inherit") for each socket
# and signalfd PID holds, sorted (bats' own pipes and files are not ours)
own_fds() {
	local fd target flags
	for fd in "/proc/$1/fd/"*; do
		target=$(readlink "$fd") || continue
		case $target in
		socket:*) target=socket ;;
		anon_inode:*) ;;
		*) continue ;;
		esac
		flags=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$1/fdinfo/${fd##*/}")
		# O_CLOEXEC is 02000000 in fdinfo's octal flags
		if (((8#$flags & 8#2000000) != 0)); then
			echo "$target cloexec"
		else
			echo "$target inherit"
		fi
	done | sort
}

# stunnel_conf - $T/stunnel.conf: inetd mode (no accept, no [service]:
# TLS on fd 0 and 1) running $T/http.sh, which answers with the
# environment it got
stunnel_conf() {
	cat >"$T/http.sh" <<'EOF'
#!/bin/sh
# http.sh - read the request head, answer with the environment
cr=$(printf '\r')
while IFS= read -r line; do
	case $line in "" | "$cr") break ;; esac
done
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n'
env | grep -E '^(PROTO|TCP[A-Z]*|SSL_SERVER_NAME|SNITCH_ALPN|REMOTE_HOST|REMOTE_PORT)=' |
    sort
EOF
	cat >"$T/stunnel.conf" <<EOF
; inetd mode: no accept and no [service]; stunnel speaks TLS on fd 0/1
foreground = yes
syslog = no
pid =
cert = $T/cert.pem
key = $T/key.pem
exec = /bin/sh
execArgs = sh $T/http.sh
EOF
	chmod 644 "$T/http.sh" "$T/stunnel.conf"
}

@test "stunnel in inetd mode behind snitch-exec: curl gets the answer, with its own address and the server name" {
	command -v stunnel4 >/dev/null || fail "stunnel4 is not installed (make deps-test)"
	stunnel_conf
	exec_routes
	start_exec exec -- stunnel4 "$T/stunnel.conf"
	start_snitch
	run -0 get_https exec.localhost --http1.1
	local lp
	lp=$(answer local_port)
	assert_line "PROTO=TCP"
	assert_line "TCPREMOTEIP=127.0.0.1"
	assert_line "TCPREMOTEPORT=$lp"
	assert_line "TCPLOCALIP=127.0.0.1"
	assert_line "TCPLOCALPORT=$PORT"
	assert_line "SSL_SERVER_NAME=exec.localhost"
	assert_line "SNITCH_ALPN=http/1.1"
	# what stunnel itself saw on fd 0: the client's own socket
	assert_line "REMOTE_HOST=127.0.0.1"
	assert_line "REMOTE_PORT=$lp"
	wait_until exec_log_has exec \
	    "^snitch-exec\[[0-9]+\]: client=127\.0\.0\.1:$lp name=exec\.localhost pid=[0-9]+ exit=0 duration=[0-9]+\.[0-9]{3}s$"
	# a wildcard name, and curl's HTTP/2 offer (stunnel picks no ALPN)
	run -0 get_https www.exec.localhost --http2
	assert_line "SSL_SERVER_NAME=www.exec.localhost"
	assert_line "SNITCH_ALPN=h2,http/1.1"
	assert_line "REMOTE_PORT=$(answer local_port)"
}

@test "the program gets exactly the UCSPI variables, and only the socket as fd 0 and 1" {
	exec_routes
	# stale values snitch-exec must not pass on
	export TCPREMOTEHOST=stale.example TCPREMOTEINFO=stale \
	    TCPLOCALHOST=stale.example SSL_SERVER_NAME=stale.example \
	    SNITCH_ALPN=stale
	start_exec exec -- /bin/sh -c \
	    "env >$T/env.tmp.\$\$ && mv $T/env.tmp.\$\$ $T/env.\$\$; $(hold_program)"
	start_snitch
	tls --name env.exec.localhost --alpn h2,http/1.1 --print-local \
	    >"$T/client.out" 2>&1 &
	track_pid $!
	wait_until held_count 1
	local pid lp fd0 fd1 ino
	pid=$(head -n 1 "$T/held")
	wait_until test -s "$T/env.$pid"
	# nothing open but 0, 1 and 2; 0 and 1 the client's TCP socket
	run -0 ls "/proc/$pid/fd"
	assert_output $'0\n1\n2'
	fd0=$(readlink "/proc/$pid/fd/0")
	fd1=$(readlink "/proc/$pid/fd/1")
	assert_equal "$fd1" "$fd0"
	[[ $fd0 =~ ^socket:\[([0-9]+)\]$ ]]
	ino=${BASH_REMATCH[1]}
	lp=$(sed -n 's/^from=127\.0\.0\.1://p' "$T/client.out")
	run -0 ss -Htne state established "( sport = :$PORT and dport = :$lp )"
	assert_output --partial " ino:$ino "
	run -0 bash -c "grep -E '^(PROTO|TCP[A-Z]*|SSL_SERVER_NAME|SNITCH_ALPN)=' '$T/env.$pid' | sort"
	assert_output - <<EOF
PROTO=TCP
SNITCH_ALPN=h2,http/1.1
SSL_SERVER_NAME=env.exec.localhost
TCPLOCALIP=127.0.0.1
TCPLOCALPORT=$PORT
TCPREMOTEIP=127.0.0.1
TCPREMOTEPORT=$lp
EOF
	touch "$T/release"
	wait_until exec_log_has exec "client=127\.0\.0\.1:$lp name=env\.exec\.localhost pid=$pid exit=0 "

	# no server name and no ALPN: both variables unset
	run tls --print-local
	lp=$(client_port)
	wait_until exec_log_has exec "client=127\.0\.0\.1:$lp name=- pid=[0-9]+ exit=0 "
	pid=$(sed -nE "s/.*client=127\.0\.0\.1:$lp name=- pid=([0-9]+) exit=0 .*/\1/p" \
	    "$T/exec-exec.log")
	run -0 bash -c "grep -E '^(PROTO|TCP[A-Z]*|SSL_SERVER_NAME|SNITCH_ALPN)=' '$T/env.$pid' | sort"
	assert_output - <<EOF
PROTO=TCP
TCPLOCALIP=127.0.0.1
TCPLOCALPORT=$PORT
TCPREMOTEIP=127.0.0.1
TCPREMOTEPORT=$lp
EOF

	# ALPN protocols with a comma or a control byte are left out
	run hostile --name alpn.exec.localhost \
	    --alpn 'h2,a\x2cb,bad\x01,http/1.1' --print-local
	lp=$(client_port)
	wait_until exec_log_has exec "client=127\.0\.0\.1:$lp name=alpn\.exec\.localhost pid=[0-9]+ exit=0 "
	pid=$(sed -nE "s/.*client=127\.0\.0\.1:$lp name=alpn\.exec\.localhost pid=([0-9]+) exit=0 .*/\1/p" \
	    "$T/exec-exec.log")
	run -0 grep -E '^SNITCH_ALPN=' "$T/env.$pid"
	assert_output "SNITCH_ALPN=h2,http/1.1"
}

@test "IPv6: the addresses come without brackets" {
	have_ipv6_lo || skip "::1 is not configured on lo"
	PORT=$(free_port v6)
	LISTEN="127.0.0.1:$PORT [::1]:$PORT"
	exec_routes
	start_exec exec -- /bin/sh -c \
	    "env >$T/env.tmp.\$\$ && mv $T/env.tmp.\$\$ $T/env.\$\$"
	start_snitch
	run tls --host ::1 --name v6.exec.localhost --print-local
	local lp pid
	lp=$(client_port)
	wait_until exec_log_has exec "client=\[::1\]:$lp name=v6\.exec\.localhost pid=[0-9]+ exit=0 "
	pid=$(sed -nE "s/.*client=\[::1\]:$lp name=v6\.exec\.localhost pid=([0-9]+) exit=0 .*/\1/p" \
	    "$T/exec-exec.log")
	run -0 grep -E '^TCP(REMOTE|LOCAL)(IP|PORT)=' "$T/env.$pid"
	assert_line "TCPREMOTEIP=::1"
	assert_line "TCPREMOTEPORT=$lp"
	assert_line "TCPLOCALIP=::1"
	assert_line "TCPLOCALPORT=$PORT"
}

@test "-c 1: a second client gets exactly alert 80 then a FIN, logged; once the first ends, a new one is served" {
	exec_routes
	start_exec exec -c 1 -- /bin/sh -c "$(hold_program)"
	start_snitch
	tls --name exec.localhost >"$T/first.out" 2>&1 &
	track_pid $!
	wait_until held_count 1
	run -0 raw_reply exec.localhost
	assert_output $'15 03 03 00 02 02 50\nfin'
	run -3 tls --name busy.exec.localhost --print-local
	assert_line "alert 80"
	refute_line "reset"
	local lp
	lp=$(client_port)
	wait_until exec_log_has exec \
	    "client=127\.0\.0\.1:$lp name=busy\.exec\.localhost outcome=alert alert=80 reason=busy running=1 refused=2$"
	exec_log_count exec "outcome=alert alert=80 reason=busy" 2
	# the held program ends: its slot serves the next client
	touch "$T/release"
	wait_until exec_log_has exec "pid=$(head -n 1 "$T/held") exit=0 "
	run tls --name next.exec.localhost --print-local
	lp=$(client_port)
	wait_until held_count 2
	wait_until exec_log_has exec "client=127\.0\.0\.1:$lp name=next\.exec\.localhost pid=[0-9]+ exit=0 "
	exec_log_count exec "outcome=alert" 2
}

@test "each program's end is logged with its status or signal; a missing program exits 127, the client sees a close" {
	exec_routes
	add_backend missing missing.localhost
	start_exec exec -- /bin/sh -c \
	    'case $SSL_SERVER_NAME in three.*) exit 3 ;; nine.*) kill -KILL $$ ;; esac'
	start_exec missing -- "$T/no-such-program" arg
	start_snitch
	local lp pid
	run tls --name three.exec.localhost --print-local
	lp=$(client_port)
	wait_until exec_log_has exec \
	    "client=127\.0\.0\.1:$lp name=three\.exec\.localhost pid=[0-9]+ exit=3 duration=[0-9]+\.[0-9]{3}s$"
	run tls --name nine.exec.localhost --print-local
	lp=$(client_port)
	wait_until exec_log_has exec \
	    "client=127\.0\.0\.1:$lp name=nine\.exec\.localhost pid=[0-9]+ signal=9 duration=[0-9]+\.[0-9]{3}s$"
	run tls --name exec.localhost --print-local
	lp=$(client_port)
	wait_until exec_log_has exec \
	    "client=127\.0\.0\.1:$lp name=exec\.localhost pid=[0-9]+ exit=0 duration="

	# the exec fails: logged by the child, exit 127, a FIN for the client
	run -4 tls --name missing.localhost --print-local
	assert_line "closed"
	lp=$(client_port)
	wait_until exec_log_has missing \
	    "client=127\.0\.0\.1:$lp name=missing\.localhost pid=[0-9]+ exit=127 "
	pid=$(sed -nE "s/.*client=127\.0\.0\.1:$lp name=missing\.localhost pid=([0-9]+) exit=127 .*/\1/p" \
	    "$T/exec-missing.log")
	exec_log_has missing \
	    "^snitch-exec\[$pid\]: client=127\.0\.0\.1:$lp name=missing\.localhost pid=$pid: exec $T/no-such-program: No such file or directory$"
	# and it keeps serving
	run -4 tls --name missing.localhost
	assert_output "closed"
	wait_until exec_log_count missing "exit=127 " 2
	alive "${EXEC_PIDS[missing]}"
	alive "${EXEC_PIDS[exec]}"
}

# hold_one - snitch-exec running one held program for one client; its
# pid in HELD_CHILD (touch $T/release to let it end)
hold_one() {
	exec_routes
	start_exec exec -- /bin/sh -c "$(hold_program)"
	start_snitch
	tls --name exec.localhost >"$T/first.out" 2>&1 &
	track_pid $!
	wait_until held_count 1
	HELD_CHILD=$(head -n 1 "$T/held")
}

@test "SIGTERM: no new connection, the running program finishes, exit 0, socket removed" {
	local pid child rc=0
	hold_one
	pid=${EXEC_PIDS[exec]}
	child=$HELD_CHILD
	kill -TERM "$pid"
	wait_until exec_log_has exec "stopping: 1 running, waiting for them"
	wait_until test ! -e "$T/exec.sock"
	# not accepting: snitch finds the backend down
	run -3 tls --name exec.localhost
	assert_output "alert 80"
	# not killed, not exited while its program runs
	alive "$child"
	alive "$pid"
	touch "$T/release"
	wait_until gone "$pid"
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	exec_log_has exec "client=127\.0\.0\.1:[0-9]+ name=exec\.localhost pid=$child exit=0 "
	exec_log_has exec "stopped: 1 started, 0 refused"
	held_count 1
}

@test "a second SIGTERM exits at once, leaving the program running" {
	local pid child rc=0
	hold_one
	pid=${EXEC_PIDS[exec]}
	child=$HELD_CHILD
	kill -TERM "$pid"
	wait_until exec_log_has exec "stopping: 1 running"
	kill -TERM "$pid"
	wait_until gone "$pid"
	wait "$pid" || rc=$?
	assert_equal "$rc" 1
	exec_log_has exec "signal 15 again: exiting now, 1 still running"
	[ ! -e "$T/exec.sock" ]
	alive "$child"
	touch "$T/release"
	wait_until gone "$child"
}

@test "no descriptor leaks: served, refused and failed connections leave the count as it was" {
	WORKERS=1	# one channel, opened by the first connection
	exec_routes
	start_exec exec -c 1 -- /bin/sh -c \
	    "case \$SSL_SERVER_NAME in hold.*) $(hold_program) ;; esac"
	start_snitch
	# not i: bats' own functions set a global i
	local pid=${EXEC_PIDS[exec]} before round
	run tls --name exec.localhost
	wait_until exec_log_count exec " exit=0 " 1
	before=$(fd_count "$pid")
	# its own: the signalfd, the listener and the channel, close-on-exec
	run -0 own_fds "$pid"
	assert_output $'anon_inode:[signalfd] cloexec\nsocket cloexec\nsocket cloexec'
	tls --name hold.exec.localhost >"$T/held.out" 2>&1 &
	track_pid $!
	wait_until held_count 1
	for ((round = 0; round < 5; round++)); do
		run -3 tls --name exec.localhost
		assert_output "alert 80"
	done
	run -0 raw_reply exec.localhost
	touch "$T/release"
	wait_until exec_log_count exec " exit=0 " 2
	for ((round = 0; round < 10; round++)); do
		run tls --name exec.localhost
	done
	wait_until exec_log_count exec " exit=0 " 12
	exec_log_count exec "outcome=alert alert=80 reason=busy" 6
	wait_until fd_count_is "$pid" "$before"
	# every child reaped: no zombie left
	run ps -o pid=,stat= --ppid "$pid"
	assert_output ""
}

# Fairness: -c shared among the clients' netblocks.  snitch sends
# silent clients to snitch-exec, as the SSH recipe does; the clients are
# t/nontls.py bound to a loopback address of their own (127.0.0.2 and
# .3 hold their programs, 127.0.0.1 is greeted and its program ends).

NONTLS_PY=$SNITCH_ROOT/t/nontls.py

# fair_routes - snitch.ini: silent clients to snitch-exec
fair_routes() {
	write_config "silent = exec" "silent_timeout = 200ms"
	add_backend exec exec.localhost
}

# fair_program [trap] - sh code: a client from 127.0.0.2 or .3 is held
# (hold_program; with "trap", the program ignores SIGTERM), any other
# is greeted with "hello ADDRESS" and the program ends
fair_program() {
	local ignore=
	[ "${1:-}" = trap ] && ignore="trap '' TERM; "
	printf 'case $TCPREMOTEIP in 127.0.0.[23]) %s%s ;; esac; echo "hello $TCPREMOTEIP"' \
	    "$ignore" "$(hold_program)"
}

# silent_from ADDRESS OUT - a client from ADDRESS that sends nothing and
# reads until the server closes, in the background; its output in $T/OUT
silent_from() {
	timeout 30 "$PYTHON" "$NONTLS_PY" --port "$PORT" --source "$1" \
	    --timeout 20 >"$T/$2" 2>&1 &
	track_pid $!
}

# from_port OUT - the port of $T/OUT's "from=ADDRESS:PORT", once written
from_port() {
	wait_until grep -q '^from=' "$T/$1"
	sed -n 's/^from=.*://p' "$T/$1"
}

# greeted ADDRESS - a client from ADDRESS gets "hello ADDRESS", then a FIN
greeted() {
	run -0 timeout 30 "$PYTHON" "$NONTLS_PY" --port "$PORT" --source "$1" \
	    --expect "hello $1"
	assert_line "end=fin"
}

@test "fairness: -c 3, three silent clients from 127.0.0.2, then a client from 127.0.0.1 gets its program and its answer" {
	fair_routes
	start_exec exec -c 3 -- /bin/sh -c "$(fair_program)"
	start_snitch
	exec_log_has exec "at most 3 at once, shared among /32 IPv4 and /64 IPv6 netblocks, 3 per netblock$"
	local n
	for n in 1 2 3; do
		silent_from 127.0.0.2 "silent$n.out"
	done
	wait_until held_count 3
	greeted 127.0.0.1
	# room was made by ending one of 127.0.0.2's (SIGTERM)
	wait_until exec_log_has exec "client=127\.0\.0\.1:[0-9]+ name=- pid=[0-9]+ exit=0 "
	exec_log_count exec \
	    "client=127\.0\.0\.2:[0-9]+ name=- pid=[0-9]+ outcome=ended for=127\.0\.0\.1:[0-9]+ running=2 ended=1$" 1
	wait_until exec_log_count exec "client=127\.0\.0\.2:[0-9]+ name=- pid=[0-9]+ signal=15 " 1
	exec_log_count exec "outcome=closed" 0
}

@test "fairness: when all run for one netblock, a client from another ends its newest program (SIGKILL when it ignores SIGTERM) and is served; the busiest's next is refused" {
	fair_routes
	start_exec exec -c 3 -- /bin/sh -c "$(fair_program trap)"
	start_snitch
	local n newest lp
	for n in 1 2 3; do
		silent_from 127.0.0.2 "silent$n.out"
		wait_until held_count "$n"
	done
	newest=$(sed -n 3p "$T/held")
	greeted 127.0.0.1
	lp=$(sed -n 's/^from=127\.0\.0\.1://p' <<<"$output")
	wait_until exec_log_has exec \
	    "client=127\.0\.0\.2:$(from_port silent3.out) name=- pid=$newest outcome=ended for=127\.0\.0\.1:$lp running=2 ended=1$"
	wait_until exec_log_has exec "client=127\.0\.0\.1:$lp name=- pid=[0-9]+ exit=0 "
	# it ignored SIGTERM: killed after the grace, its client gets a FIN
	wait_until exec_log_has exec "pid=$newest signal=9 "
	wait_until grep -q '^end=fin$' "$T/silent3.out"
	alive "$(sed -n 1p "$T/held")"
	alive "$(sed -n 2p "$T/held")"
	# a free slot again: 127.0.0.2 takes it, then is the busiest itself,
	# so its next client is refused, not swapped for one of its own
	silent_from 127.0.0.2 silent4.out
	wait_until held_count 4
	silent_from 127.0.0.2 silent5.out
	wait_until exec_log_has exec \
	    "client=127\.0\.0\.2:$(from_port silent5.out) name=- outcome=closed reason=busy running=3 refused=1$"
	wait_until grep -q '^end=fin$' "$T/silent5.out"
	# and 127.0.0.1 is served again, at the cost of 127.0.0.2's newest
	newest=$(sed -n 4p "$T/held")
	greeted 127.0.0.1
	wait_until exec_log_has exec "client=127\.0\.0\.2:[0-9]+ name=- pid=$newest outcome=ended for=127\.0\.0\.1:[0-9]+ running=2 ended=2$"
}

@test "fairness: -C 2: a netblock running its share is refused while others are served" {
	fair_routes
	start_exec exec -c 8 -C 2 -- /bin/sh -c "$(fair_program)"
	start_snitch
	exec_log_has exec "at most 8 at once, shared among /32 IPv4 and /64 IPv6 netblocks, 2 per netblock$"
	silent_from 127.0.0.2 silent1.out
	wait_until held_count 1
	silent_from 127.0.0.2 silent2.out
	wait_until held_count 2
	silent_from 127.0.0.2 silent3.out
	wait_until exec_log_has exec \
	    "client=127\.0\.0\.2:$(from_port silent3.out) name=- outcome=closed reason=source running=2 refused=1$"
	wait_until grep -q '^end=fin$' "$T/silent3.out"
	# another address is another netblock
	silent_from 127.0.0.3 silent4.out
	wait_until held_count 3
	greeted 127.0.0.1
	held_count 3
	exec_log_count exec "outcome=closed" 1
}

@test "fairness: -n 31 puts 127.0.0.2 and .3 in one netblock; -C 1" {
	fair_routes
	start_exec exec -c 8 -C 1 -n 31 -- /bin/sh -c "$(fair_program)"
	start_snitch
	exec_log_has exec "at most 8 at once, shared among /31 IPv4 and /64 IPv6 netblocks, 1 per netblock$"
	silent_from 127.0.0.2 silent1.out
	wait_until held_count 1
	silent_from 127.0.0.3 silent2.out
	wait_until exec_log_has exec \
	    "client=127\.0\.0\.3:$(from_port silent2.out) name=- outcome=closed reason=source running=1 refused=1$"
	# 127.0.0.1 is in 127.0.0.0/31
	greeted 127.0.0.1
	held_count 1
}

@test "fairness: bad -C and -n are refused with the usage" {
	local bad
	for bad in "-C -1" "-C 4097" "-n 33" "-n 32:129" "-n 24:" "-n :64" "-n 24x"; do
		# word splitting wanted: an option and its value
		# shellcheck disable=SC2086
		run -1 "$SNITCH_EXEC" $bad -s "$T/x.sock" -- /bin/true
		assert_output --partial "usage: snitch-exec"
	done
}
