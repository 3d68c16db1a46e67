#!/bin/bash
# SPDX-License-Identifier: MIT
# Every configs/netback/*.ini loads and validates (--dry-run), and bad values
# are refused with exit status 2 and a message naming section, key and value.
#
#   configs.sh     (NETBACK and SRCDIR in the environment)
. "$(dirname "$0")/lib.sh"
nb_eal nohuge nb_cfg
fail=0
for f in "$SRCDIR"/configs/netback/*.ini; do
	if nb_run --config "$f" --dry-run >"$NB_TMP/out" 2>&1; then
		echo "ok   $(basename "$f")"
	else
		echo "FAIL $(basename "$f")"
		cat "$NB_TMP/out"
		fail=1
	fi
done
refused() { # expected text, args...
	local want=$1 rc
	shift
	nb_run "$@" --dry-run >"$NB_TMP/out" 2>&1
	rc=$?
	if [ $rc -ne 2 ] || ! grep -qF -- "$want" "$NB_TMP/out"; then
		echo "FAIL refused ($*): status $rc, wanted 2 and: $want"
		cat "$NB_TMP/out"
		fail=1
	else
		echo "ok   refused: $want"
	fi
}
refused "[backend] burst = '0': out of range" --set vif0.guest=1 --set backend.burst=0
refused "[vif0] mode = 'flood': unknown value" --set vif0.mode=flood
refused "--set: [vif1] fwd_to = '0': must be a vif of the same guest" --set vif0.guest=1 \
	--set vif1.guest=2 --set vif1.mode=fwd --set vif1.fwd_to=0
refused "[port0] nosuch = '1': unknown key" --set vif0.guest=1 --set port0.nosuch=1
refused "[vif0] mac = 'zz': not a MAC address" --set vif0.mac=zz
exit $fail
