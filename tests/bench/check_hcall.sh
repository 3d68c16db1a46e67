#!/bin/bash
# SPDX-License-Identifier: MIT
# gntdp-bench through the hypercall ring ([queues] interface = hcall, docs/hcall.md):
#   copy-64      a short verified copy-64 run passes (exit 0, "verification PASS",
#                JSON "pass"), every completion's effect was checked, and the work went
#                through the ring: one hypercall per burst of 32 ops, as many ops in the
#                ring's calls as the client posted;
#   wrap         bursts of 24 on 64 slots (some split where they wrap the slot ring) pass;
#   mix          a verified run of every op kind (copies, map/unmap, each invalid kind)
#                passes the same way (statuses per op read back from guest memory);
#   queue        the same copy-64 run with interface = queue makes no hypercall;
#   bad name     --set queues.interface=ring exits 2 with a message naming the key.
#
#   check_hcall.sh BENCH CONFIG_DIR
#
# Exit 0 pass, 1 fail, 77 skip (no EAL possible here).
set -u
EAL_PREFIX=hcall
. "$(dirname "$0")/common.sh"

# json EXPR: evaluate EXPR over r, the last JSON line of $tmp/json; exit 0 when true.
json() {
	python3 -c 'import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$tmp/json" "$1" 2>/dev/null
}
bad() {
	echo "FAIL $1"
	tail -n 15 "$tmp/err"
	[ -s "$tmp/json" ] && tail -n 1 "$tmp/json"
	fail=1
}

# run NAME CONFIG INTERFACE [args...]: a short verified run; sets rc.
run() {
	local name=$1 cfg=$2 itf=$3
	shift 3
	eal "$name"
	rc=0
	"$bench" "${EAL[@]}" --config "$dir/$cfg" --duration 0.3 --warmup 0.05 --verify on \
		--raw-copy off --progress off --json --set "queues.interface=$itf" "$@" \
		>"$tmp/json" 2>"$tmp/err" || rc=$?
}

passed='r["pass"] is True and r["verification"] == "pass" and r["ops"] > 0 and
	r["verified"] == r["completed"] == r["posted"] > 0 and r["bad_status"] == 0 and
	r["lost"] == 0 and r["dup_or_unknown"] == 0'

run copy64 copy-64.ini hcall
if [ "$rc" -ne 0 ] || ! grep -Eq '^ *verification *PASS' "$tmp/err"; then
	bad "copy-64 hcall: exit status $rc, $(grep -E '^ *verification ' "$tmp/err")"
elif ! grep -Eq '^interface = hcall$' "$tmp/err"; then
	bad "copy-64 hcall: the effective config does not say interface = hcall"
elif ! json "$passed and r[\"interface\"] == \"hcall\" and
	r[\"hypercall_ops\"] == r[\"posted\"] and r[\"hypercall_ops\"] == 32 * r[\"hypercalls\"]"; then
	bad "copy-64 hcall: JSON is not a verified pass of 32-op hypercalls"
else
	echo "ok   copy-64 hcall: $(grep -E '^ *hypercalls ' "$tmp/err" | tr -s ' ')"
fi

run mix invalid-mix.ini hcall --set ops.map_unmap=20 --set ops.invalid=20
if [ "$rc" -ne 0 ] || ! grep -Eq '^ *verification *PASS' "$tmp/err"; then
	bad "mix hcall: exit status $rc, $(grep -E '^ *verification ' "$tmp/err")"
elif ! json "$passed and r[\"hypercall_ops\"] == r[\"posted\"] and r[\"maps\"] > 0 and
	r[\"unmaps\"] > 0 and r[\"invalid\"] > 0 and r[\"copies\"] > 0 and
	len(r[\"status\"]) >= 7"; then
	bad "mix hcall: JSON is not a verified pass of every op kind"
else
	echo "ok   mix hcall: $(grep -E '^ *statuses ' "$tmp/err" | tr -s ' ')"
fi

# Bursts of 24 on 64 slots: some wrap the slot ring and are split there into two hypercalls.
run wrap copy-64.ini hcall --burst 24
if [ "$rc" -ne 0 ] || ! json "$passed and r[\"hypercall_ops\"] == r[\"posted\"] and
	24 * r[\"hypercalls\"] > r[\"hypercall_ops\"] > 12 * r[\"hypercalls\"]"; then
	bad "wrap hcall: exit status $rc, or JSON not a verified pass with split hypercalls"
else
	echo "ok   wrap hcall: $(grep -E '^ *hypercalls ' "$tmp/err" | tr -s ' ')"
fi

run queue copy-64.ini queue
if [ "$rc" -ne 0 ] || ! json "$passed and r[\"interface\"] == \"queue\" and r[\"hypercalls\"] == 0"; then
	bad "copy-64 queue: exit status $rc, or JSON not a pass without hypercalls"
else
	echo "ok   copy-64 queue: no hypercall"
fi

eal badname
rc=0
"$bench" "${EAL[@]}" --config "$dir/copy-64.ini" --set queues.interface=ring \
	>"$tmp/json" 2>"$tmp/err" || rc=$?
if [ "$rc" -ne 2 ]; then
	bad "bad interface: exit status $rc, expected 2"
elif ! grep -qF -- "--set: [queues] interface = 'ring': unknown value (queue hcall)" "$tmp/err"; then
	bad "bad interface: message does not name the key: $(cat "$tmp/err")"
else
	echo "ok   bad interface: $(grep -F interface "$tmp/err")"
fi
exit $fail
