#!/bin/bash
# SPDX-License-Identifier: MIT
# gntdp-stress refuses bad configuration with exit 2 and a message naming the
# file and line (or the command line), and accepts every shipped config.
#
#   stress_config.sh GNTDP_STRESS CONFIG_DIR WORKDIR
set -u
tool=$1
cfg=$2
dir=$3
rm -rf "$dir"
mkdir -p "$dir"
fail=0
refused() { # name, expected text, config text (or "" and extra args)
	local name=$1 expect=$2 text=$3 rc
	shift 3
	if [ -n "$text" ]; then
		printf '%s\n' "$text" >"$dir/$name.ini"
		"$tool" --plain --config "$dir/$name.ini" "$@" >"$dir/out" 2>&1
	else
		"$tool" --plain "$@" >"$dir/out" 2>&1
	fi
	rc=$?
	if [ "$rc" -ne 2 ] || ! grep -qF -- "$expect" "$dir/out"; then
		echo "FAIL $name: exit $rc, want 2 and '$expect'; got: $(cat "$dir/out")"
		fail=1
	else
		echo "ok   $name: $(grep -F -- "$expect" "$dir/out" | head -n 1)"
	fi
}
refused unknown-key "$dir/unknown-key.ini:2: [run] nosuch = '1': unknown key" $'[run]\nnosuch = 1'
refused bad-number "$dir/bad-number.ini:2: [ops] max_batch = 'x'" $'[ops]\nmax_batch = x'
refused range "$dir/range.ini:2: [ops] max_batch = '5000': out of range" $'[ops]\nmax_batch = 5000'
refused no-equals "$dir/no-equals.ini:2: [run] seed = '': no '='" $'[run]\nseed'
refused bad-bool "$dir/bad-bool.ini:2: [guest] protect = 'maybe'" $'[guest]\nprotect = maybe'
refused pow2 "[dataplane] ring_size = '1000': not a power of two" $'[dataplane]\nring_size = 1000'
refused ring-size "ring_size = '65536': out of range (2..32768)" $'[dataplane]\nring_size = 65536'
refused cli-set "--set: [run] nope = '1': unknown key" "" --set run.nope=1
refused cli-mode "--mode: [run] mode = 'fast'" "" --mode fast
# A trace of the per-op queue's time (version 1) is refused with a reason.
printf 'GNTDPSTR\001\000\000\000' >"$dir/v1.trace"
refused trace-v1 "is a version 1 trace; this build reads version 2 only" "" --replay "$dir/v1.trace"
for f in "$cfg"/*.ini; do
	# Every shipped config parses (a replay of nothing is enough to load it).
	if "$tool" --plain --config "$f" --replay /nonexistent >"$dir/out" 2>&1 ||
		! grep -q 'not a readable trace' "$dir/out"; then
		echo "FAIL $f does not load: $(cat "$dir/out")"
		fail=1
	else
		echo "ok   $(basename "$f") loads"
	fi
done
exit $fail
