#!/bin/sh
# SPDX-License-Identifier: MIT
# libgntdp-client stays free of DPDK (issue 11 item 5):
#  - its NEEDED entries name no librte_* (nor libnuma, nor the core);
#  - its soname is libgntdp-client.so.0 and it exports only gntdp_* symbols;
#  - gntdp/client.h compiles with only -I include (no DPDK include path), as
#    C11 with -Wall -Wextra -Wpedantic -Werror, and a program using it links
#    against the library alone and runs (connect to a missing socket: -ENOENT).
#   check_client_lib.sh LIB SRCDIR CC
set -eu
lib=$1 src=$2 cc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "NEEDED: $needed"
for n in $needed; do
	case $n in
	librte_*|libnuma*|libgntdp*) fail "$lib needs $n" ;;
	libasan*|libubsan*|libtsan*) ;; # a sanitizer build
	esac
done
readelf -d "$lib" | grep -q 'SONAME.*\[libgntdp-client\.so\.0\]' || fail "soname is not libgntdp-client.so.0"
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ && $3 !~ /^gntdp_/ && $3 !~ /^GNTDP_/ {print $3}')
[ -z "$bad" ] || fail "exports outside gntdp_: $bad"
nm -D --defined-only "$lib" | grep -q ' gntdp_guest_grant_access' || fail "guest helpers not exported"
nm -D --defined-only "$lib" | grep -q ' gntdp_gntst_name' || fail "status names not exported"
nm -D --defined-only "$lib" | grep -q ' gntdp_gnttab_' && fail "the core is in the client library"

cat > "$tmp/use.c" <<'EOC'
#include <errno.h>
#include <stdio.h>
#include <gntdp/client.h>
int main(void)
{
	struct gntdp_client *c;
	int rc = gntdp_client_connect("/nonexistent/gntdpd.sock", &c);
	printf("connect: %d\n", rc);
	return rc == -ENOENT ? 0 : 1;
}
EOC
# A sanitizer build's library needs its runtime first: build the program the same way.
san=
case $needed in *libasan*) san=-fsanitize=address,undefined ;; *libtsan*) san=-fsanitize=thread ;; esac
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror $san -I "$src/include" -o "$tmp/use" "$tmp/use.c" \
	-L "$(dirname "$lib")" -l:"$(basename "$lib")" || fail "client.h does not build with -I include alone"
LD_LIBRARY_PATH=$(dirname "$lib") "$tmp/use" || fail "the program against the library failed"
readelf -d "$tmp/use" | grep NEEDED | grep -q librte_ && fail "the program needs DPDK"
echo "ok"
