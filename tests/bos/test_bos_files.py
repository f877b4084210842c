"""bos install, uninstall, prune, exec: OpenAFS 1.8.9's bos and ours side
by side, and the files each leaves on the server.

install/uninstall: each tool installs the same local file into a
directory of its own (``-dir``), so their messages need no normalising;
the directories are compared afterwards (names, contents, modes, mtimes,
as the .BAK/.OLD rotation leaves them).  The default directory
(/usr/afs/bin, which the bosserver maps to /usr/lib/openafs) is used with
one uniquely named file, by one tool after the other, and removed.

prune: the same junk (.BAK and .OLD files in /usr/lib/openafs, core files
in /var/log/openafs, names unique to this run) is made before each tool's
prune with the same flags; what is left must be the same.  /usr/lib/openafs
is shared with the machine: only this run's files are made there.

exec: each tool has the server touch a file of its own; the exit codes of
failing commands (system(3) statuses) are compared on the same command.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from _bos import H, LOGS, RUN, run_ours, run_real, run_side, same

pytestmark = pytest.mark.cell

BIN = Path("/usr/lib/openafs")


def tree(d: Path) -> dict:
    """name -> (bytes, mode, mtime) of the files in ``d``."""
    out = {}
    for p in sorted(d.iterdir()):
        st = p.stat()
        out[p.name] = (p.read_bytes(), st.st_mode & 0o7777, int(st.st_mtime))
    return out


@pytest.fixture
def dirs(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    d = {"real": tmp_path / "real", "ours": tmp_path / "ours", "src": src}
    d["real"].mkdir()
    d["ours"].mkdir()
    return d


def write(p: Path, data: bytes, mode: int, mtime: int) -> None:
    p.write_bytes(data)
    os.chmod(p, mode)
    os.utime(p, (mtime, mtime))


def both(cell, dirs, args):
    """Run ``args + ["-dir", <side's dir>]`` with each tool; the results."""
    r = run_real(cell, [*args, "-dir", str(dirs["real"]), "-localauth"])
    o = run_ours([*args, "-dir", str(dirs["ours"]), "-localauth"])
    return r, o


def test_install_uninstall(cell, dirs):
    prog = dirs["src"] / "kbosprog"
    other = dirs["src"] / "sub"
    other.mkdir()
    # three versions: the third install makes .BAK and .OLD
    for n, (data, mode) in enumerate([(b"#!/bin/sh\necho one\n", 0o755),
                                      (b"two\n" * 5000, 0o700),       # > one Rx packet
                                      (b"", 0o640)]):
        write(prog, data, mode, 1_600_000_000 + n * 1000)
        r, o = both(cell, dirs, ["install", H, str(prog)])
        assert o == r == ("bos: installed file %s\n" % prog, "", 0)
        assert tree(dirs["ours"]) == tree(dirs["real"])
    t = tree(dirs["real"])
    assert sorted(t) == ["kbosprog", "kbosprog.BAK", "kbosprog.OLD"]
    assert t["kbosprog"] == (b"", 0o640, 1_600_002_000)
    assert t["kbosprog.OLD"][0] == b"#!/bin/sh\necho one\n"
    # getdate agrees about them
    r, o = both(cell, dirs, ["getdate", H, "kbosprog"])
    assert o[0].replace(str(dirs["ours"]), str(dirs["real"])) == r[0] and o[1:] == r[1:]
    # a path's last component names the destination; several files, the
    # second of which is missing: the first is installed, then bos quits
    write(other / "kbosprog2", b"x", 0o755, 1_600_000_000)
    r, o = both(cell, dirs, ["install", H, str(other / "kbosprog2"), str(other / "nosuch"),
                             str(prog)])
    assert o == r and r[2] == 1 and "can't find file" in r[1]
    assert tree(dirs["ours"]) == tree(dirs["real"])
    assert "kbosprog2" in tree(dirs["ours"])
    # uninstall: .BAK comes back, .OLD becomes .BAK; then .BAK; then nothing
    # is left to bring back (not an error)
    for _ in range(3):
        r, o = both(cell, dirs, ["uninstall", H, "kbosprog", "x/y/kbosprog2"])
        assert o == r == ("bos: uninstalled file kbosprog\n"
                          "bos: uninstalled file x/y/kbosprog2\n", "", 0)
        assert tree(dirs["ours"]) == tree(dirs["real"])
    t = tree(dirs["real"])
    assert sorted(t) == ["kbosprog", "kbosprog2"]
    assert t["kbosprog"][0] == b"#!/bin/sh\necho one\n"


def test_install_default_dir(cell, tmp_path):
    """No -dir: /usr/afs/bin, which this bosserver keeps in /usr/lib/openafs."""
    name = "kbos-inst-%s" % RUN
    src = tmp_path / name
    write(src, b"kafs bos install test\n", 0o644, 1_650_000_000)
    dest = BIN / name
    seen = {}
    try:
        for side in ("real", "ours"):
            res = run_side(side, cell, ["install", H, str(src), "-localauth"])
            assert res == ("bos: installed file %s\n" % src, "", 0), side
            seen[side] = (dest.read_bytes(), dest.stat().st_mode & 0o7777,
                          int(dest.stat().st_mtime), sorted(p.name for p in BIN.glob(name + "*")))
            for p in BIN.glob(name + "*"):
                p.unlink()
    finally:
        for p in BIN.glob(name + "*"):
            p.unlink()
    assert seen["ours"] == seen["real"] == (b"kafs bos install test\n", 0o644,
                                            1_650_000_000, [name])


def test_install_errors(cell, dirs, tmp_path):
    f = dirs["src"] / "f"
    write(f, b"data", 0o644, 1_600_000_000)
    cases = [
        ["install", H, str(tmp_path / "nosuch"), "-dir", str(dirs["real"]), "-localauth"],
        ["install", H, str(dirs["src"]), "-dir", str(dirs["real"]), "-localauth"],  # a directory
        ["install", H, str(f), "-dir", str(tmp_path / "nodir"), "-localauth"],
        ["install", H, str(f), "-dir", str(dirs["real"]), "-noauth"],
        ["install", H, str(f), "-dir", str(dirs["real"])],
        ["install", H, str(f), "-dir", "/" + "d" * 300, "-localauth"],
        ["install", "127.0.0.1", str(f), "-dir", str(dirs["real"]), "-localauth"],
        ["install", H, "-localauth"],
        ["uninstall", H, "f", "-dir", str(dirs["real"]), "-noauth"],
        ["uninstall", "nosuch.host.invalid", "f", "-localauth"],
    ]
    for args in cases:
        same(cell, args)
    assert tree(dirs["real"]) == {}
    # a destination over 256 bytes: OpenAFS's bos prints the same line and
    # then dies of its strcpy into a 256-byte buffer ("stack smashing
    # detected", SIGABRT); ours only prints the line
    o = run_ours(["uninstall", H, "f", "-dir", "/" + "d" * 300, "-localauth"])
    assert o == ("", "bos: failed to uninstall f (RPC interface mismatch (-450))\n", 1)


def _junk(name: str) -> list[Path]:
    return [BIN / (name + ".BAK"), BIN / (name + ".OLD"), BIN / (name + ".KEEP"),
            Path(LOGS) / ("core." + name), Path(LOGS) / (name + ".core")]


@pytest.mark.parametrize("flags", [[], ["-bak"], ["-old"], ["-core"], ["-bak", "-old"],
                                   ["-all"]], ids=lambda f: " ".join(f) or "none")
def test_prune(cell, flags):
    name = "kbos-prune-%s" % RUN
    files = _junk(name)
    left = {}
    try:
        for side in ("real", "ours"):
            for p in files:
                p.write_bytes(b"junk")
            res = run_side(side, cell, ["prune", H, *flags, "-localauth"])
            assert res == ("", "", 0), side
            left[side] = [p.name for p in files if p.exists()]
    finally:
        for p in files:
            p.unlink(missing_ok=True)
    assert left["ours"] == left["real"]
    gone = {"-bak": [".BAK"], "-old": [".OLD"], "-core": ["core."],
            "-all": [".BAK", ".OLD", "core."]}
    expect = [p.name for p in files
              if not any(g in p.name for f in flags for g in gone[f])]
    assert left["ours"] == expect
    assert (BIN / "ptserver").exists()


@pytest.mark.parametrize("args", [["prune", H, "-all", "-noauth"], ["prune", H, "-bak"],
                                  ["prune", "127.0.0.1", "-localauth"]],
                         ids=lambda a: " ".join(a))
def test_prune_errors(cell, args):
    same(cell, args)


def test_exec(cell, tmp_path):
    for side in ("real", "ours"):
        f = tmp_path / ("touched." + side)
        res = run_side(side, cell, ["exec", H, "touch %s" % f, "-localauth"])
        assert res == ("", "", 0) and f.exists(), side


# the server's system(3) status is bos's code: 256 (exit 1) exits 0,
# 768 (exit 3) 0 as well, a kill by signal 9 exits 9 ("Bad file descriptor")
EXEC_CASES = [["exit 1"], ["exit 3"], ["kill -9 $$"], ["true"], ["x" * 300],
              ["true", "-noauth"], ["true", None]]


@pytest.mark.parametrize("case", EXEC_CASES, ids=lambda c: " ".join(x or "token" for x in c)[:30])
def test_exec_status(cell, case):
    cmd, auth = case[0], case[1] if len(case) > 1 else "-localauth"
    same(cell, ["exec", H, cmd] + ([auth] if auth else []))


def test_json(cell, dirs):
    def j(*args):
        o = run_ours([*args, "-json"])
        return json.loads(o[0]), o[1], o[2]
    f = dirs["src"] / "jprog"
    write(f, b"abc", 0o751, 1_600_000_000)
    doc, err, rc = j("install", H, str(f), "-dir", str(dirs["ours"]), "-localauth")
    assert doc == [{"file": str(f), "path": str(dirs["ours"] / "jprog"), "size": 3,
                    "mode": 0o751, "mtime": 1_600_000_000, "ok": True}] and rc == 0
    doc, err, rc = j("uninstall", H, "jprog", "-dir", str(dirs["ours"]), "-localauth")
    assert doc == [{"file": "jprog", "path": str(dirs["ours"] / "jprog"), "ok": True}]
    doc, err, rc = j("exec", H, "exit 2", "-localauth")
    assert doc == {"command": "exit 2", "ok": False, "status": 512,
                   "error": {"code": 512, "message": "Unknown code b 0 (512)"}}
    assert rc == 0 and err == "bos: failed to execute command (Unknown code b 0 (512))\n"
    doc, err, rc = j("prune", H, "-core", "-localauth")
    assert doc == {"bak": False, "old": False, "core": True, "all": False, "ok": True}


@pytest.mark.parametrize("content", [
    b"", b"no newline at the end", b"nul\0bytes\0\0inside\n",
    bytes(range(256)) * 4, b"line %d\n" * 1 + b"".join(b"line %d\n" % i for i in range(20000)),
], ids=["empty", "no-newline", "nuls", "binary", "large"])
def test_getlog_content(cell, content):
    """getlog copies the file as the server sends it (the server drops NUL
    bytes; the NUL it adds ends the stream), in the log directory or by
    absolute path."""
    name = "kbos-getlog-%s" % RUN
    p = Path(LOGS) / name
    p.write_bytes(content)
    try:
        out = same(cell, ["getlog", H, name, "-localauth"])
        assert out[0] == "Fetching log file '%s'...\n" % name + \
            content.replace(b"\0", b"").decode("utf-8", "surrogateescape")
        same(cell, ["getlog", H, str(p), "-localauth"])
    finally:
        p.unlink()
    same(cell, ["getlog", H, name, "-localauth"])         # gone: no such entity


LONG = "i" * 300
LONG_ARGS = [["status", H, LONG], ["start", H, LONG], ["delete", H, LONG], ["getlog", H, LONG],
             ["exec", H, LONG], ["restart", H, LONG], ["shutdown", H, LONG],
             ["salvage", H, "a", LONG, "-forceDAFS"], ["uninstall", H, LONG],
             ["create", H, LONG, "simple", "/bin/true"], ["removeuser", H, LONG]]


@pytest.mark.parametrize("args", LONG_ARGS, ids=lambda a: a[0])
def test_long_arguments(cell, args):
    """A string over the interface's 256 bytes: RXGEN_CC_MARSHAL (-450),
    nothing sent."""
    same(cell, [*args, "-localauth"])


def test_getdate_long_dir(cell):
    # OpenAFS's bos prints this line, then dies of its strcpy into a
    # 256-byte buffer (stack smashing detected)
    o = run_ours(["getdate", H, "f", "-dir", "/" + "d" * 300, "-localauth"])
    assert o == ("", "bos: failed to check date on f (RPC interface mismatch (-450))\n", 1)


def test_api_install_streams(cell, tmp_path):
    """kafs.api.bos.Bos.install from bytes, a file object and an async
    iterable of chunks; a size that does not match what is sent is the
    server's code 101 and leaves nothing."""
    import asyncio

    from kafs.api.bos import Bos
    from kafs.api.session import AuthSpec, Session
    from kafs.errors import AFSError

    async def chunks():
        for i in range(50):
            yield b"%05d" % i * 400

    async def go():
        async with await Session.open(auth=AuthSpec(localauth=True, encrypt=True)) as s:
            b = Bos(s, H)
            await b.install(str(tmp_path / "a"), b"bytes\n", 6, 0o100644, 1_600_000_000)
            with open(tmp_path / "a", "rb") as f:
                await b.install(str(tmp_path / "b"), f, 6, 0o100600, 1_600_000_001)
            await b.install(str(tmp_path / "c"), chunks(), 50 * 2000, 0, 0)
            with pytest.raises(AFSError) as e:
                await b.install(str(tmp_path / "d"), b"short", 6, 0, 0)
            return e.value.code
    assert asyncio.run(go()) == 101
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == b"bytes\n"
    assert (tmp_path / "b").stat().st_mode & 0o777 == 0o600
    assert int((tmp_path / "b").stat().st_mtime) == 1_600_000_001
    assert (tmp_path / "c").read_bytes() == b"".join(b"%05d" % i * 400 for i in range(50))
    assert not (tmp_path / "d").exists() and not (tmp_path / "d.NEW").exists()
