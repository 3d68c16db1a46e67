# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared by the xen suite's scripts (source it): a private directory, a
# gntdpd and a gntdp-xenstored started on it, result lines, clean-up of
# every process started. Needs: GNTDPD, XENSTORED, CONFIG set by the caller.
#
#   xen_start       start both servers on $T (sockets $T/gntdpd.sock, $T/xs)
#   as DOM CMD...   run CMD as domain DOM through gntdp-run
#   bg NAME CMD...  start CMD in the background, remembered for clean-up; its pid in $NAME
#   ok/bad/skip     one result line each; $fails counts the bad ones
set -u
T=$(mktemp -d /tmp/gntdp-xen.XXXXXX)
chmod 755 "$T"
fails=0
PIDS=()
DPID=""
XPID=""

ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*"
	fails=$((fails + 1))
}
skip() { echo "SKIP $*"; }

xen_cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "$XPID" ] && kill "$XPID" 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	wait 2>/dev/null
	if [ "$fails" -eq 0 ]; then
		rm -rf "$T"
	else
		echo "(logs in $T)"
		tail -n 30 "$T/gntdpd.log" 2>/dev/null | sed 's/^/gntdpd: /'
	fi
}
trap xen_cleanup EXIT

# bg VAR CMD...: start CMD in the background; its pid in VAR.
bg() {
	local var=$1
	shift
	"$@" &
	PIDS+=($!)
	printf -v "$var" '%s' "$!"
}

# wait_line FILE TEXT [TENTHS]: TEXT appears in FILE within TENTHS/10 s (default 100).
wait_line() {
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_exit PID SECONDS: PID exits within SECONDS; its status in $WAITED (124: it did not).
wait_exit() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"
			WAITED=$?
			return 0
		fi
		sleep 0.1
	done
	WAITED=124
	return 1
}

# stacks PID...: with GNTDP_XEN_STACKS=1, every thread's backtrace of each
# PID (and of its children) into $T/stacks, for a case that hangs.
stacks() {
	[ "${GNTDP_XEN_STACKS:-0}" = 1 ] && command -v gdb >/dev/null || return 0
	local p
	for p in "$@" $(for q in "$@"; do pgrep -P "$q"; done); do
		echo "=== pid $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)" >>"$T/stacks"
		grep -E 'libxen|libgntdp' /proc/"$p"/maps >>"$T/stacks" 2>/dev/null
		# Each fd with its fdinfo: an epoll fd lists its targets and their
		# armed events (a port masked by EPOLLONESHOT shows no events), an
		# eventfd its count.
		for f in /proc/"$p"/fd/*; do
			echo "fd ${f##*/} -> $(readlink "$f")"
			grep -E "^(tfd|eventfd-count|eventfd-id|flags)" /proc/"$p"/fdinfo/"${f##*/}" 2>/dev/null | sed 's/^/    /'
		done >>"$T/stacks" 2>/dev/null
		# The first 32 bytes of each one-page shared mapping (a vchan ring page).
		python3 - "$p" >>"$T/stacks" 2>&1 <<'EOP'
import sys
pid = sys.argv[1]
for line in open("/proc/%s/maps" % pid):
    f = line.split()
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    if hi - lo == 4096 and f[1][3] == "s":
        with open("/proc/%s/mem" % pid, "rb") as m:
            m.seek(lo)
            print("page %x %s: %s" % (lo, f[-1], m.read(32).hex(" ")))
EOP
		timeout 30 gdb -p "$p" -batch -ex 'thread apply all bt' -ex 'frame function main' -ex 'info locals' -ex 'p *p.v' -ex 'p *p.v->ring' >>"$T/stacks" 2>&1
	done
	echo "(stacks in $T/stacks)"
}

xen_start() {
	"$GNTDPD" --config "$CONFIG" --set "socket.path=$T/gntdpd.sock" >"$T/gntdpd.log" 2>&1 &
	DPID=$!
	"$XENSTORED" --dir "$T/xs" >"$T/xs.out" 2>"$T/xs.err" &
	XPID=$!
	local i
	for ((i = 0; i < 300; i++)); do
		if [ -S "$T/gntdpd.sock" ] && grep -q ready "$T/xs.out" 2>/dev/null &&
			as 0 true 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$DPID" 2>/dev/null; then
			wait "$DPID"
			local st=$?
			DPID=""
			echo "gntdpd exited ($st) before listening:"
			cat "$T/gntdpd.log"
			[ $st -eq 77 ] && exit 77
			exit 1
		fi
		sleep 0.1
	done
	echo "FAIL: gntdpd or gntdp-xenstored did not start"
	cat "$T/gntdpd.log" "$T/xs.err"
	exit 1
}

as() {
	local dom=$1
	shift
	"$GNTDP_RUN" --socket "$T/gntdpd.sock" --xenstore "$T/xs" --domid "$dom" -- "$@"
}
