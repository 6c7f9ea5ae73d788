# ab.awk - the table of bench/ab.sh, after bench/stats.awk.
#
# Input, tab-separated: round name rate p99 errors all worker_ticks, a
# row per run; hz (clock ticks/s) and rounds come with -v, the system
# names (direct first) in the environment as SYSNAMES.
# paired - the median over rounds of metric(s1) / metric(s2), each
# ratio within one round (as report.awk: rounds differ more than
# systems within a round)
function paired(metric, s1, s2,    key, r) {
	key = "pair" SUBSEP metric SUBSEP s1 SUBSEP s2
	cnt[key] = 0
	for (r = 1; r <= rounds; r++)
		if (((metric, s1, r) in rv) && ((metric, s2, r) in rv) &&
		    rv[metric, s2, r] > 0)
			add(key, rv[metric, s1, r] / rv[metric, s2, r])
	return median(key)
}
# fmt - a number in format f; "-" when there is none
function fmt(v, f) {
	return v == "" ? "-" : sprintf(f, v)
}
{
	# round name rate p99 errors all worker_ticks
	add("rate" SUBSEP $2, $3)
	add("p99" SUBSEP $2, $4)
	rv["rate", $2, $1] = $3
	rv["p99", $2, $1] = $4
	if ($2 != "direct" && $6 > 0)
		add("us" SUBSEP $2, $7 / hz * 1e6 / $6)
	errors[$2] += $5
	runs[$2]++
}
END {
	n = split(ENVIRON["SYSNAMES"], sys, " ")
	printf "| system | conn/s | / direct |"
	if (n > 2)
		printf " / %s |", sys[2]
	printf " p99 us | p99 / direct | worker us/conn | errors (runs) |\n"
	printf "|---|---:|---:|%s---:|---:|---:|---:|\n", (n > 2 ? "---:|" : "")
	for (i = 1; i <= n; i++) {
		s = sys[i]
		printf "| %s | %s | %s |", s, fmt(median("rate" SUBSEP s), "%.0f"),
		    i == 1 ? "-" : fmtx(paired("rate", s, "direct"))
		if (n > 2)
			printf " %s |", i <= 2 ? "-" : fmtx(paired("rate", s, sys[2]))
		printf " %s | %s | %s | %d (%d) |\n", fmt(median("p99" SUBSEP s), "%.0f"),
		    i == 1 ? "-" : fmtx(paired("p99", s, "direct")),
		    fmt(median("us" SUBSEP s), "%.1f"), errors[s], runs[s]
	}
	printf "\nMedians over rounds; ratios within each round, then the median. "
	printf "Worker us/conn: utime+stime of the\nmaster's children (%d ticks/s) over the connections completed, warm-up included.\n", hz
	per_round_head("system", rounds)
	for (i = 1; i <= n; i++) {
		printf "| %s |", sys[i]
		for (r = 1; r <= rounds; r++)
			printf " %s |", ((("rate", sys[i], r) in rv) ? \
			    sprintf("%.0f", rv["rate", sys[i], r]) : "-")
		printf "\n"
	}
}
