"""bos write subcommands (adduser, removeuser, addhost, removehost,
setcellname): OpenAFS 1.8.9's bos and ours side by side on the test cell.

Successful changes are made twice on different scratch values so that both
tools really do the work (OpenAFS's bos adds ``kcw.real.<run>``, ours
``kcw.ours.<run>``; hosts 127.1.0.98 and 127.1.0.99), compared after
replacing exactly those values, and checked with OpenAFS's ``bos
listusers``/``bos listhosts``.  Errors run both on the same arguments.

The server's UserList, CellServDB and ThisCell are shared by everything
on this cell: each test saves their bytes first and puts them back in a
``finally`` (the bosserver rewrites CellServDB and ThisCell in its own
format even when a change fails), removes what it added through the
bosserver too, and checks that the cell is healthy afterwards.  A host is
in CellServDB for well under a second (addhost, listhosts, removehost).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.cell

REAL = "/usr/bin/bos"
H = "afs1.test.example"
RUN = "%d" % (os.getpid() % 100000)
FAKE = {"real": "127.1.0.98", "ours": "127.1.0.99"}


def run_real(cell, args):
    env = cell.env()
    env["LC_ALL"] = "C"
    p = subprocess.run(["bos", *args], executable=REAL, capture_output=True,
                       env=env, timeout=120)
    return (p.stdout.decode("utf-8", "surrogateescape"),
            p.stderr.decode("utf-8", "surrogateescape"), p.returncode)


def run_ours(args):
    from kafs.cli.main import run_suite
    out, err = io.StringIO(), io.StringIO()
    rc = run_suite("bos", list(args), prog="bos", out=out, err=err)
    return out.getvalue(), err.getvalue(), rc


def same(cell, args):
    r = run_real(cell, args)
    o = run_ours(args)
    assert o == r, (args,)
    return o


def user(side: str, n: int = 0) -> str:
    return "kcw.%s.%s.%d" % (side, RUN, n)


def listusers(cell) -> list[str]:
    out = run_real(cell, ["listusers", H, "-localauth"])[0]
    return out.replace("SUsers are:", "").split()


def listhosts(cell) -> str:
    return run_real(cell, ["listhosts", H, "-localauth"])[0]


@pytest.fixture
def saved(cell):
    """Save the bosserver's files; put them back (and check the cell)."""
    etc = Path(cell.server_etc)
    files = {f: (etc / f).read_bytes() for f in ("UserList", "CellServDB", "ThisCell")}
    from kafs.testcell import TestCell
    before = set(TestCell().problems())    # others' work on the shared cell
    try:
        yield files
    finally:
        for u in listusers(cell):
            if u.startswith("kcw."):
                run_real(cell, ["removeuser", H, u, "-localauth"])
        hosts = listhosts(cell)
        for h in FAKE.values():
            if h in hosts:
                run_real(cell, ["removehost", H, h, "-localauth"])
        for f, data in files.items():
            p = etc / f
            if p.read_bytes() != data:
                tmp = p.with_name(p.name + ".kcw")
                tmp.write_bytes(data)
                os.chmod(tmp, p.stat().st_mode & 0o7777)
                os.replace(tmp, p)
        assert run_real(cell, ["listhosts", H, "-localauth"])[0] == \
            "Cell name is %s\n    Host 1 is %s\n" % (cell.cell, H)
        assert "admin" in listusers(cell)
        probs = TestCell().problems()
        assert set(probs) <= before, probs


def test_adduser_removeuser(cell, saved):
    r = run_real(cell, ["adduser", H, user("real", 1), user("real", 2), "-localauth"])
    o = run_ours(["adduser", H, user("ours", 1), user("ours", 2), "-localauth"])
    assert o == r == ("", "", 0)
    us = listusers(cell)
    assert {user("ours", 1), user("ours", 2), user("real", 1)} <= set(us)
    # ours as OpenAFS lists it, and ours listing the same
    same(cell, ["listusers", H, "-localauth"])
    # the same names now exist: identical errors; the loop goes on after one
    same(cell, ["adduser", H, user("real", 1), "-localauth"])
    r = run_real(cell, ["adduser", H, user("real", 2), user("real", 3), "-localauth"])
    o = run_ours(["adduser", H, user("ours", 2), user("ours", 3), "-localauth"])
    assert o[0] == r[0] and o[2] == r[2] == 1
    assert o[1].replace(".ours.", ".real.") == r[1]
    assert user("ours", 3) in listusers(cell)
    r = run_real(cell, ["removeuser", H, user("real", 1), user("real", 2), user("real", 3),
                        "-localauth"])
    o = run_ours(["removeuser", H, user("ours", 1), user("ours", 2), user("ours", 3),
                  "-localauth"])
    assert o == r == ("", "", 0)
    assert not [u for u in listusers(cell) if u.startswith("kcw.")]
    same(cell, ["removeuser", H, user("real", 1), "-localauth"])
    same(cell, ["removeuser", H, user("real", 1), "nosuch", "-localauth"])


BOS_ERRORS = [
    ["adduser", H, "admin", "-localauth"],
    ["adduser", H, "kcw.never", "-noauth"],
    ["adduser", H, "kcw.never"],                      # no token: no crypt security class
    ["adduser", H, "kcw.never", "-cell", "nosuch.invalid"],
    ["adduser", "nosuch.host.invalid", "kcw.never", "-localauth"],
    ["adduser", H, "-localauth"],
    ["removeuser", H, "nosuch", "-localauth"],
    ["removeuser", H, "admin", "-noauth"],
    ["removeuser", H, "admin"],
    ["removehost", H, "nosuch.host", "-localauth"],
    ["removehost", H, "nosuch.host", "127.0.0.9", "-localauth"],
    ["removehost", H, H, "-noauth"],
    ["removehost", H, H],
    ["addhost", H, "nosuch.invalid", "-localauth"],    # the server cannot resolve it
    ["addhost", H, "y" * 62, "-clone", "-localauth"],  # too long for bos
    ["addhost", H, "z" * 80, "-localauth"],            # too long for the server
    ["addhost", H, "127.1.0.97", "-noauth"],
    ["addhost", H, "127.1.0.97", "-clone"],
    ["setcellname", H, "x" * 70, "-localauth"],        # too long for the server
    ["setcellname", H, "kcw.never", "-noauth"],
    ["setcellname", H, "kcw.never"],
    ["setcellname", H, "-localauth"],
]


@pytest.mark.parametrize("args", BOS_ERRORS, ids=[" ".join(a)[:50] for a in BOS_ERRORS])
def test_errors(cell, saved, args):
    same(cell, args)
    assert "kcw.never" not in listusers(cell)
    assert "127.1.0.97" not in listhosts(cell)


def _host_round(cell, side, clone: bool):
    """addhost then removehost of this side's fake host, with the tool of
    that side; returns (addhost result, listhosts in between, removehost
    result)."""
    run = run_real if side == "real" else (lambda _c, a: run_ours(a))
    h = FAKE[side]
    extra = ["-clone"] if clone else []
    add = run(cell, ["addhost", H, h, *extra, "-localauth"])
    try:
        between = listhosts(cell)
    finally:
        rem = run(cell, ["removehost", H, h, "-localauth"])
    return add, between.replace(h, "<fake>"), rem


@pytest.mark.parametrize("clone", [False, True], ids=["plain", "clone"])
def test_addhost_removehost(cell, saved, clone):
    real = _host_round(cell, "real", clone)
    ours = _host_round(cell, "ours", clone)
    assert ours == real
    assert ours[0] == ("", "", 0) and ours[2] == ("", "", 0)
    fake = "[<fake>]" if clone else "<fake>"
    assert ours[1] == "Cell name is %s\n    Host 1 is %s\n    Host 2 is %s\n" % (
        cell.cell, H, fake)
    assert FAKE["ours"] not in listhosts(cell)


def test_setcellname_same_name(cell, saved):
    # to the name it has: both tools really make the call, nothing changes
    r = run_real(cell, ["setcellname", H, cell.cell, "-localauth"])
    o = run_ours(["setcellname", H, cell.cell, "-localauth"])
    assert o == r == ("", "", 0)
    assert listhosts(cell) == "Cell name is %s\n    Host 1 is %s\n" % (cell.cell, H)


def test_json(cell, saved):
    def j(*args):
        o = run_ours([*args, "-json"])
        return json.loads(o[0]), o[1], o[2]
    u = user("ours", 9)
    assert j("adduser", H, u, "admin", "-localauth")[0] == [
        {"user": u, "ok": True},
        {"user": "admin", "ok": False, "error": {"code": 17, "message": "File exists"}}]
    assert j("removeuser", H, u, "-localauth") == ([{"user": u, "ok": True}], "", 0)
    doc, err, rc = j("removehost", H, "nosuch.host", "-localauth")
    assert doc[0]["error"]["code"] == 39425 and rc == 0
    doc, err, rc = j("addhost", H, FAKE["ours"], "-clone", "-localauth")
    try:
        assert doc == [{"name": FAKE["ours"], "ok": True, "clone": True}]
    finally:
        assert j("removehost", H, FAKE["ours"], "-localauth")[0][0]["ok"] is True
    assert j("setcellname", H, cell.cell, "-localauth")[0] == {"name": cell.cell, "ok": True}
