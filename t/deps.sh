#!/bin/sh
# deps.sh - install the Debian packages named as arguments that are missing.
# As root it runs apt-get; otherwise it prints the command to run.
#
# Some packages (nginx-light, stunnel4, haproxy, openssh-server) would
# start their own daemon on its default port: for the install a
# policy-rc.d that forbids it is put in place when there is none, then
# removed.  SNItch's tests and
# benchmark start their own instances on loopback ports.
POLICY=/usr/sbin/policy-rc.d
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "SNItch needs these Debian packages:$missing" >&2
	echo "run: sudo apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing" >&2
own_policy=0
if [ ! -e "$POLICY" ]; then
	printf '#!/bin/sh\n# SNItch deps.sh: no service starts during the install\nexit 101\n' >"$POLICY"
	chmod 755 "$POLICY"
	own_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq $missing >/dev/null
status=$?
[ "$own_policy" -eq 1 ] && rm -f "$POLICY"
exit "$status"
