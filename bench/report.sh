#!/usr/bin/env bash
# report.sh - bench/RESULTS.md from the raw rows bench/run.sh wrote.
#
# Usage: report.sh OUT_DIR RESULTS_FILE, with the run's description in
# the environment (run.sh exports it).  Every number in the report comes
# from OUT_DIR: raw.tsv (one row per bench-load run: rate, bulk and
# relay runs), rss.tsv (memory per phase), idle.tsv (idle connections
# held), ack.tsv (the acknowledgement runs), restart.tsv (the restart
# runs), flood.tsv (the flood runs), proxy.tsv (the PROXY input runs),
# http.tsv (the HTTP routing runs), dribble.tsv (the dribbled hellos).
# Medians are over rounds.  With ONLY=proxy, ONLY=ack, ONLY=restart,
# ONLY=flood, ONLY=http or ONLY=dribble
# (BENCH_ONLY=... bench/run.sh) the run had that phase alone:
# RESULTS_FILE gets its section only.
# The route section of an existing RESULTS_FILE (written by
# bench/route.sh) is kept, and the section of bench/PROFILE.md that says
# what each change to SNItch bought (measured with bench/ab.sh) is
# copied in.
set -euo pipefail

OUT=$1
RESULTS=$2
ROUTE_HEADING='## Route table (make bench-route)'
CHANGES_HEADING='## What each change bought'
PROFILE=$(dirname "$0")/PROFILE.md

route=""
if [ -f "$RESULTS" ]; then
	route=$(awk -v h="$ROUTE_HEADING" '$0 == h { on = 1 } on' "$RESULTS")
fi
if [ -n "${ONLY:-}" ]; then
	awk -F'\t' -f "$(dirname "$0")/stats.awk" -f "$(dirname "$0")/report.awk" \
	    "$OUT/$ONLY.tsv" >"$RESULTS.tmp"
	mv "$RESULTS.tmp" "$RESULTS"
	exit 0
fi
HELLO_X=$("${BUILD:-build}/bench/bench-load" -D -k x25519 | wc -c)
HELLO_M=$("${BUILD:-build}/bench/bench-load" -D -k mlkem | wc -c)
export HELLO_X HELLO_M

{
awk -F'\t' -f "$(dirname "$0")/stats.awk" -f "$(dirname "$0")/report.awk" \
    "$OUT/raw.tsv" "$OUT/rss.tsv" "$OUT/idle.tsv" "$OUT/ack.tsv" \
    "$OUT/restart.tsv" "$OUT/flood.tsv" "$OUT/proxy.tsv" "$OUT/http.tsv" \
    "$OUT/dribble.tsv"

printf '\n## Command\n\n```\n%s\n```\n\nBENCH_ROUNDS=%s BENCH_SECONDS=%s BENCH_IDLE=%s BENCH_IDLE_ROUNDS=%s BENCH_ACK_ROUNDS=%s BENCH_RESTART_ROUNDS=%s BENCH_FLOOD=%s BENCH_PROXY_ROUNDS=%s BENCH_PROXY_SECONDS=%s BENCH_PROXY_VERSIONS="%s" BENCH_HTTP_ROUNDS=%s BENCH_HTTP_SECONDS=%s BENCH_DRIBBLE_ROUNDS=%s BENCH_DRIBBLE_HELLOS=%s; run as %s.\n' \
    "$COMMAND" "$ROUNDS" "$SECS" "$IDLE" "$IDLE_ROUNDS" "$ACK_ROUNDS" \
    "$RESTART_ROUNDS" "$FLOOD_N" "$PROXY_ROUNDS" "$PROXY_SECS" \
    "$PROXY_VERSIONS_LIST" "$HTTP_ROUNDS" "$HTTP_SECS" "$DRIBBLE_ROUNDS" \
    "$DRIBBLE_N" "$(id -un)"
# the section up to the next "## " heading, from bench/PROFILE.md
printf '\n'
awk -v h="$CHANGES_HEADING" '/^## / { on = ($0 == h) } on' "$PROFILE"
if [ -n "$route" ]; then
	printf '\n%s\n' "$route"
else
	printf '\n%s\n\nNot run yet: `make bench-route`.\n' "$ROUTE_HEADING"
fi
} >"$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
