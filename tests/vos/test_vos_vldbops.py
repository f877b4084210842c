"""The VLDB and single-volume write commands, OpenAFS 1.8.9's vos and ours
side by side on equivalent fresh volumes (see ``_pair.py``): lock, unlock,
unlockvldb, addsite, remsite, changeloc, rename, setfields, offline,
online, zap, endtrans, delentry."""

from __future__ import annotations

import re

import pytest

from ._pair import remove_all, run, state, vos
from .conftest import assert_same, run_both

L = "-localauth"



def test_lock_unlock(pair):
    p = pair("lock")
    p.compare("lock", "{v}", L)
    assert "LOCKED" in vos(p.cell, "listvldb", "-name", p.k).stdout
    p.compare("lock", "-id", "{v}", L)                 # already locked
    p.compare("unlock", "{v}", L, "-verbose")
    p.compare("unlock", "{v}", L)                      # not locked: still fine
    p.compare("lock", "{v}", "-noauth")                # refused without rights


def test_unlockvldb_server_partition(pair, cell):
    p = pair("ulv", "b")
    outs = []
    for prog in ("openafs", "kafs"):
        p.setup("lock", "{v}")
        outs.append(run(cell, prog, "unlockvldb", cell.host, "b", L))
        for n in (p.o, p.k):
            assert "LOCKED" not in vos(cell, "listvldb", "-name", n).stdout
    assert_same(outs[0], outs[1], ("unlockvldb",))
    for args in (("unlockvldb", "-partition", "b", L), ("unlockvldb", cell.host, "z", L),
                 ("unlockvldb", "nosuch.invalid", L), ("unlockvldb", cell.host, "b", "-noauth")):
        p.setup("unlock", "{v}")
        p.setup("lock", "{v}")
        o, k = run_both(cell, *args)
        assert_same(o, k, args)
    p.setup("unlock", "{v}")


def test_addsite_remsite_changeloc(pair, cell):
    p = pair("site")
    h = cell.host
    p.compare("addsite", h, "a", "{v}", L, "-verbose")
    p.compare("addsite", h, "b", "{v}", L)             # one RO per server
    p.compare("addsite", h, "a", "{v}", L)
    p.compare("remsite", h, "b", "{v}", L)             # not a site
    p.compare("remsite", h, "a", "{v}", L, "-verbose")
    p.compare("remsite", h, "a", "{v}.readonly", L)    # the name's RW part counts
    p.compare("addsite", h, "a", "{v}", L, "-valid")
    p.compare("remsite", h, "a", "{v}", L)
    p.compare("changeloc", h, "b", "{v}", L, "-verbose")
    p.compare("changeloc", h, "a", "{v}", L)
    p.compare("changeloc", h, "zz9", "{v}", L)
    p.compare("addsite", h, "a", "{v}", L, "-noresolve")


def test_addsite_roid(pair, cell):
    p = pair("roid", "a", "-roid", "0")
    # an RO id nobody uses, one apart per tool
    ao = run(cell, "openafs", "addsite", cell.host, "a", p.o, "-roid", "1998000001",
             "-verbose", L)
    ak = run(cell, "kafs", "addsite", cell.host, "a", p.k, "-roid", "1998000101",
             "-verbose", L)
    norm = lambda t, n: tuple(re.sub(rb"1998000[01]0\d", b"<N>", x.replace(n.encode(), b"N"))
                              if isinstance(x, bytes) else x for x in t)
    assert_same(norm(ao, p.o), norm(ak, p.k), ("addsite -roid",))
    # an id that exists: OpenAFS leaves the entry locked, and so do we
    p2 = pair("roid2", "a", "-roid", "0")
    p2.compare("addsite", cell.host, "a", "{v}", "-roid", "root.cell", L)
    assert "LOCKED" in vos(cell, "listvldb", "-name", p2.k).stdout
    p2.setup("unlock", "{v}")


def test_rename(pair, cell):
    p = pair("ren")
    p.setup("backup", "{v}")
    p.setup("addsite", cell.host, "a", "{v}")
    p.setup("release", "{v}")
    o, k = p.run("rename", "{v}", "{v}.n", L, "-verbose", names=("{v}.n",))
    assert_same(o, k, ("rename",))
    assert state(cell, p.o + ".n") == state(cell, p.k + ".n")
    assert vos(cell, "examine", p.k + ".n.backup").returncode == 0
    p.compare("rename", "{v}.n", "{v}", L, names=("{v}.n",))
    p.compare("rename", "{v}", "{v}", L)               # the same name: allowed
    p.compare("rename", "{v}", "root.cell", L)
    p.compare("rename", "{v}", "{v}.readonly", L)
    p.compare("rename", "{v}", "12345", L)
    p.compare("rename", "{v}", "kt.a.name.far.too.long.for.it", L)
    p.compare("rename", "{v}.backup", "x", L)


def test_setfields(pair):
    p = pair("sf")
    p.compare("setfields", "{v}", "-maxquota", "123M", L)
    p.compare("setfields", "{v}", "-clearuse", "-clearVolUpCounter", L)
    p.compare("setfields", "{v}", L)
    p.compare("setfields", "{v}", "-maxquota", "12Q", L)
    p.compare("setfields", "{v}.readonly", "-maxquota", "1", L)
    p.compare("setfields", "{v}", "-maxquota", "1", "-noauth")


def test_offline_online(pair, cell):
    p = pair("off")
    h = cell.host
    p.compare("offline", h, "a", "{v}", L)
    assert "Off-line" in vos(cell, "examine", p.k).stdout
    p.compare("online", h, "a", "{v}", L)
    assert "On-line" in vos(cell, "examine", p.k).stdout
    p.compare("offline", h, "a", "{v}", "-busy", L)
    p.compare("offline", h, "a", "{v}", "-busy", "-sleep", "1", L)
    p.compare("offline", h, "b", "{v}", L)
    p.compare("online", h, "a", "{v}", "-noauth")


def test_zap(pair, cell):
    p = pair("zap")
    p.setup("backup", "{v}")
    p.compare("zap", cell.host, "a", "{v}", "-backup", L, check_state=False)
    assert state(cell, p.o) == state(cell, p.k)
    p.compare("zap", cell.host, "a", "{v}", L, check_state=False)
    p2 = pair("zapf")
    vid = re.search(r"RWrite: (\d+)", vos(cell, "listvldb", "-name", p2.k).stdout).group(1)
    o = run(cell, "kafs", "zap", cell.host, "a", vid, "-force", L)
    assert o[2] == 0 and o[0] == b"vos: forcibly removing all traces of volume %s, please " \
        b"wait...done.\n" % vid.encode()
    assert vos(cell, "listvol", cell.host, "a", "-fast").stdout.find(vid) < 0


ERRORS = [
    ("lock", "kt.nosuch", L), ("unlock", "kt.nosuch", L), ("unlock", "4000000000", L),
    ("addsite", "afs1", "a", "kt.nosuch", L), ("addsite", "afs1", "z", "root.cell", L),
    ("addsite", "nosuch.invalid", "a", "root.cell", L),
    ("addsite", "afs1", "a", "root.cell", "-roid", "kt.nosuch", L),
    ("remsite", "afs1", "a", "kt.nosuch", L), ("remsite", "afs1", "zz9", "root.cell", L),
    ("changeloc", "afs1", "a", "kt.nosuch", L), ("changeloc", "afs1", "q", "root.cell", L),
    ("rename", "kt.nosuch", "kt.x", L),
    ("setfields", "kt.nosuch", "-maxquota", "1", L),
    ("offline", "afs1", "a", "kt.nosuch", L), ("online", "nosuch.invalid", "a", "x", L),
    ("online", "afs1", "q", "x", L), ("offline", "afs1", "a", "4000000000", L),
    ("zap", "afs1", "a", "kt.nosuch", L), ("zap", "afs1", "a", "4000000000", L),
    ("zap", "afs1", "q", "1", L), ("zap", "afs1", "a", "4000000000", "-force", L),
    ("zap", "afs1", "q", "1", "-force", L), ("zap", "afs1", "a", "kt.nosuch", "-force", L),
    ("zap", "nosuch.invalid", "a", "1", "-force", L),
    ("endtrans", "afs1", "12345", L), ("endtrans", "afs1", "0x1z", L),
    ("endtrans", "nosuch.invalid", "1", L), ("endtrans", "afs1", "-5", "-noauth"),
    ("delentry", "kt.nosuch", L), ("delentry", L), ("delentry", "-prefix", "kt.", L),
    ("delentry", "x", "-server", "afs1", L), ("delentry", "-partition", "a", L),
    ("delentry", "-server", "nosuch.invalid", L),
    ("delentry", "-server", "afs1", "-partition", "q", L),
    ("delentry", "-server", "afs1", "-prefix", "kt.nomatch.", "-dryrun", L),
    ("delentry", "-server", "afs1", "-partition", "b", "-prefix", "kt.nomatch.", L,
     "-verbose"),
]


@pytest.mark.parametrize("args", ERRORS, ids=lambda a: " ".join(a))
def test_errors_identical(vos_cell, args):
    o, k = run_both(vos_cell, *args)
    assert_same(o, k, args)


def test_delentry(pair, cell):
    p = pair("del")
    ids = [re.search(r"RWrite: (\d+)", vos(cell, "listvldb", "-name", n).stdout).group(1)
           for n in (p.o, p.k)]
    p.compare("delentry", "{v}", L, "-dryrun", check_state=True)
    p.compare("delentry", "{v}", "{v}", L, check_state=False)   # the second fails
    assert state(cell, p.o) == state(cell, p.k)
    assert vos(cell, "listvldb", "-name", p.k).returncode != 0
    for vid in ids:                      # gone from the VLDB; now from the disk
        assert vos(cell, "zap", cell.host, "a", vid).returncode == 0


def test_delentry_prefix(pair, cell):
    pair("dp.1", "b")
    pair("dp.2", "b")
    outs = []
    for side in ("o", "k"):
        outs.append(run(cell, "openafs" if side == "o" else "kafs", "delentry", "-server",
                        cell.host, "-partition", "b", "-prefix", "kt.%s.dp." % side, L,
                        "-verbose"))
    def norm(t, side):
        # the entries come in VLDB order, which hangs on the names: sorted
        lines = re.sub(rb"Omitting[^\n]*\n", b"", t[0]).replace(
            b"kt.%s." % side.encode(), b"kt.X.").split(b"\n")
        return (b"\n".join(lines[:1] + sorted(lines[1:-3]) + lines[-3:]), t[1], t[2])
    assert_same(norm(outs[0], "o"), norm(outs[1], "k"), ("delentry -prefix",))
    assert b"Total VLDB entries deleted: 2; failed to delete: 0" in outs[1][0]
    for n in ("kt.o.dp.1", "kt.k.dp.2"):
        assert vos(cell, "listvldb", "-name", n).returncode != 0
        remove_all(cell, n)
    for side in "ok":
        for i in "12":
            vos(cell, "zap", cell.host, "b", "kt.%s.dp.%s" % (side, i))
