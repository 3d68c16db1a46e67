#!/bin/sh
# SPDX-License-Identifier: MIT
# The drop-in libxengnttab.so.1 against Debian's (issue 12 item 1):
#  - the same soname;
#  - the same version definitions with the same parents (VERS_1.0 <- VERS_1.1
#    <- VERS_1.2);
#  - exactly the same exported symbol@version set (readelf --dyn-syms);
#  - NEEDED: libgntdp-client and libc only (no DPDK, no libxentoollog or
#    libxentoolcore).
#   check_xgnttab_syms.sh OURS [DEBIAN]   (exit 77 when Debian's is not installed)
set -eu
ours=$1
deb=${2:-/usr/lib/x86_64-linux-gnu/libxengnttab.so.1}
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ ! -e "$deb" ]; then
	echo "SKIP: $deb not installed (apt-get install libxengnttab1)"
	exit 77
fi
soname() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }
# name@version of every defined dynamic symbol, the version nodes included.
syms() { readelf --dyn-syms -W "$1" | awk 'NR > 3 && $7 != "UND" && $8 != "" {print $8}' | sort; }
# "NODE PARENT" for each version definition (BASE excluded).
vdefs() {
	readelf -V -W "$1" | awk '
		/Version definition section/ {on = 1; next}
		/Version needs section/ {on = 0}
		on && /Name:/ && !/BASE/ {if (n != "") print n, "-"; n = $NF; next}
		on && /Parent 1:/ {print n, $NF; n = ""}
		END {if (n != "") print n, "-"}' | sort
}

[ "$(soname "$ours")" = "$(soname "$deb")" ] || fail "soname $(soname "$ours") != $(soname "$deb")"
echo "soname: $(soname "$ours")"
syms "$ours" > "${TMPDIR:-/tmp}/xg-ours.$$"
syms "$deb" > "${TMPDIR:-/tmp}/xg-deb.$$"
d=$(diff "${TMPDIR:-/tmp}/xg-deb.$$" "${TMPDIR:-/tmp}/xg-ours.$$" || true)
n=$(wc -l < "${TMPDIR:-/tmp}/xg-ours.$$")
rm -f "${TMPDIR:-/tmp}/xg-ours.$$" "${TMPDIR:-/tmp}/xg-deb.$$"
[ -z "$d" ] || fail "symbols differ (< Debian's, > ours):
$d"
echo "symbols: $n, the same as Debian's"
[ "$(vdefs "$ours")" = "$(vdefs "$deb")" ] || fail "version nodes differ: ours
$(vdefs "$ours")
Debian's
$(vdefs "$deb")"
echo "version nodes: $(vdefs "$ours" | tr '\n' ' ')"
needed=$(readelf -d "$ours" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "NEEDED: $needed"
for x in $needed; do
	case $x in
	libgntdp-client.so.0|libc.so.6) ;;
	libasan*|libubsan*|libm.so*|libpthread*) ;; # a sanitizer build
	*) fail "$ours needs $x" ;;
	esac
done
echo "ok"
