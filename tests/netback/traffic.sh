#!/bin/bash
# SPDX-License-Identifier: MIT
# The real-traffic suite (traffic.py) with Debian's python3 and scapy:
# /usr/bin/python3, not whatever python3 is first on PATH (pyenv, venvs
# may lack scapy). Skips (77) with the reason when either is missing.
#
#   traffic.sh [CASE...]      (NETBACK and SRCDIR in the environment)
set -u
py=/usr/bin/python3
if [ ! -x "$py" ]; then
	echo "SKIP: $py is not installed (apt-get install python3 python3-scapy)"
	exit 77
fi
if ! err=$("$py" -c 'import scapy.all' 2>&1); then
	echo "SKIP: $py cannot import scapy (apt-get install python3-scapy): ${err##*$'\n'}"
	exit 77
fi
exec "$py" "$(dirname "$0")/traffic.py" "$@"
