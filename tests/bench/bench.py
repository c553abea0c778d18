#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""The measurements of the sshpool benchmark; bench.sh sets up the fleet.

Every tool runs against the same fleet (bench.sh's host files, ssh_config,
known_hosts, key and user), one after the other, in one run:

latency     1 host, `true` N times in a row (N = 500): the library on a
            warm pool (sp-latency), the CLI one process per command, the
            floor (ssh-floor: libssh on an open session), OpenSSH with a
            fresh connection per command (N/10 runs), OpenSSH through one
            ControlMaster (ssh -S), paramiko on one client, asyncssh on one
            connection.  Samples are the commands.
fanout      `true` on 10, 100, 500 and 1,000 hosts at once, several runs:
            sshpool warm (library and CLI, pool opened beforehand) and cold
            (CLI on a freshly started daemon: first contact); paramiko
            (thread pool, one client per host) and asyncssh (gather, one
            connection per host) warm and cold; pssh, pdsh and clush, which
            connect afresh on every run, all with the same fan-out width.
throughput  `head -c 200M /dev/zero` from one host: sshpool's library, the
            floor, OpenSSH fresh and through a ControlMaster; 10 MB from
            each of 100 hosts: sshpool's library, paramiko and asyncssh on
            warm connections.  Every byte is counted.  For one stream
            also the CPU time per stream on the client side of SSH: the
            daemon plus the library's process, the floor's process, ssh
            (plus its ControlMaster).
memory      sshpoold's RSS with 1,000 idle pooled sessions, per session
            above the RSS of the idle daemon; peak and median RSS while 10
            library clients each stream 200 MB from a host of their own.
jump        `true` on N targets (N = 100) at once, all behind one bastion
            (tests/fleet/fleet.sh jump-start: a network namespace that only
            the bastion reaches), in interleaved rounds (every tool once per
            round, the first round a warm-up that is not counted): sshpool
            (config ProxyJump) warm (library) and cold (CLI on a freshly
            started daemon: the bastion's handshake and every target's
            through it), and sshpool's direct warm fan-out to N hosts of the
            regular fleet as the baseline; paramiko (direct-tcpip channels
            of one bastion client) and asyncssh (tunnel= one bastion
            connection) warm and cold; OpenSSH ssh -J fresh and through a
            ControlMaster to the bastion, pssh, pdsh and clush with
            ProxyJump in their ssh_config, all with the same fan-out width.
cpu         sshpoold's user+sys CPU time over 10,000 warm sequential
            commands (/proc/PID/stat), and its instructions per command
            under callgrind: the difference between two runs of the same
            workload with different command counts, divided by the
            difference, so start-up and handshakes cancel out.

Prints the Markdown tables and the targets of issue 7 with the ratio
measured for each, and writes everything to the --out JSON file.  Every
process started here is recorded in WORK/pids (for bench.sh's cleanup) and
stopped here; every step has a timeout.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import select
import signal
import socket
import statistics
import subprocess
import sys
import time

SCENARIOS = ("latency", "fanout", "throughput", "memory", "jump", "cpu")
FAN = 64                # fan-out width of pssh, pdsh and clush
STEP_TIMEOUT_S = 900    # one measured command
SOCKET_WAIT_S = 30
STOP_WAIT_S = 30
RSS_SAMPLE_S = 0.02
CONTROL_PERSIST_S = 600
MB = 1 << 20

FULL = dict(
    latency_n=500, fresh_n=50, warmup=10,
    fanout_sizes=(10, 100, 500, 1000),
    fanout_runs={10: 5, 100: 5, 500: 3, 1000: 3},
    # pssh, pdsh and clush take a minute per run at 1,000 hosts.
    spawn_runs={10: 5, 100: 3, 500: 2, 1000: 2},
    stream_mb=200, stream_runs=9,
    multi_hosts=100, multi_mb=10, multi_runs=3,
    memory_hosts=1000, memory_clients=10, memory_mb=200,
    cpu_commands=10000, callgrind=(20, 220),
    jump_sizes=(100,), jump_rounds=10,
)
QUICK = dict(
    latency_n=50, fresh_n=5, warmup=3,
    fanout_sizes=(10, 20),
    fanout_runs={10: 2, 20: 2},
    spawn_runs={10: 2, 20: 2},
    stream_mb=20, stream_runs=2,
    multi_hosts=20, multi_mb=1, multi_runs=2,
    memory_hosts=20, memory_clients=5, memory_mb=20,
    cpu_commands=300, callgrind=(5, 25),
    jump_sizes=(10,), jump_rounds=2,
)


def note(msg):
    print("bench.py: " + msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def stats(samples):
    v = sorted(samples)
    s = {"runs": len(v), "median": statistics.median(v), "min": v[0],
         "max": v[-1]}
    # Percentiles (nearest rank) only where there are enough samples.
    for q in (90, 99):
        if len(v) >= 100 // (100 - q):
            s["p%d" % q] = v[-(-len(v) * q // 100) - 1]
    return s


def pid_alive(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return line.split()[1] != "Z"
    except OSError:
        return False
    return False


class Bench:
    def __init__(self, a):
        self.a = a
        self.p = QUICK if a.quick else FULL
        self.build = a.build
        self.work = a.work
        self.sshpoold = os.path.join(a.build, "daemon/sshpoold")
        self.cli = os.path.join(a.build, "client/sshpool")
        self.splat = os.path.join(a.build, "tests/bench/sp-latency")
        self.floor = os.path.join(a.build, "tests/bench/ssh-floor")
        self.peers = os.path.join(os.path.dirname(__file__), "peers.py")
        with open(a.hosts) as f:
            self.hosts = [l.strip() for l in f if l.strip()]
        with open(a.aliases) as f:
            self.aliases = [l.strip() for l in f if l.strip()]
        self.sock = os.path.join(self.work, "sshpoold.sock")
        self.conf = os.path.join(self.work, "sshpoold.conf")
        self.ctl = os.path.join(self.work, "ctl")
        self.daemon = None
        self.master = None
        self.jump_skipped = None
        self.results = {}
        self.files = {}

    # ---- Processes ----

    def record(self, pid):
        with open(os.path.join(self.work, "pids"), "a") as f:
            f.write("%d\n" % pid)

    def call(self, cmd, timeout=STEP_TIMEOUT_S, env=None, out=False):
        """Runs cmd in a process group of its own, checks exit 0; returns
        its standard output if out, else its wall time in ms."""
        e = dict(os.environ, **(env or {}))
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE if out
                             else subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=e,
                             start_new_session=True)
        try:
            o, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise BenchError("%s: timed out after %ds" % (cmd[0], timeout))
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
        t1 = time.perf_counter()
        if p.returncode != 0:
            sys.stderr.write(err.decode(errors="replace")[-4000:])
            raise BenchError("%s: exit status %d" %
                             (" ".join(cmd)[:200], p.returncode))
        return o.decode() if out else (t1 - t0) * 1e3

    def samples(self, cmd, **kw):
        return [float(l) for l in self.call(cmd, out=True, **kw).split()]

    def timed(self, cmd, runs, warmup=0, **kw):
        for _ in range(warmup):
            self.call(cmd, **kw)
        return [self.call(cmd, **kw) for _ in range(runs)]

    # ---- Files ----

    def hostfile(self, n, aliases=False):
        key = (n, aliases)
        if key not in self.files:
            src = self.aliases if aliases else self.hosts
            if n > len(src):
                raise BenchError("the fleet has %d hosts, %d wanted" %
                                 (len(src), n))
            path = os.path.join(self.work, "%s.%d" %
                                ("aliases" if aliases else "hosts", n))
            with open(path, "w") as f:
                f.write("".join(h + "\n" for h in src[:n]))
            self.files[key] = path
        return self.files[key]

    # ---- sshpoold ----

    def write_conf(self):
        with open(self.conf, "w") as f:
            f.write("""User {user}
IdentityFile {key}
UserKnownHostsFile {kh}
StrictHostKeyChecking yes
LogLevel ERROR
# Cold fan-out: handshakes are paced by the daemon's own budget; this rate
# only keeps them below the servers' MaxStartups.
MaxHandshakeRate 1000
MaxConnectionsPerUser 256
ConnectTimeout 60
""".format(user=self.a.user, key=self.a.key, kh=self.a.known_hosts))

    def start_daemon(self, valgrind=None):
        self.daemon = self.spawn_daemon(self.conf, self.sock, valgrind)
        return self.daemon.pid

    def spawn_daemon(self, conf, sock, valgrind=None):
        """Starts sshpoold on conf and sock; returns its Popen once the
        socket is there."""
        if os.path.exists(sock):
            os.unlink(sock)
        log = open(os.path.join(self.work, "sshpoold.log"), "ab")
        cmd = [self.sshpoold, "-d", "-f", conf, "-s", sock]
        if valgrind:
            cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" +
                   valgrind] + cmd
        d = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=log, start_new_session=True)
        log.close()
        self.record(d.pid)
        deadline = time.monotonic() + SOCKET_WAIT_S * (10 if valgrind else 1)
        while not os.path.exists(sock):
            if d.poll() is not None or time.monotonic() > deadline:
                self.halt_daemon(d)
                raise BenchError("sshpoold did not come up; see " +
                                 os.path.join(self.work, "sshpoold.log"))
            time.sleep(0.02)
        return d

    def stop_daemon(self):
        d, self.daemon = self.daemon, None
        self.halt_daemon(d)

    @staticmethod
    def halt_daemon(d):
        if d is None or d.poll() is not None:
            return
        d.terminate()
        try:
            d.wait(STOP_WAIT_S * 10)
        except subprocess.TimeoutExpired:
            note("sshpoold ignored SIGTERM, killing")
            d.kill()
            d.wait()

    def rss_kb(self, pid):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise BenchError("no VmRSS for %d" % pid)

    @staticmethod
    def children_cpu_s():
        """user+sys seconds of every waited-for child process so far."""
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    def cpu_s(self, pid):
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # utime and stime: fields 14 and 15 of stat(5), 1-based.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def splat_cmd(self, hosts=None, hostfile=None, n=1, w=0, cmd="true",
                  nbytes=None, sock=None):
        c = [self.splat, "-s", sock or self.sock, "-n", str(n), "-w", str(w),
             "-c", cmd]
        c += ["-H", hosts] if hosts else ["-h", hostfile]
        if nbytes is not None:
            c += ["-B", str(nbytes)]
        return c

    def cli_cmd(self, hosts=None, hostfile=None, cmd="true", sock=None):
        c = [self.cli, "-s", sock or self.sock, "run", "--no-progress"]
        c += ["-H", hosts] if hosts else ["-h", hostfile]
        return c + ["--", cmd]

    # ---- Peers ----

    def peer_cmd(self, lib, mode, *args, user=None, key=None,
                 known_hosts=None):
        return ["/usr/bin/python3", self.peers, lib, mode,
                "--user", user or self.a.user, "--key", key or self.a.key,
                "--known-hosts", known_hosts or self.a.known_hosts] + \
            list(args)

    def ssh_cmd(self, *args):
        return ["ssh", "-F", self.a.ssh_config] + list(args)

    def start_master(self, alias, config=None, ctl=None):
        config, ctl = config or self.a.ssh_config, ctl or self.ctl
        ssh = ["ssh", "-F", config, "-S", ctl]
        self.call(ssh + ["-M", "-o", "ControlPersist=%d" % CONTROL_PERSIST_S,
                         "-N", "-f", alias])
        out = subprocess.run(ssh + ["-O", "check", alias],
                             capture_output=True, text=True,
                             timeout=60).stderr
        pid = out.split("pid=")[1].split(")")[0] if "pid=" in out else ""
        if not pid.isdigit():
            raise BenchError("ControlMaster not running: " + out)
        self.master = (int(pid), alias, ssh)
        self.record(int(pid))

    def stop_master(self):
        if self.master is None:
            return
        pid, alias, ssh = self.master
        self.master = None
        subprocess.run(ssh + ["-O", "exit", alias], capture_output=True,
                       timeout=60)
        for _ in range(STOP_WAIT_S * 10):
            if not pid_alive(pid):
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGTERM)

    def add(self, scenario, key, label, unit, samples, **extra):
        row = dict(stats(samples), label=label, unit=unit,
                   samples=[round(x, 3) for x in samples], **extra)
        self.results.setdefault(scenario, {})[key] = row
        note("  %-34s median %10.3f %s (min %.3f, max %.3f, %d runs)" %
             (label, row["median"], unit, row["min"], row["max"],
              row["runs"]))
        return row

    # ---- Scenarios ----

    def latency(self):
        p = self.p
        host, alias = self.hosts[0], self.aliases[0]
        addr, port = host.rsplit(":", 1)
        n, w = p["latency_n"], p["warmup"]
        note("latency: `true` on %s, %d runs each" % (host, n))
        self.start_daemon()
        try:
            self.add("latency", "library", "sshpool library (warm pool)",
                     "ms", self.samples(self.splat_cmd(hosts=host, n=n,
                                                       w=w)))
            self.add("latency", "cli", "sshpool CLI (process per command)",
                     "ms", self.timed(self.cli_cmd(hosts=host), n, w))
        finally:
            self.stop_daemon()
        self.add("latency", "floor", "libssh floor (open session)", "ms",
                 self.samples([self.floor, "-h", addr, "-p", port, "-l",
                               self.a.user, "-i", self.a.key, "-k",
                               self.a.known_hosts, "-n", str(n), "-w",
                               str(w)]))
        self.add("latency", "paramiko", "paramiko (one client)", "ms",
                 self.samples(self.peer_cmd("paramiko", "latency", "--host",
                                            host, "-n", str(n), "-w",
                                            str(w))))
        self.add("latency", "asyncssh", "asyncssh (one connection)", "ms",
                 self.samples(self.peer_cmd("asyncssh", "latency", "--host",
                                            host, "-n", str(n), "-w",
                                            str(w))))
        self.start_master(alias)
        try:
            self.add("latency", "ssh_control",
                     "OpenSSH ControlMaster (ssh -S)", "ms",
                     self.timed(self.ssh_cmd("-S", self.ctl, alias, "true"),
                                n, w))
        finally:
            self.stop_master()
        self.add("latency", "ssh_fresh", "OpenSSH fresh connection", "ms",
                 self.timed(self.ssh_cmd(alias, "true"), p["fresh_n"], 1))

    def fanout_size(self, n):
        runs = self.p["fanout_runs"][n]
        hf, af = self.hostfile(n), self.hostfile(n, aliases=True)
        sc = "fanout_%d" % n
        note("fan-out: `true` on %d hosts, %d runs each" % (n, runs))
        cold = []
        for _ in range(runs):
            self.start_daemon()
            try:
                cold.append(self.call(self.cli_cmd(hostfile=hf)))
            finally:
                if len(cold) < runs:
                    self.stop_daemon()
        # The daemon of the last cold run is warm now.
        try:
            self.add(sc, "sshpool_cold", "sshpool CLI, cold (new daemon)",
                     "ms", cold, mode="cold")
            self.add(sc, "sshpool_warm", "sshpool library, warm", "ms",
                     self.samples(self.splat_cmd(hostfile=hf, n=runs, w=1)),
                     mode="warm")
            self.add(sc, "sshpool_cli_warm", "sshpool CLI, warm", "ms",
                     self.timed(self.cli_cmd(hostfile=hf), runs, 1),
                     mode="warm")
        finally:
            self.stop_daemon()
        for lib in ("paramiko", "asyncssh"):
            for mode in ("warm", "cold"):
                self.add(sc, "%s_%s" % (lib, mode), "%s, %s" % (lib, mode),
                         "ms", self.samples(self.peer_cmd(
                             lib, "fanout", "--hosts", hf, "--runs",
                             str(runs), "--" + mode)), mode=mode)
        fan = str(min(FAN, n))
        runs = self.p["spawn_runs"][n]
        self.add(sc, "pssh", "pssh (parallel-ssh -p %s)" % fan, "ms",
                 self.timed(["parallel-ssh", "-h", af, "-p", fan, "-t",
                             "600", "-x", "-F " + self.a.ssh_config, "true"],
                            runs), mode="cold")
        self.add(sc, "pdsh", "pdsh (-R ssh -f %s)" % fan, "ms",
                 self.timed(["pdsh", "-R", "ssh", "-f", fan, "-S", "-t",
                             "60", "-w", "^" + af, "true"], runs,
                            env={"PDSH_SSH_ARGS":
                                 "-F %s %%h" % self.a.ssh_config}),
                 mode="cold")
        self.add(sc, "clush", "clush (-f %s)" % fan, "ms",
                 self.timed(["clush", "-f", fan, "-S", "-q",
                             "--hostfile", af, "-o",
                             "-F " + self.a.ssh_config, "true"], runs),
                 mode="cold")

    def fanout(self):
        for n in self.p["fanout_sizes"]:
            self.fanout_size(n)

    def throughput(self):
        p = self.p
        host, alias = self.hosts[0], self.aliases[0]
        addr, port = host.rsplit(":", 1)
        size = p["stream_mb"] * MB
        cmd = "head -c %dM /dev/zero" % p["stream_mb"]
        runs = p["stream_runs"]
        streams = runs + 1  # every tool streams once more to warm up
        sc = "stream_1"
        note("throughput: `%s` from %s, %d runs each" % (cmd, host, runs))
        # CPU per stream on the client side of the SSH connection: the
        # daemon plus the library's process for sshpool, the one process
        # of the floor, ssh (and its ControlMaster) for OpenSSH.  With the
        # servers on the same two cores, this is what the tools compete
        # for.
        pid = self.start_daemon()
        try:
            c0, d0 = self.children_cpu_s(), self.cpu_s(pid)
            t = self.samples(self.splat_cmd(hosts=host, n=runs, w=1,
                                            cmd=cmd, nbytes=size))
            cpu = (self.children_cpu_s() - c0 + self.cpu_s(pid) - d0)
            self.add(sc, "sshpool", "sshpool library (warm pool)", "ms", t,
                     bytes=size, cpu_s=cpu / streams)
        finally:
            self.stop_daemon()
        c0 = self.children_cpu_s()
        t = self.samples([self.floor, "-h", addr, "-p", port, "-l",
                          self.a.user, "-i", self.a.key, "-k",
                          self.a.known_hosts, "-n", str(runs), "-w", "1",
                          "-c", cmd, "-B", str(size)])
        self.add(sc, "floor", "libssh floor (open session)", "ms", t,
                 bytes=size, cpu_s=(self.children_cpu_s() - c0) / streams)
        c0 = self.children_cpu_s()
        t = self.ssh_stream(self.ssh_cmd(alias, cmd), size, runs)
        self.add(sc, "ssh_fresh", "OpenSSH fresh connection", "ms", t,
                 bytes=size, cpu_s=(self.children_cpu_s() - c0) / streams)
        self.start_master(alias)
        try:
            c0, m0 = self.children_cpu_s(), self.cpu_s(self.master[0])
            t = self.ssh_stream(self.ssh_cmd("-S", self.ctl, alias, cmd),
                                size, runs)
            cpu = (self.children_cpu_s() - c0 +
                   self.cpu_s(self.master[0]) - m0)
            self.add(sc, "ssh_control", "OpenSSH ControlMaster (ssh -S)",
                     "ms", t, bytes=size, cpu_s=cpu / streams)
        finally:
            self.stop_master()

        n, mb = p["multi_hosts"], p["multi_mb"]
        hf = self.hostfile(n)
        size = mb * MB
        cmd = "head -c %dM /dev/zero" % mb
        runs = p["multi_runs"]
        sc = "stream_%d" % n
        note("throughput: `%s` from each of %d hosts, %d runs each" %
             (cmd, n, runs))
        self.start_daemon()
        try:
            self.add(sc, "sshpool", "sshpool library (warm pool)", "ms",
                     self.samples(self.splat_cmd(hostfile=hf, n=runs, w=1,
                                                 cmd=cmd, nbytes=size)),
                     bytes=size * n)
        finally:
            self.stop_daemon()
        for lib in ("paramiko", "asyncssh"):
            self.add(sc, lib, "%s (warm)" % lib, "ms",
                     self.samples(self.peer_cmd(
                         lib, "fanout", "--hosts", hf, "--runs", str(runs),
                         "--warm", "--cmd", cmd, "--bytes", str(size))),
                     bytes=size * n)

    def ssh_stream(self, cmd, size, runs):
        """Wall times of runs of an ssh command whose standard output is
        counted (it must be exactly size bytes)."""
        ms = []
        for i in range(runs + 1):
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL,
                                 start_new_session=True)
            got = 0
            try:
                while True:
                    d = p.stdout.read1(1 << 20)
                    if not d:
                        break
                    got += len(d)
                rc = p.wait(STEP_TIMEOUT_S)
            except BaseException:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                raise
            t1 = time.perf_counter()
            if rc != 0 or got != size:
                raise BenchError("%s: exit %d, %d bytes" %
                                 (" ".join(cmd), rc, got))
            if i > 0:  # the first run is a warm-up
                ms.append((t1 - t0) * 1e3)
        return ms

    def memory(self):
        p = self.p
        n = min(p["memory_hosts"], len(self.hosts))
        hf = self.hostfile(n)
        note("memory: %d idle pooled sessions" % n)
        pid = self.start_daemon()
        try:
            # The idle daemon after one client round trip, settled.
            self.call([self.cli, "-s", self.sock, "status"])
            time.sleep(1)
            base = self.rss_kb(pid)
            self.call([self.cli, "-s", self.sock, "connect", "-h", hf])
            time.sleep(2)
            full = self.rss_kb(pid)
            m = {"hosts": n, "rss_idle_kb": base, "rss_sessions_kb": full,
                 "per_session_kb": round((full - base) / n, 2)}
            note("  RSS idle %d KB, with %d sessions %d KB: %.1f KB each" %
                 (base, n, full, m["per_session_kb"]))

            k, mb = p["memory_clients"], p["memory_mb"]
            cmd = "head -c %dM /dev/zero" % mb
            note("memory: %d library clients streaming %d MB each" % (k, mb))
            procs = [subprocess.Popen(
                self.splat_cmd(hosts=self.hosts[i], cmd=cmd,
                               nbytes=mb * MB),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                start_new_session=True) for i in range(k)]
            for c in procs:
                self.record(c.pid)
            rss = []
            deadline = time.monotonic() + STEP_TIMEOUT_S
            try:
                while any(c.poll() is None for c in procs):
                    if time.monotonic() > deadline:
                        raise BenchError("streaming clients timed out")
                    rss.append(self.rss_kb(pid))
                    time.sleep(RSS_SAMPLE_S)
            finally:
                for c in procs:
                    if c.poll() is None:
                        c.kill()
                    c.wait()
            if any(c.returncode != 0 for c in procs):
                raise BenchError("a streaming client failed")
            m.update(clients=k, stream_mb=mb,
                     rss_stream_peak_kb=max(rss),
                     rss_stream_median_kb=statistics.median(rss),
                     rss_samples=len(rss))
            note("  RSS while streaming: peak %d KB, median %d KB" %
                 (max(rss), statistics.median(rss)))
            self.results["memory"] = m
        finally:
            self.stop_daemon()

    # ---- Jump hosts ----

    def jump_setup(self, env, n):
        """Writes the daemon's and OpenSSH's configurations for the jump
        fixture (fleet.sh jump-start's env) and the host files of n
        targets; returns what jump() needs."""
        targets = env["JUMP_TARGETS"].split()
        if n > len(targets):
            raise BenchError("the jump fixture has %d targets, %d wanted" %
                             (len(targets), n))
        targets = targets[:n]
        user, addr = env["JUMP_USER"], env["JUMP_BASTION_ADDR"]
        port = env["JUMP_BASTION_PORT"]
        j = {"n": n, "bastion": "%s:%s" % (addr, port),
             "conf": os.path.join(self.work, "sshpoold.jump.conf"),
             "ssh_config": os.path.join(self.work, "jump_ssh_config"),
             "ctl": os.path.join(self.work, "ctl.jump"),
             "hosts": os.path.join(self.work, "jump.hosts.%d" % n),
             "aliases": os.path.join(self.work, "jump.aliases.%d" % n),
             "cm_aliases": os.path.join(self.work, "jump.cm.%d" % n),
             "bastion_key": env["JUMP_BASTION_KEY"],
             "key": env["JUMP_TARGET_KEY"],
             "known_hosts": env["JUMP_KNOWN_HOSTS"], "user": user}
        # The daemon: the regular configuration's settings, both keys,
        # the fixture's known_hosts and every target behind the bastion.
        with open(j["conf"], "w") as f:
            f.write("""User {user}
IdentityFile {bkey}
IdentityFile {tkey}
UserKnownHostsFile {kh}
StrictHostKeyChecking yes
LogLevel ERROR
MaxHandshakeRate 1000
MaxConnectionsPerUser 256
ConnectTimeout 60
Host 127.0.0.*
	ProxyJump {user}@{addr}:{port}
""".format(user=user, bkey=j["bastion_key"], tkey=j["key"],
                kh=j["known_hosts"], addr=addr, port=port))
        # OpenSSH: jb is the bastion, jbm the bastion through the
        # ControlMaster at ctl; tNNNN the targets behind jb, mNNNN behind
        # jbm.  ProxyJump hands only -F on to the jump's ssh, so all of it
        # is in this one file.
        hosts, aliases, cm = [], [], []
        with open(j["ssh_config"], "w") as f:
            f.write("Host jb\n\tHostName %s\n\tPort %s\n" % (addr, port))
            f.write("Host jbm\n\tHostName %s\n\tPort %s\n\tControlPath %s\n"
                    % (addr, port, j["ctl"]))
            for i, t in enumerate(targets):
                taddr, tport = t.rsplit(":", 1)
                for prefix, hop, names in (("t", "jb", aliases),
                                           ("m", "jbm", cm)):
                    names.append("%s%04d" % (prefix, i + 1))
                    f.write("Host %s\n\tHostName %s\n\tPort %s\n"
                            "\tProxyJump %s\n" % (names[-1], taddr, tport,
                                                  hop))
                hosts.append(t)
            f.write("""Host *
	User {user}
	IdentityFile {bkey}
	IdentityFile {tkey}
	IdentitiesOnly yes
	BatchMode yes
	StrictHostKeyChecking yes
	UserKnownHostsFile {kh}
	GlobalKnownHostsFile /dev/null
	CheckHostIP no
	ConnectTimeout 60
	ControlMaster no
	ControlPath none
	ForwardAgent no
	ForwardX11 no
	LogLevel ERROR
""".format(user=user, bkey=j["bastion_key"], tkey=j["key"],
                kh=j["known_hosts"]))
        for path, names in ((j["hosts"], hosts), (j["aliases"], aliases),
                            (j["cm_aliases"], cm)):
            with open(path, "w") as f:
                f.write("".join(h + "\n" for h in names))
        return j

    def jump(self):
        if not self.a.jump_env:
            note("jump: skipped: %s" % (self.a.jump_skip or
                                        "no jump fixture (bench.sh)"))
            self.jump_skipped = self.a.jump_skip or "no jump fixture"
            return
        env = read_env(self.a.jump_env)
        for n in self.p["jump_sizes"]:
            self.jump_size(env, n)

    def jump_size(self, env, n):
        rounds = self.p["jump_rounds"]
        j = self.jump_setup(env, n)
        sc = "jump_%d" % n
        fan = str(min(FAN, n))
        direct = self.hostfile(n)
        cold_sock = os.path.join(self.work, "sshpoold.jump-cold.sock")
        warm_sock = os.path.join(self.work, "sshpoold.jump.sock")
        note("jump: `true` on %d targets behind %s, %d rounds (+1 warm-up) "
             "of every tool" % (n, j["bastion"], rounds))
        ssh = ["ssh", "-F", j["ssh_config"]]
        xargs = ["xargs", "-P", fan, "-I{}", "-a"]
        tools = []      # (key, label, mode, one round -> ms)
        daemons, peers = [], []

        def peer(lib, mode):
            pr = Served(self, self.peer_cmd(
                lib, "jump", "--hosts", j["hosts"], "--bastion",
                j["bastion"], "--bastion-key", j["bastion_key"],
                "--" + mode, user=j["user"], key=j["key"],
                known_hosts=j["known_hosts"]), "%s-%s" % (lib, mode))
            peers.append(pr)
            return pr.round

        def cold_round():
            d = self.spawn_daemon(j["conf"], cold_sock)
            try:
                return self.call(self.cli_cmd(hostfile=j["hosts"],
                                              sock=cold_sock))
            finally:
                self.halt_daemon(d)

        try:
            daemons.append(self.spawn_daemon(j["conf"], warm_sock))
            daemons.append(self.spawn_daemon(
                self.conf, os.path.join(self.work, "sshpoold.direct.sock")))
            direct_sock = os.path.join(self.work, "sshpoold.direct.sock")
            tools += [
                ("sshpool_warm", "sshpool library, warm, via bastion",
                 "warm", lambda: self.samples(self.splat_cmd(
                     hostfile=j["hosts"], n=1, w=0, sock=warm_sock))[0]),
                ("sshpool_cli_warm", "sshpool CLI, warm, via bastion",
                 "warm", lambda: self.call(self.cli_cmd(
                     hostfile=j["hosts"], sock=warm_sock))),
                ("sshpool_direct_warm",
                 "sshpool library, warm, direct (fleet)", "warm",
                 lambda: self.samples(self.splat_cmd(
                     hostfile=direct, n=1, w=0, sock=direct_sock))[0]),
                ("sshpool_cold", "sshpool CLI, cold (new daemon), via "
                 "bastion", "cold", cold_round)]
            for lib in ("paramiko", "asyncssh"):
                for mode in ("warm", "cold"):
                    tools.append(("%s_%s" % (lib, mode),
                                  "%s, %s, via bastion" % (lib, mode), mode,
                                  peer(lib, mode)))
            for pr in peers:
                pr.ready()
            self.start_master("jbm", config=j["ssh_config"], ctl=j["ctl"])
            tools += [
                ("ssh_fresh", "OpenSSH ssh -J, fresh (xargs -P %s)" % fan,
                 "cold", lambda: self.call(
                     xargs + [j["aliases"]] + ssh + ["-J", "jb", "{}",
                                                     "true"])),
                ("ssh_control", "OpenSSH, ControlMaster to the bastion "
                 "(xargs -P %s)" % fan, "cold", lambda: self.call(
                     xargs + [j["cm_aliases"]] + ssh + ["{}", "true"])),
                ("pssh", "pssh (parallel-ssh -p %s), ProxyJump" % fan,
                 "cold", lambda: self.call(
                     ["parallel-ssh", "-h", j["aliases"], "-p", fan, "-t",
                      "600", "-x", "-F " + j["ssh_config"], "true"])),
                ("pdsh", "pdsh (-R ssh -f %s), ProxyJump" % fan, "cold",
                 lambda: self.call(
                     ["pdsh", "-R", "ssh", "-f", fan, "-S", "-t", "60", "-w",
                      "^" + j["aliases"], "true"],
                     env={"PDSH_SSH_ARGS": "-F %s %%h" % j["ssh_config"]})),
                ("clush", "clush (-f %s), ProxyJump" % fan, "cold",
                 lambda: self.call(
                     ["clush", "-f", fan, "-S", "-q", "--hostfile",
                      j["aliases"], "-o", "-F " + j["ssh_config"],
                      "true"]))]
            got = {k: [] for k, _, _, _ in tools}
            # Round 0 is everyone's warm-up: it opens the warm pools (the
            # sshpool daemon's, the ControlMaster's was opened above).
            for r in range(rounds + 1):
                for k, _, _, fn in tools:
                    ms = fn()
                    if r > 0:
                        got[k].append(ms)
                note("  round %d of %d done" % (r, rounds))
            for k, label, mode, _ in tools:
                self.add(sc, k, label, "ms", got[k], mode=mode, targets=n,
                         bastion=j["bastion"])
        finally:
            self.stop_master()
            for pr in peers:
                pr.stop()
            for d in daemons:
                self.halt_daemon(d)

    def cpu(self):
        p = self.p
        host = self.hosts[0]
        n = p["cpu_commands"]
        note("cpu: %d warm sequential commands" % n)
        pid = self.start_daemon()
        try:
            self.call(self.splat_cmd(hosts=host, n=10))
            c0, t0 = self.cpu_s(pid), time.perf_counter()
            self.call(self.splat_cmd(hosts=host, n=n))
            c1, t1 = self.cpu_s(pid), time.perf_counter()
        finally:
            self.stop_daemon()
        cpu = {"commands": n, "cpu_s": round(c1 - c0, 3),
               "cpu_s_per_10000": round((c1 - c0) * 10000 / n, 3),
               "cpu_us_per_command": round((c1 - c0) * 1e6 / n, 1),
               "wall_s": round(t1 - t0, 3)}
        note("  %.3f s CPU for %d commands: %.3f s per 10,000" %
             (c1 - c0, n, cpu["cpu_s_per_10000"]))
        lo, hi = p["callgrind"]
        ir = {}
        for k in (lo, hi):
            note("cpu: callgrind, %d commands" % k)
            out = os.path.join(self.work, "callgrind.%d" % k)
            self.start_daemon(valgrind=out)
            try:
                self.call(self.splat_cmd(hosts=host, n=k, w=1),
                          timeout=STEP_TIMEOUT_S)
            finally:
                self.stop_daemon()
            ir[k] = self.callgrind_total(out)
        cpu.update(callgrind_runs=[lo, hi],
                   callgrind_ir=[ir[lo], ir[hi]],
                   instructions_per_command=round((ir[hi] - ir[lo]) /
                                                  (hi - lo)))
        note("  %d instructions per command" %
             cpu["instructions_per_command"])
        self.results["cpu"] = cpu

    @staticmethod
    def callgrind_total(path):
        total = 0
        found = False
        for name in os.listdir(os.path.dirname(path)):
            full = os.path.join(os.path.dirname(path), name)
            if not full.startswith(path):
                continue
            with open(full) as f:
                for line in f:
                    if line.startswith("totals:") or \
                       line.startswith("summary:"):
                        total += int(line.split()[1])
                        found = True
                        break
        if not found:
            raise BenchError("no callgrind totals in " + path)
        return total

    # ---- Report ----

    def machine(self):
        cpu = "unknown"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
        ssh = subprocess.run(["ssh", "-V"], capture_output=True,
                             text=True).stderr.strip()
        # Every tool runs in a session of its own, as sshpoold (a service)
        # and its clients do; with autogroup scheduling each session gets
        # an equal share of the CPUs.
        try:
            with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
                autogroup = f.read().strip() == "1"
        except OSError:
            autogroup = False
        return {"nproc": os.cpu_count(), "cpu": cpu, "mem_mb": mem,
                "kernel": platform.release(), "openssh": ssh,
                "python": platform.python_version(),
                "autogroup": autogroup}

    def report(self, meta):
        r = self.results
        lines = []
        out = lines.append
        m = meta["machine"]
        out("sshpool benchmark, %s%s" % (meta["date"],
                                          " (--quick)" if meta["quick"]
                                          else ""))
        out("")
        out("Machine: %d CPUs (%s), %d MB RAM, Linux %s (autogroup "
            "scheduling %s), %s; sshd on the same machine. Load average "
            "before: %s, after: %s." %
            (m["nproc"], m["cpu"], m["mem_mb"], m["kernel"],
             "on" if m.get("autogroup") else "off", m["openssh"],
             meta["load_before"], meta["load_after"]))
        if "latency" in r:
            t = r["latency"]
            out("")
            out("### 1. Sequential latency: `true` on 1 host (ms)")
            out("")
            out("| Method | Runs | Median | Min | Max | library / this "
                "| CLI / this |")
            out("|---|--:|--:|--:|--:|--:|--:|")
            for k, s in t.items():
                out("| %s | %d | %.3f | %.3f | %.3f | %s | %s |" % (
                    s["label"], s["runs"], s["median"], s["min"], s["max"],
                    ratio(t, "library", k), ratio(t, "cli", k)))
        sizes = sorted(int(k.split("_")[1]) for k in r
                       if k.startswith("fanout_"))
        if sizes:
            out("")
            out("### 2. Fan-out: `true` on N hosts at once (seconds)")
            out("")
            out("| Hosts | Method | Runs | Median | Min | Max "
                "| sshpool warm / this | sshpool cold / this |")
            out("|--:|---|--:|--:|--:|--:|--:|--:|")
            for n in sizes:
                t = r["fanout_%d" % n]
                for k, s in t.items():
                    out("| %d | %s | %d | %.3f | %.3f | %.3f | %s | %s |" % (
                        n, s["label"], s["runs"], s["median"] / 1e3,
                        s["min"] / 1e3, s["max"] / 1e3,
                        ratio(t, "sshpool_warm", k),
                        ratio(t, "sshpool_cold", k)))
        streams = sorted(k for k in r if k.startswith("stream_"))
        if streams:
            out("")
            out("### 3. Throughput (seconds, MB/s of the median)")
            out("")
            out("| Stream | Method | Runs | Median s | Min s | Max s "
                "| MB/s | sshpool speed / this | CPU s per stream |")
            out("|---|---|--:|--:|--:|--:|--:|--:|--:|")
            for sc in streams:
                t = r[sc]
                n = int(sc.split("_")[1])
                what = "%d MB from 1 host" % (t["sshpool"]["bytes"] // MB) \
                    if n == 1 else "%d MB from each of %d hosts" % (
                        t["sshpool"]["bytes"] // MB // n, n)
                for k, s in t.items():
                    out("| %s | %s | %d | %.3f | %.3f | %.3f | %.0f | %s "
                        "| %s |"
                        % (what, s["label"], s["runs"], s["median"] / 1e3,
                           s["min"] / 1e3, s["max"] / 1e3,
                           s["bytes"] / MB / (s["median"] / 1e3),
                           ratio(t, k, "sshpool"),
                           "%.3f" % s["cpu_s"] if "cpu_s" in s else ""))
        if "memory" in r:
            mm = r["memory"]
            out("")
            out("### 4. Daemon memory (RSS)")
            out("")
            out("| Measure | Value |")
            out("|---|--:|")
            out("| idle daemon | %d KB |" % mm["rss_idle_kb"])
            out("| with %d idle pooled sessions | %d KB |" %
                (mm["hosts"], mm["rss_sessions_kb"]))
            out("| per idle pooled session | %.1f KB |" %
                mm["per_session_kb"])
            if "rss_stream_peak_kb" in mm:
                out("| %d clients streaming %d MB each: peak | %d KB |" %
                    (mm["clients"], mm["stream_mb"],
                     mm["rss_stream_peak_kb"]))
                out("| %d clients streaming %d MB each: median | %d KB |" %
                    (mm["clients"], mm["stream_mb"],
                     mm["rss_stream_median_kb"]))
        if "cpu" in r:
            c = r["cpu"]
            out("")
            out("### 5. Daemon CPU per command")
            out("")
            out("| Measure | Value |")
            out("|---|--:|")
            out("| user+sys over %d warm commands | %.3f s |" %
                (c["commands"], c["cpu_s"]))
            out("| user+sys per 10,000 warm commands | %.3f s |" %
                c["cpu_s_per_10000"])
            out("| per command | %.1f us |" % c["cpu_us_per_command"])
            out("| instructions per command (callgrind, %d vs %d commands) "
                "| %d |" % (c["callgrind_runs"][1], c["callgrind_runs"][0],
                            c["instructions_per_command"]))
        sizes = sorted(int(k.split("_")[1]) for k in r
                       if k.startswith("jump_"))
        if sizes or self.jump_skipped:
            out("")
            out("### 6. Jump hosts: `true` on N targets behind one bastion "
                "(ms)")
            out("")
        if self.jump_skipped:
            out("Skipped: %s." % self.jump_skipped)
        if sizes:
            out("Rounds interleaved (every tool once per round), the first "
                "round a warm-up and not counted. p90: nearest rank, with "
                "10 runs or more.")
            out("")
            out("| Targets | Method | Runs | Median | p90 | Min | Max "
                "| sshpool warm / this | sshpool cold / this |")
            out("|--:|---|--:|--:|--:|--:|--:|--:|--:|")
            for n in sizes:
                t = r["jump_%d" % n]
                for k, s in t.items():
                    out("| %d | %s | %d | %.1f | %s | %.1f | %.1f | %s | %s "
                        "|" % (n, s["label"], s["runs"], s["median"],
                               "%.1f" % s["p90"] if "p90" in s else "",
                               s["min"], s["max"],
                               ratio(t, "sshpool_warm", k),
                               ratio(t, "sshpool_cold", k)))
        tg = self.targets()
        if tg:
            out("")
            out("### Targets (issue 7)")
            out("")
            out("| Target | Measured | Limit | Met |")
            out("|---|--:|--:|---|")
            for t in tg:
                out("| %s | %s | %s | %s |" % (
                    t["target"], fmt(t["value"]), t["limit"],
                    "n/a" if t["met"] is None else
                    ("yes" if t["met"] else "**no**")))
        meta["targets"] = tg
        return "\n".join(lines)

    def targets(self):
        r = self.results
        tg = []

        def add(name, value, op, limit):
            met = None
            if value is not None:
                met = {"<=": value <= limit, "<": value < limit,
                       ">=": value >= limit}[op]
            tg.append({"target": name, "value": value,
                       "limit": "%s %s" % (op, limit), "met": met})

        if "latency" in r:
            t = r["latency"]
            add("library / libssh floor, sequential", rv(t, "library",
                                                        "floor"),
                "<=", 1.15)
            add("library / best peer (paramiko, asyncssh, ssh -S)",
                rv(t, "library", min(
                    ("paramiko", "asyncssh", "ssh_control"),
                    key=lambda k: t[k]["median"])), "<=", 1.0)
            add("CLI / OpenSSH ControlMaster", rv(t, "cli", "ssh_control"),
                "<=", 0.6)
        for n in sorted(int(k.split("_")[1]) for k in r
                        if k.startswith("fanout_")):
            t = r["fanout_%d" % n]
            best = min(("paramiko_warm", "asyncssh_warm"),
                       key=lambda k: t[k]["median"])
            add("warm fan-out %d: sshpool / best warm peer (%s)" %
                (n, best.split("_")[0]), rv(t, "sshpool_warm", best),
                "<=", 0.8)
            for k in ("pssh", "pdsh", "clush"):
                add("warm fan-out %d: sshpool / %s" % (n, k),
                    rv(t, "sshpool_warm", k), "<=", 0.04)
            add("cold fan-out %d: sshpool / asyncssh cold" % n,
                rv(t, "sshpool_cold", "asyncssh_cold"), "<=", 0.9)
        if "stream_1" in r:
            t = r["stream_1"]
            add("1 stream: sshpool speed / libssh floor",
                rv(t, "floor", "sshpool"), ">=", 0.9)
            add("1 stream: sshpool speed / OpenSSH (fresh)",
                rv(t, "ssh_fresh", "sshpool"), ">=", 1.3)
            add("1 stream: sshpool speed / OpenSSH (ssh -S)",
                rv(t, "ssh_control", "sshpool"), ">=", 1.3)
        for n in sorted(int(k.split("_")[1]) for k in r
                        if k.startswith("jump_")):
            t = r["jump_%d" % n]
            add("jump %d: sshpool warm via bastion / sshpool direct warm" %
                n, rv(t, "sshpool_warm", "sshpool_direct_warm"), "<=", 1.3)
            peers = [k for k in t if not k.startswith("sshpool")]
            if peers:
                best = min(peers, key=lambda k: t[k]["median"])
                add("jump %d: sshpool warm / fastest peer (%s)" % (n, best),
                    rv(t, "sshpool_warm", best), "<", 1.0)
        if "memory" in r:
            add("RSS per idle pooled session, %d sessions (KB)" %
                r["memory"]["hosts"], r["memory"]["per_session_kb"], "<=", 48)
        return tg

    def run(self):
        self.write_conf()
        only = self.a.only.split(",") if self.a.only else SCENARIOS
        started = datetime.datetime.now(datetime.timezone.utc)
        for s in SCENARIOS:
            if s in only:
                getattr(self, s)()
        meta = {"date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "quick": self.a.quick, "scenarios": list(only),
                "hosts": len(self.hosts), "fan_width": FAN,
                "machine": self.machine(),
                "load_before": self.a.load_before,
                "load_after": " ".join(open("/proc/loadavg").read().split()
                                       [:3]),
                "duration_s": round(time.time() - started.timestamp())}
        if self.jump_skipped:
            meta["jump_skipped"] = self.jump_skipped
        text = self.report(meta)
        print(text)
        meta["results"] = self.results
        meta["markdown"] = text
        with open(self.a.out, "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")
        note("JSON in %s (%d s)" % (self.a.out, meta["duration_s"]))


class Served:
    """A peers.py process in its jump mode: set up once, then one timed
    round per request, its standard error in WORK/peer-NAME.log."""

    def __init__(self, bench, cmd, name):
        self.log_path = os.path.join(bench.work, "peer-%s.log" % name)
        self.name = name
        with open(self.log_path, "wb") as log:
            self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=log,
                                      bufsize=0, start_new_session=True)
        bench.record(self.p.pid)
        self.buf = b""

    def line(self):
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [],
                                              left)[0]:
                raise BenchError("%s: no answer in %ds" %
                                 (self.name, STEP_TIMEOUT_S))
            d = os.read(self.p.stdout.fileno(), 4096)
            if not d:
                with open(self.log_path, errors="replace") as f:
                    sys.stderr.write(f.read()[-4000:])
                raise BenchError("%s: ended (exit status %s)" %
                                 (self.name, self.p.wait()))
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def ready(self):
        if self.line() != "ready":
            raise BenchError("%s: not ready" % self.name)

    def round(self):
        self.p.stdin.write(b"run\n")
        return float(self.line())

    def stop(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
                self.p.wait(STOP_WAIT_S)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()


def read_env(path):
    """The KEY='value' lines of a fleet.sh env file."""
    env = {}
    with open(path) as f:
        for line in f:
            k, sep, v = line.strip().partition("=")
            if sep:
                env[k] = v.strip("'")
    return env


def rv(t, a, b):
    if a not in t or b not in t:
        return None
    return round(t[a]["median"] / t[b]["median"], 4)


def ratio(t, a, b):
    v = rv(t, a, b)
    return "" if v is None or a == b else fmt(v)


def fmt(v):
    if v is None:
        return "n/a"
    return "%.3g" % v if abs(v) < 100 else "%.0f" % v


def main():
    p = argparse.ArgumentParser(prog="bench.py")
    for k in ("build", "work", "hosts", "aliases", "ssh-config",
              "known-hosts", "key", "user", "out"):
        p.add_argument("--" + k, required=True)
    p.add_argument("--load-before", default="")
    p.add_argument("--jump-env", default="")
    p.add_argument("--jump-skip", default="")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", default="")
    a = p.parse_args()
    # SIGTERM from bench.sh's cleanup unwinds through the finally blocks,
    # which stop the daemon and the ControlMaster.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    b = Bench(a)
    try:
        b.run()
    except BenchError as e:
        sys.exit("bench.py: %s" % e)
    finally:
        b.stop_master()
        b.stop_daemon()


if __name__ == "__main__":
    main()
