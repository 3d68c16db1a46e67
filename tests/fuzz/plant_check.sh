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
# and two that only the model's data and mapping checks see:
#   C  a copy reads from the start of the source frame, ignoring its offset
#   D  unmap ignores a wrong dev_bus_addr (XSA-224)
# and three in the commands the model gained later:
#   E  swap_grant_ref swaps pinned entries
#   F  cache_flush accepts a pin of the frame held by another domain
#   G  set_version switches while a ref beyond 7 is pinned
# and three in v2 tables:
#   H  a copy ignores the sub-page window
#   I  transitive grants are followed two levels deep (XSA-226)
#   J  get_status_frames skips its count check (XSA-382)
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
B|grantee-domid check dropped|s/\|\| WORD_DOMID\(old\) != ldomid\)/|| 0)/g
C|copy source offset ignored|s/(->va) \+ src\.offset/$1/g
D|unmap dev_bus_addr unchecked (XSA-224)|s/ && dev_bus_addr != act->page->iova\)/ \&\& 0)/g
E|swap of pinned entries allowed|s/else if \(d->active\[a\]\.pin != 0 \|\| d->active\[b\]\.pin != 0\)/else if (0)/g
F|cache_flush pin of another domain accepted|s/ && act->domid == ld->domid && act->page == pg;/ \&\& act->page == pg;/g
G|set_version ignores pins|s/if \(d->active\[i\]\.pin != 0\)(\s*)return -EBUSY;/if (0)$1return -EBUSY;/g
H|sub-page window ignored|s/return off >= e->start && off \+ len <= \(uint32_t\)e->start \+ e->length;/return (void)e, (void)off, (void)len, 1;/g
I|transitive followed two levels|s/if \(!allow_transitive\) \{/if (0) {/g
J|get_status_frames count unchecked (XSA-382)|s/if \(want > atomic_load_explicit\(&d->nr_status_frames, memory_order_relaxed\)\) \{/if (want > STATUS_FRAMES(d->max_grant_frames)) {/g'

# copy NAME: a scratch copy of the tree without build outputs.
copy() {
	mkdir -p "$scratch/$1"
	(cd "$tree" && tar --exclude='./build*' --exclude='./.git' -cf - .) | tar -C "$scratch/$1" -xf -
}

# replay NAME: build the replay driver of copy NAME and run it on each corpus
# file alone. Prints how many inputs fail and the first failure; status 0
# when none fails, 1 when some do, 3 when the build fails.
replay() {
	dir=$scratch/$1
	if ! meson setup "$dir/b" "$dir" --buildtype=debugoptimized -Ddataplane=disabled \
		-Dbench=false >"$dir/setup.log" 2>&1 ||
		! ninja -C "$dir/b" tests/fuzz/fuzz_batch_replay >"$dir/build.log" 2>&1; then
		echo "build failed (see below)"
		tail -20 "$dir/setup.log" "$dir/build.log"
		return 3
	fi
	total=0
	bad=0
	first=
	for f in "$dir"/tests/fuzz/corpus/*; do
		total=$((total + 1))
		if ! "$dir/b/tests/fuzz/fuzz_batch_replay" "$f" >"$dir/replay.log" 2>&1; then
			bad=$((bad + 1))
			[ -n "$first" ] || first="$(basename "$f"): $(grep -m1 'invariant failed' \
				"$dir/replay.log" | sed 's/^fuzz_batch: invariant failed: //')"
		fi
	done
	echo "$bad of $total inputs fail${first:+; first: $first}"
	[ "$bad" -eq 0 ]
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

while IFS='|' read -r name what subst; do
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
		fail=1
		;;
	1) echo "caught: $out" ;;
	*)
		echo "$out"
		exit 2
		;;
	esac
done <<BUGLIST
$BUGS
BUGLIST

[ "$fail" -eq 0 ] && echo "plant check: every planted bug caught" || echo "plant check: FAILED"
exit "$fail"
