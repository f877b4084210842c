"""Pipelined paging (kafs.api.session.pipelined_pages) and the listings
built on it (vldb.entries_pages, Pts.entries_pages), against in-memory
servers: no cell, no clock."""

from __future__ import annotations

import asyncio
import random
from contextlib import aclosing

import pytest

from kafs.api import pts as ptsapi
from kafs.api import vldb
from kafs.api.session import pipelined_pages
from kafs.errors import AFSError, DecodeError
from kafs.rpc import pr, vl
from kafs.rpc.runtime import Rpc
from kafs.ubik import UbikClient
from kafs.xdr import Decoder, Encoder


# -- pipelined_pages ------------------------------------------------------------

class Pager:
    """fetch(index) -> (index, next); records what was started when."""

    def __init__(self, nexts: dict[int, int], fail_at: int | None = None):
        self.nexts = nexts
        self.fail_at = fail_at
        self.log: list[str] = []
        self.cancelled: list[int] = []

    async def fetch(self, index):
        self.log.append("start %d" % index)
        try:
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            self.cancelled.append(index)
            raise
        if index == self.fail_at:
            raise AFSError(363524)
        return index, self.nexts[index]


def collect(pager, **kw):
    async def main():
        got = []
        async for idx, nxt in pipelined_pages(pager.fetch, lambda r: r[1], **kw):
            pager.log.append("got %d" % idx)
            got.append(idx)
        return got
    return asyncio.run(main())


def test_pages_in_order_and_next_call_started_before_the_page_is_handed_out():
    p = Pager({0: 5, 5: 9, 9: 20, 20: -1})
    assert collect(p) == [0, 5, 9, 20]
    assert p.log == ["start 0", "start 5", "got 0", "start 9", "got 5",
                     "start 20", "got 9", "got 20"]


def test_a_single_page():
    p = Pager({0: -1})
    assert collect(p) == [0]
    assert p.log == ["start 0", "got 0"]


@pytest.mark.parametrize("bad", [5, 3])
def test_an_index_that_does_not_advance_is_an_error_after_that_page(bad):
    p = Pager({0: 5, 5: bad})
    with pytest.raises(DecodeError, match="stuck"):
        collect(p, stuck=lambda: DecodeError("stuck"))
    assert p.log == ["start 0", "start 5", "got 0", "got 5"]    # no call for index <= 5


def test_max_pages_bounds_the_listing():
    p = Pager({i: i + 1 for i in range(100)})
    with pytest.raises(RuntimeError, match="does not advance"):
        collect(p, max_pages=3)
    assert [x for x in p.log if x.startswith("got")] == ["got 0", "got 1", "got 2"]


def test_an_error_midway_comes_after_the_earlier_pages():
    p = Pager({0: 5, 5: 9, 9: -1}, fail_at=9)
    got = []

    async def main():
        async for idx, _ in pipelined_pages(p.fetch, lambda r: r[1]):
            got.append(idx)
    with pytest.raises(AFSError) as ei:
        asyncio.run(main())
    assert ei.value.code == 363524
    assert got == [0, 5]


def test_closing_early_cancels_the_call_in_flight():
    p = Pager({0: 5, 5: 9, 9: -1})

    async def main():
        async with aclosing(pipelined_pages(p.fetch, lambda r: r[1])) as pages:
            async for idx, _ in pages:
                return idx
    assert asyncio.run(main()) == 0
    assert p.cancelled == [5]


# -- in-memory VL and PT servers behind a real UbikClient ----------------------

class Conn:
    def __init__(self, server):
        self.server = server

    async def call(self, request: bytes) -> bytes:
        await asyncio.sleep(0)
        return self.server(request)


class Endpoint:
    def __init__(self, servers):
        self.servers = servers

    def connection(self, addr, service_id=None, security=None, **kw):
        return Conn(self.servers[addr])


class FakeSession:
    def __init__(self, servers, service_id=52):
        ep = Endpoint(servers)
        self.vl = self.pt = UbikClient(list(servers), service_id, None, ep, rotate=False)


def random_entry(rng: random.Random, i: int) -> vl.nvldbentry:
    e = vl.nvldbentry()
    n = rng.choice([0, 1, 1, 1, 2, 13, 14, -1])
    name = rng.choice(["vol.%d" % i, "x" * 65, "caf\xe9.%d" % i, "a\udcff%d" % i, ""])
    e.name = name
    e.nServers = n
    for j in range(13):
        e.serverNumber[j] = rng.randrange(-2**31, 2**31)
        e.serverPartition[j] = rng.randrange(0, 30)
        e.serverFlags[j] = rng.choice([0x04, 0x02, 0x22, 0x01])
    e.volumeId = [rng.randrange(2**32) for _ in range(3)]
    e.cloneId = rng.randrange(2**32)
    e.flags = rng.choice([0x1000, 0x3000, 0x7000, 0x7010, -1])
    return e


class VLServer:
    def __init__(self, entries, page=7, n2=True, garbage=False, stuck=False):
        self.entries = entries
        self.page = page
        self.n2 = n2
        self.garbage = garbage
        self.stuck = stuck
        self.starts: list[int] = []

    def __call__(self, request: bytes) -> bytes:
        dec = Decoder(request)
        op = dec.int32()
        enc = Encoder()
        if op == 534:                              # VL_ListAttributesN2
            if not self.n2:
                raise AFSError(-455)
            attrs, pattern, start = vl._VL_ListAttributesN2_idec(dec)
            self.starts.append(start)
            chunk = self.entries[start:start + self.page]
            nxt = start + self.page if start + self.page < len(self.entries) else -1
            if self.stuck and start > 0:
                nxt = start
            vl._VL_ListAttributesN2_oenc(enc, len(chunk), chunk, nxt)
        elif op == 522:                            # VL_ListAttributesN
            vl._VL_ListAttributesN_idec(dec)
            vl._VL_ListAttributesN_oenc(enc, len(self.entries), self.entries)
        else:
            raise AFSError(-455)
        data = bytes(enc.buf)
        return data[:-1] if self.garbage else data          # garbage: cut short


def list_vldb(server, **kw):
    async def main():
        s = FakeSession({("a", 7003): server} if not isinstance(server, dict) else server)
        return await vldb.list_entries(s, **kw)
    return asyncio.run(main())


def test_vldb_listing_decodes_like_the_generated_decoder():
    rng = random.Random(7)
    entries = [random_entry(rng, i) for i in range(40)]
    srv = VLServer(entries)
    got = list_vldb(srv)
    assert got == [vldb.VLDBEntry.from_nvldbentry(e) for e in entries]
    assert srv.starts == [0, 7, 14, 21, 28, 35]


def test_vldb_listing_empty_and_fallback_to_listattributesn():
    assert list_vldb(VLServer([])) == []
    rng = random.Random(8)
    entries = [random_entry(rng, i) for i in range(10)]
    assert list_vldb(VLServer(entries, n2=False)) == [
        vldb.VLDBEntry.from_nvldbentry(e) for e in entries]


def test_vldb_listing_that_does_not_advance_is_an_error():
    entries = [random_entry(random.Random(1), i) for i in range(20)]
    with pytest.raises(DecodeError, match="does not advance"):
        list_vldb(VLServer(entries, stuck=True))


def test_vldb_undecodable_reply_fails_over_to_the_next_server():
    entries = [random_entry(random.Random(2), i) for i in range(20)]
    bad, good = VLServer(entries, garbage=True), VLServer(entries)
    got = list_vldb({("a", 7003): bad, ("b", 7003): good})
    assert got == [vldb.VLDBEntry.from_nvldbentry(e) for e in entries]
    with pytest.raises(DecodeError):
        list_vldb(VLServer(entries, garbage=True))


def test_bytes_after_a_page_are_ignored_as_by_the_c_stubs():
    entries = [random_entry(random.Random(5), i) for i in range(15)]

    class Padded(VLServer):
        def __call__(self, request):
            return super().__call__(request) + b"\0\0\0\x07junk"
    assert list_vldb(Padded(entries)) == [vldb.VLDBEntry.from_nvldbentry(e) for e in entries]


def test_vldb_pages_as_they_come():
    entries = [random_entry(random.Random(3), i) for i in range(15)]

    async def main():
        s = FakeSession({("a", 7003): VLServer(entries)})
        return [len(p) async for p in vldb.entries_pages(s)]
    assert asyncio.run(main()) == [7, 7, 1]


class PTServer:
    def __init__(self, entries, page=4, abort_at=None):
        self.entries = entries
        self.page = page
        self.abort_at = abort_at

    def __call__(self, request: bytes) -> bytes:
        dec = Decoder(request)
        assert dec.int32() == 521
        flags, start = pr._PR_ListEntries_idec(dec)
        if start == self.abort_at:
            raise AFSError(267269)                  # PRPERM
        chunk = self.entries[start:start + self.page]
        nxt = start + self.page if start + self.page < len(self.entries) else -1
        enc = Encoder()
        pr._PR_ListEntries_oenc(enc, chunk, nxt)
        return bytes(enc.buf)


def pt_entry(i, name=None):
    return pr.prlistentries(flags=i % 3, id=i, owner=-204, creator=i * 7, ngroups=20,
                            nusers=i, count=-i, reserved=[1, 2, 3, 4, 5],
                            name="user%d" % i if name is None else name)


def test_pts_listing_pages_like_the_generated_decoder():
    entries = [pt_entry(i) for i in range(10)] + [pt_entry(99, "caf\xe9"), pt_entry(98, "")]

    async def main():
        s = FakeSession({("a", 7002): PTServer(entries)}, 73)
        return [p async for p in ptsapi.Pts(s).entries_pages()]
    pages = asyncio.run(main())
    assert [len(p) for p in pages] == [4, 4, 4]
    want = [ptsapi.ListedEntry(e.name, e.id, e.owner, e.creator, e.flags, e.ngroups,
                               e.nusers, e.count) for e in entries]
    assert [e for p in pages for e in p] == want


def test_pts_bytes_after_a_page_are_ignored():
    entries = [pt_entry(i) for i in range(9)]

    class Padded(PTServer):
        def __call__(self, request):
            return super().__call__(request) + b"\xff\xff\xff\xffjunk"

    async def main():
        s = FakeSession({("a", 7002): Padded(entries)}, 73)
        return [p async for p in ptsapi.Pts(s).entries_pages()]
    pages = asyncio.run(main())
    assert [len(p) for p in pages] == [4, 4, 1]
    assert [e.id for p in pages for e in p] == list(range(9))


def test_pts_listing_abort_midway_propagates_after_earlier_pages():
    entries = [pt_entry(i) for i in range(10)]
    got = []

    async def main():
        s = FakeSession({("a", 7002): PTServer(entries, abort_at=8)}, 73)
        async for p in ptsapi.Pts(s).entries_pages():
            got.append(len(p))
    with pytest.raises(AFSError) as ei:
        asyncio.run(main())
    assert ei.value.code == 267269
    assert got == [4, 4]


def test_pts_name_filling_its_64_bytes_is_prnametoolong():
    entries = [pt_entry(1), pt_entry(2, "n" * 64)]

    async def main():
        s = FakeSession({("a", 7002): PTServer(entries)}, 73)
        return await ptsapi.Pts(s).list_entries()
    with pytest.raises(AFSError) as ei:
        asyncio.run(main())
    assert ei.value.code == ptsapi.PRNAMETOOLONG


# -- the generated stubs' .rpc ---------------------------------------------------

def test_rpc_raw_returns_the_reply_and_decode_matches_the_stub():
    entries = [random_entry(random.Random(4), i) for i in range(3)]
    srv = VLServer(entries, page=10)
    rpc = vl.VL_ListAttributesN2.rpc
    assert isinstance(rpc, Rpc) and rpc.stub is vl.VL_ListAttributesN2
    raw = rpc.raw
    assert raw is rpc.raw
    assert (raw.__name__, raw.__qualname__, raw.__module__) == (
        "VL_ListAttributesN2", "VL_ListAttributesN2", "kafs.rpc.vl")

    async def main():
        c = Conn(srv)
        attrs = vl.VldbListByAttributes()
        data = await raw(c, attrs, "", 0)
        return data, await vl.VL_ListAttributesN2(c, attrs, "", 0)
    data, decoded = asyncio.run(main())
    assert isinstance(data, bytes)
    assert rpc.decode(data) == decoded
    assert rpc.decode(data + b"\0\0\0\0") == decoded      # as the C stubs: not looked at
    with pytest.raises(DecodeError):
        rpc.decode(data[:-4])


# -- strided (parallel) paging of PR_ListEntries ------------------------------------

class SlotPTServer:
    """PR_ListEntries as ptprocs.c's listEntries walks the database: the
    index is a slot; users ('u'), groups ('g'), continuation or free slots
    ('c'); a page holds at most ``cap`` entries and its next index is the
    slot of the first matching entry that did not fit (-1 at the end)."""

    def __init__(self, slots: str, cap: int = 500, fail_at=None, stuck_at=None,
                 caps=None):
        self.slots = slots
        self.cap = cap
        self.caps = caps or {}            # start -> cap for that page
        self.fail_at = fail_at
        self.stuck_at = stuck_at
        self.starts: list[int] = []
        self.in_flight = 0
        self.most_in_flight = 0

    def entry(self, i):
        kind = self.slots[i]
        return pr.prlistentries(flags=2 if kind == "g" else 0, id=-i if kind == "g" else i,
                                owner=-204, creator=1, ngroups=20, nusers=0, count=0,
                                reserved=[0] * 5, name="%s%d" % (kind, i))

    def page(self, flag, start):
        cap = self.caps.get(start, self.cap)
        out, nxt = [], -1
        for i in range(max(start, 0), len(self.slots)):
            k = self.slots[i]
            if (flag & 1 and k == "u") or (flag & 2 and k == "g"):
                if len(out) >= cap:
                    nxt = i
                    break
                out.append(self.entry(i))
        return out, nxt

    def expected(self, flag):
        return [e.id for e, _ in [(self.entry(i), 0) for i in range(len(self.slots))]
                if (flag & 1 and self.slots[abs(e.id)] == "u")
                or (flag & 2 and self.slots[abs(e.id)] == "g")]


class SlotConn:
    def __init__(self, server):
        self.server = server

    async def call(self, request: bytes) -> bytes:
        srv = self.server
        dec = Decoder(request)
        assert dec.int32() == 521
        flag, start = pr._PR_ListEntries_idec(dec)
        srv.starts.append(start)
        srv.in_flight += 1
        srv.most_in_flight = max(srv.most_in_flight, srv.in_flight)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
        finally:
            srv.in_flight -= 1
        if start == srv.fail_at:
            raise AFSError(267269)                  # PRPERM
        out, nxt = srv.page(flag, start)
        if start == srv.stuck_at:
            nxt = start
        enc = Encoder()
        pr._PR_ListEntries_oenc(enc, out, nxt)
        return bytes(enc.buf)


class SlotSession:
    def __init__(self, server):
        class Ep:
            def connection(self, addr, service_id=None, security=None, **kw):
                return SlotConn(server)
        self.pt = UbikClient([("a", 7002)], 73, None, Ep(), rotate=False)


def slot_listing(srv, flag=1, ahead=3, close_after=None):
    async def main():
        p = ptsapi.Pts(SlotSession(srv))
        pages = []
        async with aclosing(p.entries_pages(bool(flag & 1), bool(flag & 2), ahead=ahead)) as it:
            async for page in it:
                pages.append([e.id for e in page])
                if close_after is not None and len(pages) >= close_after:
                    break
        return pages
    return asyncio.run(main())


def random_slots(rng, n, users=0.9, groups=0.02):
    return "".join("u" if r < users else "g" if r < users + groups else "c"
                   for r in (rng.random() for _ in range(n)))


@pytest.mark.parametrize("seed", range(12))
def test_strided_listing_equals_the_sequential_one(seed):
    rng = random.Random(seed)
    n = rng.choice([0, 1, 3, 40, 120, 300])
    slots = random_slots(rng, n, users=rng.choice([0.0, 0.5, 0.9, 1.0]),
                         groups=rng.choice([0.0, 0.05, 0.5]))
    cap = rng.choice([1, 2, 5, 7, 500])
    for flag in (1, 2, 3):
        want = SlotPTServer(slots).expected(flag)
        for ahead in (1, 2, 3, 5):
            srv = SlotPTServer(slots, cap=cap)
            pages = slot_listing(srv, flag, ahead)
            got = [i for p in pages for i in p]
            assert got == want, (seed, flag, ahead)
            assert all(pages)                       # no empty pages handed out
            assert srv.most_in_flight <= max(ahead, 1) + 1


def test_strided_listing_asks_for_pages_in_parallel_without_waste():
    slots = "u" * 2000 + "c" * 7 + "g" * 3
    srv = SlotPTServer(slots, cap=500)
    pages = slot_listing(srv, 1, ahead=3)
    assert [len(p) for p in pages] == [500, 500, 500, 500]
    assert srv.most_in_flight == 3
    # the starts are slot multiples of the page size: exact tiling here, so
    # no page is asked for twice and nothing beyond the end but one probe
    assert sorted(set(srv.starts)) == sorted(srv.starts)
    assert sorted(srv.starts)[:4] == [0, 500, 1000, 1500]


def test_strided_listing_drops_the_overlap_of_pages_spanning_more_slots():
    # continuation slots make every page span more than 500 slots: the
    # speculative pages overlap and their leading entries are dropped
    slots = ("u" * 5 + "c") * 500
    srv = SlotPTServer(slots, cap=500)
    pages = slot_listing(srv, 1, ahead=4)
    got = [i for p in pages for i in p]
    assert got == srv.expected(1) and len(got) == 2500
    assert len(set(got)) == len(got)


def test_strided_listing_fills_gaps_when_the_server_pages_are_smaller():
    slots = "u" * 100
    srv = SlotPTServer(slots, cap=7)              # much less than PR_MAXENTRIES
    assert [i for p in slot_listing(srv, 1, ahead=3) for i in p] == list(range(100))
    # a later page smaller than the first one: a gap, asked for before going on
    srv = SlotPTServer(slots, cap=10, caps={10: 4})
    assert [i for p in slot_listing(srv, 1, ahead=3) for i in p] == list(range(100))
    assert 14 in srv.starts


def pages_until_error(srv, ahead):
    """Page sizes handed out before the listing raised, and the error code."""
    got = []

    async def main():
        async for page in ptsapi.Pts(SlotSession(srv)).entries_pages(ahead=ahead):
            got.append(len(page))
    with pytest.raises(AFSError) as ei:
        asyncio.run(main())
    return got, ei.value.code


def test_strided_listing_error_of_a_needed_page_comes_after_the_earlier_pages():
    srv = SlotPTServer("u" * 40, cap=10, fail_at=20)
    assert pages_until_error(srv, 3) == ([10, 10], 267269)


def test_strided_listing_error_beyond_the_end_is_dropped():
    slots = "u" * 25
    srv = SlotPTServer(slots, cap=10, fail_at=30)   # a speculative page past the end
    assert [i for p in slot_listing(srv, 1, ahead=5) for i in p] == list(range(25))


def test_strided_listing_that_does_not_advance_is_an_error_after_that_page():
    srv = SlotPTServer("u" * 40, cap=10, stuck_at=10)
    assert pages_until_error(srv, 2) == ([10, 10], ptsapi.PRINTERNAL)


def test_strided_listing_closed_early_cancels_every_call_in_flight():
    srv = SlotPTServer("u" * 5000, cap=500)
    pages = slot_listing(srv, 1, ahead=4, close_after=1)
    assert pages == [list(range(500))]
    assert srv.in_flight == 0


# -- strided_pages directly, with a slot database in memory ---------------------

def slot_page(slots, cap, start):
    """listEntries over a list of slot markers ('u' match, else not): the
    matching slot numbers from ``start`` and the next index."""
    out = []
    for i in range(max(start, 0), len(slots)):
        if slots[i] == "u":
            if len(out) >= cap:
                return out, i
            out.append(i)
    return out, -1


def strided(fetch, consumer_awaits=0, **kw):
    from kafs.api.session import strided_pages

    async def main():
        got = []
        async for page in strided_pages(fetch, lambda r: r[1], lambda r: list(r[0]),
                                        lambda e: e, **kw):
            got.append(page)
            for _ in range(consumer_awaits):
                await asyncio.sleep(0)
        return got
    return asyncio.run(main())


@pytest.mark.parametrize("delays", [(0,), (1,), (1, 4), (4, 1), (2, 0, 3)])
@pytest.mark.parametrize("consumer_awaits", [0, 1, 3])
@pytest.mark.parametrize("ahead", [1, 2, 4])
def test_strided_pages_whatever_the_timing(delays, consumer_awaits, ahead):
    """Calls that end before the caller asks for the next page, or after;
    a caller that yields to the loop between pages, or not: the whole
    listing, in order, once (one call at a time included)."""
    slots = "u" * 3000
    n = iter(range(10**6))
    starts = []

    async def fetch(start):
        starts.append(start)
        for _ in range(delays[next(n) % len(delays)]):
            await asyncio.sleep(0)
        return slot_page(slots, 500, start)
    pages = strided(fetch, consumer_awaits, page_size=500, ahead=ahead)
    assert [i for p in pages for i in p] == list(range(3000))
    assert all(0 <= s < 3000 + 500 * 2 * ahead for s in starts)   # nothing absurd asked


def test_strided_pages_an_entry_created_between_two_calls_is_not_listed_twice():
    # page 0 covers slots 0..509 (10 non-matching slots); the page asked
    # from slot 500 is answered after a new entry took free slot 503
    slots = list("u" * 500 + "ccc" + "c" + "u" * 1000)
    answered = []

    async def fetch(start):
        if start == 500:
            await asyncio.sleep(0)
            while 0 not in answered:
                await asyncio.sleep(0)
            slots[503] = "u"                      # created in between
        r = slot_page(slots, 500, start)
        answered.append(start)
        return r
    got = [i for p in strided(fetch, page_size=500, ahead=3) for i in p]
    assert len(got) == len(set(got))
    assert got == sorted(got)
    assert set(range(504, 1504)) <= set(got) and set(range(500)) <= set(got)


def test_strided_pages_learns_the_page_size_and_asks_nothing_past_the_end():
    slots = "u" * 95
    starts = []

    async def fetch(start):
        starts.append(start)
        await asyncio.sleep(0)
        return slot_page(slots, 10, start)
    pages = strided(fetch, page_size=0, ahead=3)
    assert [i for p in pages for i in p] == list(range(95))
    assert starts[0] == 0 and max(starts) < 95 + 10 * 6
    # a first page without entries (but not the last): one call at a time
    # until a page tells a size again
    calls = []

    async def empty_first(start):
        calls.append(start)
        await asyncio.sleep(0)
        if start == 0:
            return [], 5
        return slot_page("c" * 5 + "u" * 20, 7, start)
    pages = strided(empty_first, page_size=0, ahead=3)
    assert [i for p in pages for i in p] == list(range(5, 25))
    assert calls[:2] == [0, 5] and len(set(calls)) == len(calls)
    assert {12, 19} <= set(calls) and max(calls) < 25 + 7 * 6


def test_strided_pages_a_failed_call_the_sequential_listing_would_not_make_is_asked_again():
    slots = "u" * 500 + "c" * 10 + "u" * 1000
    failed = []

    async def fetch(start):
        await asyncio.sleep(0)
        if start == 500 and not failed:           # inside the slots page 0 covers
            failed.append(start)
            raise AFSError(-1)
        return slot_page(slots, 500, start)
    got = [i for p in strided(fetch, page_size=500, ahead=3) for i in p]
    assert failed == [500]
    assert got == [i for i, k in enumerate(slots) if k == "u"]


def test_strided_pages_ask_nothing_beyond_a_page_that_reached_the_end():
    """While an early page is slow, the later ones land; once one of them
    says it reached the end, no call for later slots is started."""
    slots = "u" * 1200
    starts = []

    async def fetch(start):
        starts.append(start)
        for _ in range(40 if start == 0 else 1):
            await asyncio.sleep(0)
        return slot_page(slots, 500, start)
    pages = strided(fetch, page_size=500, ahead=4)
    assert [i for p in pages for i in p] == list(range(1200))
    # 0, 500, 1000, 1500 at first, then at most what was started before
    # the page from 1000 landed; not a queue full of calls past the end
    assert starts[:4] == [0, 500, 1000, 1500]
    assert len(starts) <= 6 and max(starts) <= 2500
