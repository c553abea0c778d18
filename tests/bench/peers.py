#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""The Python peers of the sshpool benchmark: paramiko and asyncssh.

    peers.py LIB latency --host ADDR:PORT -n N [-w W] [--cmd CMD] COMMON
    peers.py LIB fanout --hosts FILE --runs R (--warm | --cold)
             [--cmd CMD] [--bytes B] COMMON
    peers.py LIB jump --hosts FILE --bastion ADDR:PORT --bastion-key KEY
             (--warm | --cold) [--cmd CMD] COMMON
    COMMON = --user USER --key KEY --known-hosts FILE

LIB is paramiko or asyncssh.  Each is used the way its users commonly
drive many hosts: paramiko as a thread pool with one SSHClient per host,
asyncssh as one event loop with asyncio.gather over one connection per
host.  Host keys are checked strictly against FILE (parsed once, untimed),
the client key is FILE's key only (no agent, no ~/.ssh/config), and every
socket has TCP_NODELAY (asyncssh sets it itself).

latency runs CMD N times in a row on one connection opened beforehand;
fanout runs CMD on every host of the file at once, R times: --warm on
connections opened beforehand (the pool is warm), --cold opening them in
the timed part (first contact) and closing them after it.  Every run checks
exit status 0 on every host (and with --bytes that each host wrote exactly
that many bytes to standard output) and stops the benchmark otherwise.
Prints one line per measured run: its wall time in milliseconds.

jump reaches every host of the file through one shared connection to the
bastion (logged in with KEY; the hosts with --key): paramiko opens a
direct-tcpip channel of the bastion's transport as each client's socket,
asyncssh connects with tunnel= the bastion connection, compression off.
It runs rounds on demand: it prints "ready" once set up (--warm: the
bastion and every host connected), then for every line read from standard
input runs CMD on every host at once and prints that round's wall time;
--cold opens the bastion connection and the hosts' in the timed part of
each round and closes them after it.  End of input ends it.
"""
import argparse
import socket
import sys
import time
import warnings

# asyncssh imports ciphers that cryptography deprecates: noise on stderr.
warnings.filterwarnings("ignore")

PARAMIKO_THREADS = 100  # pool size of the paramiko fan-out
CONNECT_TIMEOUT_S = 120
CHUNK = 65536


def fail(msg):
    sys.exit("peers.py: " + msg)


def split_hostport(spec):
    addr, _, port = spec.rpartition(":")
    return addr, int(port)


def read_hosts(path):
    with open(path) as f:
        return [split_hostport(l.strip()) for l in f if l.strip()]


def known_hosts_name(addr, port):
    return addr if port == 22 else "[%s]:%d" % (addr, port)


def check(where, status, got, want):
    if status != 0:
        fail("%s: exit status %s" % (where, status))
    if want is not None and got != want:
        fail("%s: %d bytes of output, expected %d" % (where, got, want))


# ---- paramiko ----


class Paramiko:
    def __init__(self, a):
        import paramiko

        self.paramiko = paramiko
        self.user = a.user
        self.pkey = paramiko.Ed25519Key.from_private_key_file(a.key)
        # Parsed once: each client gets only the keys of its own host.
        hk = paramiko.HostKeys(a.known_hosts)
        self.keys = {name: hk.lookup(name) for name in hk.keys()}

    def connect(self, addr, port, pkey=None, sock=None):
        p = self.paramiko
        if sock is None:
            sock = socket.create_connection((addr, port), CONNECT_TIMEOUT_S)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = p.SSHClient()
        name = known_hosts_name(addr, port)
        for keytype, key in (self.keys.get(name) or {}).items():
            c.get_host_keys().add(name, keytype, key)
        c.set_missing_host_key_policy(p.RejectPolicy())
        c.connect(addr, port=port, username=self.user,
                  pkey=pkey or self.pkey,
                  sock=sock, look_for_keys=False, allow_agent=False,
                  timeout=CONNECT_TIMEOUT_S, banner_timeout=CONNECT_TIMEOUT_S,
                  auth_timeout=CONNECT_TIMEOUT_S)
        return c

    @staticmethod
    def run(c, cmd, want):
        chan = c.get_transport().open_session()
        chan.exec_command(cmd)
        got = 0
        while True:
            d = chan.recv(CHUNK)
            if not d:
                break
            got += len(d)
        status = chan.recv_exit_status()
        chan.close()
        check(cmd, status, got, want)

    def latency(self, a):
        addr, port = split_hostport(a.host)
        c = self.connect(addr, port)
        ms = []
        for i in range(a.w + a.n):
            t0 = time.perf_counter()
            self.run(c, a.cmd, a.bytes)
            t1 = time.perf_counter()
            if i >= a.w:
                ms.append((t1 - t0) * 1e3)
        c.close()
        return ms

    def fanout(self, a):
        from concurrent.futures import ThreadPoolExecutor

        hosts = read_hosts(a.hosts)
        ms = []
        with ThreadPoolExecutor(min(len(hosts), PARAMIKO_THREADS)) as pool:
            clients = []
            if a.warm:
                clients = list(pool.map(lambda h: self.connect(*h), hosts))
            for _ in range(a.runs):
                t0 = time.perf_counter()
                if a.warm:
                    list(pool.map(lambda c: self.run(c, a.cmd, a.bytes),
                                  clients))
                else:
                    def first_contact(h):
                        c = self.connect(*h)
                        self.run(c, a.cmd, a.bytes)
                        return c
                    clients = list(pool.map(first_contact, hosts))
                t1 = time.perf_counter()
                ms.append((t1 - t0) * 1e3)
                if not a.warm:
                    for c in clients:
                        c.close()
                    clients = []
            for c in clients:
                c.close()
        return ms

    def connect_via(self, bastion, addr, port):
        chan = bastion.get_transport().open_channel(
            "direct-tcpip", (addr, port), ("127.0.0.1", 0),
            timeout=CONNECT_TIMEOUT_S)
        return self.connect(addr, port, sock=chan)

    def jump(self, a):
        from concurrent.futures import ThreadPoolExecutor

        hosts = read_hosts(a.hosts)
        baddr, bport = split_hostport(a.bastion)
        bkey = self.paramiko.Ed25519Key.from_private_key_file(a.bastion_key)

        def open_all(first_contact):
            bastion = self.connect(baddr, bport, pkey=bkey)
            return bastion, list(pool.map(
                lambda h: first_contact(bastion, h), hosts))

        def close_all(bastion, clients):
            # Untimed clean-up: a target's transport runs on a channel of
            # the bastion's, whose end may already have gone.
            for c in clients + [bastion]:
                try:
                    c.close()
                except (EOFError, OSError):
                    pass

        def contact_run(bastion, h):
            c = self.connect_via(bastion, *h)
            self.run(c, a.cmd, a.bytes)
            return c

        with ThreadPoolExecutor(min(len(hosts), PARAMIKO_THREADS)) as pool:
            bastion, clients = None, []
            if a.warm:
                bastion, clients = open_all(
                    lambda b, h: self.connect_via(b, *h))
            rounds(lambda: self.jump_round(a, pool, clients, open_all,
                                           close_all, contact_run))
            if bastion is not None:
                close_all(bastion, clients)

    def jump_round(self, a, pool, clients, open_all, close_all, contact_run):
        t0 = time.perf_counter()
        if a.warm:
            list(pool.map(lambda c: self.run(c, a.cmd, a.bytes), clients))
            t1 = time.perf_counter()
        else:
            bastion, cold = open_all(contact_run)
            t1 = time.perf_counter()
            close_all(bastion, cold)
        return (t1 - t0) * 1e3


def rounds(one_round):
    """The jump protocol: "ready", then one round per line of input."""
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for _ in sys.stdin:
        sys.stdout.write("%.3f\n" % one_round())
        sys.stdout.flush()


# ---- asyncssh ----


class AsyncSSH:
    def __init__(self, a):
        import asyncio
        import asyncssh

        self.asyncio = asyncio
        self.asyncssh = asyncssh
        self.options = asyncssh.SSHClientConnectionOptions(
            username=a.user,
            client_keys=[asyncssh.read_private_key(a.key)],
            known_hosts=asyncssh.read_known_hosts(a.known_hosts),
            agent_path=None, connect_timeout=CONNECT_TIMEOUT_S)

    async def connect(self, addr, port, tunnel=(), options=None):
        return await self.asyncssh.connect(addr, port, config=None,
                                           tunnel=tunnel,
                                           options=options or self.options)

    @staticmethod
    async def run(conn, cmd, want):
        proc = await conn.create_process(cmd, encoding=None)
        got = 0
        while True:
            d = await proc.stdout.read(CHUNK)
            if not d:
                break
            got += len(d)
        await proc.wait()
        check(cmd, proc.exit_status, got, want)

    async def latency_async(self, a):
        addr, port = split_hostport(a.host)
        conn = await self.connect(addr, port)
        ms = []
        for i in range(a.w + a.n):
            t0 = time.perf_counter()
            if a.bytes is None:
                r = await conn.run(a.cmd)
                check(a.cmd, r.exit_status, None, None)
            else:
                await self.run(conn, a.cmd, a.bytes)
            t1 = time.perf_counter()
            if i >= a.w:
                ms.append((t1 - t0) * 1e3)
        conn.close()
        await conn.wait_closed()
        return ms

    async def fanout_async(self, a):
        gather = self.asyncio.gather
        hosts = read_hosts(a.hosts)
        conns = []
        if a.warm:
            conns = await gather(*(self.connect(*h) for h in hosts))
        ms = []

        async def first_contact(h):
            conn = await self.connect(*h)
            await self.run(conn, a.cmd, a.bytes)
            return conn

        for _ in range(a.runs):
            t0 = time.perf_counter()
            if a.warm:
                await gather(*(self.run(c, a.cmd, a.bytes) for c in conns))
            else:
                conns = await gather(*(first_contact(h) for h in hosts))
            t1 = time.perf_counter()
            ms.append((t1 - t0) * 1e3)
            if not a.warm:
                await self.close_all(conns)
                conns = []
        await self.close_all(conns)
        return ms

    async def close_all(self, conns):
        for c in conns:
            c.close()
        await self.asyncio.gather(*(c.wait_closed() for c in conns))

    async def jump_async(self, a):
        gather = self.asyncio.gather
        loop = self.asyncio.get_running_loop()
        hosts = read_hosts(a.hosts)
        baddr, bport = split_hostport(a.bastion)
        ssh = self.asyncssh
        bopts = ssh.SSHClientConnectionOptions(
            options=self.options, compression_algs=None,
            client_keys=[ssh.read_private_key(a.bastion_key)])
        topts = ssh.SSHClientConnectionOptions(options=self.options,
                                               compression_algs=None)

        async def open_all(run):
            bastion = await self.connect(baddr, bport, options=bopts)

            async def one(h):
                conn = await self.connect(*h, tunnel=bastion, options=topts)
                if run:
                    await self.run(conn, a.cmd, a.bytes)
                return conn
            return bastion, await gather(*(one(h) for h in hosts))

        async def close_all(bastion, conns):
            await self.close_all(conns)
            await self.close_all([bastion])

        bastion, conns = None, []
        if a.warm:
            bastion, conns = await open_all(False)
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        while await loop.run_in_executor(None, sys.stdin.readline):
            t0 = time.perf_counter()
            if a.warm:
                await gather(*(self.run(c, a.cmd, a.bytes) for c in conns))
                t1 = time.perf_counter()
            else:
                cold_bastion, cold = await open_all(True)
                t1 = time.perf_counter()
                await close_all(cold_bastion, cold)
            sys.stdout.write("%.3f\n" % ((t1 - t0) * 1e3))
            sys.stdout.flush()
        if bastion is not None:
            await close_all(bastion, conns)

    def jump(self, a):
        self.asyncio.run(self.jump_async(a))

    def latency(self, a):
        return self.asyncio.run(self.latency_async(a))

    def fanout(self, a):
        return self.asyncio.run(self.fanout_async(a))


def main():
    p = argparse.ArgumentParser(prog="peers.py")
    p.add_argument("lib", choices=("paramiko", "asyncssh"))
    p.add_argument("mode", choices=("latency", "fanout", "jump"))
    p.add_argument("--user", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--known-hosts", required=True)
    p.add_argument("--host")
    p.add_argument("--hosts")
    p.add_argument("-n", type=int, default=1)
    p.add_argument("-w", type=int, default=0)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--cmd", default="true")
    p.add_argument("--bytes", type=int)
    p.add_argument("--bastion")
    p.add_argument("--bastion-key")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--warm", action="store_true")
    g.add_argument("--cold", action="store_true")
    a = p.parse_args()
    if a.mode == "latency" and not a.host:
        p.error("latency needs --host")
    if a.mode == "fanout" and (not a.hosts or not (a.warm or a.cold)):
        p.error("fanout needs --hosts and --warm or --cold")
    if a.mode == "jump" and (not a.hosts or not a.bastion or
                             not a.bastion_key or not (a.warm or a.cold)):
        p.error("jump needs --hosts, --bastion, --bastion-key and --warm "
                "or --cold")
    impl = (Paramiko if a.lib == "paramiko" else AsyncSSH)(a)
    if a.mode == "jump":
        impl.jump(a)
        return
    ms = impl.latency(a) if a.mode == "latency" else impl.fanout(a)
    sys.stdout.writelines("%.3f\n" % v for v in ms)


if __name__ == "__main__":
    main()
