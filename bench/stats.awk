# stats.awk - the small statistics bench/report.awk and bench/ab.awk share
# (awk -f bench/stats.awk -f THE_REPORT.awk ...).

# median - the median of the values added under key, "" when none
function median(key,    n, i, j, v, t) {
	n = cnt[key]
	if (n == 0)
		return ""
	for (i = 1; i <= n; i++)
		v[i] = val[key, i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

# add - one more value under key
function add(key, x) {
	val[key, ++cnt[key]] = x
}

# fmtx - a ratio, "-" when there is none
function fmtx(v) {
	return v == "" ? "-" : sprintf("%.2fx", v)
}

# per_round_head WHAT ROUNDS - the heading of a table of conn/s per round,
# its first column named WHAT
function per_round_head(what, rounds,    r) {
	printf "\nPer round, conn/s (to show the noise):\n\n| %s |", what
	for (r = 1; r <= rounds; r++)
		printf " %d |", r
	printf "\n|---|"
	for (r = 1; r <= rounds; r++)
		printf "---:|"
	printf "\n"
}
