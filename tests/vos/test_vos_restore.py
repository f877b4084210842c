"""vos restore, OpenAFS's and ours side by side on equivalent volumes:
full restores, -overwrite full/incremental/abort and the question asked
without it, stdin, -readonly, -creation/-lastupdate, -offline, -id;
truncated and corrupt dumps; and the interoperation: a dump of ours is
restored by OpenAFS's vos restore and one of theirs by ours."""

from __future__ import annotations

import os

import pytest

from ._pair import mask, remove_all, run, state, vos
from .conftest import assert_same, run_both

L = "-localauth"


@pytest.fixture(scope="module")
def dumpfile(cell, tmp_path_factory):
    """A dump of a small volume with a file in it (OpenAFS's vos dump)."""
    path = str(tmp_path_factory.mktemp("dumps") / "src.dump")
    r = vos(cell, "dump", "root.cell", "-file", path)
    assert r.returncode == 0, r.stderr
    return path



def test_restore_new_and_overwrite(pair, cell, dumpfile):
    h = cell.host
    p = pair("rs", create=False)
    p.compare("restore", h, "a", "{v}", "-file", dumpfile, L, "-verbose")
    p.compare("restore", h, "a", "{v}", "-file", dumpfile, L, "-overwrite", "full",
              "-verbose")
    p.compare("restore", h, "a", "{v}", "-file", dumpfile, L, "-overwrite", "i",
              "-lastupdate", "keep")
    p.compare("restore", h, "a", "{v}", "-file", dumpfile, L, "-overwrite", "abort")
    p.compare("restore", h, "a", "{v}", "-file", dumpfile, L)          # asks: EOF = abort
    p.compare("restore", h, "a", "{v}", "-file", dumpfile, L, input=b"f\n")
    p.compare("restore", h, "a", "{v}", "-file", dumpfile, L, input=b"i\n")
    p.compare("restore", h, "b", "{v}", "-file", dumpfile, L, input=b"f\n")   # elsewhere
    p.compare("restore", h, "a", "{v}", "-file", dumpfile, L, "-overwrite", "inc")  # not there
    p.compare("restore", h, "a", "{v}", "-file", dumpfile, L, "-overwrite", "f",
              "-creation", "dump", "-lastupdate", "new", "-offline")
    with open(dumpfile, "rb") as f:
        data = f.read()
    p.compare("restore", h, "a", "{v}", L, "-overwrite", "full", input=data)   # stdin
    p.compare("restore", h, "a", "{v}", L, input=data)     # exists, stdin: no question


def test_restore_readonly(pair, cell, dumpfile):
    h = cell.host
    p = pair("rsro", create=False)
    p.compare("restore", h, "a", "{v}", "-file", dumpfile, L, "-readonly", "-verbose")
    p.compare("restore", h, "a", "{v}", "-file", dumpfile, L, "-overwrite", "full")


def test_restore_bad_dumps(pair, cell, dumpfile, tmp_path):
    h = cell.host
    with open(dumpfile, "rb") as f:
        data = f.read()
    trunc = tmp_path / "trunc.dump"
    trunc.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "corrupt.dump"
    corrupt.write_bytes(b"\x01garbage" + bytes(200) + data[-4:])
    p = pair("rsbad", create=False)
    p.compare("restore", h, "a", "{v}", "-file", str(trunc), L)
    p.compare("restore", h, "a", "{v}", "-file", str(corrupt), L)
    p.compare("restore", h, "a", "{v}", L, input=data[: len(data) // 2])
    p.compare("restore", h, "a", "{v}", "-file", str(tmp_path / "nosuch"), L)
    # what either left on the server: the same
    lv = vos(cell, "listvol", h, "a").stdout
    assert (p.o in lv) == (p.k in lv)


ERRORS = [
    ("restore", "afs1", "a", "kt.x", "-file", "/nonexistent", L),
    ("restore", "afs1", "q", "kt.x", L),
    ("restore", "nosuch.invalid", "a", "kt.x", L),
    ("restore", "afs1", "a", "kt.x.readonly", L),
    ("restore", "afs1", "a", "kt.x.quite.a.long.name.here", L),
    ("restore", "afs1", "a", "kt.x", "-overwrite", "maybe", L),
    ("restore", "afs1", "a", "kt.x", "-creation", "later", L),
    ("restore", "afs1", "a", "kt.x", "-lastupdate", "x", L),
    ("restore", "afs1", "a", "kt.x", "-id", "kt.nosuch", L),
]


@pytest.mark.parametrize("args", ERRORS, ids=lambda a: " ".join(a))
def test_errors_identical(vos_cell, args):
    o, k = run_both(vos_cell, *args)
    assert_same(o, k, args)


def test_dumps_interoperate(cell, tmp_path):
    """A dump of ours restores with OpenAFS's vos, a dump of OpenAFS's with
    ours; the restored volumes examine alike."""
    h = cell.host
    ours, theirs = str(tmp_path / "ours.dump"), str(tmp_path / "theirs.dump")
    assert run(cell, "kafs", "dump", "root.cell", "-file", ours, L)[2] == 0
    assert run(cell, "openafs", "dump", "root.cell", "-file", theirs, L)[2] == 0
    a, b = "kt.o.interop", "kt.k.interop"
    for n in (a, b):
        remove_all(cell, n)
    try:
        o = run(cell, "openafs", "restore", h, "a", a, "-file", ours, L)
        k = run(cell, "kafs", "restore", h, "a", b, "-file", theirs, L)
        assert o[2] == 0 and k[2] == 0
        assert mask(o[0], a) == mask(k[0], b)
        assert state(cell, a) == state(cell, b)
        # and the contents round-trip: dumping both again gives the same size
        da, db = str(tmp_path / "a.dump"), str(tmp_path / "b.dump")
        assert vos(cell, "dump", a, "-file", da).returncode == 0
        assert vos(cell, "dump", b, "-file", db).returncode == 0
        assert os.path.getsize(da) == os.path.getsize(db)
    finally:
        for n in (a, b):
            remove_all(cell, n)


def test_api_dump_stream_into_restore(cell):
    """The API: a dump streamed from one volume straight into a restore."""
    import asyncio
    import sys
    from .conftest import REPO
    sys.path.insert(0, str(REPO / "src"))
    from kafs.api import AuthSpec, Session, vldb, volops

    name = "kt.api.stream"
    remove_all(cell, name)

    async def go():
        async with await Session.open(auth=AuthSpec(localauth=True)) as s:
            e = await vldb.get_entry(s, "root.cell")
            site = next(x for x in e.sites if x.flags & vldb.VLSF_RWVOL)
            r = volops.Reporter()
            res = await volops.restore_volume(
                s, r, site.server, site.partition, 0, 0, name,
                volops.RV_FULLRST | volops.RV_CRKEEP | volops.RV_LUDUMP,
                volops.stream_from(volops.dump_stream(s, site.server, site.partition,
                                                      e.rw_id)))
            return res, r.events
    try:
        res, events = asyncio.run(go())
        assert res.bytes > 0 and res.volid
        assert ("out", " done\n") in events
        ex = vos(cell, "examine", name).stdout
        assert "On-line" in ex and str(res.volid) in ex
    finally:
        remove_all(cell, name)
