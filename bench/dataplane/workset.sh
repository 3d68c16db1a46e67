#!/bin/bash
# SPDX-License-Identifier: MIT
# Grant-cache working-set axis: 64 B gref->gref copies (configs/copy-64.ini,
# 1024 cache entries) at depth {32, 64, 128, 256} x queues {1, 2}, so the
# live refs per direction go from 32 to 512 (the whole read half). Prints one
# line per point: depth, queues, hit rate, M ops/s; a cache that thrashes
# below its capacity shows as a hit rate that falls before the last point
# (docs/cache.md, "Layout").
#
#   bench/dataplane/workset.sh [-b BENCH] [-d SECONDS] [-R]
#     -b  gntdp-bench binary (default build/apps/gntdp-bench/gntdp-bench)
#     -d  measured seconds per point (default 1)
#     -R  do not raise the runs to SCHED_FIFO
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
bench="$root/build/apps/gntdp-bench/gntdp-bench"
dur=1
rt=(chrt -f 1)
while getopts b:d:R opt; do
	case $opt in
	b) bench=$OPTARG ;;
	d) dur=$OPTARG ;;
	R) rt=() ;;
	*) sed -n '3,14p' "$0"; exit 2 ;;
	esac
done
[ -x "$bench" ] || { echo "no gntdp-bench at $bench"; exit 1; }
echo "depth,queues,hit_pct,mops"
for depth in 32 64 128 256; do
	for q in 1 2; do
		out=$("${rt[@]}" "$bench" -l 0,1 -- --config "$root/configs/copy-64.ini" \
			--set run.duration="$dur" --set queues.depth="$depth" --queues "$q" \
			--raw-copy off 2>&1) || { echo "run failed: depth $depth queues $q" >&2; echo "$out" >&2; exit 1; }
		hit=$(sed -n 's/^ *grant cache hit rate *\([0-9.]*\) %.*/\1/p' <<<"$out")
		mops=$(sed -n 's/^ *throughput *\([0-9.]*\) Mops\/s.*/\1/p' <<<"$out")
		echo "$depth,$q,$hit,$mops"
	done
done
