#!/bin/sh
# SPDX-License-Identifier: MIT
# Make the installed form of a static library: every object of the input
# archives linked into one relocatable object (ld -r), every defined global
# symbol without the gntdp_ prefix made local (objcopy), and that object put
# alone into OUT. The internal helpers of a library (op_map, worker_main,
# copy_kernel...) carry no prefix (STYLE.md §3.2); in the installed archive
# they can no longer clash with a user's symbols or be called by a user.
# The build's own tests keep linking the internal archives.
#
#   public-archive.sh OUT LD OBJCOPY AR ARCHIVE...
set -eu
[ $# -ge 5 ] || { echo "usage: $0 OUT LD OBJCOPY AR ARCHIVE..." >&2; exit 2; }
out=$1 ld=$2 objcopy=$3 ar=$4
shift 4
tmp=$(mktemp -d "$out.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
obj="$tmp/$(basename "$out" .a).o"
rm -f "$out"
"$ld" -r -o "$obj" --whole-archive "$@" --no-whole-archive
# -w: the name is a wildcard pattern. Undefined symbols (libc, DPDK, the core's
# gntdp_* calls) are not touched; only definitions become local.
"$objcopy" -w --keep-global-symbol='gntdp_*' "$obj"
"$ar" rcsD "$out" "$obj"
