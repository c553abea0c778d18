#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Latency of one `true` on one host: sshpoold's warm pool against what a
# user would run instead, measured in the same run on the same loopback
# host of a throwaway OpenSSH fleet.
#
#   latency.sh [BUILD_DIR] [-n N]
#
# BUILD_DIR (default: build at the top of the source tree) must hold a build
# with the daemon, the CLI and tests/bench/sp-latency:
#   cmake --build build -j2 && tests/bench/latency.sh build
#
# Measured, in this order, all against 127.0.0.2:
#   library       sp-latency: N runs from one long-lived libsshpool client
#   cli           `sshpool run -H host -- true`, one process per run, N runs
#   ssh_fresh     a new OpenSSH connection per run, N/10 runs (at least 10)
#   ssh_control   `ssh -S CTLPATH` through one ControlMaster, N runs
# Every method gets a few unmeasured warm-up runs first.  Per-process runs
# are timed by a small python3 helper (time.perf_counter around
# subprocess.run), the library runs by sp-latency itself; every run must
# exit 0.  Prints a Markdown table (median, min, max, p90 in milliseconds and
# the ratio of the sshpool medians to each row's median) with the machine,
# and writes the same numbers to BUILD_DIR/bench/latency.json.
#
# Everything started here is stopped on exit, failure or interrupt: the
# daemon by its pid, the ControlMaster with -O exit, the fleet with
# fleet.sh stop.  Each step is bounded by STEP_TIMEOUT_S.
#
# Exit status: 0 ok, 1 error, 2 usage.

set -euo pipefail

readonly DEFAULT_RUNS=200
readonly MAX_RUNS=1000000
readonly HOST=127.0.0.2
readonly BENCH_HOSTS=2
readonly WARMUP=5		# unmeasured runs of every method but ssh_fresh
readonly FRESH_WARMUP=1
readonly FRESH_DIVISOR=10	# a fresh connection costs ~200 ms
readonly FRESH_MIN=10
readonly STEP_TIMEOUT_S=300
readonly SOCKET_WAIT_S=10
readonly STOP_WAIT_S=10
readonly CONTROL_PERSIST_S=60

me=${0##*/}
here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)

die() {
	echo "$me: $*" >&2
	exit 1
}

usage() {
	echo "usage: $me [BUILD_DIR] [-n N]" >&2
	exit 2
}

note() {
	echo "$me: $*" >&2
}

# ---- Arguments ----

build=
runs=$DEFAULT_RUNS
while [ $# -gt 0 ]; do
	case $1 in
	-n)
		[ $# -ge 2 ] || usage
		runs=$2
		shift 2
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
case $runs in '' | *[!0-9]*) usage ;; esac
if [ "$runs" -lt 1 ] || [ "$runs" -gt "$MAX_RUNS" ]; then
	usage
fi
fresh_runs=$((runs / FRESH_DIVISOR))
[ "$fresh_runs" -ge "$FRESH_MIN" ] || fresh_runs=$FRESH_MIN

build=${build:-$top/build}
[ -d "$build" ] || die "$build: no such build directory"
build=$(cd "$build" && pwd -P)
sshpoold=$build/daemon/sshpoold
cli=$build/client/sshpool
splat=$build/tests/bench/sp-latency
for f in "$sshpoold" "$cli" "$splat"; do
	[ -x "$f" ] || die "$f missing: build it first (cmake --build $build)"
done
for c in ssh python3 timeout; do
	command -v "$c" >/dev/null || die "$c not found"
done

# ---- Cleanup ----

work=$(mktemp -d "${TMPDIR:-/tmp}/sshpool-bench.XXXXXX")
fleet_dir=$work/fleet
sock=$work/sshpoold.sock
ctl=$work/ctl
daemon_pid=
master_pid=
step_pid=
fleet_started=0

# A zombie counts as dead: it is reaped by wait afterwards.
pid_alive() {
	local state
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
	    "/proc/$1/status" 2>/dev/null || true)
	[ -n "$state" ] && [ "$state" != Z ]
}

# Signals pid, waits for it (bounded) and kills it if it ignores SIGTERM.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < STOP_WAIT_S * 10; i++)); do
		pid_alive "$pid" || break
		sleep 0.1
	done
	if pid_alive "$pid"; then
		note "pid $pid ignored SIGTERM, killing"
		kill -KILL "$pid" 2>/dev/null || true
	fi
}

stop_daemon() {
	[ -n "$daemon_pid" ] || return 0
	stop_pid "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null || true
	daemon_pid=
}

# Also when the master's pid is not known yet: its socket says it may run.
stop_master() {
	[ -n "$master_pid" ] || [ -S "$ctl" ] || return 0
	timeout 30 ssh "${ssh_opts[@]}" -S "$ctl" -O exit "$target" \
	    2>/dev/null || true
	# -O exit only asks; make sure the master is really gone.
	if [ -n "$master_pid" ] && pid_alive "$master_pid" &&
	    tr '\0' ' ' <"/proc/$master_pid/cmdline" 2>/dev/null |
	    grep -qF -- "-S $ctl "; then
		stop_pid "$master_pid"
	fi
	master_pid=
}

cleanup() {
	set +e
	if [ -n "$step_pid" ]; then
		kill -TERM -- "-$step_pid" 2>/dev/null ||
		    kill -TERM "$step_pid" 2>/dev/null
		wait "$step_pid" 2>/dev/null
	fi
	stop_master
	stop_daemon
	if [ "$fleet_started" = 1 ]; then
		timeout 60 bash "$top/tests/fleet/fleet.sh" stop "$fleet_dir" ||
		    note "fleet.sh stop failed"
	fi
	rm -rf -- "$work"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'note interrupted; exit 130' INT
trap 'note terminated; exit 143' TERM

# Runs a step bounded by STEP_TIMEOUT_S; any failure ends the benchmark.
# timeout leads a process group of its own: on timeout it ends the whole
# step, and cleanup can end it on an interrupt.  The step runs in the
# background so that a signal interrupts the wait instead of waiting for it.
step() {
	local name=$1 rc=0
	shift
	timeout "$STEP_TIMEOUT_S" "$@" &
	step_pid=$!
	wait "$step_pid" || rc=$?
	step_pid=
	[ "$rc" -ne 124 ] || die "$name: took more than ${STEP_TIMEOUT_S}s"
	[ "$rc" -eq 0 ] || die "$name failed (exit $rc)"
}

# ---- Helpers ----

# timeit.py WARMUP RUNS OUT cmd...: runs cmd WARMUP times unmeasured, then
# RUNS times, writing each run's wall time in ms to OUT.  The command's
# standard error goes to OUT.err (the CLI prints a summary per run) and is
# shown when a run does not exit 0, which ends the measurement.
cat >"$work/timeit.py" <<'EOF'
import subprocess, sys, time

warmup, runs, out, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
err = open(out + ".err", "w+b")

def once(what):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    t1 = time.perf_counter()
    if r.returncode != 0:
        err.seek(0)
        sys.stderr.buffer.write(b"".join(err.readlines()[-20:]))
        sys.exit("timeit: %s: %s: exit status %d" % (what, " ".join(cmd), r.returncode))
    return (t1 - t0) * 1e3

for i in range(warmup):
    once("warm-up run %d" % (i + 1))
ms = [once("run %d" % (i + 1)) for i in range(runs)]
with open(out, "w") as f:
    f.writelines("%.3f\n" % v for v in ms)
EOF

# report.py JSON MACHINE_JSON key:label:file...: statistics of every
# method, the Markdown table on stdout and the JSON file.  Median is the
# mean of the two middle samples for an even count, p90 the nearest rank.
cat >"$work/report.py" <<'EOF'
import json, math, statistics, sys

out, meta = sys.argv[1], json.loads(sys.argv[2])
methods = []
for spec in sys.argv[3:]:
    key, label, path = spec.split(":", 2)
    with open(path) as f:
        v = sorted(float(l) for l in f if l.strip())
    if not v:
        sys.exit("report: no samples for " + key)
    methods.append((key, label, {
        "runs": len(v),
        "median_ms": round(statistics.median(v), 3),
        "min_ms": v[0],
        "max_ms": v[-1],
        "p90_ms": v[math.ceil(len(v) * 9 / 10) - 1],
    }))
med = {k: s["median_ms"] for k, _, s in methods}
sshpool = [k for k in ("library", "cli") if k in med]
ratios = {}
for a in sshpool:
    for b, _, _ in methods:
        if a != b:
            ratios["%s_vs_%s" % (a, b)] = round(med[a] / med[b], 4)

m = meta["machine"]
print("sshpool latency: `%s` on %s, %s" % (meta["command"], meta["host"], meta["date"]))
print()
print("Machine: %s CPUs, %s, Linux %s; %s" % (m["nproc"], m["cpu"], m["kernel"], m["openssh"]))
print()
print("| Method | Runs | Median ms | Min ms | Max ms | p90 ms | library / this | CLI / this |")
print("|---|--:|--:|--:|--:|--:|--:|--:|")
for key, label, s in methods:
    r = ["%.3g" % (med[a] / s["median_ms"]) for a in ("library", "cli")]
    print("| %s | %d | %.3f | %.3f | %.3f | %.3f | %s | %s |" % (
        label, s["runs"], s["median_ms"], s["min_ms"], s["max_ms"],
        s["p90_ms"], r[0], r[1]))
meta["methods"] = {k: dict(s, label=label) for k, label, s in methods}
meta["ratios"] = ratios
with open(out, "w") as f:
    json.dump(meta, f, indent=2)
    f.write("\n")
EOF

# ---- Fleet and daemon ----

note "starting a fleet of $BENCH_HOSTS hosts in $fleet_dir"
fleet_started=1
step "fleet start" bash "$top/tests/fleet/fleet.sh" start "$fleet_dir" \
    --hosts "$BENCH_HOSTS" >&2
# shellcheck source=/dev/null
. "$fleet_dir/fleet.env"
case " $FLEET_ADDRS " in
*" $HOST "*) ;;
*) die "$HOST is not in the fleet ($FLEET_ADDRS)" ;;
esac
target=$FLEET_USER@$HOST
# -F /dev/null: the invoking user's ssh_config must not change what is
# measured.
ssh_opts=(-F /dev/null -i "$FLEET_KEY" -p "$FLEET_PORT"
	-o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes
	-o UserKnownHostsFile="$FLEET_KNOWN_HOSTS"
	-o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10)

conf=$work/sshpoold.conf
cat >"$conf" <<EOF
Port $FLEET_PORT
User $FLEET_USER
IdentityFile $FLEET_KEY
UserKnownHostsFile $FLEET_KNOWN_HOSTS
StrictHostKeyChecking yes
LogLevel ERROR
EOF
step "sshpoold -n" "$sshpoold" -n -f "$conf" >&2

note "starting sshpoold"
"$sshpoold" -d -f "$conf" -s "$sock" 2>"$work/sshpoold.log" &
daemon_pid=$!
for ((i = 0; i < SOCKET_WAIT_S * 10; i++)); do
	[ -S "$sock" ] && break
	pid_alive "$daemon_pid" || break
	sleep 0.1
done
if ! [ -S "$sock" ] || ! pid_alive "$daemon_pid"; then
	cat "$work/sshpoold.log" >&2
	die "sshpoold did not come up on $sock"
fi

# ---- Measurements ----

samples=$work/samples
mkdir "$samples"

note "library: $runs runs"
step "sp-latency" "$splat" -s "$sock" -H "$HOST" -n "$runs" -w "$WARMUP" \
    -c true >"$samples/library"

note "CLI: $runs runs"
step "sshpool run" python3 "$work/timeit.py" "$WARMUP" "$runs" \
    "$samples/cli" "$cli" -s "$sock" run -H "$HOST" -- true
if [ -s "$work/sshpoold.log" ]; then
	note "sshpoold said:"
	cat "$work/sshpoold.log" >&2
fi
# The peers run without the daemon in the background.
stop_daemon

note "OpenSSH fresh connection: $fresh_runs runs"
step "ssh" python3 "$work/timeit.py" "$FRESH_WARMUP" "$fresh_runs" \
    "$samples/ssh_fresh" ssh "${ssh_opts[@]}" "$target" true

note "OpenSSH ControlMaster: $runs runs"
step "ssh -M" ssh "${ssh_opts[@]}" -M -S "$ctl" \
    -o ControlPersist="$CONTROL_PERSIST_S" -N -f "$target"
master_pid=$(timeout 30 ssh "${ssh_opts[@]}" -S "$ctl" -O check "$target" \
    2>&1 | sed -n 's/.*(pid=\([0-9]*\)).*/\1/p')
[ -n "$master_pid" ] || die "ControlMaster not running on $ctl"
step "ssh -S" python3 "$work/timeit.py" "$WARMUP" "$runs" \
    "$samples/ssh_control" ssh "${ssh_opts[@]}" -S "$ctl" "$target" true
stop_master

# ---- Report ----

mkdir -p "$build/bench"
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo |
    head -n 1)
meta=$(python3 -c '
import json, sys
print(json.dumps({
    "command": "true", "host": sys.argv[1], "runs": int(sys.argv[2]),
    "date": sys.argv[3],
    "machine": {"nproc": int(sys.argv[4]), "cpu": sys.argv[5],
                "kernel": sys.argv[6], "openssh": sys.argv[7]}}))' \
    "$HOST" "$runs" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" \
    "${cpu:-unknown}" "$(uname -r)" "$(ssh -V 2>&1)")
python3 "$work/report.py" "$build/bench/latency.json" "$meta" \
    "library:sshpool library (warm pool):$samples/library" \
    "cli:sshpool CLI (process per run):$samples/cli" \
    "ssh_fresh:OpenSSH fresh connection:$samples/ssh_fresh" \
    "ssh_control:OpenSSH ControlMaster:$samples/ssh_control"
note "JSON in $build/bench/latency.json"
