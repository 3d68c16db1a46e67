#!/bin/bash
# SPDX-License-Identifier: MIT
# The pcap round trip: frames of 64 to 9000 bytes from a pcap go in at
# port0 (net_pcap rx_pcap), to guest 1's vif0, which bridges them out of its
# vif1, through the backend to guest 2's vif2, out of its vif3, through the
# backend to port1 (net_pcap tx_pcap). The output must hold the same frames,
# byte for byte and in order: `tcpdump -r -xx` of both files must be equal.
# Runs with guest-to-guest copies direct (gref -> gref) and staged (via mbuf).
#
#   pcap_roundtrip.sh huge|nohuge      (NETBACK and SRCDIR in the environment)
. "$(dirname "$0")/lib.sh"
need python3 tcpdump
nb_eal "$1" nb_pcap_"$1"
gen=$(dirname "$0")/gen_pcap.py

python3 "$gen" "$NB_TMP/in.pcap"
python3 "$gen" "$NB_TMP/empty.pcap" --empty
tcpdump -r "$NB_TMP/in.pcap" -xx -n -t >"$NB_TMP/in.txt" 2>/dev/null
n=$(grep -c '^[^[:space:]]' "$NB_TMP/in.txt")
[ "$n" -gt 0 ] || { echo "FAIL: no frames in the generated pcap"; exit 1; }

for mode in direct staged; do
	rm -f "$NB_TMP/out.pcap" "$NB_TMP/back.pcap" "$NB_TMP/r.json"
	echo "== $mode: $n frames, $(stat -c %s "$NB_TMP/in.pcap") bytes of pcap"
	nb_run --config "$SRCDIR/configs/netback/pcap-roundtrip.ini" --quiet \
		--json "$NB_TMP/r.json" --duration 30 \
		--set "backend.g2g=$mode" \
		--set "run.expect_port_tx=$n" \
		--set "port0.devargs=net_pcap0,rx_pcap=$NB_TMP/in.pcap,tx_pcap=$NB_TMP/back.pcap" \
		--set "port1.devargs=net_pcap1,rx_pcap=$NB_TMP/empty.pcap,tx_pcap=$NB_TMP/out.pcap" ||
		{ echo "FAIL: gntdp-netback exited with $?"; exit 1; }
	tcpdump -r "$NB_TMP/out.pcap" -xx -n -t >"$NB_TMP/out.txt" 2>/dev/null
	if ! cmp -s "$NB_TMP/in.txt" "$NB_TMP/out.txt"; then
		echo "FAIL: $mode: output differs from input"
		diff "$NB_TMP/in.txt" "$NB_TMP/out.txt" | head -20
		exit 1
	fi
	echo "ok   $mode: $n frames byte-identical and in order (tcpdump -xx)"
	check "nothing flooded back to port0" "d['ports'][0]['tx_pkts'] == 0"
	check "every vif up" "all(v['state'] == 'up' for v in d['vifs'])"
	check "no drops" "sum(sum(x['drops'].values()) for x in d['vifs'] + d['ports']) == 0"
	check "multi-slot frames crossed the guests" "d['vifs'][1]['tx_slots'] > d['vifs'][1]['tx_pkts']"
	check "port1 sent $n" "d['ports'][1]['tx_pkts'] == $n"
done
