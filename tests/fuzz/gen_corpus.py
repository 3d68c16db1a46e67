#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz_batch (tests/fuzz/corpus/seed-*).

Each seed is a short scenario in the record format fuzz_batch.c documents:
  hypercall    [sel] [cmd] [cnt] [cnt x op struct]
  guest action [sel] [0xf0 + k] [a] [b] [c] [d]
  (k: 0 grant, 1 end access, 2 set read-only, 3 set writable, 4 grant transfer,
   5 end transfer, 6 raw write, 7 destroy, 8 unmap all, 9 expire the persistent cache,
   10 create again (a: frames - 1, b: extra gfns, c: grant frames - 1, d: maptrack frames),
   11 write (a: gfn, b: offset / 16, c: length / 16 - 1, d: byte);
   a guest-action ref is a % 24, plus 512 (v2: 256) when a >= 0xc0)
  On a v2 table (after set_version 2) k means: 0 grant full_page (c: gfn, d bit 0: read-only),
   1 end access, 2 grant sub_page (window from d: offset (d >> 4) * 256 (bit 3: | 0x8000),
   length 16 << 2 * ((d >> 1) & 3)), 3 grant transitive (c: trans_domid slot, or c & 0x7f
   with bit 7; d: gref (d >> 1) % 32), 4 offer a transfer, 5 end it, 6 and 12-15 raw;
   a frame c >= 0xf0 lies above 32 bits (odd c) or near 2^64.
The world each input starts from (fuzz_batch.c, world_build):
  dom 0 (privileged): 8 rw->1 gfn1, 9 rw->2 gfn2, 10 self rw gfn3, 11 accept_transfer from 1
  dom 1: 8 rw->2 gfn1, 9 ro->2 gfn2, 10 accept_transfer from 2 (slot gfn 20), 11 invalid,
         12 permit|sub_page->2 gfn3, 13 self rw gfn4, 14 rw->0 gfn5, 15 ro->0 gfn6,
         16 rw->2 gfn 1000 (outside the physmap), 17 rw->2 gfn1, 18 type 3 (v1: invalid),
         19 rw->2 gfn 40 (empty physmap slot)
  dom 2: 8 rw->1 gfn1, 9 ro->1 gfn2, 10 accept_transfer from 1 (slot 20), 11 rw->0 gfn3,
         12 self rw gfn4
Physmaps: dom 0 and 1 have 16 RAM frames and 64 gfns, dom 2 has 8 and 48.
Dom 2 has no v2 (max_grant_version 1). A cache_flush address picks the n-th page live
domains own, n = (addr >> 12) % their number (dom 0 gfn g: g, dom 1: 16 + g, dom 2: 32 + g
in the initial world), at offset addr & 0xfff; bit 63 set: an address that is no frame.

Usage: gen_corpus.py [outdir]   (default: the corpus/ folder next to this script)
Files written by libFuzzer runs (other names) are left alone.
"""
import os
import struct
import sys

SELF = 0x7FF0
MAP, UNMAP, SETUP, DUMP, TRANSFER, COPY, QUERY = range(7)
UAR, SET_VERSION, GSF, GET_VERSION, SWAP, FLUSH = 7, 8, 9, 10, 11, 12
CLEAN, INVAL, FL_SRC_GREF = 0x1, 0x2, 0x80000000
HOST, DEV, RO = 0x2, 0x1, 0x4
SRC_GREF, DST_GREF = 0x1, 0x2
PERSIST, NULLOPS = 0x40, 0x80


def call(caller, cmd, ops, sel_bits=0, cnt=None, high=False):
    """A hypercall record; caller is an index into (0, 1, 2, 9, DOMID_SELF)."""
    n = len(ops) if cnt is None else cnt
    return bytes([caller | sel_bits, cmd | (0x40 if high else 0), n]) + b"".join(ops)


# Struct sizes (16 for a command gntdp does not execute, as the harness reads it).
SIZES = {MAP: 32, UNMAP: 24, SETUP: 24, DUMP: 4, TRANSFER: 24, COPY: 40, QUERY: 16, UAR: 24,
         SET_VERSION: 4, GSF: 16, GET_VERSION: 8, SWAP: 12, FLUSH: 16}


def callp(caller, cmd, ops, cnt, sel_bits=0, high=False):
    """A call with count cnt whose op array is padded with zero structs to what the harness
    reads (one struct for a count of 0xff and for set_version / get_version)."""
    n = 1 if cnt == 0xFF or cmd in (SET_VERSION, GET_VERSION) else cnt
    ops = list(ops) + [bytes(SIZES.get(cmd, 16))] * max(0, n - len(ops))
    return call(caller, cmd, ops[:n], sel_bits=sel_bits, cnt=cnt, high=high)


def guest(dom, k, a=0, b=0, c=0, d=0):
    return bytes([dom, 0xF0 + k, a, b, c, d])


def mp(dom, ref, flags, gfn=0, handle=0, dev=0):
    return struct.pack("<QIIHhIQ", gfn << 12, flags, ref, dom, 0, handle, dev)


def ump(handle, gfn=0, dev=0, host_addr=None):
    ha = (gfn << 12) if host_addr is None else host_addr
    return struct.pack("<QQIh2x", ha, dev, handle, 0)


def cp(src, dst, length, flags):
    """src/dst: (ref_or_gfn, domid, offset)."""
    return struct.pack("<QHH4xQHH4xHHh2x", src[0], src[1], src[2], dst[0], dst[1], dst[2],
                       length, flags, 0)


def setup(dom, nr):
    return struct.pack("<H2xIh6xQ", dom, nr, 0, 0)


def query(dom):
    return struct.pack("<H2xIIh2x", dom, 0, 0, 0)


def dump(dom):
    return struct.pack("<Hh", dom, 0)


def xfer(gfn, dom, ref):
    return struct.pack("<QH2xIh6x", gfn, dom, ref, 0)


def uar(handle, gfn=0, new=0, host_addr=None):
    ha = (gfn << 12) if host_addr is None else host_addr
    return struct.pack("<QQIh2x", ha, new, handle, 0)


def gsf(dom, nr, null=False):
    """get_status_frames; frame_list bit 0 set asks the harness for NULL."""
    return struct.pack("<IHhQ", nr, dom, 0, 1 if null else 0)


def setver(v):
    return struct.pack("<I", v)


def getver(dom, version=0):
    return struct.pack("<HHI", dom, 0, version)


def swap(a, b):
    return struct.pack("<IIh2x", a, b, 0)


def flush(page, op, offset=0, length=64, addr=None):
    """page: the index of a page live domains own (see the docstring)."""
    a = (page << 12) if addr is None else addr
    return struct.pack("<QHHI", a, offset, length, op)


def seeds():
    s = {}
    # Maps: every grant kind, host and device, then unmap (handles 0.. are a guess; a wrong
    # guess is still a valid input).
    s["map-rw-unmap"] = call(2, MAP, [mp(1, 8, HOST, 40)]) + call(2, UNMAP, [ump(0, 40)])
    s["map-ro-dev"] = call(2, MAP, [mp(1, 9, DEV | RO)]) + call(2, UNMAP, [ump(0, 0, 0)])
    s["map-all-kinds"] = call(2, MAP, [mp(1, r, HOST | DEV, 24 + r) for r in range(8, 20)])
    s["map-ro-as-rw"] = call(2, MAP, [mp(1, 9, HOST, 41), mp(1, 9, HOST | RO, 42)])
    s["map-self"] = call(1, MAP, [mp(1, 13, HOST, 50), mp(SELF, 13, HOST, 51)])
    s["map-noflags"] = call(2, MAP, [mp(1, 8, 0), mp(1, 8, RO), mp(1, 8, 0x10 | HOST, 40)])
    s["map-badref"] = call(2, MAP, [mp(1, 512, HOST, 40), mp(1, 0xFFFFFFFF, DEV)])
    s["map-occupied-gfn"] = call(2, MAP, [mp(1, 8, HOST, 3), mp(1, 8, HOST, 40),
                                          mp(1, 17, HOST, 40)])
    s["map-dom0-from-1"] = call(0, MAP, [mp(1, 14, HOST, 20), mp(1, 15, DEV | RO)])
    s["map-many"] = call(2, MAP, [mp(1, 8, DEV | RO) for _ in range(63)])
    s["map-split-unmap"] = (call(2, MAP, [mp(1, 8, HOST | DEV, 40)]) +
                            call(2, UNMAP, [ump(0, 40, 0)]) + call(2, UNMAP, [ump(0, 0, 1)]))
    s["unmap-bogus"] = call(2, UNMAP, [ump(0xFFFFFFFF), ump(0), ump(255, 3, 4096)])
    s["unmap-zero-addrs"] = call(2, MAP, [mp(1, 8, HOST, 40)]) + call(2, UNMAP, [ump(0)])
    # Copies.
    s["copy-gref-to-frame"] = call(2, COPY, [cp((8, 1, 0), (1, SELF, 0), 64, SRC_GREF)])
    s["copy-frame-to-gref"] = call(2, COPY, [cp((1, SELF, 100), (8, 1, 200), 1500, DST_GREF)])
    s["copy-gref-gref"] = call(2, COPY, [cp((9, 1, 0), (8, 1, 0), 4096, SRC_GREF | DST_GREF)])
    s["copy-into-ro"] = call(2, COPY, [cp((1, SELF, 0), (9, 1, 0), 8, DST_GREF)])
    s["copy-crossing"] = call(2, COPY, [cp((8, 1, 4095), (1, SELF, 0), 2, SRC_GREF),
                                        cp((600, 1, 4095), (1, SELF, 0), 2, SRC_GREF)])
    s["copy-frame-foreign"] = call(2, COPY, [cp((1, 2, 0), (1, SELF, 0), 8, 0),
                                             cp((1, 1, 0), (1, SELF, 0), 8, 0),
                                             cp((1, SELF, 0), (1, 0x7FEF, 0), 8, 0)])
    s["copy-cache-then-frame"] = call(2, COPY, [cp((8, 1, 0), (1, SELF, 0), 8, SRC_GREF),
                                                cp((8, 1, 0), (1, SELF, 0), 8, 0)])
    s["copy-len0-garbage"] = call(2, COPY, [cp((0xFFFFFFFF, 0x7FF9, 0xFFFF),
                                               (0xFFFFFFFF, 0x1234, 0xFFFF), 0, 3)])
    s["copy-sub-page"] = call(2, COPY, [cp((12, 1, 0), (1, SELF, 0), 64, SRC_GREF)])
    s["copy-wrong-types"] = call(2, COPY, [cp((r, 1, 0), (1, SELF, 0), 16, SRC_GREF)
                                           for r in (10, 11, 13, 14, 16, 18, 19)])
    s["copy-self-grant"] = call(1, COPY, [cp((13, SELF, 0), (2, SELF, 0), 32, SRC_GREF),
                                          cp((13, 1, 0), (13, SELF, 8), 32,
                                             SRC_GREF | DST_GREF)])
    s["copy-batch-same-ref"] = call(2, COPY, [cp((8, 1, 64 * i), (1, SELF, 64 * i), 64,
                                                 SRC_GREF) for i in range(32)])
    s["copy-persistent"] = (call(2, COPY, [cp((8, 1, 0), (1, SELF, 0), 64, SRC_GREF)],
                                 sel_bits=PERSIST) +
                            guest(1, 1, 8) + guest(0, 9, 0) +
                            call(2, COPY, [cp((8, 1, 0), (1, SELF, 0), 64, SRC_GREF)],
                                 sel_bits=PERSIST) + guest(0, 9, 0xFF) + guest(1, 1, 8))
    s["copy-map-xsa230"] = (call(2, MAP, [mp(1, 8, DEV)]) +
                            call(2, COPY, [cp((1, SELF, 0), (8, 1, 0), 16, DST_GREF)]))
    # Table ops.
    s["setup-grow"] = (call(1, SETUP, [setup(SELF, 2)]) + call(1, QUERY, [query(SELF)]) +
                       call(2, MAP, [mp(1, 600, HOST, 40)]))
    s["setup-other-dom"] = (call(0, SETUP, [setup(2, 1)]) + call(1, SETUP, [setup(2, 1)]) +
                            call(0, SETUP, [setup(1, 64)]) + call(0, SETUP, [setup(9, 1)]))
    s["query-dump"] = (call(0, QUERY, [query(1)]) + call(2, QUERY, [query(1)]) +
                       call(0, DUMP, [dump(1)]) + call(1, DUMP, [dump(SELF)]))
    s["count-errors"] = (call(1, QUERY, [query(SELF), query(SELF)]) +
                         call(1, SETUP, [], cnt=0) +
                         call(1, COPY, [cp((8, 1, 0), (1, SELF, 0), 8, SRC_GREF)], cnt=0xFF) +
                         call(1, COPY, [cp((8, 1, 0), (1, SELF, 0), 8, SRC_GREF)], high=True) +
                         call(1, 9, [b"\0" * 16]) + call(1, 13, [b"\0" * 16]) +
                         call(1, COPY, [cp((8, 1, 0), (1, SELF, 0), 8, SRC_GREF)],
                              sel_bits=NULLOPS))
    s["dead-callers"] = (call(3, COPY, [cp((8, 1, 0), (1, SELF, 0), 8, SRC_GREF)]) +
                         call(4, MAP, [mp(1, 8, HOST, 40)]))
    # Transfers.
    s["transfer-ok"] = (call(2, TRANSFER, [xfer(5, 1, 10)]) + guest(1, 5, 10) +
                        call(1, COPY, [cp((20, SELF, 0), (2, SELF, 0), 64, 0)]))
    s["transfer-bad"] = call(2, TRANSFER, [xfer(100, 1, 10), xfer(5, SELF, 10),
                                           xfer(5, 1, 8), xfer(5, 9, 10), xfer(5, 1, 9999)])
    s["transfer-mapped-page"] = (call(2, MAP, [mp(1, 8, HOST, 25)]) +
                                 call(2, TRANSFER, [xfer(25, 1, 10)]) +
                                 call(1, TRANSFER, [xfer(1, 2, 10)]))
    # Guest actions racing (sequentially) with ops.
    s["guest-revoke-regrant"] = (call(2, MAP, [mp(1, 8, HOST, 40)]) + guest(1, 1, 8) +
                                 call(2, UNMAP, [ump(0, 40)]) + guest(1, 1, 8) +
                                 guest(1, 0, 8, 2, 7, 1) +
                                 call(2, COPY, [cp((1, SELF, 0), (8, 1, 0), 8, DST_GREF)]))
    s["guest-ro-flip"] = (call(2, MAP, [mp(1, 8, HOST | RO, 40)]) + guest(1, 2, 8) +
                          call(2, MAP, [mp(1, 8, HOST, 41)]) + guest(1, 3, 8) +
                          call(2, MAP, [mp(1, 8, HOST, 41)]) + guest(1, 2, 8))
    s["guest-raw-repoint"] = (call(2, MAP, [mp(1, 8, HOST | RO, 40)]) +
                              guest(1, 6, 8, 0x80 | 2, 9, 0x01) +
                              call(2, COPY, [cp((1, SELF, 0), (8, 1, 0), 8, DST_GREF)]) +
                              call(2, MAP, [mp(1, 8, HOST, 41)]))
    s["guest-raw-transfer-bits"] = (guest(1, 6, 10, 2, 20, 0x0E) + guest(1, 5, 10) +
                                    call(2, TRANSFER, [xfer(3, 1, 10)]))
    s["destroy-granter-mapped"] = (call(2, MAP, [mp(1, 8, HOST, 40), mp(1, 9, DEV | RO)]) +
                                   guest(1, 7) +
                                   call(2, COPY, [cp((8, 1, 0), (1, SELF, 0), 8, SRC_GREF)]) +
                                   call(2, UNMAP, [ump(0, 40)]))
    s["destroy-mapper"] = (call(2, MAP, [mp(1, 8, HOST, 40), mp(1, 17, DEV)]) + guest(2, 7) +
                           call(1, COPY, [cp((8, 2, 0), (1, SELF, 0), 8, SRC_GREF)]))
    s["unmap-all-then-more"] = (call(2, MAP, [mp(1, 8, HOST, 40)]) + guest(0, 8) +
                                call(2, MAP, [mp(1, 8, HOST, 40)]))
    # The model's ground: frames written through mappings, wrong grantees, read-only grants,
    # table growth, domains created again (also while a zombie), pins that saturate, the
    # persistent cache across calls, and each narrow deviation the model accepts (issue 9).
    s["write-through-map"] = (call(2, MAP, [mp(1, 8, HOST, 40), mp(1, 9, HOST | RO, 41)]) +
                              guest(2, 11, 40, 4, 3, 0xAB) + guest(2, 11, 41, 0, 0, 0xCD) +
                              guest(1, 11, 2, 8, 0, 0xEF) +
                              call(2, COPY, [cp((41, SELF, 128), (3, SELF, 0), 64, 0),
                                             cp((9, 1, 128), (3, SELF, 0), 64, SRC_GREF),
                                             cp((40, SELF, 0), (3, SELF, 64), 64, 0)]) +
                              call(2, UNMAP, [ump(0, 40), ump(1, 41)]))
    s["map-wrong-grantee"] = (call(0, MAP, [mp(1, 8, HOST, 40), mp(1, 8, DEV)]) +
                              call(1, MAP, [mp(2, 11, HOST, 40)]) +
                              call(0, COPY, [cp((8, 1, 0), (1, SELF, 0), 8, SRC_GREF),
                                             cp((1, SELF, 0), (8, 1, 0), 8, DST_GREF)]) +
                              call(2, COPY, [cp((8, 2, 0), (1, SELF, 0), 8, SRC_GREF)]) +
                              call(2, MAP, [mp(1, 8, HOST, 40)]) +
                              call(0, MAP, [mp(1, 8, DEV | RO)]))
    s["map-ro-writable"] = (call(2, MAP, [mp(1, 9, HOST, 40), mp(1, 9, DEV), mp(1, 15, HOST, 41)]) +
                            call(0, MAP, [mp(1, 15, HOST, 41), mp(1, 15, DEV | RO)]) +
                            call(0, COPY, [cp((1, SELF, 0), (15, 1, 0), 8, DST_GREF),
                                           cp((15, 1, 0), (1, SELF, 0), 8, SRC_GREF)]))
    s["grow-and-grant"] = (call(1, SETUP, [setup(SELF, 2)]) +
                           guest(1, 0, 200, 2, 5, 0) + guest(1, 0, 201, 2, 6, 1) +
                           call(2, MAP, [mp(1, 520, HOST, 40), mp(1, 521, HOST, 41),
                                         mp(1, 521, HOST | RO, 42)]) +
                           call(2, COPY, [cp((1, SELF, 0), (520, 1, 0), 256, DST_GREF),
                                          cp((1, SELF, 0), (521, 1, 0), 8, DST_GREF)]) +
                           call(0, SETUP, [setup(1, 3)]) + call(0, SETUP, [setup(2, 2)]) +
                           call(2, QUERY, [query(SELF)]) + guest(1, 1, 200) + guest(0, 8) +
                           guest(1, 1, 200))
    s["recreate-fresh"] = (guest(2, 7) + guest(2, 10, 3, 20, 1, 1) + guest(2, 0, 8, 1, 2, 0) +
                           call(1, MAP, [mp(2, 8, HOST, 40)]) + guest(2, 11, 2, 0, 255, 0x5A) +
                           call(1, COPY, [cp((8, 2, 0), (1, SELF, 0), 4096, SRC_GREF)]) +
                           call(2, MAP, [mp(1, 8, HOST, 20)]) + guest(2, 10, 0, 0, 0, 0))
    s["recreate-zombie"] = (call(2, MAP, [mp(1, 8, HOST, 40), mp(1, 9, DEV | RO)]) + guest(1, 7) +
                            guest(1, 10, 15, 48, 1, 1) + guest(2, 11, 40, 0, 255, 0x11) +
                            call(2, MAP, [mp(1, 8, HOST, 41)]) +
                            call(2, UNMAP, [ump(0, 40), ump(1, 0, 1)]) + guest(0, 8) +
                            guest(1, 10, 15, 48, 1, 1) + call(2, MAP, [mp(1, 8, HOST, 41)]))
    s["xsa500-repoint"] = (call(2, MAP, [mp(1, 8, HOST | RO, 40)]) +
                           guest(1, 6, 8, 0x80 | 2, 10, 0x01) +
                           call(2, COPY, [cp((1, SELF, 0), (8, 1, 0), 8, DST_GREF),
                                          cp((8, 1, 0), (1, SELF, 0), 8, SRC_GREF)]) +
                           guest(1, 6, 8, 0x80 | 2, 40, 0x01) +
                           call(2, COPY, [cp((1, SELF, 0), (8, 1, 0), 8, DST_GREF)]) +
                           guest(1, 6, 8, 0x80 | 2, 1, 0x01) +
                           call(2, COPY, [cp((1, SELF, 0), (8, 1, 0), 8, DST_GREF)]))
    s["copy-high-gmfn"] = call(2, COPY, [cp(((1 << 63) | 1, SELF, 0), (2, SELF, 0), 16, 0),
                                         cp((1, SELF, 0), ((1 << 63) | 3, SELF, 0), 16, 0),
                                         cp(((1 << 32) | 1, SELF, 0), (2, SELF, 0), 16, 0)])
    s["unmap-cross-type"] = (call(2, MAP, [mp(1, 8, HOST, 40), mp(1, 17, HOST | RO, 41)]) +
                             call(2, UNMAP, [ump(1, 40), ump(0, 41)]))
    s["map-saturate"] = (call(2, MAP, [mp(1, 8, DEV | RO) for _ in range(63)]) * 2 +
                         call(2, MAP, [mp(1, 8, DEV | RO) for _ in range(3)]) +
                         call(2, COPY, [cp((8, 1, 0), (1, SELF, 0), 8, SRC_GREF)]) +
                         call(2, MAP, [mp(1, 8, HOST, 40)]))
    s["persistent-across-calls"] = (
        call(2, COPY, [cp((8, 1, 0), (1, SELF, 0), 64, SRC_GREF),
                       cp((1, SELF, 0), (17, 1, 0), 64, DST_GREF)], sel_bits=PERSIST) +
        call(2, COPY, [cp((8, 1, 64), (1, SELF, 64), 64, SRC_GREF),
                       cp((1, SELF, 0), (9, 1, 0), 8, DST_GREF)], sel_bits=PERSIST) +
        guest(0, 9, 1) +
        call(2, COPY, [cp((17, 1, 0), (2, SELF, 0), 64, SRC_GREF)], sel_bits=PERSIST) +
        guest(1, 1, 8) + guest(1, 0, 8, 0, 1, 0) +
        call(2, COPY, [cp((8, 1, 0), (1, SELF, 0), 64, SRC_GREF)], sel_bits=PERSIST) +
        call(0, COPY, [cp((8, 1, 0), (1, SELF, 0), 64, SRC_GREF)], sel_bits=PERSIST))
    s["transfer-then-grant"] = (call(2, TRANSFER, [xfer(5, 1, 10)]) + guest(1, 5, 10) +
                                guest(1, 0, 20, 0, 20, 0) + call(0, MAP, [mp(1, 20, HOST, 50)]) +
                                call(1, TRANSFER, [xfer(20, 2, 10)]) +
                                call(0, COPY, [cp((20, 1, 0), (1, SELF, 0), 4096, SRC_GREF)]) +
                                call(2, TRANSFER, [xfer(6, 1, 10)]))
    s["rollback-preset-writing"] = (guest(1, 6, 20, 0x80 | 2, 40, 0x11) +
                                    call(2, MAP, [mp(1, 20, HOST | RO, 41)]) + guest(1, 1, 20) +
                                    guest(1, 6, 21, 0x80 | 2, 40, 0x19) +
                                    call(2, COPY, [cp((21, 1, 0), (1, SELF, 0), 8, SRC_GREF)]) +
                                    guest(1, 6, 22, 0x80 | 2, 2, 0x11) +
                                    call(2, MAP, [mp(1, 22, HOST | RO, 41)]) +
                                    call(2, UNMAP, [ump(0, 41)]) + guest(1, 1, 22))
    # get_version: self, a foreign table (privileged or not), no such domain; count is
    # ignored (0 and 3 read one struct).
    s["get-version"] = (call(4, GET_VERSION, [getver(SELF, 77)]) +
                        call(0, GET_VERSION, [getver(1, 5)]) +
                        call(1, GET_VERSION, [getver(0, 5)]) +
                        call(1, GET_VERSION, [getver(1)]) +
                        call(2, GET_VERSION, [getver(9, 3)]) +
                        call(2, GET_VERSION, [getver(SELF)], cnt=0) +
                        call(1, GET_VERSION, [getver(2)], cnt=3) +
                        call(1, GET_VERSION, [getver(2)], high=True) +
                        call(1, GET_VERSION, [], sel_bits=NULLOPS, cnt=0))
    # set_version: 1 -> 1, bad versions, v2 without v2 support, v2 while a ref beyond 7 is
    # pinned (-EBUSY), the switches back and forth, the version always written back.
    s["set-version"] = (call(1, SET_VERSION, [setver(1)]) +
                        call(1, SET_VERSION, [setver(0)]) +
                        call(1, SET_VERSION, [setver(3)]) +
                        call(0, SET_VERSION, [setver(0xFFFFFFFF)], cnt=0) +
                        call(2, SET_VERSION, [setver(2)]) +
                        call(2, SET_VERSION, [setver(1)], cnt=5) +
                        call(2, MAP, [mp(1, 8, HOST, 40)]) +
                        call(1, SET_VERSION, [setver(2)]) +
                        call(2, COPY, [cp((8, 1, 0), (1, SELF, 0), 64, SRC_GREF)]) +
                        call(1, SET_VERSION, [setver(2)], sel_bits=PERSIST) +
                        call(2, UNMAP, [ump(0, 40)]) +
                        call(1, SET_VERSION, [setver(1)]) + call(1, SET_VERSION, [setver(2)]) +
                        call(1, SET_VERSION, [setver(1)], high=True) +
                        call(3, SET_VERSION, [setver(1)]))
    # swap_grant_ref on v1: entries move (the world check sees them), same ref, bad refs
    # either side, a pinned side (eagain), then maps through the swapped refs.
    s["swap-grant-ref"] = (call(1, SWAP, [swap(8, 9), swap(8, 8), swap(8, 512),
                                          swap(0xFFFFFFFF, 8), swap(11, 10)]) +
                           call(2, MAP, [mp(1, 9, HOST, 40), mp(1, 8, HOST, 41)]) +
                           call(1, SWAP, [swap(9, 17), swap(17, 9), swap(12, 13)]) +
                           call(2, UNMAP, [ump(0, 40)]) +
                           call(1, SWAP, [swap(9, 17)]) +
                           call(2, MAP, [mp(1, 17, HOST, 42)]) +
                           guest(1, 6, 20, 0x80 | 2, 40, 0x19) + call(1, SWAP, [swap(20, 21)]) +
                           call(1, SETUP, [setup(SELF, 2)]) +
                           call(1, SWAP, [swap(8, 600), swap(600, 8), swap(1024, 8)]) +
                           guest(1, 0, 0xC8, 2, 3, 0) +
                           call(2, MAP, [mp(1, 520, HOST, 43)]) +
                           call(0, SWAP, [swap(8, 9)]) + call(3, SWAP, [swap(8, 9)]))
    # cache_flush (x86 4.17): the caller's own page, the primitives (invalidate alone:
    # -EOPNOTSUPP), empty flushes and the continuation argument (-EILSEQ), bad ranges and
    # bits, no frame, a foreign page with and without the caller's pin, the first failing
    # op ending the call.
    s["cache-flush"] = (call(1, FLUSH, [flush(16, CLEAN), flush(17, CLEAN | INVAL, 8, 4088)]) +
                        call(1, FLUSH, [flush(16, INVAL)]) +
                        call(1, FLUSH, [flush(16, CLEAN, 0, 0), flush(16, 0)]) +
                        call(1, FLUSH, [flush(16, CLEAN, 0, 0)], high=True) +
                        call(1, FLUSH, [flush(16, CLEAN)], high=True) +
                        call(1, FLUSH, [flush(16, CLEAN, 4095, 2)]) +
                        call(1, FLUSH, [flush(16, CLEAN, 4096, 0)]) +
                        call(1, FLUSH, [flush(16, CLEAN, 0, 4097)]) +
                        call(1, FLUSH, [flush(16, CLEAN | 4)]) +
                        call(1, FLUSH, [flush(16, CLEAN | FL_SRC_GREF)]) +
                        call(1, FLUSH, [flush(0, CLEAN, addr=(1 << 63) | 0x1000)]) +
                        call(2, FLUSH, [flush(17, CLEAN)]) +
                        call(2, MAP, [mp(1, 8, DEV | RO)]) +
                        call(2, FLUSH, [flush(17, CLEAN), flush(17 + 40, CLEAN | INVAL, 100, 9)]) +
                        call(2, FLUSH, [flush(17, CLEAN)], high=True) +
                        call(2, FLUSH, [flush(17, INVAL)]) +
                        call(0, FLUSH, [flush(17, CLEAN)]) +
                        call(2, FLUSH, [flush(33, CLEAN), flush(18, CLEAN), flush(33, INVAL)]) +
                        call(2, FLUSH, [flush(33, CLEAN), flush(16, 0, 5, 0)], high=True) +
                        call(2, FLUSH, [], cnt=0) + call(2, FLUSH, [], sel_bits=NULLOPS, cnt=0) +
                        call(2, FLUSH, [flush(33, CLEAN)], sel_bits=NULLOPS) +
                        call(3, FLUSH, [flush(33, CLEAN)]))
    # v2 tables: full_page, sub_page windows (copy in, across and past the window; never
    # mappable), a frame above 32 bits (bad_page), read-only, a transfer into a v2 offer,
    # end access on the status word, the switch back.
    s["v2-grants"] = (call(1, SET_VERSION, [setver(2)]) + call(1, GET_VERSION, [getver(SELF)]) +
                      guest(1, 0, 8, 2, 1, 0) + guest(1, 0, 9, 2, 2, 1) +
                      guest(1, 2, 12, 2, 3, 0x12) + guest(1, 0, 16, 2, 0xF1, 0) +
                      guest(1, 4, 10, 2, 20, 0) + guest(1, 2, 13, 2, 4, 0x1F) +
                      call(2, MAP, [mp(1, 8, HOST, 40), mp(1, 9, HOST | RO, 41),
                                    mp(1, 12, HOST, 42), mp(1, 16, DEV), mp(1, 12, DEV | RO)]) +
                      call(2, COPY, [cp((12, 1, 256), (1, SELF, 0), 64, SRC_GREF),
                                     cp((12, 1, 255), (1, SELF, 0), 64, SRC_GREF),
                                     cp((12, 1, 256), (1, SELF, 0), 65, SRC_GREF),
                                     cp((1, SELF, 0), (12, 1, 300), 20, DST_GREF),
                                     cp((9, 1, 0), (8, 1, 0), 128, SRC_GREF | DST_GREF),
                                     cp((1, SELF, 0), (9, 1, 0), 8, DST_GREF),
                                     cp((13, 1, 256), (1, SELF, 0), 8, SRC_GREF),
                                     cp((16, 1, 0), (1, SELF, 0), 8, SRC_GREF)]) +
                      call(2, MAP, [mp(1, 12, HOST, 43)]) +
                      guest(1, 1, 8) + call(2, TRANSFER, [xfer(5, 1, 10)]) + guest(1, 5, 10) +
                      call(2, UNMAP, [ump(0, 40), ump(1, 41)]) + guest(1, 1, 8) +
                      guest(1, 1, 9) + call(1, SET_VERSION, [setver(1)]) +
                      call(1, SET_VERSION, [setver(1)]))
    # Transitive grants (v2, copy only): read and write through one, read-only, followed
    # one level only (XSA-226: the named entry transitive too), self-referential, a missing
    # domain, granted back to the original domain, never mappable, held copy buffers.
    s["v2-transitive"] = (call(1, SET_VERSION, [setver(2)]) + call(0, SET_VERSION, [setver(2)]) +
                          guest(1, 3, 10, 0, 2, 16) + guest(1, 3, 11, 0, 2, 17) +
                          guest(1, 3, 12, 0, 1, 16) + guest(1, 3, 13, 0, 0x89, 16) +
                          guest(1, 3, 14, 0, 2, 18) + guest(1, 3, 15, 2, 2, 16) +
                          guest(0, 3, 12, 1, 1, 20) + guest(1, 3, 17, 0, 0, 24) +
                          guest(0, 3, 9, 1, 2, 16) + guest(1, 3, 18, 2, 0, 18) +
                          call(0, COPY, [cp((10, 1, 0), (5, SELF, 0), 64, SRC_GREF),
                                         cp((5, SELF, 64), (10, 1, 64), 64, DST_GREF),
                                         cp((10, 1, 0), (10, 1, 128), 64, SRC_GREF | DST_GREF),
                                         cp((11, 1, 0), (6, SELF, 0), 8, SRC_GREF),
                                         cp((6, SELF, 0), (11, 1, 0), 8, DST_GREF),
                                         cp((12, 1, 0), (6, SELF, 0), 8, SRC_GREF),
                                         cp((13, 1, 0), (6, SELF, 0), 8, SRC_GREF),
                                         cp((14, 1, 0), (6, SELF, 0), 8, SRC_GREF),
                                         cp((6, SELF, 0), (14, 1, 0), 8, DST_GREF),
                                         cp((17, 1, 0), (6, SELF, 0), 8, SRC_GREF)]) +
                          call(0, MAP, [mp(1, 10, HOST, 40), mp(1, 10, DEV | RO)]) +
                          call(2, COPY, [cp((15, 1, 0), (1, SELF, 0), 8, SRC_GREF),
                                         cp((8, 2, 0), (2, SELF, 0), 8, SRC_GREF),
                                         cp((18, 1, 0), (2, SELF, 0), 8, SRC_GREF)]) +
                          call(1, COPY, [cp((8, 2, 0), (1, SELF, 0), 8, SRC_GREF)]) +
                          call(2, MAP, [mp(1, 15, HOST, 40)]) +
                          call(1, MAP, [mp(2, 8, HOST, 50)]) +
                          call(0, COPY, [cp((10, 1, 0), (5, SELF, 0), 64, SRC_GREF)]) +
                          guest(1, 1, 10) + guest(1, 6, 10, 0, 0x12, 0x01) +
                          call(0, COPY, [cp((10, 1, 0), (5, SELF, 0), 64, SRC_GREF)]) +
                          call(1, SET_VERSION, [setver(1)]))
    # set_version's rules: -EBUSY with a ref >= 8 pinned, a pinned reserved ref carried
    # over (its reading/writing moved to the status word and back), a preset GTF_writing
    # carried, swap on v2 with status bits, status frames after growth, -ERANGE for a
    # reserved entry v1 cannot hold (a frame above 32 bits, a transitive grant), a sub-page
    # reserved entry keeping its bit, get_status_frames on v2 and v1.
    s["v2-set-version"] = (guest(1, 0, 3, 2, 5, 0) + guest(1, 0, 4, 2, 6, 0) +
                           guest(1, 6, 5, 0, 7, 0x11) +
                           call(2, MAP, [mp(1, 3, HOST, 40), mp(1, 8, HOST, 41)]) +
                           call(1, SET_VERSION, [setver(2)]) + call(2, UNMAP, [ump(1, 41)]) +
                           call(1, SET_VERSION, [setver(2)]) +
                           call(1, GSF, [gsf(SELF, 1)]) + call(1, GSF, [gsf(SELF, 2)]) +
                           call(1, GSF, [gsf(SELF, 1, True)]) +
                           call(1, GSF, [gsf(SELF, 0, True)]) + call(2, GSF, [gsf(1, 1)]) +
                           call(0, GSF, [gsf(1, 1)]) + call(0, GSF, [gsf(7, 1)]) +
                           callp(1, GSF, [gsf(SELF, 1)], 2) +
                           call(1, SWAP, [swap(5, 6), swap(3, 6), swap(6, 300)]) +
                           call(1, SETUP, [setup(SELF, 2)]) + call(1, GSF, [gsf(SELF, 1)]) +
                           guest(1, 0, 2, 0, 0xF1, 0) + call(2, UNMAP, [ump(0, 40)]) +
                           call(1, SET_VERSION, [setver(1)]) + guest(1, 1, 2) +
                           guest(1, 3, 1, 0, 2, 16) + call(1, SET_VERSION, [setver(1)]) +
                           guest(1, 1, 1) + guest(1, 2, 7, 2, 4, 0x12) +
                           guest(1, 0, 0xC2, 2, 4, 0) +
                           call(1, SET_VERSION, [setver(1)]) + call(1, GSF, [gsf(SELF, 1)]) +
                           call(1, GSF, [gsf(SELF, 0)]) + call(2, MAP, [mp(1, 7, HOST, 44)]))
    # A sub-page grant whose page_off has bit 15 set: Xen's 15-bit start serves reads,
    # but a first writer after the read pin compares it with the whole page_off and fails.
    s["v2-sub-page-bit15"] = (call(1, SET_VERSION, [setver(2)]) + guest(1, 2, 13, 2, 4, 0x1E) +
                              call(2, COPY, [cp((13, 1, 256), (13, 1, 512), 8,
                                                SRC_GREF | DST_GREF),
                                             cp((13, 1, 256), (1, SELF, 0), 8, SRC_GREF),
                                             cp((1, SELF, 0), (13, 1, 300), 8, DST_GREF)]))
    # unmap_and_replace (translated: new_addr must be 0): a wrong slot, the right one, the
    # handle again, a device-only mapping, the host part of a host+device mapping.
    s["unmap-and-replace"] = (call(2, MAP, [mp(1, 8, HOST, 40), mp(1, 9, DEV | RO),
                                            mp(1, 17, HOST | DEV, 42)]) +
                              call(2, UAR, [uar(0, 40, new=41 << 12), uar(0, 41), uar(0, 40),
                                            uar(0, 40), uar(1, 0), uar(1, 43), uar(2, 42),
                                            uar(7, 40), uar(0xFFFFFFFF)]) +
                              call(2, UAR, [], cnt=0) + call(1, UAR, [uar(0, 40)]))
    # The whole-call checks in Xen's order (do_grant_table_op): count, cmd bits, unknown
    # cmd, the command's count rule, the copy from guest memory; gntdp's dead caller last.
    s["whole-call-order"] = (callp(1, GSF, [gsf(SELF, 1)], 2, sel_bits=NULLOPS) +
                             callp(1, GSF, [], 1, sel_bits=NULLOPS) +
                             callp(1, 13, [], 0xFF) + callp(1, 13, [], 0, high=True) +
                             callp(3, COPY, [], 1, sel_bits=NULLOPS) +
                             callp(3, 13, [], 0) + callp(3, SETUP, [], 2) +
                             callp(1, SET_VERSION, [], 0, sel_bits=NULLOPS) +
                             callp(3, SET_VERSION, [setver(1)], 1) +
                             callp(1, FLUSH, [], 1, high=True, sel_bits=NULLOPS) +
                             callp(1, UAR, [], 0xFF) +
                             callp(1, UAR, [], 3, sel_bits=NULLOPS) +
                             callp(1, UAR, [], 0, sel_bits=NULLOPS) +
                             callp(1, SETUP, [setup(SELF, 1)], 0, sel_bits=NULLOPS) +
                             call(1, SETUP, [struct.pack("<H2xIh6xQ", SELF, 2, 0, 1)]) +
                             callp(3, GSF, [gsf(SELF, 1)], 0xFF, high=True) +
                             callp(3, QUERY, [], 2) + callp(3, GSF, [gsf(SELF, 0)], 1) +
                             callp(1, GET_VERSION, [], 0, sel_bits=NULLOPS) +
                             call(1, GSF, [gsf(SELF, 0)]))
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
