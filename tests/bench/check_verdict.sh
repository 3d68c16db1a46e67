#!/bin/bash
# SPDX-License-Identifier: MIT
# gntdp-bench says what it measured (bench/dataplane/README.md, "gntdp-bench's verdict"):
#   off          a run with verify = off prints "verification  off", never PASS, exits 0,
#                and its JSON says "verification": "off" with no effect checked;
#   on           the same scenario with --verify on prints "verification  PASS" and
#                "verification": "pass" with every completion's effect checked;
#   no work      a run that completes no request in its window (offered load 1 op/s for
#                0.3 s) is a failed run: "run FAILED", verification FAIL, exit 1;
#   interrupted  SIGINT and SIGTERM in the middle of the measurement: the table says
#                INTERRUPTED and "partial", the verdict is not PASS, the JSON says
#                "interrupted": true and "pass": false, and the exit status is 1.
#
#   check_verdict.sh BENCH CONFIG_DIR
#
# Exit 0 pass, 1 fail, 77 skip (no EAL possible here).
set -u
EAL_PREFIX=verdict
. "$(dirname "$0")/common.sh"

# json_is FILE KEY VALUE: the last JSON line of FILE has KEY == VALUE (as JSON text).
json_is() {
	python3 -c 'import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
sys.exit(0 if json.dumps(r.get(sys.argv[2])) == sys.argv[3] else 1)' "$@" 2>/dev/null
}
bad() {
	echo "FAIL $1"
	tail -n 15 "$tmp/err"
	fail=1
}

# A short copy-64 run, as the goal configs time it (verify = off), then verified.
for mode in off on; do
	rc=0
	eal "$mode"
	"$bench" "${EAL[@]}" --config "$dir/copy-64.ini" --duration 0.3 \
		--warmup 0.05 --verify "$mode" --raw-copy off --progress off --json \
		>"$tmp/json" 2>"$tmp/err" || rc=$?
	line=$(grep -E '^ *verification ' "$tmp/err")
	if [ "$rc" -ne 0 ]; then
		bad "verify $mode: exit status $rc, expected 0"
	elif [ "$mode" = off ] && { ! echo "$line" | grep -q 'verification *off' ||
		echo "$line" | grep -q PASS; }; then
		bad "verify off: the table says '$line'"
	elif [ "$mode" = off ] && ! { json_is "$tmp/json" verification '"off"' &&
		json_is "$tmp/json" verified 0; }; then
		bad "verify off: the JSON does not say verification off: $(cat "$tmp/json")"
	elif [ "$mode" = on ] && ! echo "$line" | grep -q 'verification *PASS'; then
		bad "verify on: the table says '$line'"
	elif [ "$mode" = on ] && ! json_is "$tmp/json" verification '"pass"'; then
		bad "verify on: the JSON does not say verification pass: $(cat "$tmp/json")"
	else
		echo "ok   verify $mode: $line"
	fi
done

eal nowork
rc=0
"$bench" "${EAL[@]}" --config "$dir/copy-64.ini" --duration 0.3 --warmup 0 --set run.rate=0.000001 \
	--raw-copy off --progress off --json >"$tmp/json" 2>"$tmp/err" || rc=$?
if [ "$rc" -ne 1 ]; then
	bad "no work: exit status $rc, expected 1"
elif ! grep -q 'run *FAILED: no request completed' "$tmp/err" ||
	! grep -Eq '^ *verification *FAIL' "$tmp/err"; then
	bad "no work: the table does not say FAILED and FAIL"
elif ! { json_is "$tmp/json" verification '"fail"' && json_is "$tmp/json" pass false; }; then
	bad "no work: the JSON does not say fail: $(cat "$tmp/json")"
else
	echo "ok   no work: $(grep -E '^ *run ' "$tmp/err" | tr -s ' ')"
fi

# Interrupted in the measurement window: the signal once the first progress line of the
# measure phase is out (a slow start-up, under ASan say, only delays it), at most 60 s in.
for sig in INT TERM; do
	rc=0
	eal "$sig"
	"$bench" "${EAL[@]}" --config "$dir/default.ini" --duration 120 \
		--warmup 0 --raw-copy off --progress on --json >"$tmp/json" 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 600); do
		grep -q '\] measure' "$tmp/err" && break
		sleep 0.1
	done
	kill -s "$sig" "$pid"
	wait "$pid" || rc=$?
	if [ "$rc" -ne 1 ]; then
		bad "SIG$sig: exit status $rc, expected 1"
	elif ! grep -q 'INTERRUPTED' "$tmp/err" || ! grep -q 'partial' "$tmp/err"; then
		bad "SIG$sig: the table does not say INTERRUPTED and partial"
	elif grep -E '^ *verification ' "$tmp/err" | grep -q PASS; then
		bad "SIG$sig: an interrupted run printed PASS"
	elif ! { json_is "$tmp/json" interrupted true && json_is "$tmp/json" pass false &&
		json_is "$tmp/json" verification '"interrupted"' &&
		json_is "$tmp/json" stopped_in '"measure"'; }; then
		bad "SIG$sig: the JSON does not say interrupted in measure: $(cat "$tmp/json")"
	else
		echo "ok   SIG$sig: $(grep -E '^ *run ' "$tmp/err" | tr -s ' ')"
	fi
done
exit $fail
