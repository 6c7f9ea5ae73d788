#!/usr/bin/env bats
# logs.bats - the access log, its destinations, log_level, process titles.
#
# Each access line is checked field by field against what the client
# knows of itself: its own address (tls.py --print-local), the size and
# record count of the hello it sent (--print-hello), the ALPN it offered,
# and the listener it connected to; the worker's index against that
# worker's process title.  access_log = FILE is rotated the way logrotate
# does it (mv, a new empty file, SIGUSR1) under a steady stream of
# clients, and every connection must be in exactly one of the two files.

load lib

# the time, worker and listener fields, as a regex (the listener: $LISTEN)
HEAD_RE='time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z worker=([0-9]+) gen=1'

# access_line FROM [FILE] - wait for the access line of the client FROM
# (addr:port) in FILE (default snitch.log) and print it; fails if there
# is none after 5 s or more than one
access_line() {
	local file=${2:-$T/snitch.log}
	wait_until grep -qF -- "client=$1 " "$file" || {
		echo "no access line for $1 in $file" >&2
		return 1
	}
	[ "$(grep -cF -- "client=$1 " "$file")" -eq 1 ] || {
		echo "more than one access line for $1 in $file" >&2
		return 1
	}
	grep -F -- "client=$1 " "$file"
}

# re_quote TEXT - TEXT as a literal in an extended regex
re_quote() {
	sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$1"
}

# check_line LINE REST - LINE is a stderr access line of snitch-worker
# whose fields after listener= are REST (a regex), then via=- (no
# PROXY header on this listener); its worker= is the
# index in the process title of the pid in its prefix; its time is now
check_line() {
	local line=$1 rest=$2 re pid index when now
	re="^snitch-worker\[([0-9]+)\]: $HEAD_RE listener=$(re_quote "$LISTEN") $rest via=-\$"
	[[ $line =~ $re ]] || fail "access line: $line
wanted:      $re"
	pid=${BASH_REMATCH[1]}
	index=${BASH_REMATCH[2]}
	run -0 ps -o args= -p "$pid"
	assert_output "snitch: worker $index gen 1"
	# within a few seconds of now, in UTC
	when=$(sed -n 's/.* time=\([^ ]*\) .*/\1/p' <<<"$line")
	when=$(date -u -d "${when/T/ }" +%s)
	now=$(date -u +%s)
	[ $((now - when)) -ge 0 ] && [ $((now - when)) -lt 10 ] ||
	    fail "time=$when is not now ($now)"
}

# field LINE KEY - the value of KEY=... in an access line
field() {
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}

@test "a handed-off connection: every field of its access line" {
	local from hello line
	start_demo alpha
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	run -0 tls --name alpha.localhost --alpn 'http/1.1,x-y' --records 3 \
	    --print-local --print-hello
	assert_line "backend=alpha"
	from=$(sed -n 's/^from=//p' <<<"$output")
	hello=$(grep '^hello_bytes=' <<<"$output")
	assert_equal "${hello#* }" "records=3"
	line=$(access_line "$from")
	check_line "$line" "client=$(re_quote "$from") name=alpha\.localhost backend=alpha outcome=handoff alpn=http/1\.1,x-y peek_us=[0-9]+ $hello"
	# the whole hello was there at accept (defer_accept): well under 1 s
	[ "$(field "$line" peek_us)" -lt 1000000 ]
}

@test "a refused connection (alert 112): every field of its access line" {
	local from hello line
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	run -3 tls --name nosuch.localhost --alpn h2 --print-local --print-hello
	assert_line "alert 112"
	from=$(sed -n 's/^from=//p' <<<"$output")
	hello=$(grep '^hello_bytes=' <<<"$output")
	assert_equal "${hello#* }" "records=1"
	line=$(access_line "$from")
	check_line "$line" "client=$(re_quote "$from") name=nosuch\.localhost backend=- outcome=alert alert=112 reason=no-route alpn=h2 peek_us=[0-9]+ $hello"
}

@test "a timed-out connection: every field of its access line" {
	local from line us
	PEEK_TIMEOUT=1s
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	# the first 10 bytes of a hello, then nothing
	run -4 tls --raw-hex "1603010200 010001fc 03" --print-local
	assert_line "closed"
	from=$(sed -n 's/^from=//p' <<<"$output")
	line=$(access_line "$from")
	check_line "$line" "client=$(re_quote "$from") name=- backend=- outcome=timeout alpn=- peek_us=[0-9]+ hello_bytes=10 records=-"
	# peek_timeout after accept, give or take the coarse clock
	us=$(field "$line" peek_us)
	[ "$us" -ge 990000 ] && [ "$us" -lt 3000000 ] ||
	    fail "peek_us=$us for a 1 s peek_timeout"
}

@test "a connection that is not TLS: every field of its access line" {
	local from line
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	# "SSH-2.0-OpenSSH9\r\n": 18 bytes (an HTTP request head would be
	# answered: t/http.bats)
	run -4 tls --raw-hex "5353482d322e302d4f70656e535348390d0a" --print-local
	assert_line "closed"
	from=$(sed -n 's/^from=//p' <<<"$output")
	line=$(access_line "$from")
	check_line "$line" "client=$(re_quote "$from") name=- backend=- outcome=not-tls alpn=- peek_us=[0-9]+ hello_bytes=18 records=-"
}

@test "client bytes in the ALPN list are escaped, commas included" {
	local from line
	start_demo alpha
	write_config
	add_backend alpha alpha.localhost
	start_snitch
	# hostile.py --alpn: comma separated, \xHH and \\ escapes
	run hostile --print-local --name alpha.localhost \
	    --alpn 'a\x2cb,x\x1b[31my,back\\slash,h2'
	assert_line "server-hello"
	from=$(sed -n 's/^from=//p' <<<"$output")
	line=$(access_line "$from")
	[[ $line == *' alpn=a\054b,x\033[31my,back\\slash,h2 peek_us='* ]] ||
	    fail "access line: $line"
}

# load_clients STOPFILE - not-TLS clients one after another until STOPFILE
# exists; each waits for SNItch to close it (so it was logged), then its
# port is printed
load_clients() {
	"$PYTHON" - "$PORT" "$1" <<'EOF'
import os, socket, sys
port, stop = int(sys.argv[1]), sys.argv[2]
while not os.path.exists(stop):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"SSH-2.0-OpenSSH9\r\n")
    while s.recv(100):
        pass
    print(s.getsockname()[1], flush=True)
    s.close()
EOF
}

# lines FILE - the number of lines in FILE
lines() {
	wc -l <"$1"
}

@test "access_log = FILE: lines go there; SIGUSR1 after a mv moves them to the new file, none lost" {
	local loader port n
	start_demo alpha
	write_config "access_log = $T/access.log"
	add_backend alpha alpha.localhost
	start_snitch
	# created by snitch as the user it runs as, 0640; the listeners are
	# bound before it drops privileges, so the port may answer first
	wait_until test -f "$T/access.log"
	assert_equal "$(stat -c %a "$T/access.log")" 640
	if is_root; then
		assert_equal "$(stat -c %U "$T/access.log")" nobody
	fi
	run -0 get_https alpha.localhost
	port=$(answer local_port)
	# no prefix in a file: the line starts with time=
	wait_until grep -qE "^time=[^ ]+ worker=[01] gen=1 listener=$(re_quote "$LISTEN") client=127\.0\.0\.1:$port name=alpha\.localhost backend=alpha outcome=handoff alpn=[^ ]+ peek_us=[0-9]+ hello_bytes=[0-9]+ records=1 via=-$" "$T/access.log"
	refute log_has "client=127\.0\.0\.1:$port"

	load_clients "$T/stop" >"$T/ports" 2>"$T/load.err" &
	loader=$!
	track_pid "$loader"
	wait_until eval '[ "$(lines "$T/access.log")" -ge 50 ]'
	# logrotate's create mode: rename, a new empty file, then the signal
	mv "$T/access.log" "$T/access.log.1"
	touch "$T/access.log"
	chmod 640 "$T/access.log"
	if is_root; then
		chown nobody "$T/access.log"
	fi
	kill -USR1 "$SNITCH_PID"
	wait_until log_has "reopen: access log $T/access\.log"
	wait_until eval '[ "$(lines "$T/access.log")" -ge 50 ]'
	touch "$T/stop"
	wait "$loader"
	# every connection of the loader is in exactly one of the two files
	# (as many times as its port was used: ports come round again)
	n=$(lines "$T/ports")
	[ "$n" -ge 100 ]
	sort -n "$T/ports" >"$T/ports.sorted"
	cat "$T/access.log.1" "$T/access.log" | grep ' outcome=not-tls ' |
	    sed 's/.* client=127\.0\.0\.1:\([0-9]*\) .*/\1/' | sort -n \
	    >"$T/logged.sorted"
	run -0 diff "$T/ports.sorted" "$T/logged.sorted"
	# and once reopened, the old file gets nothing more
	n=$(lines "$T/access.log.1")
	run -0 get_https alpha.localhost
	port=$(answer local_port)
	wait_until grep -q " client=127\.0\.0\.1:$port " "$T/access.log"
	assert_equal "$(lines "$T/access.log.1")" "$n"
	# the snitch log has no connection line, only the reopen
	refute log_has ' outcome='
}

@test "SIGUSR1 reaches workers started later and retiring ones; a file snitch cannot open keeps the old one" {
	local port
	start_demo alpha
	write_config "access_log = $T/access.log"
	add_backend alpha alpha.localhost
	start_snitch
	# a new generation: its workers get the file the master holds
	kill -HUP "$SNITCH_PID"
	wait_until log_has "reload: configuration generation 2 loaded"
	mv "$T/access.log" "$T/access.log.1"
	kill -USR1 "$SNITCH_PID"
	wait_until log_has "reopen: access log"
	# snitch created the new file itself
	[ -f "$T/access.log" ]
	run -0 get_https alpha.localhost
	port=$(answer local_port)
	wait_until grep -q " gen=2 .* client=127\.0\.0\.1:$port " "$T/access.log"
	# a path snitch cannot open now: it says so and keeps the open file
	mv "$T/access.log" "$T/access.log.2"
	mkdir "$T/access.log"
	kill -USR1 "$SNITCH_PID"
	wait_until log_has "reopen: cannot open $T/access\.log, keeping the open one: Is a directory"
	run -0 get_https alpha.localhost
	port=$(answer local_port)
	wait_until grep -q " client=127\.0\.0\.1:$port " "$T/access.log.2"
}

@test "access_log = off: no connection lines anywhere; a file it cannot open stops the start" {
	start_demo alpha
	write_config "access_log = off"
	add_backend alpha alpha.localhost
	start_snitch
	run -0 get_https alpha.localhost
	run -3 tls --name nosuch.localhost
	run -4 tls --raw-hex "474554"
	# the refusal was counted, so it was done with; give a line time to come
	sleep 0.5
	refute log_has 'outcome=|client='
	assert log_has 'started: 2 workers'
	stop_snitch

	write_config "access_log = $T/no/such/dir/access.log"
	add_backend alpha alpha.localhost
	run -1 "$SNITCH" -c "$T/snitch.ini"
	assert_output --partial "access_log $T/no/such/dir/access.log (opened as the user snitch runs as): No such file or directory"
}

@test "access_log = stderr and syslog, log_level, bad values: refused with file:line" {
	write_config "access_log = stderr" "log_level = debug"
	add_backend alpha alpha.localhost
	run -0 "$SNITCH" -t -c "$T/snitch.ini"
	write_config "access_log = syslog" "log_level = error"
	add_backend alpha alpha.localhost
	run -0 "$SNITCH" -t -c "$T/snitch.ini"
	write_config "access_log = access.log"
	add_backend alpha alpha.localhost
	run -1 "$SNITCH" -t -c "$T/snitch.ini"
	assert_output --regexp "snitch\.ini:[0-9]+: access_log must be off, syslog, stderr or the absolute path of a file, not 'access.log'"
	write_config "log_level = verbose"
	add_backend alpha alpha.localhost
	run -1 "$SNITCH" -t -c "$T/snitch.ini"
	assert_output --regexp "snitch\.ini:[0-9]+: log_level must be error, warning, info or debug, not 'verbose'"
}

@test "log_level = warning hides info lines, not warnings nor the access log; -v shows debug" {
	local port
	start_demo alpha
	write_config "log_level = warning"
	add_backend alpha alpha.localhost
	add_backend ghost ghost.localhost
	start_snitch
	run -0 get_https alpha.localhost
	port=$(answer local_port)
	run -3 tls --name ghost.localhost
	assert_output "alert 80"
	# the access log is not filtered by log_level
	wait_until log_has "client=127\.0\.0\.1:$port name=alpha\.localhost backend=alpha outcome=handoff"
	# a warning: ghost's socket does not exist
	wait_until log_has "backend ghost: cannot connect"
	refute log_has 'started:'
	refute log_has 'ready,'
	stop_snitch
	refute log_has 'stopping: workers finish'

	# -v raises it to debug whatever the file says
	: >"$T/snitch.log"
	start_snitch -v
	wait_until log_has 'worker [01] gen 1: ready'
	assert log_has 'started:'
}

@test "log_level = error hides warnings too; a reload applies a new log_level" {
	start_demo alpha
	write_config "log_level = error"
	add_backend alpha alpha.localhost
	add_backend ghost ghost.localhost
	start_snitch
	run -3 tls --name ghost.localhost
	assert_output "alert 80"
	wait_until log_has 'outcome=alert alert=80 reason=backend-down'
	refute log_has 'cannot connect'
	# the same file at log_level info: the reload is logged
	sed -i 's/^log_level = error$/log_level = info/' "$T/snitch.ini"
	kill -HUP "$SNITCH_PID"
	wait_until log_has "reload: configuration generation 2 loaded"
}

@test "a reload that changes access_log keeps the running one and says so" {
	local port
	start_demo alpha
	write_config "access_log = $T/access.log"
	add_backend alpha alpha.localhost
	start_snitch
	sed -i 's/^access_log = .*/access_log = off/' "$T/snitch.ini"
	kill -HUP "$SNITCH_PID"
	wait_until log_has "reload: access_log changed; that needs a restart, keeping the current one"
	wait_until log_has "reload: configuration generation 2 loaded"
	run -0 get_https alpha.localhost
	port=$(answer local_port)
	wait_until grep -q " gen=2 .* client=127\.0\.0\.1:$port " "$T/access.log"
}

@test "process titles: snitch: master, snitch: worker N gen G" {
	local pid
	write_config
	add_backend alpha alpha.localhost
	# an argv[0] longer than the title: nothing of it may show
	mkdir "$T/a-directory-with-a-long-name"
	ln -s "$(realpath "$SNITCH")" "$T/a-directory-with-a-long-name/snitch"
	start_snitch_cmd "$T/a-directory-with-a-long-name/snitch" -c "$T/snitch.ini"
	run -0 ps -o args= -p "$SNITCH_PID"
	assert_output "snitch: master"
	wait_until has_workers 2
	run -0 bash -c "for p in $(worker_pids | tr '\n' ' '); do ps -o args= -p \$p; done | sort"
	assert_output "snitch: worker 0 gen 1
snitch: worker 1 gen 1"
	kill -HUP "$SNITCH_PID"
	wait_until log_has "reload: configuration generation 2 loaded"
	wait_until eval '[ "$(for p in $(worker_pids); do ps -o args= -p $p; done | grep -c " gen 2$")" -eq 2 ]'
	for pid in $(worker_pids); do
		run -0 ps -o args= -p "$pid"
		assert_output --regexp '^snitch: worker [01] gen [12]$'
	done
}

@test "a symlink at the access log path is never followed: refused at start, not reopened on SIGUSR1, its target unchanged" {
	local port
	start_demo alpha
	# another file the user snitch runs as may write (as root: nobody's
	# own, 0600), and a root-only one: a link to either is refused
	echo "not a log" >"$T/other"
	chmod 600 "$T/other"
	is_root && chown nobody "$T/other"
	mkdir -m 700 "$T/root-only"
	echo "root's" >"$T/root-only/file"
	chmod 600 "$T/root-only/file"
	write_config "access_log = $T/access.log"
	add_backend alpha alpha.localhost
	for target in "$T/other" "$T/root-only/file"; do
		ln -sfn "$target" "$T/access.log"
		run -1 timeout 10 "$SNITCH" -c "$T/snitch.ini"
		assert_output --partial "access_log $T/access.log is a symbolic link, which is never followed: give the file's own path"
	done
	assert_equal "$(cat "$T/other")" "not a log"
	assert_equal "$(cat "$T/root-only/file")" "root's"
	# planted after start, where logrotate's new file would be: SIGUSR1
	# says so and keeps the open file
	rm "$T/access.log"
	start_snitch
	wait_until test -f "$T/access.log"
	mv "$T/access.log" "$T/access.log.1"
	ln -s "$T/other" "$T/access.log"
	kill -USR1 "$SNITCH_PID"
	wait_until log_has "reopen: access_log $T/access\.log is a symbolic link, which is never followed; keeping the open one"
	run -0 get_https alpha.localhost
	port=$(answer local_port)
	wait_until grep -q " client=127\.0\.0\.1:$port " "$T/access.log.1"
	assert_equal "$(cat "$T/other")" "not a log"
}
