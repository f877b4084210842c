"""Generated client stubs and server dispatchers over an in-memory call double."""

import asyncio
import os
import struct
import sys

import pytest

from kafs.errors import DecodeError, RemoteAbort, AFSError
from kafs.rpc import vl, pr, afsint
from kafs.xdr import EncodeError

sys.path.insert(0, os.path.dirname(__file__))
from fakecall import CannedConn, FakeConn  # noqa: E402


def run(coro):
    return asyncio.run(coro)


class DemoImpl:
    def __init__(self, demo):
        self.demo = demo
        self.stored = None

    async def Ping(self, call, a, b):
        if a < 0:
            raise AFSError(a)
        return a + b

    async def Echo(self, call):
        return "not an int"  # cannot be encoded -> RXGEN_SS_MARSHAL

    async def Fetch(self, call, fid, pos, length):
        data = bytes(range(256)) * 4
        chunk = data[pos:pos + length]
        await call.write(struct.pack(">Q", len(chunk)))
        await call.write(chunk)
        return self.demo.demo_entry(name=f"fid{fid.Vnode}", size=len(chunk))

    async def Store(self, call, fid, name, length):
        self.stored = (fid, name, await call.read_exact(length))

    async def Mixed(self, call, names, cursor):
        d = self.demo
        return d.DEMO_Mixed_Result(cursor + len(names), d.demo_u(6, ",".join(names)),
                                   d.demo_list_node(1, d.demo_list_node(2)), b"blob",
                                   d.DemoBBS(0, 0, b"acl"))


@pytest.fixture
def server(demo):
    impl = DemoImpl(demo)
    return impl, FakeConn(demo.make_DEMO_dispatcher(impl))


def test_simple_call(demo, server):
    impl, conn = server
    assert run(demo.DEMO_Ping(conn, 2, 3)) == 5
    assert conn.requests == [b"\0\0\0\x64\0\0\0\x02\0\0\0\x03"]


def test_several_outs_and_inout(demo, server):
    impl, conn = server
    r = run(demo.DEMO_Mixed(conn, ["a", "b"], 10))
    assert isinstance(r, demo.DEMO_Mixed_Result)
    assert r.cursor == 12 and r.u == demo.demo_u(6, "a,b") and r.blob == b"blob"
    assert r.list_.next.value == 2 and r.bbs.SeqBody == b"acl"
    cursor, u, lst, blob, bbs = r  # Result unpacks like a tuple
    assert cursor == 12


def test_impl_error_aborts_with_its_code(demo, server):
    impl, conn = server
    with pytest.raises(RemoteAbort) as ei:
        run(demo.DEMO_Ping(conn, -7, 1))
    assert ei.value.code == -7


def test_unencodable_result_aborts_ss_marshal(demo, server):
    impl, conn = server
    with pytest.raises(RemoteAbort) as ei:
        run(demo.DEMO_Echo(conn))
    assert ei.value.code == -452


def test_unknown_opcode_and_missing_method(demo, server):
    impl, conn = server
    with pytest.raises(RemoteAbort) as ei:
        run(conn.call(b"\0\0\x30\x39"))
    assert ei.value.code == -455
    conn2 = FakeConn(demo.make_DEMO_dispatcher(object()))
    with pytest.raises(RemoteAbort) as ei:
        run(demo.DEMO_Ping(conn2, 1, 2))
    assert ei.value.code == -455


def test_bad_arguments_abort_ss_unmarshal(demo, server):
    impl, conn = server
    for req in (b"\0\0\0\x64\0\0\0\x01",  # short
                b"\0\0\0\x64" + b"\0" * 12):  # trailing bytes
        with pytest.raises(RemoteAbort) as ei:
            run(conn.call(req))
        assert ei.value.code == -453
    with pytest.raises(RemoteAbort) as ei:
        run(conn.call(b"\0\0"))  # not even an opcode
    assert ei.value.code == -454


def test_client_encode_errors(demo, server):
    impl, conn = server
    with pytest.raises(EncodeError):
        run(demo.DEMO_Ping(conn, 2**40, 1))
    with pytest.raises(EncodeError):
        run(demo.DEMO_Mixed(conn, ["x"] * 11, 0))  # more than MAXITEMS
    with pytest.raises(EncodeError):
        demo.DEMO_Fetch(conn, "not a fid", 0, 1)  # split: fails before any I/O
    assert conn.requests == []


def test_client_decode_needs_the_whole_reply_and_ignores_bytes_after(demo):
    """As OpenAFS's C client stubs: a short reply is an error, bytes after
    the last OUT value are not looked at."""
    assert run(demo.DEMO_Ping(CannedConn(b"\0\0\0\x05"), 1, 2)) == 5
    assert run(demo.DEMO_Ping(CannedConn(b"\0\0\0\x05\0\0\0\0"), 1, 2)) == 5
    for reply in (b"\0\0\x05", b""):
        with pytest.raises(DecodeError):
            run(demo.DEMO_Ping(CannedConn(reply), 1, 2))
    assert run(demo.AUTO_First(CannedConn(b""), 1)) is None
    assert run(demo.AUTO_First(CannedConn(b"\0\0\0\0"), 1)) is None


def test_split_fetch(demo, server):
    impl, conn = server

    async def go():
        async with demo.DEMO_Fetch(conn, demo.DemoFid(1, 7, 1), 10, 100) as s:
            n = struct.unpack(">Q", await s.call.read_exact(8))[0]
            data = await s.call.read_exact(n)
        return data, s.result

    data, result = run(go())
    assert data == (bytes(range(256)) * 4)[10:110]
    assert result == demo.demo_entry(name="fid7", size=100)


def test_split_store_streams_after_in_args(demo, server):
    impl, conn = server

    async def go():
        async with demo.DEMO_Store(conn, demo.DemoFid(1, 2, 3), "file.txt", 5) as s:
            await s.call.write(b"hel")
            await s.call.write(b"lo")
        return s.result

    assert run(go()) is None
    assert impl.stored == (demo.DemoFid(1, 2, 3), "file.txt", b"hello")


def test_split_exception_inside_block_aborts(demo, server):
    impl, conn = server

    async def go():
        async with demo.DEMO_Fetch(conn, demo.DemoFid(1, 7, 1), 0, 4) as s:
            raise ValueError("user gave up")

    with pytest.raises(ValueError):
        run(go())


# -- the real interfaces --------------------------------------------------------

class VL:
    def __init__(self):
        self.entries = [vl.nvldbentry(name=f"vol{i}", nServers=1, volumeId=[i, i + 1, 0],
                                      flags=vl.VLF_RWEXISTS) for i in range(25)]

    async def GetEntryByNameN(self, call, name):
        for e in self.entries:
            if e.name == name:
                return e
        raise AFSError(363524)  # VL_NOENT

    async def ListAttributesN2(self, call, attrs, name, start):
        chunk = self.entries[start:start + 10]
        nxt = start + 10 if start + 10 < len(self.entries) else -1
        return len(chunk), chunk, nxt


def test_vl_over_fake_call():
    conn = FakeConn(vl.make_VL_dispatcher(VL()))
    e = run(vl.VL_GetEntryByNameN(conn, "vol3"))
    assert e.name == "vol3" and e.volumeId == [3, 4, 0]
    assert conn.requests[0][:4] == struct.pack(">i", vl.VL_GETENTRYBYNAMEN) == struct.pack(">i", 519)
    with pytest.raises(RemoteAbort) as ei:
        run(vl.VL_GetEntryByNameN(conn, "nosuch"))
    assert ei.value.code == 363524

    async def listall():
        out, start = [], 0
        while start != -1:
            n, entries, start = await vl.VL_ListAttributesN2(conn, vl.VldbListByAttributes(), "*", start)
            out += entries
        return out

    assert [e.name for e in run(listall())] == [f"vol{i}" for i in range(25)]


def test_pr_nametoid_request_bytes():
    conn = CannedConn(struct.pack(">Ii", 1, 1))
    assert run(pr.PR_NameToID(conn, ["admin"])) == [1]
    assert len(conn.requests[0]) == 4 + 260


def test_afsint_fetchdata64_request_bytes():
    conn = CannedConn(b"")
    s = afsint.RXAFS_FetchData64(conn, afsint.AFSFid(1, 2, 3), 2**33, 4096)
    assert s._request == struct.pack(">i3Iqq", 65537, 1, 2, 3, 2**33, 4096)
