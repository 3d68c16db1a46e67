#!/bin/sh
# SPDX-License-Identifier: MIT
# Prove that the fuzz corpus replay catches known bugs: build the replay
# driver from scratch copies of a tree, each with one bug planted in
# gnttab/, and check that replaying tests/fuzz/corpus fails on every
# planted copy and passes on the unmodified one. The tree itself is never
# modified.
#
#   tests/fuzz/plant_check.sh [TREE]     (default: the tree holding this script)
#
# Bugs:
#   A  drop the GTF_readonly check when an entry is pinned for writing
#      (a copy destination or a writable map on a read-only grant)
#   B  drop the grantee check (entry domid == caller) on the first pin
# Exit status: 0 when the unmodified tree passes and every bug is caught,
# 1 when not, 2 when a bug cannot be planted (the code it patches moved:
# update the patterns below).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "${1:-$here/../..}" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gntdp-plant.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM

# name | description | perl substitution applied to gnttab/*.c
BUGS='A|read-only check dropped|s/(if \(flags & GNTDP_GTF_READONLY\))(\s*)return GNTDP_GNTST_GENERAL_ERROR;/$1$2;/g
B|grantee-domid check dropped|s/\|\| WORD_DOMID\(old\) != ldomid\)/|| 0)/g'

# copy NAME: a scratch copy of the tree without build outputs.
copy() {
	mkdir -p "$scratch/$1"
	(cd "$tree" && tar --exclude='./build*' --exclude='./.git' -cf - .) | tar -C "$scratch/$1" -xf -
}

# replay NAME: build the replay driver of copy NAME; run it over the corpus.
# Prints the first failure line; status of the replay.
replay() {
	dir=$scratch/$1
	if ! meson setup "$dir/b" "$dir" --buildtype=debugoptimized -Ddataplane=disabled \
		-Dbench=false >"$dir/setup.log" 2>&1 ||
		! ninja -C "$dir/b" tests/fuzz/fuzz_batch_replay >"$dir/build.log" 2>&1; then
		echo "build failed (see below)"
		tail -20 "$dir/setup.log" "$dir/build.log"
		return 3
	fi
	if "$dir/b/tests/fuzz/fuzz_batch_replay" "$dir/tests/fuzz/corpus" >"$dir/replay.log" 2>&1; then
		tail -1 "$dir/replay.log"
		return 0
	fi
	grep -m1 'invariant failed' "$dir/replay.log" || tail -1 "$dir/replay.log"
	return 1
}

fail=0
copy clean
printf 'unmodified tree: '
if out=$(replay clean); then
	echo "passes ($out)"
else
	echo "FAILS: $out"
	fail=1
fi

echo "$BUGS" | while IFS='|' read -r name what subst; do
	copy "bug$name"
	n=0
	for f in "$scratch/bug$name"/gnttab/*.c; do
		before=$(cksum <"$f")
		perl -0pi -e "$subst" "$f"
		[ "$before" = "$(cksum <"$f")" ] || n=$((n + 1))
	done
	if [ "$n" -eq 0 ]; then
		echo "bug $name ($what): cannot plant, no match in gnttab/*.c" >&2
		exit 2
	fi
	printf 'bug %s (%s, %d file(s) patched): ' "$name" "$what" "$n"
	if out=$(replay "bug$name"); then rc=0; else rc=$?; fi
	case $rc in
	0)
		echo "NOT CAUGHT ($out)"
		exit 1
		;;
	1) echo "caught: $out" ;;
	*)
		echo "$out"
		exit 2
		;;
	esac
done || fail=$?

[ "$fail" -eq 0 ] && echo "plant check: every planted bug caught" || echo "plant check: FAILED"
exit "$fail"
