#!/usr/bin/env bash
# bench-cli.sh [RUNS]: end-to-end times of getting a token from the command
# line against a real Keystone, side by side in one run:
#   ksauth token -o value            (cached: the token from the on-disk cache)
#   ksauth token -o value --no-cache (a login each time)
#   openstack token issue -f value -c id
# Each command runs RUNS times (default 20), in alternation, each a fresh
# process; the script prints the medians and the ratios, and checks with
# strace (when installed) that a cached run makes no network connection.
#
# The cloud: OS_CLIENT_CONFIG_FILE (default the clouds.yaml that
# scripts/keystone/up.sh writes in its state dir, /tmp/ks-main) and OS_CLOUD
# (default alice). The token cache is a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/tmp/ks-main/clouds.yaml}
export OS_CLOUD=${OS_CLOUD:-alice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache
bin=$work/ksauth
go build -o "$bin" ./cmd/ksauth

"$bin" token -o value >/dev/null # fill the cache (and check the cloud works)
openstack token issue -f value -c id >/dev/null

# time_ms CMD...: one run's wall time in milliseconds (3 decimals).
time_ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo "scale=3; ($t1 - $t0) / 1000000" | bc
}

for ((i = 0; i < runs; i++)); do
	echo "cached $(time_ms "$bin" token -o value)"
	echo "nocache $(time_ms "$bin" token -o value --no-cache)"
	echo "openstack $(time_ms openstack token issue -f value -c id)"
done >"$work/times"

python3 - "$work/times" "$runs" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for name in ("cached", "nocache", "openstack"):
    v = [float(r[1]) for r in rows if r[0] == name]
    med[name] = statistics.median(v)
    print("%-10s median %9.2f ms   min %9.2f   max %9.2f   (%d runs)" % (name, med[name], min(v), max(v), len(v)))
print("openstack / cached  %7.1fx  (target >= 100x)" % (med["openstack"] / med["cached"]))
print("openstack / nocache %7.1fx  (target >= 5x)" % (med["openstack"] / med["nocache"]))
PY

if command -v strace >/dev/null; then
	connects=$(strace -f -e trace=connect -o "$work/strace" "$bin" token -o value >/dev/null && grep -c 'connect(' "$work/strace" || true)
	echo "cached run: ${connects:-0} connect() calls (strace)"
	connects=$(strace -f -e trace=connect -o "$work/strace" "$bin" token -o value --no-cache >/dev/null && grep -c 'connect(' "$work/strace" || true)
	echo "uncached run: ${connects:-0} connect() calls (strace)"
fi
