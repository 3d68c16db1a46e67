#!/bin/bash
# SPDX-License-Identifier: MIT
# copy-64 through gntdpd across ops per hypercall and calls in flight: how
# much of the per-call cost 32 ops still pay. One daemon (worker on CPU 1),
# gntdp-client-bench on CPU 0, both under `chrt -f 1` unless -R; each point
# verified as in run.sh.
#   bench/daemon/sweep.sh [-B BUILDDIR] [-o OUTDIR] [-d SECONDS] [-R]
# Writes OUTDIR/sweep.jsonl, sweep.txt, command.txt, machine.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build"
out="$root/bench/results/daemon-sweep-$(date -u +%Y%m%dT%H%M%SZ)"
secs=1
rt=(chrt -f 1)
while getopts B:o:d:R opt; do
	case $opt in
	B) build=$OPTARG ;; o) out=$OPTARG ;; d) secs=$OPTARG ;; R) rt=() ;;
	*) sed -n '3,9p' "$0"; exit 2 ;;
	esac
done
mkdir -p "$out"
sock_dir=$(mktemp -d /tmp/gntdpd-sweep-XXXXXX)
dcmd=("${rt[@]}" "$build/apps/gntdpd/gntdpd" -l 0,1 --no-pci --file-prefix=gntdpd-sweep
	--log-level=lib.eal:error -- --config "$root/configs/gntdpd/gntdpd.ini"
	--set socket.path="$sock_dir/sock" --set socket.group= --set workers.cache_entries=1024)
echo "$0 $*" > "$out/command.txt"
echo "${dcmd[*]} &" >> "$out/command.txt"
{
	echo "commit: $(git -C "$root" rev-parse HEAD)"
	echo "load before: $(cat /proc/loadavg)"
	lscpu | grep -E 'Model name|^CPU\(s\)' || true
} > "$out/machine.txt"
"${dcmd[@]}" > "$out/gntdpd.log" 2>&1 &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$sock_dir"' EXIT
for i in $(seq 300); do [ -S "$sock_dir/sock" ] && break; sleep 0.1; done
: > "$out/sweep.jsonl"
fail=0
for depth in 4 16 64; do
	for batch in 8 32 64 128; do
		[ $((depth * batch)) -le 4096 ] || continue
		cmd=(timeout -k 5 60 taskset -c 0 "${rt[@]}" "$build/bench/daemon/gntdp-client-bench"
			--socket "$sock_dir/sock" --scenario copy-64 --duration "$secs"
			--batch "$batch" --depth "$depth")
		echo "${cmd[*]}" >> "$out/command.txt"
		"${cmd[@]}" >> "$out/sweep.jsonl" || fail=1
	done
done
echo "load after: $(cat /proc/loadavg)" >> "$out/machine.txt"
python3 - "$out/sweep.jsonl" <<'EOP' | tee "$out/sweep.txt"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("%6s %6s %10s %8s" % ("depth", "batch", "M ops/s", "verified"))
for r in rows:
    print("%6d %6d %10.2f %8s" % (r["depth"], r["batch"], r["ops_per_s"] / 1e6, r["verification"]))
EOP
echo "results in $out"
exit "$fail"
