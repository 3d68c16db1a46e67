#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gntdp-run and the libxenctrl shim, against a gntdpd and a gntdp-xenstored
# started here (suite xen):
#   - the environment a program gets (GNTDP_DOMID, GNTDP_SOCKET,
#     XENSTORED_PATH, LD_LIBRARY_PATH first build/xen), its exit status;
#   - a new domain introduced to the xenstore server (Debian's xenstore-read
#     of "domid" answers N; dom0 sees /local/domain/N);
#   - clear errors: no daemon, no xenstore server, a bad domid, no program;
#   - xc_domain_getinfo through the shim, from a program built against
#     Debian's <xenctrl.h> and linked to libxenctrl.so.4.17: a bound domain
#     (running), the first domain at or above a free domid, ESRCH above the
#     last, gone once its process exits; xc_domain_getinfolist the same in
#     the domctl layout; another xc_* call fails with ENOSYS.
#
#   xen_run.sh GNTDPD XENSTORED GNTDP_RUN CONFIG XC_INFO BIND_WAIT
set -u
GNTDPD=$1 XENSTORED=$2 GNTDP_RUN=$3 CONFIG=$4 XC_INFO=$5 BIND_WAIT=$6
# shellcheck source=tests/xen/xenlib.sh
. "$(dirname "$0")/xenlib.sh"
XENLIB=$(cd "$(dirname "$GNTDP_RUN")/../../xen" && pwd)

# check NAME EXPECTED CMD...: stdout (and exit 0) as expected.
check() {
	local name=$1 want=$2 got
	shift 2
	if got=$("$@" 2>&1) && [ "$got" = "$want" ]; then
		ok "$name"
	else
		bad "$name: got '$got', expected '$want'"
	fi
}
# fails_with NAME STATUS TEXT CMD...: exits STATUS, stderr has TEXT.
fails_with() {
	local name=$1 st=$2 text=$3 rc
	shift 3
	"$@" >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq "$st" ] && grep -q -- "$text" "$T/out"; then
		ok "$name"
	else
		bad "$name: status $rc, expected $st with '$text': $(cat "$T/out")"
	fi
}

xen_start

# ---- the environment ----
env_of() { as 7 env | grep -E "^$1=" | cut -d= -f2-; }
check "GNTDP_DOMID" 7 env_of GNTDP_DOMID
check "GNTDP_SOCKET" "$T/gntdpd.sock" env_of GNTDP_SOCKET
check "XENSTORED_PATH" "$T/xs/dom7" env_of XENSTORED_PATH
check "LD_LIBRARY_PATH" "$XENLIB:/x" env LD_LIBRARY_PATH=/x "$GNTDP_RUN" --socket \
	"$T/gntdpd.sock" --xenstore "$T/xs" --domid 7 -- printenv LD_LIBRARY_PATH
check "the program's options are its own" "x" as 7 echo -n x
as 7 sh -c 'exit 5'
[ $? -eq 5 ] && ok "the program's exit status" || bad "exit status: not 5"
check "GNTDP_SOCKET from the environment" "$T/gntdpd.sock" env GNTDP_SOCKET="$T/gntdpd.sock" \
	"$GNTDP_RUN" --xenstore "$T/xs" --domid 7 -- printenv GNTDP_SOCKET

# ---- xenstore: introduction ----
check "xenstore-read domid as domain 8 (introduced)" 8 as 8 xenstore-read domid
check "dom0 sees domain 8" 8 as 0 xenstore-read /local/domain/8/domid
check "introduced again: still served" 8 as 8 xenstore-read domid
check "dom0" 0 as 0 xenstore-read domid

# ---- errors ----
fails_with "no daemon" 1 "gntdpd does not answer on $T/none" "$GNTDP_RUN" --socket "$T/none" \
	--xenstore "$T/xs" --domid 3 -- true
fails_with "no xenstore server" 1 "no gntdp-xenstored serves $T/none" "$GNTDP_RUN" --socket \
	"$T/gntdpd.sock" --xenstore "$T/none" --domid 3 -- true
fails_with "domid out of range" 2 "not a domid" as 32752 true
fails_with "domid not a number" 2 "not a domid" as 3x true
fails_with "no --domid" 2 "--domid N is required" "$GNTDP_RUN" --socket "$T/gntdpd.sock" -- true
fails_with "no program" 2 "no PROGRAM" "$GNTDP_RUN" --domid 3 --
fails_with "program not found" 127 "no-such-program: No such file" as 3 no-such-program
fails_with "program not executable" 126 "Permission denied" as 3 "$T/xs.out"
fails_with "--help" 0 "usage: gntdp-run" "$GNTDP_RUN" --help

# ---- libxenctrl through the shim ----
if [ -z "$XC_INFO" ]; then
	skip "xc_domain_getinfo: tests/xen/xc_info not built (no <xenctrl.h>: apt-get install libxen-dev)"
else
	mkfifo "$T/hold"
	as 40 "$BIND_WAIT" <"$T/hold" >"$T/bound" 2>&1 &
	BPID=$!
	PIDS+=($BPID)
	exec 9>"$T/hold"
	if wait_line "$T/bound" bound; then
		check "xc_domain_getinfo: a bound domain" \
			"domid=40 dying=0 running=1 paused=0 nr_pages=32 max_memkb=128" as 3 "$XC_INFO" 40
		check "xc_domain_getinfo: the first at or above" \
			"domid=40 dying=0 running=1 paused=0 nr_pages=32 max_memkb=128" as 3 "$XC_INFO" 39
		check "xc_domain_getinfo: none above the last" "error errno=ESRCH" as 3 "$XC_INFO" 41
		check "another xc_* call: ENOSYS" \
			"$(printf 'error errno=ESRCH\nxc_domain_pause errno=ENOSYS')" as 3 "$XC_INFO" 41 1 pause
		check "xc_domain_getinfolist: domain 40 (running, 32 pages)" \
			"$(printf 'domain=40 flags=0x20 tot_pages=32\ncount=1')" as 3 "$XC_INFO" 1 8 list
		check "xc_domain_getinfolist: none above: a count of 0" "count=0" \
			as 3 "$XC_INFO" 41 8 list
		exec 9>&-
		wait_exit "$BPID" 5
		check "xc_domain_getinfo: gone when its process exits" "error errno=ESRCH" \
			as 3 "$XC_INFO" 40
	else
		bad "bind_wait did not bind domain 40: $(cat "$T/bound")"
		exec 9>&-
	fi
	got=$(env GNTDP_SOCKET="$T/none" LD_LIBRARY_PATH="$XENLIB" "$XC_INFO" 1)
	rc=$?
	if [ $rc -eq 1 ] && [ "$got" = "open errno=ENOENT" ]; then
		ok "xc_interface_open without a daemon: NULL, ENOENT"
	else
		bad "xc_interface_open without a daemon: status $rc, '$got'"
	fi
fi

[ $fails -eq 0 ] && echo "xen_run: all passed" || echo "xen_run: $fails failed"
exit $((fails > 0))
