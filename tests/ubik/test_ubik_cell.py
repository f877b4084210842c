"""UbikClient + kafs.cell against the real OpenAFS test cell (vlserver 7003,
service 52; ptserver 7002, service 73 on 127.1.0.1).

Dead entries (an address where nothing listens, a port where nothing
listens) sit ahead of the real server: calls must still succeed, with a
bounded number of attempts (asserted; wall time is not).
"""

from __future__ import annotations

import asyncio

import pytest

from kafs.cell import Cell, clear_cache
from kafs.errors import AFSError, RemoteAbort
from kafs.ubik import UbikClient

try:
    from kafs.rpc import pr, vl
    from kafs.rx.endpoint import Endpoint
except ImportError as e:                       # layers not there yet
    pytestmark = [pytest.mark.cell,
                  pytest.mark.skip(reason=f"Rx endpoint / generated RPC modules missing: {e}")]
else:
    pytestmark = pytest.mark.cell

DEAD_ADDR = ("127.1.0.77", 7003)       # nothing listens on this address
DEAD_TIME = 30.0                       # the dead probes fail at once (ICMP); this only bounds a hang


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def _csdb(tmp_path, cell, hosts):
    (tmp_path / "ThisCell").write_text(cell.cell + "\n")
    (tmp_path / "CellServDB").write_text(
        f">{cell.cell}  #kafs ubik test\n" + "".join(f"{h} #{n}\n" for h, n in hosts))
    return tmp_path


async def _with_endpoint(fn):
    ep = await Endpoint.open(host="0.0.0.0", port=0, dead_time=DEAD_TIME)
    try:
        return await fn(ep)
    finally:
        await ep.close()


def test_default_config_reaches_vlserver(cell):
    """The test cell's /etc/openafs/{ThisCell,CellServDB} are read by default."""
    c = Cell(env={}, client_conf="", dns=False)
    assert c.name == cell.cell
    assert (cell.host, cell.ports["vlserver"]) in c.vlservers()

    async def go(ep):
        uc = UbikClient.for_cell(c, "vlserver", ep)
        return await uc.call(vl.VL_GetEntryByNameN, "root.cell"), uc
    entry, uc = asyncio.run(_with_endpoint(go))
    assert entry.name == "root.cell"
    assert len(uc.last_attempts) == 1


def test_dead_address_ahead_of_real_server(cell, tmp_path):
    d = _csdb(tmp_path, cell, [(DEAD_ADDR[0], "dead.test.example"), (cell.host, "afs1")])
    c = Cell(confdir=d, env={}, client_conf="", dns=False)
    assert c.vlservers() == [DEAD_ADDR, (cell.host, 7003)]

    async def go(ep):
        uc = UbikClient.for_cell(c, "vlserver", ep, rotate=False)
        first = await uc.call(vl.VL_GetEntryByNameN, "root.cell")
        one = list(uc.last_attempts)
        second = await uc.call(vl.VL_GetEntryByNameN, "root.cell")
        return first, one, second, list(uc.last_attempts), uc
    first, one, second, two, uc = asyncio.run(_with_endpoint(go))
    assert first.name == second.name == "root.cell"
    assert [(a.addr, a.outcome) for a in one] == [(DEAD_ADDR, "down"), ((cell.host, 7003), "ok")]
    assert one[0].code < 0
    assert [(a.addr, a.outcome) for a in two] == [((cell.host, 7003), "ok")]
    assert uc.down == [DEAD_ADDR]


def test_dead_port_and_dead_address_then_ptserver(cell):
    servers = [DEAD_ADDR, (cell.host, 7999), (cell.host, cell.ports["ptserver"])]

    async def go(ep):
        uc = UbikClient(servers, 73, None, ep, rotate=False)
        ids = await uc.call(pr.PR_NameToID, [cell.admin_user, "no-such-user-kafs"])
        return ids, list(uc.last_attempts)
    ids, attempts = asyncio.run(_with_endpoint(go))
    assert len(ids) == 2
    assert ids[0] != 32766                    # ANONYMOUSID: admin exists
    assert ids[1] == 32766                    # unknown names map to anonymous
    assert len(attempts) <= 3
    assert [a.outcome for a in attempts] == ["down", "down", "ok"]


def test_application_error_is_not_retried(cell):
    servers = [DEAD_ADDR, (cell.host, 7003)]

    async def go(ep):
        uc = UbikClient(servers, 52, None, ep, rotate=False)
        try:
            await uc.call(vl.VL_GetEntryByNameN, "no.such.volume.kafs")
        except AFSError as e:
            return e, list(uc.last_attempts)
        raise AssertionError("VL_GetEntryByNameN of a missing volume succeeded")
    err, attempts = asyncio.run(_with_endpoint(go))
    assert isinstance(err, RemoteAbort)
    assert err.code == 363524                  # VL_NOENT
    assert [a.outcome for a in attempts] == ["down", "error"]


def test_unauthenticated_write_reaches_sync_site_once(cell):
    """A write (VL_SetLock) with rxnull is refused by the (only, hence sync)
    server: one answer, no retry loop."""
    servers = [DEAD_ADDR, (cell.host, 7003)]

    async def go(ep):
        uc = UbikClient(servers, 52, None, ep, rotate=False)
        try:
            await uc.call(vl.VL_SetLock, 536870912, -1, 1)
        except AFSError as e:
            return e, list(uc.last_attempts)
        raise AssertionError("unauthenticated VL_SetLock succeeded")
    err, attempts = asyncio.run(_with_endpoint(go))
    assert err.code > 0
    assert len(attempts) == 2
    assert attempts[-1].outcome == "error"


def test_all_dead_is_bounded(cell):
    servers = [DEAD_ADDR, (cell.host, 7999)]

    async def go(ep):
        uc = UbikClient(servers, 52, None, ep, rotate=False)
        try:
            await uc.call(vl.VL_GetEntryByNameN, "root.cell")
        except AFSError as e:
            return e, list(uc.last_attempts)
        raise AssertionError("a call to dead servers succeeded")
    err, attempts = asyncio.run(_with_endpoint(go))
    assert err.code < 0
    assert len(attempts) == 4                 # two passes over two servers
