"""kafs.api.Session against the real test cell."""

from __future__ import annotations

import asyncio

import pytest

from kafs.api import AuthSpec, Session
from kafs.errors import ConfigError
from kafs.rpc import bozo, pr, vl, volser

pytestmark = pytest.mark.cell


def test_session_reaches_every_kind_of_server(cell):
    async def main():
        async with await Session.open(cell.cell, auth=AuthSpec(noauth=True)) as s:
            e = await s.vl.call(vl.VL_GetEntryByNameN, "root.cell")
            ids = await s.pt.call(pr.PR_NameToID, ["admin"])
            name = await bozo.BOZO_GetCellName(s.bos(cell.host))
            parts = await volser.AFSVolXListPartitions(s.volser(cell.host))
            assert s.bos(cell.host) is s.bos(cell.host)      # connections are shared
            return e, ids, name, parts, s.auth
    e, ids, name, parts, auth = asyncio.run(main())
    assert e.name == "root.cell"
    assert ids[0] > 0
    assert name == cell.cell
    assert parts == [0, 1]                 # /vicepa, /vicepb
    assert auth.unauthenticated is False                      # -noauth asks for no token


def test_session_without_token_runs_unauthenticated(cell):
    async def main():
        async with await Session.open(cell.cell) as s:
            await s.vl.call(vl.VL_ProbeServer)
            return s.auth
    assert asyncio.run(main()).unauthenticated is True


def test_unknown_cell_is_a_config_error(cell, monkeypatch):
    monkeypatch.setenv("KAFS_DNS", "off")

    async def main():
        async with await Session.open("no.such.cell.invalid") as s:
            s.vl
    with pytest.raises(ConfigError):
        asyncio.run(main())
