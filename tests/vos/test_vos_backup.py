"""vos backup, backupsys and clone, OpenAFS's and ours side by side on
equivalent fresh volumes."""

from __future__ import annotations

import re

import pytest

from ._pair import mask, masked, run, state, vos
from .conftest import assert_same, run_both
from kafs.cli.vos.backupsys import bre, compile_expression

L = "-localauth"



def test_backup(pair, cell):
    p = pair("bk")
    p.compare("backup", "{v}", L, "-verbose")          # a new backup
    assert vos(cell, "examine", p.k + ".backup").returncode == 0
    p.compare("backup", "{v}", L, "-verbose")          # refreshed (re-clone)
    p.compare("backup", "{v}.backup", L)               # not a RW volume
    p.compare("backup", "{v}", "-noauth")
    p.setup("lock", "{v}")
    p.compare("backup", "{v}", L)                      # locked by someone else
    p.setup("unlock", "{v}")


def test_clone(pair, cell):
    p = pair("cl")
    h = cell.host
    o, k = p.run("clone", "{v}", L, "-verbose", names=("{v}.clone",))
    assert_same(o, k, ("clone",))
    outs = [run(cell, prog, "clone", n, "-toname", n + ".c2", "-readonly", "-offline", L,
                "-verbose") for prog, n in (("openafs", p.o), ("kafs", p.k))]
    assert_same(masked(outs[0], p.o + ".c2", p.o), masked(outs[1], p.k + ".c2", p.k),
                ("clone -toname",))
    c2 = [re.search(rb"clone clone (\d+)", x[0]).group(1).decode() for x in outs]
    p.compare("clone", "{v}", h, L)
    p.compare("clone", "{v}", h, "z", L)
    p.compare("clone", "{v}", "-readonly", "-readwrite", L)
    p.compare("clone", "{v}", "-toname", "12345", L)
    p.compare("clone", "{v}", "-toname", "x" * 40, L)
    lo = vos(cell, "listvol", h, "a").stdout
    for n, vid2 in zip((p.o, p.k), c2):
        vid = re.search(re.escape(n + ".clone") + r"\s+(\d+)", lo).group(1)
        assert vos(cell, "zap", h, "a", vid).returncode == 0
        assert vos(cell, "zap", h, "a", vid2).returncode == 0


def test_backupsys(pair, cell):
    pair("bs.1")
    pair("bs.2", "b")
    h = cell.host
    for side, prog in (("o", "openafs"), ("k", "kafs")):
        pass
    outs = {}
    for opts in ((), ("-verbose",), ("-dryrun",), ("-exclude", "-dryrun")):
        for side, prog in (("o", "openafs"), ("k", "kafs")):
            outs[side] = run(cell, prog, "backupsys", "-prefix", "kt.%s.bs." % side,
                             "-xprefix", "kt.%s.bs.2" % side, "-server", h, L, *opts)
        norm = lambda t, side: tuple(
            mask(x.replace(b"kt.%s." % side.encode(), b"kt.X.").replace(
                b"kt\\.%s\\." % side.encode(), b"kt.X.")) if isinstance(x, bytes)
            else x for x in t)
        if "-exclude" in opts:     # every other volume, named; only count them
            assert outs["o"][0].count(b"\n") == outs["k"][0].count(b"\n")
            continue
        assert_same(norm(outs["o"], "o"), norm(outs["k"], "k"), ("backupsys",) + opts)
    assert state(cell, "kt.o.bs.1") == state(cell, "kt.k.bs.1")
    assert "Backup" in vos(cell, "listvldb", "-name", "kt.k.bs.1").stdout
    assert "Backup" not in vos(cell, "listvldb", "-name", "kt.k.bs.2").stdout
    for side, prog in (("o", "openafs"), ("k", "kafs")):
        outs[side] = run(cell, prog, "backupsys", "-prefix", "^kt\\.%s\\.bs\\.[2-9]$" % side,
                         "-partition", "b", L)
    assert_same(norm(outs["o"], "o"), norm(outs["k"], "k"), ("backupsys regex",))
    assert "Backup" in vos(cell, "listvldb", "-name", "kt.k.bs.2").stdout


BRE = [("^a.c$", "abc", True), ("^a\\.c", "abc", False), ("^a\\(b\\)*c", "abbc", True),
       ("^a+", "a+", True), ("^a+", "aa", False), ("^x\\{2\\}", "xx", True),
       ("^[[:digit:]]", "1", True), ("^[]a]", "]", True), ("^a|b", "a|b", True)]


@pytest.mark.parametrize("pat,name,hit", BRE)
def test_expression_matching(pat, name, hit):
    """The C library's matcher and the fallback translation agree."""
    assert (compile_expression(pat).search(name) is not None) is hit
    assert (bre(pat).search(name) is not None) is hit


@pytest.mark.parametrize("args", [
    ("backupsys", "-prefix", "^kt.[", L), ("backupsys", "-xprefix", "^a\\(", L),
    ("backupsys", "-server", "nosuch.invalid", L), ("backupsys", "-partition", "q", L),
    ("backupsys", "-prefix", "kt.nomatch.", "-server", "afs1", "-partition", "a", L),
    ("backupsys", "-prefix", "kt.nomatch.", "-xprefix", "^kt", "-xprefix", "x", "-server",
     "afs1", "-exclude", "-dryrun", "-noauth"),
    ("backup", "kt.nosuch", L), ("clone", "kt.nosuch", L),
])
def test_errors_identical(vos_cell, args):
    o, k = run_both(vos_cell, *args)
    assert_same(o, k, args)
