"""A VL_ListAttributesN2 sweep over 2,000 volumes under 5% random packet loss
on the path to the real vlserver (nftables `numgen random`, both directions)
returns every entry, and no call outlives its dead timeout."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from kafs.errors import CallDead
from kafs.rpc import vl
from kafs.rx.endpoint import Endpoint

pytestmark = pytest.mark.cell

N_VOLUMES = 2000
PREFIX = "sweep."
DEAD_TIME = 12.0


async def sweep(host, *, dead_time=DEAD_TIME):
    """Every VLDB entry (a name pattern needs a superuser; we are anonymous);
    returns (names, per-call seconds)."""
    async with await Endpoint.open() as ep:
        conn = ep.connection((host, vl.VL_PORT), vl.VL_SERVICE_ID, dead_time=dead_time)
        loop = asyncio.get_running_loop()
        names, durations, index = [], [], 0
        while True:
            t0 = loop.time()
            r = await vl.VL_ListAttributesN2(conn, vl.VldbListByAttributes(), "", index)
            durations.append(loop.time() - t0)
            names.extend(e.name for e in r.blkentries)
            assert r.nentries == len(r.blkentries)
            if r.nextstartindex in (-1, 0xFFFFFFFF) or not r.blkentries:
                return names, durations
            index = r.nextstartindex


@pytest.fixture(scope="module")
def sweep_volumes(cell):
    """2,000 real volumes named sweep.0000..sweep.1999 (made once; kept)."""
    have, _ = asyncio.run(sweep(cell.host))
    missing = sorted({f"{PREFIX}{i:04d}" for i in range(N_VOLUMES)} - set(have))

    def create(names):
        for name in names:
            r = cell.tool("vos", "create", cell.host, "a", name, "-localauth")
            assert r.returncode == 0, r.stderr
    if missing:
        chunks = [missing[i::4] for i in range(4)]
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            list(ex.map(create, chunks))
    return {f"{PREFIX}{i:04d}" for i in range(N_VOLUMES)}


def test_listattributes_sweep_under_5_percent_loss(cell, sweep_volumes):
    from kafs.testcell import TestCell

    clean, _ = asyncio.run(sweep(cell.host))
    assert sweep_volumes <= set(clean)
    tc = TestCell()
    tc.set_loss(5)
    try:
        try:
            names, durations = asyncio.run(sweep(cell.host))
        except CallDead as e:                              # pragma: no cover - the failure we test for
            pytest.fail(f"a call died under 5% loss: {e}")
    finally:
        tc.clear_loss()
    assert len(names) == len(set(names))                  # no duplicates
    assert set(names) == set(clean)                       # every entry, nothing lost
    assert len(durations) > 1                             # the sweep took several calls
    assert max(durations) < DEAD_TIME                     # no call outlived the dead time
