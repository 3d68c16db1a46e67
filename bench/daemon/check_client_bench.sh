#!/bin/bash
# SPDX-License-Identifier: MIT
# A short verified gntdp-client-bench run against a gntdpd started here:
# every scenario prints verification "pass" and does work, and the client
# processes (driver and granter) run without EAL (no /run/dpdk files of
# theirs, no librte_* in the binary).
#   check_client_bench.sh GNTDPD CLIENT_BENCH CONFIG
# Exit 0 pass, 1 fail, 77 skip (the daemon could not get EAL memory).
set -u
daemon=$1 client=$2 config=$3
dir=$(mktemp -d /tmp/gntdp-cbench-XXXXXX)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
"$daemon" --config "$config" --set socket.path="$dir/sock" --set socket.group= > "$dir/log" 2>&1 &
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
readelf -d "$client" | grep NEEDED | grep -q librte_ && { echo "FAIL: the client bench needs DPDK"; exit 1; }
if ! timeout 60 "$client" --socket "$dir/sock" --duration 0.2 --depth 4 > "$dir/out" 2> "$dir/err"; then
	echo "FAIL: gntdp-client-bench exited non-zero"; cat "$dir/err" "$dir/out"; tail -n 20 "$dir/log"; exit 1
fi
cat "$dir/out"
python3 - "$dir/out" <<'EOP' || exit 1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = {"copy-64", "copy-64-local", "copy-4k", "map-unmap", "map-fd"}
got = {r["scenario"] for r in rows}
assert got == want, "scenarios %s" % got
for r in rows:
    assert r["verification"] == "pass", r
    assert r["ops"] > 0 and r["calls"] > 0, r
    assert r["ops"] % r["batch"] == 0, r
print("ok")
EOP
