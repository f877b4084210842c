"""Side-by-side runs on equivalent fresh objects.

``Pair`` makes two fresh volumes with the same history, ``kt.o.<tag>`` for
OpenAFS's vos and ``kt.k.<tag>`` for ours (set up with OpenAFS's vos, so
both start identical), runs one command line on each (``{v}`` in the
arguments stands for the tool's own volume), and compares stdout, stderr
and exit status after :func:`mask` (the volume name and ids, dates and
transaction ids replaced by placeholders: the only things that differ
between two fresh volumes), then the resulting state (``vos listvldb`` and
``vos examine`` of both volumes, masked the same way)."""

from __future__ import annotations

import os
import re
import subprocess

from .conftest import OURS, REPO, assert_same

ID = re.compile(rb"\b5\d{8}\b")
DATE = re.compile(rb"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
                  rb"Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}")


def env(cell) -> dict:
    e = cell.env()
    e.pop("AFSCELL", None)
    e["PYTHONPATH"] = str(REPO / "src") + os.pathsep + e.get("PYTHONPATH", "")
    return e


def run(cell, prog: str, *args, input: bytes | None = None, timeout: float = 600):
    """(stdout, stderr, status) of OpenAFS's vos ("openafs") or ours ("kafs")."""
    cmd = ["vos", *args] if prog == "openafs" else [*OURS, *args]
    r = subprocess.run(cmd, executable="/usr/bin/vos" if prog == "openafs" else None,
                       env=env(cell), capture_output=True, timeout=timeout,
                       input=input if input is not None else b"")
    return r.stdout, r.stderr, r.returncode


def vos(cell, *args) -> subprocess.CompletedProcess:
    """OpenAFS's vos -localauth, text output (for set-up and state)."""
    return cell.tool("vos", *args, "-localauth", timeout=600)


def mask(b: bytes, *names: str) -> bytes:
    for n in sorted(names, key=len, reverse=True):
        b = b.replace(n.encode(), b"<NAME>")
    b = ID.sub(b"<ID>", b)
    b = DATE.sub(b"<DATE>", b)
    return b


def masked(t, *names):
    return (mask(t[0], *names), mask(t[1], *names), t[2])


def remove_all(cell, name: str) -> None:
    """The volume, its clones and its entry gone (whatever state a test left)."""
    r = vos(cell, "listvldb", "-name", name)
    if r.returncode != 0:
        return
    vos(cell, "unlock", name)
    for m in re.finditer(r"server (\S+) partition /vicep(\S+) RO Site", r.stdout):
        vos(cell, "remove", m.group(1), m.group(2), name + ".readonly")
    vos(cell, "remove", "-id", name)
    vos(cell, "delentry", name)


def state(cell, name: str) -> tuple:
    """What the cell says of the volume: listvldb and examine, masked."""
    a = vos(cell, "listvldb", "-name", name)
    b = vos(cell, "examine", name)
    t = []
    for r in (a, b):
        text = mask(r.stdout.encode(), name)
        # the accessed/updated counters and sizes of two fresh volumes agree,
        # but "Last Access"/"Last Update" dates may be a second apart
        t.append((r.returncode, text))
    return tuple(t)


class Pair:
    def __init__(self, cell, tag: str):
        self.cell = cell
        self.o = "kt.o." + tag
        self.k = "kt.k." + tag
        for n in (self.o, self.k):
            remove_all(cell, n)

    def setup(self, *args: str) -> None:
        """One OpenAFS vos command line for each volume ({v}: its name)."""
        for n in (self.o, self.k):
            a = [x.format(v=n, h=self.cell.host) for x in args]
            r = vos(self.cell, *a)
            assert r.returncode == 0, (a, r.stdout, r.stderr)

    def create(self, part: str = "a", *extra: str) -> None:
        self.setup("create", self.cell.host, part, "{v}", *extra)

    def run(self, *args: str, input: bytes | None = None, names=()):
        """Run both; returns (openafs, kafs) masked."""
        ao = [x.format(v=self.o, h=self.cell.host) for x in args]
        ak = [x.format(v=self.k, h=self.cell.host) for x in args]
        o = run(self.cell, "openafs", *ao, input=input)
        k = run(self.cell, "kafs", *ak, input=input)
        return (masked(o, self.o, *[n.format(v=self.o) for n in names]),
                masked(k, self.k, *[n.format(v=self.k) for n in names]))

    def compare(self, *args: str, input: bytes | None = None, names=(), check_state=True):
        o, k = self.run(*args, input=input, names=names)
        assert_same(o, k, args)
        if check_state:
            assert state(self.cell, self.o) == state(self.cell, self.k)
        return o, k

    def cleanup(self) -> None:
        for n in (self.o, self.k):
            remove_all(self.cell, n)
