#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A non-root user with a small RLIMIT_MEMLOCK (issue 8, item 3):
#   1. gntdp-bench with scripts/run.sh's EAL arguments runs (on hugepages if
#      this user may write to the hugetlbfs mount, else --no-huge with one
#      warning line that says why), never ends in "No such device", and
#      leaves no runtime directory behind;
#   2. where EAL cannot start (hugepages required, eal_huge_on), one line
#      names the limit and the remedies: ulimit -l, --no-huge.
# Runs as nobody (setpriv) under prlimit --memlock=64 KiB; needs root to get
# there, else it skips (77).
#
#   eal_nonroot.sh SRCDIR GNTDP_BENCH EAL_HUGE_ON
set -u
src=$1
bench=$2
huge_on=$3
skip() {
	echo "SKIP: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root to switch to an unprivileged user (running as uid $(id -u))"
if ! command -v setpriv >/dev/null || ! command -v prlimit >/dev/null; then
	skip "setpriv and prlimit (util-linux) are not installed"
fi
user=nobody
group=$(id -gn nobody 2>/dev/null) || skip "no user nobody"
uid=$(id -u $user)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gntdp-eal-nonroot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
# EAL's runtime directory for a non-root user: $XDG_RUNTIME_DIR/dpdk/<prefix>.
mkdir "$tmp/xdg"
chown $user "$tmp/xdg"
as_user() {
	env -u RUNTIME_DIRECTORY XDG_RUNTIME_DIR="$tmp/xdg" \
		prlimit --memlock=65536 setpriv --reuid=$user --regid="$group" --clear-groups -- "$@"
}
for f in "$bench" "$huge_on" "$src/configs/default.ini"; do
	as_user test -r "$f" || skip "$user cannot read $f"
done
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
if [ "$(nproc)" -ge 2 ]; then lcores=(-l 0-1); else lcores=(--lcores='(0-1)@0'); fi

# 1. The main job as nobody.
p=nonroot$$-bench
as_user "$bench" "${lcores[@]}" --file-prefix=$p -- --config "$src/configs/default.ini" \
	--set run.duration=0.5 --set run.warmup=0 --set run.raw_copy=off --set run.progress=off \
	>"$tmp/bench.out" 2>&1
rc=$?
grep '^gntdp:' "$tmp/bench.out"
[ $rc -eq 0 ] || { fail "gntdp-bench as $user exited $rc:"; tail -n 8 "$tmp/bench.out"; }
grep -q 'No such device' "$tmp/bench.out" && fail "gntdp-bench as $user: 'No such device'"
if ! as_user test -w /dev/hugepages 2>/dev/null && [ -d /dev/hugepages ] &&
	grep -q '^[^ ]* /dev/hugepages hugetlbfs' /proc/mounts; then
	grep -q "^gntdp: WARNING: no write access to hugetlbfs /dev/hugepages as user $uid; running EAL with --no-huge" \
		"$tmp/bench.out" || fail "no warning naming the unwritable hugetlbfs mount"
fi
[ -e "$tmp/xdg/dpdk/$p" ] && fail "runtime directory $tmp/xdg/dpdk/$p left behind: $(ls -A "$tmp/xdg/dpdk/$p")"

# 2. Hugepages required: EAL fails, and says why in one line.
p=nonroot$$-on
as_user "$huge_on" "${lcores[@]}" --file-prefix=$p --log-level='lib.*:error' >"$tmp/on.out" 2>&1
rc=$?
cat "$tmp/on.out"
case $rc in
0)
	n=$(grep -c '^gntdp: ERROR: .*RLIMIT_MEMLOCK' "$tmp/on.out")
	[ "$n" -eq 1 ] || fail "$n RLIMIT_MEMLOCK lines, expected 1"
	line=$(grep '^gntdp: ERROR: .*RLIMIT_MEMLOCK' "$tmp/on.out")
	for want in "non-root user $uid" "RLIMIT_MEMLOCK 64 KiB" "ulimit -l" "--no-huge"; do
		grep -qF -- "$want" <<<"$line" || fail "the RLIMIT_MEMLOCK line lacks '$want'"
	done
	grep -q 'No such device$' "$tmp/on.out" && ! grep -q RLIMIT_MEMLOCK "$tmp/on.out" &&
		fail "a bare 'No such device'"
	;;
2) echo "note: $user may use hugepages here; no failure to explain" ;;
*) fail "eal_huge_on exited $rc" ;;
esac
[ -e "$tmp/xdg/dpdk/$p" ] && fail "runtime directory $tmp/xdg/dpdk/$p left behind after a failed start"

[ $fails -eq 0 ] || exit 1
echo "PASS"
