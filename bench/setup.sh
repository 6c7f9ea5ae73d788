#!/bin/sh
# setup.sh - install the switches SNItch is benchmarked against.
#
# Run by `make bench` (as root: apt-get; otherwise it prints the apt-get
# line and exits 1).  The Debian packages would start their own nginx,
# haproxy and sniproxy on the default ports: a policy-rc.d that forbids
# it is put in place for the install when none is there, and any of
# their services that runs anyway is stopped.  The benchmark starts its
# own instances, with its own configs, on loopback ports (bench/run.sh).
#
# Debian 12 names: nginx-light (nginx without most HTTP modules),
# libnginx-mod-stream (the stream module, built with ssl_preread),
# haproxy, sniproxy.
set -u

PKGS="haproxy nginx-light libnginx-mod-stream sniproxy"
POLICY=/usr/sbin/policy-rc.d

# setup_missing - the packages of $PKGS that are not installed
setup_missing() {
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'ok installed' || printf ' %s' "$p"
	done
}

# setup_stop_services - stop what the packages may have started
setup_stop_services() {
	for s in nginx haproxy sniproxy; do
		[ -x "/etc/init.d/$s" ] || continue
		"/etc/init.d/$s" status >/dev/null 2>&1 &&
		    "/etc/init.d/$s" stop >/dev/null 2>&1
	done
	return 0
}

missing=$(setup_missing)
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench needs these Debian packages:$missing" >&2
		echo "run: sudo apt-get install -y$missing" >&2
		exit 1
	fi
	echo "setup: installing$missing" >&2
	own_policy=0
	if [ ! -e "$POLICY" ]; then
		printf '#!/bin/sh\n# bench/setup.sh: no service starts during the install\nexit 101\n' >"$POLICY"
		chmod 755 "$POLICY"
		own_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq $missing >/dev/null
	status=$?
	[ "$own_policy" -eq 1 ] && rm -f "$POLICY"
	if [ "$status" -ne 0 ]; then
		echo "setup: apt-get install$missing failed" >&2
		exit 1
	fi
fi
if [ "$(id -u)" -eq 0 ]; then
	setup_stop_services
fi

# nginx must have the stream module with ssl_preread
if ! ls /usr/lib/nginx/modules/ngx_stream_module.so >/dev/null 2>&1 ||
    ! nginx -V 2>&1 | grep -q -- '--with-stream_ssl_preread_module'; then
	echo "setup: nginx has no stream module with ssl_preread" >&2
	exit 1
fi
for b in haproxy nginx sniproxy; do
	if ! command -v "$b" >/dev/null 2>&1 &&
	    [ ! -x "/usr/sbin/$b" ]; then
		echo "setup: $b is not installed" >&2
		exit 1
	fi
done
exit 0
