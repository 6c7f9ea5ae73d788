#!/usr/bin/env bash
# profile.sh - where a SNItch worker's time goes, per connection, measured.
#
# Usage: bench/profile.sh [SECONDS]  (as root; after make bench-build)
#
# Starts the two bench backends and SNItch as bench/run.sh does (its
# functions are sourced from there), drives SNItch with bench-load (20
# concurrent, x25519 hello) and measures on the worker processes only,
# per handed-off connection (handoffs counted by `snitch -s`):
#  - CPU microseconds (utime + stime from /proc/PID/stat);
#  - system calls, counted with perf's syscalls:sys_enter_* tracepoints
#    (they barely slow the worker); without them, strace -c -f, which
#    slows the worker and so changes how many events each wakeup finds;
#  - with perf record (a software cpu-clock: this VM has no hardware
#    counters), the share of samples under each system call and in user
#    space.
# Prints a report; changes nothing in the tree.
set -euo pipefail

# shellcheck source=bench/run.sh
. "$(dirname "$0")/run.sh"

PROFILE_SECS=${1:-5}
IDLE=${BENCH_IDLE:-10000}
SYSCALLS="accept4 epoll_pwait epoll_ctl recvfrom sendmsg close write getpid getsockname"

# handoffs - SNItch's handoff counter
handoffs() {
	"$BUILD/snitch" -c "$T/snitch.ini" -s | awk '$1 == "handoff" { print $2 }'
}

# profile_syscalls WORKERS - syscalls per handoff while the load runs
profile_syscalls() {
	local wpids=$1 ev="" s h0 h1
	for s in $SYSCALLS; do
		ev="$ev,syscalls:sys_enter_$s"
	done
	if perf stat -x, -e "${ev#,}" -p "$wpids" -o "$T/stat.txt" -- \
	    sleep "$PROFILE_SECS" 2>/dev/null; then
		# one sendmsg per handoff (no backend is ever busy here):
		# exact, where the counter is read a moment off the window
		echo "system calls per handoff (perf tracepoints; handoffs = sendmsg calls):"
		awk -F, '/sys_enter_/ {
			sub("syscalls:sys_enter_", "", $3)
			count[$3] = $1; order[++k] = $3; all += $1
		} END {
			n = count["sendmsg"]
			printf "  %-12s %d\n", "handoffs", n
			for (i = 1; i <= k; i++)
				if (count[order[i]] > 0)
					printf "  %-12s %.2f\n", order[i], count[order[i]] / n
			printf "  %-12s %.2f\n", "all", all / n
		}' "$T/stat.txt"
		return
	fi
	h0=$(handoffs)
	# shellcheck disable=SC2046
	timeout -s INT "$PROFILE_SECS" strace -c -f \
	    $(tr ',' '\n' <<<"$wpids" | sed 's/^/-p /') -o "$T/strace.txt" \
	    2>/dev/null || true
	h1=$(handoffs)
	echo "system calls per handoff (strace -c, $((h1 - h0)) handoffs; strace slows the worker):"
	awk -v n=$((h1 - h0)) '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
		printf "  %-12s %.2f\n", $NF, $4 / n; all += $4
	} END { printf "  %-12s %.2f\n", "all", all / n }' "$T/strace.txt"
}

# profile_samples WORKERS - perf record: where the samples fall
profile_samples() {
	local wpids=$1
	perf record -e cpu-clock -F 4999 -g -p "$wpids" -o "$T/perf.data" -- \
	    sleep "$PROFILE_SECS" >/dev/null 2>&1 || {
		echo "perf record: not available"
		return
	}
	echo "cpu-clock samples: kernel / user, by object:"
	perf report -i "$T/perf.data" --no-children --stdio --sort dso -g none \
	    2>/dev/null | grep -E '^ +[0-9]' | head -5
	echo "samples under each system call (children):"
	perf report -i "$T/perf.data" --children --stdio --sort sym -g none \
	    2>/dev/null | grep -E '\[k\] (__x64_sys_[a-z0-9_]+|__sys_sendmsg)$' |
	    awk '{ print "  " $1, $NF }' | head -10
	echo "user-space functions (self):"
	perf report -i "$T/perf.data" --no-children --stdio --sort sym -g none \
	    2>/dev/null | grep -E '\[\.\]' | awk '{ print "  " $1, $NF }' | head -12
}

profile_main() {
	local wpids m h0 h1 t0 t1 line load
	T=$(mktemp -d /tmp/snitch-profile.XXXXXX)
	chmod 755 "$T"
	trap cleanup EXIT
	pick_ports backend_a backend_b snitch
	start_backends
	start_snitch
	m=${PID[snitch]}
	wpids=$(descendants "$m" | tail -n +2 | paste -sd,)
	echo "snitch $("$BUILD/snitch" -V 2>&1 | head -1), workers $wpids," \
	    "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

	# CPU per connection, nothing attached
	h0=$(handoffs)
	# shellcheck disable=SC2046
	t0=$(cpu_ticks $(tr ',' ' ' <<<"$wpids"))
	line=$("$BIN/bench-load" -t "127.0.0.1:${PORT[snitch]}" -c 20 \
	    -d "$PROFILE_SECS" -w 0)
	# shellcheck disable=SC2046
	t1=$(cpu_ticks $(tr ',' ' ' <<<"$wpids"))
	h1=$(handoffs)
	echo "load: $(cut -d' ' -f1-6 <<<"$line")"
	awk -v t=$((t1 - t0)) -v hz="$HZ" -v n=$((h1 - h0)) 'BEGIN {
		printf "worker CPU: %.1f us per handoff (%d handoffs)\n",
		    t / hz * 1e6 / n, n }'

	# the same load again, with counters and samples attached in turn
	"$BIN/bench-load" -t "127.0.0.1:${PORT[snitch]}" -c 20 \
	    -d $((2 * PROFILE_SECS + 2)) -w 0 >/dev/null &
	load=$!
	sleep 1
	profile_syscalls "$wpids"
	profile_samples "$wpids"
	wait "$load"
}

profile_main
