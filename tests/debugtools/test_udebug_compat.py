"""udebug: OpenAFS 1.8.9's binary and ours, same arguments, same targets;
stdout, stderr and exit status compared byte for byte.

Targets: the cell's vlserver and ptserver; fake Ubik servers served by an
endpoint of ours (``_servers.py``) for the branches a one-server cell
never shows (not sync site, clock skew, clone, per-server records, old
servers without XDebug or even Debug, SDebug errors, active
transactions and locks); an endpoint of ours without the VOTE service;
a port nobody listens on.

udebug prints the wall clock (ctime() strings, "N secs ago") and live
database counters, so the two programs are started at the same moment
and a disagreeing pair is run again (at most 5 times; see
``run_pair_same``): pairs that straddle a second or a concurrent database
write settle, a real difference does not.  Only when all five disagree are
the wall-clock fields (or, for the cell, the live counters) normalised and
the rest compared exactly.
"""

from __future__ import annotations

import json
import re

import pytest

from . import _compat as X

pytestmark = pytest.mark.skipif(not X.have_openafs("udebug"),
                                reason="OpenAFS udebug not installed")

ARG_CASES = [
    [],
    ["-help"],
    ["-x"],
    ["-server"],
    ["a", "b", "c"],
    ["nosuchhost.invalid", "7003"],
    ["nosuchhost.invalid"],
    ["127.0.0.1", "notaport"],
    ["127.0.0.1", "40000"],
    ["127.0.0.1", "65535"],
    ["127.0.0.1", "vlserverx"],
    ["-s", "nosuchhost.invalid", "-p", "7003", "-l"],
]


@pytest.mark.parametrize("args", ARG_CASES, ids=lambda a: " ".join(a) or "noargs")
def test_arguments(args):
    theirs, ours = X.run_pair("udebug", args)
    assert ours == theirs


CELL_CASES = [
    ["7003"], ["7003", "-long"], ["7002"], ["7002", "-long"],
    ["vlserver"], ["vl"], ["p"], ["afs3-prserver"], ["70000"],
]


_COUNTERS = re.compile(r"^(Local db version is |The last trans I handled was "
                       r"|I am currently managing write trans "
                       r"|Sync site's db version is )(\d+)\.\d+$", re.M)


def _cell_pair(args):
    """Exact comparison first.  The shared cell's database servers take
    writes and transactions from other tests all the time, so the
    transaction counter and db version may move between the two queries
    however close (and on a loaded machine the pair may straddle a
    second): when 5 simultaneous pairs all differ, the pair is accepted if
    it agrees with only those counters (the part after the dot of the four
    lines in _COUNTERS) and the wall-clock fields normalised."""
    return X.run_pair_same(
        "udebug", args,
        normalise=lambda out: X.normalise_times(_COUNTERS.sub(r"\1\2.#", out)))


@pytest.mark.parametrize("args", CELL_CASES, ids=" ".join)
def test_cell(cell, args):
    theirs, ours = _cell_pair([cell.host, *args])
    assert ours == theirs
    if args[0] != "70000":
        assert "Local db version is " in theirs[1]


def test_cell_named_switches(cell):
    theirs, ours = _cell_pair(["-server", cell.host, "-port", "7003", "-long"])
    assert ours == theirs


SCENARIOS = ["vote-sync", "vote-notsync", "vote-clone", "vote-old",
             "vote-older", "vote-sdebug-error", "vote-busy"]


@pytest.fixture(scope="module")
def helpers():
    srv = {}
    try:
        for sc in SCENARIOS + ["plain"]:
            srv[sc] = X.HelperServer(sc)
        yield srv
    finally:
        for s in srv.values():
            s.close()


@pytest.mark.parametrize("long", [False, True], ids=["short", "long"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fake_ubik(helpers, scenario, long):
    args = ["127.0.0.1", str(helpers[scenario].port)] + (["-long"] if long else [])
    theirs, ours = X.run_pair_same("udebug", args, normalise=X.normalise_times)
    assert ours == theirs
    assert theirs[0] == 0


def test_our_endpoint_without_vote(helpers):
    theirs, ours = X.run_pair("udebug", ["127.0.0.1", str(helpers["plain"].port)])
    assert ours == theirs == (0, "return code -2 from VOTE_Debug\n", "")


def test_no_listener(cell):
    port = str(X.free_udp_port())
    theirs, ours = X.run_pair("udebug", [cell.host, port])
    assert ours == theirs == (0, "return code -1 from VOTE_Debug\n", "")


def test_default_port(cell):
    theirs, ours = X.run_pair("udebug", [cell.host])     # port 3000
    assert ours == theirs


def test_json(cell, helpers):
    rc, out, err = X.run("udebug", [cell.host, "7003", "-long", "-json"], True)
    assert rc == 0 and err == ""
    doc = json.loads(out)
    assert doc["host"] == "127.1.0.1" and doc["port"] == 7003
    assert doc["debug"]["amSyncSite"] == 1
    assert doc["interface_addresses"] == ["127.1.0.1"]
    assert doc["servers"] == []
    rc, out, err = X.run("udebug", ["127.0.0.1", str(helpers["vote-sync"].port),
                                    "-json"], True)
    doc = json.loads(out)
    assert [s["addr"] for s in doc["servers"]] == ["127.0.0.10", "127.0.0.11",
                                                   "127.0.0.12"]
    assert doc["servers"][2]["is_clone"] is True
    rc, out, err = X.run("udebug", ["127.0.0.1", str(helpers["plain"].port),
                                    "-json"], True)
    assert json.loads(out)["code"] == -2
