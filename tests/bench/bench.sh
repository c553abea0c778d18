#!/bin/bash
# SPDX-License-Identifier: ISC
#
# sshpool against the tools users would pick instead, side by side on the
# same loopback fleet of real OpenSSH servers in the same run.
#
#   bench.sh [BUILD_DIR] [--quick] [--only SCENARIO[,SCENARIO...]]
#
# BUILD_DIR (default: build at the top of the source tree) must hold a build
# with the daemon, the CLI, tests/bench/sp-latency and tests/bench/ssh-floor:
#   cmake --build build -j2 && tests/bench/bench.sh build
#
# Scenarios (all by default): latency, fanout, throughput, memory, jump,
# cpu; what each measures is described in bench.py.  --quick runs every scenario with
# small sizes (a CI smoke test, under two minutes); the full run takes about
# 30 minutes (jump alone about 12).
#
# This script owns the set-up: it installs the peers that are missing from
# Debian packages (openssh-client, pssh, pdsh, clustershell,
# python3-paramiko, python3-asyncssh), starts the fleet, and gives every
# tool the same client key, the same strict known_hosts file and the same
# login user.  tests/fleet/fleet.sh serves at most 252 addresses per port,
# so a fleet of more hosts is several fleets, each started by fleet.sh in a
# directory of its own on a port of its own (127.0.0.2:P1 ...
# 127.0.0.251:P1, 127.0.0.2:P2 ...), 250 hosts and 16 sshd processes each.
# The first fleet's user key is added to the authorized_keys of the others
# and their known_hosts files are concatenated.  bench.py (run with Debian's
# /usr/bin/python3, which has the peers' modules) then starts sshpoold and
# runs the scenarios; it prints the Markdown tables and writes
# BUILD_DIR/bench/results.json.
#
# The jump scenario also needs fleet.sh jump-start's fixture (a network
# namespace with a bastion and JUMP_FULL_TARGETS targets only the bastion
# reaches, JUMP_QUICK_TARGETS with --quick), which needs root: without it
# the scenario is skipped with a note.
#
# Everything started is stopped on exit, failure or interrupt: bench.py's
# processes by the pids it records, the fleets with fleet.sh stop, the jump
# fixture with fleet.sh jump-stop.  The
# whole measurement is bounded by a timeout.
#
# Exit status: 0 ok, 1 error, 2 usage, 77 peers missing and not root to
# install them (a skip for CTest).

set -euo pipefail

readonly PYTHON=/usr/bin/python3	# Debian's: the peers' modules are there
readonly HOSTS_PER_FLEET=250
readonly FULL_HOSTS=1000
readonly QUICK_HOSTS=20
readonly JUMP_FULL_TARGETS=100
readonly JUMP_QUICK_TARGETS=10
readonly FLEET_TIMEOUT_S=300
readonly FULL_TIMEOUT_S=5400
readonly QUICK_TIMEOUT_S=600
readonly STOP_WAIT_S=10
readonly PEER_PACKAGES="openssh-client pssh pdsh clustershell
python3-paramiko python3-asyncssh"

me=${0##*/}
here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)

die() {
	echo "$me: $*" >&2
	exit 1
}

note() {
	echo "$me: $*" >&2
}

usage() {
	echo "usage: $me [BUILD_DIR] [--quick] [--only SCENARIO[,...]]" >&2
	echo "scenarios: latency fanout throughput memory jump cpu" >&2
	exit 2
}

# ---- Arguments ----

build=
quick=0
only=
while [ $# -gt 0 ]; do
	case $1 in
	--quick)
		quick=1
		shift
		;;
	--only)
		[ $# -ge 2 ] || usage
		only=$2
		shift 2
		;;
	--only=*)
		only=${1#--only=}
		shift
		;;
	-h | --help) usage ;;
	-*) usage ;;
	*)
		[ -z "$build" ] || usage
		build=$1
		shift
		;;
	esac
done
for s in ${only//,/ }; do
	case $s in
	latency | fanout | throughput | memory | jump | cpu) ;;
	*) usage ;;
	esac
done

build=${build:-$top/build}
[ -d "$build" ] || die "$build: no such build directory"
build=$(cd "$build" && pwd -P)
for f in daemon/sshpoold client/sshpool tests/bench/sp-latency \
    tests/bench/ssh-floor; do
	[ -x "$build/$f" ] ||
	    die "$build/$f missing: build it first (cmake --build $build)"
done

# ---- Peers ----

# A package counts as installed when what the benchmark uses is there.
missing=()
command -v ssh >/dev/null || missing+=(openssh-client)
command -v parallel-ssh >/dev/null || missing+=(pssh)
command -v pdsh >/dev/null || missing+=(pdsh)
command -v clush >/dev/null || missing+=(clustershell)
"$PYTHON" -c 'import paramiko' 2>/dev/null || missing+=(python3-paramiko)
"$PYTHON" -c 'import asyncssh' 2>/dev/null || missing+=(python3-asyncssh)
if [ ${#missing[@]} -gt 0 ]; then
	note "installing ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		note "peers missing; run as root, or install:" \
		    "apt-get install -y" $PEER_PACKAGES
		exit 77
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" \
	    >&2 || die "apt-get install ${missing[*]} failed"
fi
for c in ssh parallel-ssh pdsh clush timeout; do
	command -v "$c" >/dev/null || die "$c not found"
done
[ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd not found (openssh-server)"

# ---- Cleanup ----

work=$(mktemp -d "${TMPDIR:-/tmp}/sshpool-bench.XXXXXX")
chmod 0711 "$work"
fleets=()
jump_dir=
bench_pid=

# A zombie counts as dead: it is reaped by wait afterwards.
pid_alive() {
	local state
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
	    "/proc/$1/status" 2>/dev/null || true)
	[ -n "$state" ] && [ "$state" != Z ]
}

# Stops what bench.py recorded in work/pids and left running (it stops
# everything itself unless it is killed): only processes whose command line
# still names the work directory, so a recycled pid is never signalled.
stop_recorded() {
	local pid i
	[ -f "$work/pids" ] || return 0
	while read -r pid; do
		case $pid in '' | *[!0-9]*) continue ;; esac
		pid_alive "$pid" || continue
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		    grep -qF -- "$work" || continue
		kill -TERM "$pid" 2>/dev/null || continue
		for ((i = 0; i < STOP_WAIT_S * 10; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done <"$work/pids"
	return 0
}

cleanup() {
	set +e
	if [ -n "$bench_pid" ]; then
		kill -TERM -- "-$bench_pid" 2>/dev/null ||
		    kill -TERM "$bench_pid" 2>/dev/null
		wait "$bench_pid" 2>/dev/null
	fi
	stop_recorded
	local d
	if [ -n "$jump_dir" ]; then
		timeout 60 bash "$top/tests/fleet/fleet.sh" jump-stop \
		    "$jump_dir" || note "fleet.sh jump-stop $jump_dir failed"
	fi
	for d in "${fleets[@]}"; do
		timeout 60 bash "$top/tests/fleet/fleet.sh" stop "$d" ||
		    note "fleet.sh stop $d failed"
	done
	rm -rf -- "$work"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'note interrupted; exit 130' INT
trap 'note terminated; exit 143' TERM

# Runs a bounded command in the background (so that a signal interrupts the
# wait), in a process group of its own led by timeout.
bounded() {
	local limit=$1 rc=0
	shift
	timeout "$limit" "$@" &
	bench_pid=$!
	wait "$bench_pid" || rc=$?
	bench_pid=
	[ "$rc" -ne 124 ] || die "$*: took more than ${limit}s"
	return "$rc"
}

# ---- Fleet ----

load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
if [ "$quick" = 1 ]; then
	nhosts=$QUICK_HOSTS
	jump_targets=$JUMP_QUICK_TARGETS
else
	nhosts=$FULL_HOSTS
	jump_targets=$JUMP_FULL_TARGETS
fi
# The scenarios that need only one host get a fleet of one; jump needs as
# many as it has targets, for sshpool's direct fan-out of the same size.
case ",$only," in
,, | *,fanout,* | *,memory,* | *,throughput,*) ;;
*,jump,*) nhosts=$jump_targets ;;
*) nhosts=2 ;;
esac

nfleets=$(((nhosts + HOSTS_PER_FLEET - 1) / HOSTS_PER_FLEET))
note "starting $nhosts hosts in $nfleets fleet(s) under $work"
hosts_file=$work/hosts		# 127.0.0.X:PORT, one per line
aliases_file=$work/aliases	# hNNNN, for the ssh-based tools
ssh_config=$work/ssh_config
known_hosts=$work/known_hosts
: >"$hosts_file"
: >"$aliases_file"
: >"$known_hosts"
: >"$ssh_config.hosts"
left=$nhosts
k=0
index=0
while [ "$left" -gt 0 ]; do
	n=$left
	[ "$n" -le "$HOSTS_PER_FLEET" ] || n=$HOSTS_PER_FLEET
	d=$work/fleet$k
	fleets+=("$d")
	bounded "$FLEET_TIMEOUT_S" bash "$top/tests/fleet/fleet.sh" start \
	    "$d" --hosts "$n" >&2 || die "fleet.sh start $d failed"
	# shellcheck source=/dev/null
	. "$d/fleet.env"
	if [ "$k" = 0 ]; then
		key=$FLEET_KEY
		user=$FLEET_USER
	else
		# One client key for the whole fleet: the first fleet's.
		auth=$(sed -n 's/^AuthorizedKeysFile //p' "$d/sshd.0.conf")
		[ -f "$auth" ] || die "$d: no authorized_keys at '$auth'"
		cat "${fleets[0]}/id_ed25519.pub" >>"$auth"
	fi
	cat "$FLEET_KNOWN_HOSTS" >>"$known_hosts"
	for addr in $FLEET_ADDRS; do
		index=$((index + 1))
		alias=$(printf 'h%04d' "$index")
		echo "$addr:$FLEET_PORT" >>"$hosts_file"
		echo "$alias" >>"$aliases_file"
		printf 'Host %s\n\tHostName %s\n\tPort %s\n' "$alias" "$addr" \
		    "$FLEET_PORT" >>"$ssh_config.hosts"
	done
	left=$((left - n))
	k=$((k + 1))
done
chmod 0600 "$known_hosts"

# The configuration every OpenSSH-based peer reads (ssh -F): the same key,
# user and strict host key checking as sshpoold's.  ssh turns TCP_NODELAY
# on by itself only for interactive sessions; it has no option for it.
{
	cat "$ssh_config.hosts"
	cat <<EOF
Host *
	User $user
	IdentityFile $key
	IdentitiesOnly yes
	BatchMode yes
	StrictHostKeyChecking yes
	UserKnownHostsFile $known_hosts
	GlobalKnownHostsFile /dev/null
	CheckHostIP no
	ConnectTimeout 60
	ControlMaster no
	ControlPath none
	ForwardAgent no
	ForwardX11 no
	LogLevel ERROR
EOF
} >"$ssh_config"
rm -f "$ssh_config.hosts"

# ---- Jump hosts ----

jump_args=()
case ",$only," in
,, | *,jump,*)
	if [ "$(id -u)" != 0 ]; then
		jump_args=(--jump-skip "the jump fixture needs root")
	elif ! command -v ip >/dev/null; then
		jump_args=(--jump-skip "the jump fixture needs ip (iproute2)")
	else
		jump_dir=$work/jump
		note "starting the jump fixture: $jump_targets targets"
		if bounded "$FLEET_TIMEOUT_S" bash "$top/tests/fleet/fleet.sh" \
		    jump-start "$jump_dir" --targets "$jump_targets" >&2; then
			jump_args=(--jump-env "$jump_dir/jump.env")
		else
			note "fleet.sh jump-start failed: jump skipped"
			jump_args=(--jump-skip "fleet.sh jump-start failed")
		fi
	fi
	;;
esac

# ---- Scenarios ----

limit=$FULL_TIMEOUT_S
[ "$quick" = 0 ] || limit=$QUICK_TIMEOUT_S
mkdir -p "$build/bench"
args=(--build "$build" --work "$work" --hosts "$hosts_file"
	--aliases "$aliases_file" --ssh-config "$ssh_config"
	--known-hosts "$known_hosts" --key "$key" --user "$user"
	--load-before "$load_before" --out "$build/bench/results.json")
[ "$quick" = 0 ] || args+=(--quick)
[ -z "$only" ] || args+=(--only "$only")
args+=("${jump_args[@]}")
bounded "$limit" "$PYTHON" "$here/bench.py" "${args[@]}" ||
    die "bench.py failed (exit status $?)"
