"""vos move, copy and shadow between the server's two partitions,
OpenAFS's and ours side by side on equivalent fresh volumes; the moved
and copied volumes are checked with OpenAFS's vos examine; a move killed
mid-way leaves the cell as OpenAFS's killed move does, and the same
repair works after both."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import pytest

from ._pair import env, mask, masked, remove_all, run, state, vos
from .conftest import OURS, assert_same, run_both

L = "-localauth"



def test_move(pair, cell):
    h = cell.host
    p = pair("mv")
    p.setup("backup", "{v}")
    p.compare("move", "{v}", h, "a", h, "b", L, "-verbose")
    for n in (p.o, p.k):
        ex = vos(cell, "examine", n).stdout
        assert "/vicepb" in ex and "On-line" in ex
    p.compare("move", "{v}", h, "b", h, "b", L)         # to its home: ignored
    p.compare("move", "{v}", h, "a", h, "q", L)
    p.compare("move", "{v}", h, "b", h, "a", L, "-live")
    p.compare("move", "{v}", h, "b", h, "a", L)         # not there any more: leftovers
    p.setup("lock", "{v}")
    p.compare("move", "{v}", h, "a", h, "b", L)         # locked by someone else
    p.setup("unlock", "{v}")
    p.compare("move", "{v}.backup", h, "a", h, "b", L)


def test_copy_and_shadow(pair, cell):
    h = cell.host
    p = pair("cp")
    names = ("{v}.c",)
    try:
        p.compare("copy", "{v}", h, "a", "{v}.c", h, "b", L, "-verbose", names=names)
        assert state(cell, p.o + ".c") == state(cell, p.k + ".c")
        p.compare("copy", "{v}", h, "a", "{v}.c", h, "b", L, names=names)    # exists
        p.compare("copy", "{v}", h, "a", "{v}.r", h, "b", L, "-readonly", "-offline", "-live",
                  names=("{v}.r",))
        assert state(cell, p.o + ".r") == state(cell, p.k + ".r")
        # a shadow of the copy's id, then an incremental update of it
        for n in (p.o, p.k):
            assert vos(cell, "remove", "-id", n + ".r").returncode == 0
        p.compare("shadow", "{v}", h, "a", h, "b", "-toname", "{v}.s", "-toid", "{v}.c",
                  L, "-verbose", names=("{v}.s", "{v}.c"))
        p.compare("shadow", "{v}", h, "a", h, "b", "-toname", "{v}.s", "-toid", "{v}.c",
                  L, "-incremental", "-verbose", names=("{v}.s", "{v}.c"))
        p.compare("copy", "{v}", h, "a", "12345", h, "b", L)
        p.compare("copy", "{v}", h, "a", "x.readonly", h, "b", L)
        p.compare("copy", "{v}", h, "a", "kt.a.name.far.too.long.for", h, "b", L)
    finally:
        for n in (p.o, p.k):
            remove_all(cell, n + ".c")
            remove_all(cell, n + ".r")


ERRORS = [
    ("move", "kt.nosuch", "afs1", "a", "afs1", "b", L),
    ("move", "root.cell", "nosuch.invalid", "a", "afs1", "b", L),
    ("move", "root.cell", "afs1", "q", "afs1", "b", L),
    ("move", "root.cell", "afs1", "a", "afs1", "zz9", L),
    ("move", "root.cell", "afs1", "a", "afs1", "b", "-noauth"),
    ("copy", "kt.nosuch", "afs1", "a", "kt.x", "afs1", "b", L),
    ("copy", "root.cell", "afs1", "a", "root.afs", "afs1", "b", L),
    ("shadow", "kt.nosuch", "afs1", "a", "afs1", "b", L),
    ("shadow", "root.cell", "afs1", "a", "afs1", "b", "-toname", "kt.x", L),
]


@pytest.mark.parametrize("args", ERRORS, ids=lambda a: " ".join(a))
def test_errors_identical(vos_cell, args):
    o, k = run_both(vos_cell, *args)
    assert_same(o, k, args)


# --------------------------------------------------------------------------
# a move killed while the data is forwarded
# --------------------------------------------------------------------------

def _bench():
    import importlib.util
    from .conftest import REPO
    spec = importlib.util.spec_from_file_location("vos_dump_bench",
                                                  REPO / "bench" / "vos_dump_bench.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


@pytest.fixture(scope="module")
def big_dump(cell, tmp_path_factory):
    """A dump of a volume holding 80 MB (made from an empty volume's
    dump, as bench/vos_dump_bench.py makes its volumes)."""
    b = _bench()
    d = tmp_path_factory.mktemp("big")
    tmp = "kt.bigsrc"
    remove_all(cell, tmp)
    assert vos(cell, "create", cell.host, "a", tmp, "-maxquota", "0").returncode == 0
    empty = str(d / "empty.dump")
    assert vos(cell, "dump", tmp, "-file", empty).returncode == 0
    remove_all(cell, tmp)
    path = d / "big.dump"
    path.write_bytes(b.grow_dump(open(empty, "rb").read(), [40 << 20, 40 << 20]))
    return str(path)


def _transactions(cell, busy=False):
    """(tid, volume id, partition, procedure) of the server's transactions
    (``busy``: only those with a call in progress)."""
    out = vos(cell, "status", cell.host).stdout
    found = []
    for block in out.split("--------------------------------------\n"):
        m = re.search(r"transaction: (\d+)  created.*?\nvolume: (\d+)  partition: (\S+)  "
                      r"procedure: (\S+)", block, re.S)
        if m and (not busy or "packetRead:" in block):
            found.append(m.groups())
    return found


def test_killed_move_leaves_what_openafs_leaves(cell, big_dump):
    h = cell.host
    names = {"openafs": "kt.o.kill", "kafs": "kt.k.kill"}
    left = {}
    repair = {}
    try:
        for prog, n in names.items():
            remove_all(cell, n)
            assert vos(cell, "restore", h, "a", n, "-file", big_dump).returncode == 0
            vid = re.search(r"RWrite: (\d+)", vos(cell, "listvldb", "-name", n).stdout).group(1)
            before = {t for t, *_ in _transactions(cell)}
            cmd = (["/usr/bin/vos"] if prog == "openafs" else list(OURS)) + [
                "move", n, h, "a", h, "b", L]
            proc = subprocess.Popen(cmd, env=env(cell), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            end = time.monotonic() + 60
            while time.monotonic() < end:
                if any(pr == "Forward" for t, v, p, pr in _transactions(cell) if t not in before):
                    break
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            # the server finishes the forward it was asked for; then it is idle
            end = time.monotonic() + 60
            while time.monotonic() < end and any(
                    t not in before for t, *_ in _transactions(cell, busy=True)):
                time.sleep(0.05)
            mine = [(t, v, p, pr) for t, v, p, pr in _transactions(cell) if t not in before]
            lv = mask(vos(cell, "listvldb", "-name", n).stdout.encode(), n)
            # the move clone and the destination: one transaction each, both idle
            kinds = sorted(("dest" if v == vid else "clone", p) for t, v, p, pr in mine)
            left[prog] = (lv, kinds)
            # the repair, each tool on its own mess: end the transactions,
            # unlock, remove the half-made volumes
            outs = []
            for t, v, p, pr in mine:
                outs.append(run(cell, prog, "endtrans", h, t, L))
            outs.append(masked(run(cell, prog, "unlock", n, L), n))
            for t, v, p, pr in mine:
                outs.append(masked(run(cell, prog, "zap", h, p, v, L), n))
            repair[prog] = [(mask(a, n), mask(b, n), c) for a, b, c in outs]
        assert left["openafs"] == left["kafs"]
        assert b"locked for a move" in left["kafs"][0]
        assert left["kafs"][1] == [("clone", "/vicepa"), ("dest", "/vicepb")]
        assert repair["openafs"] == repair["kafs"]
        assert state(cell, names["openafs"]) == state(cell, names["kafs"])
        # and the volume moves now, with either tool
        for prog, n in names.items():
            assert run(cell, prog, "move", n, h, "a", h, "b", L)[2] == 0
            assert "/vicepb" in vos(cell, "examine", n).stdout
    finally:
        for n in names.values():
            remove_all(cell, n)
