#!/bin/bash
# SPDX-License-Identifier: MIT
# gntdpd's performance goals (issue 11) across processes, with the same three
# through the in-process hypercall ring beside them:
#
#   copy-64     64 B gref->gref copies, 32 ops per hypercall: goal 40 M ops/s
#   copy-4k     4 KiB gref->gref copies: goal 90 % of a raw copy (raw_ratio, same run)
#   map-unmap   map + unmap pairs (model only): goal 15 M pairs/s
#   map-fd      the cost of a cross-process map the grantee touches (no goal:
#               reported in ns per page): GNTTABOP_map_grant_ref + MAP_FD +
#               mmap + a read of every page + munmap + unmap, 1 and 64 pages
#               per call, gntdpd only (a process mapping has no in-process twin)
#
# Across processes: gntdpd (its one worker on EAL lcore 1 = CPU 1, the main
# lcore on CPU 0) and gntdp-client-bench (two client processes, domain A
# driving on CPU 0, domain B granting and asleep) linked to libgntdp-client
# only. Against the same daemon, gntdp-bench --connect on configs/copy-64.ini,
# copy-4k.ini, map-unmap.ini (each domain a client process, no EAL; the
# backend process on CPU 0). In process: gntdp-bench -l 0,1 with [queues]
# interface = hcall on the same three configs (its client on lcore 0, the
# worker on lcore 1). The summary sets gntdp-bench --connect against
# gntdp-bench in process, goal by goal: the cost of crossing processes.
# Every run verifies (client bench: every status, exactly once, a
# byte-for-byte readback of every written grant; gntdp-bench: its timed runs
# have verify off as in bench/dataplane/goals.sh, so each gets a verified
# twin of 1 s here, in both modes).
#
# Each process busy-polls; on a shared machine they are started under
# `chrt -f 1` (as goals.sh does) unless -R. Wrap the script in
# /work/tools/isolate (or any private /run/dpdk + hugetlbfs) where several
# DPDK users share the host.
#
#   bench/daemon/run.sh [-B BUILDDIR] [-o OUTDIR] [-n REPS] [-d SECONDS] [-R] [-m]
#
# -m: map-fd only (the cross-process map; no other scenario, no in-process runs).
#
# Writes OUTDIR/results.jsonl (one line per run, "path": gntdpd | connect | in-process),
# summary.txt (median, min, max per path and goal), machine.txt, command.txt.
# Exit 0 when every run verified, 1 otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build"
out="$root/bench/results/daemon-$(date -u +%Y%m%dT%H%M%SZ)"
reps=3
secs=2
rt=(chrt -f 1)
mapfd_only=0
while getopts B:o:n:d:Rm opt; do
	case $opt in
	B) build=$OPTARG ;;
	o) out=$OPTARG ;;
	n) reps=$OPTARG ;;
	d) secs=$OPTARG ;;
	R) rt=() ;;
	m) mapfd_only=1 ;;
	*) sed -n '3,35p' "$0"; exit 2 ;;
	esac
done
daemon="$build/apps/gntdpd/gntdpd"
client="$build/bench/daemon/gntdp-client-bench"
bench="$build/apps/gntdp-bench/gntdp-bench"
for x in "$daemon" "$client" "$bench"; do
	[ -x "$x" ] || { echo "missing $x (ninja -C $build)"; exit 1; }
done
mkdir -p "$out"
echo "$0 $*" > "$out/command.txt"
{
	echo "commit: $(git -C "$root" rev-parse HEAD) $(git -C "$root" status --porcelain --untracked-files=no | grep -q . && echo '(dirty tree)')"
	echo "date: $(date -u)"
	echo "dpdk: $(pkg-config --modversion libdpdk 2>/dev/null)"
	echo "compiler: $(cc --version | head -n 1)"
	echo "load before: $(cat /proc/loadavg)"
	lscpu | grep -E 'Model name|^CPU\(s\)|Thread|MHz' || true
} > "$out/machine.txt"
sock_dir=$(mktemp -d /tmp/gntdpd-bench-XXXXXX)
trap 'rm -rf "$sock_dir"' EXIT
fail=0
# log CMD...: record the command line in command.txt, then run it.
log() {
	echo "$*" >> "$out/command.txt"
	"$@"
}

# The cross-process side: one daemon per rep, all client scenarios against it.
daemon_rep() {
	local rep=$1 pid i
	local dcmd=("${rt[@]}" "$daemon" -l 0,1 --no-pci --file-prefix=gntdpd-bench
		--log-level=lib.eal:error -- --config "$root/configs/gntdpd/gntdpd.ini"
		--set socket.path="$sock_dir/sock" --set socket.group=
		--set workers.cache_entries=1024)
	# Not through log(): $! must be the daemon (chrt execs it), not a subshell.
	echo "${dcmd[*]} &" >> "$out/command.txt"
	"${dcmd[@]}" > "$out/gntdpd-$rep.log" 2>&1 &
	pid=$!
	for i in $(seq 300); do [ -S "$sock_dir/sock" ] && break; sleep 0.1; done
	: > "$out/client-$rep.jsonl"
	if [ "$mapfd_only" = 0 ] &&
		! log timeout -k 5 120 taskset -c 0 "${rt[@]}" "$client" --socket "$sock_dir/sock" \
		--duration "$secs" > "$out/client-$rep.jsonl" 2> "$out/client-$rep.err"; then
		echo "client bench failed (rep $rep): $(tail -n 3 "$out/client-$rep.err")"
		fail=1
	fi
	for b in 1 64; do
		if ! log timeout -k 5 120 taskset -c 0 "${rt[@]}" "$client" --socket "$sock_dir/sock" \
			--scenario map-fd --batch "$b" --duration "$secs" >> "$out/client-$rep.jsonl" \
			2>> "$out/client-$rep.err"; then
			echo "client bench map-fd --batch $b failed (rep $rep)"
			fail=1
		fi
	done
	sed "s/}\$/,\"rep\":$rep}/" "$out/client-$rep.jsonl" >> "$out/results.jsonl"
	[ "$mapfd_only" = 1 ] && goals=() || goals=(copy-64 copy-4k map-unmap)
	for goal in "${goals[@]}"; do
		bench_run connect "$rep" "$goal" timed --duration "$secs" --warmup 0.3
		bench_run connect "$rep" "$goal" verified --duration 1 --warmup 0.1 --verify on \
			--raw-copy off
	done
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" || { echo "gntdpd exited $? (rep $rep)"; fail=1; }
}

# bench_run PATH REP GOAL KIND ARGS...: gntdp-bench on configs/GOAL.ini, in process
# (PATH in-process: its own hypercall ring) or against the daemon of this rep
# (PATH connect: each domain a client process); one line into results.jsonl.
bench_run() {
	local path=$1 rep=$2 goal=$3 kind=$4 line err
	shift 4
	local cmd=(timeout -k 10 120 "${rt[@]}" "$bench" -l 0,1 --no-pci
		--file-prefix=gntdp-bench-d --log-level=lib.eal:error -- --set queues.interface=hcall)
	[ "$path" = connect ] && cmd=(timeout -k 10 120 "${rt[@]}" "$bench" --connect "$sock_dir/sock"
		--clients 0)
	err="$out/$path-$goal-$rep-$kind.err"
	line=$(log "${cmd[@]}" --config "$root/configs/$goal.ini" --progress off --json "$@" \
		2> "$err" | tail -n 1) || true
	if [ -z "$line" ]; then
		echo "gntdp-bench $path $goal ($kind, rep $rep) printed nothing: $(tail -n 3 "$err")"
		fail=1
		return
	fi
	echo "$line" | python3 -c 'import json, sys
r = json.loads(sys.stdin.read())
r.update({"path": sys.argv[4], "scenario": sys.argv[1], "kind": sys.argv[2], "rep": int(sys.argv[3])})
print(json.dumps(r))' "$goal" "$kind" "$rep" "$path" >> "$out/results.jsonl"
}

: > "$out/results.jsonl"
for rep in $(seq "$reps"); do
	daemon_rep "$rep"
	[ "$mapfd_only" = 1 ] && continue
	for goal in copy-64 copy-4k map-unmap; do
		bench_run in-process "$rep" "$goal" timed --duration "$secs" --warmup 0.3
		bench_run in-process "$rep" "$goal" verified --duration 1 --warmup 0.1 --verify on \
			--raw-copy off
	done
done
echo "load after: $(cat /proc/loadavg)" >> "$out/machine.txt"
find "$out" -name '*.err' -empty -delete
python3 "$here/summary.py" "$out/results.jsonl" | tee "$out/summary.txt"
python3 "$here/summary.py" --check "$out/results.jsonl" || fail=1
echo "results in $out"
exit "$fail"
