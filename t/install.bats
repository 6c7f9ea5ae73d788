#!/usr/bin/env bats
# install.bats - `make install` and `make uninstall`, into a temporary
# DESTDIR, of the build under test ($SNITCH_BUILD: build or build/san).
#
# make install is run with B= that build, and must find nothing to
# rebuild (setup_file checks with make -q: a rebuild here would not know
# the build's flags, e.g. SAN=1).  The installed tree is checked file by
# file, with modes and links; the installed snitch and snitch-demo serve
# a client; the program in libsnitch.3's EXAMPLES is taken from the
# installed page, built with pkg-config against the installed library
# and serves a client through snitch; make uninstall leaves exactly what
# was there before.  Units (systemd/*.service, *.socket) are tested with
# the Makefile run in a scratch directory holding a few.  A DESTDIR
# install leaves this machine's users alone; a real one (no DESTDIR, as
# root, into a temporary PREFIX) makes the system user and group snitch
# that the installed snitch.ini.example names (removed after, when the
# test made them).

load lib

setup_file() {
	local f
	snitch_setup_file || return 1
	need_built "$BUILD/snitch-exec" || return 1
	need_built "$BUILD/snitch-relay" || return 1
	for f in libsnitch.so.1 libsnitch.a; do
		[ -f "$BUILD/$f" ] || {
			echo "$BUILD/$f is missing: run make all first" >&2
			return 1
		}
	done
	if ! make -q --no-print-directory -C "$SNITCH_ROOT" \
	    B="$(cd "$BUILD" && pwd)" all; then
		echo "$BUILD is not up to date: run make (B=$BUILD) first" >&2
		return 1
	fi
	command -v pkg-config >/dev/null || {
		echo "pkg-config is missing: apt-get install pkgconf" >&2
		return 1
	}
}

# make_root ARGS... - make in the source tree, with B= the build under test
make_root() {
	make -s --no-print-directory -C "$SNITCH_ROOT" \
	    B="$(cd "$BUILD" && pwd)" "$@"
}

# tree DIR - every file and symbolic link under DIR, relative, sorted
tree() {
	(cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
}

# mode FILE - its permission bits, in octal
mode() {
	stat -c %a "$1"
}

# expected_tree PREFIX - what make install puts under DESTDIR, default
# directories under PREFIX (without the leading /), sorted
expected_tree() {
	local p=$1 f
	{
		for f in snitch snitch-worker snitch-stats snitch-exec snitch-relay; do
			echo "$p/sbin/$f"
		done
		echo "$p/bin/snitch-demo"
		echo "$p/lib/libsnitch.so.1"
		echo "$p/lib/libsnitch.so"
		echo "$p/lib/libsnitch.a"
		echo "$p/lib/pkgconfig/snitch.pc"
		echo "$p/include/snitch.h"
		echo "$p/share/doc/snitch/snitch.ini.example"
		echo "$p/share/man/man3/libsnitch.3"
		for f in listen accept recv alpn_next tlv addr_format open next close \
		    accept_peer open_peer peer_uid listen_flags unlink recv_batch ack \
		    quiesce open_flags drain; do
			echo "$p/share/man/man3/snitch_$f.3"
		done
		echo "$p/share/man/man5/snitch.ini.5"
		echo "$p/share/man/man7/snitch-handoff.7"
		for f in snitch snitch-exec snitch-relay; do
			echo "$p/share/man/man8/$f.8"
		done
		for f in "$SNITCH_ROOT"/systemd/*.service \
		    "$SNITCH_ROOT"/systemd/*.socket; do
			[ -f "$f" ] && echo "$p/lib/systemd/system/${f##*/}"
		done
	} | sort
}

# snitch_version - VERSION from the Makefile
snitch_version() {
	sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' "$SNITCH_ROOT/Makefile"
}

# san_flags LIB - the sanitizer flags a program linked with LIB needs
# (the build/san library needs the ASan runtime loaded first)
san_flags() {
	if readelf -d "$1" | grep -q 'NEEDED.*libasan'; then
		echo "-fsanitize=address,undefined"
	fi
}

# pc ARGS... - pkg-config on the snitch.pc installed under $D/usr/local
pc() {
	PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$D/usr/local/lib/pkgconfig" \
	    PKG_CONFIG_SYSROOT_DIR="$D" pkg-config "$@"
}

# example_source PAGE - the program in PAGE's EXAMPLES, roff escapes undone
example_source() {
	awk '/^\.Sh EXAMPLES/ { ex = 1; next }
	    ex && /^\.Bd -literal/ { on = 1; next }
	    on && /^\.Ed/ { exit }
	    on' "$1" | sed -e 's/\\e/\\/g' -e 's/\\&//g'
}

# users_sum - a checksum of the user and group databases
users_sum() {
	cat /etc/passwd /etc/group | md5sum
}

# MADE_USER - 1 when this test made the user snitch: teardown removes it
MADE_USER=0

teardown() {
	if [ "$MADE_USER" -eq 1 ]; then
		userdel snitch 2>/dev/null || true
		groupdel snitch 2>/dev/null || true
	fi
	snitch_teardown
}

@test "make install: every file in place, with its mode, nothing else" {
	local p=usr/local D=$T/dest f users
	users=$(users_sum)
	run -0 make_root install DESTDIR="$D"
	run -0 tree "$D"
	assert_output "$(expected_tree $p)"
	# a staged install touches no user of this machine
	[ "$(users_sum)" = "$users" ]

	for f in snitch snitch-worker snitch-stats snitch-exec snitch-relay; do
		[ "$(mode "$D/$p/sbin/$f")" = 755 ]
		cmp "$BUILD/$f" "$D/$p/sbin/$f"
	done
	[ "$(mode "$D/$p/bin/snitch-demo")" = 755 ]
	cmp "$BUILD/snitch-demo" "$D/$p/bin/snitch-demo"
	for f in lib/libsnitch.so.1 lib/libsnitch.a include/snitch.h \
	    lib/pkgconfig/snitch.pc share/doc/snitch/snitch.ini.example \
	    share/man/man3/libsnitch.3 share/man/man5/snitch.ini.5 \
	    share/man/man7/snitch-handoff.7 share/man/man8/snitch.8 \
	    share/man/man8/snitch-exec.8 share/man/man8/snitch-relay.8; do
		[ -f "$D/$p/$f" ] && [ ! -L "$D/$p/$f" ]
		[ "$(mode "$D/$p/$f")" = 644 ]
	done
	cmp "$BUILD/libsnitch.so.1" "$D/$p/lib/libsnitch.so.1"
	cmp "$BUILD/libsnitch.a" "$D/$p/lib/libsnitch.a"
	cmp "$SNITCH_ROOT/libsnitch/snitch.h" "$D/$p/include/snitch.h"
	cmp "$SNITCH_ROOT/snitch.ini.example" \
	    "$D/$p/share/doc/snitch/snitch.ini.example"

	# the link for -lsnitch, and the soname the link records
	[ "$(readlink "$D/$p/lib/libsnitch.so")" = libsnitch.so.1 ]
	run -0 readelf -d "$D/$p/lib/libsnitch.so.1"
	assert_output --partial "Library soname: [libsnitch.so.1]"
	for f in listen accept recv alpn_next addr_format open next close; do
		[ "$(readlink "$D/$p/share/man/man3/snitch_$f.3")" = libsnitch.3 ]
	done

	# the paths in snitch.pc; nothing in /etc (an operator's)
	run -0 cat "$D/$p/lib/pkgconfig/snitch.pc"
	assert_line "prefix=/usr/local"
	assert_line "libdir=/usr/local/lib"
	assert_line "includedir=/usr/local/include"
	assert_line "Version: $(snitch_version)"
	[ ! -e "$D/etc" ]
}

@test "the installed snitch runs its installed snitch-worker and snitch-stats and routes to the installed snitch-demo" {
	local D=$T/dest pid
	run -0 make_root install DESTDIR="$D"
	SNITCH_DEMO=$D/usr/local/bin/snitch-demo
	start_demo alpha
	write_config "stats = $T/stats.sock"
	add_backend alpha alpha.localhost
	run -0 "$D/usr/local/sbin/snitch" -t -c "$T/snitch.ini"
	assert_output "configuration OK"
	start_snitch_cmd "$D/usr/local/sbin/snitch" -c "$T/snitch.ini"
	run -0 get_https alpha.localhost
	assert_line "backend=alpha"
	assert_line "server_name=alpha.localhost"
	# the workers run the installed snitch-worker
	run -0 worker_pids
	[ "${#lines[@]}" -eq "$WORKERS" ]
	for pid in "${lines[@]}"; do
		[ "$(readlink "/proc/$pid/exe")" = \
		    "$D/usr/local/sbin/snitch-worker" ]
	done
	# and the stats process the installed snitch-stats
	wait_until test -n "$(stats_pid)"
	[ "$(readlink "/proc/$(stats_pid)/exe")" = \
	    "$D/usr/local/sbin/snitch-stats" ]
	run -0 "$D/usr/local/sbin/snitch" -s -c "$T/snitch.ini"
	assert_line "generation 1"
}

@test "libsnitch.3's example, built with pkg-config against the installed library, serves a client through snitch" {
	local D=$T/dest flags pid status=0
	run -0 make_root install DESTDIR="$D"
	run -0 pc --modversion snitch
	assert_output "$(snitch_version)"
	run -0 pc --cflags --libs snitch
	# pkgconf ends its output with a space
	flags=$(echo $output)
	assert_equal "$flags" \
	    "-I$D/usr/local/include -L$D/usr/local/lib -lsnitch"

	example_source "$D/usr/local/share/man/man3/libsnitch.3" >"$T/hello.c"
	grep -q snitch_next "$T/hello.c"
	# shellcheck disable=SC2046,SC2086
	run -0 cc -Wall -Wextra -Werror $(san_flags "$D/usr/local/lib/libsnitch.so.1") \
	    -o "$T/hello" "$T/hello.c" $flags -Wl,-rpath,"$D/usr/local/lib"
	run -0 readelf -d "$T/hello"
	assert_output --partial "Shared library: [libsnitch.so.1]"
	run -0 ldd "$T/hello"
	assert_output --partial "libsnitch.so.1 => $D/usr/local/lib/libsnitch.so.1"

	start_backend "$T/hello.sock" "$T/hello.log" "$T/hello" "$T/hello.sock"
	pid=$BACKEND_PID
	track_pid "$pid"
	write_config
	add_backend hello hello.localhost
	start_snitch
	# the example closes the connection unanswered: curl fails
	curl -sk -m 5 --http2 --resolve "hello.localhost:$PORT:127.0.0.1" \
	    "https://hello.localhost:$PORT/" || true
	wait_until grep -qE "^client=127\.0\.0\.1:[0-9]+ name=hello\.localhost alpn=h2,http/1\.1$" \
	    "$T/hello.log"

	# SIGTERM: snitch_next returns EINTR, the example exits 0 and
	# removes its socket
	kill -TERM "$pid"
	wait_until gone "$pid"
	wait "$pid" || status=$?
	[ "$status" -eq 0 ]
	[ ! -e "$T/hello.sock" ]
}

@test "libsnitch.a: pkg-config --static links the example without libsnitch.so" {
	local D=$T/dest
	run -0 make_root install DESTDIR="$D"
	example_source "$D/usr/local/share/man/man3/libsnitch.3" >"$T/hello.c"
	# shellcheck disable=SC2046
	run -0 cc -Wall -Wextra -Werror $(san_flags "$D/usr/local/lib/libsnitch.so.1") \
	    -o "$T/hello" "$T/hello.c" $(pc --cflags snitch) \
	    $(pc --static --libs-only-L snitch) -Wl,-Bstatic -lsnitch -Wl,-Bdynamic
	run -0 readelf -d "$T/hello"
	refute_output --partial "libsnitch"
	run -1 "$T/hello"
	assert_output --partial "usage:"
}

@test "make uninstall removes exactly what make install put there" {
	local D=$T/dest
	# what was there before: an operator's config, someone else's files
	mkdir -p "$D/etc/snitch" "$D/usr/local/bin" "$D/usr/local/lib" \
	    "$D/usr/local/share/man/man8"
	echo "; the operator's" >"$D/etc/snitch/snitch.ini"
	echo other >"$D/usr/local/bin/other"
	echo other >"$D/usr/local/lib/libother.so.1"
	ln -s libother.so.1 "$D/usr/local/lib/libother.so"
	echo other >"$D/usr/local/share/man/man8/other.8"
	run -0 tree "$D"
	local before=$output

	run -0 make_root install DESTDIR="$D"
	run -0 cat "$D/etc/snitch/snitch.ini"
	assert_output "; the operator's"
	run -0 make_root uninstall DESTDIR="$D"
	run -0 tree "$D"
	assert_output "$before"
	[ ! -e "$D/usr/local/share/doc/snitch" ]
	# twice is harmless
	run -0 make_root uninstall DESTDIR="$D"
}

@test "PREFIX and each directory variable are obeyed, by install and uninstall" {
	local D=$T/dest
	local -a vars=(PREFIX=/opt/sn sbindir=/opt/sn/libexec/sn
	    bindir=/opt/sn/b libdir=/opt/sn/lib64 includedir=/opt/sn/inc
	    mandir=/opt/sn/m docdir=/opt/sn/d pkgconfigdir=/opt/pc
	    systemdunitdir=/opt/units)
	run -0 make_root install DESTDIR="$D" "${vars[@]}"
	[ -x "$D/opt/sn/libexec/sn/snitch" ]
	[ -x "$D/opt/sn/libexec/sn/snitch-worker" ]
	[ -x "$D/opt/sn/libexec/sn/snitch-stats" ]
	[ -x "$D/opt/sn/libexec/sn/snitch-exec" ]
	[ -x "$D/opt/sn/libexec/sn/snitch-relay" ]
	[ -x "$D/opt/sn/b/snitch-demo" ]
	[ -f "$D/opt/sn/lib64/libsnitch.so.1" ]
	[ -L "$D/opt/sn/lib64/libsnitch.so" ]
	[ -f "$D/opt/sn/lib64/libsnitch.a" ]
	[ -f "$D/opt/sn/inc/snitch.h" ]
	[ -f "$D/opt/sn/m/man3/libsnitch.3" ]
	[ -f "$D/opt/sn/m/man8/snitch.8" ]
	[ -f "$D/opt/sn/d/snitch.ini.example" ]
	run -0 cat "$D/opt/pc/snitch.pc"
	assert_line "prefix=/opt/sn"
	assert_line "libdir=/opt/sn/lib64"
	assert_line "includedir=/opt/sn/inc"
	[ ! -e "$D/usr" ]
	run -0 make_root uninstall DESTDIR="$D" "${vars[@]}"
	run -0 tree "$D"
	assert_output ""
}

@test "units: every systemd/*.service and *.socket goes to systemdunitdir, paths filled in" {
	local S=$T/src D=$T/dest
	mkdir -p "$S/systemd"
	printf '[Service]\nExecStart=@sbindir@/snitch -c @sysconfdir@/snitch/snitch.ini\n' \
	    >"$S/systemd/snitch.service"
	printf '[Socket]\nListenStream=443\n' >"$S/systemd/snitch.socket"
	printf '[Service]\nExecStart=@sbindir@/snitch-relay -s /run/%%i.sock\n' \
	    >"$S/systemd/snitch-relay@.service"
	echo 'not a unit' >"$S/systemd/README"
	run -0 make -s --no-print-directory -f "$SNITCH_ROOT/Makefile" -C "$S" \
	    install-systemd DESTDIR="$D" PREFIX=/usr
	run -0 tree "$D"
	assert_output "$(printf '%s\n' usr/lib/systemd/system/snitch-relay@.service \
	    usr/lib/systemd/system/snitch.service \
	    usr/lib/systemd/system/snitch.socket)"
	[ "$(mode "$D/usr/lib/systemd/system/snitch.service")" = 644 ]
	run -0 cat "$D/usr/lib/systemd/system/snitch.service"
	assert_line "ExecStart=/usr/sbin/snitch -c /etc/snitch/snitch.ini"
	run -0 cat "$D/usr/lib/systemd/system/snitch-relay@.service"
	assert_line "ExecStart=/usr/sbin/snitch-relay -s /run/%i.sock"
	cmp "$S/systemd/snitch.socket" "$D/usr/lib/systemd/system/snitch.socket"

	run -0 make -s --no-print-directory -f "$SNITCH_ROOT/Makefile" -C "$S" \
	    uninstall-systemd DESTDIR="$D" PREFIX=/usr
	run -0 tree "$D"
	assert_output ""

	# no systemd/ directory: nothing installed, nothing fails
	mkdir "$T/bare"
	run -0 make -s --no-print-directory -f "$SNITCH_ROOT/Makefile" \
	    -C "$T/bare" install-systemd uninstall-systemd DESTDIR="$T/bare-dest"
	[ ! -e "$T/bare-dest" ]
}

@test "make install into the real root, as root, makes the system user and group snitch the config names" {
	local P=$T/prefix
	is_root || skip "needs root"
	getent passwd snitch >/dev/null || MADE_USER=1
	# no DESTDIR: the real install, into a prefix of the test's own
	run -0 make_root install PREFIX="$P"
	run -0 getent passwd snitch
	IFS=: read -r _ _ uid gid _ home shell <<<"$output"
	# a system account: below UID_MIN, no home, no login
	(( uid < $(awk '$1 == "UID_MIN" { print $2 }' /etc/login.defs) ))
	assert_equal "$home" /nonexistent
	assert_equal "$shell" /usr/sbin/nologin
	[ ! -e /nonexistent ]
	run -0 getent group snitch
	assert_equal "$(cut -d: -f3 <<<"$output")" "$gid"
	# the installed example's user is that one
	run -0 grep -E '^user[[:space:]]*=' "$P/share/doc/snitch/snitch.ini.example"
	assert_output --regexp '^user = snitch[[:space:]]'
	# twice: the user is kept as it is
	run -0 make_root install PREFIX="$P"
	run -0 getent passwd snitch
	assert_output --partial ":$uid:$gid:"
	# uninstall keeps the user (files may be its own)
	run -0 make_root uninstall PREFIX="$P"
	getent passwd snitch >/dev/null
}
