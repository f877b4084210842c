"""bos setauth, setrestart, setrestricted: OpenAFS 1.8.9's bos and ours
side by side, each tool making the same change in turn from the same
starting state, and the state compared (the NoAuth file, getrestart and
BosConfig's restart lines, getrestricted and BosConfig's restrictmode).

Each test puts the cell back: authentication on again (the NoAuth file
removed even if a tool failed), the restart times as they were, and --
since a restricted bosserver refuses to leave restricted mode -- a
restricted bosserver is freed by writing ``restrictmode 0`` into
BosConfig and restarting it (``bos restart -bosserver``, which it still
accepts), then waiting for the cell to be healthy.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from _bos import (BOSCONFIG, H, bos, run_ours, run_real, run_side, same,
                  wait_healthy)

pytestmark = pytest.mark.cell

NOAUTH = Path("/var/lib/openafs/local/NoAuth")     # AFSDIR_SERVER_NOAUTH_FILEPATH


# -- setauth ----------------------------------------------------------------------

@pytest.fixture
def auth_restored(cell):
    yield
    if NOAUTH.exists():
        bos(cell, "setauth", H, "on", check=False)
    NOAUTH.unlink(missing_ok=True)
    # a server without authentication lets anyone list the super-users'
    # keys; with it back, an unauthenticated listkeys is refused
    assert "not authorized" in run_real(cell, ["listkeys", H, "-noauth"])[1]


def test_setauth(cell, auth_restored):
    for side in ("real", "ours"):
        assert not NOAUTH.exists()
        res = run_side(side, cell, ["setauth", H, "off", "-localauth"])
        assert res == ("", "", 0), side
        assert NOAUTH.exists(), side
        # everyone is a super-user now: even -noauth may list the keys
        assert run_real(cell, ["listkeys", H, "-noauth"])[2:] == (0,)
        res = run_side(side, cell, ["setauth", H, "on", "-localauth"])
        assert res == ("", "", 0), side
        assert not NOAUTH.exists(), side


@pytest.mark.parametrize("args", [
    ["setauth", H, "maybe", "-localauth"],
    ["setauth", H, "ON", "-localauth"],
    ["setauth", H, "off", "-noauth"],
    ["setauth", H, "on"],                       # no token: no crypt security class
    ["setauth", "127.0.0.1", "on", "-localauth"],
    ["setauth", "nosuch.host.invalid", "on", "-localauth"],
    ["setauth", H, "-localauth"],
], ids=lambda a: " ".join(a)[:40])
def test_setauth_errors(cell, auth_restored, args):
    same(cell, args)
    assert not NOAUTH.exists()


# -- setrestart --------------------------------------------------------------------

def restart_lines() -> list[str]:
    with open(BOSCONFIG) as f:
        return [ln for ln in f.read().splitlines()
                if ln.startswith(("restarttime ", "checkbintime "))]


def restart_times(times=None):
    """The two restart times as kafs.api.bos.RestartTime (read, or set to
    ``times``: exactly, mask included, which ``bos setrestart`` cannot)."""
    import asyncio

    async def go():
        from kafs.api.bos import Bos
        from kafs.api.session import AuthSpec, Session
        async with await Session.open(auth=AuthSpec(localauth=True, encrypt=True)) as s:
            b = Bos(s, H)
            if times is not None:
                for which, t in zip((1, 2), times):
                    await b.set_restart_time(which, t)
            return [await b.restart_time(w) for w in (1, 2)]
    return asyncio.run(go())


@pytest.fixture
def restart_restored(cell):
    times = restart_times()
    lines = restart_lines()
    yield times
    restart_times(times)
    assert restart_lines() == lines


def _far_hour() -> int:
    """An hour twelve hours from now: a restart time set for a moment is
    never reached while a test runs."""
    import time
    return (time.localtime().tm_hour + 12) % 24


@pytest.mark.parametrize("which", [[], ["-general"], ["-newbinary"]],
                         ids=["default", "general", "newbinary"])
def test_setrestart(cell, restart_restored, which):
    h = _far_hour()
    spec = {"": "%d:17" % h, "-general": "sat %d:05:09" % h,
            "-newbinary": "every %d am" % (h % 12 or 12)}["".join(which)]
    start = restart_lines()
    seen = {}
    for side in ("real", "ours"):
        res = run_side(side, cell, ["setrestart", H, "-time", spec, *which, "-localauth"])
        assert res == ("", "", 0), side
        seen[side] = (bos(cell, "getrestart", H), restart_lines())
        assert seen[side][1] != start
        restart_times(restart_restored)      # back to the start for the other tool
        assert restart_lines() == start
    assert seen["ours"] == seen["real"]


@pytest.mark.parametrize("args", [
    ["setrestart", H, "-time", "13 am", "-localauth"],
    ["setrestart", H, "-time", "25:00", "-localauth"],
    ["setrestart", H, "-time", "4:00 pm pm", "-localauth"],
    ["setrestart", H, "-time", "someday", "-localauth"],
    ["setrestart", H, "-time", "x" * 300, "-localauth"],
    ["setrestart", H, "-time", "never", "-general", "-newbinary", "-localauth"],
    ["setrestart", H, "-time", "never", "-noauth"],
    ["setrestart", H, "-time", "never"],
    ["setrestart", "127.0.0.1", "-time", "never", "-localauth"],
    ["setr", H, "-time", "bad", "-noauth"],
], ids=lambda a: " ".join(a)[:40])
def test_setrestart_errors(cell, restart_restored, args):
    before = restart_lines()
    same(cell, args)
    assert restart_lines() == before


# -- setrestricted -----------------------------------------------------------------

def restrictmode() -> str:
    with open(BOSCONFIG) as f:
        return re.search(r"^restrictmode (\d+)$", f.read(), re.M).group(1)


def unrestrict(cell) -> None:
    """Free a restricted bosserver: BosConfig says 0, the bosserver runs
    itself anew (ReBozo is allowed in restricted mode)."""
    if restrictmode() != "0" or "on" in bos(cell, "getrestricted", H):
        text = Path(BOSCONFIG).read_text()
        Path(BOSCONFIG).write_text(re.sub(r"^restrictmode \d+$", "restrictmode 0", text,
                                          flags=re.M))
        bos(cell, "restart", H, "-bosserver")
        wait_healthy()
    assert bos(cell, "getrestricted", H) == "Restricted mode is off\n"


@pytest.fixture
def unrestricted(cell):
    unrestrict(cell)
    yield
    unrestrict(cell)


def test_setrestricted(cell, unrestricted, tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"x")
    seen = {}
    for side in ("real", "ours"):
        # not a number: OpenAFS's bos sends garbage (the server says BZDOM),
        # ours -1; neither is 0 or 1; and 2 is out of range
        same(cell, ["setrestricted", H, "xyz", "-localauth"])
        same(cell, ["setrestricted", H, "2", "-localauth"])
        res = run_side(side, cell, ["setrestricted", H, "1", "-localauth"])
        assert res == ("", "", 0), side
        assert restrictmode() == "1"
        state = bos(cell, "getrestricted", H)
        # restricted: these are refused, with the same words from both tools;
        # leaving restricted mode is refused too
        outs = [same(cell, a) for a in (
            ["setrestricted", H, "0", "-localauth"],
            ["exec", H, "true", "-localauth"],
            ["create", H, "kbos-never", "simple", "/bin/true", "-localauth"],
            ["delete", H, "kbos-never", "-localauth"],
            ["prune", H, "-all", "-localauth"],
            ["install", H, str(f), "-dir", str(tmp_path), "-localauth"],
            ["uninstall", H, "f", "-dir", str(tmp_path), "-localauth"],
            ["getlog", H, "/etc/passwd", "-localauth"],
            ["getlog", H, "BosLog", "-localauth"],
        )]
        seen[side] = (state, [o[1:] for o in outs[:-1]], outs[-1][1:])
        unrestrict(cell)
    assert seen["ours"] == seen["real"]
    assert seen["ours"][0] == "Restricted mode is on\n"
    assert all("not authorized" in o[0] for o in seen["ours"][1])


@pytest.mark.parametrize("args", [
    ["setrestricted", H, "1", "-noauth"],
    ["setrestricted", H, "1"],
    ["setrestricted", "127.0.0.1", "1", "-localauth"],
    ["setrestricted", H, "-localauth"],
], ids=lambda a: " ".join(a)[:40])
def test_setrestricted_errors(cell, unrestricted, args):
    same(cell, args)
    assert restrictmode() == "0"


def test_json(cell, auth_restored, restart_restored, unrestricted):
    def j(*args):
        o = run_ours([*args, "-json"])
        return json.loads(o[0]), o[1], o[2]
    assert j("setauth", H, "on", "-localauth")[0] == {"authrequired": True, "ok": True}
    doc, err, rc = j("setauth", H, "off", "-noauth")
    assert doc["ok"] is False and doc["error"]["code"] == 39430 and rc == 0
    h = _far_hour()
    doc, err, rc = j("setrestart", H, "-time", "mon %d:30" % h, "-newbinary", "-localauth")
    assert doc == {"which": "newbinary", "time": "at mon %d:30 %s" % (
        h - 12 if h > 12 else (12 if h == 0 else h), "pm" if h >= 12 else "am"),
        "mask": 15, "hour": h, "min": 30, "sec": 0, "day": 1, "ok": True}
    doc, err, rc = j("setrestricted", H, "3", "-localauth")
    assert doc == {"mode": 3, "ok": False,
                   "error": {"code": 39429, "message": "index out of range"}} and rc == 0
    assert os.path.exists(BOSCONFIG)
