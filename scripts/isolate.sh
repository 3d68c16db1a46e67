#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/isolate.sh [-s SIZE] CMD...: run CMD (as root) in a private mount
# namespace with its own /run/dpdk (tmpfs) and hugetlbfs mount of SIZE
# (default 1G) at /dev/hugepages, so that several DPDK runs at once (two
# developers' test runs on one machine, a benchmark beside a test) share no
# runtime directory and no hugepage file. Everything it mounts goes with
# the namespace when CMD exits. Example:
#   scripts/isolate.sh -s 2G scripts/test.sh --quick --suite dp
set -eu
size=1G
if [ "${1:-}" = -s ]; then
	size=$2
	shift 2
fi
[ $# -gt 0 ] || { sed -n '3,10s/^# \{0,1\}//p' "$0"; exit 2; }
exec unshare -m --propagation private bash -c '
mount -t tmpfs tmpfs /run/dpdk 2>/dev/null || { mkdir -p /run/dpdk; mount -t tmpfs tmpfs /run/dpdk; }
mount -t hugetlbfs -o size='"$size"' nodev /dev/hugepages
exec "$@"' isolate "$@"
