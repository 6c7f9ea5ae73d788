#!/usr/bin/env bats
# log_block.bats - a log destination that takes nothing does not stop
# routing.
#
# doc/operating.md, "Logs": every log line goes out in one write that
# cannot wait (common/logsink.c); a line its destination cannot take now
# is dropped whole and counted (log_dropped in snitch -s,
# snitch_log_lines_dropped_total in /metrics), and once the destination
# takes lines again, one line says how many were dropped.
#
# stderr: snitch in the foreground with -v and the access log on stderr,
# a FIFO whose only reader never reads and whose buffer is one page
# (F_SETPIPE_SZ): a hundred connections fill it many times over.  Real
# clients must still be routed and log_dropped must be above 0; once a
# reader drains the FIFO, the "dropped N lines" line comes, and every
# line is whole (never half of one worker's line glued to another's).
#
# The access log a FIFO (a log shipper's) nobody reads: the master makes
# its own description of it non-blocking, with the same outcome.
#
# syslog (root only: a mount namespace): access_log = syslog, with
# /dev/log a datagram socket nobody reads, bind-mounted in snitch's own
# mount namespace; its queue holds net.unix.max_dgram_qlen datagrams.
#
# Every wait is bounded: before logsink.c the workers hung in write(2)
# or syslog(3), and these tests failed on their clients' timeouts.

load lib
load lib_faults

setup() {
	snitch_setup
	start_demo alpha
}

# hold_fifo PATH - a FIFO at PATH of one page, held open by a process
# that never reads it (its pid tracked)
hold_fifo() {
	mkfifo -m 600 "$1"
	"$PYTHON" - "$1" 3>&- <<'EOF' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, 1031, 4096)	# F_SETPIPE_SZ: the smallest, one page
while True:
    time.sleep(60)
EOF
	track_pid $!
}

# hold_devlog PATH OUT - a datagram socket at PATH (mode 666) that
# receives nothing until the file OUT.go exists, then writes each
# datagram to OUT, a line each (its pid tracked)
hold_devlog() {
	"$PYTHON" - "$1" "$2" 3>&- <<'EOF' &
import os, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
while not os.path.exists(out + ".go"):
    time.sleep(0.05)
with open(out, "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
EOF
	track_pid $!
	wait_until test -S "$1"
}

# knock N - N connections that each send one byte of a record and close:
# one access line each (client-gone), and nothing waits on the worker
knock() {
	"$PYTHON" - "$PORT" "$1" <<'EOF'
import socket, sys
for _ in range(int(sys.argv[2])):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(b"\x16")
    s.close()
EOF
}

# routed N - N real clients for alpha.localhost, each handed to alpha
routed() {
	local count=$1 done_count
	# not i: run's version check (bats_version_lt) sets a global i
	for ((done_count = 0; done_count < count; done_count++)); do
		run -0 tls --name alpha.localhost
		assert_line "backend=alpha"
	done
}

# knock_until_log FILE - a connection at a time until FILE has a
# "dropped N lines" line (at most once a second per worker: 5 s)
knock_until_log() {
	knock 1 && grep -qE 'logsink_report: dropped [1-9][0-9]* lines' "$1"
}

# flood_log - far more lines than a page holds (about 20 access lines),
# then real clients, still routed; some lines must have been dropped
flood_log() {
	knock 100
	routed 5
	[ "$(counter log_dropped)" -gt 0 ] ||
	    fail "log_dropped is not above 0: $(snitch_stats)"
}

# drain FIFO - a reader for FIFO at last, into $T/drained.log
drain() {
	cat "$1" >"$T/drained.log" 3>&- &
	track_pid $!
}

@test "stderr a pipe nobody reads: clients are routed, dropped lines counted, then reported" {
	local fifo=$T/stderr.fifo
	hold_fifo "$fifo"
	write_config "stats = $T/stats.sock"
	add_backend alpha alpha.localhost
	"$SNITCH" -v -c "$T/snitch.ini" </dev/null >>"$T/snitch.log" \
	    2>"$fifo" 3>&- &
	SNITCH_PID=$!
	wait_until tcp_accepts 127.0.0.1 "$PORT"
	wait_until has_workers 2
	# a page of stderr holds about 20 access lines: fill it many times
	flood_log
	# drain it: the next lines go, the first of them says what was lost
	drain "$fifo"
	wait_until knock_until_log "$T/drained.log"
	routed 1
	# every line whole, each starting with its process's prefix
	run -1 grep -vE '^snitch(-worker|-stats)?\[[0-9]+\]: ' "$T/drained.log"
}

@test "access_log a FIFO nobody reads: clients are routed, dropped lines counted" {
	local fifo=$T/access.fifo
	hold_fifo "$fifo"
	chmod 666 "$fifo"
	write_config "stats = $T/stats.sock" "access_log = $fifo"
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 2
	flood_log
	# drained, it takes whole lines again
	drain "$fifo"
	routed 1
	wait_until grep -q ' outcome=handoff ' "$T/drained.log"
	run -1 grep -vE '^(time=|snitch-worker\[[0-9]+\]: )' "$T/drained.log"
}

@test "syslog nobody reads: clients are routed, dropped lines counted, then reported" {
	is_root || skip "a mount namespace for /dev/log needs root"
	hold_devlog "$T/devlog.sock" "$T/syslog.log"
	mkdir "$T/dev"
	touch "$T/dev/null" "$T/dev/log"
	write_config "stats = $T/stats.sock" "access_log = syslog"
	add_backend alpha alpha.localhost
	# /dev/log, in snitch's own mount namespace only: a /dev of two files
	start_snitch_under unshare -m --propagation private sh -ec '
		mount --bind /dev/null "$0/dev/null"
		mount --bind "$0/devlog.sock" "$0/dev/log"
		mount --rbind "$0/dev" /dev
		exec "$@"' "$T"
	wait_until has_workers 2
	flood_log
	touch "$T/syslog.log.go"
	wait_until knock_until_log "$T/syslog.log"
	routed 1
	# as glibc's syslog(3) writes them: daemon.info, daemon.warning
	local head='[A-Z][a-z]{2} [ 1-3][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} snitch-worker\[[0-9]+\]: '
	run -0 grep -E "^<30>${head}time=.* name=alpha\.localhost backend=alpha outcome=handoff " "$T/syslog.log"
	run -0 grep -E "^<28>${head}logsink_report: dropped [1-9][0-9]* lines" "$T/syslog.log"
}
