#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Real traffic through gntdp-netback, checked against a reference L2 switch.

    traffic.py [CASE...]      (NETBACK and SRCDIR in the environment)

Frames made with scapy (TCP, UDP, ARP, ICMP, IPv6 with extension headers,
VLAN, QinQ, 60 B to 9000 B, IMIX, bad checksums, runts, hairpins, group
addresses) enter at port0 (net_pcap rx_pcap) and leave through the other
members of the topology. The model (class Switch) is a learning switch with
netback's documented rules; every output pcap must equal what the model
sends there, byte for byte and in order, and the counters must be the
model's. Cases (each a function named case_*):

  p2p        port0 -> port1, port2 and a sink guest, all on one bridge
             (jumbo chains flooded to two ports share their segments)
  chain      port0 -> guest 1 -> guest 2 -> port1 (pcap-roundtrip.ini, MTU
             9000 everywhere), guest-to-guest copies direct and staged, and
             with three RX buffers per vif (full rings, no rx_stalled drop)
  mtu        p2p with MTUs 9000, 1500, 9000 and 4000: frames above port0's
             dropped as they enter, above a destination's not sent there
  damaged    a pcap cut mid-frame, a record with an absurd caplen: the
             frames before pass, the file and record are reported, exit 3
  linktype   DLT_NULL, Linux SLL and raw-IP captures refused at start-up; a
             pcapng whose second interface is SLL stops there (exit 3)
  same_file  rx_pcap = tx_pcap (one port, or two) refused, the input intact
  errors     missing, empty, non-pcap rx_pcap, directories, an unwritable
             tx_pcap, an unknown vdev, a bad argument, a bare net_pcap1:
             one message each, naming vdev, argument, file and reason
  empty      a pcap with a header and no frames, pcap-roundtrip.ini: exits
  window     a run ending on the idle timer: its window ends at the last frame
  link_local 802.1D link-local groups (STP, PAUSE, LACP, EAPOL, LLDP) not
             forwarded by default; group_fwd_mask 0x4008 lets EAPOL and
             LLDP through; PAUSE in the mask refused
  bad_mbuf   a 70,000-byte record (net_pcap hands over a bad mbuf): dropped
             and counted, the rest forwarded

Exit status: 0 pass, 1 fail, 77 skip (scapy missing).
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

try:
    from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, IPv6,
                           IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                           IPv6ExtHdrRouting, Raw, ICMPv6EchoRequest)
except ImportError as e:  # pragma: no cover
    print(f"SKIP: scapy is not importable by {sys.executable} ({e}); "
          "install python3-scapy")
    sys.exit(77)

NETBACK = os.environ.get("NETBACK")
SRCDIR = os.environ.get("SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
TMP = tempfile.mkdtemp(prefix="nb_traffic_")
PREFIX = f"nb_traffic_{os.getpid()}"
VERBOSE = os.environ.get("NB_TRAFFIC_VERBOSE") == "1"

LINKTYPE_ETHERNET = 1
# Frame limits netback applies (docs/netback.md).
HDR_MAX = 14 + 8  # Ethernet header and two VLAN tags on top of the MTU
NETIF_MAX = 65535
STD = 1500 + HDR_MAX  # the default MTU's largest frame
JUMBO = 9000 + HDR_MAX

SAN_EXIT = 66
failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL: {msg}")


def ok(cond, msg):
    if cond:
        print(f"ok   {msg}")
    else:
        fail(msg)
    return cond


# ---- pcap files ---------------------------------------------------------------


def write_pcap(path, frames, link=LINKTYPE_ETHERNET, snaplen=262144):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, link))
        for i, d in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000, i % 1000, len(d), len(d)))
            f.write(d)
    return path


def read_pcap(path):
    """The frames of a pcap written by net_pcap (raw bytes, in order)."""
    out = []
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return out
        magic = struct.unpack("<I", hdr[:4])[0]
        end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            _, _, caplen, wirelen = struct.unpack(end + "IIII", rec)
            data = f.read(caplen)
            out.append((data, wirelen))
    return out


# ---- frames -------------------------------------------------------------------

HOSTS = [f"02:aa:00:00:00:{i:02x}" for i in range(1, 9)]  # senders behind port0


def pad(pkt, size, rng):
    """@p pkt padded with a deterministic payload to exactly @p size bytes."""
    b = bytes(pkt)
    if size > len(b):
        b += bytes(rng.getrandbits(8) for _ in range(size - len(b)))
    return b


def traffic(seed=1):
    """A mixed capture: every protocol, size class and destination kind."""
    rng = random.Random(seed)
    frames = []
    dsts = ["ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:fb", "33:33:00:00:00:01",
            "02:bb:00:00:00:01", "02:bb:00:00:00:02"]

    def eth(i, dst=None):
        return Ether(src=HOSTS[i % len(HOSTS)], dst=dst or dsts[i % len(dsts)])

    i = 0
    for size in [60, 64, 65, 128, 512, 1000, 1400, 1500, 1514, 1518, 1522]:
        frames.append(pad(eth(i) / IP(src="10.0.0.1", dst="10.0.0.2", id=i) /
                          TCP(sport=1000 + i, dport=80, seq=i, flags="PA"), size, rng))
        frames.append(pad(eth(i + 1) / IP(src="10.0.0.3", dst="10.0.0.4", id=i) /
                          UDP(sport=53, dport=2000 + i), size, rng))
        i += 2
    frames.append(bytes(eth(0, "ff:ff:ff:ff:ff:ff") /
                        ARP(op=1, hwsrc=HOSTS[0], psrc="10.0.0.1", pdst="10.0.0.9")))
    frames.append(pad(eth(1) / ARP(op=2, hwsrc=HOSTS[1], psrc="10.0.0.9", pdst="10.0.0.1"),
                      60, rng))
    frames.append(pad(eth(2) / IP(src="10.0.0.5", dst="10.0.0.6", id=7) /
                      ICMP(type=8, id=1, seq=1), 98, rng))
    frames.append(bytes(eth(3) / IPv6(src="fe80::1", dst="ff02::1") /
                        IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
                        IPv6ExtHdrRouting() / IPv6ExtHdrFragment(id=5, offset=0, m=0) /
                        UDP(sport=5, dport=6) / Raw(b"v6" * 40)))
    frames.append(bytes(eth(4) / IPv6(src="2001:db8::1", dst="2001:db8::2") /
                        ICMPv6EchoRequest(id=3, seq=4, data=b"x" * 56)))
    for vid in (1, 100, 4094):
        frames.append(pad(eth(vid) / Dot1Q(vlan=vid, prio=vid % 8) /
                          IP(src="10.1.0.1", dst="10.1.0.2", id=vid) / UDP(), 1500 + 18, rng))
    frames.append(pad(Ether(src=HOSTS[5], dst=dsts[0], type=0x88A8) / Dot1AD(vlan=10) /
                      Dot1Q(vlan=20) / IP(src="10.2.0.1", dst="10.2.0.2") / TCP(), 1522, rng))
    # Bad checksums: forwarded untouched (a switch does not look).
    frames.append(pad(eth(6) / IP(src="10.0.0.1", dst="10.0.0.2", chksum=0x1234) /
                      TCP(chksum=0xdead), 200, rng))
    frames.append(pad(eth(7) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(chksum=0xbeef),
                      300, rng))
    # IMIX 7:4:1 (64, 594, 1518).
    for k in range(48):
        size = [64] * 7 + [594] * 4 + [1518]
        frames.append(pad(eth(k) / IP(src="10.3.0.1", dst="10.3.0.2", id=k) /
                          UDP(sport=k, dport=9), size[k % 12], rng))
    # Hairpins: a destination learned on port0 itself goes nowhere.
    frames.append(pad(Ether(src=HOSTS[1], dst=HOSTS[0]) / IP() / UDP(), 64, rng))
    frames.append(pad(Ether(src=HOSTS[0], dst=HOSTS[2]) / IP() / UDP(), 1500, rng))
    # A runt (shorter than an Ethernet header) is dropped and counted.
    frames.append(bytes.fromhex("ffffffffffff02aa0000"))
    return frames


def jumbo(seed=2):
    """Frames above 1522 B: jumbo sizes up to 9000 B."""
    rng = random.Random(seed)
    out = []
    for k, size in enumerate([1523, 2000, 4095, 4096, 4097, 8192, 8999, 9000]):
        out.append(pad(Ether(src=HOSTS[k % 8], dst="ff:ff:ff:ff:ff:ff") /
                       IP(src="10.9.0.1", dst="10.9.0.2", id=k) / UDP(), size, rng))
    return out


# ---- the reference switch -------------------------------------------------------


def is_group(mac):
    return mac[0] & 1 == 1


class Switch:
    """One bridge: members by name, each with its largest frame (bytes)."""

    def __init__(self, members, group_fwd_mask=0):
        self.members = members  # name -> max frame
        self.mask = group_fwd_mask
        self.table = {}
        self.out = {m: [] for m in members}
        self.drops = {m: {} for m in members}

    def drop(self, member, why):
        self.drops[member][why] = self.drops[member].get(why, 0) + 1

    def frame(self, src, f):
        if len(f) > NETIF_MAX:
            self.drop(src, "bad_mbuf")
            return
        if len(f) < 14:
            self.drop(src, "runt")
            return
        if len(f) > self.members[src]:
            self.drop(src, "too_big")
            return
        dst, smac = f[0:6], f[6:12]
        if not is_group(smac):
            self.table[smac] = src
        if dst[:5] == b"\x01\x80\xc2\x00\x00" and dst[5] < 16 and \
                not self.mask & (1 << dst[5]):
            self.drop(src, "link_local")
            return
        if not is_group(dst) and dst in self.table:
            if self.table[dst] == src:
                self.drop(src, "hairpin")
                return
            dests = [self.table[dst]]
        else:
            dests = [m for m in self.members if m != src]
        kept = [d for d in dests if len(f) <= self.members[d]]
        if len(kept) < len(dests):
            self.drop(src, "too_big")
        for d in kept:
            self.out[d].append(f)


# ---- running gntdp-netback ------------------------------------------------------


def eal():
    args = [f"--file-prefix={PREFIX}", "--no-pci", "--log-level=lib.*:warning",
            "--no-huge", "-m", "512"]
    args += ["-l", "0-1"] if (os.cpu_count() or 1) >= 2 else ["-l", "0"]
    return args


# A run takes 0.5-2 s; on a loaded machine EAL's start-up alone (dlopen of every PMD)
# took 2-10 s of wall time for 0.3 s of CPU, so each run gets 120 s before it counts as
# hung, and the suite's meson timeout leaves room for that.
def run(name, sets, config=None, timeout=120, extra=()):
    """Run gntdp-netback; returns (exit status, report or None, stdout + stderr)."""
    rpt = os.path.join(TMP, f"{name}.json")
    if os.path.exists(rpt):
        os.unlink(rpt)
    cmd = [NETBACK] + eal() + ["--"]
    if config:
        cmd += ["--config", os.path.join(SRCDIR, "configs", "netback", config)]
    cmd += ["--quiet", "--json", rpt]
    if "run.duration" not in sets:
        cmd += ["--duration", "30"]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={v}"]
    cmd += list(extra)
    # A sanitizer's report must not pass for a refusal (exit 1): it exits SAN_EXIT.
    env = dict(os.environ)
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        env[k] = (env.get(k, "") + f":exitcode={SAN_EXIT}").lstrip(":")
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, check=False, env=env)
        rc, out = p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        rc, out = "timeout", (e.stdout or b"").decode(errors="replace")
    if VERBOSE or rc not in (0, 1, 3):
        print(out)
    d = None
    if os.path.exists(rpt):
        with open(rpt) as f:
            d = json.load(f)
    return rc, d, out


def pcap_port(idx, rx, tx):
    return f"net_pcap{idx},rx_pcap={rx},tx_pcap={tx}"


def empty_pcap():
    return write_pcap(os.path.join(TMP, "empty.pcap"), [])


def drops_of(obj):
    return {k: v for k, v in obj["drops"].items() if v}


def compare(label, got, want):
    """Output frames against the model's, byte for byte and in order."""
    frames = [g for g, _ in got]
    if frames == want:
        return ok(True, f"{label}: {len(want)} frames byte-identical and in order")
    for k, (a, b) in enumerate(zip(frames, want)):
        if a != b:
            fail(f"{label}: frame {k} differs ({len(a)} B out, {len(b)} B expected)")
            return False
    fail(f"{label}: {len(frames)} frames out, {len(want)} expected")
    return False


def check_port(label, d, idx, model_out):
    p = d["ports"][idx]
    ok(p["tx_pkts"] == len(model_out) and p["tx_bytes"] == sum(map(len, model_out)),
       f"{label}: port{idx} counters tx {p['tx_pkts']} pkts {p['tx_bytes']} B "
       f"(model {len(model_out)}, {sum(map(len, model_out))} B)")


# ---- cases ----------------------------------------------------------------------


def p2p_run(label, frames, sets=None, members=None, mask=0):
    """port0 -> {port1, port2, vif0} on bridge 0; returns (report, model)."""
    inp = write_pcap(os.path.join(TMP, f"{label}.in.pcap"), frames)
    outs = [os.path.join(TMP, f"{label}.out{i}.pcap") for i in range(3)]
    s = {
        "port0.devargs": pcap_port(0, inp, outs[0]), "port0.bridge": 0,
        "port1.devargs": pcap_port(1, empty_pcap(), outs[1]), "port1.bridge": 0,
        "port2.devargs": pcap_port(2, empty_pcap(), outs[2]), "port2.bridge": 0,
        "vif0.guest": 1, "vif0.bridge": 0,
        "backend.rx_stall_us": 5000000, "run.idle_exit_ms": 400,
    }
    s.update(sets or {})
    sw = Switch(members or {"port0": STD, "port1": STD, "port2": STD, "vif0": STD}, mask)
    for f in frames:
        sw.frame("port0", f)
    s["run.expect_port_tx"] = len(sw.out["port1"]) + len(sw.out["port2"])
    rc, d, out = run(label, s)
    if not ok(rc == 0 and d is not None, f"{label}: exit status {rc}"):
        print(out[-3000:])
        return None, sw
    for i in (1, 2):
        compare(f"{label}: port{i}", read_pcap(outs[i]), sw.out[f"port{i}"])
        check_port(label, d, i, sw.out[f"port{i}"])
    ok(read_pcap(outs[0]) == [], f"{label}: nothing back out of port0")
    v = d["vifs"][0]
    want = sw.out["vif0"]
    ok(v["rx_pkts"] == len(want) and v["rx_bytes"] == sum(map(len, want)),
       f"{label}: vif0 got {v['rx_pkts']} frames {v['rx_bytes']} B (model {len(want)}, "
       f"{sum(map(len, want))} B)")
    ok(d["ports"][0]["rx_pkts"] == len(frames),
       f"{label}: port0 read {d['ports'][0]['rx_pkts']} of {len(frames)}")
    ok(drops_of(d["ports"][0]) == sw.drops["port0"],
       f"{label}: port0 drops {drops_of(d['ports'][0])} (model {sw.drops['port0']})")
    return d, sw


def case_p2p():
    p2p_run("p2p", traffic(1) + jumbo())


def case_chain():
    frames = [f for f in traffic(3) if len(f) >= 14] + jumbo()
    for mode in ("direct", "staged", "tight"):
        label = f"chain_{mode}"
        sets = {"backend.g2g": "staged" if mode == "staged" else "direct"}
        if mode == "tight":
            # Three RX buffers per vif (a 9000-byte frame takes three): the rings are
            # full all the time, nothing is a stall.
            frames = frames * 8
            sets.update({f"vif{i}.rx_buffers": 3 for i in range(4)})
        inp = write_pcap(os.path.join(TMP, f"{label}.in.pcap"), frames)
        out = os.path.join(TMP, f"{label}.out.pcap")
        back = os.path.join(TMP, f"{label}.back.pcap")
        # Each hop is a two-member bridge: the model is one switch per hop.
        hop0 = Switch({"port0": JUMBO, "vif0": JUMBO})
        for f in frames:
            hop0.frame("port0", f)
        want = hop0.out["vif0"]
        rc, d, log = run(label, dict(sets, **{
            "run.expect_port_tx": len(want),
            "port0.devargs": pcap_port(0, inp, back),
            "port1.devargs": pcap_port(1, empty_pcap(), out),
        }), config="pcap-roundtrip.ini")
        if not ok(rc == 0 and d is not None, f"{label}: exit status {rc}"):
            print(log[-3000:])
            continue
        compare(f"{label}: port1", read_pcap(out), want)
        check_port(label, d, 1, want)
        ok(d["ports"][0]["tx_pkts"] == 0, f"{label}: nothing back out of port0")
        ok(all(v["state"] == "up" for v in d["vifs"]), f"{label}: every vif up")
        ok(all(not drops_of(v) for v in d["vifs"]), f"{label}: no drops at the vifs")
        ok(drops_of(d["ports"][0]) == hop0.drops["port0"],
           f"{label}: port0 drops {drops_of(d['ports'][0])} (model {hop0.drops['port0']})")


def link_local_frames(seed=12):
    rng = random.Random(seed)
    out = []
    for last in (0x00, 0x01, 0x02, 0x03, 0x0E, 0x0F, 0x10, 0x21):
        dst = f"01:80:c2:00:00:{last:02x}"
        out.append(pad(Ether(src=HOSTS[last % 8], dst=dst, type=0x8809 if last < 3 else 0x88CC)
                       / Raw(b"\x01\x02"), 64, rng))
        out.append(pad(Ether(src=HOSTS[1], dst="ff:ff:ff:ff:ff:ff") / IP() / UDP(), 80, rng))
    return out


def case_link_local():
    """01:80:C2:00:00:0x stays on its link (group_fwd_mask 0), except the groups masked in."""
    p2p_run("link_local", link_local_frames())
    p2p_run("link_local_mask", link_local_frames(), sets={"backend.group_fwd_mask": 0x4008},
            mask=0x4008)
    expect = "bit 1 is 01:80:C2:00:00:01 (PAUSE)"
    rc, _, out = run("link_local_pause", {"vif0.guest": 1, "backend.group_fwd_mask": 2,
                                          "run.duration": 1})
    ok(rc == 2 and expect in out, f"link_local_pause: PAUSE in the mask refused (exit {rc})")


def case_mtu():
    """Per-member MTUs: ingress drops above port0's, each destination its own."""
    rng = random.Random(5)
    frames = traffic(6) + jumbo() + [
        pad(Ether(src=HOSTS[2], dst="ff:ff:ff:ff:ff:ff") / IP() / UDP(), JUMBO + 1, rng)]
    p2p_run("mtu", frames,
            sets={"port0.mtu": 9000, "port2.mtu": 9000, "vif0.mtu": 4000},
            members={"port0": JUMBO, "port1": STD, "port2": JUMBO, "vif0": 4000 + HDR_MAX})


def case_bad_mbuf():
    rng = random.Random(9)
    frames = traffic(4)[:20]
    frames.insert(5, pad(Ether(src=HOSTS[0], dst="ff:ff:ff:ff:ff:ff") / IP() / UDP(),
                         70000, rng))
    p2p_run("bad_mbuf", frames)


def pcapng(blocks_spec, path):
    """A pcapng: [('idb', linktype) | ('epb', iface, data)...] after one section header."""
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for b in blocks_spec:
        if b[0] == "idb":
            out += block(1, struct.pack("<HHI", b[1], 0, 262144))
        else:
            out += block(6, struct.pack("<IIIII", b[1], 0, 0, len(b[2]), len(b[2])) + b[2])
    with open(path, "wb") as f:
        f.write(out)
    return path


def expect_refused(label, devargs, *words):
    """gntdp-netback refuses port0 = @p devargs at start-up with one message naming @p words."""
    rc, _, out = run(label, {"port0.devargs": devargs, "port0.bridge": 0, "vif0.guest": 1,
                             "run.duration": 1})
    lines = [ln for ln in out.splitlines() if ln.startswith("gntdp-netback: port0")]
    ok(rc not in (0, "timeout", SAN_EXIT) and len(lines) == 1 and all(w in lines[0] for w in words),
       f"{label}: refused (exit {rc}) with one message naming {', '.join(words)}")
    if lines:
        print(f"     {lines[0]}")
    else:
        print(out[-2000:])


def case_damaged():
    """A pcap cut mid-frame or with an absurd caplen: the frames before pass, exit 3."""
    frames = traffic(7)[:30]
    good = write_pcap(os.path.join(TMP, "good.pcap"), frames)
    with open(good, "rb") as f:
        blob = f.read()
    absurd = bytearray(blob)
    # Record 11's header: after the 24-byte file header and ten records.
    off = 24 + sum(16 + len(x) for x in frames[:10])
    struct.pack_into("<I", absurd, off + 8, 0x7FFFFFF0)
    damaged = {
        "cut": (blob[:len(blob) - 20], len(frames), 24 + sum(16 + len(x) for x in frames[:-1])),
        "caplen": (bytes(absurd), 11, off),
    }
    for kind, (data, rec, byte) in damaged.items():
        label = f"damaged_{kind}"
        inp = os.path.join(TMP, f"{label}.pcap")
        with open(inp, "wb") as f:
            f.write(data)
        out = os.path.join(TMP, f"{label}.out.pcap")
        before = frames[:rec - 1]
        sw = Switch({"port0": STD, "port1": STD})
        for fr in before:
            sw.frame("port0", fr)
        rc, d, log = run(label, {
            "port0.devargs": pcap_port(0, inp, os.path.join(TMP, "back.pcap")),
            "port0.bridge": 0,
            "port1.devargs": pcap_port(1, empty_pcap(), out), "port1.bridge": 0,
            "vif0.guest": 1, "vif0.bridge": 1, "run.idle_exit_ms": 300,
            "backend.rx_stall_us": 5000000,
        })
        ok(rc == 3, f"{label}: exit status {rc} (3: input incomplete)")
        if d is None:
            print(log[-2000:])
            continue
        compare(f"{label}: port1", read_pcap(out), sw.out["port1"])
        inp_rep = d["ports"][0].get("input", {})
        ok(inp_rep.get("complete") is False and inp_rep.get("stop_record") == rec and
           inp_rep.get("stop_offset") == byte and inp_rep.get("records") == rec - 1,
           f"{label}: report says reading stopped at record {rec}, byte {byte}: {inp_rep}")
        msg = [ln for ln in log.splitlines() if "input incomplete" in ln]
        ok(len(msg) == 1 and inp in msg[0] and f"record {rec}" in msg[0],
           f"{label}: the closing message names the file and the record")


def case_linktype():
    """Non-Ethernet captures are refused at start-up; mixed pcapng stops, reported."""
    fr = traffic(8)[:3]
    for name, link in (("null", 0), ("sll", 113), ("raw", 101)):
        f = write_pcap(os.path.join(TMP, f"lt_{name}.pcap"), fr, link=link)
        expect_refused(f"linktype_{name}", pcap_port(0, f, os.path.join(TMP, "o.pcap")),
                       "net_pcap0", f"rx_pcap={f}", "link type", "not Ethernet")
    mixed = pcapng([("idb", 1), ("epb", 0, fr[0]), ("epb", 0, fr[1]), ("idb", 113),
                    ("epb", 1, fr[2])], os.path.join(TMP, "mixed.pcapng"))
    out = os.path.join(TMP, "mixed.out.pcap")
    rc, d, log = run("linktype_mixed", {
        "port0.devargs": pcap_port(0, mixed, os.path.join(TMP, "back.pcap")), "port0.bridge": 0,
        "port1.devargs": pcap_port(1, empty_pcap(), out), "port1.bridge": 0,
        "vif0.guest": 1, "vif0.bridge": 1, "run.idle_exit_ms": 300})
    ok(rc == 3 and d is not None and d["ports"][0]["input"]["stop_record"] == 3,
       f"linktype_mixed: exit {rc}, the Ethernet records before the other link type pass")
    if d is not None:
        compare("linktype_mixed: port1", read_pcap(out), fr[:2])


def case_same_file():
    """The same file as rx_pcap and tx_pcap (of one port or two) is refused, untouched."""
    f = write_pcap(os.path.join(TMP, "same.pcap"), traffic(9)[:5])
    with open(f, "rb") as x:
        before = x.read()
    expect_refused("same_file", pcap_port(0, f, f), "net_pcap0", f"tx_pcap={f}",
                   "rx_pcap of port0")
    rc, _, out = run("same_file_2", {
        "port0.devargs": pcap_port(0, f, os.path.join(TMP, "b.pcap")), "port0.bridge": 0,
        "port1.devargs": pcap_port(1, empty_pcap(), f), "port1.bridge": 0,
        "vif0.guest": 1, "run.duration": 1})
    ok(rc not in (0, "timeout", SAN_EXIT) and f"port1 net_pcap1: tx_pcap={f}: is the rx_pcap of port0"
       in out, f"same_file_2: port1 writing port0's input refused (exit {rc})")
    with open(f, "rb") as x:
        ok(x.read() == before, "same_file: the input is intact")


def case_errors():
    """Each bad port gets one message naming the vdev, the argument, the file, the reason."""
    o = os.path.join(TMP, "o.pcap")
    good = write_pcap(os.path.join(TMP, "e_good.pcap"), traffic(10)[:2])
    emptyf = os.path.join(TMP, "e_zero.pcap")
    open(emptyf, "wb").close()
    junk = os.path.join(TMP, "e_junk.pcap")
    with open(junk, "wb") as f:
        f.write(b"this is not a capture file at all\n" * 4)
    miss = os.path.join(TMP, "e_missing.pcap")
    expect_refused("err_missing", pcap_port(0, miss, o), "net_pcap0", f"rx_pcap={miss}",
                   "No such file")
    expect_refused("err_empty", pcap_port(0, emptyf, o), "net_pcap0", f"rx_pcap={emptyf}",
                   "empty file")
    expect_refused("err_junk", pcap_port(0, junk, o), "net_pcap0", f"rx_pcap={junk}",
                   "not a pcap file")
    expect_refused("err_dir", pcap_port(0, TMP, o), "net_pcap0", f"rx_pcap={TMP}",
                   "is a directory")
    expect_refused("err_tx_dir", pcap_port(0, good, TMP), "net_pcap0", f"tx_pcap={TMP}",
                   "is a directory")
    nodir = os.path.join(TMP, "no", "such", "dir.pcap")
    expect_refused("err_tx_unwritable", pcap_port(0, good, nodir), "net_pcap0",
                   f"tx_pcap={nodir}", "cannot create")
    expect_refused("err_unknown_vdev", "net_bogus0", "net_bogus0", "unknown vdev")
    expect_refused("err_bad_arg", "net_pcap1,bogus=1", "net_pcap1", "'bogus=1'",
                   "unknown argument")
    expect_refused("err_bare", "net_pcap1", "net_pcap1", "rx_pcap=FILE")


def case_empty():
    """A valid pcap with no frames and pcap-roundtrip.ini (duration 0) ends on the idle timer."""
    out = os.path.join(TMP, "empty.out.pcap")
    rc, d, log = run("empty", {
        "run.duration": 0, "run.idle_exit_ms": 500,
        "port0.devargs": pcap_port(0, empty_pcap(), os.path.join(TMP, "eb.pcap")),
        "port1.devargs": pcap_port(1, empty_pcap(), out),
    }, config="pcap-roundtrip.ini")
    ok(rc == 0 and d is not None and d["ports"][1]["tx_pkts"] == 0,
       f"empty: exits ({rc}) on the idle timer with nothing sent")
    ok(d is not None and d["window_s"] < 10, "empty: well before the harness's limit")


def case_window():
    """A run that ends on the idle timer measures its window up to the last frame."""
    frames = traffic(11) * 20
    inp = write_pcap(os.path.join(TMP, "window.pcap"), frames)
    rc, d, _ = run("window", {
        "port0.devargs": pcap_port(0, inp, os.path.join(TMP, "wb.pcap")), "port0.bridge": 0,
        "port1.devargs": pcap_port(1, empty_pcap(), os.path.join(TMP, "wo.pcap")),
        "port1.bridge": 0, "vif0.guest": 1, "vif0.bridge": 1,
        "run.idle_exit_ms": 800, "run.duration": 0})
    ok(rc == 0 and d is not None, f"window: exit status {rc}")
    if d is None:
        return
    ok(d["ports"][1]["tx_pkts"] == len([f for f in frames if 14 <= len(f) <= STD]) - 40,
       f"window: port1 sent {d['ports'][1]['tx_pkts']}")
    # On netback's own clock (wall-time bounds flake under load): the run loop ended 0.8 s
    # after the last change of the counters, the window ends at that change, so the idle
    # wait is outside it; and the window holds the traffic (it starts at start-up).
    ok(0 < d["window_s"] <= d["run_s"] - 0.8 and d["backend"]["mpps"] > 0,
       f"window: {d['window_s']} s of a {d['run_s']} s run (the idle wait of 0.8 s not "
       f"in it), {d['backend']['mpps']} Mpps")


CASES = {n[5:]: f for n, f in sorted(globals().items()) if n.startswith("case_")}


def main():
    if not NETBACK:
        print("NETBACK must name the gntdp-netback binary")
        return 1
    names = sys.argv[1:] or list(CASES)
    for n in names:
        if n not in CASES:
            print(f"no case {n}; cases: {' '.join(CASES)}")
            return 1
        print(f"== {n}")
        CASES[n]()
    subprocess.run(["rm", "-rf", TMP, f"/var/run/dpdk/{PREFIX}"], check=False)
    print(f"{len(names)} case(s), {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
