# report.awk - the tables of bench/RESULTS.md (run by bench/report.sh).
#
# Input, tab-separated, in this order: raw.tsv (round sys test rate p50
# p90 p99 errors all switch_s backend_s mibps load_s), rss.tsv (round sys
# phase "total role=kB,..."), idle.tsv (round sys held_at_start held_at_end
# dropped connect_s), restart.tsv (round sys signal clients failed connect
# reset timeout short misrouted alert stall_ms away_ms away_max_ms),
# ack.tsv (round sys rate p99 errors all worker_s backend_s; sys snitch
# or snitch-v1), flood.tsv (round sys mode rate p99 errors all connect
# reset timeout short misrouted alert held_up up_s held_end opened closed
# reopened failed settle_s switch_s flood_s; mode none, half or silent),
# proxy.tsv (as raw.tsv, the test being plain, v1 or v2), http.tsv (as
# raw.tsv, the test being http), dribble.tsv (round sys hellos cpu_ns
# seconds outcomes, the outcomes as word:count,...).  The run's
# description comes from the environment; with ONLY=proxy, ONLY=ack,
# ONLY=restart, ONLY=flood, ONLY=http or ONLY=dribble the input is that
# phase's file alone and only its section is written, with its targets.
# The relay runs are raw.tsv rows of tests relay-down and relay-up, their
# system "relay" being SNItch with snitch-relay.
# Medians are over rounds; memory is the largest over rounds.  Run after
# bench/stats.awk (median, add, fmtx).
# fmt_rate, fmt_us, fmt_1, fmt_cpu, mib - numbers for the tables
function fmt_rate(x) {
	return x == "" ? "-" : sprintf("%.0f", x)
}
function fmt_us(x) {
	return x == "" ? "-" : sprintf("%.0f", x)
}
function fmt_1(x) {
	return x == "" ? "-" : sprintf("%.1f", x)
}
function fmt_cpu(x) {
	return x == "" ? "-" : sprintf("%.3f", x)
}
function mib(kb) {
	return sprintf("%.1f", kb / 1024)
}
# verdict - a target met or not
function verdict(ok) {
	return ok ? "met" : "**not met**"
}
# the median over rounds of metric(s1, t1) / metric(s2, t2), each ratio
# taken within one round (of the round's median when a round has several
# runs): rounds differ more than systems in one round.  nr: the rounds
# (default: the main phases')
function paired(metric, s1, t1, s2, t2, nr,    key, r, a, b) {
	key = "pair" SUBSEP metric SUBSEP s1 SUBSEP t1 SUBSEP s2 SUBSEP t2
	cnt[key] = 0
	for (r = 1; r <= (nr ? nr : rounds); r++) {
		a = median("rv" SUBSEP metric SUBSEP s1 SUBSEP t1 SUBSEP r)
		b = median("rv" SUBSEP metric SUBSEP s2 SUBSEP t2 SUBSEP r)
		if (a != "" && b != "" && b > 0)
			add(key, a / b)
	}
	return median(key)
}
# the same for snitch over the best of the three others in each round
function paired_best(metric, t, low,    key, r, s, v, best) {
	key = "pairbest" SUBSEP metric SUBSEP t
	cnt[key] = 0
	for (r = 1; r <= rounds; r++) {
		best = ""
		for (s = 3; s <= 5; s++) {
			v = median("rv" SUBSEP metric SUBSEP sysname[s] SUBSEP t SUBSEP r)
			if (v != "" && (best == "" || (low ? v < best : v > best)))
				best = v
		}
		v = median("rv" SUBSEP metric SUBSEP "snitch" SUBSEP t SUBSEP r)
		if (v != "" && best != "" && best > 0)
			add(key, v / best)
	}
	return median(key)
}
# best_other_name - which of the three others has the best median
function best_other_name(metric, test, low,    s, v, best, name) {
	best = ""
	for (s = 3; s <= 5; s++) {
		v = median(metric SUBSEP sysname[s] SUBSEP test)
		if (v == "")
			continue
		if (best == "" || (low ? v < best : v > best)) {
			best = v; name = sysname[s]
		}
	}
	return name
}
# role_max - in "role=kB,role=kB,...", the largest kB of a role
function role_max(parts, role,    n, i, p, kv, m) {
	n = split(parts, p, ",")
	m = 0
	for (i = 1; i <= n; i++) {
		split(p[i], kv, "=")
		if ((role == "" || kv[1] == role) && kv[2] + 0 > m)
			m = kv[2] + 0
	}
	return m
}
# breakdown - "master 2.1 + 2 x worker 3.6" (MiB) from "role=kB,..."
function breakdown(parts,    n, i, p, kv, role, c, sum, order, no, out) {
	n = split(parts, p, ",")
	no = 0
	for (i = 1; i <= n; i++) {
		split(p[i], kv, "=")
		role = kv[1]
		if (!(role in c)) {
			order[++no] = role
			c[role] = 0
			sum[role] = 0
		}
		c[role]++
		if (kv[2] + 0 > sum[role])
			sum[role] = kv[2] + 0
	}
	out = ""
	for (i = 1; i <= no; i++)
		out = out (out == "" ? "" : " + ") (c[order[i]] > 1 ? c[order[i]] " x " : "") \
		    order[i] " " mib(sum[order[i]])
	return out
}
# header - a table's first two lines: "| system |", a column per test
# (t1..t2 of test[], each label[] with prefix), then extra columns
function header(prefix, t1, t2, extra, nextra,    t) {
	printf "| system |"
	for (t = t1; t <= t2; t++)
		printf " %s%s |", prefix, label[test[t]]
	printf "%s\n|---|", extra
	for (t = t1; t <= t2 + nextra; t++)
		printf "---:|"
	printf "\n"
}
# ratio_rows - for each system but direct, metric's ratio to direct per test
function ratio_rows(metric,    s, t) {
	for (s = 2; s <= nsys; s++) {
		printf "| %s |", sysname[s]
		for (t = 1; t <= ntest + 1; t++)
			printf " %s |", fmtx(paired(metric, sysname[s], test[t], "direct", test[t]))
		printf "\n"
	}
}
# run_row T - a bench-load run's row (raw.tsv's, proxy.tsv's: round sys
# test rate p50 p90 p99 errors all switch_s backend_s mibps load_s) as
# test T: rate, latency and CPU per 10,000 connections, and per round
function run_row(t,    r, s) {
	r = $1; s = $2
	add("rate" SUBSEP s SUBSEP t, $4)
	add("p50" SUBSEP s SUBSEP t, $5)
	add("p90" SUBSEP s SUBSEP t, $6)
	add("p99" SUBSEP s SUBSEP t, $7)
	if ($9 > 0) {
		add("cpu" SUBSEP s SUBSEP t, $10 / $9 * 10000)
		add("bcpu" SUBSEP s SUBSEP t, $11 / $9 * 10000)
	}
	add("rv" SUBSEP "rate" SUBSEP s SUBSEP t SUBSEP r, $4)
	add("rv" SUBSEP "p99" SUBSEP s SUBSEP t SUBSEP r, $7)
}
FILENAME ~ /proxy.tsv$/ {
	# the PROXY phase's runs, tests "pp-" plain, v1 or v2: apart from the
	# main phases' (their rounds too)
	run_row("pp-" $3)
	pp_all[$2, $3] += $9
	pp_errors[$2] += $8
	pp_runs[$2]++
	if ($1 > proxy_rounds)
		proxy_rounds = $1
	next
}
FILENAME ~ /http.tsv$/ {
	# the HTTP routing runs, test "http": apart from the main phases'
	# (their rounds too)
	run_row("http")
	http_errors[$2] += $8
	http_runs[$2]++
	if ($1 > http_rounds)
		http_rounds = $1
	next
}
FILENAME ~ /raw.tsv$/ {
	r = $1; s = $2; t = $3
	run_row(t)
	add("mibps" SUBSEP s SUBSEP t, $12)
	add("rv" SUBSEP "mibps" SUBSEP s SUBSEP t SUBSEP r, $12)
	if (t ~ /^relay-/ && $9 > 0) {
		# CPU seconds per GiB moved: completed connections x RELAY_MIB
		gib = $9 * ENVIRON["RELAY_MIB"] / 1024
		add("gcpu" SUBSEP s SUBSEP t, $10 / gib)
		# every process on the path: loopback TCP charges the receiver's
		# softirq work to whichever process sends, so only the sum is
		# comparable from path to path
		add("gall" SUBSEP s SUBSEP t, ($10 + $11 + $13) / gib)
		add("rv" SUBSEP "gcpu" SUBSEP s SUBSEP t SUBSEP r, $10 / gib)
	}
	add("scpu" SUBSEP s SUBSEP t, $10)
	errors[s] += $8
	runs[s]++
	perround[s, r] = (t == "r20x") ? $4 : perround[s, r]
	if (r > rounds)
		rounds = r
	next
}
FILENAME ~ /rss.tsv$/ {
	# round sys phase total parts: keep the round with the largest total,
	# and every round's parts for the largest of one role
	split($4, tp, " ")
	key = $2 SUBSEP $3
	if (!(key in rss_total) || tp[1] + 0 > rss_total[key] + 0) {
		rss_total[key] = tp[1]
		rss_top[key] = tp[2]
	}
	rss_parts[key] = rss_parts[key] (rss_parts[key] == "" ? "" : ",") tp[2]
	next
}
FILENAME ~ /restart.tsv$/ {
	# round sys signal clients failed connect reset timeout short
	# misrouted alert stall_ms away_ms away_max_ms
	key = $2 SUBSEP $3
	add("rs_clients" SUBSEP key, $4)
	add("rs_failed" SUBSEP key, $5)
	for (i = 6; i <= 11; i++)
		add("rs_" i SUBSEP key, $i)
	add("rs_stall" SUBSEP key, $12)
	add("rs_away" SUBSEP key, $13)
	add("rs_away_max" SUBSEP key, $14)
	if ($1 > restart_rounds)
		restart_rounds = $1
	next
}
FILENAME ~ /ack.tsv$/ {
	# round sys rate p99 errors all worker_s backend_s
	r = $1; s = $2
	add("ak_rate" SUBSEP s, $3)
	add("ak_p99" SUBSEP s, $4)
	ak["rate", s, r] = $3
	ak["p99", s, r] = $4
	if ($6 > 0) {
		add("ak_wus" SUBSEP s, $7 / $6 * 1e6)
		add("ak_bus" SUBSEP s, $8 / $6 * 1e6)
		ak["wus", s, r] = $7 / $6 * 1e6
		ak["bus", s, r] = $8 / $6 * 1e6
	}
	ak_errors[s] += $5
	ak_runs[s]++
	if (r > ack_rounds)
		ack_rounds = r
	next
}
FILENAME ~ /flood.tsv$/ {
	# round sys mode rate p99 errors all connect reset timeout short
	# misrouted alert held_up up_s held_end opened closed reopened failed
	# settle_s switch_s flood_s (one round: a run's row is its figure)
	key = $2 SUBSEP $3
	for (i = 4; i <= 23; i++)
		fl[i, key] = $i
	next
}
FILENAME ~ /dribble.tsv$/ {
	# round sys hellos cpu_ns seconds outcomes (word:count,...)
	if ($3 > 0)
		add("dr_ms" SUBSEP $2, $4 / $3 / 1e6)
	add("dr_s" SUBSEP $2, $5)
	n = split($6, parts, ",")
	for (i = 1; i <= n; i++)
		if (split(parts[i], wc, ":") == 2)
			dr_seen[$2, wc[1]] += wc[2]
	if ($1 > dribble_rounds)
		dribble_rounds = $1
	next
}
FILENAME ~ /idle.tsv$/ {
	# round sys held_at_start held_at_end dropped connect_s
	add("held" SUBSEP $2, $3)
	add("connect_s" SUBSEP $2, $6)
	add("held_end" SUBSEP $2, $4)
	add("dropped" SUBSEP $2, $5)
	next
}
# idle_rounds_rate - a system's median c=20, x25519 rate over the rounds
# that had the idle runs, the rate without them
function idle_rounds_rate(s,    key, r, v) {
	key = "idlerounds" SUBSEP s
	cnt[key] = 0
	for (r = 1; r <= rounds; r++)
		if (median("rv" SUBSEP "rate" SUBSEP s SUBSEP "idle" SUBSEP r) != "" &&
		    (v = median("rv" SUBSEP "rate" SUBSEP s SUBSEP "r20x" SUBSEP r)) != "")
			add(key, v)
	return median(key)
}
# restart_label - a system's row name in the restart tables
function restart_label(s) {
	if (s == "direct")
		return "direct (no switch)"
	if (s == "snitch")
		return "snitch, libsnitch backend"
	if (s == "snitch-v1")
		return "snitch, version-1 backend"
	if (s == "haproxy")
		return "haproxy (retries 3, option redispatch)"
	if (s == "nginx")
		return "nginx (proxy_next_upstream, 3 tries)"
	return s
}
# restart_cell - "failed / clients" of a system and signal, medians
function restart_cell(s, sig,    f, c) {
	f = median("rs_failed" SUBSEP s SUBSEP sig)
	c = median("rs_clients" SUBSEP s SUBSEP sig)
	return f == "" ? "-" : sprintf("%d / %d", f, c)
}
# restart_section - the restart phase's tables
function restart_section(    n, sys, s, i, sig, k) {
	n = split(ENVIRON["RESTART_SYSTEMS_LIST"], sys, " ")
	printf "## Backend restart (failed clients of N)\n\n"
	printf "Measured by `%s` (bench/run.sh, restart_phase: a phase of make bench, the only\n", ENVIRON["COMMAND"]
	printf "one of make bench-restart), on a fresh set of the same processes: for each system,\n"
	printf "`bench-load -c %d -d %d -w 0 -o 5000` (a closed loop; N is every client it started) while the\n", ENVIRON["RESTART_CONC"], ENVIRON["RESTART_SECS"]
	printf "backend of a.bench.test is restarted %d times, every %.1f s from the load's start: SIGKILL, or\n", ENVIRON["RESTART_COUNT"], ENVIRON["RESTART_EVERY_MS"] / 1000
	printf "SIGTERM and its exit awaited (bench-backend then takes no new connection and serves those it was\n"
	printf "given; after %d s it would be killed: %d were), then the same program started again at once on the\n", ENVIRON["RESTART_WAIT_MS"] / 1000, ENVIRON["RESTART_OVERDUE"]
	printf "same TCP port and SNItch socket, with the same environment. The backend of b.bench.test stays up\n"
	printf "(half the clients). Every system's backend is stopped and started by the same code. HAProxy:\n"
	printf "retries 3, option redispatch, timeout connect 1s (a refused connect is retried 1 s later). nginx:\n"
	printf "proxy_next_upstream on, tries 3, timeout 2s, the backend's one address listed 3 times in its\n"
	printf "upstream (max_fails=0), since nginx tries the next server, never the same one again. SNItch: the\n"
	printf "config of the other phases; a backend whose socket is missing or refuses holds its clients up to\n"
	printf "handoff_timeout (2 s). \"snitch, libsnitch backend\": the bench-backend as in the other phases,\n"
	printf "libsnitch speaking handoff protocol version 2 (it says HELLO and acknowledges each handoff; the\n"
	printf "worker keeps its copy of a socket until then and hands it again if the backend dies first).\n"
	printf "\"snitch, version-1 backend\": a second SNItch, same build and config, on its own port, whose two\n"
	printf "backends are the same bench-backend program started with SNITCH_HANDOFF_VERSION=1 in its\n"
	printf "environment (version 1: no HELLO, no ACK; the worker keeps its copy until the kernel says the\nbackend received it); in its runs, its own\n"
	printf "a.bench.test backend is the one restarted. sniproxy: the config of the other phases (it has no\n"
	printf "retry). direct: bench-load connects to the backends themselves. A failed client is a refused or\n"
	printf "reset connect, a reset, a timeout (5 s), a short or empty reply, an alert, or another backend's\n"
	printf "reply. A closed loop starts the next client as soon as one fails, so a system that fails clients\n"
	printf "at once fails more of them than one that makes them wait: the second table gives the longest time\n"
	printf "in which no client completed. The phase took %d s; ", ENVIRON["RESTART_ELAPSED"]
	if (restart_rounds == 1)
		printf "one round (make bench stays under 10\nminutes): no median.\n\n"
	else
		printf "median over %d rounds.\n\n", restart_rounds
	printf "| system | SIGKILL x%d: failed / total | graceful x%d: failed / total |\n|---|---:|---:|\n", ENVIRON["RESTART_COUNT"], ENVIRON["RESTART_COUNT"]
	for (i = 1; i <= n; i++)
		printf "| %s | %s | %s |\n", restart_label(sys[i]), restart_cell(sys[i], "KILL"), restart_cell(sys[i], "TERM")
	printf "\nHow the clients failed (bench-load's count of each kind), the longest time in the run in which no\n"
	printf "client completed (from the load's start to its end; a system that holds clients shows its waits\n"
	printf "there), and how long the backend was away (from the signal until its new socket listened; the\n"
	printf "median of the %d restarts):\n\n", ENVIRON["RESTART_COUNT"]
	printf "| system | restart | connect | reset | timeout | short | misrouted | alert | longest stall, ms | backend away, ms |\n"
	printf "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= n; i++)
		for (k = 1; k <= 2; k++) {
			sig = k == 1 ? "KILL" : "TERM"
			if (median("rs_clients" SUBSEP sys[i] SUBSEP sig) == "")
				continue
			printf "| %s | %s |", restart_label(sys[i]), k == 1 ? "SIGKILL" : "graceful"
			for (s = 6; s <= 11; s++)
				printf " %d |", median("rs_" s SUBSEP sys[i] SUBSEP sig)
			printf " %.0f | %.0f |\n", median("rs_stall" SUBSEP sys[i] SUBSEP sig), median("rs_away" SUBSEP sys[i] SUBSEP sig)
		}
	printf "\nSNItch's counters at the end of the restart runs (`snitch -s`), with the libsnitch backend:\n\n```\n%s\n```\n", ENVIRON["RESTART_SNITCH_STATS"]
	printf "\nWith the version-1 backend:\n\n```\n%s\n```\n", ENVIRON["RESTART_SNITCH_V1_STATS"]
}
# restart_targets - the issue's targets for the restart runs, as rows of
# the targets table ("a handful" taken as 5 at most)
function restart_targets(    v1, hap, f) {
	v1 = median("rs_failed" SUBSEP "snitch-v1" SUBSEP "KILL")
	hap = median("rs_failed" SUBSEP "haproxy" SUBSEP "KILL")
	printf "| SIGKILL restarts of a version-1 backend: no more failed clients than HAProxy | %s (haproxy %s) | %s |\n",
	    v1 == "" ? "-" : v1, hap == "" ? "-" : hap, verdict(v1 != "" && hap != "" && v1 <= hap)
	f = median("rs_failed" SUBSEP "snitch" SUBSEP "KILL")
	printf "| SIGKILL restarts of a libsnitch backend: only the acknowledged and unanswered (a handful: <= 5) | %s | %s |\n",
	    f == "" ? "-" : f, verdict(f != "" && f <= 5)
	f = median("rs_failed" SUBSEP "snitch" SUBSEP "TERM")
	printf "| graceful restarts, libsnitch backend: 0 failed | %s | %s |\n", f == "" ? "-" : f, verdict(f != "" && f == 0)
	f = median("rs_failed" SUBSEP "snitch-v1" SUBSEP "TERM")
	printf "| graceful restarts, version-1 backend: 0 failed | %s | %s |\n", f == "" ? "-" : f, verdict(f != "" && f == 0)
}
# ack_paired - the median over rounds of metric(snitch) / metric(snitch-v1),
# each ratio within one round
function ack_paired(metric,    key, r) {
	key = "akpair" SUBSEP metric
	cnt[key] = 0
	for (r = 1; r <= ack_rounds; r++)
		if (((metric, "snitch", r) in ak) && ((metric, "snitch-v1", r) in ak) &&
		    ak[metric, "snitch-v1", r] > 0)
			add(key, ak[metric, "snitch", r] / ak[metric, "snitch-v1", r])
	return median(key)
}
# ack_section - the acknowledgement phase's tables
function ack_section(    i, s, n, sys, lbl, r, v) {
	n = split("snitch snitch-v1", sys, " ")
	lbl["snitch"] = "version 2 (libsnitch's default)"
	lbl["snitch-v1"] = "version 1 (SNITCH_HANDOFF_VERSION=1)"
	printf "## Cost of acknowledgements (handoff protocol version 2 against 1)\n\n"
	printf "Measured by `%s` (bench/run.sh, ack_phase: the phase before the restart runs in make bench,\n", ENVIRON["COMMAND"]
	printf "the only one of make bench-ack), on a fresh set of processes: two SNItch of the same build and\n"
	printf "config (the other phases': %s workers, per-connection log to /dev/null), each on its own port. One\n", ENVIRON["WORKERS"]
	printf "routes to the two bench-backends as started in the other phases, whose libsnitch speaks handoff\n"
	printf "protocol version 2 (it says HELLO and acknowledges each handoff; the worker keeps its copy of the\n"
	printf "socket until the ACK); the other to two more of the same program started with\n"
	printf "SNITCH_HANDOFF_VERSION=1 in their environment (version 1: no HELLO, no ACK; the worker hands and\n"
	printf "forgets). Each of %d rounds runs `bench-load -c 20 -k x25519 -d %d -w %s -o 5000` once against\n", ack_rounds, ENVIRON["ACK_SECS"], ENVIRON["WARM"]
	printf "each, the one that goes first alternating from round to round. conn/s and p99 (connect to reply\n"
	printf "EOF) as bench-load reports them; worker CPU: utime+stime of the SNItch master's children (its\n"
	printf "workers, /proc/PID/stat, %s ticks/s) over the connections completed, warm-up included; backend\n", ENVIRON["HZ"]
	printf "CPU: the same for the switch's two bench-backends. Medians over rounds; the last row is version 2\n"
	printf "over version 1 within each round, then the median. The phase took %d s.\n\n", ENVIRON["ACK_ELAPSED"]
	printf "| backends | conn/s | p99 us | worker CPU us/conn | backend CPU us/conn | errors (runs) |\n"
	printf "|---|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= n; i++) {
		s = sys[i]
		printf "| %s | %s | %s | %s | %s | %d (%d) |\n", lbl[s],
		    fmt_rate(median("ak_rate" SUBSEP s)), fmt_us(median("ak_p99" SUBSEP s)),
		    fmt_1(median("ak_wus" SUBSEP s)), fmt_1(median("ak_bus" SUBSEP s)),
		    ak_errors[s], ak_runs[s]
	}
	printf "| version 2 / version 1 | %s | %s | %s | %s | - |\n", fmtx(ack_paired("rate")),
	    fmtx(ack_paired("p99")), fmtx(ack_paired("wus")), fmtx(ack_paired("bus"))
	per_round_head("backends", ack_rounds)
	for (i = 1; i <= n; i++) {
		printf "| %s |", lbl[sys[i]]
		for (r = 1; r <= ack_rounds; r++)
			printf " %s |", (("rate", sys[i], r) in ak) ? fmt_rate(ak["rate", sys[i], r]) : "-"
		printf "\n"
	}
	printf "| version 2 / version 1 |"
	for (r = 1; r <= ack_rounds; r++) {
		v = ""
		if ((("rate", "snitch", r) in ak) && (("rate", "snitch-v1", r) in ak) &&
		    ak["rate", "snitch-v1", r] > 0)
			v = ak["rate", "snitch", r] / ak["rate", "snitch-v1", r]
		printf " %s |", fmtx(v)
	}
	printf "\n"
}
# ack_targets - the issue's target for the acknowledgement runs, a row
function ack_targets(    v) {
	v = ack_paired("rate")
	printf "| rate with acknowledgements within 5%% of without (version 2 / version 1 >= 0.95x) | %s | %s |\n",
	    fmtx(v), verdict(v != "" && v >= 0.95)
}
# flood_success - the percentage of a flood run's clients served, ""
# when it started none
function flood_success(s, mode,    key, all, failed) {
	key = s SUBSEP mode
	if (!((4, key) in fl))
		return ""
	all = fl[7, key]; failed = fl[6, key]
	return all + failed > 0 ? 100 * all / (all + failed) : ""
}
# flood_p99_ms - a flood run's p99 in ms, "" when it served none
function flood_p99_ms(s, mode,    key) {
	key = s SUBSEP mode
	if (!((4, key) in fl) || fl[4, key] + 0 == 0)
		return ""
	return fl[5, key] / 1000
}
# flood_ratio - a flood run's conn/s over the same system's without
function flood_ratio(s, mode,    a, b) {
	a = fl[4, s SUBSEP mode]; b = fl[4, s SUBSEP "none"]
	return a == "" || b == "" || b + 0 == 0 ? "" : a / b
}
# fmt_pct, fmt_ms - a percentage, a latency in ms; "-" for none
function fmt_pct(x) {
	return x == "" ? "-" : sprintf("%.1f%%", x)
}
function fmt_ms(x) {
	return x == "" ? "-" : sprintf("%.1f", x)
}
# flood_setup - FLOOD_SETUP's lines (sys, descriptor limits, backlog)
# into fl_nofile[] and fl_backlog[]
function flood_setup(    n, i, lines, f) {
	n = split(ENVIRON["FLOOD_SETUP"], lines, "\n")
	for (i = 1; i <= n; i++) {
		if (split(lines[i], f, "\t") < 3)
			continue
		fl_nofile[f[1]] = f[2]
		fl_backlog[f[1]] = f[3]
	}
}
# flood_knob - what a system was given to hold the flood
function flood_knob(s) {
	if (s == "snitch")
		return "nothing: its config has listen, user, workers, stats and the backends, every other key (max_pending, peek_timeout, defer_accept, source_penalty...) at its default"
	if (s == "haproxy")
		return sprintf("global maxconn %d (no strict-limits)", ENVIRON["FLOOD_MAXCONN"])
	if (s == "nginx")
		return sprintf("worker_rlimit_nofile %d, worker_connections %d", ENVIRON["FLOOD_PEER_NOFILE"], ENVIRON["FLOOD_PEER_NOFILE"] - 100)
	if (s == "sniproxy")
		return sprintf("-n %d (max file descriptor limit), each of its 2 instances", ENVIRON["FLOOD_PEER_NOFILE"])
	return "-"
}
# flood_section - the flood phase's tables
function flood_section(    n, sys, i, s, m, nm, modes, mlabel, key, k, other) {
	n = split("snitch haproxy nginx sniproxy", sys, " ")
	nm = split("none half silent", modes, " ")
	mlabel["none"] = "no flood"
	mlabel["half"] = sprintf("%d half-hellos", ENVIRON["FLOOD_N"])
	mlabel["silent"] = sprintf("%d silent", ENVIRON["FLOOD_N"])
	flood_setup()
	printf "## Flood (real clients while a flood is held)\n\n"
	printf "Measured by `%s` (bench/run.sh, flood_phase: a phase of make bench, the only one\n", ENVIRON["COMMAND"]
	printf "of make bench-flood), on a fresh set of processes: the two bench-backends and the four switches,\n"
	printf "SNItch with its default configuration (below). For each system in turn,\n"
	printf "`bench-load -c %d -k x25519 -d %d -w %s -o %d` (a closed loop from 64 sources,\n", ENVIRON["FLOOD_CONC"], ENVIRON["FLOOD_SECS"], ENVIRON["WARM"], ENVIRON["FLOOD_TIMEOUT_MS"]
	printf "127.0.1.1-64): with no flood, then while %d half-hellos are held, then while %d silent\n", ENVIRON["FLOOD_N"], ENVIRON["FLOOD_N"]
	printf "connections are held. A flood is %d bench-flood processes (bench/flood.c), %d connections\n", ENVIRON["FLOOD_PROCS"], ENVIRON["FLOOD_N"] / ENVIRON["FLOOD_PROCS"]
	printf "each, each from its own 254 loopback sources (127.0.2.1-254, 127.0.3.1-254, ...: %d in all; the\n", 254 * ENVIRON["FLOOD_PROCS"]
	printf "silent flood from as many others, from 127.0.%d.1 on, so that it meets no penalty the first earned). A\n", 2 + ENVIRON["FLOOD_PROCS"]
	printf "half-hello is the first 40 bytes of a ClientHello whose record header claims 512 bytes; a\n"
	printf "silent connection sends nothing. Each process opens at most %d a second, 1,000 connects in\n", ENVIRON["FLOOD_RATE"]
	printf "flight, gives up on a connect after 3 s (counted as failed, and tried again), and opens again any\n"
	printf "connection the switch closes: against a switch that closes them, the flood is as fast as that pace\n"
	printf "allows, %d connects a second in all. The clients start once the flood is up (every connection\n", ENVIRON["FLOOD_RATE"] * ENVIRON["FLOOD_PROCS"]
	printf "connected, or none more for 2 s, or %d s) and 0.5 s more; then the flood ends (each connection\n", ENVIRON["FLOOD_WAIT"]
	printf "reset) and the switch settles (fewer than 50 client connections left, then 1 s) before the next\n"
	printf "run. Success: clients served / clients started, warm-up included (a client not served within\n"
	printf "%.1f s counts as failed, as do a refused or reset connect, a short or misrouted reply and an\n", ENVIRON["FLOOD_TIMEOUT_MS"] / 1000
	printf "alert); conn/s: clients served in the %d s; p99: theirs, connect to the reply's EOF, in ms (\"-\":\n", ENVIRON["FLOOD_SECS"]
	printf "none served). One run each: no median. The phase took %d s.\n\n", ENVIRON["FLOOD_ELAPSED"]
	printf "| system |"
	for (m = 1; m <= nm; m++)
		printf " %s: success | conn/s | p99 ms |", mlabel[modes[m]]
	printf "\n|---|"
	for (m = 1; m <= nm; m++)
		printf "---:|---:|---:|"
	printf "\n"
	for (i = 1; i <= n; i++) {
		s = sys[i]
		printf "| %s |", s
		for (m = 1; m <= nm; m++)
			printf " %s | %s | %s |", fmt_pct(flood_success(s, modes[m])),
			    fmt_rate(fl[4, s SUBSEP modes[m]]), fmt_ms(flood_p99_ms(s, modes[m]))
		printf "\n"
	}
	printf "\nThe floods, as their processes saw them: connected when the flood was up (of %d; what\n", ENVIRON["FLOOD_N"]
	printf "the kernel completed counts, accepted by the switch or still in its queue) and how long that took;\n"
	printf "then, to the flood's end: connections the switch closed, connects that replaced one, connects\n"
	printf "that failed (refused, reset, or no answer in 3 s); the clients' failures by kind; CPU seconds,\n"
	printf "while the clients ran (%.1f s), of the switch's processes and of the flood's (the machine's %d\n", ENVIRON["FLOOD_SECS"] + ENVIRON["WARM"], ENVIRON["NCPU"]
	printf "CPUs are shared by both, the clients and the backends); the time the switch took to settle.\n"
	printf "SNItch's failed connects are the flood's SYNs that its source penalty dropped (source_penalty,\n"
	printf "on by default: a netblock whose connections keep stalling is shut out in the kernel for 30 s),\n"
	printf "so the flood cannot open again what SNItch closes.\n\n"
	printf "| system | flood | connected | seconds to connect | closed by the switch | reopened | failed connects | clients: timeout / refused / reset / other | switch CPU s | flood CPU s | settle s |\n"
	printf "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|\n"
	for (i = 1; i <= n; i++)
		for (m = 2; m <= nm; m++) {
			s = sys[i]
			key = s SUBSEP modes[m]
			if (!((4, key) in fl))
				continue
			other = fl[11, key] + fl[12, key] + fl[13, key]
			printf "| %s | %s | %s | %s | %s | %s | %s | %d / %d / %d / %d | %s | %s | %s |\n", s, mlabel[modes[m]],
			    fl[14, key], fl[15, key], fl[18, key], fl[19, key], fl[20, key],
			    fl[10, key], fl[8, key], fl[9, key], other, fl[22, key], fl[23, key],
			    fl[21, key]
		}
	printf "\nWhat each system was given to hold %d connections, the descriptor limit each of its\n", ENVIRON["FLOOD_N"]
	printf "processes ran with (soft, from /proc/PID/limits), and its listener's accept queue (the backlog,\n"
	printf "ss's Send-Q, which net.core.somaxconn caps). No process may raise its limit past the hard limit\n"
	printf "(no CAP_SYS_RESOURCE), whatever it asks for.\n\n"
	printf "| system | set for the flood | descriptor limit | backlog |\n|---|---|---|---:|\n"
	for (i = 1; i <= n; i++)
		printf "| %s | %s | %s | %s |\n", sys[i], flood_knob(sys[i]),
		    fl_nofile[sys[i]] == "" ? "-" : fl_nofile[sys[i]],
		    fl_backlog[sys[i]] == "" ? "-" : fl_backlog[sys[i]]
	printf "\nKernel settings, as they were (the benchmark changes none): %s.\n", ENVIRON["FLOOD_KERNEL"]
	printf "\nSNItch's counters at the end of the flood runs (`snitch -s`):\n\n```\n%s\n```\n", ENVIRON["FLOOD_SNITCH_STATS"]
}
# flood_targets - the issue's targets for the flood runs, as rows of the
# targets table: SNItch under each flood
function flood_targets(    m, mode, lbl, v) {
	for (m = 1; m <= 2; m++) {
		mode = m == 1 ? "half" : "silent"
		lbl = sprintf("%d %s held", ENVIRON["FLOOD_N"], mode == "half" ? "half-hellos" : "silent connections")
		v = flood_success("snitch", mode)
		printf "| %s: clients succeed >= 99%% | %s | %s |\n", lbl, fmt_pct(v), verdict(v != "" && v >= 99)
		v = flood_ratio("snitch", mode)
		printf "| %s: conn/s >= 0.5x without a flood | %s | %s |\n", lbl, fmtx(v), verdict(v != "" && v >= 0.5)
		v = flood_p99_ms("snitch", mode)
		printf "| %s: p99 < 100 ms | %s | %s |\n", lbl, v == "" ? "- (none served)" : fmt_ms(v) " ms", verdict(v != "" && v < 100)
	}
}
# proxy_told_of - how many 198.51.100.x clients the backends were told
# of by system s, by its way of passing the client on (PROXY_TOLD:
# "handoff v1 v2"); "-" for sniproxy, which passes none on
function proxy_told_of(s,    told) {
	split(ENVIRON["PROXY_TOLD"], told, " ")
	if (s == "snitch")
		return told[1]
	if (s == "nginx")
		return told[2]
	if (s == "haproxy")
		return told[3]
	return "-"
}
# proxy_how - a system's PROXY input, and what it passes on
function proxy_how(s) {
	if (s == "snitch")
		return "proxy_protocol = its second listener, proxy_from = 127.0.0.0/8 | the PROXY v2 header of its handoff (on every listener)"
	if (s == "haproxy")
		return "a second bind with accept-proxy | send-proxy-v2 on its servers"
	if (s == "nginx")
		return "a second listen with proxy_protocol, set_real_ip_from 127.0.0.0/8 | proxy_protocol on (version 1)"
	return "**not supported** | nothing (a plain connect: the backend sees sniproxy's address)"
}
# proxy_section - the PROXY phase's tables
function proxy_section(    n, sys, nv, ver, i, v, s, t, through, cpu) {
	n = split("snitch haproxy nginx sniproxy", sys, " ")
	nv = split(ENVIRON["PROXY_VERSIONS_LIST"], ver, " ")
	printf "## PROXY input (a PROXY protocol header in front of the hello)\n\n"
	printf "Measured by `%s` (bench/run.sh, proxy_phase: after the main phases of make bench, the only\n", ENVIRON["COMMAND"]
	printf "one of make bench-proxy), on a fresh set of processes: the two bench-backends (-x: a TCP connection\n"
	printf "begins with a PROXY header, read before the hello) and the four switches with the other phases'\n"
	printf "configs and a second listener on its own port that takes a PROXY header (below), as behind a load\n"
	printf "balancer. %s runs `bench-load -c %d -k x25519 -d %s -w %s -o 5000` once on each system's\n", proxy_rounds == 1 ? "One round" : "Each of " proxy_rounds " rounds", ENVIRON["PROXY_CONC"], ENVIRON["PROXY_SECS"], ENVIRON["WARM"]
	printf "plain listener and, with `-P N` added, once on its PROXY listener for each header version N:\n"
	printf "every connection then sends the header and the hello in one send (one segment), the header naming a\n"
	printf "fake client, 198.51.100.1-254 and a port, another one for each connection. The systems, and each one's\n"
	printf "runs, go in a new order each round. conn/s and p50 / p99 (connect to the reply's EOF, us) are medians\n"
	printf "over rounds; \"/ plain\" is the PROXY run over the same system's plain run within each round, then\n"
	printf "the median: the cost of the header. Switch CPU: seconds of all its processes per 10,000 connections\n"
	printf "(median). Each system passes the client on to the backends on both its listeners, so that the\n"
	printf "backends do the same work in its two runs. The phase took %d s.\n\n", ENVIRON["PROXY_ELAPSED"]
	printf "| system | plain: conn/s | p50 / p99 |"
	for (v = 1; v <= nv; v++)
		printf " PROXY v%s: conn/s | p50 / p99 | / plain: conn/s | / plain: p99 |", ver[v]
	printf " switch CPU: plain"
	for (v = 1; v <= nv; v++)
		printf " / v%s", ver[v]
	printf " | errors (runs) |\n|---|---:|---:|"
	for (v = 1; v <= nv; v++)
		printf "---:|---:|---:|---:|"
	printf "---:|---:|\n"
	for (i = 1; i <= n; i++) {
		s = sys[i]
		printf "| %s | %s | %s / %s |", s, fmt_rate(median("rate" SUBSEP s SUBSEP "pp-plain")),
		    fmt_us(median("p50" SUBSEP s SUBSEP "pp-plain")), fmt_us(median("p99" SUBSEP s SUBSEP "pp-plain"))
		cpu = fmt_cpu(median("cpu" SUBSEP s SUBSEP "pp-plain"))
		for (v = 1; v <= nv; v++) {
			t = "pp-v" ver[v]
			if (s == "sniproxy") {
				printf " not supported | - | - | - |"
				continue
			}
			printf " %s | %s / %s | %s | %s |", fmt_rate(median("rate" SUBSEP s SUBSEP t)),
			    fmt_us(median("p50" SUBSEP s SUBSEP t)), fmt_us(median("p99" SUBSEP s SUBSEP t)),
			    fmtx(paired("rate", s, t, s, "pp-plain", proxy_rounds)),
			    fmtx(paired("p99", s, t, s, "pp-plain", proxy_rounds))
			cpu = cpu " / " fmt_cpu(median("cpu" SUBSEP s SUBSEP t))
		}
		printf " %s | %d (%d) |\n", cpu, pp_errors[s], pp_runs[s]
	}
	printf "\nHow each takes the header, what it passes on to the backends, and how many clients from\n"
	printf "198.51.100.0/24 the backends were told of that way (counted by bench-backend, both backends, the\n"
	printf "phase's warm-ups included), against the connections bench-load completed through that system's\n"
	printf "PROXY listener (warm-ups included):\n\n"
	printf "| system | PROXY input | passed on to the backends | backends told of a 198.51.100.x client | completed through its PROXY listener |\n"
	printf "|---|---|---|---:|---:|\n"
	for (i = 1; i <= n; i++) {
		s = sys[i]
		through = 0
		for (v = 1; v <= nv; v++)
			through += pp_all[s, "v" ver[v]]
		printf "| %s | %s | %s | %s |\n", s, proxy_how(s), proxy_told_of(s), s == "sniproxy" ? "-" : through
	}
	printf "\nSNItch's counters at the end of the PROXY runs (`snitch -s`):\n\n```\n%s\n```\n", ENVIRON["PROXY_SNITCH_STATS"]
}
# http_how - how a system routes plain HTTP by Host in the HTTP phase
function http_how(s) {
	if (s == "direct")
		return "no switch: bench-load connects to the backends' TCP ports"
	if (s == "snitch")
		return "listen_http: the request head peeked, the socket handed off with the request unread"
	if (s == "haproxy")
		return "mode http, use_backend if { hdr(host) -i NAME }"
	if (s == "nginx")
		return "http, map $host to the backend, proxy_pass http://$backend, proxy_http_version 1.1, access_log off"
	return "protocol http, a regex table; 2 instances, reuseport"
}
# http_section - the HTTP routing phase's tables
function http_section(    n, sys, i, s, r, v) {
	n = split("direct snitch haproxy nginx sniproxy", sys, " ")
	printf "## HTTP routing (plain HTTP by Host)\n\n"
	printf "Measured by `%s` (bench/run.sh, http_phase: a phase of make bench, the only one\n", ENVIRON["COMMAND"]
	printf "of make bench-http), on a fresh set of processes: the two bench-backends with -h (they read a\n"
	printf "request head to its blank line and answer `HTTP/1.1 200 OK` with Content-Length, Connection:\n"
	printf "close and a 64-byte body of their letter, then close; TCP for direct and the proxies, libsnitch\n"
	printf "for SNItch) and the four switches, %s workers or processes each, routing plain HTTP by its Host,\n", ENVIRON["WORKERS"]
	printf "a.bench.test and b.bench.test, to them (how, below). %s runs\n", http_rounds == 1 ? "One round" : "Each of " http_rounds " rounds"
	printf "`bench-load -h -c %d -d %s -w %s -o 5000` once against each system, in a new order each round:\n", ENVIRON["HTTP_CONC"], ENVIRON["HTTP_SECS"], ENVIRON["WARM"]
	printf "a closed loop where each connection sends `GET / HTTP/1.1`, `Host: a.bench.test` (or b, alternating)\n"
	printf "and `Connection: close`, reads to EOF and closes; it is served only if the response starts with an\n"
	printf "HTTP/1.x status line of 200 and its body is the 64 bytes of the Host's backend (any other status, a\n"
	printf "reset, a short or misrouted body is an error). conn/s and p50 / p99 (connect to the response's\n"
	printf "EOF, us) are medians over rounds; \"/ direct\" is the system's rate over direct's within each round,\n"
	printf "then the median. CPU: seconds of all the switch's processes, and of both backends, per 10,000\n"
	printf "connections (median). The phase took %d s.\n\n", ENVIRON["HTTP_ELAPSED"]
	printf "| system | conn/s | / direct | p50 / p99 us | switch CPU s per 10,000 | backends CPU s per 10,000 | errors (runs) |\n"
	printf "|---|---:|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= n; i++) {
		s = sys[i]
		v = median("cpu" SUBSEP s SUBSEP "http")
		printf "| %s | %s | %s | %s / %s | %s | %s | %d (%d) |\n", s,
		    fmt_rate(median("rate" SUBSEP s SUBSEP "http")),
		    s == "direct" ? "-" : fmtx(paired("rate", s, "http", "direct", "http", http_rounds)),
		    fmt_us(median("p50" SUBSEP s SUBSEP "http")), fmt_us(median("p99" SUBSEP s SUBSEP "http")),
		    s == "direct" ? "-" : fmt_cpu(v), fmt_cpu(median("bcpu" SUBSEP s SUBSEP "http")),
		    http_errors[s], http_runs[s]
	}
	printf "\nSNItch against each of the others (within each round, then the median; conn/s above 1 and p99\n"
	printf "below 1 favour SNItch):\n\n| against | conn/s | p99 |\n|---|---:|---:|\n"
	for (i = 3; i <= n; i++)
		printf "| %s | %s | %s |\n", sys[i], fmtx(paired("rate", "snitch", "http", sys[i], "http", http_rounds)),
		    fmtx(paired("p99", "snitch", "http", sys[i], "http", http_rounds))
	printf "\nHow each routes:\n\n| system | config |\n|---|---|\n"
	for (i = 1; i <= n; i++)
		printf "| %s | %s |\n", sys[i], http_how(sys[i])
	per_round_head("system", http_rounds)
	for (i = 1; i <= n; i++) {
		printf "| %s |", sys[i]
		for (r = 1; r <= http_rounds; r++)
			printf " %s |", fmt_rate(median("rv" SUBSEP "rate" SUBSEP sys[i] SUBSEP "http" SUBSEP r))
		printf "\n"
	}
	printf "\nSNItch's counters at the end of the HTTP runs (`snitch -s`):\n\n```\n%s\n```\n", ENVIRON["HTTP_SNITCH_STATS"]
}
# dribble_section - the dribble phase's table
function dribble_section(    n, sys, i, s) {
	n = split("snitch haproxy nginx sniproxy", sys, " ")
	printf "## A dribbled hello (the largest, a byte per segment)\n\n"
	printf "Measured by `%s` (bench/run.sh, dribble_phase: the last phase of make bench, the only one of\n", ENVIRON["COMMAND"]
	printf "make bench-dribble), on a fresh set of processes configured as in the main phases. %s runs\n", dribble_rounds == 1 ? "One round" : "Each of " dribble_rounds " rounds"
	printf "%d clients at once against each system, in a new order each round, each sending the largest hello\n", ENVIRON["DRIBBLE_N"]
	printf "SNItch takes, 16,384 bytes of message in 2,048 records of 8 (26,624 bytes), a byte per send\n"
	printf "with TCP_NODELAY and 200 us between sends (`t/hostile.py --pad-to 16384 --record-size 8 --write\n"
	printf "bytes --delay 0.0002`): the attack of a client that makes the switch look at its hello again and\n"
	printf "again. CPU: milliseconds on a CPU of all the switch's processes and threads (schedstat) over the\n"
	printf "run, per hello (median over rounds), the processes' baseline over the run included. What the\n"
	printf "clients saw, all rounds: \"data\", backend a's 64-byte reply (bench-backend answers the first record\n"
	printf "it reads); \"reset\" or \"closed\" before any reply. bench-backend closes with the rest of the\n"
	printf "hello unread, which resets the connection, so a routed client may see the reset before the reply:\n"
	printf "SNItch's counters below say how many it handed on. The phase took %d s.\n\n", ENVIRON["DRIBBLE_ELAPSED"]
	printf "| system | CPU ms per hello | seconds per run | clients saw |\n|---|---:|---:|---|\n"
	for (i = 1; i <= n; i++) {
		s = sys[i]
		printf "| %s | %s | %s | %s |\n", s, dr_fmt(median("dr_ms" SUBSEP s)),
		    median("dr_s" SUBSEP s), dr_outcomes(s)
	}
	printf "\nSNItch's counters at the end of the dribble runs (`snitch -s`):\n\n```\n%s\n```\n", ENVIRON["DRIBBLE_SNITCH_STATS"]
}
# dr_outcomes - what system s's dribbling clients saw, "word N, ..."
function dr_outcomes(s,    w, n, i, out) {
	n = split("data reset closed timeout server-hello alert error", w, " ")
	out = ""
	for (i = 1; i <= n; i++)
		if (dr_seen[s, w[i]] > 0)
			out = out (out == "" ? "" : ", ") w[i] " " dr_seen[s, w[i]]
	return out == "" ? "-" : out
}
# dr_fmt - milliseconds, "-" when none
function dr_fmt(v) {
	return v == "" ? "-" : sprintf("%.2f", v)
}
# dribble_targets - the dribble phase's row of the targets table
function dribble_targets(    v) {
	v = median("dr_ms" SUBSEP "snitch")
	printf "| the largest hello dribbled a byte per segment: switch CPU < 1 ms | %s ms | %s |\n", dr_fmt(v), verdict(v != "" && v < 1)
}
# targets_head - the targets table's heading and first lines
function targets_head() {
	printf "\n## Targets\n\n| target | measured | |\n|---|---|---|\n"
}
# only_head WHAT - the heading of a report of one phase alone
# (BENCH_ONLY), WHAT saying which
function only_head(what) {
	printf "# SNItch benchmark results: %s only\n\n", what
	printf "Written by `%s` (bench/run.sh, BENCH_ONLY=%s) on %s; the run took %d s.\n\n", ENVIRON["COMMAND"], ENVIRON["ONLY"], ENVIRON["DATE"], ENVIRON["ELAPSED"]
}
END {
	if (ENVIRON["ONLY"] == "proxy") {
		only_head("PROXY input")
		proxy_section()
		exit
	}
	if (ENVIRON["ONLY"] == "http") {
		only_head("HTTP routing")
		http_section()
		exit
	}
	if (ENVIRON["ONLY"] == "restart") {
		only_head("backend restart")
		restart_section()
		targets_head()
		restart_targets()
		exit
	}
	if (ENVIRON["ONLY"] == "ack") {
		only_head("acknowledgement cost")
		ack_section()
		targets_head()
		ack_targets()
		exit
	}
	if (ENVIRON["ONLY"] == "flood") {
		only_head("flood")
		flood_section()
		targets_head()
		flood_targets()
		exit
	}
	if (ENVIRON["ONLY"] == "dribble") {
		only_head("dribbled hello")
		dribble_section()
		targets_head()
		dribble_targets()
		exit
	}
	nsys = split("direct snitch haproxy nginx sniproxy", sysname, " ")
	ntest = split("r20x r20m r200x", test, " ")
	label["r20x"] = "c=20, x25519"
	label["r20m"] = "c=20, X25519MLKEM768"
	label["r200x"] = "c=200, x25519"
	label["idle"] = "c=20, x25519, " ENVIRON["IDLE"] " idle held"

	printf "# SNItch benchmark results\n\n"
	printf "Written by `%s` (bench/run.sh) on %s; the run took %d s.\n", ENVIRON["COMMAND"], ENVIRON["DATE"], ENVIRON["ELAPSED"]
	printf "Every number below is what this run measured: the median over %d rounds\n", rounds
	printf "(the systems in a different order each round) unless a table says otherwise.\n"
	printf "Trimmed to keep make bench under 10 minutes since the acknowledgement runs and the version-1\n"
	printf "restart runs were added: "
	if (ENVIRON["IDLE_ROUNDS"] < rounds)
		printf "the runs with %d idle connections held (the \"idle held\" columns and\nsection) ran in %s only (BENCH_IDLE_ROUNDS; they ran in every round); ", ENVIRON["IDLE"], ENVIRON["IDLE_ROUNDS"] == 1 ? "round 1" : "rounds 1 to " ENVIRON["IDLE_ROUNDS"]
	printf "the bulk runs, %d a\nround (were 5); the relay runs, %d a round each way (were 3).\n", ENVIRON["BULK_REPEAT"], ENVIRON["RELAY_REPEAT"]
	printf "Raw rows: bench/out/ (not in git).\n\n"

	printf "## Machine\n\n%s\n\n", ENVIRON["MACHINE"]
	printf "The machine is shared: other jobs ran during the benchmark, and the load\n"
	printf "generator, the two backends and the switch share its CPUs.\n\n"

	printf "## Versions\n\n| system | version |\n|---|---|\n"
	nv = split(ENVIRON["VERSIONS"], vl, "\n")
	for (i = 1; i <= nv; i++) {
		split(vl[i], vf, "\t")
		printf "| %s | %s |\n", vf[1], vf[2]
	}

	printf "\n## Setup\n\n"
	printf "- Each switch: %s workers or threads, 127.0.0.1, routing a.bench.test and b.bench.test to two backends.\n", ENVIRON["WORKERS"]
	printf "  SNItch: its config, max_pending %d, peek_timeout 2m, per-connection log to /dev/null. HAProxy: nbthread 2, mode tcp,\n", ENVIRON["IDLE"] + 240
	printf "  inspect-delay 2m, req.ssl_hello_type/req.ssl_sni ACLs. nginx: 2 worker processes, stream, ssl_preread, map,\n"
	printf "  preread_timeout 2m. sniproxy: single-threaded, so 2 instances on one port (reuseport), a regex table.\n"
	printf "  None of the other three logs connections.\n"
	printf "- direct: the load generator connects to the backends themselves, a.bench.test to one port, b.bench.test to the other.\n"
	printf "- Backends (bench/backend.c): 2 single-threaded epoll processes, one per name: read the first TLS record,\n"
	printf "  write 64 bytes (or 50 MiB in bulk), close. TCP for direct/HAProxy/nginx/sniproxy, libsnitch for SNItch.\n"
	printf "- Load (bench/load.c): closed loop, one process; connect, send the ClientHello (%d bytes with an x25519 share,\n", ENVIRON["HELLO_X"]
	printf "  %d bytes with X25519MLKEM768 + x25519), read to EOF, close; names alternate; each reply checked for size and backend.\n", ENVIRON["HELLO_M"]
	printf "  Rate runs: %s s measured after %s s warm-up; latency is connect() to the reply EOF.\n", ENVIRON["SECS"], ENVIRON["WARM"]
	printf "- Bulk: %d connections at once, %d MiB each after the hello; MiB/s over the whole run; %d runs a round.\n", ENVIRON["BULK_CONNS"], ENVIRON["BULK_MIB"], ENVIRON["BULK_REPEAT"]
	printf "- Relay: the same switches (and direct) to the same backends' TCP ports, plus SNItch (a second instance, 2 workers)\n"
	printf "  handing off to snitch-relay (one per backend, splice(2) through a pipe per direction) which connects to them;\n"
	printf "  %d connections at once, %d MiB each, downloaded after the hello or uploaded after it; %d runs a round each way.\n", ENVIRON["RELAY_CONNS"], ENVIRON["RELAY_MIB"], ENVIRON["RELAY_REPEAT"]
	printf "- CPU: utime+stime of all the switch's processes (/proc/PID/stat, %s ticks/s) before and after each run.\n", ENVIRON["HZ"]
	printf "- Memory: VmRSS at start; VmHWM (peak) reset with clear_refs before each phase.\n\n"

	printf "## Connection rate (connections/s)\n\n"
	test[ntest + 1] = "idle"
	header("", 1, ntest + 1, "", 0)
	for (s = 1; s <= nsys; s++) {
		printf "| %s |", sysname[s]
		for (t = 1; t <= ntest + 1; t++)
			printf " %s |", fmt_rate(median("rate" SUBSEP sysname[s] SUBSEP test[t]))
		printf "\n"
	}
	printf "\nRatio to direct (each ratio within one round, then the median over rounds):\n\n"
	header("", 1, ntest + 1, "", 0)
	ratio_rows("rate")
	printf "| snitch / best of the others |"
	for (t = 1; t <= ntest + 1; t++)
		printf " %s (%s) |", fmtx(paired_best("rate", test[t], 0)), best_other_name("rate", test[t], 0)
	printf "\n\nPer round, %s (connections/s), to show the noise:\n\n| system |", label["r20x"]
	for (r = 1; r <= rounds; r++) printf " round %d |", r
	printf "\n|---|"
	for (r = 1; r <= rounds; r++) printf "---:|"
	printf "\n"
	for (s = 1; s <= nsys; s++) {
		printf "| %s |", sysname[s]
		for (r = 1; r <= rounds; r++) printf " %s |", fmt_rate(perround[sysname[s], r])
		printf "\n"
	}

	printf "\n## Latency (microseconds, connect to reply EOF)\n\n"
	printf "Each cell: p50 / p90 / p99 (each the median over rounds of that round's percentile).\n\n"
	header("", 1, ntest + 1, "", 0)
	for (s = 1; s <= nsys; s++) {
		printf "| %s |", sysname[s]
		for (t = 1; t <= ntest + 1; t++)
			printf " %s / %s / %s |", fmt_us(median("p50" SUBSEP sysname[s] SUBSEP test[t])), fmt_us(median("p90" SUBSEP sysname[s] SUBSEP test[t])), fmt_us(median("p99" SUBSEP sysname[s] SUBSEP test[t]))
		printf "\n"
	}
	printf "\np99 ratio to direct:\n\n"
	header("", 1, ntest + 1, "", 0)
	ratio_rows("p99")

	printf "\n## Bulk (%d connections x %d MiB)\n\n", ENVIRON["BULK_CONNS"], ENVIRON["BULK_MIB"]
	printf "Median over all runs; the ratio is within each round, then the median. CPU: median per run.\n\n"
	printf "| system | MiB/s | ratio to direct | switch CPU s during the run |\n|---|---:|---:|---:|\n"
	for (s = 1; s <= nsys; s++) {
		m = median("mibps" SUBSEP sysname[s] SUBSEP "bulk")
		printf "| %s | %s | %s | %s |\n", sysname[s], m == "" ? "-" : sprintf("%.0f", m),
		    fmtx(paired("mibps", sysname[s], "bulk", "direct", "bulk")),
		    s == 1 ? "-" : sprintf("%.2f", median("scpu" SUBSEP sysname[s] SUBSEP "bulk"))
	}

	nrs = split("direct relay haproxy nginx sniproxy", rsys, " ")
	rlabel["relay"] = "snitch + snitch-relay"
	printf "\n## Relay throughput (%d connections x %d MiB, to a TCP backend)\n\n", ENVIRON["RELAY_CONNS"], ENVIRON["RELAY_MIB"]
	printf "Measured by `%s` (bench/run.sh, relay_runs): each run is\n", ENVIRON["COMMAND"]
	printf "`bench-load -t SWITCH -c %d -N %d -d 60 -o 60000 -b %d` (download) or `... -u %d` (upload),\n", ENVIRON["RELAY_CONNS"], ENVIRON["RELAY_CONNS"], ENVIRON["RELAY_MIB"], ENVIRON["RELAY_MIB"]
	printf "every path ending at a bench-backend's TCP port. snitch + snitch-relay: SNItch hands the connection to\n"
	printf "snitch-relay, which connects to the backend and splices (the Bulk table's snitch has no relay: there the\n"
	printf "backend writes to the handed-off socket itself). MiB/s over the run (median of all runs);\n"
	printf "ratios within each round, then the median. CPU seconds per GiB moved, median of all runs: switch, its\n"
	printf "processes (for snitch + snitch-relay: SNItch's master and workers and both relays); path, every process\n"
	printf "on it (switch, both bench-backends, bench-load), direct's being the floor. On loopback the receiver's\n"
	printf "TCP work mostly runs (softirq) in the sending process and is charged to it, so a switch's figure\n"
	printf "includes some of its peers' receiving; the path column counts each piece once, wherever it ran.\n\n"
	printf "| system | download MiB/s | / direct | upload MiB/s | / direct | switch CPU, down | switch CPU, up | path CPU, down | path CPU, up |\n"
	printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
	split("relay-down relay-up", dirs, " ")
	for (s = 1; s <= nrs; s++) {
		n = rsys[s]
		printf "| %s |", (n in rlabel) ? rlabel[n] : n
		for (d = 1; d <= 2; d++) {
			m = median("mibps" SUBSEP n SUBSEP dirs[d])
			printf " %s | %s |", m == "" ? "-" : sprintf("%.0f", m),
			    fmtx(paired("mibps", n, dirs[d], "direct", dirs[d]))
		}
		for (d = 1; d <= 2; d++) {
			v = median("gcpu" SUBSEP n SUBSEP dirs[d])
			printf " %s |", (s == 1 || v == "") ? "-" : sprintf("%.2f", v)
		}
		for (d = 1; d <= 2; d++) {
			v = median("gall" SUBSEP n SUBSEP dirs[d])
			printf " %s |", v == "" ? "-" : sprintf("%.2f", v)
		}
		printf "\n"
	}
	printf "\nsnitch + snitch-relay against each of the others (within each round, then the median;\n"
	printf "MiB/s above 1 and CPU below 1 favour snitch + snitch-relay):\n\n"
	printf "| against | MiB/s, down | MiB/s, up | switch CPU per GiB, down | switch CPU per GiB, up |\n|---|---:|---:|---:|---:|\n"
	for (s = 3; s <= nrs; s++) {
		n = rsys[s]
		printf "| %s | %s | %s | %s | %s |\n", n,
		    fmtx(paired("mibps", "relay", "relay-down", n, "relay-down")),
		    fmtx(paired("mibps", "relay", "relay-up", n, "relay-up")),
		    fmtx(paired("gcpu", "relay", "relay-down", n, "relay-down")),
		    fmtx(paired("gcpu", "relay", "relay-up", n, "relay-up"))
	}

	printf "\n## CPU (seconds per 10,000 connections)\n\n"
	printf "Switch: all its processes. Backends: both bench-backend processes (TCP accept for direct and the\n"
	printf "proxies, libsnitch receive for SNItch).\n\n"
	header("switch, ", 1, ntest + 1, " backends, " label["r20x"] " |", 1)
	for (s = 1; s <= nsys; s++) {
		printf "| %s |", sysname[s]
		for (t = 1; t <= ntest + 1; t++) {
			v = median("cpu" SUBSEP sysname[s] SUBSEP test[t])
			printf " %s |", (s == 1 || v == "") ? "-" : sprintf("%.3f", v)
		}
		v = median("bcpu" SUBSEP sysname[s] SUBSEP "r20x")
		printf " %s |\n", v == "" ? "-" : sprintf("%.3f", v)
	}

	printf "\n## Memory (MiB)\n\n"
	printf "Largest value over rounds. Start: VmRSS after start, before any load. Under load: VmHWM over the\n"
	printf "rate and bulk runs. Idle held: VmHWM while %d idle connections were held (and the c=20 run went on).\n\n", ENVIRON["IDLE"]
	printf "| system | start | under load | idle held |\n|---|---|---|---|\n"
	for (s = 2; s <= nsys; s++) {
		n = sysname[s]
		printf "| %s | %s (%s) | %s (%s) | %s (%s) |\n", n,
		    mib(rss_total[n, "start"]), breakdown(rss_top[n, "start"]),
		    mib(rss_total[n, "load"]), breakdown(rss_top[n, "load"]),
		    mib(rss_total[n, "idle"]), breakdown(rss_top[n, "idle"])
	}
	printf "\nSNItch alone: master %s MiB at start; the largest worker %s MiB at start, %s MiB under load,\n",
	    mib(role_max(rss_parts["snitch", "start"], "master")),
	    mib(role_max(rss_parts["snitch", "start"], "worker")),
	    mib(role_max(rss_parts["snitch", "load"], "worker"))
	printf "%s MiB with %d idle connections held by its %d workers. With max_pending at its default (what the descriptor\nlimit leaves room for),\n",
	    mib(role_max(rss_parts["snitch", "idle"], "worker")), ENVIRON["IDLE"], ENVIRON["WORKERS"]
	printf "a worker is %s MiB at start (master %s MiB).\n",
	    mib(ENVIRON["DEFAULT_WORKER_KB"]), mib(ENVIRON["DEFAULT_MASTER_KB"])
	printf "One worker alone (workers = 1) holding %s idle connections: VmHWM %s MiB.\n",
	    ENVIRON["ONE_WORKER_HELD"], mib(ENVIRON["ONE_WORKER_KB"])

	printf "\n## %d idle connections held\n\n", ENVIRON["IDLE"]
	printf "Half silent, half having sent half a ClientHello, held while the c=20 x25519 run went on"
	if (ENVIRON["IDLE_ROUNDS"] < rounds)
		printf " (%s only;\n\"rate without\" is the c=20, x25519 rate of the same %s).\n\n", ENVIRON["IDLE_ROUNDS"] == 1 ? "round 1" : "rounds 1 to " ENVIRON["IDLE_ROUNDS"], ENVIRON["IDLE_ROUNDS"] == 1 ? "round" : "rounds, their median"
	else
		printf ".\n\n"
	printf "The holder opens them at most 10,000/s; \"connected\" is how many were established, and how long\n"
	printf "that took; \"open at the end\" is how many the switch had not closed when the holder let go.\n\n"
	printf "| system | connected | seconds to connect | open at the end | rate without | rate with | with / without |\n|---|---:|---:|---:|---:|---:|---:|\n"
	for (s = 1; s <= nsys; s++) {
		n = sysname[s]
		printf "| %s | %s | %s | %s | %s | %s | %s |\n", n,
		    median("held" SUBSEP n), median("connect_s" SUBSEP n), median("held_end" SUBSEP n),
		    fmt_rate(idle_rounds_rate(n)),
		    fmt_rate(median("rate" SUBSEP n SUBSEP "idle")),
		    fmtx(paired("rate", n, "idle", n, "r20x"))
	}

	printf "\n"
	proxy_section()

	printf "\n"
	ack_section()

	printf "\n"
	restart_section()

	printf "\n"
	flood_section()

	printf "\n"
	http_section()

	printf "\n"
	dribble_section()

	printf "\n## Errors\n\nConnections that failed (connect, reset, timeout, short or misrouted reply, alert), all runs\n"
	printf "but the PROXY input, acknowledgement, restart, flood and HTTP runs (above, in their own tables):\n\n"
	printf "| system | runs | errors |\n|---|---:|---:|\n"
	for (s = 1; s <= nsys; s++)
		printf "| %s | %d | %d |\n", sysname[s], runs[sysname[s]], errors[sysname[s]]
	if (runs["relay"] > 0)
		printf "| snitch + snitch-relay (relay runs only) | %d | %d |\n", runs["relay"], errors["relay"]
	printf "\nSNItch's own counters at the end (`snitch -s`); client_gone counts the idle connections the holder\n"
	printf "closed (%d a round) and the start-up probe that checked the port:\n\n```\n%s\n```\n", ENVIRON["IDLE"], ENVIRON["SNITCH_STATS"]

	targets_head()
	for (t = 1; t <= ntest; t++) {
		v = paired("rate", "snitch", test[t], "direct", test[t])
		printf "| rate >= 0.8x direct, %s | %s | %s |\n", label[test[t]], fmtx(v), verdict(v != "" && v >= 0.8)
	}
	for (t = 1; t <= ntest; t++) {
		v = paired_best("rate", test[t], 0)
		printf "| rate >= 1.5x the best other, %s | %s (%s) | %s |\n", label[test[t]], fmtx(v), best_other_name("rate", test[t], 0), verdict(v != "" && v >= 1.5)
	}
	v = paired("mibps", "snitch", "bulk", "direct", "bulk")
	printf "| bulk >= 0.95x direct | %s | %s |\n", fmtx(v), verdict(v != "" && v >= 0.95)
	for (t = 1; t <= ntest; t++) {
		v = paired("p99", "snitch", test[t], "direct", test[t])
		printf "| p99 <= 1.3x direct, %s | %s | %s |\n", label[test[t]], fmtx(v), verdict(v != "" && v <= 1.3)
	}
	v = role_max(rss_parts["snitch", "start"], "worker")
	printf "| worker RSS < 2 MiB idle (max_pending %d) | %s MiB | %s |\n", ENVIRON["IDLE"] + 240, mib(v), verdict(v < 2048)
	v = ENVIRON["DEFAULT_WORKER_KB"] + 0
	printf "| worker RSS < 2 MiB idle (max_pending at its default, from the descriptor limit) | %s MiB | %s |\n", mib(v), verdict(v > 0 && v < 2048)
	v = ENVIRON["ONE_WORKER_KB"] + 0
	printf "| worker RSS < 4 MiB holding 10,000 pending (one worker, %s held) | %s MiB | %s |\n", ENVIRON["ONE_WORKER_HELD"], mib(v), verdict(v > 0 && v < 4096 && ENVIRON["ONE_WORKER_HELD"] >= 10000)
	ack_targets()
	restart_targets()
	flood_targets()
	dribble_targets()
}