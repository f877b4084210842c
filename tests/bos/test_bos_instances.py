"""bos create, delete, start, stop, startup, shutdown, restart: OpenAFS
1.8.9's bos and ours side by side.

Each tool works on a scratch ``simple`` instance of its own running
``/bin/sleep 100000`` (fixture ``scratch``: one name per tool, removed at
the end); outputs are compared after writing our instance's name as
OpenAFS's (the only normalisation, with ctime dates in ``bos status
-long``), and so is the state each leaves: ``bos status -long`` and the
instance's block of BosConfig.  Errors run both tools on the same
arguments.  The commands that act on every instance (``shutdown``,
``startup`` and ``restart -all`` without -instance, ``restart
-bosserver``) stop the cell's real servers: those tests use the
``healthy`` fixture, which waits for the cell to be healthy again.
"""

from __future__ import annotations

import json

import pytest

from _bos import (H, bos, bosconfig_bnode, run_ours, run_real, run_side, same,
                  status_long, strip_times, swap, wait_healthy)

pytestmark = pytest.mark.cell

SLEEP = "/bin/sleep 100000"


def pair(cell, scratch, make_args, n: int = 0):
    """Run ``make_args(name)`` with each tool on its own instance; return
    (real result, ours result as OpenAFS's would read, real name)."""
    rn, on = scratch("real", n), scratch("ours", n)
    r = run_real(cell, make_args(rn))
    o = run_ours(make_args(on))
    return r, tuple(swap(x, on, rn) if isinstance(x, str) else x for x in o), rn, on


def state(cell, name: str, as_name: str) -> tuple[str, str]:
    return (strip_times(swap(status_long(cell, name), name, as_name)),
            swap(bosconfig_bnode(name), name, as_name))


def create_both(cell, scratch, *extra, n: int = 0, cmd=(SLEEP,), type_="simple"):
    r, o, rn, on = pair(cell, scratch, lambda i: ["create", H, i, type_, *cmd, *extra,
                                                 "-localauth"], n)
    assert o == r
    return r, rn, on


def test_create(cell, scratch):
    r, rn, on = create_both(cell, scratch)
    assert r == ("", "", 0)
    assert state(cell, on, rn) == state(cell, rn, rn)
    assert "currently running normally" in status_long(cell, on)
    assert bosconfig_bnode(on) == "bnode simple %s 1\nparm %s\nend\n" % (on, SLEEP)


def test_create_cron_notifier_and_six_commands(cell, scratch):
    # a cron instance (command, time) with a notifier
    r, rn, on = create_both(cell, scratch, "-notifier", "/bin/true", n=1,
                            cmd=(SLEEP, "23:59"), type_="cron")
    assert r == ("", "", 0)
    assert state(cell, on, rn) == state(cell, rn, rn)
    assert "Notifier  is '/bin/true'" in status_long(cell, on)
    # bos takes six -cmd values and sends five (a simple instance keeps one)
    cmds = ["/bin/sleep 10%d" % i for i in range(6)]
    r, rn, on = create_both(cell, scratch, n=2, cmd=cmds)
    assert r == ("", "", 0)
    assert state(cell, on, rn) == state(cell, rn, rn)


CREATE_ERRORS = [
    ["create", H, "kbos-never", "nosuchtype", SLEEP, "-localauth"],
    ["create", H, "kbos-never", "simple", SLEEP, "-notifier", "/nonexistent", "-localauth"],
    ["create", H, "kbos-never", "simple", SLEEP, "-noauth"],
    ["create", H, "kbos-never", "simple", SLEEP],            # no token: no crypt class
    ["create", H, "kbos-never", "simple", "x" * 300, "-localauth"],
    ["create", "nosuch.host.invalid", "kbos-never", "simple", SLEEP, "-localauth"],
    ["create", "127.0.0.1", "kbos-never", "simple", SLEEP, "-localauth"],
    ["create", H, "ptserver", "simple", SLEEP, "-localauth"],   # exists
    ["create", H, "kbos-never", "simple", "-localauth"],
    ["delete", H, "nosuch", "-localauth"],
    ["delete", H, "ptserver", "-localauth"],                 # running
    ["delete", H, "nosuch", "ptserver", "-noauth"],
    ["start", H, "nosuch", "-localauth"],
    ["start", H, "nosuch", "-noauth"],
    ["stop", H, "nosuch", "-localauth"],
    ["stop", H, "nosuch", "-wait", "-localauth"],
    ["stop", H, "ptserver", "-noauth"],
    ["stop", H, "ptserver", "-wait", "-noauth"],
    ["stop", "127.0.0.1", "ptserver", "-localauth"],
    ["startup", H, "nosuch", "-localauth"],
    ["startup", H, "-noauth"],
    ["shutdown", H, "nosuch", "-wait", "-localauth"],
    ["shutdown", H, "-noauth"],
    ["shutdown", H, "-wait", "-noauth"],
    ["shutdown", H, "nosuch", "ptserver", "-noauth"],
    ["restart", H, "nosuch", "-localauth"],
    ["restart", H, "-localauth"],                            # needs -all
    ["restart", H, "ptserver", "-all", "-localauth"],
    ["restart", H, "ptserver", "-bosserver", "-localauth"],
    ["restart", H, "-all", "-noauth"],
    ["restart", H, "-bosserver", "-noauth"],
    ["restart", H, "-bosserver", "-all", "-noauth"],
    ["restart", H, "ptserver", "-noauth"],
    ["restart", "nosuch.host.invalid", "-all", "-localauth"],
]


@pytest.mark.parametrize("args", CREATE_ERRORS, ids=[" ".join(a)[:50] for a in CREATE_ERRORS])
def test_errors(cell, args):
    same(cell, args)
    assert not bos(cell, "status", H, "kbos-never", check=False).startswith("Instance")
    assert "running normally" in bos(cell, "status", H, "ptserver")


def test_stop_start_delete(cell, scratch):
    create_both(cell, scratch)
    # stop, without and with -wait
    r, o, rn, on = pair(cell, scratch, lambda i: ["stop", H, i, "-localauth"])
    assert o == r == ("", "", 0)
    r, o, rn, on = pair(cell, scratch, lambda i: ["stop", H, i, "-wait", "-localauth"])
    assert o == r == ("", "", 0)
    assert state(cell, on, rn) == state(cell, rn, rn)
    assert "disabled, currently shutdown." in status_long(cell, on)
    assert bosconfig_bnode(on).startswith("bnode simple %s 0\n" % on)
    # start again (several names: the last one's code is bos's)
    r, o, rn, on = pair(cell, scratch, lambda i: ["start", H, i, "nosuch", "-localauth"])
    assert o == r and r[2] == 1 and "'nosuch'" in r[1]
    r, o, rn, on = pair(cell, scratch, lambda i: ["start", H, "nosuch", i, "-localauth"])
    assert o == r and r[2] == 0
    assert state(cell, on, rn) == state(cell, rn, rn)
    assert bosconfig_bnode(on).startswith("bnode simple %s 1\n" % on)
    # a running instance cannot be deleted; a stopped one can
    r, o, rn, on = pair(cell, scratch, lambda i: ["delete", H, i, "-localauth"])
    assert o == r and r[2] == 2 and "can't delete running instance" in r[1]
    pair(cell, scratch, lambda i: ["stop", H, i, "-wait", "-localauth"])
    r, o, rn, on = pair(cell, scratch, lambda i: ["delete", H, i, "-localauth"])
    assert o == r == ("", "", 0)
    assert bosconfig_bnode(on) == "" and bosconfig_bnode(rn) == ""
    assert "no such entity" in run_real(cell, ["status", H, on, "-localauth"])[1]


def test_shutdown_startup_instance(cell, scratch):
    create_both(cell, scratch)
    r, o, rn, on = pair(cell, scratch, lambda i: ["shutdown", H, i, "-wait", "-localauth"])
    assert o == r == ("", "", 0)
    assert state(cell, on, rn) == state(cell, rn, rn)
    assert "temporarily disabled, currently shutdown." in status_long(cell, on)
    # temporary: BosConfig still says run
    assert bosconfig_bnode(on).startswith("bnode simple %s 1\n" % on)
    r, o, rn, on = pair(cell, scratch, lambda i: ["startup", H, i, "nosuch", "-localauth"])
    assert o == r and r[2] == 0 and "failed to start instance nosuch" in r[1]
    assert state(cell, on, rn) == state(cell, rn, rn)
    assert "currently running normally." in status_long(cell, on)


def test_startup_all(cell, scratch):
    """startup without -instance starts every instance BosConfig says
    should run: here the scratch ones (the real servers already run)."""
    create_both(cell, scratch)
    names = {s: scratch(s) for s in ("real", "ours")}
    for side, name in names.items():
        bos(cell, "shutdown", H, name, "-wait")
        assert "temporarily disabled" in status_long(cell, name)
        res = run_side(side, cell, ["startup", H, "-localauth"])
        assert res == ("", "", 0), side
        assert "currently running normally." in status_long(cell, name)
    assert state(cell, names["ours"], names["real"]) == state(cell, names["real"],
                                                              names["real"])
    assert "running normally" in bos(cell, "status", H, "ptserver")


def test_restart_instance(cell, scratch):
    create_both(cell, scratch)
    r, o, rn, on = pair(cell, scratch, lambda i: ["restart", H, i, "-localauth"])
    assert o == r == ("", "", 0)
    assert state(cell, on, rn) == state(cell, rn, rn)
    # a second process start, one exit (by the shutdown's signal)
    assert "(2 proc starts)" in status_long(cell, on)


def test_json(cell, scratch):
    name = scratch("ours", 5)

    def j(*args):
        o = run_ours([*args, "-json"])
        return json.loads(o[0]), o[1], o[2]
    doc, err, rc = j("create", H, name, "simple", SLEEP, "-localauth")
    assert doc == {"instance": name, "type": "simple", "commands": [SLEEP],
                   "notifier": None, "ok": True} and rc == 0
    doc, err, rc = j("stop", H, name, "nosuch", "-wait", "-localauth")
    assert [d["ok"] for d in doc] == [True, False, True]
    assert doc[1] == {"instance": "nosuch", "ok": False,
                      "error": {"code": 39425, "message": "no such entity"}}
    assert doc[2] == {"instance": None, "wait": True, "ok": True}
    assert j("start", H, name, "-localauth")[0] == [{"instance": name, "ok": True}]
    assert j("shutdown", H, name, "-localauth")[0] == [{"instance": name, "ok": True}]
    assert j("startup", H, name, "-localauth")[0] == [{"instance": name, "ok": True}]
    assert j("restart", H, name, "-localauth")[0] == [{"instance": name, "ok": True}]
    doc, err, rc = j("delete", H, name, "-localauth")
    assert doc[0]["error"]["code"] == 39426 and rc == 2
    bos(cell, "stop", H, name, "-wait")
    assert j("delete", H, name, "-localauth")[0] == [{"instance": name, "ok": True}]


# -- the commands that stop or restart the cell's real servers -----------------

def _all_status(cell) -> str:
    """status -long of every instance without dates and process-start
    counts (the second tool's turn comes after the first's restarts)."""
    import re
    return re.sub(r"\(\d+ proc starts\)", "(<n> proc starts)",
                  strip_times(bos(cell, "status", H, "-long")))


def test_shutdown_all_startup_all(cell, healthy):
    """shutdown (every instance, -wait) and startup by each tool in turn;
    the states after each step are the same."""
    seen = {}
    for side in ("real", "ours"):
        res = run_side(side, cell, ["shutdown", H, "-wait", "-localauth"])
        assert res == ("", "", 0), side
        down = _all_status(cell)
        assert down.count("temporarily disabled, currently shutdown.") >= 3, down
        res2 = run_side(side, cell, ["startup", H, "-localauth"])
        assert res2 == ("", "", 0), side
        seen[side] = down
        wait_healthy()
    assert seen["ours"] == seen["real"]


def test_restart_all(cell, healthy):
    for side in ("real", "ours"):
        before = bos(cell, "status", H, "ptserver", "-long")
        res = run_side(side, cell, ["restart", H, "-all", "-localauth"])
        assert res == ("", "", 0), side
        after = bos(cell, "status", H, "ptserver", "-long")
        assert after != before           # a new start time / count
        wait_healthy()


def test_restart_bosserver(cell, healthy):
    from kafs.testcell import TestCell
    for side in ("real", "ours"):
        pid = TestCell(verbose=False).bosserver_pid()
        log_before = run_real(cell, ["getlog", H, "BosLog", "-localauth"])[0]
        res = run_side(side, cell, ["restart", H, "-bosserver", "-localauth"])
        assert res == ("", "", 0), side
        wait_healthy()
        # the same process, run anew (exec): BosLog says it started again
        assert TestCell(verbose=False).bosserver_pid() == pid
        log_after = run_real(cell, ["getlog", H, "BosLog", "-localauth"])[0]
        assert log_after.count("Listening on 127.1.0.1:7007") == \
            log_before.count("Listening on 127.1.0.1:7007") + 1, side
