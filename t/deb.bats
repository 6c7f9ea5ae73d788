#!/usr/bin/env bats
# deb.bats - the Debian packages (debian/): built by dpkg-buildpackage
# -us -uc -b in a fresh `git clone` of this tree, so what is tested is
# what is committed (uncommitted edits are not), then checked without
# changing this machine: their contents and metadata (dpkg-deb), lintian
# (an error fails, warnings are listed), and an install with dpkg -i into
# a throwaway root: a private mount namespace (unshare -m) with an
# overlay over /, chrooted into, so that the maintainer scripts run for
# real (adduser, deb-systemd-helper, ldconfig) and every change lands in
# the overlay's upper directory, removed after.
#
# The build takes about a minute and the checks about half a minute
# (lintian most of it); it is done once per run, in setup_file, and only
# on the release pass of make check: on the sanitizer pass (or any
# SNITCH_BUILD made with SAN=1) every test is skipped, since the
# packages are built from the clone, not from the build under test.
# Where the packaging tools are missing and cannot be installed (t/deps.sh
# needs root and a reachable mirror), every test is skipped with the
# reason.  The install test needs root (mount, chroot).
#
# python3-snitch is built and checked when the tree has python/snitch/.

load lib

# what the build and the checks need, beside the Makefile's BUILD_PKGS
DEB_TOOLS="debhelper dh-python dpkg-dev lintian git python3 pkgconf \
	libbsd-dev libinih-dev libseccomp-dev libssl-dev"

# makefile_version - VERSION from the Makefile, the one place it is set
makefile_version() {
	sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' "$SNITCH_ROOT/Makefile"
}

setup_file() {
	local start
	export DEB_SKIP=
	if readelf -d "$BUILD/snitch" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
		DEB_SKIP="the packages are built once, on the release pass"
		DEB_SKIP+=" (this is the sanitizer build, $BUILD)"
		return 0
	fi
	# shellcheck disable=SC2086
	if ! "$SNITCH_ROOT/t/deps.sh" $DEB_TOOLS >"$BATS_FILE_TMPDIR/deps.log" 2>&1; then
		DEB_SKIP="the packaging tools are missing and could not be"
		DEB_SKIP+=" installed: $(tr '\n' ' ' <"$BATS_FILE_TMPDIR/deps.log")"
		return 0
	fi
	DEB_DIR=$(mktemp -d /tmp/snitch-deb.XXXXXX)
	export DEB_DIR
	git clone -q "$SNITCH_ROOT" "$DEB_DIR/src" || return 1
	start=$SECONDS
	if ! (cd "$DEB_DIR/src" && timeout 900 dpkg-buildpackage -us -uc -b) \
	    >"$DEB_DIR/build.log" 2>&1; then
		echo "dpkg-buildpackage failed; the end of its output:" >&2
		tail -40 "$DEB_DIR/build.log" >&2
		return 1
	fi
	export DEB_BUILD_SECONDS=$((SECONDS - start))
	export DEB_VERSION
	DEB_VERSION=$(makefile_version)
	export DEB_ARCH
	DEB_ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
	export DEB_MULTIARCH
	DEB_MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	export DEB_PYTHON=0
	[ -f "$DEB_DIR/src/python/snitch/__init__.py" ] && DEB_PYTHON=1
	return 0
}

teardown_file() {
	[ -n "${DEB_DIR:-}" ] && rm -rf "$DEB_DIR"
	return 0
}

setup() {
	[ -z "$DEB_SKIP" ] || skip "$DEB_SKIP"
	T=$(mktemp -d /tmp/snitch-test.XXXXXX)
}

teardown() {
	[ -n "${T:-}" ] && rm -rf "$T"
	return 0
}

# deb NAME - the path of package NAME's .deb
deb() {
	local arch=$DEB_ARCH
	[ "$1" = python3-snitch ] && arch=all
	echo "$DEB_DIR/${1}_${DEB_VERSION}_$arch.deb"
}

# contents NAME - the files and links package NAME installs, sorted,
# without directories, links shown as NAME -> TARGET
contents() {
	dpkg-deb -c "$(deb "$1")" | awk '$1 !~ /^d/ {
		sub(/^[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, ""); sub(/^\.\//, "/");
		print }' | sort
}

# field NAME FIELD - a control field of package NAME
field() {
	dpkg-deb -f "$(deb "$1")" "$2"
}

# script NAME SCRIPT - a maintainer script (or conffiles) of package NAME
script() {
	dpkg-deb -I "$(deb "$1")" "$2"
}

@test "dpkg-buildpackage builds each package at the Makefile's version" {
	local p want=(libsnitch-dev libsnitch1 snitch)
	echo "# the build took ${DEB_BUILD_SECONDS}s" >&3
	[ "$DEB_PYTHON" -eq 1 ] && want+=(python3-snitch)
	for p in "${want[@]}"; do
		[ -f "$(deb "$p")" ]
		assert_equal "$(field "$p" Version)" "$DEB_VERSION"
	done
	run -0 dpkg-parsechangelog -l "$SNITCH_ROOT/debian/changelog" -S Version
	assert_output "$DEB_VERSION"
	# built with Debian's flags, and with the Makefile's -Werror
	run -0 grep -c -- '-Werror .*-D_FORTIFY_SOURCE=2.*-fstack-protector-strong' \
	    "$DEB_DIR/build.log"
	if [ "$DEB_PYTHON" -eq 0 ]; then
		[ ! -e "$(deb python3-snitch)" ]
		grep -q 'python3-snitch is not built' "$DEB_DIR/build.log"
	fi
}

@test "a debian/changelog that disagrees with the Makefile's VERSION stops the build" {
	git clone -q "$DEB_DIR/src" "$T/src"
	sed -i '1s/(\([^)]*\))/(\1.1)/' "$T/src/debian/changelog"
	cd "$T/src"
	run -2 make -s -f debian/rules override_dh_auto_configure
	assert_output --partial "the Makefile's VERSION is '$DEB_VERSION' but debian/changelog's is '$DEB_VERSION.1'"
}

@test "snitch: the programs, pages, units and the configuration as a conffile" {
	local f
	run -0 contents snitch
	for f in /usr/sbin/snitch /usr/sbin/snitch-worker /usr/sbin/snitch-stats \
	    /usr/sbin/snitch-exec /usr/sbin/snitch-relay /usr/bin/snitch-demo \
	    /usr/share/man/man8/snitch.8.gz /usr/share/man/man8/snitch-exec.8.gz \
	    /usr/share/man/man8/snitch-relay.8.gz \
	    /usr/share/man/man5/snitch.ini.5.gz \
	    /usr/share/man/man7/snitch-handoff.7.gz \
	    /lib/systemd/system/snitch.service /lib/systemd/system/snitch.socket \
	    /lib/systemd/system/snitch-relay@.service \
	    /etc/snitch/snitch.ini /usr/share/doc/snitch/snitch.ini.example \
	    /usr/share/doc/snitch/copyright; do
		assert_line "$f"
	done
	# the library is libsnitch1's, its development files libsnitch-dev's
	refute_output --partial libsnitch
	refute_output --partial /usr/include
	run -0 script snitch conffiles
	assert_output /etc/snitch/snitch.ini
	dpkg-deb --fsys-tarfile "$(deb snitch)" |
	    tar -xOf - ./etc/snitch/snitch.ini | cmp - "$SNITCH_ROOT/snitch.ini.example"

	run -0 field snitch Depends
	assert_output --regexp '(^|, )adduser(,|$)'
	assert_output --partial libseccomp2
	assert_output --partial libinih1

	# postinst: the system user; a unit enabled again only if it was
	# installed before (was-enabled alone is true on a first install,
	# so each enable must sit under a debian-installed check)
	run -0 script snitch postinst
	assert_output --partial 'adduser --system --group'
	assert_output --partial '--home /nonexistent'
	local enables installed
	enables=$(grep -c 'deb-systemd-helper enable' <<<"$output" || true)
	installed=$(grep -c 'deb-systemd-helper debian-installed' <<<"$output" || true)
	(( enables > 0 ))
	assert_equal "$enables" "$installed"
	refute_output --partial 'systemctl enable'
	# the programs are hardened: PIE, full RELRO, bind now
	dpkg-deb -x "$(deb snitch)" "$T/x"
	for f in snitch snitch-worker snitch-stats snitch-exec snitch-relay; do
		run -0 readelf -hld "$T/x/usr/sbin/$f"
		assert_output --partial "DYN (Position-Independent Executable file)"
		assert_output --partial GNU_RELRO
		assert_output --regexp 'FLAGS.*BIND_NOW'
	done
}

@test "libsnitch1 and libsnitch-dev: the library, its header, .a and pkg-config file" {
	local lib=/usr/lib/$DEB_MULTIARCH
	run -0 contents libsnitch1
	assert_line "$lib/libsnitch.so.1"
	refute_output --partial /usr/sbin
	run -0 script libsnitch1 shlibs
	assert_output --partial "libsnitch 1 libsnitch1 (>= $DEB_VERSION)"
	run -0 contents libsnitch-dev
	assert_line "$lib/libsnitch.so -> libsnitch.so.1"
	assert_line "$lib/libsnitch.a"
	assert_line "$lib/pkgconfig/snitch.pc"
	assert_line /usr/include/snitch.h
	assert_line /usr/share/man/man3/libsnitch.3.gz
	run -0 field libsnitch-dev Depends
	assert_output --partial "libsnitch1 (= $DEB_VERSION)"
	dpkg-deb -x "$(deb libsnitch-dev)" "$T/x"
	run -0 cat "$T/x$lib/pkgconfig/snitch.pc"
	assert_line "libdir=$lib"
	assert_line "includedir=/usr/include"
	assert_line "Version: $DEB_VERSION"
}

@test "python3-snitch: the module in dist-packages (when python/snitch/ is in the tree)" {
	[ "$DEB_PYTHON" -eq 1 ] || skip "no python/snitch/ in this tree yet"
	run -0 contents python3-snitch
	assert_line /usr/lib/python3/dist-packages/snitch/__init__.py
	if [ -d "$DEB_DIR/src/python/examples" ]; then
		assert_output --partial /usr/share/doc/python3-snitch/examples/
	fi
	run -0 field python3-snitch Depends
	assert_output --partial python3
	# compiled on the machine it is installed on, for its python3
	run -0 script python3-snitch postinst
	assert_output --partial py3compile
}

@test "lintian: no error (warnings listed)" {
	run lintian --pedantic --fail-on error --allow-root \
	    "$DEB_DIR/snitch_${DEB_VERSION}_$DEB_ARCH.changes"
	local status_=$status
	if [ -n "$output" ]; then
		printf '# %s\n' "${lines[@]}" >&3
	fi
	[ "$status_" -eq 0 ]
}

# in_root SCRIPT - runs SCRIPT (sh) as root chrooted into a throwaway
# copy of /: an overlay over / in a private mount namespace, with fresh
# /proc, /run and /tmp, and /dev bound; every write goes to $T/upper.
# The packages are in /debs inside.  Prints what SCRIPT prints.
in_root() {
	mkdir -p "$T/upper" "$T/work" "$T/root"
	# shellcheck disable=SC2016 # expanded by the inner shell, on purpose
	unshare -m --propagation private sh -eu -c '
		T=$1
		mount -t overlay overlay \
		    -o "lowerdir=/,upperdir=$T/upper,workdir=$T/work" "$T/root"
		mount -t proc proc "$T/root/proc"
		mount --rbind /dev "$T/root/dev"
		mount -t tmpfs tmpfs "$T/root/run"
		mount -t tmpfs tmpfs "$T/root/tmp"
		mkdir "$T/root/debs"
		cp "$2"/*.deb "$T/root/debs/"
		rm -f "$T/root/debs/"*-dbgsym_*.deb
		chroot "$T/root" /bin/sh -eu -c "$3"
		# nothing the install started is still running in there
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/root" 2>/dev/null)" = "$T/root" ] &&
			    echo "left running: $(cat "$p/cmdline" | tr "\0" " ")"
		done
		true
	' in_root "$T" "$DEB_DIR" "$1"
}

# host_state - what an install on this machine would change: the state
# of the packages in its dpkg database, the files at their paths, the
# user snitch
host_state() {
	dpkg-query -W -f '${Package} ${Status}\n' snitch libsnitch1 \
	    libsnitch-dev python3-snitch 2>&1
	ls -l /usr/sbin/snitch /etc/snitch/snitch.ini \
	    "/usr/lib/$DEB_MULTIARCH/libsnitch.so.1" 2>&1
	getent passwd snitch
	true
}

@test "installed into a throwaway root: snitch runs, its page, pkg-config, the user; nothing enabled or started" {
	is_root || skip "needs root (mount namespace, chroot)"
	local before
	before=$(host_state)
	# shellcheck disable=SC2016 # runs in the throwaway root
	run in_root '
		getent passwd snitch >/dev/null && userdel snitch
		getent group snitch >/dev/null && groupdel snitch
		DEBIAN_FRONTEND=noninteractive dpkg -i /debs/*.deb >/tmp/dpkg.log 2>&1 ||
		    { cat /tmp/dpkg.log; exit 1; }
		echo "version: $(/usr/sbin/snitch -V 2>&1)"
		/usr/sbin/snitch -t -c /etc/snitch/snitch.ini 2>&1 | sed "s/^/config: /" || true
		echo "page: $(man -w snitch)"
		# pkgconf ends its output with a space: echo drops it
		echo "pkg-config: $(echo $(pkg-config --modversion snitch) $(pkg-config --libs snitch))"
		echo "passwd: $(getent passwd snitch | cut -d: -f1,6,7)"
		echo "uid: $(id -u snitch)"
		for u in snitch.service snitch.socket; do
			echo "$u: $(systemctl --root=/ is-enabled $u 2>&1 || true)"
		done
		echo "wants: $(ls /etc/systemd/system/*.wants 2>/dev/null | grep snitch || echo none)"
		if [ -d /usr/lib/python3/dist-packages/snitch ]; then
			cd / && echo "python: $(/usr/bin/python3 -c "import snitch; print(snitch.__file__)")"
		fi
	'
	echo "$output"
	[ "$status" -eq 0 ]
	assert_line --partial "version: snitch $DEB_VERSION"
	assert_line --regexp '^page: /usr/share/man/man8/snitch\.8(\.gz)?$'
	assert_line "pkg-config: $DEB_VERSION -lsnitch"
	assert_line "passwd: snitch:/nonexistent:/usr/sbin/nologin"
	local uid
	uid=$(sed -n 's/^uid: //p' <<<"$output")
	(( uid < $(awk '$1 == "UID_MIN" { print $2 }' /etc/login.defs) ))
	assert_line "snitch.service: disabled"
	assert_line "snitch.socket: disabled"
	assert_line "wants: none"
	refute_output --partial "left running:"
	if [ "$DEB_PYTHON" -eq 1 ]; then
		assert_line "python: /usr/lib/python3/dist-packages/snitch/__init__.py"
	fi
	# and this machine is as it was
	assert_equal "$(host_state)" "$before"
}
