# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared by the netback test scripts (sourced). NETBACK is the binary,
# SRCDIR the source tree (meson passes both). Defines:
#   nb_eal MEM PREFIX   EAL arguments in EAL[]: MEM is huge (skip 77 unless
#                       64 hugepages are free and GNTDP_NO_HUGE is unset)
#                       or nohuge (--no-huge -m 512); -l 0-1 when the
#                       machine has two CPUs, else -l 0 (everything on one)
#   nb_run ARGS...      run gntdp-netback with EAL[] and ARGS; exit 77 when
#                       EAL cannot get memory (gntdp-netback's exit status 77)
#   need TOOL...        skip (77) unless every TOOL is installed
#   json FILE EXPR      evaluate a Python expression on the JSON report (d)
set -u
: "${NETBACK:?NETBACK must name the gntdp-netback binary}"
: "${SRCDIR:?SRCDIR must name the source tree}"

NB_TMP=$(mktemp -d)
NB_PREFIX=""
nb_cleanup() {
	rm -rf "$NB_TMP"
	[ -n "$NB_PREFIX" ] && rm -rf "/var/run/dpdk/$NB_PREFIX"
	return 0
}
trap nb_cleanup EXIT

need() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "SKIP: $t is not installed"
			exit 77
		fi
	done
}

nb_eal() {
	local mem=$1 free
	NB_PREFIX=$2_$$
	EAL=(--file-prefix="$NB_PREFIX" --no-pci --log-level='lib.*:warning')
	if [ "$(nproc)" -ge 2 ]; then EAL+=(-l 0-1); else EAL+=(-l 0); fi
	case $mem in
	huge)
		free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
		if [ "${GNTDP_NO_HUGE:-0}" = 1 ] || [ "${free:-0}" -lt 64 ]; then
			echo "SKIP: hugepage variant: ${free:-0} free hugepages, GNTDP_NO_HUGE=${GNTDP_NO_HUGE:-0}"
			exit 77
		fi
		EAL+=(--huge-unlink)
		;;
	nohuge) EAL+=(--no-huge -m 512) ;;
	*)
		echo "unknown memory variant $mem"
		exit 1
		;;
	esac
}

nb_run() {
	local rc
	"$NETBACK" "${EAL[@]}" -- "$@"
	rc=$?
	if [ $rc -eq 77 ]; then
		echo "SKIP: EAL cannot get memory here (see above)"
		exit 77
	fi
	return $rc
}

json() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

# check DESCRIPTION PYTHON-EXPR-ON-d: fail (exit 1) unless the report satisfies it
check() {
	if [ "$(json "$NB_TMP/r.json" "bool($2)")" != True ]; then
		echo "FAIL: $1"
		echo "  ($2)"
		exit 1
	fi
	echo "ok   $1"
}
