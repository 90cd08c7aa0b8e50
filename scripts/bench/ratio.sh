#!/bin/sh
# ratio.sh BENCH BASELINE CANDIDATE [RUNS]: runs BENCH/BASELINE and
# BENCH/CANDIDATE in alternation, each in a fresh process, RUNS times
# (default 12), and prints both medians and the median of the per-run
# ratios. Example: scripts/bench/ratio.sh BenchmarkRoundTripNoIO handrolled ksauth
set -eu
bench=$1 base=$2 cand=$3 runs=${4:-12}
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" .
i=0
while [ "$i" -lt "$runs" ]; do
	for name in "$base" "$cand"; do
		"$bin" -test.run '^$' -test.bench "^$bench/$name\$" -test.benchmem |
			awk -v n="$name" '/^Benchmark/ {print n, $3, $5, $7}'
	done
	i=$((i + 1))
done | python3 -c '
import statistics, sys
base, cand = sys.argv[1], sys.argv[2]
rows = [l.split() for l in sys.stdin]
b = [float(r[1]) for r in rows if r[0] == base]
c = [float(r[1]) for r in rows if r[0] == cand]
last = {r[0]: r for r in rows}
for n, v in ((base, b), (cand, c)):
    print("%-12s median %7.1f ns/op  %s B/op  %s allocs/op  runs %s" % (n, statistics.median(v), last[n][2], last[n][3], " ".join("%.0f" % x for x in v)))
print("ratio of medians %.3f, median of per-run ratios %.3f" % (statistics.median(c) / statistics.median(b), statistics.median([x / y for x, y in zip(c, b)])))
' "$base" "$cand"
