#!/usr/bin/env bats
# precedence.bats - the routing precedence, row by row, and `snitch -T`.
#
# One configuration with every level populated, each level's route on a
# demo backend of its own (two protocols, acme-tls/1 and x-b, for the
# ties), so that the backend that answers names the level that won:
#
#   exact_alpn    www.p.localhost       alpn acme-tls/1
#   exact_alpn_b  www.p.localhost       alpn x-b
#   exact         www.p.localhost
#   wild_alpn     *.p.localhost         alpn acme-tls/1
#   wild_alpn_b   *.deep.p.localhost    alpn x-b
#   wild          *.p.localhost
#   wild_deep     *.deep.p.localhost
#   any_alpn      *                     alpn acme-tls/1
#   any_alpn_b    *                     alpn x-b
#   any           *
#   fallback      default
#
# Each row is a real handshake (t/tls.py, Python's ssl, or openssl
# s_client) offering a server name and an ALPN list; the demo's answer
# says which backend completed it.

load lib

PREC_BACKENDS="exact_alpn exact_alpn_b exact wild_alpn wild_alpn_b wild
wild_deep any_alpn any_alpn_b any fallback"

setup_file() {
	snitch_setup_file
}

setup() {
	snitch_setup
}

# alpn_backend NAME PROTOCOL PATTERN... - append an ALPN [backend NAME]
alpn_backend() {
	local name=$1 protocol=$2
	shift 2
	printf '\n[backend %s]\nsocket = %s\nalpn = %s\nnames = %s\n' \
	    "$name" "$T/$name.sock" "$protocol" "$*" >>"$T/snitch.ini"
}

# prec_config - the configuration above in $T/snitch.ini
prec_config() {
	write_config "default = fallback"
	alpn_backend exact_alpn acme-tls/1 www.p.localhost
	alpn_backend exact_alpn_b x-b www.p.localhost
	add_backend exact www.p.localhost
	alpn_backend wild_alpn acme-tls/1 '*.p.localhost'
	alpn_backend wild_alpn_b x-b '*.deep.p.localhost'
	add_backend wild '*.p.localhost'
	add_backend wild_deep '*.deep.p.localhost'
	alpn_backend any_alpn acme-tls/1 '*'
	alpn_backend any_alpn_b x-b '*'
	add_backend any '*'
	add_backend fallback fallback.p.localhost
}

# prec_start - every demo, then snitch with prec_config
prec_start() {
	local b
	for b in $PREC_BACKENDS; do
		start_demo "$b"
	done
	prec_config
	start_snitch
}

# row NAME ALPN BACKEND - a client for NAME (- none) offering ALPN (a
# comma list, - none) completes its handshake with BACKEND
row() {
	local -a args=()
	[ "$1" = - ] || args+=(--name "$1")
	[ "$2" = - ] || args+=(--alpn "$2")
	run tls "${args[@]}"
	if [ "$status" -ne 0 ] || ! grep -qx "backend=$3" <<<"$output"; then
		echo "row $1 [$2]: want backend=$3, got (status $status):"
		echo "$output"
		return 1
	fi
}

@test "every level, its ties and fall-throughs, row by row" {
	prec_start
	# 1 exact name with ALPN; a tie between two protocols: the first offered
	row www.p.localhost acme-tls/1 exact_alpn
	row www.p.localhost h2,acme-tls/1 exact_alpn
	row www.p.localhost x-b,acme-tls/1 exact_alpn_b
	row www.p.localhost acme-tls/1,x-b exact_alpn
	# 2 exact name: no ALPN, or protocols without routes
	row www.p.localhost - exact
	row www.p.localhost h2,http/1.1 exact
	# 3 wildcard with ALPN: above a longer plain wildcard; among ALPN
	# wildcards the longest suffix, whatever the client's order
	row a.p.localhost acme-tls/1 wild_alpn
	row x.deep.p.localhost acme-tls/1 wild_alpn
	row x.deep.p.localhost acme-tls/1,x-b wild_alpn_b
	row a.b.deep.p.localhost x-b wild_alpn_b
	# 4 wildcard, longest suffix; x-b's routes here are only deeper
	# (*.deep) and lower (*): the plain wildcard wins
	row a.p.localhost - wild
	row a.p.localhost x-b wild
	row x.deep.p.localhost h2 wild_deep
	# 5 * with ALPN; a tie: the first offered
	row other.localhost acme-tls/1 any_alpn
	row other.localhost x-b,acme-tls/1 any_alpn_b
	row other.localhost http/1.1,acme-tls/1,x-b any_alpn
	# 6 *
	row other.localhost - any
	row other.localhost h2,http/1.1 any
	row p.localhost x-c any
	# 7 default: no server name, or not a host name, whatever is offered
	row - acme-tls/1 fallback
	row - - fallback
	row x_y.p.localhost acme-tls/1 fallback
}

@test "openssl s_client and curl land where tls.py does" {
	prec_start
	run -0 s_client www.p.localhost -alpn x-b,acme-tls/1
	assert_line "backend=exact_alpn_b"
	run -0 s_client a.deep.p.localhost -alpn acme-tls/1
	assert_line "backend=wild_alpn"
	run -0 s_client other.localhost -alpn acme-tls/1
	assert_line "backend=any_alpn"
	run -0 get_https www.p.localhost --http2
	assert_line "backend=exact"
	run -0 get_https x.deep.p.localhost --http1.1
	assert_line "backend=wild_deep"
}

# table - snitch -T on $T/snitch.ini: stdout only, spaces squeezed
table() {
	"$SNITCH" -T -c "$T/snitch.ini" 2>"$T/table.err" | tr -s ' '
}

@test "snitch -T prints the table in precedence order, exits 0" {
	prec_config
	run -0 table
	assert_output "exact www.p.localhost alpn=acme-tls/1 -> exact_alpn
exact www.p.localhost alpn=x-b -> exact_alpn_b
exact fallback.p.localhost - -> fallback
exact www.p.localhost - -> exact
wildcard *.deep.p.localhost alpn=x-b -> wild_alpn_b
wildcard *.p.localhost alpn=acme-tls/1 -> wild_alpn
wildcard *.deep.p.localhost - -> wild_deep
wildcard *.p.localhost - -> wild
any * alpn=acme-tls/1 -> any_alpn
any * alpn=x-b -> any_alpn_b
any * - -> any
default - - -> fallback"
	run cat "$T/table.err"
	assert_output "configuration OK"
}

@test "snitch -T: patterns as matched, no default row without default, columns line up" {
	write_config
	add_backend web 'WWW.Example.ORG.' '*.Example.org'
	printf '\n[backend acme]\nsocket = %s\nnames = www.example.org\nalpn = acme-tls/1 h2\n' \
	    "$T/acme.sock" >>"$T/snitch.ini"
	run -0 --separate-stderr "$SNITCH" -T -c "$T/snitch.ini"
	assert_line --index 0 "exact    www.example.org alpn=acme-tls/1 -> acme"
	assert_line --index 1 "exact    www.example.org alpn=h2         -> acme"
	assert_line --index 2 "exact    www.example.org -               -> web"
	assert_line --index 3 "wildcard *.example.org   -               -> web"
	[ "${#lines[@]}" -eq 4 ]
}

@test "snitch -T on a bad file: file:line on stderr, nothing on stdout, exit 1" {
	prec_config
	printf 'alpn = x-b\nalpn = x-c\n' >>"$T/snitch.ini"
	local n
	n=$(wc -l <"$T/snitch.ini")
	run "$SNITCH" -T -c "$T/snitch.ini"
	assert_failure 1
	assert_output "$T/snitch.ini:$n: 'alpn' is set twice"
	run bash -c '"$0" -T -c "$1" 2>/dev/null' "$SNITCH" "$T/snitch.ini"
	assert_failure 1
	assert_output ""
}
