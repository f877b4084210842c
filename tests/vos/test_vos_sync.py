"""vos syncvldb and syncserv, OpenAFS's and ours side by side: dry runs
over the server's partitions (read-only, so both see the same cell), and
repairs on equivalent damaged volumes (the volume zapped behind the
VLDB's back; the VLDB entry deleted with the volume still on disk; a
backup volume the VLDB does not know)."""

from __future__ import annotations

import re

import pytest

from ._pair import mask, run, state, vos
from .conftest import assert_same, run_both

L = "-localauth"



def _rwid(cell, name):
    return re.search(r"RWrite: (\d+)", vos(cell, "listvldb", "-name", name).stdout).group(1)


@pytest.mark.parametrize("args", [
    ("syncserv", "afs1", "b", "-dryrun", L),
    ("syncvldb", "afs1", "b", "-dryrun", L),
    ("syncvldb", "afs1", "b", "-dryrun", "-verbose", L),
    ("syncvldb", "-volume", "root.cell", "afs1", "-dryrun", L),
    ("syncvldb", "-volume", "root.cell", L, "-verbose"),
    ("syncvldb", "-volume", "kt.nosuch", L, "-verbose"),
    ("syncvldb", L),
    # ("syncvldb", "-partition", "a") asks server 0.0.0.0 for its partitions and
    # waits ~90 s for the call to die, in OpenAFS's vos as in ours: not run here
    ("syncvldb", "nosuch.invalid", L), ("syncvldb", "afs1", "q", L),
    ("syncserv", "nosuch.invalid", L), ("syncserv", "afs1", "zz9", L),
    ("syncserv", "afs1", "b", "-noauth"),
])
def test_identical(vos_cell, args):
    o, k = run_both(vos_cell, *args)
    assert_same(o, k, args)


def test_volume_gone_from_disk(pair, cell):
    p = pair("sy1", "b")
    for n in (p.o, p.k):
        assert vos(cell, "zap", cell.host, "b", _rwid(cell, n)).returncode == 0
    p.compare("syncvldb", "-volume", "{v}", L, "-verbose", "-dryrun")
    p.compare("syncvldb", "-volume", "{v}", L, "-verbose")
    assert vos(cell, "listvldb", "-name", p.k).returncode != 0


def test_volume_missing_from_vldb(pair, cell):
    p = pair("sy2", "b")
    p.setup("backup", "{v}")
    ids = {n: _rwid(cell, n) for n in (p.o, p.k)}
    for n in (p.o, p.k):
        assert vos(cell, "delentry", n).returncode == 0
    outs = [run(cell, prog, "syncvldb", "-volume", ids[n], cell.host, "b", L, "-verbose")
            for prog, n in (("openafs", p.o), ("kafs", p.k))]
    assert_same((mask(outs[0][0], p.o), mask(outs[0][1], p.o), outs[0][2]),
                (mask(outs[1][0], p.k), mask(outs[1][1], p.k), outs[1][2]), ("syncvldb id",))
    assert state(cell, p.o) == state(cell, p.k)


def test_syncserv_partition_after_damage(pair, cell):
    """syncserv over a partition fixes what either tool finds; run OpenAFS's
    on a damaged pair, then ours on a second damaged pair."""
    outs = []
    for prog, tag in (("openafs", "sy3"), ("kafs", "sy4")):
        p = pair(tag, "b")
        for n in (p.o, p.k):
            assert vos(cell, "zap", cell.host, "b", _rwid(cell, n)).returncode == 0
        outs.append(run(cell, prog, "syncserv", cell.host, "b", L))
        for n in (p.o, p.k):
            assert vos(cell, "listvldb", "-name", n).returncode != 0
    assert_same(outs[0], outs[1], ("syncserv",))
