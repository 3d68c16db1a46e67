#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# EAL hygiene of the three apps (issue 8, item 3; docs/dataplane.md "EAL and
# memory"):
#   - no run probes a PCI device (its output has no "Probe PCI"), although no
#     command line here says --no-pci: gntdp_dp_eal_init adds it;
#   - after exit 0, after SIGINT and after SIGTERM no hugepage file
#     <hugetlbfs mount>/<prefix>map_* and no runtime directory
#     (/var/run/dpdk/<prefix>, as non-root $XDG_RUNTIME_DIR or /tmp) remains.
# Every run has its own file prefix (this shell's pid in it) and only that
# prefix is checked, so the test can run beside others on a shared
# /dev/hugepages. The gntdp-bench runs use scripts/run.sh's EAL arguments.
#
#   eal_hygiene.sh SRCDIR GNTDP_BENCH GNTDP_STRESS GNTDP_NETBACK
#
# Exit 0 pass, 1 fail, 77 skip (EAL cannot start here).
set -u
src=$1
bench=$2
stress=$3
netback=$4
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gntdp-eal-hygiene.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
tag=hyg$$
if [ "$(nproc)" -ge 2 ]; then lcores=(-l 0-1); else lcores=(--lcores='(0-1)@0'); fi

rundir_of() {
	if [ "$(id -u)" -eq 0 ]; then
		echo "/var/run/dpdk/$1"
	else
		echo "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$1"
	fi
}

# Paths that EAL state of file prefix $1 left behind, one a line.
leftovers() {
	local m f d

	for m in $(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts); do
		for f in "$m/$1"map_*; do
			[ -e "$f" ] && echo "$f"
		done
	done
	d=$(rundir_of "$1")
	if [ -e "$d" ]; then
		echo "$d/ ($(ls -A "$d" 2>/dev/null | tr '\n' ' '))"
	fi
	return 0
}

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# run NAME END PREFIX CMD...: END is exit (must exit 0 by itself), INT or TERM
# (sent once EAL is up and the app has run for a second; the app must exit by
# itself within 30 s, through its normal exit path, not be killed by it).
run() {
	local name=$1 end=$2 prefix=$3 out pid rc i sock left m f0=$fails
	shift 3
	out=$tmp/$name.out
	"$@" >"$out" 2>&1 &
	pid=$!
	if [ "$end" != exit ]; then
		sock=$(rundir_of "$prefix")/dpdk_telemetry.v2
		for ((i = 0; i < 300; i++)); do
			[ -S "$sock" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		sleep 1
		kill -s "$end" "$pid" 2>/dev/null || fail "$name: exited before SIG$end"
	fi
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$name: still running 30 s after SIG$end"
		kill -KILL "$pid"
	fi
	wait "$pid"
	rc=$?
	if grep -q 'EAL could not start\|EAL initialisation failed' "$out" &&
		! grep -q 'EAL: Probe PCI' "$out"; then
		echo "SKIP: $name: EAL cannot start here:"
		tail -n 5 "$out"
		exit 77
	fi
	if [ "$end" = exit ] && [ "$rc" -ne 0 ]; then
		fail "$name: exit status $rc"
	elif [ "$rc" -ge 128 ]; then
		fail "$name: killed by signal $((rc - 128)), not its normal exit path"
	fi
	if grep -q 'Probe PCI' "$out"; then
		fail "$name: probed PCI: $(grep -m1 'Probe PCI' "$out")"
	fi
	left=$(leftovers "$prefix")
	if [ -n "$left" ]; then
		fail "$name: left behind: $left"
		# Do not let a failing run pollute the machine.
		rm -rf "$(rundir_of "$prefix")"
		for m in $(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts); do
			rm -f "$m/$prefix"map_*
		done
	fi
	[ "$fails" -eq "$f0" ] && echo "ok   $name (exit $rc)"
	return 0
}

bench_args() { # DURATION
	echo --config "$src/configs/default.ini" --set "run.duration=$1" --set run.warmup=0 \
		--set run.progress=off
}
stress_args() { # SEQ_SECONDS DURATION
	echo --config "$src/configs/stress/ci.ini" --set "run.seq_seconds=$1" \
		--set "run.duration=$2" --set run.warmup=0 --set run.progress=0 \
		--set dataplane.workers=1 --set "run.trace_dir=$tmp"
}
netback_args() { # DURATION
	echo --config "$src/configs/netback/g2g.ini" --set "run.duration=$1" --set run.warmup=0 \
		--set run.quiet=on
}

for mem in huge nohuge; do
	if [ $mem = nohuge ]; then
		export GNTDP_NO_HUGE=1
	fi
	for end in exit INT TERM; do
		# Only the normal exit in the --no-huge variant: signals take the same path.
		[ $mem = nohuge ] && [ $end != exit ] && continue
		if [ $end = exit ]; then d=1; else d=60; fi
		p=$tag-bench-$mem-$end
		# shellcheck disable=SC2046 # word splitting of the argument list is wanted
		run "bench-$mem-$end" $end $p "$bench" "${lcores[@]}" --file-prefix=$p -- $(bench_args $d)
		p=$tag-stress-$mem-$end
		# shellcheck disable=SC2046
		run "stress-$mem-$end" $end $p "$stress" "${lcores[@]}" --file-prefix=$p -- \
			$(stress_args 1 $d)
		if [ $end = exit ]; then d=1; else d=0; fi
		p=$tag-netback-$mem-$end
		# shellcheck disable=SC2046
		run "netback-$mem-$end" $end $p "$netback" "${lcores[@]}" --file-prefix=$p -- \
			$(netback_args $d)
	done
	unset GNTDP_NO_HUGE
done

# gntdp-stress without "--" chooses its own EAL arguments and the file prefix
# gntdp-stress-<pid>.
# shellcheck disable=SC2046
"$stress" $(stress_args 1 1) >"$tmp/stress-own.out" 2>&1 &
pid=$!
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "stress-own-eal: exit status $rc"
grep -q 'Probe PCI' "$tmp/stress-own.out" && fail "stress-own-eal: probed PCI"
left=$(leftovers "gntdp-stress-$pid")
[ -z "$left" ] || fail "stress-own-eal: left behind: $left"
[ $rc -eq 0 ] && [ -z "$left" ] && echo "ok   stress-own-eal"

if [ "$fails" -ne 0 ]; then
	echo "FAIL: $fails check(s) failed"
	exit 1
fi
echo "PASS"
