#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the main job: the README's first command. Installs missing packages,
# reserves hugepages (scripts/lib.sh), builds into `build`, then runs
#   build/apps/gntdp-bench/gntdp-bench with configs/default.ini, or, when the
#   data plane is not built (no DPDK), the core's demo build/apps/demo/gntdp-demo.
# Extra arguments are passed to the app (after --config for gntdp-bench).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

gntdp_install_deps
gntdp_prepare_hugepages
log "build: configure"
gntdp_configure build --buildtype=debugoptimized || die "meson setup failed"
log "build: build"
gntdp_compile build || die "build failed"

bench=build/apps/gntdp-bench/gntdp-bench
if [ -x "$bench" ]; then
	# gntdp_dp_eal_init adds --no-pci and, on hugepages, --huge-unlink; the
	# run leaves no hugepage file or /var/run/dpdk/gntdp-run behind (docs/dataplane.md).
	eal=(-l 0-1 --file-prefix=gntdp-run)
	if [ "${GNTDP_NO_HUGE:-0}" = 1 ]; then
		eal+=(--no-huge -m 1024)
	fi
	log "$bench ${eal[*]} -- --config configs/default.ini $*"
	exec "$bench" "${eal[@]}" -- --config configs/default.ini "$@"
fi
log "build/apps/demo/gntdp-demo $* (gntdp-bench not built)"
exec build/apps/demo/gntdp-demo "$@"
