#!/bin/sh
# SPDX-License-Identifier: MIT
# Installed archives export only gntdp_* (README "Install"):
#   1. nm: the installed-form archive defines no global symbol without the
#      gntdp_ prefix, and defines the same gntdp_* globals as the internal
#      archive(s) it was made from (so hiding dropped nothing public);
#   2. `meson install --destdir` into a scratch directory, then a tiny program
#      is compiled and linked against the installed copy with
#      `pkg-config --static --cflags --libs PKG` only, and run.
#
#   check_symbols.sh BUILD_DIR SCRATCH PKG PROGRAM.c CC CFLAGS INSTALLED.a INTERNAL.a...
#
# Exit 0 pass, 1 fail, 77 skip (a tool is missing; the reason is printed).
set -u
[ $# -ge 8 ] || { echo "usage: $0 BUILD SCRATCH PKG PROG.c CC CFLAGS INSTALLED.a INTERNAL.a..."; exit 1; }
build=$1 scratch=$2 pkg=$3 prog=$4 cc=$5 cflags=$6 installed=$7
shift 7
for tool in nm pkg-config meson "$cc"; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not found"; exit 77; }
done
fail=0

# Defined globals (any type but U, weak included): "NAME" per line, sorted.
globals() {
	nm -g --defined-only "$@" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u
}
leaks=$(globals "$installed" | grep -v '^gntdp_')
if [ -n "$leaks" ]; then
	echo "FAIL: $(basename "$installed") defines globals without the gntdp_ prefix:"
	echo "$leaks" | sed 's/^/  /'
	fail=1
fi
pub_in=$(globals "$@" | grep '^gntdp_')
pub_out=$(globals "$installed" | grep '^gntdp_')
if [ -z "$pub_out" ]; then
	echo "FAIL: $(basename "$installed") defines no gntdp_* symbol at all"
	fail=1
elif [ "$pub_in" != "$pub_out" ]; then
	echo "FAIL: the gntdp_* globals of $(basename "$installed") differ from the internal archive's:"
	printf '%s\n' "$pub_in" >"$scratch.in"
	printf '%s\n' "$pub_out" >"$scratch.out"
	diff "$scratch.in" "$scratch.out" | sed 's/^/  /'
	rm -f "$scratch.in" "$scratch.out"
	fail=1
else
	echo "ok: $(basename "$installed"): $(echo "$pub_out" | wc -l) gntdp_* globals, nothing else" \
	     "($(globals "$@" | grep -vc '^gntdp_') internal globals hidden)"
fi

# Install into a scratch root and build against it the way a user would.
rm -rf "$scratch"
mkdir -p "$scratch"
if ! meson install -C "$build" --destdir "$scratch/root" --no-rebuild --quiet >"$scratch/install.log" 2>&1; then
	echo "FAIL: meson install --destdir failed:"
	tail -n 20 "$scratch/install.log"
	exit 1
fi
pc=$(find "$scratch/root" -name "$pkg.pc" | head -n 1)
if [ -z "$pc" ]; then
	echo "FAIL: no $pkg.pc installed"
	exit 1
fi
# The .pc files say prefix=<the real prefix>; point ours at the scratch root
# (only ours: libdpdk.pc stays where the system has it).
mkdir -p "$scratch/pc"
for f in "$(dirname "$pc")"/*.pc; do
	sed "s|^prefix=|prefix=$scratch/root|" "$f" >"$scratch/pc/$(basename "$f")"
done
PKG_CONFIG_PATH="$scratch/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
# link MODE: compile and link the program with `pkg-config MODE --cflags --libs`.
link() {
	if ! flags=$(pkg-config $1 --cflags --libs "$pkg" 2>&1); then
		echo "FAIL: pkg-config $1 --cflags --libs $pkg: $flags"
		exit 1
	fi
	# shellcheck disable=SC2086 # word splitting of the flags is the point
	"$cc" $cflags -std=c11 -Wall -Werror -o "$scratch/prog" "$prog" $flags >"$scratch/cc.log" 2>&1
}
how="pkg-config --static"
if ! link --static; then
	# DPDK's own Libs.private name every library its static build needs
	# (libsystemd, rdma-core...); where one of those is not installed, the
	# static link cannot work for anyone. Our archives are static either way:
	# link DPDK shared and say so. A missing gntdp library is still a failure.
	missing=$(sed -n 's/.*cannot find -l\([^:]*\):.*/\1/p' "$scratch/cc.log" | sort -u | tr '\n' ' ' | sed 's/ $//')
	if [ -n "$missing" ] && ! echo "$missing" | grep -q gntdp && link ""; then
		how="pkg-config (not --static: the system lacks $missing for a static DPDK)"
	else
		echo "FAIL: $cc $cflags $(basename "$prog") \$(pkg-config --static --cflags --libs $pkg):"
		echo "  flags: $flags"
		tail -n 20 "$scratch/cc.log"
		exit 1
	fi
fi
if ! out=$("$scratch/prog" 2>&1); then
	echo "FAIL: the program linked against the installed $pkg failed: $out"
	exit 1
fi
echo "ok: a program builds with $how $pkg against the installed copy and runs: $out"
rm -rf "$scratch"
exit $fail
