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
	[ "$n" -eq 19 ]
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

# conf_keys - the rows of conf.c's key table, "SECTION KEY RELOAD" a line
# (SECTION in lower case; RELOAD is CONF_RELOADS or a restart's carry)
conf_keys() {
	sed -n '/^static const struct conf_key conf_keys\[\] = {/,/^};/p' \
	    "$SNITCH_ROOT/conf/conf.c" | tr -s '\n\t ' '   ' |
	    grep -oE '\{ SECTION_[A-Z]+, "[a-z0-9_]+", [a-z_]+, [A-Z_]+, [A-Za-z_]+' |
	    awk -F', ' '{ sub(/^\{ SECTION_/, "", $1); gsub(/"/, "", $2)
		print tolower($1), $2, $5 }'
}

# man_entry SECTION KEY - KEY's entry in snitch.ini.5's [SECTION ...]
# subsection, from its .It line to the next .It or .El
man_entry() {
	awk -v sec="[$1" -v key="$2" '
		/^\.Ss / { in_sec = index($0, sec) > 0; on = 0; next }
		in_sec && /^\.It Ic / { on = $3 == key }
		/^\.El/ { on = 0 }
		on { print }
	' "$SNITCH_ROOT/man/snitch.ini.5"
}

@test "snitch.ini.5 describes every key of conf.c's table, in its section, and which need a restart" {
	local section key reload entry n=0
	while read -r section key reload; do
		n=$((n + 1))
		entry=$(man_entry "$section" "$key")
		[ -n "$entry" ] ||
		    { echo "[$section] $key: not in snitch.ini.5"; return 1; }
		if [ "$reload" = CONF_RELOADS ]; then
			! grep -q 'needs a restart' <<<"$entry" ||
			    { echo "$key: a reload applies it, the page says it needs a restart"; return 1; }
		else
			grep -qx 'Changing it needs a restart\.' <<<"$entry" ||
			    { echo "$key: needs a restart, the page does not say so"; return 1; }
		fi
	done < <(conf_keys)
	[ "$n" -eq 36 ]	# 28 in [snitch], 5 in [backend], 3 in [tenant]
}

@test "snitch.ini.5 describes no key conf.c's table does not have" {
	local section key keys
	keys=$(conf_keys | cut -d' ' -f1,2)
	for section in snitch backend tenant; do
		for key in $(awk -v sec="[$section" '
			/^\.Ss / { in_sec = index($0, sec) > 0; next }
			in_sec && /^\.It Ic / { print $3 }
		    ' "$SNITCH_ROOT/man/snitch.ini.5"); do
			grep -qx "$section $key" <<<"$keys" ||
			    { echo "[$section] $key: not in conf.c"; return 1; }
		done
	done
}
