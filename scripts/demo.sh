#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The quick-start demo: start a throwaway fleet of loopback sshd hosts and an
# sshpoold on its defaults (plus the fleet's key and known_hosts), run one
# command across the fleet twice, and show that the second, warm run reuses
# the pooled sessions.  Everything it starts it stops again.
#
#   scripts/demo.sh [BUILD_DIR] [HOSTS]
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
nhosts=${2:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/sshpool-demo.XXXXXX)
daemon_pid=

cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	"$top/tests/fleet/fleet.sh" stop "$dir/fleet" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

ms() { date +%s%3N; }

echo "== starting $nhosts sshd hosts on 127.0.0.2..."
"$top/tests/fleet/fleet.sh" start "$dir/fleet" --hosts "$nhosts" >/dev/null
# shellcheck disable=SC1091
. "$dir/fleet/fleet.env"

cat >"$dir/sshpoold.conf" <<CONF
# Everything else stays at its default.
Port $FLEET_PORT
User $FLEET_USER
IdentityFile $FLEET_KEY
UserKnownHostsFile $FLEET_KNOWN_HOSTS
CONF
sock="$dir/sshpoold.sock"
"$build/daemon/sshpoold" -d -f "$dir/sshpoold.conf" -s "$sock" 2>"$dir/sshpoold.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { cat "$dir/sshpoold.log"; exit 1; }

hosts=$(echo "$FLEET_ADDRS" | tr ' ' ',')
cli=("$build/client/sshpool" -s "$sock")

echo "== cold run (connects to every host)"
t0=$(ms)
"${cli[@]}" run -H "$hosts" -- 'echo "up $(cut -d" " -f1 /proc/uptime)s via $SSH_CONNECTION"' | sort | head -5
t1=$(ms)
echo "   ... $nhosts hosts in $((t1 - t0)) ms"

echo "== warm run (pooled sessions)"
t0=$(ms)
"${cli[@]}" run -H "$hosts" -- 'echo "up $(cut -d" " -f1 /proc/uptime)s via $SSH_CONNECTION"' | sort | head -5
t1=$(ms)
echo "   ... $nhosts hosts in $((t1 - t0)) ms"

echo "== pool status"
"${cli[@]}" status | head -8
