#!/bin/bash
# SPDX-License-Identifier: MIT
# Data-plane sweep: burst {1, 8, 32, 64, 256} x copy size {64, 256, 1500, 4096}
# x grant cache {on, off}. Each point is one gntdp-bench run (--json) that also
# times a raw copy of the same frames on the same worker lcore in the same
# process: the physical limit the point is compared with.
#
#   bench/dataplane/sweep.sh [-b BENCH] [-o OUTDIR] [-d SECONDS] [-q]
#     -b  gntdp-bench binary (default: build-app/apps/gntdp-bench/gntdp-bench)
#     -o  results directory (default: bench/results/dataplane-sweep-<date>)
#     -d  measured seconds per point (default 2)
#     -q  quick: bursts {1, 32, 256}, sizes {64, 4096}
#     -R  do not raise the runs to SCHED_FIFO (goals.sh explains why they are)
#
# Writes OUTDIR/sweep.jsonl (one JSON object per point, as gntdp-bench prints
# it), sweep.csv, machine.txt (CPU, kernel, DPDK, compiler, commit), command.txt
# (the exact commands) and the PNG plots (plot.sh, gnuplot).
# EAL: lcore 0 = main lcore = client, lcore 1 = the worker, hugepages when free,
# AVX-512 allowed for the copy kernel. Needs root for hugepages.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bench="$root/build-app/apps/gntdp-bench/gntdp-bench"
out="$root/bench/results/dataplane-sweep-$(date +%Y%m%d-%H%M%S)"
dur=2
bursts=(1 8 32 64 256)
sizes=(64 256 1500 4096)
rt=(chrt -f 1)
while getopts b:o:d:qR opt; do
	case $opt in
	b) bench=$OPTARG ;;
	o) out=$OPTARG ;;
	d) dur=$OPTARG ;;
	q) bursts=(1 32 256); sizes=(64 4096) ;;
	R) rt=() ;;
	*) sed -n '3,18p' "$0"; exit 2 ;;
	esac
done
[ -x "$bench" ] || { echo "no gntdp-bench at $bench (meson setup build-app && ninja -C build-app)"; exit 1; }
mkdir -p "$out"
eal=(-l 0,1 --file-prefix=gntdp-sweep --log-level=lib.eal:error --force-max-simd-bitwidth=512)

{
	echo "date: $(date -Is)"
	echo "host: $(uname -a)"
	echo "commit: $(git -C "$root" rev-parse HEAD 2>/dev/null || echo none) $(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo '(dirty tree)')"
	echo "dpdk: $(pkg-config --modversion libdpdk 2>/dev/null)"
	echo "compiler: $(cc --version | head -n 1)"
	echo "hugepages: $(grep -E 'HugePages_(Total|Free)' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
	echo "scheduling: ${rt[*]:-CFS (no chrt)}"
	echo "load before: $(cat /proc/loadavg)"
	echo "--- lscpu"
	lscpu
} >"$out/machine.txt"
echo "$0 $*" >"$out/command.txt"

: >"$out/sweep.jsonl"
for cache in on off; do
	for burst in "${bursts[@]}"; do
		# Enough slots for the client to keep two bursts in flight.
		depth=$((burst * 2 > 64 ? burst * 2 : 64))
		for size in "${sizes[@]}"; do
			cmd=(timeout -k 10 120 "${rt[@]}" "$bench" "${eal[@]}" -- --config "$here/sweep.ini" --burst "$burst"
				--sizes "$size" --cache "$cache" --set "queues.depth=$depth"
				--duration "$dur" --json)
			echo "${cmd[*]}" >>"$out/command.txt"
			if ! "${cmd[@]}" >>"$out/sweep.jsonl" 2>"$out/last.err"; then
				echo "point cache=$cache burst=$burst size=$size failed:" >&2
				tail -n 5 "$out/last.err" >&2
				exit 1
			fi
			tail -n 1 "$out/sweep.jsonl" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
print("cache=%-3s burst=%-3d size=%-4d kernel %-7s %7.2f Mops/s %6.2f GB/s  raw %6.2f GB/s (%5.1f %%)  p99 %.2f us  hit %.1f %%  rtt %.0f ns  verification %s" % (
    "on" if r["cache"] else "off", r["burst"], r["copy_sizes"][0], r["copy_kernel"], r["mops"],
    r["gbps"], r["raw_gbps"], 100 * r["raw_ratio"], r["lat_p99_us"], 100 * r["cache_hit_rate"],
    r["rtt_before_ns"], r.get("verification", "?")))'
		done
	done
done
rm -f "$out/last.err"
echo "load after: $(cat /proc/loadavg)" >>"$out/machine.txt"

python3 - "$out/sweep.jsonl" >"$out/sweep.csv" <<'PY'
import json, sys
cols = ["cache", "burst", "size", "mops", "gbps", "ns_per_op", "lat_p50_us", "lat_p99_us",
        "lat_p999_us", "cache_hit_rate", "window_hypercalls", "raw_gbps", "raw_mops", "raw_memcpy_gbps",
        "raw_kernel_gbps", "raw_ratio", "client_busy_pct", "rtt_before_ns", "rtt_after_ns",
        "copy_kernel", "hugepages", "verification", "pass"]
print(",".join(cols))
for line in open(sys.argv[1]):
    r = json.loads(line)
    r["cache"] = "on" if r["cache"] else "off"
    r["size"] = r["copy_sizes"][0]
    print(",".join(str(r[c]).lower() if isinstance(r[c], bool) else str(r[c]) for c in cols))
PY
"$here/plot.sh" "$out"
echo "results in $out"
