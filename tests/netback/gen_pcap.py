#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write a pcap of Ethernet frames for the netback round-trip test.

    gen_pcap.py OUT.pcap [--empty]

Frames of 64 to 9000 bytes (every size class the backend treats
differently: one RX page, exactly a page, just over a page, multi-slot
jumbo), unicast to an address nobody owns (flooded hop by hop), broadcast
and multicast, each with its own deterministic payload so that a swap or a
corruption shows in the byte comparison. --empty writes only the header.
"""
import struct
import sys

SIZES = [64, 65, 100, 127, 128, 129, 255, 256, 500, 1000, 1499, 1500, 1514, 1518, 2000,
         2048, 3000, 4000, 4095, 4096, 4097, 5000, 6000, 7000, 8000, 8191, 8192, 8193, 8999,
         9000, 64, 9000, 1500, 64]


def frame(i, size):
    if i % 11 == 5:
        dst = b"\xff" * 6                      # broadcast
    elif i % 11 == 8:
        dst = bytes([0x01, 0x00, 0x5E, 0, 0, i & 0x7F])  # IPv4 multicast
    else:
        dst = bytes([0x02, 0xBB, 0, 0, 0, i & 0xFF])    # unknown unicast
    src = bytes([0x02, 0xAA, 0, 0, 0, 0x01])
    head = dst + src + struct.pack(">H", 0x88B5) + struct.pack(">II", i, size)
    body = bytes(((i * 131 + k * 7 + (k >> 8)) & 0xFF) for k in range(size - len(head)))
    return head + body


def main():
    out = sys.argv[1]
    empty = "--empty" in sys.argv[2:]
    with open(out, "wb") as f:
        # pcap global header: magic, v2.4, tz 0, sigfigs 0, snaplen, LINKTYPE_ETHERNET
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        if empty:
            return
        for i, size in enumerate(SIZES):
            data = frame(i, size)
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(data), len(data)))
            f.write(data)


if __name__ == "__main__":
    main()
