#!/bin/bash
# SPDX-License-Identifier: MIT
# The switch with other DPDK vdevs as ports (net_pcap has its own test):
#  - net_ring (loopback: what a port sends comes back in): guest 1 sends 200
#    verified frames to an unknown address, flooded to the port, looped back
#    and flooded to guest 1 again: all 200 come back intact and in order,
#    and the source address moves between vif and port in the MAC table;
#  - net_null (a sink and an endless source of 64-byte frames): traffic
#    flows both ways, and a guest that cannot keep up is stalled, not the
#    switch;
#  - net_tap (a Linux tap interface; needs /dev/net/tun and root): 100
#    broadcast frames leave through the kernel interface.
#
#   vdevs.sh       (NETBACK and SRCDIR in the environment)
. "$(dirname "$0")/lib.sh"
need python3
nb_eal nohuge nb_vdevs
base=(--quiet --json "$NB_TMP/r.json"
	--set vif0.guest=1 --set vif0.mode=gen --set vif0.dst=02:cc:00:00:00:01
	--set port0.bridge=0)

echo "== net_ring"
nb_run "${base[@]}" --duration 20 --idle-exit 1500 --set vif0.count=200 --set vif0.verify=on \
	--set backend.rx_stall_us=5000000 \
	--set vif0.sizes=64,1500,9000 --set vif0.mtu=9000 --set port0.mtu=9000 --set port0.devargs=net_ring0 || exit 1
check "port sent 200 and got them back" "d['ports'][0]['tx_pkts'] == 200 and d['ports'][0]['rx_pkts'] == 200"
check "guest got its 200 frames back, intact and in order" \
	"d['vifs'][0]['fe']['verify_ok'] == 200 and d['vifs'][0]['fe']['verify_bad'] == 0 and d['vifs'][0]['fe']['order_bad'] == 0"
check "source address moved between vif and port" "d['backend']['mac_moved'] > 0"

echo "== net_null"
nb_run "${base[@]}" --duration 1 --set port0.devargs=net_null0,size=64 \
	--set backend.rx_stall_us=1000 || exit 1
check "frames from the port reached the guest" "d['vifs'][0]['rx_pkts'] > 0 and d['ports'][0]['rx_pkts'] > 0"
check "frames from the guest reached the port" "d['ports'][0]['tx_pkts'] > 0"
check "vif up" "d['vifs'][0]['state'] == 'up'"

echo "== net_tap"
if [ ! -c /dev/net/tun ] || [ "$(id -u)" -ne 0 ]; then
	echo "SKIP (part): net_tap needs /dev/net/tun and root"
	exit 0
fi
tap=nbtap$$
if ! nb_run "${base[@]}" --duration 1 --set vif0.count=100 --set vif0.dst=ff:ff:ff:ff:ff:ff \
	--set "port0.devargs=net_tap0,iface=$tap" >"$NB_TMP/tap.out" 2>&1; then
	cat "$NB_TMP/tap.out"
	if grep -q "port0 'net_tap0" "$NB_TMP/tap.out"; then
		echo "SKIP (part): this machine cannot create a tap interface (container?)"
		exit 0
	fi
	echo "FAIL: gntdp-netback with net_tap"
	exit 1
fi
check "100 frames left through the tap" "d['ports'][0]['tx_pkts'] == 100 and d['ports'][0]['drops']['port_tx_full'] == 0"
