#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's unmodified xenstore-utils (xenstore-read, -write, -ls, -rm,
# -exists, -list, -chmod, -watch from /usr/bin) against gntdp-xenstored,
# each client pointed at its domain's socket with XENSTORED_PATH.
#
#   xs_utils.sh XENSTORED
#
# Skips (77) when xenstore-utils is not installed. Every check prints one
# line; the exit status is 1 when one failed.
set -u
XSD=${1:?usage: xs_utils.sh XENSTORED}
X=/usr/bin
for t in read write ls rm exists list chmod watch; do
	if [ ! -x "$X/xenstore-$t" ]; then
		echo "SKIP: $X/xenstore-$t missing (apt-get install xenstore-utils)"
		exit 77
	fi
done

TMP=$(mktemp -d)
PID=""
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
S=$TMP/s
fails=0

ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*"
	fails=$((fails + 1))
}
# as DOM CMD ARGS...: run xenstore-CMD as domain DOM.
as() {
	local dom=$1 cmd=$2
	shift 2
	XENSTORED_PATH=$S/dom$dom timeout 10 "$X/xenstore-$cmd" "$@"
}
# check NAME EXPECTED COMMAND...: the command's stdout is EXPECTED (and it exits 0).
check() {
	local name=$1 want=$2 got
	shift 2
	if got=$("$@" 2>&1) && [ "$got" = "$want" ]; then
		ok "$name"
	else
		bad "$name: got '$got', expected '$want'"
	fi
}
# denied NAME COMMAND...: the command fails.
denied() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then bad "$name: allowed"; else ok "$name"; fi
}

"$XSD" --dir "$S" --domain 1,2 >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 100); do
	grep -q ready "$TMP/out" 2>/dev/null && break
	sleep 0.05
done
grep -q ready "$TMP/out" || {
	cat "$TMP/err"
	echo "FAIL: the server did not start"
	exit 1
}

# ---- read, write, exists, list, ls, rm (dom0) ----
as 0 write /t/a 1 /t/b/c 2 || bad "write"
check "read" 1 as 0 read /t/a
check "read, implicit parent" "" as 0 read /t/b
check "read two" "$(printf '1\n2')" as 0 read /t/a /t/b/c
check "exists" "" as 0 exists /t/b/c
denied "exists (absent)" as 0 exists /t/none
check "list" "$(printf 'a\nb')" as 0 list /t
check "ls" "$(printf 'a = "1"\nb = ""\n c = "2"')" as 0 ls /t
check "ls -f" "$(printf '/t/a = "1"\n/t/b = ""\n/t/b/c = "2"')" as 0 ls -f /t
as 0 rm /t/b || bad "rm"
denied "rm: gone" as 0 exists /t/b/c
check "rm: the rest stays" a as 0 list /t
denied "read (absent)" as 0 read /t/b

# A directory past the 4096-byte payload: libxenstore falls back to DIRECTORY_PART.
args=()
for i in $(seq -w 1 150); do args+=("/big/child-$i-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" 1); done
as 0 write "${args[@]}" || bad "write 150 nodes"
check "list: 150 children (7 KB, DIRECTORY_PART)" "150 child-150-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" \
	sh -c "XENSTORED_PATH=$S/dom0 $X/xenstore-list /big | awk 'END { print NR, \$0 }'"

# Two writers at once, each creating nodes under one parent in its own
# transaction (xenstore-write uses one): a conflict, when the two overlap,
# answers EAGAIN and the client retries; every node must arrive. (EAGAIN
# itself is asserted by xs_proto.py.)
for w in 1 2; do
	(for i in $(seq 40); do as 0 write "/conc/w$w-$i" "$i" || exit 1; done) &
	eval "writer$w=\$!"
done
# shellcheck disable=SC2154 # writer1, writer2: set by eval
if wait "$writer1" && wait "$writer2"; then ok "concurrent writers"; else bad "concurrent writers"; fi
check "concurrent writers: every node" 80 sh -c "XENSTORED_PATH=$S/dom0 $X/xenstore-list /conc | wc -l"

# ---- a domain: its home, relative paths, seeded domid ----
check "domU domid" 1 as 1 read domid
check "domU domid (absolute)" 2 as 2 read /local/domain/2/domid
as 1 write data/x hello || bad "domU write"
check "domU write seen by dom0" hello as 0 read /local/domain/1/data/x
denied "domU writes its domid" as 1 write domid 7
denied "domU writes /" as 1 write /evil 1

# ---- permissions (chmod) ----
denied "dom2 reads dom1's node" as 2 read /local/domain/1/data/x
denied "dom2 writes dom1's node" as 2 write /local/domain/1/data/x no
denied "dom2 lists dom1's home" as 2 list /local/domain/1
denied "dom2 rm dom1's node" as 2 rm /local/domain/1/data/x
as 1 chmod data/x n1 r2 || bad "chmod"
check "chmod: dom2 reads" hello as 2 read /local/domain/1/data/x
denied "chmod: dom2 still may not write" as 2 write /local/domain/1/data/x no
as 1 chmod data/x n1 b2 || bad "chmod b"
as 2 write /local/domain/1/data/x from2 || bad "chmod b: dom2 writes"
check "chmod b: dom1 sees it" from2 as 1 read data/x
denied "chmod: a domain may not give a node away" as 1 chmod data/x n2
as 1 write data/y/z 1 || bad "write data/y/z"
as 1 chmod -r data/y n1 r2 || bad "chmod -r"
check "chmod -r: below too" 1 as 2 read /local/domain/1/data/y/z
check "ls -p" "$(printf 'z = "1"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n1,r2)')" \
	as 1 ls -p data/y
check "dom0 reads everything" from2 as 0 read /local/domain/1/data/x
as 0 chmod /local/domain/1/data/x n2 || bad "dom0 chmod gives away"
denied "after dom0's chmod: dom1 denied" as 1 read data/x
check "dom0 via XENSTORED_RUNDIR" 1 env -u XENSTORED_PATH XENSTORED_RUNDIR="$S" \
	timeout 10 "$X/xenstore-read" /local/domain/1/domid

# ---- watch ----
# wait_lines FILE N: until FILE has N lines (5 s at most).
wait_lines() {
	for _ in $(seq 100); do
		[ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
as 1 write w "" || bad "write w"
# (-n N: exit after N events, the initial one included; as: a 10 s timeout)
(as 1 watch -n 3 w >"$TMP/watch" 2>&1; echo "rc=$?" >>"$TMP/watch") &
wait_lines "$TMP/watch" 1 || bad "watch: no initial event"
as 1 write wx 1 || bad "write wx"
as 1 write w/x 2 || bad "write w/x"
as 0 write /local/domain/1/w/y/z 3 || bad "write w/y/z"
wait_lines "$TMP/watch" 4
check "watch: initial event, children fire the parent, wx does not" \
	"$(printf 'w\nw/x\nw/y/z\nrc=0')" cat "$TMP/watch"
(as 0 watch -n 2 /local/domain/1/w >"$TMP/watch0" 2>&1; echo "rc=$?" >>"$TMP/watch0") &
wait_lines "$TMP/watch0" 1 || bad "watch (dom0): no initial event"
as 1 rm w || bad "rm w"
wait_lines "$TMP/watch0" 3
check "watch: rm fires" "$(printf '/local/domain/1/w\n/local/domain/1/w\nrc=0')" \
	cat "$TMP/watch0"
# dom2 may not read dom1's w: the initial event only, then a timeout.
as 1 write w2 "" || bad "write w2"
(XENSTORED_PATH=$S/dom2 timeout 2 "$X/xenstore-watch" -n 2 /local/domain/1/w2 \
	>"$TMP/watch2" 2>&1; echo "rc=$?" >>"$TMP/watch2") &
wait_lines "$TMP/watch2" 1 || bad "watch (dom2): no initial event"
as 1 write w2/x 1 || bad "write w2/x"
wait_lines "$TMP/watch2" 2
check "watch: a domain does not see what it may not read" \
	"$(printf '/local/domain/1/w2\nrc=124')" cat "$TMP/watch2"
# The special watch paths (their events need INTRODUCE/RELEASE: xs_proto.py).
as 0 watch -n 1 @releaseDomain >"$TMP/watchr" 2>&1
check "watch @releaseDomain: initial event" @releaseDomain cat "$TMP/watchr"

# ---- the command line ----
# exits STATUS NAME ARGS...: gntdp-xenstored ARGS exits with STATUS.
exits() {
	local want=$1 name=$2 rc
	shift 2
	timeout 10 "$XSD" "$@" >"$TMP/cli" 2>&1
	rc=$?
	if [ $rc -eq "$want" ]; then ok "$name"; else bad "$name: exit $rc, expected $want"; fi
}
exits 2 "cli: domain 0 in --domain" --dir "$TMP/x" --domain 0 --dry-run
exits 2 "cli: reserved domid" --dir "$TMP/x" --domain 32752 --dry-run
exits 2 "cli: junk in --domain" --dir "$TMP/x" --domain 1,x --dry-run
exits 2 "cli: negative quota" --dir "$TMP/x" --quota-nodes -1 --dry-run
exits 2 "cli: unknown option" --dir "$TMP/x" --bogus
exits 0 "cli: --dry-run" --dir "$TMP/x" --domain 3,4 --quota-watches 7 --dry-run
check "cli: --dry-run prints the effective config" 1 \
	sh -c "grep -c 'domains=0,3,4 .*watches=7 transactions=10' '$TMP/cli'"
exits 1 "cli: a second server on a live directory" --dir "$S"
check "cli: the first server still serves" 1 as 0 read /local/domain/1/domid

# ---- SIGTERM: clean exit, sockets removed ----
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=""
if [ $rc -eq 0 ] && [ -z "$(ls -A "$S")" ]; then
	ok "SIGTERM: exit 0, sockets removed"
else
	bad "SIGTERM: exit $rc, left: $(ls -A "$S" | tr '\n' ' ')"
fi
sed 's/^/  server: /' "$TMP/err" | tail -n 1
echo "$fails failed"
[ $fails -eq 0 ]
