#!/bin/sh
# SPDX-License-Identifier: MIT
# Compare two builds of gnttab_bench by instructions executed (valgrind's
# callgrind), which a loaded or virtualised machine does not disturb the way
# it disturbs wall-clock and even CPU-time figures.
#
#   bench/gnttab/instr_compare.sh NEW_BENCH OLD_BENCH [bench args...]
#
# Default bench args: --only copy --reps 1 --quick (the same fixed amount of
# work in both). Prints each build's total, the ratio, and the functions
# whose counts moved most. Needs valgrind and callgrind_annotate.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 NEW_BENCH OLD_BENCH [bench args...]" >&2; exit 2; }
new=$1
old=$2
shift 2
[ $# -gt 0 ] || set -- --only copy --reps 1 --quick
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gntdp-instr.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
for side in new old; do
	eval bin=\$$side
	valgrind --tool=callgrind --callgrind-out-file="$tmp/$side.out" "$bin" "$@" \
		>"$tmp/$side.txt" 2>"$tmp/$side.log" || { cat "$tmp/$side.log" >&2; exit 1; }
	callgrind_annotate --auto=no --inclusive=no "$tmp/$side.out" 2>/dev/null |
		awk '/^ *[0-9][0-9,]* +\(/ { x = $1; gsub(",", "", x); n = "";
			for (i = 2; i <= NF; i++) if ($i ~ /:/) { n = $i; break }
			sub(/^.*:/, "", n); if (n != "") print n, x }' >"$tmp/$side.fn"
	sed -n 's/.*Collected : //p' "$tmp/$side.log" >"$tmp/$side.tot"
done
awk -v n="$(cat "$tmp/new.tot")" -v o="$(cat "$tmp/old.tot")" \
	'BEGIN { printf "instructions: new %d, old %d, new/old %.4f\n", n, o, n / o }'
# Per function (summed over the files it is inlined from), the largest moves first.
awk 'FNR == NR { old[$1] += $2; next } { new[$1] += $2 }
	END { for (f in new) d[f] = new[f] - old[f]; for (f in old) if (!(f in new)) d[f] = -old[f];
		for (f in d) printf "%+14d  %12d -> %12d  %s\n", d[f], old[f], new[f], f }' \
	"$tmp/old.fn" "$tmp/new.fn" | sort -k1,1 -g -r | awk '{ a = $1 < 0 ? -$1 : $1; print a, $0 }' |
	sort -k1,1 -g -r | cut -d' ' -f2- | head -12
