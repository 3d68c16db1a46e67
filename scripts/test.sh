#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build gntdp in every flavour and run its test suites; the README's second
# command and what CI runs (.ci/run). Installs missing packages and reserves
# hugepages first (scripts/lib.sh). The last line printed is
# "N passed, N failed, N skipped"; the exit status is non-zero if anything
# failed, a build included.
#
#   scripts/test.sh                  every flavour below
#   scripts/test.sh --quick          only the `build` directory
#   scripts/test.sh --suite NAME     only suite NAME (repeatable), in the
#                                    directories that run it
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

usage() {
	sed -n '3,13s/^# \{0,1\}//p' "$0"
	exit "${1:-0}"
}

quick=0
only=()
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--suite)
		[ $# -ge 2 ] || usage 2
		only+=("$2")
		shift
		;;
	--suite=*) only+=("${1#--suite=}") ;;
	-h | --help) usage 0 ;;
	*)
		echo "unknown argument: $1" >&2
		usage 2
		;;
	esac
	shift
done

# Flavours: build dir | compilers | meson options | suites | timeout multiplier.
# Sanitizer builds run several times slower, hence the multipliers. In
# build-asan, suite xen skips the cases that run Debian's executables over the
# drop-ins (they would need the sanitizer's runtime) and says so.
FLAVOURS=(
	"build||--buildtype=debugoptimized|unit abi fuzz-corpus concurrency dp stress daemon xenstore xen|1"
	"build-asan||-Db_sanitize=address,undefined -Db_lundef=false|unit fuzz-corpus dp daemon xenstore xen|3"
	"build-tsan|clang|-Db_sanitize=thread -Db_lundef=false|concurrency|3"
	"build-fuzz|clang|-Dfuzz=enabled|fuzz|2"
	"build-nodp||-Ddataplane=disabled|unit|1"
)

# A suite asked for with --suite that no flavour runs by default (perf, say)
# runs in `build`.
for s in "${only[@]}"; do
	case " $(printf '%s\n' "${FLAVOURS[@]}" | cut -d'|' -f4 | tr '\n' ' ') " in
	*" $s "*) ;;
	*) FLAVOURS[0]="${FLAVOURS[0]%|*} $s|1" ;;
	esac
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

gntdp_install_deps
gntdp_prepare_hugepages

manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT
start=$SECONDS

for f in "${FLAVOURS[@]}"; do
	IFS='|' read -r dir cc opts suites mult <<<"$f"
	[ $quick -eq 1 ] && [ "$dir" != build ] && continue
	run=()
	for s in $suites; do
		if [ ${#only[@]} -eq 0 ] || [[ " ${only[*]} " == *" $s "* ]]; then
			run+=("$s")
		fi
	done
	[ ${#run[@]} -gt 0 ] || continue

	log "$dir: configure (${cc:+CC=clang CXX=clang++ }$opts)"
	# shellcheck disable=SC2086 # opts is a list of meson options
	if [ -n "$cc" ]; then
		CC=clang CXX=clang++ gntdp_configure "$dir" $opts
	else
		gntdp_configure "$dir" $opts
	fi
	rc=$?
	if [ $rc -ne 0 ]; then
		printf 'buildfail\t%s\tconfigure\t%s/meson-logs/meson-log.txt\n' "$dir" "$dir" >>"$manifest"
		warn "$dir: configure failed; going on with the other builds"
		continue
	fi
	log "$dir: build"
	if ! gntdp_compile "$dir"; then
		printf 'buildfail\t%s\tbuild\tninja -C %s\n' "$dir" "$dir" >>"$manifest"
		warn "$dir: build failed; going on with the other builds"
		continue
	fi

	wrapper=()
	# clang 14's TSan cannot map its shadow memory with more than 28 bits of
	# mmap randomisation (newer kernels default to 32): run without ASLR.
	if [ "$dir" = build-tsan ] &&
		[ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ]; then
		wrapper=(--wrapper "setarch $(uname -m) -R")
	fi
	for s in "${run[@]}"; do
		# Debian's vchan-socket-proxy, into the build dir (the test says why if it fails).
		if [ "$s" = xen ] && ! out=$(tests/xen/fetch-proxy.sh "$dir/xen-utils"); then
			warn "$out"
		fi
		log "$dir: meson test --suite $s"
		json="$dir/meson-logs/testlog-$s.json"
		rm -f "$json"
		meson test -C "$dir" --no-rebuild --print-errorlogs --suite "$s" \
			--logbase "testlog-$s" --timeout-multiplier "$mult" "${wrapper[@]}" |
			grep -v -e '^ninja: ' -e '^$'
		printf 'run\t%s\t%s\t%s\t%s\n' "$dir" "$s" "$json" "${PIPESTATUS[0]}" >>"$manifest"
	done
done

log "finished in $((SECONDS - start)) s"
python3 scripts/testlog.py "$manifest"
