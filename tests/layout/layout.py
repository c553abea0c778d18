#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
The tree's shape, checked: which room a file is in says which thread runs
it, so the rooms must not reach into each other, and no file or function
may grow past what a reader can hold.

  - no C file in daemon/, proto/ or client/ over MAX_FILE_LINES lines;
  - no function there over MAX_FUNCTION_LINES lines (from the line with
    its name to its closing brace);
  - daemon/worker/ includes no header of daemon/control/ and the reverse;
    the shared files of daemon/ include neither, but for main.c, which
    starts both.

Usage: layout.py SOURCE_DIR.  Prints every violation; exits 1 if any.
"""
import os
import re
import sys

MAX_FILE_LINES = 1500
MAX_FUNCTION_LINES = 120
ROOMS = ("daemon", "proto", "client")
START_UP = {"daemon/main.c"}

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\(")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def sources(top):
    for room in ROOMS:
        for d, _, files in os.walk(os.path.join(top, room)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    p = os.path.join(d, f)
                    yield os.path.relpath(p, top), p


def functions(lines):
    """(name, first line, length) of each top-level function body."""
    name, first = None, None
    for i, line in enumerate(lines):
        if NAME.match(line):
            name, first = line.split("(")[0], i
        elif line.startswith("{") and first is not None:
            start = first
            for j in range(i + 1, len(lines)):
                if lines[j].startswith("}"):
                    yield name, start + 1, j - start + 1
                    break
            first = None
        elif line.strip() == "" or line.startswith(("}", "#")):
            first = None


def headers_of(top, room):
    d = os.path.join(top, "daemon", room)
    return {f for f in os.listdir(d) if f.endswith(".h")} if \
        os.path.isdir(d) else set()


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "."
    control_h = headers_of(top, "control")
    worker_h = headers_of(top, "worker")
    bad = []
    nfiles = nfuncs = 0
    for rel, path in sources(top):
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        nfiles += 1
        if rel.endswith(".c") and len(lines) - 1 > MAX_FILE_LINES:
            bad.append(f"{rel}: {len(lines) - 1} lines "
                       f"(at most {MAX_FILE_LINES})")
        for name, at, n in functions(lines):
            nfuncs += 1
            if n > MAX_FUNCTION_LINES:
                bad.append(f"{rel}:{at}: {name} has {n} lines "
                           f"(at most {MAX_FUNCTION_LINES})")
        parts = rel.split(os.sep)
        if parts[0] != "daemon" or rel in START_UP:
            continue
        room = parts[1] if len(parts) > 2 else "shared"
        forbidden = {"control": worker_h, "worker": control_h,
                     "shared": control_h | worker_h}.get(room, set())
        for i, line in enumerate(lines):
            m = INCLUDE.match(line)
            if m and os.path.basename(m.group(1)) in forbidden:
                bad.append(f"{rel}:{i + 1}: the {room} room includes "
                           f"{m.group(1)} of another room")
    for b in bad:
        print(b)
    print(f"layout: {nfiles} files, {nfuncs} functions, "
          f"{len(bad)} violations")
    if nfiles == 0 or nfuncs == 0:
        print("layout: nothing was checked", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
