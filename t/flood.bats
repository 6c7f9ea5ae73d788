#!/usr/bin/env bats
# flood.bats - floods of idle and half-sent connections never lock out
# real clients (snitch.ini(5): max_pending, max_pending_per_source,
# source_netblock_ipv4, pressure_threshold, pressure_peek_timeout,
# pressure_first_byte_timeout).
#
# t/flood.py holds the flood: connections from a range of loopback
# addresses (Linux lets any 127.x.y.z be used on lo), each stalled after
# the first 40 bytes of a ClientHello, or silent.  A worker whose table
# is full does not stop accepting: it evicts the connection that has
# waited longest from the source netblock with the most peeking ones,
# with a FIN, and counts it (`evicted` in snitch -s and /metrics, an
# access line with reason=full or reason=per-source, and at most about
# one summary line a second in the error log).  A netblock over
# max_pending_per_source loses its own oldest.  Above pressure_threshold
# percent of the table, incomplete hellos get pressure_peek_timeout and
# connections that sent nothing pressure_first_byte_timeout.  Only a
# table of connections that cannot be evicted (handed and not yet
# acknowledged, or queued for a busy backend) pauses accepting.  The
# master raises the soft descriptor limit to the hard one.
#
# Both limits are per worker: one worker here, so counts are exact.
# defer_accept is off so that a silent connection takes its slot at
# once, and peek_timeout is 30 s so that nothing times out by
# peek_timeout within a test.  The real clients are curl, bound to a
# source address with --interface, given 10 s: the assertion is that
# they were served, not how fast.

load lib
load lib_faults

setup() {
	snitch_setup
	WORKERS=1
	PEEK_TIMEOUT=30s
	start_demo alpha
}

# NO_PRESSURE - config lines that keep deadlines from tightening, for the
# tests of eviction alone: evictions, not timeouts, must empty the table
# flooded_config LINE... - the config of start_flooded, not started
flooded_config() {
	write_config "defer_accept = off" "$@"
	stats_on
	add_backend alpha alpha.localhost
}

# start_flooded LINE... - snitch with one worker, a stats socket, these
# [snitch] lines, defer_accept off and the backend alpha
start_flooded() {
	flooded_config "$@"
	start_counted
}

# start_counted - start_snitch, once its probe is counted
start_counted() {
	start_snitch
	wait_until has_workers 1
	# start_snitch's probe (a connect, then a close) is counted first
	wait_until counter_is accepted 1
	wait_until counter_is client_gone 1
}

# flood NAME COUNT SOURCES [ARGS...] - t/flood.py in the background (held
# up to 60 s; tracked), its output in $T/flood-NAME.out and its tallies in
# $T/flood-NAME.status; returns once all COUNT are connected

# flood_has NAME TEXT - the tallies of flood NAME are TEXT
# ("open=N eof=N reset=N data=N still=N")
flood_has() {
	local got
	got=$(cat "$T/flood-$1.status")
	[ "$got" = "$2" ] && return 0
	echo "flood $1: $got, not $2"
	return 1
}

# served_from SOURCE [ADDRESS] - curl from SOURCE to ADDRESS (default
# 127.0.0.1) gets alpha's answer within CLIENT_TIMEOUT seconds (10)
served_from() {
	run curl -sSk -m "${CLIENT_TIMEOUT:-10}" --interface "$1" \
	    --resolve "alpha.localhost:$PORT:[${2:-127.0.0.1}]" \
	    "https://alpha.localhost:$PORT/"
	assert_success
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
}

# access_lines PATTERN - access lines of evictions matching the regex
access_lines() {
	grep -E -- "outcome=evicted" "$T/snitch.log" | grep -cE -- "$1" || true
}

# summary_lines - the error log's eviction summaries ("evicted N stalled
# connections, ...")
summary_lines() {
	grep -cE -- "evicted [0-9]+ [a-z ]*connections?" "$T/snitch.log" ||
	    true
}

# summary_total - the sum of the counts of the eviction summaries
summary_total() {
	sed -nE 's/.*evicted ([0-9]+) [a-z ]*connections?.*/\1/p' \
	    "$T/snitch.log" | awk '{ n += $1 } END { print n + 0 }'
}

@test "a full table evicts: a real client is served while 200 stalled half-hellos from 40 addresses hold it" {
	local started=$SECONDS evicted elapsed summaries
	start_flooded "max_pending = 32" "${NO_PRESSURE[@]}"
	flood half 200 127.0.2.1-127.0.2.40
	served_from 127.0.0.1

	# every stalled one was accepted, and the table holds 32 at most:
	# the others were evicted (none timed out: peek_timeout is 30 s)
	evicted=$(counter evicted)
	echo "evicted $evicted"
	[ -n "$evicted" ] && [ "$evicted" -ge 168 ]
	[ "$(counter pending)" -le 32 ]
	assert_equal "$(counter timeout)" 0
	assert_equal "$(counter handoff)" 1
	stats_add_up "$(snitch_stats)"

	# the same figure on /metrics
	run -0 curl -sS -m 5 --unix-socket "$T/stats.sock" \
	    http://localhost/metrics
	assert_line "snitch_connections_total{outcome=\"evicted\"} $evicted"

	# one access line each, all for a full table
	wait_until eval '[ "$(access_lines .)" = "$evicted" ]'
	assert_equal "$(access_lines ' reason=full( |$)')" "$evicted"
	assert_equal "$(access_lines 'name=- backend=- outcome=evicted ')" \
	    "$evicted"

	# a few summary lines in the error log, whatever the number evicted:
	# about one a second for the one worker
	wait_until eval '[ "$(summary_lines)" -ge 1 ]'
	elapsed=$((SECONDS - started))
	summaries=$(summary_lines)
	echo "$summaries summary lines in $elapsed s"
	[ "$summaries" -le $((elapsed + 2)) ]
	[ "$summaries" -lt "$evicted" ]
	# and together they count every eviction
	wait_until eval '[ "$(summary_total)" = "$evicted" ]'

	# each evicted client saw a FIN: no reset, no byte
	wait_until flood_has half \
	    "open=200 eof=$evicted reset=0 data=0 still=$((200 - evicted))"
}

@test "an evicted connection gets a FIN: no reset, no alert, half-hello or silent" {
	start_flooded "max_pending = 4" "${NO_PRESSURE[@]}"
	# 10 half-hellos: 6 make room for the next, 4 stay
	flood half 10 127.0.2.1-127.0.2.5
	wait_until counter_is evicted 6
	wait_until flood_has half "open=10 eof=6 reset=0 data=0 still=4"
	# 10 silent ones from other addresses: each evicts one more
	flood silent 10 127.0.5.1-127.0.5.5 --mode silent
	wait_until counter_is evicted 16
	assert_equal "$(counter pending)" 4
	wait_until eval 'grep -qx "open=10 eof=[0-9]* reset=0 data=0 still=[0-9]*" \
	    "$T/flood-silent.status"'
	# both floods together: 16 FINs, 4 still open
	local half silent
	half=$(cat "$T/flood-half.status")
	silent=$(cat "$T/flood-silent.status")
	echo "half: $half; silent: $silent"
	[[ $half =~ eof=([0-9]+).*still=([0-9]+) ]]
	local eof=${BASH_REMATCH[1]} still=${BASH_REMATCH[2]}
	[[ $silent =~ eof=([0-9]+).*still=([0-9]+) ]]
	assert_equal $((eof + BASH_REMATCH[1])) 16
	assert_equal $((still + BASH_REMATCH[2])) 4
	assert_equal "$(counter timeout)" 0
	stats_add_up "$(snitch_stats)"
	served_from 127.0.0.1
}

@test "max_pending_per_source: a source over its share loses its own oldest, and its real client is served" {
	start_flooded "max_pending = 1000" "max_pending_per_source = 4" \
	    "${NO_PRESSURE[@]}"
	flood half 10 127.0.3.1
	wait_until counter_at_least accepted 11
	wait_until counter_at_least evicted 6
	echo "evicted $(counter evicted)"
	assert_equal "$(counter pending)" 4
	wait_until eval '[ "$(access_lines " reason=per-source( |$)")" -ge 6 ]'
	assert_equal "$(access_lines ' reason=full( |$)')" 0
	# a real client from the same source makes room for itself, and one
	# from elsewhere is not touched
	served_from 127.0.3.1
	served_from 127.0.0.1
	assert_equal "$(counter handoff)" 2
	assert_equal "$(counter timeout)" 0
	stats_add_up "$(snitch_stats)"
	local evicted
	evicted=$(counter evicted)
	wait_until flood_has half \
	    "open=10 eof=$evicted reset=0 data=0 still=$((10 - evicted))"
}

@test "source_netblock_ipv4 = 24: ten addresses of one /24 share the per-source limit" {
	start_flooded "source_netblock_ipv4 = 24" "max_pending_per_source = 4" \
	    "${NO_PRESSURE[@]}"
	flood half 10 127.0.4.1-127.0.4.10
	wait_until counter_at_least accepted 11
	wait_until counter_at_least evicted 6
	assert_equal "$(counter pending)" 4
	wait_until eval '[ "$(access_lines " reason=per-source( |$)")" -ge 6 ]'
	served_from 127.0.4.11
}

@test "IPv6: connections from ::1 share the per-source limit" {
	have_ipv6_lo || skip "no ::1"
	PORT=$(free_port v6)
	LISTEN="127.0.0.1:$PORT [::1]:$PORT"
	start_flooded "max_pending_per_source = 4" "${NO_PRESSURE[@]}"
	flood half 10 ::1 --host ::1
	wait_until counter_at_least accepted 11
	wait_until counter_at_least evicted 6
	assert_equal "$(counter pending)" 4
	wait_until eval '[ "$(access_lines " reason=per-source( |$)")" -ge 6 ]'
	served_from ::1 ::1
	served_from 127.0.0.1
	local evicted
	evicted=$(counter evicted)
	wait_until flood_has half \
	    "open=10 eof=$evicted reset=0 data=0 still=$((10 - evicted))"
}

@test "the default netblock is one IPv4 address: ten addresses, four each, none evicted" {
	start_flooded "max_pending_per_source = 4" "${NO_PRESSURE[@]}"
	flood half 10 127.0.4.1-127.0.4.10
	wait_until counter_is accepted 11
	wait_until counter_is pending 10
	assert_equal "$(counter evicted)" 0
	run -0 cat "$T/flood-half.status"
	assert_output "open=10 eof=0 reset=0 data=0 still=10"
}

@test "a table full of handed, unacknowledged connections: none evicted, accepting pauses, then resumes" {
	flooded_config "max_pending = 4" "${NO_PRESSURE[@]}"
	add_backend stuck stuck.localhost
	# version 2, and never acknowledges: each handoff keeps its slot
	# until the worker gives up on the acknowledgement (10 s)
	"$PYTHON" "$BUSY_PY" stuck2 "$T/stuck.sock" </dev/null \
	    >>"$T/stuck.log" 2>&1 3>&- &
	track_pid "$!"
	wait_until unix_listening "$T/stuck.sock"
	start_counted
	busy_crowd "$T/crowd.out" stuck.localhost 4 30
	track_pid "$CROWD_PID"
	wait_until eval '[ "$(grep -c "backend=stuck outcome=handoff" "$T/snitch.log")" = 4 ]'
	wait_until counter_is pending 4
	# stalled ones wait in the backlog: nothing is accepted to evict
	# a handed connection for them
	flood half 10 127.0.2.1-127.0.2.10
	sleep 1
	assert_equal "$(counter accepted)" 5
	assert_equal "$(counter evicted)" 0
	assert_equal "$(counter pending)" 4
	# once the four are the backend's, the worker accepts again: the
	# stalled ones, then a real client behind them, which is served
	CLIENT_TIMEOUT=30 served_from 127.0.0.1
	assert_equal "$(counter accepted)" 16
	[ "$(counter evicted)" -ge 7 ]
	refute log_has "outcome=evicted .*backend=stuck"
	refute log_has "backend=stuck outcome=evicted"
	stats_add_up "$(snitch_stats)"
}

@test "under pressure, half-hellos get pressure_peek_timeout: closed early although peek_timeout is 30 s" {
	start_flooded "max_pending = 20" "pressure_threshold = 50" \
	    "pressure_peek_timeout = 1s"
	flood half 15 127.0.2.1-127.0.2.15
	wait_until counter_at_least accepted 16
	# 15 of 20 is over 50 %: at least the 5 over the line time out
	wait_for 10 counter_at_least timeout 5
	echo "timeout $(counter timeout)"
	assert_equal "$(counter evicted)" 0
	wait_until eval 'grep -qE "^open=15 eof=([5-9]|1[0-5]) reset=0 data=0 " \
	    "$T/flood-half.status"'
	stats_add_up "$(snitch_stats)"
}

@test "below pressure_threshold, stalled half-hellos keep peek_timeout" {
	start_flooded "max_pending = 20" "pressure_threshold = 50" \
	    "pressure_peek_timeout = 1s"
	flood half 5 127.0.2.1-127.0.2.5
	wait_until counter_is pending 5
	# three times pressure_peek_timeout: nothing ended
	sleep 3
	assert_equal "$(counter timeout)" 0
	assert_equal "$(counter pending)" 5
	run -0 cat "$T/flood-half.status"
	assert_output "open=5 eof=0 reset=0 data=0 still=5"
}

@test "under pressure, silent connections get pressure_first_byte_timeout" {
	start_flooded "max_pending = 20" "pressure_threshold = 50" \
	    "pressure_peek_timeout = 20s" "pressure_first_byte_timeout = 1s"
	flood silent 15 127.0.2.1-127.0.2.15 --mode silent
	wait_until counter_at_least accepted 16
	wait_for 10 counter_at_least timeout 5
	echo "timeout $(counter timeout)"
	assert_equal "$(counter evicted)" 0
	wait_until eval 'grep -qE "^open=15 eof=([5-9]|1[0-5]) reset=0 data=0 " \
	    "$T/flood-silent.status"'
	stats_add_up "$(snitch_stats)"
}

@test "under pressure, half-hellos are not held to pressure_first_byte_timeout" {
	start_flooded "max_pending = 20" "pressure_threshold = 50" \
	    "pressure_peek_timeout = 20s" "pressure_first_byte_timeout = 1s"
	flood half 15 127.0.2.1-127.0.2.15
	wait_until counter_is pending 15
	# each sent its first bytes: the first-byte deadline is not theirs
	sleep 3
	assert_equal "$(counter timeout)" 0
	assert_equal "$(counter pending)" 15
}

@test "below pressure_threshold, silent connections keep peek_timeout" {
	start_flooded "max_pending = 20" "pressure_threshold = 50" \
	    "pressure_first_byte_timeout = 500ms"
	flood silent 5 127.0.2.1-127.0.2.5 --mode silent
	wait_until counter_is pending 5
	sleep 3
	assert_equal "$(counter timeout)" 0
	assert_equal "$(counter pending)" 5
}

@test "under pressure, a silent connection goes to silent at pressure_first_byte_timeout" {
	start_demo quiet
	flooded_config "max_pending = 20" "pressure_threshold = 50" \
	    "silent = quiet" "silent_timeout = 20s" \
	    "pressure_first_byte_timeout = 1s"
	add_backend quiet quiet.localhost
	start_counted
	flood silent 15 127.0.2.1-127.0.2.15 --mode silent
	# handed to quiet long before silent_timeout
	wait_for 10 eval '[ "$(backend_stat quiet handoff)" -ge 5 ]'
	echo "handed to quiet: $(backend_stat quiet handoff)"
	assert_equal "$(counter timeout)" 0
	assert_equal "$(counter evicted)" 0
}

@test "the soft descriptor limit is raised to the hard one" {
	local -a workers
	local pid
	write_config
	add_backend alpha alpha.localhost
	start_snitch_under prlimit --nofile=1024:4096
	wait_until has_workers 1
	assert_equal "$(awk '/^Max open files/ { print $4 }' \
	    "/proc/$SNITCH_PID/limits")" 4096
	mapfile -t workers < <(worker_pids)
	for pid in "${workers[@]}"; do
		assert_equal "$(awk '/^Max open files/ { print $4, $5 }' \
		    "/proc/$pid/limits")" "4096 4096"
	done
	served_from 127.0.0.1
}
