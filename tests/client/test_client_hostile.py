"""A hostile or broken file server gives an I/O error for that file and a
log line: never a crash, a hang or a wrong byte served; the cache manager
goes on serving the real cell meanwhile.

The hostile cell ``hostile.test`` is our own server side on 127.9.0.1: a VL
server that places every volume on 127.9.0.1, and a file server there whose
answers are broken one way per file.  The real cell test.example is in the
same configuration, and is read before and after each broken answer.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import struct

import pytest

from kafs.client import dirfmt
from kafs.client.creds import Cred
from kafs.client.errmap import FSError
from kafs.errors import AFSError

from _fakeserver import FakeServer

pytestmark = pytest.mark.cell

HOST = "127.9.0.1"
VOLID = 536999999
C = Cred(0)

# vnode -> how the server misbehaves when that file's data is fetched
FILES = {
    2: ("good", b"good data\n"),
    4: ("toolong", b"x" * 10),          # says more bytes than asked for
    6: ("short", b"x" * 10),            # sends fewer bytes than the file has
    8: ("garbage", b"x" * 10),          # a reply that does not decode
    10: ("abort", b"x" * 10),           # an abort with an odd code
    12: ("silent", b"x" * 10),          # never answers (but keeps the call alive)
    14: ("bigstatus", b""),             # a status claiming an absurd length
}


def _status(ftype, length, dv=1, mode=0o644):
    from kafs.rpc.afsint import AFSFetchStatus
    return AFSFetchStatus(InterfaceVersion=1, FileType=ftype, LinkCount=1,
                          Length=length & 0xFFFFFFFF, Length_hi=length >> 32,
                          DataVersion=dv, CallerAccess=0x7F, AnonymousAccess=0x7F,
                          UnixModeBits=mode, ParentVnode=1, ParentUnique=1)


def _dir_bytes():
    ents = [(name.encode(), vno, vno) for vno, (name, _) in FILES.items()]
    ents.append((b"baddir", 16, 16))
    return dirfmt.build(ents, 1, 1)


class HostileFS:
    def __init__(self):
        self.root = _dir_bytes()

    def _st(self, fid):
        if fid.Vnode == 1:
            return _status(2, len(self.root), mode=0o755)
        if fid.Vnode == 16:
            return _status(2, 2048, mode=0o755)
        name, data = FILES.get(fid.Vnode, ("none", b""))
        if name == "bigstatus":
            return _status(1, 1 << 62)
        return _status(1, len(data) if name not in ("toolong",) else 5)

    async def FetchStatus(self, call, fid):
        from kafs.rpc.afsint import AFSCallBack, AFSVolSync, RXAFS_FetchStatus_Result
        return RXAFS_FetchStatus_Result(self._st(fid), AFSCallBack(1, 3600, 1), AFSVolSync())

    async def InlineBulkStatus(self, call, fids):
        from kafs.rpc.afsint import AFSCallBack, AFSVolSync, RXAFS_InlineBulkStatus_Result
        return RXAFS_InlineBulkStatus_Result([self._st(f) for f in fids],
                                             [AFSCallBack(1, 3600, 1) for _ in fids],
                                             AFSVolSync())

    async def FetchData64(self, call, fid, pos, length):
        from kafs.rpc.afsint import AFSCallBack, AFSVolSync, RXAFS_FetchData64_Result
        st = self._st(fid)
        if fid.Vnode == 1:
            data = self.root[pos:pos + length]
        elif fid.Vnode == 16:
            data = b"\x00\x01\xff\xee" * 512            # a page that does not parse
        else:
            name, data = FILES[fid.Vnode]
            if name == "toolong":
                await call.write(struct.pack(">q", length + 100) + b"y" * (length + 100))
                return RXAFS_FetchData64_Result(st, AFSCallBack(1, 3600, 1), AFSVolSync())
            if name == "short":
                data = data[:3]
            if name == "garbage":
                await call.write(b"\x00\x00")
                await call.end_write()
                return None
            if name == "abort":
                raise AFSError(987654321)
            if name == "silent":
                await asyncio.sleep(3600)
            if name == "bigstatus":
                data = b""
        await call.write(struct.pack(">q", len(data)) + data)
        return RXAFS_FetchData64_Result(st, AFSCallBack(1, 3600, 1), AFSVolSync())


class HostileVL:
    async def GetEntryByNameN(self, call, name):
        return self._entry()

    async def GetEntryByIDN(self, call, vid, vtype):
        return self._entry()

    def _entry(self):
        import ipaddress

        from kafs.rpc import vl
        e = vl.nvldbentry()
        e.name = "root.cell"
        e.volumeId = [VOLID, 0, 0]
        e.flags = 0x1000
        e.nServers = 1
        e.serverNumber[0] = int(ipaddress.IPv4Address(HOST))
        e.serverFlags[0] = 0x04
        return e


class _Server(FakeServer):
    def __init__(self, port, service, handler):
        super().__init__(HOST, port, service)
        self._h = handler

    async def handler(self, call):
        await self._h(call)


@pytest.fixture(scope="module")
def hostile(cell, tmp_path_factory):
    from kafs.rpc import afsint, vl
    d = tmp_path_factory.mktemp("hostile-conf")
    real = open(os.path.join(cell.client_etc, "CellServDB")).read()
    (d / "CellServDB").write_text(real + ">hostile.test  #a broken cell\n%s  #h1\n" % HOST)
    (d / "ThisCell").write_text(cell.cell + "\n")
    with _Server(7003, 52, vl.make_VL_dispatcher(HostileVL())), \
            _Server(7000, 1, afsint.make_RXAFS_dispatcher(HostileFS())):
        yield str(d)


def _run(conf, fn):
    from kafs.client.manager import CacheManager

    async def main():
        async with CacheManager(confdir=conf, dns=False, dead_time=4.0, idle_dead=6.0,
                                busy_timeout=5) as cm:
            return await fn(cm)
    return asyncio.run(main())


async def _real_ok(cm, cell):
    root = await cm.volume_root(cell.cell, "root.cell", cred=C)
    names = [n for n, _ in await cm.readdir(root, C)]
    assert b"." in names


@pytest.mark.parametrize("name", ["toolong", "short", "garbage", "abort", "silent",
                                  "bigstatus"])
def test_broken_file_gives_eio_and_the_real_cell_goes_on(hostile, cell, name, caplog):
    caplog.set_level(logging.INFO, logger="kafs")

    async def fn(cm):
        await _real_ok(cm, cell)
        root = await cm.volume_root("hostile.test", "root.cell", cred=C)
        good = await cm.lookup(root, b"good", C)
        assert await cm.read(good, 0, 100, C) == b"good data\n"
        bad = await cm.lookup(root, name.encode(), C)
        with pytest.raises(FSError) as e:
            await asyncio.wait_for(cm.read(bad, 0, 100, C), 60)
        # nothing of it was kept
        assert not any(k[0][2] == bad.fid.vnode for k in cm.data.mem._d)
        await _real_ok(cm, cell)
        return e.value.errno

    err = _run(hostile, fn)
    assert err == errno.EIO
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert logged and not any(r.exc_info for r in logged)


def test_directory_that_does_not_parse(hostile, cell, caplog):
    caplog.set_level(logging.INFO, logger="kafs")

    async def fn(cm):
        root = await cm.volume_root("hostile.test", "root.cell", cred=C)
        d = await cm.lookup(root, b"baddir", C)
        with pytest.raises(FSError) as e:
            await cm.readdir(d, C)
        await _real_ok(cm, cell)
        return e.value.errno

    assert _run(hostile, fn) == errno.EIO
    assert any("does not parse" in r.getMessage() for r in caplog.records)


def test_unreachable_cell_is_an_error_not_a_hang(cell, tmp_path):
    real = open(os.path.join(cell.client_etc, "CellServDB")).read()
    (tmp_path / "CellServDB").write_text(real + ">dead.test  #nobody there\n127.9.0.77  #d1\n")
    (tmp_path / "ThisCell").write_text(cell.cell + "\n")

    async def fn(cm):
        with pytest.raises(FSError) as e:
            await asyncio.wait_for(cm.volume_root("dead.test", "root.cell", cred=C), 120)
        await _real_ok(cm, cell)
        return e.value.errno

    assert _run(str(tmp_path), fn) in (errno.EIO, errno.ETIMEDOUT, errno.ENODEV)
