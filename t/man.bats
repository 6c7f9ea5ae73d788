#!/usr/bin/env bats
# man.bats - the man pages in man/: no lint warning, and in step with the
# code they describe (functions, options, configuration keys).
#
# Reads the source tree and the build under test ($SNITCH_BUILD) only;
# starts nothing.  The example program of libsnitch(3) is built and run
# by t/install.bats, against the installed library.

load lib

setup_file() {
	command -v mandoc >/dev/null || {
		echo "mandoc is missing: apt-get install mandoc" >&2
		return 1
	}
}

# nothing to start or clean up
setup() {
	:
}

teardown() {
	:
}

# man_pages - the pages make install installs, from the Makefile
man_pages() {
	make -s --no-print-directory -C "$SNITCH_ROOT" \
	    --eval 'man-pages: ; @echo $(MAN3) $(MAN5) $(MAN7) $(MAN8)' \
	    man-pages | tr ' ' '\n' | sort
}

# options PROGRAM - the option letters of PROGRAM's usage line, one a line
options() {
	"$1" -Z 2>&1 | sed -n 's/^usage: //p' | grep -oE '(^| |\[|\|)-[A-Za-z]' |
	    sed 's/.*-//' | sort -u
}

@test "man/ holds exactly the pages make install installs" {
	run -0 man_pages
	assert_output "$(cd "$SNITCH_ROOT/man" && ls | sort)"
}

@test "mandoc -T lint -W warning: no warning in any page" {
	local page bad=0
	for page in $(man_pages); do
		if ! mandoc -T lint -W warning "$SNITCH_ROOT/man/$page"; then
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

@test "man --warnings: groff has no warning for any page" {
	local page err
	command -v man >/dev/null || skip "man is not installed"
	for page in $(man_pages); do
		err=$(MANWIDTH=80 man --warnings -E UTF-8 -l \
		    "$SNITCH_ROOT/man/$page" 2>&1 >/dev/null)
		if [ -n "$err" ]; then
			echo "$page: $err"
			return 1
		fi
	done
}

@test "libsnitch.3 names, declares and links every function of snitch.h" {
	local page=$SNITCH_ROOT/man/libsnitch.3 fn n=0
	for fn in $(grep -oE '\bsnitch_[a-z_]+\(' "$SNITCH_ROOT/libsnitch/snitch.h" |
	    tr -d '(' | sort -u); do
		n=$((n + 1))
		grep -qE "^\.Nm $fn( ,)?$" "$page" ||
		    { echo "$fn: not in NAME"; return 1; }
		grep -qE "^\.(Fn $fn \"|Fo $fn$)" "$page" ||
		    { echo "$fn: not in SYNOPSIS"; return 1; }
		grep -qE "^\.Fn $fn( ,| \.)?$" "$page" ||
		    { echo "$fn: not described"; return 1; }
		make -s --no-print-directory -C "$SNITCH_ROOT" \
		    --eval 'man-links: ; @echo $(MAN3_LINKS)' man-links |
		    grep -qw "$fn\.3" || { echo "$fn: no $fn.3 link"; return 1; }
	done
	[ "$n" -eq 11 ]
}

@test "each program's options, from its usage line, are described in its page" {
	local prog opt n
	for prog in snitch snitch-exec snitch-relay; do
		need_built "$BUILD/$prog"
		n=0
		for opt in $(options "$BUILD/$prog"); do
			n=$((n + 1))
			grep -qE "^\.It Fl $opt( |$)" "$SNITCH_ROOT/man/$prog.8" ||
			    { echo "$prog -$opt: not in $prog.8"; return 1; }
		done
		[ "$n" -ge 4 ] || { echo "$prog: $n options in its usage"; return 1; }
	done
}

@test "snitch.ini.5 describes every key conf.c accepts" {
	local conf=$SNITCH_ROOT/conf/conf.c key n=0
	# the [snitch] keys' table, and the [backend] keys compared one by one
	for key in $({
		sed -n '/conf_snitch_keys\[\] = {/,/};/p' "$conf"
		grep -oE 'strcmp\(key, "[a-z_]+"\)' "$conf"
	    } | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u); do
		n=$((n + 1))
		grep -qE "^\.It Ic $key( |$)" "$SNITCH_ROOT/man/snitch.ini.5" ||
		    { echo "$key: not in snitch.ini.5"; return 1; }
	done
	[ "$n" -eq 23 ]	# 14, owner, [tenant] uid and dir, alpn,
			# non_tls, silent, silent_timeout, sandbox, chroot
}
