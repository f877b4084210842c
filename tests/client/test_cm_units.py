"""Unit tests of the cache manager's small parts: error mapping, mount
point rules, server ranks, VLDB records, per-uid tokens."""

from __future__ import annotations

import errno
import ipaddress
import os
import random
import time

import pytest

from kafs.client import errmap, mountpoint
from kafs.client.creds import Cred, TokenSource
from kafs.client.servers import (RANK_LOCAL, RANK_NET, RANK_OTHER, RANK_SUBNET, ServerTable,
                                 default_rank)
from kafs.client.types import (BACKVOL, PRSFS_ADMINISTER, PRSFS_LOOKUP, PRSFS_READ, ROVOL,
                               RWVOL, Status, rights_string)
from kafs.client.volumes import VolumeRecord, split_volume_name
from kafs.errors import CallDead, CallTimeout, RemoteAbort


# -- errors ---------------------------------------------------------------------

@pytest.mark.parametrize("code, want", [
    (errmap.VDISKFULL, errno.ENOSPC), (errmap.VOVERQUOTA, errno.EDQUOT),
    (errmap.VNOVNODE, errno.ENOENT), (errmap.VNOVOL, errno.ENODEV),
    (errmap.VBUSY, errno.EWOULDBLOCK), (errmap.VICETOKENDEAD, errno.EKEYEXPIRED),
    (13, errno.EACCES), (2, errno.ENOENT), (17, errno.EEXIST), (30, errno.EROFS),
    (errmap.UAE_BASE + 1, errno.ENOENT), (errmap.UAE_BASE + 12, errno.EACCES),
    (errmap.RXKADEXPIRED, errno.EKEYEXPIRED), (errmap.RXKAD_BASE + 7, errno.EKEYREJECTED),
    (1859794438, errno.EKEYREJECTED), (-1765328370, errno.EKEYREJECTED),
    (123456789, errno.EIO), (-450, errno.EIO),
])
def test_code_to_errno(code, want):
    assert errmap.code_to_errno(code) == want


def test_uae_table_follows_errno_names():
    from kafs.errors.tables import code_from_name
    for name in ("ENOENT", "EACCES", "ENOTEMPTY", "EDQUOT", "ENAMETOOLONG", "EXDEV"):
        assert errmap.uae_to_errno(code_from_name("UAE" + name[1:])) == getattr(errno, name)
    assert errmap.uae_to_errno(5) is None


def test_exc_to_errno():
    assert errmap.exc_to_errno(CallDead()) == errno.EIO
    assert errmap.exc_to_errno(CallTimeout()) == errno.EIO
    assert errmap.exc_to_errno(RemoteAbort(13)) == errno.EACCES
    assert errmap.exc_to_errno(errmap.FSError(errno.EROFS)) == errno.EROFS
    assert errmap.exc_to_errno(RuntimeError("x")) == errno.EIO


# -- mount points ---------------------------------------------------------------

@pytest.mark.parametrize("text, want", [
    ("#root.cell.", ("#", None, "root.cell")),
    ("%root.cell.", ("%", None, "root.cell")),
    ("#test.example:root.cell.", ("#", "test.example", "root.cell")),
    ("%other.org:user.x.readonly.", ("%", "other.org", "user.x.readonly")),
    (b"#536870915.", ("#", None, "536870915")),
    ("#root.cell", None), ("root.cell.", None), ("#.", None), ("#:x.", None),
    ("#a:b:c.", None), ("/etc/passwd", None), (b"#\xff.", None), ("#a/b.", None),
])
def test_parse_mountpoint(text, want):
    mp = mountpoint.parse(text)
    assert (tuple(mp) if mp else None) == want
    if mp:
        assert mountpoint.parse(mp.text()) == mp


@pytest.mark.parametrize("text, ro_parent, same_cell, has_ro, want", [
    ("#v.", False, True, True, RWVOL),       # rule 3: on the RW path, stay there
    ("#v.", True, True, True, ROVOL),        # rule 2: RO path when replicated
    ("#v.", True, True, False, RWVOL),       # ... else the RW
    ("#c:v.", False, False, True, ROVOL),    # a cellular mount point goes RO
    ("%v.", True, True, True, RWVOL),        # % is always RW
    ("%v.readonly.", False, True, True, ROVOL),
    ("#v.backup.", True, True, True, BACKVOL),
])
def test_mountpoint_type_rules(text, ro_parent, same_cell, has_ro, want):
    mp = mountpoint.parse(text)
    assert mountpoint.wanted_type(mp, from_read_only=ro_parent, same_cell=same_cell,
                                  has_ro=has_ro) == want


def test_split_volume_name():
    assert split_volume_name("x.readonly") == ("x", ROVOL)
    assert split_volume_name("x.backup") == ("x", BACKVOL)
    assert split_volume_name("x") == ("x", None)
    assert split_volume_name(".readonly") == (".readonly", None)


# -- servers --------------------------------------------------------------------

def test_default_ranks():
    nets = [ipaddress.IPv4Interface("127.0.0.0/8"), ipaddress.IPv4Interface("192.0.2.2/24")]
    rng = random.Random(1)
    assert RANK_LOCAL <= default_rank("127.1.0.1", nets, rng) < RANK_LOCAL + 15
    assert RANK_LOCAL <= default_rank("192.0.2.2", nets, rng) < RANK_LOCAL + 15
    assert RANK_SUBNET <= default_rank("192.0.2.77", nets, rng) < RANK_SUBNET + 15
    assert RANK_NET <= default_rank("192.0.9.1", nets, rng) < RANK_NET + 15
    assert RANK_OTHER <= default_rank("198.51.100.1", nets, rng) < RANK_OTHER + 15


def test_server_order_prefers_up_and_low_rank():
    t = ServerTable(down_time=10)
    a, b, c = t.get("10.0.0.1"), t.get("10.0.0.2"), t.get("10.0.0.3")
    t.set_rank("10.0.0.1", 300)
    t.set_rank("10.0.0.2", 100)
    t.set_rank("10.0.0.3", 200)
    assert t.order([a, b, c], 0) == [b, c, a]
    b.mark_down(0, 10)
    assert t.order([a, b, c], 5) == [c, a, b]       # down ones still last, not dropped
    assert t.order([a, b, c], 11) == [b, c, a]      # the mark expires
    b.mark_down(20, 10)
    b.mark_up()
    assert not b.is_down(21)


# -- VLDB records -----------------------------------------------------------------

def _nvldbentry(flags, ids, sites):
    from kafs.rpc import vl
    e = vl.nvldbentry()
    e.name = "v"
    e.flags = flags
    e.volumeId = list(ids)
    e.nServers = len(sites)
    for i, (addr, part, f) in enumerate(sites):
        e.serverNumber[i] = int(ipaddress.IPv4Address(addr))
        e.serverPartition[i] = part
        e.serverFlags[i] = f
    return e


def test_volume_record_sites():
    e = _nvldbentry(0x1000 | 0x2000 | 0x4000, (100, 101, 102),
                    [("127.1.0.1", 0, 0x04), ("127.1.0.1", 0, 0x02),
                     ("127.1.0.2", 1, 0x02), ("127.1.0.3", 0, 0x02 | 0x20)])
    r = VolumeRecord.from_nvldbentry(e, 0.0)
    assert r.ids == {RWVOL: 100, ROVOL: 101, BACKVOL: 102}
    assert r.site_addrs(RWVOL) == ["127.1.0.1"]
    assert r.site_addrs(BACKVOL) == ["127.1.0.1"]
    assert r.site_addrs(ROVOL) == ["127.1.0.1", "127.1.0.2"]     # not the DONTUSE one
    assert r.type_of(101) == ROVOL and r.type_of(7) is None
    e2 = _nvldbentry(0x1000, (100, 0, 0), [("127.1.0.1", 0, 0x04)])
    r2 = VolumeRecord.from_nvldbentry(e2, 0.0)
    assert not r2.has(ROVOL) and not r2.has(BACKVOL)


def test_volume_table_lookups_cached_and_refreshed():
    import asyncio

    from kafs.client.volumes import VL_NOENT, VolumeTable
    from kafs.errors import AFSError
    calls = []

    class VL:   # the UbikClient interface: call(stub, *args)
        async def call(self, stub, *args):
            calls.append((stub.__name__, args))
            if args and args[0] in ("nope", 999):
                raise RemoteAbort(VL_NOENT)
            return _nvldbentry(0x1000 | 0x2000, (100, 101, 0),
                               [("127.1.0.1", 0, 0x04), ("127.1.0.2", 0, 0x02)])

    now = [0.0]
    t = VolumeTable("c", VL(), ttl=60, clock=lambda: now[0])

    async def main():
        rw = await t.volume("v")
        ro = await t.volume("v.readonly")
        assert (rw.vid, ro.vid, ro.read_only, rw.read_only) == (100, 101, True, False)
        assert ro.site_addrs() == ["127.1.0.2"] and ro.name == "v.readonly"
        assert len(calls) == 1                      # cached
        assert (await t.volume("101")).vid == 101   # a cached id
        assert len(calls) == 1
        now[0] = 61
        await t.volume("v")
        assert len(calls) == 2                      # expired: asked again
        ro.gone.add("127.1.0.2")
        assert ro.site_addrs() == []
        await t.refresh(ro)
        assert ro.site_addrs() == ["127.1.0.2"]     # a new lookup forgets the marks
        with pytest.raises(AFSError):
            await t.volume("v.backup")
        with pytest.raises(RemoteAbort):
            await t.volume("nope")

    asyncio.run(main())


# -- statuses and rights ------------------------------------------------------------

def test_status_from_afs_and_mountpoint_rule():
    from kafs.rpc.afsint import AFSFetchStatus
    s = AFSFetchStatus(FileType=3, LinkCount=1, Length=5, DataVersion=7, UnixModeBits=0o644,
                       dataVersionHigh=1, Length_hi=2)
    st = Status.from_afs(s)
    assert st.dv == (1 << 32) | 7 and st.length == (2 << 32) | 5
    assert st.maybe_mountpoint
    st.mode = 0o755
    assert not st.maybe_mountpoint
    assert rights_string(PRSFS_READ | PRSFS_LOOKUP | PRSFS_ADMINISTER) == "rla"
    assert rights_string(0x7F) == "rlidwka"


# -- tokens per uid --------------------------------------------------------------

def _token(cell="test.example", viceid=1, end=None):
    from kafs.auth.token import RxkadToken
    return RxkadToken(cell=cell, viceid=viceid, kvno=213, session_key=os.urandom(8),
                      start=0, end=int(end or time.time() + 3600), ticket=b"t" * 64,
                      primary=True)


def test_tokens_never_cross_uids(tmp_path):
    src = TokenSource(own_store=False, user_files=lambda uid: [str(tmp_path / str(uid))])
    t1 = _token(viceid=1001)
    src.set_token(1001, t1)
    assert src.token(1001, "TEST.EXAMPLE") is t1
    assert src.token(1002, "test.example") is None
    s1 = src.security(Cred(1001), "test.example")
    assert s1 is not None and src.security(Cred(1001), "test.example") is s1
    assert src.security(Cred(1002), "test.example") is None        # rxnull
    src.set_token(1002, _token(viceid=1002))
    s2 = src.security(Cred(1002), "test.example")
    assert s2 is not None and s2 is not s1
    assert src.forget(1001) == ["test.example"]
    assert src.security(Cred(1001), "test.example") is None
    assert src.token(1002, "test.example").viceid == 1002


def test_expired_pushed_token_is_dropped():
    src = TokenSource(own_store=False, user_files=lambda uid: [])
    src.set_token(5, _token(end=time.time() - 10))
    assert src.token(5, "test.example") is None and not src.pushed


def test_user_token_file_must_be_the_users(tmp_path):
    from kafs.auth.store import FileStore
    p = tmp_path / "u" / "tokens"
    FileStore(p).store(_token(viceid=77), time.time())          # owned by us (root)
    src = TokenSource(own_store=False, user_files=lambda uid: [str(p)])
    assert src.token(os.geteuid(), "test.example").viceid == 77
    assert src.token(4242, "test.example") is None              # not that uid's file
