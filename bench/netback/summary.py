#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Summarise a bench/netback/run.sh run: OUT.csv -> OUT.json, OUT.png, summary lines.

    summary.py OUT GNTDP_COMMAND PEER_COMMAND

Per frame size:
  - the headline: the median over rounds of the same-round pair ratio, each
    round's gntdp-netback median over the peer's median in that round (the
    two runs back to back, same placement as far as the round's core round
    trip shows), with the smallest and largest pair ratio beside it;
  - median: the median over rounds of each tool's run median;
  - peak, for reference only: the highest sample of each tool over all
    rounds (gntdp-netback's one-second samples, testpmd's 2 s samples),
    which may come from different rounds and placements; their quotient is
    not a pair and is not the headline.
Cycles and copy ops per packet and ns per copy op are gntdp-netback's
medians over rounds; lost is the sum over rounds of the frames it dropped or
its frontends saw fail (must be 0).
"""
import csv
import json
import os
import statistics
import subprocess
import sys

# Issue 10: gntdp-netback at least 2.0x the vhost-user peer, same run, both sizes.
GOAL_RATIO = 2.0


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
            "ratio_min": min(f("ratio")),
            "ratio_max": max(f("ratio")),
            "gntdp_cycles_per_pkt": statistics.median(f("gntdp_cycles_per_pkt")),
            "gntdp_copy_ops_per_pkt": statistics.median(f("gntdp_copy_ops_per_pkt")),
            "gntdp_copy_ns_per_op": statistics.median(f("gntdp_copy_ns_per_op")),
            "gntdp_lost": sum(int(r["gntdp_lost"]) for r in rs),
            "rounds": len(rs),
            "goal_ratio": GOAL_RATIO,
        }
    lines = open(out + ".txt").read().splitlines()
    doc = {"machine": lines[0], "clock": lines[1],
           "commands": {"gntdp": nbcmd, "vhost": vhcmd},
           "method": __doc__.split("\n\n", 2)[2].strip(),
           "rounds": rows, "summary": res}
    json.dump(doc, open(out + ".json", "w"), indent=1)
    for s in sizes:
        m = res[s]
        print("%5d B: gntdp-netback / vhost-user = %.2f, the median of %d same-round pair ratios "
              "(%.2f-%.2f; goal %.1f); run medians %.2f / %.2f Mpps; best samples %.2f / %.2f Mpps "
              "(not a pair: %.2f); gntdp %.0f TSC cycles/pkt, %.2f copy ops/pkt, "
              "%.1f ns/copy op, %d lost"
              % (s, m["ratio_median_of_rounds"], m["rounds"], m["ratio_min"], m["ratio_max"], GOAL_RATIO,
                 m["gntdp_median_mpps"], m["vhost_median_mpps"], m["gntdp_peak_mpps"],
                 m["vhost_peak_mpps"], m["ratio_peak"], m["gntdp_cycles_per_pkt"],
                 m["gntdp_copy_ops_per_pkt"], m["gntdp_copy_ns_per_op"], m["gntdp_lost"]))
    dat = out + ".dat"
    with open(dat, "w") as fh:
        for s in sizes:
            m = res[s]
            fh.write("%d %f %f %f %f %f\n" % (s, m["gntdp_peak_mpps"], m["vhost_peak_mpps"],
                                             m["ratio_median_of_rounds"], m["gntdp_median_mpps"],
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
plot "%(dat)s" using 5:xtic(1) title "gntdp-netback, median of rounds" lc rgb "#1f77b4", \\
     "" using 6 title "vhost-user / virtio-user (testpmd), median of rounds" lc rgb "#ff7f0e", \\
     "" using 2 title "gntdp-netback, best sample" lc rgb "#9ecae1", \\
     "" using 3 title "vhost-user, best sample" lc rgb "#fdd0a2", \\
     "" using ($0 - 0.3):($5):(sprintf("%%.2fx (median pair ratio)", $4)) with labels offset 0,1 notitle
""" % {"png": out + ".png", "dat": dat, "date": os.path.basename(out).replace("netback-", "")}
    try:
        subprocess.run(["gnuplot"], input=gp.encode(), check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("no plot: %s" % e)
    os.unlink(dat)


if __name__ == "__main__":
    main()
