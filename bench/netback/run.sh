#!/bin/bash
# SPDX-License-Identifier: MIT
# Peer benchmark: gntdp-netback guest to guest against the DPDK vhost-user /
# virtio-user loopback, in the same run, at 64 B and 1500 B.
#
#   bench/netback/run.sh [BUILD_DIR] [SECONDS] [REPS]
#       BUILD_DIR  meson build directory with apps/gntdp-netback (default build)
#       SECONDS    measured seconds per gntdp-netback run (default 10)
#       REPS       rounds; each round runs every size on both (default 3)
#   Environment: PEERS (default ../shared/bench/peers next to this repo),
#   SIZES (default "64 1500"), OUT (default bench/results/netback-<UTC stamp>),
#   QUIET_WAIT (seconds to wait, before each run, for a second with >= 90%
#   idle CPU; default 300; the idle share seen is recorded either way).
#
# gntdp side: configs/netback/g2g.ini, two guests sending to each other at
# full speed; the backend forwards on lcore 1, both guests poll lcore 0.
# Reported: packets the backend delivered from one guest's TX ring into the
# other's RX ring per second (both directions summed), its TSC cycles and
# grant copy ops per packet.
# Peer side: shared/bench/peers/vhost_dual.sh (two dpdk-testpmd processes,
# vhost-user backend forwarding on lcore 1, virtio-user guest on lcore 0, mac
# forwarding, split ring). Reported: the median of the backend port's Rx-pps
# (every packet it receives it also sends back: two copies per packet).
#
# Writes OUT.csv (one row per round and size), OUT.json (machine, commands,
# every run, medians), OUT.txt (the log) and OUT.png (the plot). Uses both
# cores at 100% for about REPS x 75 s, and waits for a quiet machine before each
# run; a run during which other processes took more than 3% of the CPU is
# repeated (their share is recorded in the CSV).
set -u
cd "$(dirname "$0")/../.." || exit 1
build=${1:-build}
secs=${2:-10}
reps=${3:-3}
sizes=${SIZES:-64 1500}
peers=${PEERS:-$(cd .. && pwd)/shared/bench/peers}
nb=$build/apps/gntdp-netback/gntdp-netback
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${OUT:-bench/results/netback-$stamp}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -x "$nb" ] || { echo "no $nb: build first (meson setup $build && ninja -C $build)"; exit 1; }
[ -x "$peers/vhost_dual.sh" ] || { echo "no peer scripts in $peers (set PEERS)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed"; exit 1; }
mkdir -p "$(dirname "$out")"
"$peers/hugepages.sh"

log() { printf '%s\n' "$*" | tee -a "$out.txt"; }
# Idle CPU share (%) over one second, from /proc/stat.
idle_pct() {
	local a b
	a=($(head -1 /proc/stat))
	sleep 1
	b=($(head -1 /proc/stat))
	local tot=0 i
	for i in 1 2 3 4 5 6 7 8; do tot=$((tot + b[i] - a[i])); done
	echo $((100 * (b[4] + b[5] - a[4] - a[5]) / (tot > 0 ? tot : 1)))
}
# CPU seconds of this shell's finished children, from bash `times` (run in this
# shell, not in a $(...) subshell, whose children are not ours) saved to FILE.
children_cpu() {
	sed -n 2p "$1" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%.3f", s }'
}
# run_clean CMD...: run it and set OTHERS to the share (%) of the machine's CPU time that
# other processes used meanwhile (all CPU time minus what the command and its children used).
run_clean() {
	local a b t0 t1 c0 c1 hz
	hz=$(getconf CLK_TCK)
	a=($(head -1 /proc/stat))
	t0=$(date +%s.%N)
	times >"$tmp/times0"
	"$@"
	times >"$tmp/times1"
	t1=$(date +%s.%N)
	c0=$(children_cpu "$tmp/times0")
	c1=$(children_cpu "$tmp/times1")
	b=($(head -1 /proc/stat))
	OTHERS=$(python3 -c "
busy = (sum(map(int, '${b[*]:1:8}'.split())) - sum(map(int, '${a[*]:1:8}'.split()))
        - (${b[4]} + ${b[5]} - ${a[4]} - ${a[5]})) / $hz
ours = $c1 - $c0
print(round(max(0.0, busy - ours) * 100 / ($(nproc) * ($t1 - $t0)), 1))")
}
# Wait (up to QUIET_WAIT s) for a quiet second; prints the last idle share.
wait_quiet() {
	local end=$((SECONDS + ${QUIET_WAIT:-300})) idle
	idle=$(idle_pct)
	while [ "$idle" -lt 90 ] && [ $SECONDS -lt $end ]; do
		sleep 2
		idle=$(idle_pct)
	done
	echo "$idle"
}
: >"$out.txt"
echo "round,size,gntdp_mpps,vhost_mpps,ratio,gntdp_cycles_per_pkt,gntdp_copy_ops_per_pkt,gntdp_cache_hit,gntdp_cpu_share,others_pct_gntdp,others_pct_vhost" >"$out.csv"
log "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(uname -r), DPDK $(pkg-config --modversion libdpdk 2>/dev/null), gntdp $(git rev-parse --short=12 HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty')"
log "tsc: $(grep -o 'constant_tsc' /proc/cpuinfo | head -1), cpufreq: $(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo n/a)"

# The two commands, as arrays (printed in the report as run).
nb_cmd() { # size json
	NB_CMD=("$nb" -l 0-1 --file-prefix nbbench --no-pci '--log-level=lib.*:warning' --
		--config configs/netback/g2g.ini --set "vif0.sizes=$1" --set "vif1.sizes=$1"
		--set run.warmup=2 --duration "$secs" --progress 0 --quiet --json "$2")
}
vh_cmd() { # size logprefix
	VH_CMD=("$peers/vhost_dual.sh" mac "$1" 32 "$2")
}
show() { printf '%q ' "$@"; }

runs=()
for r in $(seq "$reps"); do
	for sz in $sizes; do
		# A run during which other processes used more than 3% of the machine is measured
		# again (up to 6 tries), after waiting for a quiet second.
		for try in 1 2 3 4 5 6; do
			idle1=$(wait_quiet)
			rm -f "$tmp/nb.json"
			nb_cmd "$sz" "$tmp/nb.json"
			run_clean "${NB_CMD[@]}" >"$tmp/nb.log" 2>&1
			if [ ! -s "$tmp/nb.json" ]; then
				log "round $r size $sz: gntdp-netback failed:"
				tail -5 "$tmp/nb.log" | tee -a "$out.txt"
				exit 1
			fi
			read -r mpps cyc ops hit share < <(python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); b = d["backend"]
print(b["mpps"], b["cycles_per_pkt"], b["copy_ops_per_pkt"], round(b["cache_hits"] / max(1, b["cache_hits"] + b["cache_misses"]), 4),
      round(min(b["be_cpu_s"], b["fe_cpu_s"]) / d["window_s"], 3))' "$tmp/nb.json")
			others1=$OTHERS
			python3 -c "import sys; sys.exit(0 if $share >= 0.97 and $others1 <= 3 else 1)" && break
			log "  (gntdp-netback $sz B: $mpps Mpps, but other processes used ${others1}% of the CPU; again)"
		done
		for try in 1 2 3 4 5 6; do
			idle2=$(wait_quiet)
			vh_cmd "$sz" "$tmp/vh"
			run_clean "${VH_CMD[@]}" >"$tmp/vh.out" 2>&1
			others2=$OTHERS
			vh=$(grep -o 'vhost: samples=[^|]*' "$tmp/vh.out")
			vmpps=$(echo "$vh" | sed -n 's/.*median_sum_rx_Mpps=\([0-9.]*\).*/\1/p')
			vmpps=${vmpps:-0}
			python3 -c "import sys; sys.exit(0 if $vmpps > 0 and $others2 <= 3 else 1)" && break
			log "  (vhost-user $sz B: $vmpps Mpps, but other processes used ${others2}% of the CPU; again)"
		done
		ratio=$(python3 -c "print(round($mpps / $vmpps, 3) if $vmpps > 0 else 0)")
		log "round $r size $sz: gntdp-netback $mpps Mpps ($cyc TSC cycles/pkt, $ops ops/pkt, cache hit $hit) | vhost-user $vmpps Mpps ($vh) | ratio $ratio | CPU used by others during the runs: ${others1}% / ${others2}%"
		echo "$r,$sz,$mpps,$vmpps,$ratio,$cyc,$ops,$hit,$share,$others1,$others2" >>"$out.csv"
		cp "$tmp/nb.json" "$tmp/nb-$r-$sz.json"
		runs+=("$tmp/nb-$r-$sz.json")
	done
done

nb_cmd SIZE OUT.json
vh_cmd SIZE LOGPREFIX
python3 - "$out" "$tmp" "$(show "${NB_CMD[@]}")" "SAMPLES=${SAMPLES:-5} WARM=${WARM:-3} $(show "${VH_CMD[@]}")" <<'PY'
import csv, json, statistics, sys, platform, subprocess
out, tmp, nbcmd, vhcmd = sys.argv[1:5]
rows = list(csv.DictReader(open(out + ".csv")))
sizes = sorted({int(r["size"]) for r in rows})
med = {}
for s in sizes:
    rs = [r for r in rows if int(r["size"]) == s]
    g = statistics.median(float(r["gntdp_mpps"]) for r in rs)
    v = statistics.median(float(r["vhost_mpps"]) for r in rs)
    med[s] = {"gntdp_mpps": g, "vhost_mpps": v, "ratio": round(g / v, 3) if v else 0,
              "gntdp_cycles_per_pkt": statistics.median(float(r["gntdp_cycles_per_pkt"]) for r in rs),
              "gntdp_copy_ops_per_pkt": statistics.median(float(r["gntdp_copy_ops_per_pkt"]) for r in rs),
              "goal_ratio": 1.5}
lines = open(out + ".txt").read().splitlines()
doc = {"machine": lines[0], "clock": lines[1], "commands": {"gntdp": nbcmd, "vhost": vhcmd},
       "rounds": rows, "median": med}
json.dump(doc, open(out + ".json", "w"), indent=1)
with open(out + ".dat", "w") as f:
    for s in sizes:
        f.write("%d %f %f %f\n" % (s, med[s]["gntdp_mpps"], med[s]["vhost_mpps"], med[s]["ratio"]))
PY
[ -f "$out.dat" ] || exit 1
python3 - "$out" <<'PY' | tee -a "$out.txt"
import json, sys
d = json.load(open(sys.argv[1] + ".json"))
for s, m in d["median"].items():
    print("median %5s B: gntdp-netback %.2f Mpps, vhost-user %.2f Mpps, ratio %.2f (goal 1.5), %.0f TSC cycles/pkt, %.2f copy ops/pkt"
          % (s, m["gntdp_mpps"], m["vhost_mpps"], m["ratio"], m["gntdp_cycles_per_pkt"], m["gntdp_copy_ops_per_pkt"]))
PY
if command -v gnuplot >/dev/null; then
	gnuplot <<GP
set terminal pngcairo size 900,560 font ",11"
set output "$out.png"
set title "Guest-to-guest forwarding on one backend core ($(nproc) CPUs, $(date -u +%Y-%m-%d))"
set ylabel "Mpps (backend core)"
set xlabel "frame size (bytes)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set key top right
set grid ytics
plot "$out.dat" using 2:xtic(1) title "gntdp-netback (grant copy gref->gref)" lc rgb "#1f77b4", \
     "" using 3 title "vhost-user / virtio-user (testpmd)" lc rgb "#ff7f0e", \
     "" using 0:(\$2):(sprintf("%.2fx", \$4)) with labels offset -2,1 notitle
GP
fi
rm -f "$out.dat"
log "wrote $out.csv $out.json $out.txt${out:+ $out.png}"
