"""bos addkey, removekey, listkeys: OpenAFS 1.8.9's bos and ours side by
side on the server's KeyFile (DES keys; the cell's own rxkad_krb5 keys in
KeyFileExt are never touched: removekey only deletes DES keys, and the
tests only add and remove kvnos of their own, 200 and up).

Each tool adds the same key string under a kvno of its own; the keys the
server then holds must be the same bytes (``listkeys -showkey``), so the
AFS string-to-key of both agrees (short "Andrew" passwords, long ones,
the cell name that salts them, kvno 999 which takes the string as is).
listkeys itself is compared on the same state (both tools list every key).
"""

from __future__ import annotations

import json
import re

import pytest

from _bos import H, bos, run_ours, run_real, run_side, same

pytestmark = pytest.mark.cell


def kvnos(cell) -> list[int]:
    return [int(k) for k in re.findall(r"^key (?:version is )?(-?\d+)",
                                       bos(cell, "listkeys", H), re.M)]


def keys(cell) -> dict[int, str]:
    out = bos(cell, "listkeys", H, "-showkey")
    return {int(k): v for k, v in re.findall(r"^key (-?\d+) is '(.*)'$", out, re.M)}


@pytest.fixture
def keyfile(cell):
    """The kvnos the test adds are removed again (only those)."""
    before = set(kvnos(cell))
    yield
    for k in sorted(set(kvnos(cell)) - before):
        bos(cell, "removekey", H, "-kvno", str(k), check=False)
    assert set(kvnos(cell)) == before


KEYS = [("abc", []), ("abcdefgh", []), ("a much longer key string", []),
        ("x", ["-cell", "TEST.Example"]), ("x", ["-cell", "unknown.cell"])]


@pytest.mark.parametrize("key,extra", KEYS, ids=lambda v: v if isinstance(v, str) else
                         " ".join(v) or "local")
def test_addkey(cell, keyfile, key, extra):
    r = run_real(cell, ["addkey", H, "-key", key, "-kvno", "211", *extra, "-localauth"])
    o = run_ours(["addkey", H, "-key", key, "-kvno", "212", *extra, "-localauth"])
    assert o == r == ("", "", 0)
    k = keys(cell)
    assert k[211] == k[212] and re.fullmatch(r"(\\[0-7]{3}){8}", k[212])
    # listing them: both tools alike, with and without -showkey
    same(cell, ["listkeys", H, "-localauth"])
    same(cell, ["listkeys", H, "-showkey", "-localauth"])
    r = run_real(cell, ["removekey", H, "211", "-localauth"])
    o = run_ours(["removekey", H, "212", "-localauth"])
    assert o == r == ("", "", 0)
    assert 211 not in kvnos(cell) and 212 not in kvnos(cell)


def test_addkey_prompted(cell, keyfile):
    """No -key: bos prompts twice (stderr) and reads the lines from stdin
    when there is no terminal."""
    for side, kvno in (("real", "213"), ("ours", "214")):
        res = run_side(side, cell, ["addkey", H, "-kvno", kvno, "-localauth"],
                       stdin=b"typed key\ntyped key\n")
        assert res == ("", "input key: \nRetype input key: \n", 0), side
    k = keys(cell)
    assert k[213] == k[214]
    for stdin in (b"", b"\n", b"one\n", b"one\n\n", b"one\ntwo\n", b"one\none"):
        same(cell, ["addkey", H, "-kvno", "215", "-localauth"], stdin=stdin)
    assert 215 not in kvnos(cell)


def test_addkey_bcrypt_kvno(cell, keyfile):
    """kvno 999 ("bcrypt"): the string itself is the key."""
    r = run_real(cell, ["addkey", H, "-key", "abcdefghij", "-kvno", "999", "-localauth"])
    k = keys(cell)
    run_real(cell, ["removekey", H, "999", "-localauth"])
    o = run_ours(["addkey", H, "-key", "abcdefghij", "-kvno", "999", "-localauth"])
    assert o == r
    if r[2] == 0:
        assert keys(cell)[999] == k[999] == "".join("\\%03o" % c for c in b"abcdefgh")


def in_turn(cell, args, setup=(), **kw):
    """Each tool runs ``args`` on the same starting state: the kvnos in
    ``setup`` added first, every key the run added or left removed after."""
    before = set(kvnos(cell))
    res = {}
    for side in ("real", "ours"):
        for k in setup:
            bos(cell, "addkey", H, "-key", "k%d" % k, "-kvno", str(k))
        res[side] = (run_side(side, cell, args, **kw), sorted(set(kvnos(cell)) - before))
        for k in sorted(set(kvnos(cell)) - before):
            bos(cell, "removekey", H, "-kvno", str(k))
    assert res["ours"] == res["real"], args
    return res["ours"]


def test_removekey_several(cell, keyfile):
    # the first failure ends bos (exit 1): 218 stays
    res, left = in_turn(cell, ["removekey", H, "216", "219", "218", "-localauth"],
                        setup=(216, 217, 218))
    assert res[2] == 1 and left == [217, 218]
    res, left = in_turn(cell, ["removekey", H, "216", "217", "-localauth"],
                        setup=(216, 217, 218))
    assert res == ("", "", 0) and left == [218]


@pytest.mark.parametrize("kvno", ["300", "-5", "abc", "7x"])
def test_addkey_odd_kvno(cell, keyfile, kvno):
    """kvnos bos reads with atoi ("abc" is 0) and the server takes or not."""
    in_turn(cell, ["addkey", H, "-key", "k", "-kvno", kvno, "-localauth"])


ERRORS = [
    ["addkey", H, "-key", "k", "-kvno", "220", "-noauth"],
    ["addkey", H, "-key", "k", "-kvno", "220"],          # no token: no crypt class
    ["addkey", H, "-key", "k" * 9000, "-kvno", "220", "-localauth"],
    ["addkey", "nosuch.host.invalid", "-key", "k", "-kvno", "220", "-localauth"],
    ["addkey", "127.0.0.1", "-key", "k", "-kvno", "220", "-localauth"],
    ["addkey", H, "-key", "k", "-localauth"],
    ["removekey", H, "220", "-localauth"],               # no such key
    ["removekey", H, "1", "-localauth"],                 # the cell's krb5 kvno: not a DES key
    ["removekey", H, "220", "-noauth"],
    ["removekey", H, "220"],
    ["removekey", "127.0.0.1", "220", "-localauth"],
    ["listkeys", H, "-showkey"],
    ["listkeys", "127.0.0.1", "-localauth"],
]


@pytest.mark.parametrize("args", ERRORS, ids=lambda a: " ".join(a)[:50])
def test_errors(cell, keyfile, args):
    same(cell, args)


def test_addkey_in_use(cell, keyfile):
    bos(cell, "addkey", H, "-key", "first", "-kvno", "221")
    same(cell, ["addkey", H, "-key", "second", "-kvno", "221", "-localauth"])
    same(cell, ["addkey", H, "-key", "first", "-kvno", "221", "-localauth"])


def test_json(cell, keyfile):
    o = run_ours(["addkey", H, "-key", "jsonkey", "-kvno", "222", "-localauth", "-json"])
    assert json.loads(o[0]) == {"kvno": 222, "ok": True} and o[2] == 0
    assert "jsonkey" not in o[0] + o[1]
    doc = json.loads(run_ours(["listkeys", H, "-localauth", "-json"])[0])
    assert 222 in [k["kvno"] for k in doc["keys"]]
    assert "key" not in doc["keys"][0]           # key bytes never in JSON
    o = run_ours(["removekey", H, "222", "223", "-localauth", "-json"])
    doc = json.loads(o[0])
    assert doc[0] == {"kvno": 222, "ok": True} and doc[1]["ok"] is False and o[2] == 1
