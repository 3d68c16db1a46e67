#!/bin/bash
# SPDX-License-Identifier: MIT
# The config rules of the app layer (apps/common/app.h), proved for one app:
#
#   check_rules.sh APP BINARY WORKDIR      APP: bench, stress or netback
#
# precedence (--set and the app's options beat --config, before or after it),
# duplicate key, line without '=', over-long line with a key hidden in its
# tail, NaN, inf (file and --set), unknown key, unknown section, out of range,
# trailing junk, bad copy kernel, and exit status 2 on a bad EAL argument.
# Each error must be exactly one line "FILE:LINE: [section] key = 'value': reason"
# (--set or the option's name in place of FILE:LINE) and the exit status 2.
# --dry-run stops after the config is read and checked (no EAL).
set -u
app=$1
bin=$2
dir=$3
rm -rf "$dir"
mkdir -p "$dir"
fail=0
# Per app: a uint key (section, key), a double key and where the copy kernel goes;
# extra: what a minimal valid config needs; opt: an option that maps to the uint key.
case "$app" in
bench)
	us=queues uk=burst range=1..256 ds=run dk=duration cs=workers extra=() opt=--burst
	eal=(-l 0 --no-huge -m 64 --no-pci --no-telemetry --file-prefix=h-rules-b) ;;
stress)
	us=ops uk=max_batch range=1..4096 ds=run dk=seq_seconds cs=dataplane extra=() opt=
	eal=(-l 0 --no-huge -m 64 --no-pci --no-telemetry --file-prefix=h-rules-s) ;;
netback)
	us=backend uk=batch_ops range=1..1024 ds=run dk=duration cs=backend extra=(--set vif0.mode=sink) opt=
	eal=(-l 0 --no-huge -m 64 --no-pci --no-telemetry --file-prefix=h-rules-n) ;;
*)
	echo "usage: $0 bench|stress|netback BINARY WORKDIR"
	exit 1 ;;
esac

# refused NAME 'EXPECTED LINE' ARGS...: exit 2 and stderr holds the line exactly.
refused() {
	local name=$1 want=$2 rc
	shift 2
	"$bin" "${eal[@]}" -- "$@" --dry-run >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ "$rc" -ne 2 ]; then
		echo "FAIL $app $name: exit status $rc, expected 2"
		cat "$dir/err"
		fail=1
	elif ! grep -qxF -- "$want" "$dir/err"; then
		echo "FAIL $app $name: want exactly: $want"
		echo "  got: $(cat "$dir/err")"
		fail=1
	else
		echo "ok   $app $name: $want"
	fi
}
# file NAME TEXT: write a config, print its path
file() {
	printf '%s\n' "$2" >"$dir/$1.ini"
	echo "$dir/$1.ini"
}
# effective NAME 'LINE' ARGS...: a dry run prints LINE in the effective config.
effective() {
	local name=$1 want=$2 rc
	shift 2
	"$bin" "${eal[@]}" -- "$@" "${extra[@]}" --dry-run >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ "$rc" -ne 0 ] || ! grep -qxF -- "$want" "$dir/out"; then
		echo "FAIL $app $name: exit $rc, want '$want' in the effective config"
		cat "$dir/out" "$dir/err" | head -n 20
		fail=1
	else
		echo "ok   $app $name: $want"
	fi
}

f=$(file prec "[$us]
$uk = 3")
effective prec-file "$uk = 3" --config "$f"
effective prec-set-after "$uk = 7" --config "$f" --set "$us.$uk=7"
effective prec-set-before "$uk = 7" --set "$us.$uk=7" --config "$f"
if [ -n "$opt" ]; then
	effective prec-opt-before "$uk = 5" "$opt" 5 --config "$f"
	effective prec-opt-after "$uk = 5" --config "$f" "$opt" 5
fi

# The reader: an indented line is a key (not a continuation), CRLF, inline comments and a
# UTF-8 byte-order mark are read as the same key; the last of two --set wins.
f=$(file indent "[$us]
    $uk = 3")
effective indented "$uk = 3" --config "$f"
printf '[%s]\r\n%s = 4\r\n' "$us" "$uk" >"$dir/crlf.ini"
effective crlf "$uk = 4" --config "$dir/crlf.ini"
f=$(file comment "[$us] ; the section
$uk = 5 ; five")
effective inline-comment "$uk = 5" --config "$f"
printf '\xef\xbb\xbf[%s]\n%s = 6\n' "$us" "$uk" >"$dir/bom.ini"
effective bom "$uk = 6" --config "$dir/bom.ini"
effective last-set-wins "$uk = 8" --set "$us.$uk=7" --set "$us.$uk=8"
refused missing-file "$dir/none.ini: cannot open: No such file or directory" \
	--config "$dir/none.ini"

# The command line: usage errors exit 2, --help exits 0 and lists every key.
"$bin" "${eal[@]}" -- --no-such-option >"$dir/out" 2>"$dir/err"
rc=$?
if [ "$rc" -ne 2 ] || ! grep -qF -- "'--no-such-option': unknown or missing its value" "$dir/err"; then
	echo "FAIL $app unknown option: exit $rc, want 2 and a message: $(cat "$dir/err")"
	fail=1
else
	echo "ok   $app unknown option: exit 2"
fi
"$bin" "${eal[@]}" -- --config >"$dir/out" 2>"$dir/err"
rc=$?
if [ "$rc" -ne 2 ]; then
	echo "FAIL $app --config without its file: exit $rc, want 2"
	fail=1
else
	echo "ok   $app --config without its file: exit 2"
fi
"$bin" -- --help >"$dir/out" 2>"$dir/err"
rc=$?
if [ "$rc" -ne 0 ] || ! grep -qE "^  \[$us\] $uk +" "$dir/out"; then
	echo "FAIL $app --help: exit $rc, want 0 and [$us] $uk listed"
	fail=1
else
	echo "ok   $app --help: exit 0, keys listed"
fi

f=$(file dup "[$us]
$uk = 3
$uk = 4")
refused duplicate-key "$f:3: [$us] $uk = '4': key given twice in [$us] (first at line 2)" \
	--config "$f"
f=$(file dupsec "[$us]
$uk = 3
[$us]
$uk = 4")
refused duplicate-section \
	"$f:4: [$us] $uk = '4': section [$us] given twice (first at line 1)" --config "$f"
f=$(file noeq "[$us]
$uk 3")
refused no-equals "$f:2: [$us] $uk 3 = '': no '=' (expected key = value)" --config "$f"
# A comment longer than the line buffer with a live-looking key in its tail:
# refused whole, never split into a second line.
pad=$(printf 'x%.0s' $(seq 1 250))
f=$(file long "[$us]
; $pad $uk = 9")
refused long-line "$f:2: [$us] ; ${pad:0:62}... = '9': line longer than 198 characters" \
	--config "$f"
f=$(file nan "[$ds]
$dk = nan")
refused nan "$f:2: [$ds] $dk = 'nan': not a finite number" --config "$f"
f=$(file inf "[$ds]
$dk = inf")
refused inf "$f:2: [$ds] $dk = 'inf': not a finite number" --config "$f"
refused set-inf "--set: [$ds] $dk = '-inf': not a finite number" --set "$ds.$dk=-inf"
f=$(file unknown "[$us]
nosuchkey = 1")
refused unknown-key "$f:2: [$us] nosuchkey = '1': unknown key" --config "$f"
refused set-unknown-key "--set: [$us] nosuchkey = '1': unknown key" --set "$us.nosuchkey=1"
f=$(file range "[$us]
$uk = 99999999")
refused out-of-range "$f:2: [$us] $uk = '99999999': out of range ($range)" --config "$f"
f=$(file junk "[$us]
$uk = 5x")
refused trailing-junk "$f:2: [$us] $uk = '5x': trailing characters after the number" \
	--config "$f"
f=$(file copy "[$cs]
copy = avx9000")
refused bad-copy \
	"$f:2: [$cs] copy = 'avx9000': unknown copy kernel (auto memmove scalar sse avx2 avx512)" \
	--config "$f"
refused set-bad-copy \
	"--set: [$cs] copy = 'turbo': unknown copy kernel (auto memmove scalar sse avx2 avx512)" \
	--set "$cs.copy=turbo"
f=$(file section "[nosuchsection]
$uk = 1")
grep_sections=$("$bin" "${eal[@]}" -- --config "$f" --dry-run 2>&1 | sed -n 's/.*unknown section (\(.*\))$/\1/p')
refused unknown-section "$f:2: [nosuchsection] $uk = '1': unknown section ($grep_sections)" \
	--config "$f"
[ -n "$grep_sections" ] || { echo "FAIL $app unknown-section lists no sections"; fail=1; }
if [ "$app" = stress ]; then
	refused opt-nan "--seq-seconds: [run] seq_seconds = 'nan': not a finite number" \
		--seq-seconds nan
fi
if [ "$app" = bench ]; then
	refused opt-burst "--burst: [queues] burst = 'abc': not an unsigned integer" --burst abc
fi

# A bad EAL argument is a usage error (2), never a skip (77).
"$bin" --no-such-eal-option -- "${extra[@]}" >"$dir/out" 2>"$dir/err"
rc=$?
if [ "$rc" -ne 2 ] || ! grep -q 'EAL initialisation failed' "$dir/err"; then
	echo "FAIL $app bad EAL argument: exit status $rc, expected 2 and a message"
	tail -n 3 "$dir/err"
	fail=1
else
	echo "ok   $app bad EAL argument: exit 2"
fi
# gntdp-stress: a file prefix in use is an error (2), not a skip. Only EAL on hugepages
# locks its prefix (--no-huge implies --no-shconf), so this needs free hugepages.
free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
if [ "$app" = stress ] && [ "${GNTDP_NO_HUGE:-0}" != 1 ] && [ "${free:-0}" -ge 128 ]; then
	pfx=(-l 0-1 -m 64 --no-pci --no-telemetry --file-prefix="h-rules-pfx-$$")
	"$bin" "${pfx[@]}" -- --mode seq --seq-seconds 3 --set run.trace_dir="$dir" \
		>"$dir/first" 2>&1 &
	first=$!
	sleep 1.5
	"$bin" "${pfx[@]}" -- --mode seq --seq-seconds 1 --set run.trace_dir="$dir" \
		>"$dir/out" 2>"$dir/err"
	rc=$?
	wait "$first"
	frc=$?
	if [ "$frc" -ne 0 ]; then
		echo "note: the first run of the prefix test failed ($frc): $(tail -n 1 "$dir/first")"
	elif [ "$rc" -ne 2 ] || ! grep -q 'EAL initialisation failed' "$dir/err"; then
		echo "FAIL $app file prefix in use: exit status $rc, expected 2"
		tail -n 3 "$dir/err"
		fail=1
	else
		echo "ok   $app file prefix in use: exit 2"
	fi
	rm -rf "/var/run/dpdk/h-rules-pfx-$$"
fi
exit $fail
