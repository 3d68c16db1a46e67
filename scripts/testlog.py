#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Summarise a scripts/test.sh run from meson's JSON test logs.

Usage: testlog.py MANIFEST

MANIFEST has one tab-separated line per step test.sh took:
    run <build dir> <suite> <testlog json> <meson test exit code>
    buildfail <build dir> <stage> <log hint>

Prints a per-suite table, the skipped tests with the reason each printed,
the failed tests, and as the very last line "N passed, N failed, N skipped".
Exit status: 1 when anything failed, else 0.
"""
import json
import os
import sys

PASSED = {"OK", "EXPECTEDFAIL"}
FAILED = {"FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS", "INTERRUPT"}
SKIPPED = {"SKIP"}


def short_name(name):
    """'gntdp:unit+dp / copy' -> 'copy'."""
    return name.split(" / ", 1)[1] if " / " in name else name


def skip_reason(entry):
    """The line a skipped test printed to say why (tests print it on stdout)."""
    for stream in ("stdout", "stderr"):
        lines = [ln.strip() for ln in (entry.get(stream) or "").splitlines() if ln.strip()]
        for ln in reversed(lines):
            if "skip" in ln.lower():
                return ln
        if lines:
            return lines[-1]
    return "(the test printed no reason)"


def read_log(path):
    entries = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line:
                entries.append(json.loads(line))
    return entries


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows, skipped, failed = [], [], []
    totals = [0, 0, 0]

    with open(sys.argv[1], encoding="utf-8") as f:
        steps = [ln.rstrip("\n").split("\t") for ln in f if ln.strip()]

    for step in steps:
        if step[0] == "buildfail":
            _, bdir, stage, hint = step
            rows.append((bdir, "(" + stage + ")", 0, 1, 0, stage + " failed, see " + hint))
            failed.append("%s: %s failed (see %s)" % (bdir, stage, hint))
            totals[1] += 1
            continue
        _, bdir, suite, path, rc = step
        counts = [0, 0, 0]
        note = ""
        entries = read_log(path) if os.path.exists(path) else []
        for e in entries:
            name = "%s/%s/%s" % (bdir, suite, short_name(e.get("name", "?")))
            result = e.get("result", "ERROR")
            if result in PASSED:
                counts[0] += 1
            elif result in SKIPPED:
                counts[2] += 1
                skipped.append("%s: %s" % (name, skip_reason(e)))
            else:
                counts[1] += 1
                failed.append("%s (%s, exit %s)" % (name, result, e.get("returncode")))
        if not entries:
            note = "no tests"
        if int(rc) != 0 and counts[1] == 0:
            # meson test failed without a failing test in its log: count it.
            counts[1] += 1
            failed.append("%s/%s: meson test exited %s" % (bdir, suite, rc))
            note = "meson test error"
        rows.append((bdir, suite, counts[0], counts[1], counts[2], note))
        for i in range(3):
            totals[i] += counts[i]

    print()
    print("== test results ==")
    print("%-12s %-13s %7s %7s %8s" % ("build dir", "suite", "passed", "failed", "skipped"))
    for bdir, suite, p, fl, s, note in rows:
        line = "%-12s %-13s %7d %7d %8d" % (bdir, suite, p, fl, s)
        print(line + ("   " + note if note else ""))
    if skipped:
        print("skipped:")
        for s in skipped:
            print("  " + s)
    if failed:
        print("failed:")
        for s in failed:
            print("  " + s)
    print("%d passed, %d failed, %d skipped" % tuple(totals))
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
