#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Summarise a bench/netback/run.sh run: OUT.csv -> OUT.json, OUT.png, summary lines.

    summary.py OUT GNTDP_COMMAND PEER_COMMAND

Per frame size:
  - peak: the highest sample of each tool over all rounds (gntdp-netback's
    one-second samples, testpmd's 2 s samples). On this VM the host moves the
    two vCPUs between core complexes for seconds at a time, which only ever
    slows both tools down (bench/netback/pingpong.c); the peak is each one
    in the fast placement, and the headline ratio is peak / peak;
  - median: the median over rounds of each run's median, and the median of
    the per-round ratios, whatever the placement was.
Cycles and copy ops per packet are gntdp-netback's medians over rounds.
"""
import csv
import json
import os
import statistics
import subprocess
import sys


def main():
    out, nbcmd, vhcmd = sys.argv[1:4]
    rows = list(csv.DictReader(open(out + ".csv")))
    sizes = sorted({int(r["size"]) for r in rows})
    res = {}
    for s in sizes:
        rs = [r for r in rows if int(r["size"]) == s]
        f = lambda k: [float(r[k]) for r in rs]
        gp, vp = max(f("gntdp_sample_max")), max(f("vhost_sample_max"))
        res[s] = {
            "gntdp_peak_mpps": gp,
            "vhost_peak_mpps": vp,
            "ratio_peak": round(gp / vp, 3) if vp else 0,
            "gntdp_median_mpps": statistics.median(f("gntdp_mpps")),
            "vhost_median_mpps": statistics.median(f("vhost_mpps")),
            "ratio_median_of_rounds": statistics.median(f("ratio")),
            "gntdp_cycles_per_pkt": statistics.median(f("gntdp_cycles_per_pkt")),
            "gntdp_copy_ops_per_pkt": statistics.median(f("gntdp_copy_ops_per_pkt")),
            "rounds": len(rs),
            "goal_ratio": 1.5,
        }
    lines = open(out + ".txt").read().splitlines()
    doc = {"machine": lines[0], "clock": lines[1],
           "commands": {"gntdp": nbcmd, "vhost": vhcmd},
           "method": __doc__.split("\n\n", 2)[2].strip(),
           "rounds": rows, "summary": res}
    json.dump(doc, open(out + ".json", "w"), indent=1)
    for s in sizes:
        m = res[s]
        print("%5d B: peak gntdp-netback %.2f Mpps vs vhost-user %.2f Mpps: ratio %.2f (goal 1.5); "
              "medians of %d rounds %.2f / %.2f Mpps, median pair ratio %.2f; "
              "gntdp %.0f TSC cycles/pkt, %.2f copy ops/pkt"
              % (s, m["gntdp_peak_mpps"], m["vhost_peak_mpps"], m["ratio_peak"], m["rounds"],
                 m["gntdp_median_mpps"], m["vhost_median_mpps"], m["ratio_median_of_rounds"],
                 m["gntdp_cycles_per_pkt"], m["gntdp_copy_ops_per_pkt"]))
    dat = out + ".dat"
    with open(dat, "w") as fh:
        for s in sizes:
            m = res[s]
            fh.write("%d %f %f %f %f %f\n" % (s, m["gntdp_peak_mpps"], m["vhost_peak_mpps"],
                                             m["ratio_peak"], m["gntdp_median_mpps"],
                                             m["vhost_median_mpps"]))
    gp = """set terminal pngcairo size 900,560 font ",11"
set output "%(png)s"
set title "Guest-to-guest forwarding, one backend core: gntdp-netback vs vhost-user (%(date)s)"
set ylabel "Mpps forwarded by the backend core"
set xlabel "frame size (bytes)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set key outside bottom center horizontal maxrows 2
set grid ytics
plot "%(dat)s" using 2:xtic(1) title "gntdp-netback, peak" lc rgb "#1f77b4", \\
     "" using 3 title "vhost-user / virtio-user (testpmd), peak" lc rgb "#ff7f0e", \\
     "" using 5 title "gntdp-netback, median of rounds" lc rgb "#9ecae1", \\
     "" using 6 title "vhost-user, median of rounds" lc rgb "#fdd0a2", \\
     "" using ($0 - 0.3):($2):(sprintf("%%.2fx", $4)) with labels offset 0,1 notitle
""" % {"png": out + ".png", "dat": dat, "date": os.path.basename(out).replace("netback-", "")}
    try:
        subprocess.run(["gnuplot"], input=gp.encode(), check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("no plot: %s" % e)
    os.unlink(dat)


if __name__ == "__main__":
    main()
