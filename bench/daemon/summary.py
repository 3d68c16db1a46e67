#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Summary of bench/daemon/run.sh's results.jsonl: per goal, the cross-process
# figure (gntdpd + libgntdp-client) beside gntdp-bench --connect (the same
# scenario as in process, each domain a client process of gntdpd) and
# gntdp-bench in process (interface = hcall), median / min / max over the
# reps, and the ratio connect / in-process of the medians: the cost of
# crossing processes.
#   summary.py [--check] results.jsonl   (--check: exit 1 unless every run verified)
import json
import statistics
import sys

GOALS = [  # (scenario, what, goal, unit)
    ("copy-64", "M ops/s", 40.0),
    ("copy-64-local", "M ops/s", None),
    ("copy-4k", "raw_ratio", 0.90),
    ("copy-4k", "GB/s", None),
    ("map-unmap", "M pairs/s", 15.0),
]


def figure(r, what):
    if r["path"] == "gntdpd":
        if what == "raw_ratio":
            return r.get("raw_ratio")
        if what == "GB/s":
            return r.get("gbytes_per_s")
        return (r.get("pairs_per_s") or r.get("ops_per_s")) / 1e6
    if what == "raw_ratio":
        return r.get("raw_ratio")
    if what == "GB/s":
        return r.get("gbps")
    if what == "M pairs/s":
        return r.get("map_unmap_pairs_mops")
    return r.get("mops")


def verified(r):
    if r["path"] == "gntdpd":
        return r.get("verification") == "pass"
    if r.get("kind") == "verified":
        return r.get("verification") == "pass" and r.get("pass") is True
    return r.get("pass") is True


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    rows = [json.loads(l) for l in open(args[0]) if l.strip()]
    if check:
        bad = [r for r in rows if not verified(r)]
        for r in bad:
            print("not verified:", r.get("path"), r.get("scenario"), r.get("kind", ""),
                  r.get("rep"))
        sys.exit(1 if bad or not rows else 0)
    print("%-14s %-10s %-26s %-26s %-26s %-9s %s" % (
        "goal", "figure", "client bench (gntdpd)", "gntdp-bench --connect",
        "gntdp-bench in process", "conn/in", "goal"))
    for scen, what, goal in GOALS:
        cells, med = [], {}
        for path in ("gntdpd", "connect", "in-process"):
            v = [figure(r, what) for r in rows if r["path"] == path and r["scenario"] == scen
                 and r.get("kind", "timed") == "timed"]
            v = [x for x in v if x is not None]
            if v:
                med[path] = statistics.median(v)
            cells.append("%.3f (%.3f-%.3f) n=%d" % (statistics.median(v), min(v), max(v), len(v))
                         if v else "-")
        ratio = ("%.3f" % (med["connect"] / med["in-process"])
                 if med.get("connect") is not None and med.get("in-process") else "-")
        print("%-14s %-10s %-26s %-26s %-26s %-9s %s" % (
            scen, what, cells[0], cells[1], cells[2], ratio,
            "-" if goal is None else ">= %g" % goal))
    # The two raw baselines differ (the client's glibc memcpy vs gntdp-bench's raw
    # copy of its frames), so also set gntdpd's 4 KiB throughput against the
    # in-process run's raw copy of the same rep.
    x = []
    for rep in sorted({r.get("rep") for r in rows}):
        d = [r for r in rows if r["path"] == "gntdpd" and r["scenario"] == "copy-4k"
             and r.get("rep") == rep]
        i = [r for r in rows if r["path"] == "in-process" and r["scenario"] == "copy-4k"
             and r.get("kind") == "timed" and r.get("rep") == rep and r.get("raw_gbps")]
        if d and i:
            x.append(d[0]["gbytes_per_s"] / i[0]["raw_gbps"])
    if x:
        print("copy-4k: gntdpd GB/s over gntdp-bench's raw_gbps of the same rep: "
              "%.3f (%.3f-%.3f) n=%d" % (statistics.median(x), min(x), max(x), len(x)))
    # The cross-process map the grantee touches: ns per page by pages per call.
    steps = ("ns_per_page", "map_ns_per_page", "mapfd_mmap_ns_per_page", "touch_ns_per_page",
             "munmap_ns_per_page", "unmap_ns_per_page")
    for b in sorted({r["batch"] for r in rows if r.get("scenario") == "map-fd"}):
        mf = [r for r in rows if r.get("scenario") == "map-fd" and r["batch"] == b]
        cells = ["%s %.0f" % (k.replace("_ns_per_page", "").replace("ns_per_page", "total"),
                              statistics.median([r[k] for r in mf])) for k in steps]
        print("map-fd %3d pages/call, ns per page (median of %d): %s" % (b, len(mf),
                                                                         ", ".join(cells)))
    print("verified: %d of %d runs" % (sum(verified(r) for r in rows), len(rows)))


main()
