#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a libFuzzer binary for a bounded time over a scratch copy of its seed
# corpus (the checked-in corpus is never modified; new inputs are dropped).
# Usage: run_fuzz.sh <fuzzer> <corpus-dir> [seconds]
# A crash or broken invariant leaves crash-* / timeout-* files in the
# current directory and a non-zero exit status.
set -eu
fuzzer=$1
corpus=$2
secs=${3:-60}
work=$(mktemp -d "${TMPDIR:-/tmp}/gntdp-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cp "$corpus"/* "$work"/ 2>/dev/null || true
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work"
