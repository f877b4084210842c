"""pts write subcommands: OpenAFS 1.8.9's pts and ours side by side on the
test cell.

Every successful change is made twice, on different scratch names, so that
both tools really do the work: OpenAFS's pts on ``kcw.real.<run>.<key>``,
ours on ``kcw.ours.<run>.<key>``.  The outputs are compared after replacing
exactly those names (and the ids the server gave them) with placeholders,
and the effect of ours is checked with OpenAFS's ``pts examine`` /
``pts membership``.  Error cases run both tools on the same names (nothing
changes, so the outputs must be identical byte for byte).  Everything
named ``kcw.*`` is deleted at the start and at the end of the module.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess

import pytest

pytestmark = pytest.mark.cell

REAL = "/usr/bin/pts"
RUN = "%d" % (os.getpid() % 100000)
PREFIX = "kcw."
DENIED = ("Permission denied", "Insufficient privileges for operation")


def run_real(cell, args, stdin=None, env=None):
    e = cell.env() if env is None else env
    e["LC_ALL"] = "C"
    p = subprocess.run(["pts", *args], executable=REAL, input=stdin,
                       capture_output=True, env=e, timeout=120)
    return (p.stdout.decode("utf-8", "surrogateescape"),
            p.stderr.decode("utf-8", "surrogateescape"), p.returncode)


class _Stdin:
    def __init__(self, data: bytes):
        self.f = io.BytesIO(data)

    def readline(self, n=-1):
        return self.f.readline(n)

    def fileno(self):
        raise ValueError("not a file")


def run_ours(args, stdin=None):
    from kafs.cli.main import run_suite
    out, err = io.StringIO(), io.StringIO()
    rc = run_suite("pts", list(args), prog="pts", out=out, err=err,
                   stdin=_Stdin(stdin or b""))
    return out.getvalue(), err.getvalue(), rc


def name(side: str, key: str) -> str:
    return "kcw.%s.%s.%s" % (side, RUN, key)


class Side:
    """One tool's scratch names and the ids the server gave them."""

    def __init__(self, side: str):
        self.side = side
        self.ids: dict[int, str] = {}

    def expand(self, args):
        """``@key`` -> this side's scratch name, ``@^key`` -> upper case."""
        out = []
        for a in args:
            if a.startswith("@^"):
                a = name(self.side, a[2:]).upper()
            elif a.startswith("@"):
                a = name(self.side, a[1:])
            out.append(a)
        return out

    def learn(self, stdout: str) -> None:
        for n, i in re.findall(r"^(?:User|group) (\S+) has id (-?\d+)$", stdout, re.M):
            if n.startswith(PREFIX) and int(i):
                self.ids[int(i)] = n.split(".", 3)[3]

    def normalize(self, text: str) -> str:
        """Replace exactly this side's scratch names and ids."""
        for pre in ("kcw.%s.%s." % (self.side, RUN), ("kcw.%s.%s." % (self.side, RUN)).upper()):
            text = text.replace(pre, "kcw.<side>.<run>." if pre.islower() else "KCW.<SIDE>.<RUN>.")
        for i, key in self.ids.items():
            text = re.sub(r"(?<![\d-])%d(?!\d)" % i, "<id:%s>" % key, text)
        return text


@pytest.fixture
def sides():
    return Side("real"), Side("ours")


def both(cell, sides, args, stdin=None):
    """Run OpenAFS's pts on the real names and ours on ours; compare the
    normalized results; return (real, ours) unnormalized."""
    real_s, ours_s = sides
    r = run_real(cell, real_s.expand(args), stdin)
    o = run_ours(ours_s.expand(args), stdin)
    real_s.learn(r[0])
    ours_s.learn(o[0])
    nr = tuple(real_s.normalize(x) if isinstance(x, str) else x for x in r)
    no = tuple(ours_s.normalize(x) if isinstance(x, str) else x for x in o)
    assert no == nr, (args, r, o)
    return r, o


def same(cell, args, stdin=None):
    """Both tools on the same command line: identical byte for byte."""
    r = run_real(cell, args, stdin)
    o = run_ours(args, stdin)
    assert o == r, (args,)
    return o


def examine(cell, n):
    return run_real(cell, ["examine", n, "-localauth"])


def exists(cell, n) -> bool:
    return examine(cell, n)[2] == 0


def _scratch_entries(cell) -> list[str]:
    out = run_real(cell, ["listentries", "-users", "-groups", "-localauth"])[0]
    return [line.split()[0] for line in out.splitlines()[1:]
            if line.split() and line.split()[0].startswith(PREFIX)]


def _delete_scratch(cell) -> None:
    names = _scratch_entries(cell)
    for i in range(0, len(names), 50):
        run_real(cell, ["delete", *names[i:i + 50], "-localauth", "-force"])


@pytest.fixture(scope="module", autouse=True)
def _clean(cell):
    _delete_scratch(cell)
    try:
        yield
    finally:
        _delete_scratch(cell)
        assert _scratch_entries(cell) == []


# -- createuser ----------------------------------------------------------------------


def test_createuser(cell, sides):
    r, o = both(cell, sides, ["createuser", "@u1", "-localauth"])
    assert r[2] == 0 and o[0].startswith("User %s has id " % name("ours", "u1"))
    both(cell, sides, ["examine", "@u1", "-localauth"])
    # several names, upper case (pts prints the lower-cased name), cu alias
    both(cell, sides, ["cu", "-name", "@u2", "@^u3", "-localauth"])
    assert exists(cell, name("ours", "u3"))
    both(cell, sides, ["examine", "@u2", "@u3", "-localauth"])


def test_createuser_with_id(cell, sides):
    mx = int(re.search(r"Max user id is (\d+)", run_real(cell, ["listmax", "-localauth"])[0])[1])
    rid, oid = mx + 101, mx + 102
    real_s, ours_s = sides
    real_s.ids[rid] = ours_s.ids[oid] = "fixed"
    r = run_real(cell, ["createuser", name("real", "uid"), "-id", str(rid), "-localauth"])
    o = run_ours(["createuser", name("ours", "uid"), "-id", str(oid), "-localauth"])
    assert o[0] == "User %s has id %d\n" % (name("ours", "uid"), oid)
    assert ours_s.normalize(o[0]) == real_s.normalize(r[0]) and o[1:] == r[1:]
    assert "id: %d," % oid in examine(cell, name("ours", "uid"))[0]
    # the id is taken now: same names, same error
    same(cell, ["createuser", name("real", "uid2"), "-id", str(rid), "-localauth"])
    # hex and octal ids as util_GetInt32 reads them
    same(cell, ["createuser", name("real", "uid3"), "-id", "0x%x" % rid, "-localauth"])
    same(cell, ["createuser", name("real", "uid3"), "-id", "0%o" % rid, "-localauth"])


CREATEUSER_ERRORS = [
    ["createuser", "admin", "-localauth"],                      # exists
    ["createuser", "ADMIN", "-localauth"],                      # lower-cased in the message
    ["createuser", "admin", "system:administrators", "-localauth"],
    ["createuser", "kcw.never", "-id", "0", "-localauth"],
    ["createuser", "kcw.never", "-id", "-5", "-localauth"],
    ["createuser", "kcw.never", "-id", "12x", "-localauth"],
    ["createuser", "kcw.never", "-id", "1", "-localauth"],      # admin's id
    ["createuser", "kcw.never", "-id", "1", "-localauth", "-force"],
    ["createuser", "A" * 64, "-localauth"],                     # PRNAMETOOLONG, not lowered
    ["createuser", "kcw.never:x", "-localauth"],                # no such owner prefix
    ["createuser", "kcw.never", "-noauth"],
    ["createuser", "kcw.never"],                                # no token: unauthenticated
    ["createuser", "kcw.never", "-encrypt"],                    # no token: fails to initialize
    ["createuser", "kcw.never", "-localauth", "-cell", "nosuch.invalid"],
    ["createuser", "-localauth"],
    ["createuser", "kcw.never", "-bogus", "-localauth"],
]


@pytest.mark.parametrize("args", CREATEUSER_ERRORS, ids=[" ".join(a)[:50] for a in CREATEUSER_ERRORS])
def test_createuser_errors(cell, args):
    same(cell, args)
    assert not exists(cell, "kcw.never")


def test_createuser_force(cell, sides):
    # the error does not stop -force; "has id 0" is printed for the failure
    r, o = both(cell, sides, ["createuser", "-name", "admin", "@f1", "-force", "-localauth"])
    assert "User admin has id 0\n" in o[0] and exists(cell, name("ours", "f1"))
    r, o = both(cell, sides, ["createuser", "-name", "admin", "@f2", "-localauth"])
    assert o[2] == 1 and not exists(cell, name("ours", "f2"))


# -- creategroup ---------------------------------------------------------------------


def test_creategroup(cell, sides):
    both(cell, sides, ["creategroup", "@g1", "-localauth"])
    both(cell, sides, ["cg", "-name", "@g2", "@^g3", "-owner", "ADMIN", "-localauth"])
    both(cell, sides, ["createuser", "@gown", "-localauth"])
    both(cell, sides, ["creategroup", "@g4", "-owner", "@gown", "-localauth"])
    both(cell, sides, ["examine", "@g1", "@g2", "@g3", "@g4", "-localauth"])
    assert "owner: %s," % name("ours", "gown") in examine(cell, name("ours", "g4"))[0]


def test_creategroup_with_id(cell, sides):
    mx = int(re.search(r"max group id is (-\d+)", run_real(cell, ["listmax", "-localauth"])[0])[1])
    rid, oid = mx - 101, mx - 102
    real_s, ours_s = sides
    real_s.ids[rid] = ours_s.ids[oid] = "fixed"
    r = run_real(cell, ["creategroup", name("real", "gid"), "-id", str(rid), "-owner",
                        "admin", "-localauth"])
    o = run_ours(["creategroup", name("ours", "gid"), "-id", str(oid), "-owner",
                  "admin", "-localauth"])
    assert o[0] == "group %s has id %d\n" % (name("ours", "gid"), oid)
    assert ours_s.normalize(o[0]) == real_s.normalize(r[0]) and o[1:] == r[1:]
    same(cell, ["creategroup", "kcw.never", "-id", str(rid), "-owner", "admin", "-localauth"])
    same(cell, ["creategroup", "kcw.never", "-id", str(rid), "-localauth"])


CREATEGROUP_ERRORS = [
    ["creategroup", "system:administrators", "-localauth"],
    ["creategroup", "System:Administrators", "-owner", "Admin", "-localauth"],
    ["creategroup", "kcw.never", "-owner", "NOSUCHOWNER", "-localauth"],
    ["creategroup", "kcw.never", "-owner", "nosuchowner", "-localauth", "-force"],
    ["creategroup", "kcw.never", "-owner", "", "-localauth"],
    ["creategroup", "kcw.never", "-id", "5", "-localauth"],
    ["creategroup", "kcw.never", "-id", "0", "-localauth"],
    ["creategroup", "kcw.never", "-id", "x", "-localauth"],
    ["creategroup", "kcw.never", "-id", "-204", "-localauth"],
    ["creategroup", "G" * 64, "-owner", "ADMIN", "-localauth"],
    ["creategroup", "kcw.never", "-owner", "O" * 64, "-localauth"],
    ["creategroup", "nosuchuser:kcw", "-localauth"],
    ["creategroup", "kcw.never", "-noauth"],
    ["creategroup", "kcw.never"],
]


@pytest.mark.parametrize("args", CREATEGROUP_ERRORS,
                         ids=[" ".join(a)[:50] for a in CREATEGROUP_ERRORS])
def test_creategroup_errors(cell, args):
    same(cell, args)
    assert not exists(cell, "kcw.never")


# -- adduser / removeuser ------------------------------------------------------------


def members(cell, g):
    return run_real(cell, ["membership", g, "-localauth"])[0]


def test_adduser_removeuser(cell, sides):
    both(cell, sides, ["createuser", "-name", "@m1", "@m2", "-localauth"])
    both(cell, sides, ["creategroup", "-name", "@mg1", "@mg2", "-localauth"])
    r, o = both(cell, sides, ["adduser", "-user", "@m1", "@^m2", "-group", "@mg1", "@mg2",
                              "-localauth"])
    assert o == ("", "", 0)
    for g in ("mg1", "mg2"):
        m = members(cell, name("ours", g))
        assert name("ours", "m1") in m and name("ours", "m2") in m
    both(cell, sides, ["membership", "@mg1", "@m2", "-localauth"])
    # errors on the same names (OpenAFS's, now members)
    same(cell, ["adduser", name("real", "m1"), name("real", "mg1"), "-localauth"])
    same(cell, ["adduser", name("real", "m1"), name("real", "mg1"), "-localauth", "-force"])
    same(cell, ["adduser", name("real", "m1"), name("real", "m2"), "-localauth"])  # not a group
    same(cell, ["adduser", name("real", "m1"), name("real", "mg1"), "-noauth"])
    same(cell, ["removeuser", name("real", "m1"), name("real", "mg1"), "-noauth"])
    # removeuser
    r, o = both(cell, sides, ["removeuser", "-user", "@m1", "-group", "@mg1", "@^mg2",
                              "-localauth"])
    assert o == ("", "", 0)
    for g in ("mg1", "mg2"):
        m = members(cell, name("ours", g))
        assert name("ours", "m1") not in m and name("ours", "m2") in m
    same(cell, ["removeuser", name("real", "m1"), name("real", "mg1"), "-localauth"])
    both(cell, sides, ["removeuser", "-user", "@m1", "@m2", "-group", "@mg1", "-localauth",
                       "-force"])
    assert name("ours", "m2") not in members(cell, name("ours", "mg1"))


ADDUSER_ERRORS = [
    ["adduser", "nosuchuser", "system:administrators", "-localauth"],
    ["adduser", "admin", "nosuchgroup", "-localauth"],
    ["adduser", "admin", "system:administrators", "-localauth"],      # already a member
    ["adduser", "-user", "admin", "nosuch", "-group", "system:administrators", "nosuchg",
     "-localauth", "-force"],
    ["adduser", "U" * 64, "system:administrators", "-localauth"],
    ["adduser", "admin", "system:anyuser", "-localauth"],
    ["adduser", "admin", "system:administrators"],
    ["adduser", "admin", "-localauth"],
    ["removeuser", "nosuchuser", "system:administrators", "-localauth"],
    ["removeuser", "anonymous", "system:administrators", "-localauth"],
    ["removeuser", "-user", "nosuch", "-group", "nosuchg", "system:administrators",
     "-localauth", "-force"],
    ["removeuser", "admin", "system:anyuser", "-localauth"],
    ["removeuser", "admin", "system:administrators", "-noauth"],
    ["removeuser", "admin", "G" * 64, "-localauth"],
]


@pytest.mark.parametrize("args", ADDUSER_ERRORS, ids=[" ".join(a)[:50] for a in ADDUSER_ERRORS])
def test_adduser_removeuser_errors(cell, args):
    same(cell, args)
    assert "admin" in members(cell, "system:administrators")


# -- setfields -------------------------------------------------------------------------


def test_setfields(cell, sides):
    both(cell, sides, ["createuser", "-name", "@s1", "@s2", "-localauth"])
    both(cell, sides, ["creategroup", "@sg", "-localauth"])
    for a in (["-access", "S-M--", "-groupquota", "5"], ["-access", "SOMar"],
              ["-access", "0377"], ["-access", "s-m-r", "-groupquota", "0x10"],
              ["-groupquota", "-1"], []):
        both(cell, sides, ["setfields", "@s1", "@sg", "@^s2", *a, "-localauth"])
        r, o = both(cell, sides, ["examine", "@s1", "@s2", "@sg", "-localauth"])
    assert "flags: s-m-r, group quota: 16." in examine(cell, name("ours", "s1"))[0]
    # the same names for the errors (nothing changes)
    s1 = name("real", "s1")
    for a in (["-access", "SOMAX"], ["-access", "S-M-"], ["-access", "xyzzy"],
              ["-access", "MOS--"], ["-access", "9"], ["-access", "S M r"],
              ["-access", "a7"], ["-access", "-7"], ["-groupquota", "q"],
              ["-access", "99999999999999999999999"], ["-access", " 017x"]):
        same(cell, ["setfields", s1, *a, "-localauth"])
    same(cell, ["setfields", s1, "-access", "S----", "-noauth"])
    same(cell, ["setfields", s1, "nosuch", "-access", "S----", "-noauth"])
    same(cell, ["setfields", "nosuch", "-access", "S----", "-localauth"])
    same(cell, ["setfields", "nosuch", "-access", "xx", "-localauth"])
    same(cell, ["setfields", "99999999", "-groupquota", "3", "-localauth"])
    same(cell, ["setfields", "-localauth"])


# -- chown / rename ----------------------------------------------------------------------


def test_chown(cell, sides):
    both(cell, sides, ["createuser", "@c1", "-localauth"])
    both(cell, sides, ["creategroup", "@cg", "-localauth"])
    r, o = both(cell, sides, ["chown", "@^cg", "@^c1", "-localauth"])
    assert o == ("", "", 0)
    assert "owner: %s," % name("ours", "c1") in examine(cell, name("ours", "cg"))[0]
    both(cell, sides, ["examine", "@cg", "-localauth"])
    both(cell, sides, ["chown", "-name", "@cg", "-owner", "admin", "-localauth"])
    assert "owner: admin," in examine(cell, name("ours", "cg"))[0]
    g = name("real", "cg")
    for args in (["chown", "NOSUCH", "ADMIN"], ["chown", g.upper(), "NOSUCHOWNER"],
                 ["chown", g, "anonymous"], ["chown", "X" * 64, "ADMIN"],
                 ["chown", g.upper(), "Y" * 64], ["chown", g, ""],
                 ["chown", "system:administrators", "system:administrators"]):
        same(cell, args + ["-localauth"])
    same(cell, ["chown", g, "admin", "-noauth"])
    same(cell, ["chown", g])


def test_rename(cell, sides):
    both(cell, sides, ["createuser", "-name", "@r1", "@r2", "-localauth"])
    both(cell, sides, ["creategroup", "@rg", "-localauth"])
    r, o = both(cell, sides, ["rename", "@^r1", "@r1n", "-localauth"])
    assert o == ("", "", 0)
    assert exists(cell, name("ours", "r1n")) and not exists(cell, name("ours", "r1"))
    both(cell, sides, ["chname", "-oldname", "@rg", "-newname", "@rgn", "-localauth"])
    assert exists(cell, name("ours", "rgn"))
    both(cell, sides, ["examine", "@r1n", "@rgn", "-localauth"])
    r2 = name("real", "r2")
    for args in (["rename", r2, name("real", "r1n")],          # taken
                 ["rename", "NOSUCH", "kcw.never"],
                 ["rename", r2, "N" * 64],
                 ["rename", r2, "N" * 70],
                 ["rename", r2, "nosuchowner:kcw"],
                 ["rename", r2, ""],
                 ["rename", "O" * 64, "kcw.never"],
                 ["rename", "system:administrators", "kcw.never"]):
        same(cell, args + ["-localauth"])
    same(cell, ["rename", r2, "kcw.never", "-noauth"])
    assert exists(cell, r2) and not exists(cell, "kcw.never")


# -- delete --------------------------------------------------------------------------------


def test_delete(cell, sides):
    both(cell, sides, ["createuser", "-name", "@d1", "@d2", "@d3", "-localauth"])
    both(cell, sides, ["creategroup", "@dg", "-localauth"])
    r, o = both(cell, sides, ["delete", "@d1", "@^dg", "-localauth"])
    assert o == ("", "", 0)
    assert not exists(cell, name("ours", "d1")) and not exists(cell, name("ours", "dg"))
    assert exists(cell, name("ours", "d2"))
    # by id, with unknown names in the list, -force
    ours_id = [i for i, k in sides[1].ids.items() if k == "d2"][0]
    real_id = [i for i, k in sides[0].ids.items() if k == "d2"][0]
    r = run_real(cell, ["delete", str(real_id), "nosuch", "-localauth"])
    o = run_ours(["delete", str(ours_id), "nosuch", "-localauth"])
    assert sides[1].normalize(o[1]) == sides[0].normalize(r[1]) and o[::2] == r[::2]
    assert not exists(cell, name("ours", "d2"))
    both(cell, sides, ["delete", "@d3", "@d3", "-localauth", "-force"])
    assert not exists(cell, name("ours", "d3"))
    for args in (["delete", "nosuch", "-localauth"],
                 ["delete", "999999", "-localauth"],
                 ["delete", "999999", "-localauth", "-force"],
                 ["delete", "anonymous", "-localauth"],
                 ["delete", "admin", "-noauth"],
                 ["delete", "admin"],
                 ["delete", "-localauth"]):
        same(cell, args)
    assert exists(cell, "admin")


# -- setmax ------------------------------------------------------------------------------------


def listmax(cell):
    return run_real(cell, ["listmax", "-localauth"])[0]


def test_setmax(cell):
    before = listmax(cell)
    u, g = re.search(r"Max user id is (\d+) and max group id is (-\d+)", before).groups()
    # to the values it has (the shared cell's counters stay as they are)
    same(cell, ["setmax", "-user", u, "-localauth"])
    same(cell, ["setmax", "-group", g, "-user", u, "-localauth"])
    o = run_ours(["setmax", "-group", g, "-localauth"])
    assert o == ("", "", 0) and listmax(cell) == before
    for args in (["setmax", "-localauth"], ["setmax", "-user", "x", "-group", "y", "-localauth"],
                 ["setmax", "-user", "x", "-group", g, "-localauth"],
                 ["setmax", "-user", u, "-noauth"], ["setmax", "-group", g, "-user", u, "-noauth"],
                 ["setmax", "-user", u], ["setmax", "-user", u, "-bogus"]):
        same(cell, args)
    assert listmax(cell) == before


# -- interactive, -json, no authentication ----------------------------------------------------


def test_interactive(cell, sides):
    script = ("createuser @i1 -localauth\ncreategroup @ig\nadduser @i1 @ig\n"
              "setfields @i1 -access SOM--\nmembership @ig\nexamine @i1\n"
              "createuser @i1 -force\nrename @i1 @i2\ndelete @i2 @ig\nexamine @i2\n")
    real_s, ours_s = sides

    def expand(side):
        return re.sub(r"@(\w+)", lambda m: name(side, m[1]), script).encode()
    r = run_real(cell, ["interactive", "-localauth"], expand("real"))
    o = run_ours(["interactive", "-localauth"], expand("ours"))
    real_s.learn(r[0])
    ours_s.learn(o[0])
    assert tuple(map(ours_s.normalize, o[:2])) + (o[2],) == \
        tuple(map(real_s.normalize, r[:2])) + (r[2],)
    assert "Members of %s" % name("ours", "ig") in o[0]


def test_noauth_everything_fails_alike(cell):
    for args in (["createuser", "kcw.never"], ["creategroup", "kcw.never"],
                 ["adduser", "admin", "system:administrators"],
                 ["removeuser", "admin", "system:administrators"],
                 ["delete", "admin"], ["rename", "admin", "kcw.never"],
                 ["chown", "system:administrators", "admin"],
                 ["setfields", "admin", "-access", "S----"], ["setmax", "-user", "1"]):
        for extra in (["-noauth"], []):          # [] = no token (the store is empty)
            o = same(cell, args + extra)
            assert o[2] == 1 and any(d in o[1] for d in DENIED)
    assert not exists(cell, "kcw.never") and "admin" in members(cell, "system:administrators")


def test_json(cell):
    def j(*args):
        o = run_ours([*args, "-json"])
        return json.loads(o[0]), o[1], o[2]
    u, g = name("ours", "j1"), name("ours", "jg")
    doc, err, rc = j("createuser", "-name", u, "admin", "-localauth", "-force")
    assert rc == 0 and doc[0]["name"] == u and doc[0]["ok"] and doc[0]["id"] > 0
    assert doc[1]["ok"] is False and doc[1]["error"]["code"] == 267264
    assert "unable to create user admin (ignored)" in err
    doc = j("creategroup", g, "-owner", "ADMIN", "-localauth")[0]
    assert doc[0]["id"] < 0 and doc[0]["owner"] == "admin"
    assert j("adduser", u, g, "-localauth")[0] == [{"user": u, "group": g, "ok": True}]
    doc = j("setfields", u, "-access", "S-M--", "-groupquota", "7", "-localauth")[0]
    assert doc[0]["flags"] == "S-M--" and doc[0]["group_quota"] == 7
    doc, err, rc = j("removeuser", u, "nosuch", "-localauth")
    assert rc == 1 and doc[0]["error"]["code"] == 267268
    assert j("chown", g, u, "-localauth")[0][0]["owner"] == u
    assert j("rename", u, u + "x", "-localauth")[0][0]["ok"] is True
    doc = j("delete", u + "x", g, "-localauth")[0]
    assert [d["ok"] for d in doc] == [True, True] and doc[1]["id"] < 0
    doc, err, rc = j("setmax", "-user", "x", "-localauth")
    assert doc == [] and rc == 1
    assert not exists(cell, u + "x")


# -- a real Kerberos token ----------------------------------------------------------------


# token_env: tests/conftest.py


def ours_bin(env, *args):
    import sys
    p = subprocess.run([os.path.join(os.path.dirname(sys.executable), "pts"), *args],
                       env=env, capture_output=True, timeout=120)
    return p.stdout.decode(), p.stderr.decode(), p.returncode


def test_token(cell, token_env):
    u, g = name("ours", "tok"), name("ours", "tokg")
    o = ours_bin(token_env, "createuser", u)              # default: -auth, the token
    assert o[1] == "" and o[2] == 0 and o[0].startswith("User %s has id " % u), o
    e = examine(cell, u)[0]
    assert "creator: admin," in e                         # made as admin, not -localauth
    o = ours_bin(token_env, "creategroup", g, "-owner", u, "-encrypt")
    assert o[2] == 0 and o[0].startswith("group %s has id -" % g), o
    assert ours_bin(token_env, "adduser", u, g) == ("", "", 0)
    assert u in members(cell, g)
    assert ours_bin(token_env, "delete", u, g) == ("", "", 0)
    assert not exists(cell, u) and not exists(cell, g)
    # without the token: the same failure as OpenAFS's (which never sees it)
    e2 = dict(token_env)
    e2["KAFS_TOKEN_FILE"] = str(token_env["KAFS_TOKEN_FILE"]) + ".none"
    o = ours_bin(e2, "createuser", u)
    r = run_real(cell, ["createuser", u], env=dict(token_env))
    assert (o[0], o[1].replace(os.path.join(os.path.dirname(__import__("sys").executable),
                                            "pts"), "pts"), o[2]) == r
    assert any(d in r[1] for d in DENIED) and not exists(cell, u)
