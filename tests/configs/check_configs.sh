#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs gntdp-bench over the sample configs.
#
#   check_configs.sh BENCH CONFIG_DIR bad    every configs/bad/*.ini must be refused:
#                                            exit status 2, and stderr must hold one
#                                            line "FILE:LINE: [section] key = 'value':
#                                            reason" that contains the file's
#                                            "; expect:" text
#   check_configs.sh BENCH CONFIG_DIR good   every configs/*.ini must run briefly with
#                                            verification on and pass
#
# Exit 0 pass, 1 fail, 77 skip (no EAL possible here).
set -u
bench=$1
dir=$2
mode=$3
eal=(-l 0,1 --no-huge -m 256 --no-pci --no-telemetry --log-level=lib.eal:error)
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# EAL needs two lcores and memory; 77 (no memory for EAL) is the one reason to skip.
"$bench" "${eal[@]}" --file-prefix=cfgprobe -- --ops 64 --duration 0 --warmup 0 \
	--raw-copy off --progress off >/dev/null 2>"$tmp/probe"
if [ $? -eq 77 ]; then
	echo "SKIP: gntdp-bench cannot get memory for EAL here:"
	cat "$tmp/probe"
	exit 77
fi

check_refused() { # name, expected text, command...
	local name=$1 expect=$2 rc
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 2 ]; then
		echo "FAIL $name: exit status $rc, expected 2"
		cat "$tmp/err"
		fail=1
		return
	fi
	if ! grep -qF -- "$expect" "$tmp/err"; then
		echo "FAIL $name: message lacks: $expect"
		echo "  got: $(cat "$tmp/err")"
		fail=1
		return
	fi
	echo "ok   $name: $(grep -F -- "$expect" "$tmp/err" | head -n 1)"
}

if [ "$mode" = bad ]; then
	n=0
	for f in "$dir"/bad/*.ini; do
		expect=$(sed -n 's/^; expect: //p' "$f")
		if [ -z "$expect" ]; then
			echo "FAIL $f: no '; expect:' line"
			fail=1
			continue
		fi
		check_refused "$(basename "$f")" "$expect" \
			"$bench" "${eal[@]}" --file-prefix=cfgbad -- --config "$f"
		# One line naming the file, line, section, key and value, then the reason.
		if ! grep -qE -- "^$f:[0-9]+: \[[^]]*\] [^=]+ = '.*': .+\$" "$tmp/err"; then
			echo "FAIL $f: no 'FILE:LINE: [section] key = 'value': reason' line"
			fail=1
		fi
		n=$((n + 1))
	done
	[ "$n" -ge 10 ] || { echo "FAIL: only $n bad configs found in $dir/bad"; fail=1; }
	# The command line goes through the same parsers and says where the value came from.
	check_refused cli-burst "--burst: [queues] burst = 'abc': not an unsigned integer" \
		"$bench" "${eal[@]}" --file-prefix=cfgbad -- --burst abc
	# A check across keys names the option that set the value (after parsing: that
	# name must outlive the option parser; ASan builds see a use after free otherwise).
	check_refused cli-cross "--frames: [domains] frames = '4': need 2 x per_backend x depth frames" \
		"$bench" "${eal[@]}" --file-prefix=cfgbad -- --frames 4
	check_refused cli-set "--set: [ops] nosuchkey = '1': unknown key" \
		"$bench" "${eal[@]}" --file-prefix=cfgbad -- --set ops.nosuchkey=1
	check_refused missing-file "$dir/bad/does-not-exist.ini: cannot open" \
		"$bench" "${eal[@]}" --file-prefix=cfgbad -- --config "$dir/bad/does-not-exist.ini"
elif [ "$mode" = good ]; then
	for f in "$dir"/*.ini; do
		# Short, verified, single-core friendly: the config's scenario, not its duration.
		"$bench" "${eal[@]}" --file-prefix=cfggood -- --config "$f" --duration 0.3 \
			--warmup 0.05 --verify on --raw-copy off --progress off \
			--set run.calibrate=0.2 >"$tmp/out" 2>"$tmp/err"
		rc=$?
		if [ "$rc" -ne 0 ] || ! grep -q 'verification *PASS' "$tmp/out"; then
			echo "FAIL $f: exit status $rc"
			cat "$tmp/out" "$tmp/err" | tail -n 20
			fail=1
		else
			echo "ok   $f: $(grep -E 'throughput|verification' "$tmp/out" | tr -s ' ' | tr '\n' ' ')"
		fi
	done
else
	echo "usage: $0 BENCH CONFIG_DIR bad|good"
	exit 1
fi
exit $fail
