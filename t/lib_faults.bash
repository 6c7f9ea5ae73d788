# lib_faults.bash - helpers shared by the fault tests (t/faults_*.bats,
# t/soak.bats), loaded with `load lib_faults` after `load lib`.
#
# They add to lib.bash: the client drivers of t/faults_clients.py, the
# counters of `snitch -s` and their invariant, a backend that never
# receives (t/busy.py stuck), and the CPU time and descriptors of a
# process.  Everything started here is given to track_pid, so teardown
# stops it also when a test fails.

FAULTS_PY=$SNITCH_ROOT/t/faults_clients.py
BUSY_PY=$SNITCH_ROOT/t/busy.py

# faults CMD [ARGS...] - t/faults_clients.py CMD against 127.0.0.1:$PORT,
# killed after FAULTS_LIMIT seconds (default 60) whatever it does (fds
# and hello take no port, and 10 s)
faults() {
	local cmd=$1
	shift
	case $cmd in
	fds|hello)
		timeout 10 "$PYTHON" "$FAULTS_PY" "$cmd" "$@"
		return
		;;
	esac
	timeout "${FAULTS_LIMIT:-60}" "$PYTHON" "$FAULTS_PY" "$cmd" \
	    --port "$PORT" "$@"
}

# faults_bg OUT CMD [ARGS...] - faults in the background, stdout in OUT;
# sets FAULTS_PID (tracked), the pid of timeout(1) itself, which passes
# the TERM of teardown on to the driver
faults_bg() {
	local out=$1 cmd=$2
	shift 2
	timeout "${FAULTS_LIMIT:-60}" "$PYTHON" "$FAULTS_PY" "$cmd" \
	    --port "$PORT" "$@" >"$out" 2>&1 3>&- &
	FAULTS_PID=$!
	track_pid "$FAULTS_PID"
}

# wait_pid_for SECONDS PID - wait for our background PID to end, at most
# SECONDS; its exit status, or 124 when it was still running (then killed)
wait_pid_for() {
	local steps=$(($1 * 10)) pid=$2 i
	for ((i = 0; i < steps; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		echo "wait_pid_for: $pid still running after $1 s" >&2
		stop_pid "$pid" 2
		return 124
	fi
	wait "$pid"
}

# stats_on [PATH] - the config gets a stats socket, $T/stats.sock unless
# PATH (call after write_config)
stats_on() {
	sed -i "/^\[snitch\]/a stats = ${1:-$T/stats.sock}" "$T/snitch.ini"
}

# set_key KEY VALUE - replace KEY's line in $T/snitch.ini ([snitch] keys
# write_config writes, e.g. handoff_timeout)
set_key() {
	sed -i "s|^$1 = .*|$1 = $2|" "$T/snitch.ini"
}

# set_fallback BACKEND FALLBACK - [backend BACKEND] gets fallback = FALLBACK
set_fallback() {
	sed -i "/^\[backend $1\]/a fallback = $2" "$T/snitch.ini"
}

# snitch_stats - the counters of the running snitch, "key value" lines
snitch_stats() {
	timeout 5 "$SNITCH" -s -c "$T/snitch.ini"
}

# counter KEY - one counter of the running snitch (empty when unreachable)
counter() {
	snitch_stats 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'
}

# counter_is KEY N - snitch -s has KEY N
counter_is() {
	[ "$(counter "$1")" = "$2" ]
}

# counter_at_least KEY N - snitch -s has KEY N or more
counter_at_least() {
	local n
	n=$(counter "$1")
	[ -n "$n" ] && [ "$n" -ge "$2" ]
}

# backend_stat NAME FIELD - a per-backend counter: handoff, fallback,
# down, busy or errors
backend_stat() {
	snitch_stats 2>/dev/null | awk -v n="$1" -v f="$2" '
	    $1 == "backend" && $2 == n { for (i = 3; i < NF; i += 2)
	        if ($i == f) print $(i + 1) }'
}

# stats_add_up TEXT - the figures of one `snitch -s` answer satisfy
# accepted = handoff + alerts + not_tls + timeout + client_gone + error
# + evicted + lost + pending; prints the sum and the answer when they do not
stats_add_up() {
	awk '
	    $1 == "accepted" { acc = $2; seen = 1 }
	    $1 ~ /^(handoff|alert_[0-9]+|not_tls|timeout|client_gone|error|evicted|lost|pending)$/ {
	        sum += $2; n++ }
	    END {
	        if (!seen || n != 12 || acc != sum) {
	            printf "accepted %s, sum of outcomes %s (%d fields)\n",
	                acc, sum, n
	            exit 1
	        }
	    }' <<<"$1" || {
		echo "$1"
		return 1
	}
}

# pending_is N - the running snitch holds N connections
pending_is() {
	[ "$(counter pending)" = "$1" ]
}

# setup_alpha_beta - one worker, counters on, handoff_timeout 3s, and
# two backends: alpha (the test starts it, or not) and beta, a demo
setup_alpha_beta() {
	snitch_setup
	WORKERS=1
	start_demo beta
	write_config
	stats_on
	set_key handoff_timeout 3s
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost
}

# start_stuck NAME - t/busy.py stuck on $T/NAME.sock: a backend that
# accepts every channel and never receives; its pid in STUCK_PID
start_stuck() {
	"$PYTHON" "$BUSY_PY" stuck "$T/$1.sock" </dev/null \
	    >>"$T/stuck-$1.log" 2>&1 3>&- &
	STUCK_PID=$!
	track_pid "$STUCK_PID"
	wait_until unix_listening "$T/$1.sock"
}

# track_workers - give the master's current workers to track_pid, so
# teardown kills them even after the master is gone
track_workers() {
	local pid
	for pid in $(worker_pids); do
		track_pid "$pid"
	done
}

# workers_of_gen N - the pids of the master's workers of generation N
workers_of_gen() {
	local pid
	for pid in $(worker_pids); do
		ps -o args= -p "$pid" | grep -qE -- "^snitch: worker [0-9]+ gen $1\$" &&
		    echo "$pid"
	done
	return 0
}

# cpu_ticks PID - user + system CPU time of PID, in clock ticks
cpu_ticks() {
	# the fields after the parenthesized command: utime is the 14th
	# field of the line, stime the 15th
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# log_count PATTERN - how many lines of snitch.log match the extended regex
log_count() {
	grep -cE -- "$1" "$T/snitch.log" || true
}

# routes NAME BACKEND - a client for NAME gets BACKEND's answer
routes() {
	[ "$(faults clients --name "$1" 2>/dev/null | head -n 1)" = \
	    "answer $2 $1" ]
}

# count_lines PATTERN FILE - lines of FILE matching the extended regex
count_lines() {
	grep -cE -- "$1" "$2" || true
}

# handover_setup - snitch_setup and the config of the handover suites
# (handover.bats, python.bats): two workers, the stats socket, 3 s for a
# backend to take a handoff, backend alpha for alpha.localhost
handover_setup() {
	snitch_setup
	WORKERS=2
	write_config
	stats_on
	set_key handoff_timeout 3s
	add_backend alpha alpha.localhost
}

# take_over NAME LOG CMD... - a handover of backend NAME: start CMD (a new
# instance that takes $T/NAME.sock over, as nobody when root, its output
# in LOG), wait until the path is the new one's, SIGTERM the old one
# (DEMO_PIDS[NAME]) and wait for it to exit (at most 10 s); OLD: the old
# pid, DEMO_PIDS[NAME]: the new one
take_over() {
	local name=$1 log=$2 sock=$T/$1.sock ino
	shift 2
	OLD=${DEMO_PIDS[$name]}
	track_pid "$OLD"	# stopped by teardown if it hangs
	ino=$(stat -c %i "$sock")
	start_backend "$sock" "$log" "$@" || return 1
	DEMO_PIDS[$name]=$BACKEND_PID
	wait_until eval '[ "$(stat -c %i "$sock")" != "$ino" ]' || return 1
	kill -TERM "$OLD"
	wait_for 10 gone "$OLD"
}

# load_served FILE MIN - `faults_clients.py load` wrote FILE: at least
# MIN clients, every one served, none failed or reset
load_served() {
	run -0 head -n 1 "$1"
	[[ "$output" =~ ^clients\ ([0-9]+)\ ok\ ([0-9]+)\ failed\ 0\ resets\ 0$ ]] ||
	    { cat "$1"; false; }
	[ "${BASH_REMATCH[1]}" -ge "$2" ]
	assert_equal "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
}

# NO_PRESSURE - config lines that keep a flood test's table below
# pressure: its deadlines stay peek_timeout's
NO_PRESSURE=("pressure_threshold = 100" "pressure_peek_timeout = 25s"
    "pressure_first_byte_timeout = 20s")

# flood NAME COUNT SOURCES [ARGS...] - t/flood.py holds COUNT stalled
# connections to $PORT from SOURCES (FIRST-LAST) in the background, with
# ARGS (--mode silent, --host ::1); back once all are connected. Its
# tallies in $T/flood-NAME.status
flood() {
	local name=$1 count=$2 sources=$3
	shift 3
	"$PYTHON" "$SNITCH_ROOT/t/flood.py" --port "$PORT" --count "$count" \
	    --sources "$sources" --hold 60 --ready "$T/flood-$name.ready" \
	    --status "$T/flood-$name.status" "$@" \
	    </dev/null >"$T/flood-$name.out" 2>&1 3>&- &
	track_pid "$!"
	wait_for 20 test -f "$T/flood-$name.ready" || {
		cat "$T/flood-$name.out"
		return 1
	}
}
