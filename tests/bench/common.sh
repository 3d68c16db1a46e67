# SPDX-License-Identifier: MIT
# Sourced by the gntdp-bench test scripts (SCRIPT BENCH CONFIG_DIR) after they set
# EAL_PREFIX: sets bench, dir, fail and tmp (removed on exit), defines eal NAME (EAL gets
# the arguments of run NAME: two lcores, no hugepages, no PCI, its own file prefix, and
# the "--" before the app's arguments) and exits 77 when gntdp-bench cannot start EAL.
[ $# -eq 2 ] || { echo "usage: $0 BENCH CONFIG_DIR"; exit 1; }
bench=$1 dir=$2 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
eal() {
	EAL=(-l 0,1 --no-huge -m 256 --no-pci --no-telemetry --log-level=lib.eal:error
		--file-prefix="$EAL_PREFIX-$1" --)
}
eal probe
"$bench" "${EAL[@]}" --help >/dev/null 2>"$tmp/probe" || {
	echo "SKIP: gntdp-bench cannot start EAL here:"
	cat "$tmp/probe"
	exit 77
}
