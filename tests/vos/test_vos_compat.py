"""OpenAFS 1.8.9 vos and ours, side by side on the same cell: stdout,
stderr and exit status must be byte-identical."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from .conftest import assert_same, cvol_partition, run_both

# Every read-only subcommand with each of its options, valid and invalid.
CASES = [
    # listvldb
    ("listvldb",),
    ("listvldb", "-noauth"),
    ("listvldb", "-quiet"),
    ("listvldb", "-nosort"),
    ("listvldb", "-nosort", "-quiet"),
    ("listvldb", "-noresolve"),
    ("listvldb", "-locked"),
    ("listvldb", "-locked", "-quiet"),
    ("listvldb", "-server", "afs1"),
    ("listvldb", "-server", "127.1.0.1", "-partition", "a"),
    ("listvldb", "-server", "afs1.test.example", "-partition", "/vicepa", "-locked"),
    ("listvldb", "-partition", "vicepa"),
    ("listvldb", "-partition", "b"),
    ("listvldb", "-server", "afs1", "-partition", "b", "-quiet"),
    ("listvldb", "-partition", "/vicepb", "-nosort"),
    ("listvldb", "-partition", "0"),
    ("listvldb", "-partition", "300"),
    ("listvldb", "-partition", "zz9"),
    ("listvldb", "-server", "nosuch.invalid"),
    ("listvldb", "-server", "127.0.0.1"),
    ("listvldb", "root.cell"),
    ("listvldb", "-name", "cvol.000"),
    ("listvldb", "-name", "cvol.000.readonly", "-noresolve"),
    ("listvldb", "-name", "cvol.010.backup"),
    ("listvldb", "-name", "cvol.001"),
    ("listvldb", "-name", "cvol.299"),
    ("listvldb", "-name", "536870912"),
    ("listvldb", "-name", "nosuch"),
    ("listvldb", "-name", "cvol.000", "-locked"),
    ("listvldb", "-cell", "test.example", "-name", "root.afs"),
    ("listvldb", "-cell", "nosuch.cell"),
    ("listvldb", "-config", "/nonexistent"),
    ("listvldb", "-name", "root.afs", "-verbose", "-encrypt"),
    # examine (RW, RO, BK, unreleased RO, locked, missing ...)
    ("examine", "root.cell"),
    ("examine", "root.afs", "-noauth"),
    ("examine", "cvol.000"),
    ("examine", "cvol.000.readonly"),
    ("examine", "cvol.000.backup"),
    ("examine", "cvol.025", "-format"),
    ("examine", "cvol.025.readonly", "-format"),
    ("examine", "cvol.025.readonly", "-extended"),
    ("examine", "cvol.010.backup", "-extended", "-format"),
    ("examine", "cvol.001"),
    ("examine", "cvol.001.readonly"),
    ("examine", "cvol.002.backup"),
    ("examine", "cvol.002.readonly"),
    ("examine", "cvol.299"),
    ("examine", "cvol.299", "-format", "-noresolve"),
    ("examine", "cvol.003", "-verbose"),
    ("examine", "cvol.004", "-extended"),
    ("examine", "cvol.007", "-format"),
    ("examine", "cvol.010.backup"),
    ("examine", "536870912"),
    ("examine", "nosuch"),
    ("examine", "12345"),
    ("examine", "0"),
    ("examine", "4294967295"),
    ("examine", "99999999999"),
    ("volinfo", "cvol.005"),
    ("e", "cvol.006", "-ext"),
    ("examine",),
    # listvol
    ("listvol", "afs1"),
    ("listvol", "afs1", "a"),
    ("listvol", "afs1", "-fast"),
    ("listvol", "afs1", "-long"),
    ("listvol", "afs1", "-quiet"),
    ("listvol", "afs1", "-long", "-quiet"),
    ("listvol", "afs1", "-fast", "-quiet"),
    ("listvol", "afs1", "-extended"),
    ("listvol", "afs1", "-extended", "-quiet"),
    ("listvol", "afs1", "-format"),
    ("listvol", "afs1", "-format", "-long"),
    ("listvol", "afs1", "-format", "-fast"),
    ("listvol", "afs1", "-format", "-extended"),
    ("listvol", "afs1", "-format", "-extended", "-quiet"),
    ("listvol", "afs1", "-fast", "-extended"),
    ("listvol", "afs1", "-partition", "b"),
    ("listvol", "afs1", "b", "-long"),
    ("listvol", "afs1", "/vicepb", "-fast"),
    ("listvol", "afs1", "b", "-format"),
    ("listvol", "afs1", "b", "-extended", "-quiet"),
    ("listvol", "afs1", "-partition", "bad!"),
    ("listvol", "nosuch.invalid"),
    ("listvol",),
    # listpart
    ("listpart", "afs1"),
    ("listpart", "127.1.0.1", "-noresolve"),
    ("listpart", "nosuch.invalid"),
    ("listpart", "localhost"),
    # partinfo (free space moves: normalised below)
    ("partinfo", "afs1"),
    ("partinfo", "afs1", "-summary"),
    ("partinfo", "afs1", "a"),
    ("partinfo", "afs1", "/vicepa", "-summary"),
    ("partinfo", "afs1", "b"),
    ("partinfo", "afs1", "vicepb", "-summary"),
    ("partinfo", "afs1", "c"),
    ("partinfo", "afs1", "x!"),
    ("partinfo", "nosuch.invalid"),
    # listaddrs
    ("listaddrs",),
    ("listaddrs", "-printuuid"),
    ("listaddrs", "-noresolve"),
    ("listaddrs", "-noresolve", "-printuuid"),
    ("listaddrs", "-host", "afs1"),
    ("listaddrs", "-host", "127.1.0.1", "-printuuid"),
    ("listaddrs", "-host", "127.1.0.9"),
    ("listaddrs", "-host", "nosuch.invalid"),
    ("listaddrs", "-uuid", "bogus"),
    ("listaddrs", "-uuid", "00000000-0000-0000-00-00-000000000001"),
    ("listaddrs", "-uuid", "x", "-host", "y"),
    # status
    ("status", "afs1"),
    ("status", "nosuch.invalid"),
    # size
    ("size", "cvol.000"),
    ("size", "cvol.000", "-dump"),
    ("size", "cvol.000", "-dump", "-verbose"),
    ("size", "cvol.000.readonly"),
    ("size", "cvol.000.backup"),
    ("size", "cvol.001.readonly"),
    ("size", "nosuch"),
    ("size", "0"),
    ("size", "cvol.000", "-server", "afs1"),
    ("size", "cvol.000", "-server", "nosuch.invalid", "-partition", "a"),
    ("size", "cvol.000", "-server", "afs1", "-partition", "zz9"),
    ("size", "cvol.000", "-server", "afs1", "-partition", "a", "-time", "0"),
    ("size", "cvol.000", "-time", "01/02/2020"),
    ("size", "cvol.000", "-time", "2020-01-01 10:00"),
    ("size", "cvol.000", "-time", "13/02/2020"),
    ("size", "cvol.000", "-time", "garbage"),
    ("size", "cvol.004", "-dump"),
    ("size", "cvol.004", "-server", "afs1", "-partition", "a"),
    # the common switches
    ("version",),
    ("listpart", "afs1", "-cell", "nosuch.cell"),
    ("listpart", "afs1", "-encrypt"),
    ("listpart", "afs1", "-verbose", "-noresolve"),
]

_FREE = re.compile(rb"(Free space on partition \S+: )\d+|(Summary: )\d+")


def _normalise_free(b: bytes) -> bytes:
    # Free space on the shared disk changes between the two runs (other
    # writers); the free figure alone is replaced, totals stay compared.
    return _FREE.sub(lambda m: (m.group(1) or m.group(2)) + b"N", b)


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a) or "(none)")
def test_same_as_openafs(compare, args):
    norm = _normalise_free if args and args[0] == "partinfo" else None
    compare(*args, normalise=norm)


LOCALAUTH = [
    ("listvldb", "-name", "cvol.000", "-localauth"),
    ("examine", "cvol.000", "-localauth"),
    ("listpart", "afs1", "-localauth"),
    ("size", "cvol.000", "-dump", "-localauth"),
    ("size", "cvol.000.readonly", "-dump", "-localauth", "-time", "0"),
    ("status", "afs1", "-localauth"),
]


@pytest.mark.parametrize("args", LOCALAUTH, ids=" ".join)
def test_localauth(vos_cell, args):
    """-localauth: identical once kafs.auth supports it; until then our
    one-line "not supported yet" error is accepted (and nothing else)."""
    o, k = run_both(vos_cell, *args)
    if k[2] != 0 and b"not supported" in k[1]:
        assert k[1].count(b"\n") == 1 and b"Traceback" not in k[1]
        pytest.xfail("-localauth not in kafs.auth yet: " + k[1].decode().strip())
    assert_same(o, k, args)


def test_status_with_a_transaction(vos_cell):
    """An active volserver transaction (``vos offline -sleep`` holds one)."""
    part = cvol_partition(298)
    seen = None
    for _attempt in range(3):
        # vos offline creates the transaction, then calls SetFlags and sleeps
        # holding it: only that last state is stable long enough for two
        # tools to see the same thing one after the other.  On a slow
        # machine the pair may miss the window: then hold it again.
        p = subprocess.Popen(["/usr/bin/vos", "offline", vos_cell.host, part, "cvol.298",
                              "-sleep", "15", "-localauth"], env=vos_cell.env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while p.poll() is None:
                o, k = run_both(vos_cell, "status", "afs1")
                if b"procedure: SetFlags" in o[0] and b"procedure: SetFlags" in k[0]:
                    seen = o, k
                    break
                time.sleep(0.1)
        finally:
            p.wait(120)
            vos_cell.tool("vos", "online", vos_cell.host, part, "cvol.298", "-localauth")
        if seen:
            break
    assert seen, "no status run saw the transaction"
    o, k = seen
    assert b"Total transactions: 1" in o[0]
    assert_same(o, k, ("status", "afs1"))


def test_examine_every_cvol(vos_cell):
    """examine on a sample of all shapes: RW only, with BK, with RO."""
    for i in (7, 20, 50, 75, 100, 150, 200, 250, 275):
        for suffix in ("", ".readonly", ".backup"):
            args = ("examine", "cvol.%03d%s" % (i, suffix))
            assert_same(*run_both(vos_cell, *args), args)
