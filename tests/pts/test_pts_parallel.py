"""PR_ListEntries pages asked for several at once (kafs.api.session.
strided_pages) against the real ptserver: the same entries in the same
order as one page after the other, also when the CellServDB names a dead
ptserver first."""

from __future__ import annotations

import asyncio
import os
import random
import shutil

import pytest

DEAD = "127.1.0.77"          # nothing answers (the kernel sends ICMP port unreachable)


def _sequential(cell, flags):
    """(id, name) of every entry by plain paging with the generated stub:
    one PR_ListEntries after the other, from each reply's next index."""
    from kafs.api import AuthSpec, Session
    from kafs.cell import Cell
    from kafs.rpc import pr
    flag = (1 if flags[0] else 0) | (2 if flags[1] else 0)

    async def main():
        c = Cell(cell.cell, localauth=True)
        async with await Session.open(c, auth=AuthSpec(localauth=True), tool="pts") as s:
            out, index = [], 0
            while index != -1:
                r = await s.pt.call(pr.PR_ListEntries, flag, index)
                out += [(e.id, e.name) for e in r.bulkentries]
                index = r.nextstartindex
            return out
    return asyncio.run(main())


def _listing(cell, confdir=None, flags=(True, False), ahead=4):
    from kafs.api import AuthSpec, Session
    from kafs.api.pts import Pts
    from kafs.cell import Cell

    async def main():
        c = Cell(cell.cell, confdir=confdir, localauth=True)
        async with await Session.open(c, auth=AuthSpec(localauth=True), tool="pts") as s:
            p = Pts(s)
            pages = [page async for page in p.entries_pages(*flags, ahead=ahead)]
            return pages, s.pt
    return asyncio.run(main())


@pytest.mark.parametrize("flags", [(True, False), (False, True), (True, True)],
                         ids=["users", "groups", "both"])
def test_parallel_listing_is_the_sequential_one(ptsdb, cell, flags):
    seq = _sequential(cell, flags)
    for ahead in (1, 4):
        pages, _ = _listing(cell, flags=flags, ahead=ahead)
        par = [e for p in pages for e in p]
        assert [(e.id, e.name) for e in par] == seq
    assert len({e.id for e in par}) == len(par)
    if flags[0]:
        assert len(seq) >= 500 + 1           # the fixture's users and admin
        assert len(pages) >= 2               # more than one page: pages really overlap
    if flags[1]:
        assert {"grp01", "grp50", "system:administrators"} <= {e.name for e in par}


def test_parallel_listing_fails_over_past_a_dead_ptserver(ptsdb, cell, tmp_path, monkeypatch):
    import kafs.ubik.client as uc
    d = tmp_path / "conf"
    d.mkdir()
    (d / "ThisCell").write_text(cell.cell + "\n")
    (d / "CellServDB").write_text(">%s #test\n%s #dead\n%s #afs1\n"
                                  % (cell.cell, DEAD, cell.host))
    for name in ("KeyFile", "KeyFileExt"):
        src = os.path.join(cell.server_etc, name)
        if os.path.exists(src):
            shutil.copyfile(src, d / name)
            os.chmod(d / name, 0o600)
    want = _sequential(cell, (True, True))
    attempts = []
    real = uc.Attempt

    def record(*a):
        attempts.append(real(*a))
        return attempts[-1]
    monkeypatch.setattr(uc, "Attempt", record)
    # the Ubik client rotates the server list at random, as OpenAFS does:
    # no rotation here, so the dead server comes first every time
    monkeypatch.setattr(random, "randrange", lambda n: 0)
    for _ in range(2):
        attempts.clear()
        pages, _ = _listing(cell, confdir=str(d), flags=(True, True), ahead=4)
        assert [(e.id, e.name) for p in pages for e in p] == want
        dead = [a for a in attempts if a.addr[0] == DEAD]
        # only the calls in flight before the first failure try the dead
        # server; it is then marked down and skipped
        assert 1 <= len(dead) <= 4 and all(a.outcome == "down" for a in dead)
        assert sum(a.outcome == "ok" for a in attempts) >= len(pages)
