"""rxdebug: OpenAFS 1.8.9's binary and ours, same arguments, same targets;
stdout, stderr and exit status compared.

* Argument and error cases: compared byte for byte (no network, or a
  port that never answers).
* Every OpenAFS server port of the test cell and an endpoint of ours,
  for every switch: OpenAFS's rxdebug runs through a recording UDP proxy
  (:class:`_compat.DebugProxy`), ours then gets the very same replies, and
  the outputs are compared byte for byte (the one wall-clock value,
  rxkad's "expires in N hours" (ticket end minus time(0), 0.1 h
  precision), is normalised when, and only when, the exact comparison
  failed: recording a long list can take long enough to cross a tick).
* Live runs without the proxy: ``-version`` byte for byte; the
  statistics header with every digit run normalised (the counters move
  between two queries: see ``normalise_numbers``).
"""

from __future__ import annotations

import json
import re

import pytest

from . import _compat as X

pytestmark = pytest.mark.skipif(not X.have_openafs("rxdebug"),
                                reason="OpenAFS rxdebug not installed")

# -- arguments and errors (no server needed) ----------------------------------

ARG_CASES = [
    [],
    ["-help"],
    ["-h"],
    ["-foo"],
    ["-"],
    ["-servers"],
    ["a", "b", "c"],
    ["nosuchhost.invalid"],
    ["nosuchhost.invalid", "7000"],
    ["127.0.0.1", "notaport"],
    ["127.0.0.1", "65535"],
    ["127.0.0.1", "-port"],
    ["127.0.0.1", "7000", "-onlyauth", "bogus"],
    ["127.0.0.1", "7000", "-onlyport", "nope"],
    ["127.0.0.1", "7000", "-onlyport", "65535"],
    ["127.0.0.1", "7000", "-onlyhost", "nosuchhost.invalid"],
    ["nosuchhost.invalid", "7000", "-onlyauth", "bogus"],
    ["nosuchhost.invalid", "7000", "-onlyport", "bad"],
    ["-servers", "127.0.0.1", "-port", "x", "-nodally", "-help"],
    ["127.0.0.1", "-version=1"],
    ["nosuchhost.invalid", "-long", "-long"],
]


@pytest.mark.parametrize("args", ARG_CASES, ids=lambda a: " ".join(a) or "noargs")
def test_arguments(args):
    theirs, ours = X.run_pair("rxdebug", args)
    assert ours == theirs


# -- every switch against every OpenAFS server of the cell, through the proxy --

SWITCHES = [
    [],
    ["-allconnections"],
    ["-noconns"],
    ["-rxstats", "-noconns"],
    ["-rxstats"],
    ["-peers", "-noconns"],
    ["-peers", "-long", "-allconnections"],
    ["-long"],
    ["-nodally", "-allconnections"],
    ["-nodally"],
    ["-onlyserver", "-allconnections"],
    ["-onlyclient", "-allconnections"],
    ["-onlyauth", "crypt", "-allconnections"],
    ["-onlyauth", "auth", "-allconnections"],
    ["-onlyauth", "clear", "-allconnections"],
    ["-onlyauth", "null", "-allconnections"],
    ["-onlyauth", "unauthenticated", "-allconnections"],
    ["-onlyhost", "127.0.0.1", "-allconnections", "-peers"],
    ["-onlyhost", "127.1.0.1", "-peers", "-noconns"],
    ["-onlyport", "7001", "-allconnections", "-peers"],
    ["-onlyport", "afs3-callback", "-allconnections"],
    ["-version"],
    ["-all", "-rx", "-pe", "-l"],          # abbreviations
]

_EXPIRES = re.compile(r"expires in -?[0-9.]+ hours")
BUSY = ("vlserver", "ptserver")
PORTS = {"fileserver": 7000, "ptserver": 7002, "vlserver": 7003,
         "volserver": 7005, "bosserver": 7007}


def _compare_proxied(target, switches, named=False):
    def args(port):
        if named:
            return ["-servers", "127.0.0.1", "-port", str(port), *switches]
        return ["127.0.0.1", str(port), *switches]
    theirs, ours, misses = X.proxied_pair(target, args)
    assert misses == 0
    if theirs != ours:
        # The one wall-clock value: rxkad's "expires in N hours" is the
        # ticket's end minus time(0) at print time; when recording a long
        # connection list took long enough to cross a 0.1 h tick, the
        # replayed run prints the next value.  Only that number is
        # normalised, and only after an exact comparison failed.
        norm = lambda r: (r[0], _EXPIRES.sub("expires in # hours", r[1]), r[2])  # noqa: E731
        theirs, ours = norm(theirs), norm(ours)
    assert ours == theirs
    return theirs


@pytest.mark.parametrize("switches", SWITCHES, ids=lambda a: " ".join(a) or "plain")
@pytest.mark.parametrize("server", list(PORTS))
def test_openafs_servers(cell, server, switches):
    if server in BUSY:
        # The shared cell's database servers hold thousands of dallying
        # connections (every other test's calls): listing all of them
        # takes minutes, so these get the "interesting" list only.
        switches = [s for s in switches if s not in ("-allconnections", "-all")]
    rc, out, err = _compare_proxied((cell.host, PORTS[server]), switches)
    assert out.startswith("Trying 127.0.0.1 (port ")
    if "-version" in switches:
        assert "AFS version: OpenAFS 1.8.9" in out
    else:
        assert "waiting for packets." in out


@pytest.mark.parametrize("server", ["fileserver", "bosserver"])
def test_named_switches(cell, server):
    _compare_proxied((cell.host, PORTS[server]), ["-allconnections", "-peers"],
                     named=True)


@pytest.mark.parametrize("server", list(PORTS))
def test_live_version(cell, server):
    theirs, ours = X.run_pair("rxdebug", [cell.host, str(PORTS[server]), "-version"])
    assert ours == theirs
    assert theirs[0] == 0


@pytest.mark.parametrize("server", list(PORTS))
def test_live_stats_normalised(cell, server):
    theirs, ours = X.run_pair("rxdebug", [cell.host, str(PORTS[server]), "-noconns"])
    assert ours[0] == theirs[0] == 0
    assert ours[2] == theirs[2] == ""
    # Counters move between the two queries: digits normalised (explicit).
    assert X.normalise_numbers(ours[1]) == X.normalise_numbers(theirs[1])
    assert ours[1].splitlines()[0] == theirs[1].splitlines()[0]   # exact


def test_live_service_name_port(cell):
    theirs, ours = X.run_pair("rxdebug", [cell.host, "afs3-fileserver", "-version"])
    assert ours == theirs


# -- our own endpoint -------------------------------------------------------------

@pytest.fixture(scope="module")
def endpoint():
    srv = X.HelperServer("plain")
    try:
        assert X.rx_call(srv.port, b"ping") == b"ping"
        yield srv
    finally:
        srv.close()


@pytest.mark.parametrize("switches", SWITCHES, ids=lambda a: " ".join(a) or "plain")
def test_our_endpoint(endpoint, switches):
    X.rx_call(endpoint.port, b"again")
    _compare_proxied(("127.0.0.1", endpoint.port), switches)


def test_our_endpoint_live_version(endpoint):
    theirs, ours = X.run_pair("rxdebug", ["127.0.0.1", str(endpoint.port), "-version"])
    assert ours == theirs
    assert "AFS version: " in ours[1]


def test_our_endpoint_live_normalised(endpoint):
    args = ["127.0.0.1", str(endpoint.port), "-allconnections", "-peers",
            "-long", "-rxstats"]
    theirs, ours = X.run_pair("rxdebug", args)
    assert ours[0] == theirs[0] == 0
    # rxdebug's own queries change the counters it reads: digits normalised.
    assert X.normalise_numbers(ours[1]).splitlines()[:6] == \
        X.normalise_numbers(theirs[1]).splitlines()[:6]


# -- no answer: OpenAFS waits 1+2+4+8+16 s, so do we ---------------------------------

def test_no_answer(cell):
    port = str(X.free_udp_port())
    procs = [X.start("rxdebug", [cell.host, port], ours)
             for ours in (False, True)]
    procs += [X.start("rxdebug", [cell.host, port, "-version"], ours)
              for ours in (False, True)]
    res = [X.finish(p, 300) for p in procs]
    assert res[1] == res[0]
    assert res[0] == (1, "Trying 127.1.0.1 (port %s):\ngetstats call failed "
                      "with code -1\n" % port, "")
    assert res[3] == res[2]
    assert res[2][1].endswith("get version call failed with code -1, errno 0\n")


# -- -json --------------------------------------------------------------------------

def test_json(cell):
    rc, out, err = X.run("rxdebug", [cell.host, "7003", "-rxstats", "-peers",
                                     "-allconnections", "-json"], True)
    assert rc == 0 and err == ""
    doc = json.loads(out)
    assert doc["host"] == "127.1.0.1" and doc["port"] == 7003
    assert doc["stats"]["version"] == "S"
    assert isinstance(doc["connections"], list) and isinstance(doc["peers"], list)
    assert doc["rxstats"]["packetRequests"] > 0
    rc, out, err = X.run("rxdebug", [cell.host, "7003", "-version", "-json"], True)
    assert json.loads(out)["version"].startswith("OpenAFS 1.8.9")
    rc, out, err = X.run("rxdebug", ["nosuchhost.invalid", "-json"], True)
    assert rc == 1 and json.loads(out)["error"].startswith("rxdebug: host")
