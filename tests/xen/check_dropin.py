#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A gntdp drop-in library against Debian's (readelf --dyn-syms, readelf -V).

  check_dropin.py OURS DEBIANS

Checks that OURS has DEBIANS' soname, the same version definitions with the
same parents (VERS_1.0 <- VERS_1.1 <- ...), and exports exactly the same
symbols: each name with its type (FUNC, OBJECT), its version and whether
that version is the default (@@), objects with the same size. One line per
difference; exit 0 same, 1 different, 77 when Debian's library is absent.
"""
import os
import subprocess
import sys


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], check=True, capture_output=True,
                          text=True).stdout


def soname(lib):
    for line in readelf("-d", lib).splitlines():
        if "(SONAME)" in line:
            return line.split("[", 1)[1].rstrip("]")
    return None


def verdefs(lib):
    """{name: parent or None}, without the BASE entry (the soname)."""
    out, defs, cur = readelf("-V", lib), {}, None
    section = False
    for line in out.splitlines():
        if "Version definition section" in line:
            section = True
            continue
        if section and ("Version needs section" in line or "Version symbols" in line):
            break
        if not section:
            continue
        if "Name:" in line:
            cur = None if "Flags: BASE" in line else line.split("Name:")[1].strip()
            if cur:
                defs[cur] = None
        elif "Parent 1:" in line and cur:
            defs[cur] = line.split("Parent 1:")[1].strip()
    return defs


def exports(lib):
    """{name@ver or name@@ver: (type, size)} of the defined global symbols."""
    syms = {}
    for line in readelf("--dyn-syms", lib).splitlines():
        f = line.split()
        if len(f) < 8 or not f[0].endswith(":") or f[6] == "UND" or f[4] == "LOCAL":
            continue
        name = f[7]
        base, _, ver = name.replace("@@", "@").partition("@")
        if base == ver:
            continue  # the version definition's own ABS symbol
        syms[name] = (f[3], int(f[2], 0) if f[3] == "OBJECT" else 0)
    return syms


def main():
    ours, debians = sys.argv[1:3]
    if not os.path.exists(debians):
        print(f"SKIP: {debians} not installed (apt-get install libxen-dev / the library package)")
        return 77
    bad = 0

    def fail(msg):
        nonlocal bad
        print("FAIL " + msg)
        bad += 1

    if soname(ours) != soname(debians):
        fail(f"soname: ours {soname(ours)}, Debian's {soname(debians)}")
    vo, vd = verdefs(ours), verdefs(debians)
    if vo != vd:
        fail(f"version definitions: ours {vo}, Debian's {vd}")
    so, sd = exports(ours), exports(debians)
    for n in sorted(set(sd) - set(so)):
        fail(f"missing: {n} ({sd[n][0]})")
    for n in sorted(set(so) - set(sd)):
        fail(f"extra: {n} ({so[n][0]})")
    for n in sorted(set(so) & set(sd)):
        if so[n] != sd[n]:
            fail(f"{n}: ours {so[n]}, Debian's {sd[n]}")
    print(f"{'FAIL' if bad else 'ok'}: {os.path.basename(ours)}: soname {soname(ours)}, "
          f"{len(vd)} version(s) {', '.join(vd)}, {len(sd)} symbols, {bad} difference(s)")
    return 1 if bad else 0


sys.exit(main())
