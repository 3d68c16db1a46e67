#!/bin/bash
# SPDX-License-Identifier: MIT
# gntdp-bench's queues are hypercall rings (docs/hcall.md; the per-op queue is retired):
#   copy-64      a short verified copy-64 run, no interface given, passes (exit 0,
#                "verification PASS", JSON "pass"), every completion's effect was
#                checked, and the work went through the rings: one hypercall per burst
#                of 32 ops, as many ops in the rings' calls as the client posted, in the
#                whole run and in the window; the queue's JSON fields are gone;
#   old config   the same run with interface = hcall (old configs) is accepted;
#   wrap         bursts of 24 on 64 slots (some split where they wrap the slot ring) pass;
#   burst 1      one op per hypercall with depth = ring_size = 64: 64 calls in flight
#                fill the SQ and CQ exactly, and the run passes with no short submit;
#   mix          a verified run of every op kind (copies, map/unmap, each invalid kind)
#                passes the same way (statuses per op read back from guest memory);
#   queue        interface = queue (--set or --interface) exits 2 naming the key and
#                the retirement;
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

# run NAME CONFIG [args...]: a short verified run; sets rc.
run() {
	local name=$1 cfg=$2
	shift 2
	eal "$name"
	rc=0
	"$bench" "${EAL[@]}" --config "$dir/$cfg" --duration 0.3 --warmup 0.05 --verify on \
		--raw-copy off --progress off --json "$@" >"$tmp/json" 2>"$tmp/err" || rc=$?
}
# refused NAME EXPECTED [args...]: exit status 2 and EXPECTED on stderr.
refused() {
	local name=$1 expect=$2
	shift 2
	eal "$name"
	rc=0
	"$bench" "${EAL[@]}" --config "$dir/copy-64.ini" "$@" >"$tmp/json" 2>"$tmp/err" || rc=$?
	if [ "$rc" -ne 2 ]; then
		bad "$name: exit status $rc, expected 2"
	elif ! grep -qF -- "$expect" "$tmp/err"; then
		bad "$name: message lacks '$expect': $(cat "$tmp/err")"
	else
		echo "ok   $name: $(grep -F interface "$tmp/err")"
	fi
}

passed='r["pass"] is True and r["verification"] == "pass" and r["ops"] > 0 and
	r["verified"] == r["completed"] == r["posted"] > 0 and r["bad_status"] == 0 and
	r["lost"] == 0 and r["dup_or_unknown"] == 0'

# The window's figures are snapshots of a running ring (calls and ops read one after the
# other): exact over the whole run, within a call or two of it in the window.
thirtytwo='r["interface"] == "hcall" and r["hypercall_ops"] == r["posted"] and
	r["hypercall_ops"] == 32 * r["hypercalls"] and r["window_hypercalls"] > 0 and
	abs(r["window_hypercall_ops"] - 32 * r["window_hypercalls"]) <= 64 and
	31.9 < r["ops_per_hypercall"] < 32.1 and r["window_hypercall_ops"] <= r["hypercall_ops"] and
	"batches" not in r and "ring_full" not in r'
for itf in default hcall; do
	if [ "$itf" = default ]; then
		run copy64 copy-64.ini
	else
		run copy64-hcall copy-64.ini --set queues.interface=hcall
	fi
	if [ "$rc" -ne 0 ] || ! grep -Eq '^ *verification *PASS' "$tmp/err"; then
		bad "copy-64 ($itf): exit status $rc, $(grep -E '^ *verification ' "$tmp/err")"
	elif ! grep -Eq '^interface = hcall$' "$tmp/err"; then
		bad "copy-64 ($itf): the effective config does not say interface = hcall"
	elif ! json "$passed and $thirtytwo"; then
		bad "copy-64 ($itf): JSON is not a verified pass of 32-op hypercalls"
	else
		echo "ok   copy-64 ($itf): $(grep -E '^ *hypercalls ' "$tmp/err" | tr -s ' ')"
	fi
done

run mix invalid-mix.ini --set ops.map_unmap=20 --set ops.invalid=20
if [ "$rc" -ne 0 ] || ! grep -Eq '^ *verification *PASS' "$tmp/err"; then
	bad "mix: exit status $rc, $(grep -E '^ *verification ' "$tmp/err")"
elif ! json "$passed and r[\"hypercall_ops\"] == r[\"posted\"] and r[\"maps\"] > 0 and
	r[\"unmaps\"] > 0 and r[\"invalid\"] > 0 and r[\"copies\"] > 0 and
	len(r[\"status\"]) >= 7"; then
	bad "mix: JSON is not a verified pass of every op kind"
else
	echo "ok   mix: $(grep -E '^ *statuses ' "$tmp/err" | tr -s ' ')"
fi

# Bursts of 24 on 64 slots: some wrap the slot ring and are split there into two hypercalls.
run wrap copy-64.ini --burst 24
if [ "$rc" -ne 0 ] || ! json "$passed and r[\"hypercall_ops\"] == r[\"posted\"] and
	24 * r[\"hypercalls\"] > r[\"hypercall_ops\"] > 12 * r[\"hypercalls\"]"; then
	bad "wrap: exit status $rc, or JSON not a verified pass with split hypercalls"
else
	echo "ok   wrap: $(grep -E '^ *hypercalls ' "$tmp/err" | tr -s ' ')"
fi

# One op per call, as many calls in flight as the SQ and the CQ have entries.
run burst1 copy-64.ini --burst 1 --ring-size 64 --set queues.depth=64
if [ "$rc" -ne 0 ] || ! json "$passed and r[\"hypercall_ops\"] == r[\"posted\"] and
	r[\"hypercalls\"] == r[\"hypercall_ops\"] and r[\"ring_size\"] == 64 and
	0.99 < r[\"ops_per_hypercall\"] < 1.01"; then
	bad "burst 1: exit status $rc, or JSON not a verified pass of 1-op hypercalls"
else
	echo "ok   burst 1: $(grep -E '^ *hypercalls ' "$tmp/err" | tr -s ' ')"
fi

refused queue "--set: [queues] interface = 'queue': the per-op queue is retired" \
	--set queues.interface=queue
refused queue-option "--interface: [queues] interface = 'queue': the per-op queue is retired" \
	--interface queue
refused badname "--set: [queues] interface = 'ring': unknown value (hcall)" \
	--set queues.interface=ring
exit $fail
