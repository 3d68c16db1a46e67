#!/bin/bash
# SPDX-License-Identifier: MIT
# Peer benchmark: gntdp-netback guest to guest against the DPDK vhost-user /
# virtio-user loopback, in the same run, at 64 B and 1500 B.
#
#   bench/netback/run.sh [BUILD_DIR] [SECONDS] [REPS]
#       BUILD_DIR  meson build directory with apps/gntdp-netback (default build)
#       SECONDS    measured seconds per gntdp-netback run (default 10)
#       REPS       rounds; each round runs every size on both (default 5)
#   Environment: PEERS (default ../shared/bench/peers next to this repo, or
#   next to the main checkout for a git worktree),
#   SIZES (default "64 1500"), OUT (default bench/results/netback-<UTC stamp>),
#   QUIET_WAIT (seconds to wait, before each run, for a second with >= 90%
#   idle CPU; default 300), RT (default 1: run both tools' busy-polling
#   threads under SCHED_FIFO priority 1, as bench/dataplane/goals.sh does, so
#   neither is time-sliced with the machine's other processes; RT=0 leaves
#   them under CFS). gntdp-netback starts under `chrt -f 1` (its two lcores
#   both poll). The peer's testpmd processes start under CFS and only their
#   forwarding threads (`rte-worker-N`) are raised once they exist: a FIFO
#   thread that never yields would starve testpmd's own control threads on the
#   same core (vhost-user's socket handling, the interactive prompt), and the
#   vhost-user link would never come up. LOADED (default 0; 1: keep a run that
#   other processes disturbed, or whose threads were throttled, instead of
#   repeating it; for a machine that is never quiet. The disturbance is still
#   recorded in the CSV's others_pct_* and notes columns).
#
# gntdp side: configs/netback/g2g.ini, two guests sending to each other at
# full speed; the backend forwards on lcore 1, both guests poll lcore 0.
# Reported: packets the backend delivered from one guest's TX ring into the
# other's RX ring per second (both directions summed; the median of the
# one-second samples after a 2 s warmup), its TSC cycles and grant copy ops
# per packet, the time per copy op inside the copy hypercall (grant lookups
# and the copy), and the frames lost (dropped for any reason, or failed at
# a frontend: must be 0; a run that lost any is marked in the notes).
# Peer side: shared/bench/peers/vhost_dual.sh (two dpdk-testpmd processes,
# vhost-user backend forwarding on lcore 1, virtio-user guest on lcore 0, mac
# forwarding, split ring). Reported: the median of the backend port's Rx-pps
# (every packet it receives it also sends back: two copies per packet).
# Both tools run under the same scheduling (RT above) and the same EAL lcores.
#
# The two cores of a VM may be moved by the host between core complexes
# (bench/netback/pingpong.c measures ~100 ns or ~500 ns round trips here),
# which halves every ring forwarder's speed, for seconds at a time and while
# a run goes on. Each round therefore records the round trip around its runs
# and the spread of each run's samples; a run during which other processes
# used more than 3% of the CPU is repeated (up to 8 times). The summary's
# headline, per size, is the median over rounds of the same-round pair ratio
# (gntdp-netback's run median over the peer's, back to back), with the
# smallest and largest pair ratio beside it; each tool's best sample is shown
# for reference, never as a ratio of the two (they may come from different
# rounds and placements; bench/netback/summary.py).
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
reps=${3:-5}
sizes=${SIZES:-64 1500}
peers=${PEERS:-$(cd .. && pwd)/shared/bench/peers}
# A worktree (/work/wt/NAME) has no shared/ beside it: look beside the main checkout.
if [ -z "${PEERS:-}" ] && [ ! -x "$peers/vhost_dual.sh" ] &&
	common=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
	peers=$(dirname "$(dirname "$common")")/shared/bench/peers
fi
nb=$build/apps/gntdp-netback/gntdp-netback
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${OUT:-bench/results/netback-$stamp}
rt=(chrt -f 1)
[ "${RT:-1}" = 0 ] && rt=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -x "$nb" ] || { echo "no $nb: build first (meson setup $build && ninja -C $build)"; exit 1; }
[ -x "$peers/vhost_dual.sh" ] || { echo "no peer scripts in $peers (set PEERS)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed"; exit 1; }
mkdir -p "$(dirname "$out")"
"$peers/hugepages.sh"
cc -O2 -pthread -o "$tmp/pingpong" bench/netback/pingpong.c || { echo "cannot build pingpong.c"; exit 1; }

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
echo "round,size,gntdp_mpps,vhost_mpps,ratio,gntdp_cycles_per_pkt,gntdp_copy_ops_per_pkt,gntdp_cache_hit,gntdp_cpu_share,others_pct_gntdp,others_pct_vhost,core_rtt_ns,gntdp_sample_min,gntdp_sample_max,vhost_sample_min,vhost_sample_max,gntdp_copy_ns_per_op,gntdp_lost,notes" >"$out.csv"
log "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(uname -r), DPDK $(pkg-config --modversion libdpdk 2>/dev/null), gntdp $(git rev-parse --short=12 HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty')"
log "tsc: $(grep -o 'constant_tsc' /proc/cpuinfo | head -1), cpufreq: $(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo n/a), scheduling: $([ ${#rt[@]} -gt 0 ] && echo "SCHED_FIFO 1 for the polling threads of both tools" || echo "CFS (RT=0)")"

# The two commands, as arrays (printed in the report as run).
nb_cmd() { # size json
	NB_CMD=("${rt[@]}" "$nb" -l 0-1 --file-prefix nbbench --no-pci '--log-level=lib.*:warning' --
		--config configs/netback/g2g.ini --set "vif0.sizes=$1" --set "vif1.sizes=$1"
		--set run.warmup=2 --duration "$secs" --progress 1000 --quiet --json "$2")
}
vh_cmd() { # size logprefix
	VH_CMD=("$peers/vhost_dual.sh" mac "$1" 32 "$2")
}
# Whether process $1 descends from this script (not another user's testpmd).
ours() {
	local p=$1
	while [ "${p:-0}" -gt 1 ]; do
		[ "$p" = "$$" ] && return 0
		p=$(sed 's/.*) //' /proc/"$p"/stat 2>/dev/null | cut -d' ' -f2)
	done
	return 1
}
# Raise the forwarding lcores of the peer's testpmd processes (this run's
# only) to SCHED_FIFO (see RT above) as they appear, for up to 20 s; run in
# the background.
rt_peer() {
	local end=$((SECONDS + 20)) pid t
	while [ $SECONDS -lt $end ]; do
		for pid in $(pgrep -x dpdk-testpmd); do
			ours "$pid" || continue
			for t in /proc/"$pid"/task/*; do
				case $(cat "$t/comm" 2>/dev/null) in
				rte-worker-* | lcore-worker-*) chrt -f -p 1 "${t##*/}" 2>/dev/null ;;
				esac
			done
		done
		sleep 0.5
	done
}
show() { printf '%q ' "$@"; }

runs=()
for r in $(seq "$reps"); do
	for sz in $sizes; do
		# One pair (gntdp-netback, then the peer), repeated until clean (see the top).
		for try in 1 2 3 4 5 6 7 8; do
			wait_quiet >/dev/null
			rtt1=$("$tmp/pingpong")
			rm -f "$tmp/nb.json"
			nb_cmd "$sz" "$tmp/nb.json"
			run_clean "${NB_CMD[@]}" >"$tmp/nb.log" 2>&1
			others1=$OTHERS
			if [ ! -s "$tmp/nb.json" ]; then
				log "round $r size $sz: gntdp-netback failed:"
				tail -5 "$tmp/nb.log" | tee -a "$out.txt"
				exit 1
			fi
			# Mpps: the median of the one-second samples after the warmup, as the peer's
			# median of its 2 s samples; cycles and ops per packet over the whole window.
			# Lost: frames the backend dropped (any reason) or a frontend saw fail; must be 0.
			read -r mpps nmin nmax cyc ops hit share copyns lost < <(python3 -c 'import json, re, statistics, sys
d = json.load(open(sys.argv[1])); b = d["backend"]
smp = [float(m.group(2)) for m in re.finditer(r"\[ *([0-9.]+)s\] fwd +([0-9.]+) Mpps", open(sys.argv[2]).read())
       if float(m.group(1)) > 2.5]
print(round(statistics.median(smp), 3), min(smp), max(smp), b["cycles_per_pkt"], b["copy_ops_per_pkt"],
      round(b["cache_hits"] / max(1, b["cache_hits"] + b["cache_misses"]), 4),
      round(min(b["be_cpu_s"], b["fe_cpu_s"]) / d["window_s"], 3), b["copy_ns_per_op"],
      sum(sum(v["drops"].values()) + v["fe"]["rx_err"] + v["fe"]["tx_rsp_err"] + v["fe"]["tx_rsp_bad"]
          for v in d["vifs"]))' "$tmp/nb.json" "$tmp/nb.log")
			rtt2=$("$tmp/pingpong")
			vh_cmd "$sz" "$tmp/vh"
			rtpid=
			[ ${#rt[@]} -gt 0 ] && { rt_peer & rtpid=$!; }
			run_clean "${VH_CMD[@]}" >"$tmp/vh.out" 2>&1
			[ -n "$rtpid" ] && { kill "$rtpid" 2>/dev/null; wait "$rtpid" 2>/dev/null; }
			others2=$OTHERS
			rtt3=$("$tmp/pingpong")
			vh=$(grep -o 'vhost: samples=[^|]*' "$tmp/vh.out")
			vmpps=$(echo "$vh" | sed -n 's/.*median_sum_rx_Mpps=\([0-9.]*\).*/\1/p')
			vmpps=${vmpps:-0}
			vmin=$(echo "$vh" | sed -n 's/.* min=\([0-9.]*\).*/\1/p')
			vmax=$(echo "$vh" | sed -n 's/.* max=\([0-9.]*\).*/\1/p')
			verdict=$(python3 -c "
r = [$rtt1, $rtt2, $rtt3]
why = []
if $others1 > 3 or $others2 > 3: why.append('other processes used %s%% / %s%% of the CPU' % ($others1, $others2))
if $share < 0.97: why.append('gntdp-netback threads ran %s of the time' % $share)
if max(r) > 1.3 * min(r): why.append('core round trip moved: %s ns' % r)
if $nmax > 1.15 * $nmin: why.append('gntdp-netback samples %s..%s Mpps' % ($nmin, $nmax))
if ${vmax:-0} > 1.15 * ${vmin:-0}: why.append('vhost-user samples %s..%s Mpps' % (${vmin:-0}, ${vmax:-0}))
if $vmpps <= 0: why.append('no peer result')
if $lost > 0: why.append('gntdp-netback LOST %d frames' % $lost)
print('; '.join(why) or 'ok')")
			case $verdict in
			*"no peer"*) ;;
			*"other processes"* | *"ran "*) [ "${LOADED:-0}" = 1 ] && break ;;
			*) break ;;
			esac
			log "  (size $sz: gntdp-netback $mpps Mpps, vhost-user $vmpps Mpps, again: $verdict)"
		done
		rtt="$rtt1/$rtt2/$rtt3"
		ratio=$(python3 -c "print(round($mpps / $vmpps, 3) if $vmpps > 0 else 0)")
		log "round $r size $sz: gntdp-netback $mpps Mpps ($cyc TSC cycles/pkt, $ops ops/pkt, $copyns ns/copy op, cache hit $hit, lost $lost) | vhost-user $vmpps Mpps ($vh) | ratio $ratio | others ${others1}% / ${others2}% | core round trip $rtt ns | $verdict"
		echo "$r,$sz,$mpps,$vmpps,$ratio,$cyc,$ops,$hit,$share,$others1,$others2,$rtt,$nmin,$nmax,${vmin:-0},${vmax:-0},$copyns,$lost,\"$verdict\"" >>"$out.csv"
		cp "$tmp/nb.json" "$tmp/nb-$r-$sz.json"
		runs+=("$tmp/nb-$r-$sz.json")
	done
done

nb_cmd SIZE OUT.json
vh_cmd SIZE LOGPREFIX
python3 bench/netback/summary.py "$out" "$(show "${NB_CMD[@]}")" \
	"SAMPLES=${SAMPLES:-5} WARM=${WARM:-3} $(show "${VH_CMD[@]}")" | tee -a "$out.txt"
log "wrote $out.csv $out.json $out.txt $out.png"
