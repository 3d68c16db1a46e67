#!/bin/bash
# SPDX-License-Identifier: MIT
# Plots a sweep directory's sweep.csv (sweep.sh) with gnuplot (Debian's gnuplot-nox):
#   gbps.png   GB/s against copy size, one line per burst, beside the raw copy
#   mops.png   M ops/s against burst, one line per copy size, cache on and off
#   ratio.png  gntdp throughput as % of the raw copy of the same frames
# Usage: bench/dataplane/plot.sh DIR
set -eu
dir=$1
csv="$dir/sweep.csv"
[ -r "$csv" ] || { echo "no $csv"; exit 1; }
cpu=$(grep -m1 'Model name' "$dir/machine.txt" 2>/dev/null | sed 's/.*: *//' || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One whitespace-separated file per series (gnuplot draws a line through a file's rows).
# CSV columns: 1 cache 2 burst 3 size 4 mops 5 gbps ... 12 raw_gbps ... 16 raw_ratio
awk -F, -v t="$tmp" 'NR > 1 {
	print $3, $5, $12 > (t "/size-" $1 "-" $2)         # x = size: gbps, raw gbps
	print $2, $4, 100 * $16 > (t "/burst-" $1 "-" $3)  # x = burst: mops, % of raw
}' "$csv"
for f in "$tmp"/*; do sort -n -o "$f" "$f"; done

gnuplot <<GP
set terminal pngcairo size 1200,500 noenhanced font ",10"
set key top left box opaque
set grid
set logscale x 2
bursts = "1 8 32 64 256"
sizes = "64 256 1500 4096"

set output "$dir/gbps.png"
set multiplot layout 1,2 title "gntdp-bench: GB/s of gref->gref copies, 1 worker (${cpu})"
set xlabel "copy size (bytes)"
set ylabel "GB/s"
do for [c in "on off"] {
	set title "grant cache ".c
	plot for [b in bursts] "$tmp/size-".c."-".b using 1:2 with linespoints title "burst ".b, \
	     "$tmp/size-".c."-32" using 1:3 with lines dt 2 lw 2 title "raw copy (same frames)"
}
unset multiplot

set output "$dir/mops.png"
set multiplot layout 1,2 title "gntdp-bench: M requests/s through the rings, 1 worker"
set xlabel "burst"
set ylabel "M ops/s"
do for [c in "on off"] {
	set title "grant cache ".c
	plot for [s in sizes] "$tmp/burst-".c."-".s using 1:2 with linespoints title s." B"
}
unset multiplot

set terminal pngcairo size 800,500 noenhanced font ",10"
set output "$dir/ratio.png"
set title "gntdp throughput as % of a raw copy of the same frames (cache on solid, off dashed)"
set ylabel "% of raw copy"
set yrange [0:110]
plot for [i=1:4] "$tmp/burst-on-".word(sizes, i) using 1:3 with linespoints lc i title word(sizes, i)." B", \
     for [i=1:4] "$tmp/burst-off-".word(sizes, i) using 1:3 with linespoints dt 2 lc i notitle
GP
echo "plots in $dir: gbps.png mops.png ratio.png"
