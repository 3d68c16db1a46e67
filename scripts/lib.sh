# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared by scripts/run.sh and scripts/test.sh (source it, bash only):
# packages, hugepages and meson build directories. It defines functions and
# variables and runs nothing by itself.
#
# Written for a fresh Debian 12 machine as root with nothing installed, so it
# only uses coreutils, dpkg and apt-get until the packages are in.

# Everything the build, the tests and the benchmark scripts use.
# libclang-rt-14-dev carries libFuzzer and clang's sanitizer runtimes;
# llvm gives llvm-symbolizer for sanitizer stack traces; util-linux gives
# mountpoint and setarch; xenstore-utils gives Debian's unmodified xenstore
# clients that tests/xenstore runs against gntdp-xenstored; libxenmisc4.17
# gives Debian's libxenvchan, which the xen suite runs on gntdp's drop-ins
# (vchan-socket-proxy is fetched by tests/xen/fetch-proxy.sh, not installed).
GNTDP_PACKAGES=(
	build-essential pkg-config meson ninja-build
	dpdk dpdk-dev libdpdk-dev libnuma-dev libxen-dev libinih-dev libpcap-dev xenstore-utils libxenmisc4.17
	clang llvm libclang-rt-14-dev
	python3 python3-pyelftools python3-scapy gnuplot-nox tcpdump util-linux
)
# 2 MiB hugepages the data plane wants reserved, and the fewest free ones it can live with.
GNTDP_HUGEPAGES=512
GNTDP_HUGEPAGES_MIN_FREE=256

log() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
	printf 'ERROR: %s\n' "$*" >&2
	exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Print the packages of GNTDP_PACKAGES that dpkg does not list as installed.
gntdp_missing_packages() {
	local p
	for p in "${GNTDP_PACKAGES[@]}"; do
		case "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" in
		ii*) ;;
		*) printf '%s\n' "$p" ;;
		esac
	done
}

# Install what is missing. apt-get update runs only when something is.
gntdp_install_deps() {
	local missing aptlog tool

	if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
		warn "no dpkg/apt-get: not Debian; install the equivalents of: ${GNTDP_PACKAGES[*]}"
	else
		missing=$(gntdp_missing_packages | tr '\n' ' ')
		missing=${missing% }
		if [ -n "$missing" ]; then
			is_root || die "missing packages: $missing
  as root run: apt-get update && apt-get install -y $missing"
			aptlog=${TMPDIR:-/tmp}/gntdp-apt.log
			log "installing $missing (log: $aptlog)"
			export DEBIAN_FRONTEND=noninteractive
			# shellcheck disable=SC2086 # $missing is a list of package names
			if ! { apt-get update -q &&
				apt-get install -y -q --no-install-recommends $missing; } \
				>"$aptlog" 2>&1 </dev/null; then
				tail -n 20 "$aptlog" >&2
				warn "apt-get failed; still missing: $(gntdp_missing_packages | tr '\n' ' ')"
			fi
		fi
	fi
	for tool in meson ninja cc pkg-config python3; do
		command -v "$tool" >/dev/null 2>&1 || die "$tool not found after installing packages"
	done
}

# Reserve GNTDP_HUGEPAGES 2 MiB pages and mount hugetlbfs on /dev/hugepages.
# If that cannot be had, print one warning and export GNTDP_NO_HUGE=1: the
# apps and tests then run EAL with --no-huge. GNTDP_NO_HUGE=1 set by the
# caller forces that mode.
gntdp_prepare_hugepages() {
	local sys=/sys/kernel/mm/hugepages/hugepages-2048kB reason="" have free

	if [ "${GNTDP_NO_HUGE:-0}" = 1 ]; then
		log "GNTDP_NO_HUGE=1: EAL runs with --no-huge"
		export GNTDP_NO_HUGE
		return 0
	fi
	if [ ! -d "$sys" ]; then
		reason="the kernel has no 2 MiB hugepages"
	else
		have=$(cat "$sys/nr_hugepages")
		if [ "$have" -lt "$GNTDP_HUGEPAGES" ] && is_root; then
			echo "$GNTDP_HUGEPAGES" >"$sys/nr_hugepages" 2>/dev/null
			have=$(cat "$sys/nr_hugepages")
		fi
		if ! mountpoint -q /dev/hugepages 2>/dev/null && is_root; then
			mkdir -p /dev/hugepages &&
				mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages 2>/dev/null
		fi
		free=$(cat "$sys/free_hugepages")
		if [ "$have" -lt "$GNTDP_HUGEPAGES" ]; then
			reason="$have of $GNTDP_HUGEPAGES 2 MiB pages reserved"
			is_root || reason="$reason, not root"
		elif ! mountpoint -q /dev/hugepages 2>/dev/null; then
			reason="hugetlbfs is not mounted on /dev/hugepages"
		elif [ "$free" -lt "$GNTDP_HUGEPAGES_MIN_FREE" ]; then
			reason="only $free 2 MiB pages free"
		fi
	fi
	if [ -n "$reason" ]; then
		warn "no hugepages ($reason): apps and tests use --no-huge (GNTDP_NO_HUGE=1)"
		export GNTDP_NO_HUGE=1
	else
		unset GNTDP_NO_HUGE
	fi
}

# The C compiler id (gcc, clang) a configured build directory uses, or nothing.
gntdp_build_cc_id() {
	python3 - "$1/meson-info/intro-compilers.json" <<-'EOF' 2>/dev/null
		import json, sys
		print(json.load(open(sys.argv[1]))["host"]["c"]["id"])
	EOF
}

# gntdp_configure DIR [meson options...]: set up DIR, or reconfigure it with
# these options; CC/CXX come from the environment. werror follows CI=true.
gntdp_configure() {
	local dir=$1 out rc want_cc=gcc
	shift
	local args=("$@")

	if [ "${CI:-}" = true ]; then args+=(-Dwerror=true); else args+=(-Dwerror=false); fi
	case "$(basename "${CC:-cc}")" in clang*) want_cc=clang ;; esac
	out=$(mktemp)
	if [ ! -f "$dir/meson-private/coredata.dat" ]; then
		meson setup "$dir" "${args[@]}" >"$out" 2>&1
	elif [ "$(gntdp_build_cc_id "$dir")" = "$want_cc" ]; then
		meson setup --reconfigure "$dir" "${args[@]}" >"$out" 2>&1
	else
		# The compiler is fixed at setup time; another one needs a fresh directory.
		meson setup --wipe "$dir" "${args[@]}" >"$out" 2>&1
	fi
	rc=$?
	if [ $rc -ne 0 ]; then
		tail -n 40 "$out" >&2
	else
		sed -n '/Features/,/^$/p' "$out" | sed -e '/^ *$/d' -e 's/^/    /'
	fi
	rm -f "$out"
	return $rc
}

# gntdp_compile DIR: build everything; print errors (or a warning digest).
gntdp_compile() {
	local dir=$1 out rc nwarn
	out=$(mktemp)
	# -k 0: report every broken target at once, not just the first.
	ninja -k 0 -C "$dir" >"$out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		grep -v '^\[[0-9]*/[0-9]*\] ' "$out" | tail -n 60 >&2
	else
		nwarn=$(grep -c 'warning:' "$out")
		if [ "$nwarn" -gt 0 ]; then
			warn "$dir: $nwarn compiler warning(s):"
			grep 'warning:' "$out" | sort -u | head -n 20 >&2
		fi
	fi
	rm -f "$out"
	return $rc
}
