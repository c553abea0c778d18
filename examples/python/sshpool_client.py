#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Run a command on hosts through sshpoold, with the standard library only.

usage: sshpool_client.py SOCKET COMMAND HOST...
Prints "host: line" for each output line, then "host: exit N" (or the
error code); exits 0 when every host exited 0.  Protocol: proto/PROTOCOL.md.
"""
import base64, json, socket, sys

sock_path, command, hosts = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
req = {"v": 1, "id": "r1", "op": "run", "hosts": hosts, "command": command}
s.sendall(json.dumps(req).encode() + b"\n")
failed = False
for line in s.makefile("rb"):
    ev = json.loads(line)
    kind, host = ev["event"], ev.get("host")
    if kind in ("stdout", "stderr"):
        for text in base64.b64decode(ev["data"]).decode(errors="replace").splitlines():
            print(f"{host}: {text}")
    elif kind == "exit":
        failed |= ev.get("status") != 0
        print(f"{host}: exit {ev.get('status', 'signal ' + str(ev.get('signal')))}")
    elif kind == "error":
        failed = True
        print(f"{host or 'request'}: error {ev['code']}: {ev['message']}")
        if host is None:
            break
    elif kind == "done":
        print(f"done: {ev['ok']} ok, {ev['failed']} failed, {ev['errors']} errors")
        break
sys.exit(1 if failed else 0)
