#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetch Debian's vchan-socket-proxy without installing xen-utils-4.17 (which
# would pull in the hypervisor): apt-get download + dpkg-deb -x into DIR.
#
#   tests/xen/fetch-proxy.sh DIR
#
# Prints the proxy's path on success (DIR/usr/lib/xen-4.17/bin/vchan-socket-proxy;
# kept from an earlier fetch), else one line saying why and exits 1.
set -u
DIR=${1:?usage: fetch-proxy.sh DIR}
BIN=$DIR/usr/lib/xen-4.17/bin/vchan-socket-proxy
if [ -x "$BIN" ]; then
	echo "$BIN"
	exit 0
fi
for t in apt-get dpkg-deb; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "fetch-proxy: no $t (not Debian)"
		exit 1
	}
done
mkdir -p "$DIR/deb" || exit 1
# apt runs the download as _apt when it can; the directory must let it write.
chmod 777 "$DIR/deb" 2>/dev/null
if ! (cd "$DIR/deb" && timeout 120 apt-get download -q xen-utils-4.17) >"$DIR/fetch.log" 2>&1; then
	echo "fetch-proxy: apt-get download xen-utils-4.17 failed: $(tail -n 1 "$DIR/fetch.log")"
	exit 1
fi
deb=$(ls "$DIR"/deb/xen-utils-4.17_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ] || ! dpkg-deb -x "$deb" "$DIR" 2>>"$DIR/fetch.log" || [ ! -x "$BIN" ]; then
	echo "fetch-proxy: no vchan-socket-proxy in ${deb:-the download} (log: $DIR/fetch.log)"
	exit 1
fi
rm -rf "$DIR/deb"
echo "$BIN"
