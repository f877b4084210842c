"""vos create and vos remove, OpenAFS 1.8.9's and ours side by side.

Successful runs use different scratch names (``kt.o.*`` for OpenAFS,
``kt.k.*`` for ours); the name and the volume ids are replaced by
placeholders before the byte comparison, and the effect is checked with
OpenAFS's ``vos examine``/``listvldb``.  Error cases run the very same
command line through both and compare stdout, stderr and exit status byte
for byte.  Every scratch volume is removed again (with OpenAFS's vos).
"""

from __future__ import annotations

import re
import subprocess

import pytest

from .conftest import OURS, assert_same, run_both

PREFIX = "kt."


def _vos(cell, *args):
    return cell.tool("vos", *args, timeout=300)


def _cleanup(cell, *names):
    for n in names:
        _vos(cell, "remove", "-id", n, "-localauth")


@pytest.fixture
def scratch(cell):
    made = []

    def name(tag):
        o, k = PREFIX + "o." + tag, PREFIX + "k." + tag
        made.extend((o, k))
        _cleanup(cell, o, k)
        return o, k
    yield name
    _cleanup(cell, *made)


def _run(cell, prog, *args):
    import os
    from .conftest import REPO
    e = cell.env()
    e.pop("AFSCELL", None)
    e["PYTHONPATH"] = str(REPO / "src") + os.pathsep + e.get("PYTHONPATH", "")
    if prog == "openafs":
        r = subprocess.run(["vos", *args], executable="/usr/bin/vos", env=e,
                           capture_output=True, timeout=300)
    else:
        r = subprocess.run([*OURS, *args], env=e, capture_output=True, timeout=300)
    return r.stdout, r.stderr, r.returncode


def _mask(t: tuple, name: str) -> tuple:
    def m(b: bytes) -> bytes:
        b = b.replace(name.encode(), b"<NAME>")
        return re.sub(rb"\b5\d{8}\b", b"<ID>", b)
    return (m(t[0]), m(t[1]), t[2])


def _examine(cell, name):
    r = _vos(cell, "examine", name, "-localauth")
    text = r.stdout.replace(name, "<NAME>")
    text = re.sub(r"\b5\d{8}\b", "<ID>", text)
    # the dates of the two volumes may be a second apart
    text = re.sub(r"(Creation|Copy|Last Update|Last Access) .*", r"\1 <DATE>", text)
    return r.returncode, text


CREATE_OPTS = [
    (),
    ("-maxquota", "1M"),
    ("-maxquota", "0"),
    ("-maxquota", "0x100"),
    ("-verbose",),
    ("-roid", "0"),
    ("-encrypt", "-verbose", "-maxquota", "123K"),
    ("-noresolve",),
]


@pytest.mark.parametrize("opts", CREATE_OPTS, ids=lambda o: " ".join(o) or "plain")
def test_create_and_remove_side_by_side(cell, scratch, opts):
    on, kn = scratch("c%d" % CREATE_OPTS.index(opts))
    o = _run(cell, "openafs", "create", cell.host, "a", on, *opts, "-localauth")
    k = _run(cell, "kafs", "create", cell.host, "a", kn, *opts, "-localauth")
    assert o[2] == 0, o
    assert_same(_mask(o, on), _mask(k, kn), ("create",) + opts)
    assert _examine(cell, on) == _examine(cell, kn)
    # remove: ours on ours, OpenAFS's on OpenAFS's
    ro = _run(cell, "openafs", "remove", "-id", on, "-localauth", *opts[:1] if opts == ("-verbose",) else ())
    rk = _run(cell, "kafs", "remove", "-id", kn, "-localauth", *opts[:1] if opts == ("-verbose",) else ())
    assert ro[2] == 0, ro
    assert_same(_mask(ro, on), _mask(rk, kn), ("remove",))
    assert _vos(cell, "examine", kn, "-localauth").returncode != 0


def test_create_with_ids_and_remove_with_server_partition(cell, scratch):
    on, kn = scratch("ids")
    # ids from a range nobody uses, one apart per tool
    o = _run(cell, "openafs", "create", cell.host, "a", on, "-id", "1999000001",
             "-roid", "1999000011", "-verbose", "-localauth")
    k = _run(cell, "kafs", "create", cell.host, "a", kn, "-id", "1999000101",
             "-roid", "1999000111", "-verbose", "-localauth")
    def norm(t, name):
        t = _mask(t, name)
        return (re.sub(rb"1999000\d\d\d", b"<N>", t[0]),
                re.sub(rb"1999000\d\d\d", b"<N>", t[1]), t[2])
    assert_same(norm(o, on), norm(k, kn), ("create -id",))
    lo = _vos(cell, "listvldb", "-name", on, "-localauth").stdout
    lk = _vos(cell, "listvldb", "-name", kn, "-localauth").stdout
    assert "1999000001" in lo and "1999000101" in lk
    # the same id again: both refuse
    o = _run(cell, "openafs", "create", cell.host, "a", on + "x", "-id", "1999000001", "-localauth")
    k = _run(cell, "kafs", "create", cell.host, "a", on + "x", "-id", "1999000001", "-localauth")
    assert_same(o, k, ("create -id existing",))
    ro = _run(cell, "openafs", "remove", cell.host, "a", on, "-verbose", "-localauth")
    rk = _run(cell, "kafs", "remove", cell.host, "a", kn, "-verbose", "-localauth")
    assert_same(norm(ro, on), norm(rk, kn), ("remove server partition",))


ERROR_CASES = [
    ("create", "afs1", "a", "root.cell", "-localauth"),
    ("create", "afs1", "a", "kt.noauth", "-noauth"),
    ("create", "afs1", "a", "kt.noauth"),
    ("create", "afs1", "z", "kt.x", "-localauth"),
    ("create", "afs1", "zz9", "kt.x", "-localauth"),
    ("create", "nosuch.invalid", "a", "kt.x", "-localauth"),
    ("create", "afs1", "a", "12345", "-localauth"),
    ("create", "afs1", "a", "kt.x.readonly", "-localauth"),
    ("create", "afs1", "a", "kt.x.backup", "-localauth"),
    ("create", "afs1", "a", "kt.a.very.long.volume.nm", "-localauth"),
    ("create", "afs1", "a", "kt.x", "-maxquota", "12Q", "-localauth"),
    ("create", "afs1", "a", "kt.x", "-maxquota", "3000000M", "-localauth"),
    ("create", "afs1", "a", "kt.x", "-id", "12a", "-localauth"),
    ("create", "afs1", "a", "kt.x", "-id", "09", "-localauth"),
    ("create", "afs1", "a", "kt.x", "-roid", "x", "-localauth"),
    ("create", "afs1", "a", "kt.x", "-id", "536870915", "-localauth"),
    ("remove", "-id", "kt.nosuch", "-localauth"),
    ("remove", "-id", "root.cell", "-noauth"),
    ("remove", "-id", "root.cell"),
    ("remove", "-id", "4000000000", "-localauth"),
    ("remove", "afs1", "z", "root.cell", "-localauth"),
    ("remove", "afs1", "zz9", "root.cell", "-localauth"),
    ("remove", "nosuch.invalid", "a", "root.cell", "-localauth"),
    ("remove", "afs1", "a", "4000000000", "-localauth"),
    ("remove", "afs1", "a", "4000000000", "-localauth", "-verbose"),
    ("remove", "-id", "root.cell.backup", "-localauth"),
    ("remove", "-id", "root.cell.readonly", "-localauth"),
]


@pytest.mark.parametrize("args", ERROR_CASES, ids=lambda a: " ".join(a))
def test_errors_identical(cell, args):
    o, k = run_both(cell, *args)
    assert o[2] != 0
    assert_same(o, k, args)
    # nothing was made by either
    assert _vos(cell, "examine", "kt.x", "-localauth").returncode != 0


def test_remove_not_on_disk_and_not_in_vldb(cell, scratch):
    """A VLDB entry whose volume is gone from the server: both print the
    warning and delete the entry."""
    on, kn = scratch("gone")
    for n in (on, kn):
        assert _vos(cell, "create", cell.host, "a", n, "-localauth").returncode == 0
        vid = re.search(r"RWrite: (\d+)", _vos(cell, "listvldb", "-name", n,
                                                "-localauth").stdout).group(1)
        # take the volume off the server but keep the VLDB entry
        assert _vos(cell, "zap", cell.host, "a", vid, "-localauth").returncode == 0
    ro = _run(cell, "openafs", "remove", "-id", on, "-localauth")
    rk = _run(cell, "kafs", "remove", "-id", kn, "-localauth")
    assert_same(_mask(ro, on), _mask(rk, kn), ("remove gone",))
    assert b"did not exist" in ro[1]
