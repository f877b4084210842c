"""A VL_ListAttributesN2 sweep over 2,000 volumes under 5% random packet loss
on the path to the real vlserver (nftables `numgen random`, both directions)
returns every entry once, and no call dies.

How fast it recovers is measured in bench/loss_bench.py (against OpenAFS's
vos on the same lossy path), not asserted here."""

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


async def sweep(host):
    """Every VLDB entry (a name pattern needs a superuser; we are anonymous);
    returns (names, number of calls, the endpoint's Rx statistics)."""
    async with await Endpoint.open() as ep:
        conn = ep.connection((host, vl.VL_PORT), vl.VL_SERVICE_ID)
        names, calls, index = [], 0, 0
        while True:
            r = await vl.VL_ListAttributesN2(conn, vl.VldbListByAttributes(), "", index)
            calls += 1
            names.extend(e.name for e in r.blkentries)
            assert r.nentries == len(r.blkentries)
            if r.nextstartindex in (-1, 0xFFFFFFFF) or not r.blkentries:
                return names, calls, ep.stats()
            index = r.nextstartindex


@pytest.fixture(scope="module")
def sweep_volumes(cell):
    """2,000 real volumes named sweep.0000..sweep.1999 (made once; kept)."""
    have, _, _ = asyncio.run(sweep(cell.host))
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

    clean, _, _ = asyncio.run(sweep(cell.host))
    assert sweep_volumes <= set(clean)
    tc = TestCell()
    tc.set_loss(5)
    try:
        try:
            names, calls, stats = asyncio.run(sweep(cell.host))
        except CallDead as e:                              # pragma: no cover - the failure we test for
            pytest.fail(f"a call died under 5% loss: {e}")
        dropped = tc.dropped_packets()
    finally:
        tc.clear_loss()
    assert len(names) == len(set(names))                  # no duplicates
    assert set(names) == set(clean)                       # every entry, nothing lost
    assert calls > 1                                      # the sweep took several calls
    assert dropped > 0                                    # the loss really hit the sweep
    # packets were lost and made good: the reply data that did arrive more
    # than once, or the acks we had to repeat when nothing came
    assert stats["dupPacketsRead"] + stats.get("reacksSent", 0) > 0, stats
