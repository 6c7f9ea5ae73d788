#!/usr/bin/env bash
# ab.sh - A/B benchmark of SNItch builds and configs, side by side.
#
# Usage: bench/ab.sh [-r ROUNDS] [-s SECONDS] [-c CONCURRENCY]
#            NAME=BUILD_DIR[:CONFIG_LINE[;CONFIG_LINE...]] ...
# e.g.   bench/ab.sh -r 5 -s 4 old=/tmp/old/build \
#            new-nodefer=build:'defer_accept = off' new=build
#
# Run as root (SNItch runs its workers as nobody, as in bench/run.sh),
# after `make bench-build`: bench-backend and bench-load come from
# $BUILD/bench (BUILD defaults to build/), each variant's snitch and
# snitch-worker from its own BUILD_DIR (a path without ':').
# CONFIG_LINEs are added to the variant's [snitch] section; one that sets
# a key of the base config (workers, peek_timeout, handoff_timeout,
# max_pending, stats) replaces it.  The base config is bench/run.sh's
# SNItch: 2 workers, the same two backends, per-connection log to
# /dev/null.
#
# The two backends and every variant are started once, each variant on
# its own loopback port, and run side by side; "direct" is bench-load
# talking to the backends themselves.  Each round runs every system once
# for SECONDS (after a 0.5 s warm-up) at CONCURRENCY connections with an
# x25519 hello, in an order rotated each round: the machine is shared
# and noisy, so ratios are taken within a round, then the median over
# rounds.  Per run: connections/s, p99 latency and errors (bench-load's
# line), and the CPU of the variant's workers (utime + stime of the
# master's children, /proc/PID/stat) per completed connection.
#
# Prints a markdown report on stdout, progress on stderr.  Everything
# listens on 127.0.0.1 only and everything started is stopped on exit,
# also on failure or Ctrl-C.  Defaults: BENCH_ROUNDS (3), BENCH_SECONDS
# (5), as bench/run.sh; concurrency 20.
set -euo pipefail

AB_DIR=$(dirname "$0")
# shellcheck source=bench/run.sh
. "$AB_DIR/run.sh"

CONC=20
HELLO=x25519
AB_COMMAND=
LOAD=
declare -a VNAME=() VDIR=() VLINES=()

# die - give up with a message (run.sh's, under this script's name)
die() {
	echo "bench/ab.sh: $*" >&2
	exit 1
}

# usage - how to run it, then exit 2
usage() {
	cat >&2 <<'EOF'
usage: bench/ab.sh [-r ROUNDS] [-s SECONDS] [-c CONCURRENCY]
           NAME=BUILD_DIR[:CONFIG_LINE[;CONFIG_LINE...]] ...
EOF
	exit 2
}

# shell_quote ARG - ARG as it would be typed, quoted only when needed
shell_quote() {
	if [[ $1 =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then
		printf '%s' "$1"
	else
		printf "'%s'" "${1//\'/\'\\\'\'}"
	fi
}

# positive_int NAME VALUE - VALUE, checked to be a whole number above 0
positive_int() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a whole number above 0: '$2'"
	echo "$2"
}

# trim TEXT - TEXT without leading and trailing blanks
trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

# parse_variant SPEC - one NAME=BUILD_DIR[:LINE;...] into VNAME, VDIR,
# VLINES (the lines joined by newlines)
parse_variant() {
	local spec=$1 name rest dir lines="" line n
	local -a parts
	[[ $spec == *=* ]] || die "not NAME=BUILD_DIR[:CONFIG_LINE...]: '$spec'"
	name=${spec%%=*}
	rest=${spec#*=}
	# the name becomes a table row and a log word: keep it plain
	[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.+-]*$ ]] ||
	    die "bad variant name '$name' (letters, digits, _ . + -)"
	[ "$name" != direct ] || die "'direct' is the run without a switch"
	for n in "${VNAME[@]}"; do
		[ "$n" != "$name" ] || die "variant '$name' given twice"
	done
	dir=${rest%%:*}
	[ -n "$dir" ] || die "$name: no build directory"
	[ -d "$dir" ] || die "$name: no directory $dir"
	dir=$(cd "$dir" && pwd)
	if [ ! -x "$dir/snitch" ] || [ ! -x "$dir/snitch-worker" ]; then
		die "$name: no snitch and snitch-worker in $dir"
	fi
	if [[ $rest == *:* ]]; then
		IFS=';' read -r -a parts <<<"${rest#*:}"
		for line in "${parts[@]}"; do
			line=$(trim "$line")
			[ -n "$line" ] && lines="$lines$line"$'\n'
		done
	fi
	VNAME+=("$name")
	VDIR+=("$dir")
	VLINES+=("$lines")
}

# config_key LINE - the key of a "key = value" line
config_key() {
	trim "${1%%=*}"
}

# start_variant I - write variant I's config, check it with snitch -t,
# start it on PORT[vI]
start_variant() {
	local i=$1 key="v$1" dir=${VDIR[$1]} workers=$WORKERS line k base
	local -a extra=() lines=()
	local -A given=()
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		k=$(config_key "$line")
		given[$k]=1
		# snitch_config writes workers itself
		if [ "$k" = workers ]; then
			workers=$(trim "${line#*=}")
		else
			extra+=("$line")
		fi
	done <<<"${VLINES[$i]}"
	# run.sh's start_snitch lines, less those the variant sets: a key
	# set twice is a config error
	for base in "peek_timeout = 2m" "handoff_timeout = 2s" \
	    "max_pending = $((IDLE + 240))" "stats = $T/$key-stats.sock"; do
		[ -n "${given[$(config_key "$base")]:-}" ] || lines+=("$base")
	done
	snitch_config "$T/$key.ini" "${PORT[$key]}" "$workers" \
	    "${lines[@]}" "${extra[@]}"
	"$dir/snitch" -c "$T/$key.ini" -t >/dev/null 2>&1 ||
	    die "${VNAME[$i]}: snitch -t: $("$dir/snitch" -c "$T/$key.ini" -t 2>&1)"
	# stderr (a line per connection) to /dev/null, as in run.sh
	launch "$key" /dev/null "$dir/snitch" -c "$T/$key.ini"
}

# workers_of KEY - the pids of a variant's workers (the master's
# children), one a line
workers_of() {
	descendants "${PID[$1]}" | tail -n +2
}

# ab_measure ROUND KEY NAME - one bench-load run of system KEY, one row
# in $T/raw.tsv: round name rate p99 errors all worker_ticks
ab_measure() {
	local round=$1 key=$2 name=$3 line w0=0 w1=0 us=-
	local -a wp=()
	if [ "$key" != direct ]; then
		alive "${PID[$key]}" || die "$name: snitch exited"
		mapfile -t wp < <(workers_of "$key")
		w0=$(cpu_ticks "${wp[@]}")
	fi
	# in the background, so that Ctrl-C reaches the trap at once and
	# the cleanup can stop it
	# shellcheck disable=SC2046
	"$BIN/bench-load" $(target "$key") -o 5000 -c "$CONC" -k "$HELLO" \
	    -d "$SECS" -w "$WARM" >"$T/load.out" 2>"$T/load.err" &
	LOAD=$!
	wait "$LOAD" || die "bench-load against $name: $(cat "$T/load.err")"
	LOAD=
	[ "$key" = direct ] || w1=$(cpu_ticks "${wp[@]}")
	line=$(cat "$T/load.out")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" \
	    "$(kv rate "$line")" "$(kv p99_us "$line")" "$(kv errors "$line")" \
	    "$(kv all "$line")" $((w1 - w0)) >>"$T/raw.tsv"
	echo "$line" >>"$T/load.log"
	[ "$key" = direct ] || us=$(awk -v t=$((w1 - w0)) -v hz="$HZ" \
	    -v n="$(kv all "$line")" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')
	note "round $round $name: $(kv rate "$line")/s, p99 $(kv p99_us "$line") us," \
	    "errors $(kv errors "$line"), worker $us us/conn"
}

# ab_cleanup - stop a running bench-load, then what run.sh's cleanup stops
ab_cleanup() {
	[ -n "$LOAD" ] && stop_tree "$LOAD"
	cleanup
}

# build_rev DIR - the git revision of the tree holding DIR, marked when
# the sources have uncommitted changes (the build may be older still)
build_rev() {
	local top rev
	top=$(git -C "$1" rev-parse --show-toplevel 2>/dev/null) || {
		echo "not in git"
		return
	}
	rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C "$top" diff --quiet HEAD -- common worker master conf backend \
	    2>/dev/null || rev="$rev + uncommitted changes"
	echo "tree $top at git $rev"
}

# report - the markdown report from $T/raw.tsv
report() {
	local i lines
	echo "# SNItch A/B benchmark"
	echo
	echo "Command: \`$AB_COMMAND\`"
	echo
	echo "Date: $DATE. $(nproc) CPUs, $(uname -sr); load average at start" \
	    "$LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "Rounds: $ROUNDS, each running every system once, in a rotated" \
	    "order, for $SECS s after $WARM s of warm-up: $CONC concurrent" \
	    "connections, $HELLO hello.  Backends and load: $BIN."
	echo
	for ((i = 0; i < ${#VNAME[@]}; i++)); do
		# shellcheck disable=SC2016 # the backquotes are markdown
		lines=$(sed -e '/^$/d' -e 's/.*/`&`/' <<<"${VLINES[$i]}" |
		    paste -sd, | sed 's/,/, /g')
		echo "- ${VNAME[$i]}: ${VDIR[$i]} ($(build_rev "${VDIR[$i]}"))${lines:+; $lines}"
	done
	echo
	SYSNAMES="direct ${VNAME[*]}" awk -F'\t' -v hz="$HZ" \
	    -v rounds="$ROUNDS" -f "$AB_DIR/stats.awk" -f "$AB_DIR/ab.awk" \
	    "$T/raw.tsv"
}

# ab_main ARG... - parse the command line, start everything, run the
# rounds, print the report
ab_main() {
	local opt arg i round sys k
	local -a order
	AB_COMMAND="bench/ab.sh"
	for arg in "$@"; do
		AB_COMMAND="$AB_COMMAND $(shell_quote "$arg")"
	done
	while getopts r:s:c:h opt; do
		case $opt in
		r) ROUNDS=$(positive_int ROUNDS "$OPTARG") ;;
		s) SECS=$(positive_int SECONDS "$OPTARG") ;;
		c) CONC=$(positive_int CONCURRENCY "$OPTARG") ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || usage
	[ "$(id -u)" -eq 0 ] || die "run as root (SNItch's workers run as nobody)"
	if [ ! -x "$BIN/bench-load" ] || [ ! -x "$BIN/bench-backend" ]; then
		die "no bench-load and bench-backend in $BIN: make bench-build" \
		    "(or set BUILD)"
	fi
	for arg in "$@"; do
		parse_variant "$arg"
	done

	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	DATE=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
	# as run.sh: every process started here inherits the hard limit
	# (a large -c needs two descriptors a connection in a variant)
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	if [ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -gt 65536 ]; then
		ulimit -n 65536
	fi

	T=$(mktemp -d /tmp/snitch-ab.XXXXXX)
	chmod 755 "$T"
	trap ab_cleanup EXIT
	trap 'exit 1' INT TERM
	: >"$T/raw.tsv"

	SYSTEMS=(direct)
	for ((i = 0; i < ${#VNAME[@]}; i++)); do
		SYSTEMS+=("v$i")
	done
	pick_ports backend_a backend_b "${SYSTEMS[@]:1}"
	note "temp dir $T; ports: $(for k in "${!PORT[@]}"; do printf '%s=%s ' "$k" "${PORT[$k]}"; done)"
	start_backends
	for ((i = 0; i < ${#VNAME[@]}; i++)); do
		start_variant "$i"
	done
	sleep 1

	for ((round = 1; round <= ROUNDS; round++)); do
		mapfile -t order < <(rotate "$round")
		for sys in "${order[@]}"; do
			if [ "$sys" = direct ]; then
				ab_measure "$round" direct direct
			else
				ab_measure "$round" "$sys" "${VNAME[${sys#v}]}"
			fi
		done
	done
	report
}

ab_main "$@"
