#!/bin/sh
# go_test.sh - the Go package's tests (go/) in TAP, for t/run.
#
# `make tests` installs it as build/t/go_test beside build/go/snitch.test,
# the test binary `go test -c` built (only when a Go toolchain is
# installed: t/deps.sh installs golang-go for `make check`).  One TAP
# line per Go test and subtest: "--- PASS" ok, "--- FAIL" not ok,
# "--- SKIP" ok # skip; the rest of go test's output as comments; the
# plan last; the exit status the test binary's, so that a panic or a
# timeout counts as a failure.
bin=$(dirname "$0")/../go/snitch.test
out=$(mktemp /tmp/snitch-go.XXXXXX) || exit 1
trap 'rm -f "$out"' EXIT
"$bin" -test.v -test.count=1 -test.timeout=100s >"$out" 2>&1
status=$?
awk '
/^ *--- (PASS|FAIL|SKIP): / {
	n++
	if ($2 == "PASS:")
		print "ok " n " " $3
	else if ($2 == "FAIL:")
		print "not ok " n " " $3
	else
		print "ok " n " " $3 " # skip"
	next
}
{ print "# " $0 }
END { print "1.." n }' "$out"
exit "$status"
