#!/bin/bash
# SPDX-License-Identifier: MIT
# gntdp-bench --connect against a gntdpd started here (suite daemon,
# docs/daemon.md "Benchmark against the daemon"): short verified runs of
# configs/default.ini (every op kind: copies both ways, map/unmap pairs, all
# the invalid kinds), copy-64 and map-unmap, each domain a client process
# and no EAL of gntdp-bench's; then the verifier must catch a corrupted byte
# ([run] inject_fault), the retired per-op queue (interface = queue) and a
# missing daemon must be refused with a clear message.
#   check_bench_connect.sh GNTDPD GNTDP_BENCH CONFIG_DIR
# Exit 0 pass, 1 fail, 77 skip (the daemon could not get EAL memory).
set -u
daemon=$1 bench=$2 configs=$3
dir=$(mktemp -d /tmp/gntdp-bconn-XXXXXX)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
"$daemon" --config "$configs/gntdpd/gntdpd.ini" --set socket.path="$dir/sock" \
	--set socket.group= > "$dir/log" 2>&1 &
pid=$!
for i in $(seq 300); do
	[ -S "$dir/sock" ] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"; st=$?
		[ "$st" = 77 ] && { echo "SKIP: gntdpd has no EAL memory"; exit 77; }
		echo "FAIL: gntdpd exited $st"; tail -n 20 "$dir/log"; exit 1
	fi
	sleep 0.1
done
# EAL runtime directories before: gntdp-bench must add none (it starts no EAL).
rt_before=$(ls /var/run/dpdk 2>/dev/null | grep -v '^gntdpd-' | sort)

# run NAME EXPECTED_EXIT ARGS...: gntdp-bench --connect, its JSON in $dir/NAME.json.
run() {
	local name=$1 want=$2 st
	shift 2
	timeout 120 "$bench" --connect "$dir/sock" --progress off --json "$@" \
		> "$dir/$name.json" 2> "$dir/$name.err"
	st=$?
	if [ "$st" != "$want" ]; then
		bad "$name: exit $st, expected $want"
		tail -n 15 "$dir/$name.err"
	fi
}
run default 0 --config "$configs/default.ini" --duration 0.5 --warmup 0.1 --raw-copy off
run copy64 0 --config "$configs/copy-64.ini" --duration 0.3 --warmup 0.1 --verify on
run mapunmap 0 --config "$configs/map-unmap.ini" --duration 0.3 --warmup 0.1 --verify on
# A slow checker: every backend waits for its last checks before it leaves
# (its domain's maps go with it).
GNTDP_BENCH_FE_LAG_US=3000 run lagging 0 --config "$configs/default.ini" --duration 0.3 \
	--warmup 0.1 --raw-copy off
run inject 1 --config "$configs/default.ini" --duration 0.3 --warmup 0.1 --raw-copy off \
	--inject-fault 50
python3 - "$dir" <<'EOP' || fail=1
import json, sys
d = sys.argv[1]
def load(n):
    return json.loads(open("%s/%s.json" % (d, n)).read().strip().splitlines()[-1])
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what)
        ok = False
for n in ("default", "copy64", "mapunmap", "lagging"):
    r = load(n)
    check(r["mode"] == "connect" and r["interface"] == "hcall", "%s: mode %s" % (n, r["mode"]))
    check(r["verification"] == "pass" and r["pass"], "%s: verification %s (%s)" % (n, r["verification"], r["first_error"]))
    check(r["ops"] > 0 and r["posted"] == r["completed"] == r["verified"], "%s: counts" % n)
    check(r["processes"] == 3 and r["cross_process_checks"] > 0, "%s: processes/checks" % n)
r = load("default")
want = {"GNTST_okay", "GNTST_bad_gntref", "GNTST_bad_copy_arg", "GNTST_general_error",
        "GNTST_permission_denied", "GNTST_bad_domain", "GNTST_bad_handle"}
check(want <= set(r["status"]), "default: statuses %s" % sorted(r["status"]))
check(r["maps"] > 0 and r["unmaps"] > 0 and r["invalid"] > 0 and r["copies"] > 0, "default: op kinds")
check(r["bad_status"] == 0 and r["bad_bytes"] == 0 and r["lost"] == 0, "default: clean")
r = load("mapunmap")
check(r["maps"] > 0 and r["unmaps"] > 0, "map-unmap: pairs")
r = load("inject")
check(r["verification"] == "fail" and not r["pass"] and r["bad_bytes"] >= 1, "inject: not caught: %s" % r)
check("differ" in r["first_error"], "inject: first error %r" % r["first_error"])
print("ok" if ok else "")
sys.exit(0 if ok else 1)
EOP
# The retired per-op queue is refused, naming the key; so is a missing daemon.
timeout 30 "$bench" --connect "$dir/sock" --config "$configs/copy-64.ini" --interface queue \
	> "$dir/queue.out" 2>&1
st=$?
[ "$st" = 2 ] && grep -q "interface = 'queue': the per-op queue is retired" "$dir/queue.out" ||
	{ bad "interface = queue with --connect: exit $st"; cat "$dir/queue.out"; }
timeout 30 "$bench" --connect "$dir/nosuch" --config "$configs/copy-64.ini" > "$dir/nod.out" 2>&1
st=$?
[ "$st" = 1 ] && grep -q 'cannot reach gntdpd' "$dir/nod.out" ||
	{ bad "no daemon: exit $st"; cat "$dir/nod.out"; }
rt_after=$(ls /var/run/dpdk 2>/dev/null | grep -v '^gntdpd-' | sort)
[ "$rt_before" = "$rt_after" ] || bad "an EAL runtime directory appeared: $rt_after"
kill -0 "$pid" 2>/dev/null || bad "gntdpd died"
[ "$fail" = 0 ] && echo "bench_connect: ok"
exit "$fail"
