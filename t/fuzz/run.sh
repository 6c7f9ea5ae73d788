#!/bin/bash
# run.sh - run the libFuzzer harnesses and print TAP for t/run.
#
#   t/fuzz/run.sh [check]   for each fuzzer: replay the in-tree corpus
#                           (-runs=0), then fuzz FUZZ_SMOKE seconds
#                           (default 20) from a fresh copy of it
#   t/fuzz/run.sh long      each fuzzer FUZZ_TIME seconds (default 600),
#                           all at once, from $FUZZ_DIR/corpus/NAME: a
#                           copy of the in-tree corpus that keeps what
#                           earlier long runs found
#
# New inputs are only ever written under $FUZZ_DIR (default build/fuzz),
# never into t/fuzz/corpus/; `make fuzz` and `make fuzz-check` call this
# after building the fuzzers, and without SNITCH_FUZZ_BUILT=1 it builds
# them itself (`make fuzz-build`).  Crashes, leaks, timeouts (-timeout=10)
# and memory blowups (-rss_limit_mb=2048) fail; the reproducer is in
# $FUZZ_DIR/artifacts/, to be added to the corpus once the bug is fixed.
# Without clang the tests are skipped.  Exit status 1 when one failed.

set -u
cd "$(dirname "$0")/../.." || exit 1

mode=${1:-check}
FUZZ_DIR=${FUZZ_DIR:-build/fuzz}
FUZZ_SMOKE=${FUZZ_SMOKE:-20}
FUZZ_TIME=${FUZZ_TIME:-600}
FUZZERS="clienthello conf ack proxyin httphead"
n=0
failed=0

nfuzzers=$(echo $FUZZERS | wc -w)
case $mode in
check) plan=$((2 * nfuzzers)) ;;	# a replay and a smoke run each
long) plan=$nfuzzers ;;
*) echo "usage: t/fuzz/run.sh [check | long]" >&2; exit 2 ;;
esac

# tap_line OK LABEL - one TAP line
tap_line() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# fuzzer_options NAME - the options of one fuzzer, beyond the common ones
fuzzer_options() {
	case $1 in
	clienthello)
		# the largest hello: HELLO_WIRE_MAX, 16 KiB in 2048 records
		echo "-max_len=26624 -dict=t/fuzz/clienthello.dict" ;;
	conf)
		echo "-max_len=8192 -dict=t/fuzz/conf.dict" ;;
	ack)
		echo "-max_len=1024 -dict=t/fuzz/ack.dict" ;;
	proxyin)
		# past the largest header, PROXYIN_V2_MAX (536), and what follows
		echo "-max_len=1024 -dict=t/fuzz/proxyin.dict" ;;
	httphead)
		# past HTTPHEAD_MAX (8192), so that the bound is reached
		echo "-max_len=8448 -dict=t/fuzz/httphead.dict" ;;
	esac
}

# fuzz NAME LOG ARGS... - run one fuzzer, its output in LOG after the
# command line; its status
fuzz() {
	local name=$1 log=$2
	local -a cmd
	shift 2
	mkdir -p "$FUZZ_DIR/artifacts"
	# shellcheck disable=SC2207
	cmd=("$FUZZ_DIR/${name}_fuzz" -rss_limit_mb=2048 -timeout=10
	    -artifact_prefix="$FUZZ_DIR/artifacts/$name-" -print_final_stats=1
	    $(fuzzer_options "$name") "$@")
	echo "# ${cmd[*]}" >"$log"
	"${cmd[@]}" >>"$log" 2>&1
}

# report NAME LOG STATUS LABEL - the stats lines, a failure's story, TAP
report() {
	local name=$1 log=$2 status=$3 label=$4
	head -n 1 "$log" | sed "s/^# /# $name: /"
	grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | tail -n 1 |
	    sed "s/^/# $name: /"
	grep -E '^Done [0-9]+ runs' "$log" | sed "s/^/# $name: /"
	if [ "$status" -ne 0 ]; then
		echo "# $name: exit status $status; the end of $log:"
		tail -n 40 "$log" | sed 's/^/#   /'
		grep -E 'Test unit written to' "$log" | sed "s/^/# $name: /"
	fi
	tap_line "$status" "$label"
}

if ! command -v clang >/dev/null; then
	for name in $FUZZERS; do
		if [ "$mode" = check ]; then
			echo "ok $((n += 1)) - $name fuzzer: corpus replay # skip clang is not installed (apt-get install clang libclang-rt-14-dev)"
		fi
		echo "ok $((n += 1)) - $name fuzzer: run # skip clang is not installed"
	done
	echo "1..$plan"
	exit 0
fi

if [ "${SNITCH_FUZZ_BUILT:-0}" != 1 ]; then
	make --no-print-directory FUZZ_B="$FUZZ_DIR" fuzz-build 2>&1 |
	    sed 's/^/# /'
	if [ "${PIPESTATUS[0]}" -ne 0 ]; then
		for name in $FUZZERS; do
			[ "$mode" = check ] &&
			    tap_line 1 "$name fuzzer: corpus replay (not built)"
			tap_line 1 "$name fuzzer: run (not built)"
		done
		echo "1..$plan"
		exit 1
	fi
fi

logs="$FUZZ_DIR/logs"
mkdir -p "$logs"
declare -A pid
replay=()

if [ "$mode" = check ]; then
	# the replay reads the in-tree corpus and writes nothing (-runs=0)
	for name in $FUZZERS; do
		fuzz "$name" "$logs/$name-replay.log" -runs=0 \
		    "t/fuzz/corpus/$name"
		replay+=($?)
	done
	for name in $FUZZERS; do
		rm -rf "$FUZZ_DIR/smoke/$name"
		mkdir -p "$FUZZ_DIR/smoke/$name"
		cp t/fuzz/corpus/"$name"/* "$FUZZ_DIR/smoke/$name/"
		fuzz "$name" "$logs/$name-smoke.log" \
		    -max_total_time="$FUZZ_SMOKE" "$FUZZ_DIR/smoke/$name" &
		pid[$name]=$!
	done
	i=0
	for name in $FUZZERS; do
		report "$name" "$logs/$name-replay.log" "${replay[$i]}" \
		    "$name fuzzer: corpus replay"
		wait "${pid[$name]}"
		report "$name" "$logs/$name-smoke.log" $? \
		    "$name fuzzer: $FUZZ_SMOKE s"
		i=$((i + 1))
	done
else
	for name in $FUZZERS; do
		mkdir -p "$FUZZ_DIR/corpus/$name"
		cp -n t/fuzz/corpus/"$name"/* "$FUZZ_DIR/corpus/$name/"
		echo "# $name: $FUZZ_TIME s from $FUZZ_DIR/corpus/$name, log in $logs/$name-long.log"
		fuzz "$name" "$logs/$name-long.log" \
		    -max_total_time="$FUZZ_TIME" "$FUZZ_DIR/corpus/$name" &
		pid[$name]=$!
	done
	for name in $FUZZERS; do
		wait "${pid[$name]}"
		report "$name" "$logs/$name-long.log" $? \
		    "$name fuzzer: $FUZZ_TIME s"
	done
fi
echo "1..$plan"
[ "$failed" -eq 0 ]
