#!/usr/bin/env bash
# route.sh - run bench-route, print its results, and put them in the route
# section of bench/RESULTS.md (make bench-route).
#
# Usage: route.sh BENCH_ROUTE_BINARY.  The section "## Route table (make
# bench-route)" is the last of RESULTS.md: this replaces it with the new
# run (date, machine, output); the rest of the file is left as it is.
set -euo pipefail

BIN=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}
HEADING='## Route table (make bench-route)'

out=$("$BIN") || {
	status=$?
	echo "$out"
	echo "bench-route failed (exit $status)" >&2
	exit "$status"
}
echo "$out"

section=$(
	printf '%s\n\n' "$HEADING"
	printf 'common/names.c with 1,000,000 patterns (bench/route.c), %s,\n' \
	    "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	printf 'on %s x %s, %s; `make bench-route`.\n\n' "$(nproc)" \
	    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	    "$(uname -sr)"
	printf '```\n%s\n```\n' "$out"
)
if [ -f "$RESULTS" ]; then
	awk -v h="$HEADING" '$0 == h { exit } { print }' "$RESULTS" \
	    >"$RESULTS.tmp"
	# no blank line pile-up where the old section was
	sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$RESULTS.tmp"
	printf '\n%s\n' "$section" >>"$RESULTS.tmp"
else
	printf '# SNItch benchmark results\n\n%s\n' "$section" >"$RESULTS.tmp"
fi
mv "$RESULTS.tmp" "$RESULTS"
echo "(written to ${RESULTS#"$ROOT"/})"
