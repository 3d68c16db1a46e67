#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 12's benchmark: bulk transfer through Debian's unmodified libxenvchan
# over gntdp (rings of order 16, 64 KiB writes) against a Unix-domain stream
# socket between the same two cores, same run, same program
# (tests/xen/vchan_peer: --gen on the writer, --sink on the reader, 64 KiB per
# call); goal: vchan >= 1.5x the socket. Also libxenvchan's default in-page
# ring (the server's 2 KiB write ring). Both vchan paths run again with
# GNTDP_EVTCHN_SPIN_US=S in both vchan processes (-s S, default 20; 0 skips
# them): pending() polls the channel's lines S us before it sleeps, and a
# notify to a polling peer is a memory write (docs/daemon.md "Event
# channels").
#
# gntdpd and gntdp-xenstored are started here (the daemon's EAL lcores -l,
# default 0,1: its worker polls the second); the writer is domain 1 (the
# vchan server) pinned to CPU W, the reader domain 2 (the client) to CPU R
# (-c W,R, default 0,1), each through gntdp-run. Needs build/xen's
# libxengnttab.so.1 and libxenevtchn.so.1.
#
#   bench/vchan/run.sh [-B BUILDDIR] [-o OUTDIR] [-n REPS] [-c W,R] [-l LCORES] [-m MIB] [-s US]
#
# -m: MiB per order-16 and socket run (default 2048; the in-page ring gets a
# sixteenth). Writes OUTDIR/results.jsonl (one line per run: path, bytes,
# seconds, mib_s, rep), summary.txt (median per path, the ratio),
# machine.txt, command.txt. Exit 0 when every run moved every byte.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build"
out="$root/bench/results/vchan-$(date -u +%Y%m%dT%H%M%SZ)"
reps=3
cpus=0,1
lcores=0,1
mib=2048
spin=20
while getopts B:o:n:c:l:m:s: opt; do
	case $opt in
	B) build=$OPTARG ;;
	o) out=$OPTARG ;;
	n) reps=$OPTARG ;;
	c) cpus=$OPTARG ;;
	l) lcores=$OPTARG ;;
	m) mib=$OPTARG ;;
	s) spin=$OPTARG ;;
	*) sed -n '3,26p' "$0"; exit 2 ;;
	esac
done
wcpu=${cpus%,*}
rcpu=${cpus#*,}
daemon="$build/apps/gntdpd/gntdpd"
xsd="$build/apps/gntdp-xenstored/gntdp-xenstored"
run="$build/apps/gntdp-run/gntdp-run"
vp="$build/tests/xen/vchan_peer"
for x in "$daemon" "$xsd" "$run" "$vp" "$build/xen/libxengnttab.so.1" "$build/xen/libxenevtchn.so.1"; do
	[ -e "$x" ] || { echo "missing $x (ninja -C $build)"; exit 1; }
done
mkdir -p "$out"
echo "$0 $*" > "$out/command.txt"
{
	echo "commit: $(git -C "$root" rev-parse HEAD) $(git -C "$root" status --porcelain --untracked-files=no | grep -q . && echo '(dirty tree)')"
	echo "date: $(date -u)"
	echo "compiler: $(cc --version | head -n 1)"
	echo "libxenvchan: $(dpkg-query -W -f='${Version}' libxenmisc4.17 2>/dev/null)"
	echo "writer CPU $wcpu, reader CPU $rcpu, gntdpd lcores $lcores"
	echo "load before: $(cat /proc/loadavg)"
	lscpu | grep -E 'Model name|^CPU\(s\)|Thread|MHz' || true
} > "$out/machine.txt"
T=$(mktemp -d /tmp/gntdp-vchan-bench-XXXXXX)
chmod 755 "$T"
dpid="" xpid=""
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null
	[ -n "$xpid" ] && kill "$xpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
log() {
	echo "$*" >> "$out/command.txt"
	"$@"
}

dcmd=("$daemon" -l "$lcores" --no-pci --file-prefix=gntdpd-vchan-bench --log-level=lib.eal:error
	-- --config "$root/configs/gntdpd/gntdpd.ini" --set socket.path="$T/sock" --set socket.group=)
echo "${dcmd[*]} &" >> "$out/command.txt"
"${dcmd[@]}" > "$out/gntdpd.log" 2>&1 &
dpid=$!
echo "$xsd --dir $T/xs &" >> "$out/command.txt"
"$xsd" --dir "$T/xs" > "$T/xs.out" 2> "$out/xenstored.log" &
xpid=$!
for _ in $(seq 300); do
	[ -S "$T/sock" ] && grep -q ready "$T/xs.out" 2>/dev/null &&
		"$run" --socket "$T/sock" --xenstore "$T/xs" --domid 0 -- true 2>/dev/null && break
	sleep 0.1
done
R=("$run" --socket "$T/sock" --xenstore "$T/xs" --domid)
fail=0

# one PATH REP BYTES: a writer and a reader; the reader's line goes to results.jsonl.
one() {
	local path=$1 rep=$2 bytes=$3 w r xs=/local/domain/1/data/bench/$1-$2
	case $path in
	vchan-order16)
		wcmd=("${R[@]}" 1 -- "$vp" server 2 "$xs" --write-min 65536 --gen "$bytes")
		rcmd=("${R[@]}" 2 -- "$vp" client 1 "$xs" --sink) ;;
	vchan-order16-spin)
		wcmd=(env GNTDP_EVTCHN_SPIN_US="$spin" "${R[@]}" 1 -- "$vp" server 2 "$xs" --write-min 65536 --gen "$bytes")
		rcmd=(env GNTDP_EVTCHN_SPIN_US="$spin" "${R[@]}" 2 -- "$vp" client 1 "$xs" --sink) ;;
	vchan-inpage)
		wcmd=("${R[@]}" 1 -- "$vp" server 2 "$xs" --gen "$bytes")
		rcmd=("${R[@]}" 2 -- "$vp" client 1 "$xs" --sink) ;;
	vchan-inpage-spin)
		wcmd=(env GNTDP_EVTCHN_SPIN_US="$spin" "${R[@]}" 1 -- "$vp" server 2 "$xs" --gen "$bytes")
		rcmd=(env GNTDP_EVTCHN_SPIN_US="$spin" "${R[@]}" 2 -- "$vp" client 1 "$xs" --sink) ;;
	unix)
		wcmd=("$vp" unix-client "$T/u.sock" --gen "$bytes")
		rcmd=("$vp" unix-server "$T/u.sock" --sink) ;;
	esac
	rm -f "$T/u.sock"
	echo "taskset -c $rcpu ${rcmd[*]} & taskset -c $wcpu ${wcmd[*]}" >> "$out/command.txt"
	timeout 120 taskset -c "$rcpu" "${rcmd[@]}" --chunk 65536 2> "$T/r.err" &
	r=$!
	timeout 120 taskset -c "$wcpu" "${wcmd[@]}" --chunk 65536 2> "$T/w.err" &
	w=$!
	wait $w || { echo "$path rep $rep: writer failed: $(cat "$T/w.err")"; fail=1; }
	wait $r || { echo "$path rep $rep: reader failed: $(cat "$T/r.err")"; fail=1; }
	python3 - "$path" "$rep" "$bytes" "$T/r.err" >> "$out/results.jsonl" <<-'PY' || fail=1
		import json, re, sys
		path, rep, want, err = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
		m = re.search(r"bytes=(\d+) seconds=([\d.]+) mib_s=([\d.]+)", open(err).read())
		if not m or int(m.group(1)) != want:
		    sys.exit(f"{path} rep {rep}: the reader got {m.group(1) if m else '?'} of {want} bytes")
		print(json.dumps({"path": path, "rep": rep, "bytes": want, "seconds": float(m.group(2)),
		                  "mib_s": float(m.group(3)), "chunk": 65536}))
	PY
}

: > "$out/results.jsonl"
big=$((mib << 20))
for rep in $(seq "$reps"); do
	one vchan-order16 "$rep" "$big"
	[ "$spin" != 0 ] && one vchan-order16-spin "$rep" "$big"
	one unix "$rep" "$big"
	one vchan-inpage "$rep" $((big / 16))
	[ "$spin" != 0 ] && one vchan-inpage-spin "$rep" $((big / 16))
done
echo "load after: $(cat /proc/loadavg)" >> "$out/machine.txt"
python3 - "$out/results.jsonl" <<-'PY' | tee "$out/summary.txt"
	import json, statistics, sys
	rows = [json.loads(l) for l in open(sys.argv[1])]
	med = {}
	for p in ("vchan-order16", "vchan-order16-spin", "unix", "vchan-inpage", "vchan-inpage-spin"):
	    v = [r["mib_s"] for r in rows if r["path"] == p]
	    if v:
	        med[p] = statistics.median(v)
	        print(f"{p:18s} median {med[p]:9.1f} MiB/s  min {min(v):9.1f}  max {max(v):9.1f}  ({len(v)} runs)")
	if "vchan-order16" in med and med.get("unix"):
	    r = med["vchan-order16"] / med["unix"]
	    print(f"ratio vchan-order16 / unix: {r:.2f} (goal >= 1.5: {'met' if r >= 1.5 else 'NOT met'})")
	if "vchan-order16-spin" in med and med.get("unix"):
	    r = med["vchan-order16-spin"] / med["unix"]
	    print(f"ratio vchan-order16-spin / unix: {r:.2f} (goal >= 1.5: {'met' if r >= 1.5 else 'NOT met'})")
	PY
echo "results in $out"
exit "$fail"
