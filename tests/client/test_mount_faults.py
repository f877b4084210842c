"""Faults the file client must ride out, on the real cell: a volume made
busy by a volume transaction while a file is read, a move of the volume
while a file is open, a cache disk that fills up, a token the server does
not accept, and a file server restart."""

from __future__ import annotations

import errno
import os
import subprocess
import time
import uuid

import pytest

from .conftest import KafsMount

pytestmark = pytest.mark.cell


def _vos(cell, *args, check=True, timeout=300):
    r = cell.tool("vos", *args, "-localauth", timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("vos %s: %s" % (" ".join(args), r.stderr))
    return r


@pytest.fixture(scope="module")
def amount(cell, tmp_path_factory, admin_token):
    """A mount whose root calls carry the admin's token (mount points need
    the administer right)."""
    m = KafsMount(cell, tmp_path_factory.mktemp("amnt")).start()
    m.push_token(admin_token)
    try:
        yield m
    finally:
        m.stop()


@pytest.fixture
def scratch_volume(cell, amount):
    """A volume of this test's own, mounted in root.cell (both removed after)."""
    mount = amount
    name = "kt." + uuid.uuid4().hex[:8]
    _vos(cell, "create", cell.host, "a", name, "-maxquota", "0")
    mp = os.path.join(mount.cell_dir(), name)
    fid = [int(x, 16) for x in os.getxattr(mount.cell_dir(), "afs.fid").decode().split(":")]
    r = mount.control_request("mkmount", cell=cell.cell, fid=fid, name=name,
                              mount="#%s." % name)
    assert r["ok"], r
    try:
        yield name, mp
    finally:
        mount.control_request("rmmount", cell=cell.cell, fid=fid, name=name)
        _vos(cell, "remove", "-id", name, check=False)


def test_read_through_a_busy_volume(cell, amount, scratch_volume):
    mount = amount
    name, mp = scratch_volume
    p = os.path.join(mp, "f")
    data = os.urandom(3 << 20)
    with open(p, "wb") as f:
        f.write(data)
    fid = [int(x, 16) for x in os.getxattr(p, "afs.fid").decode().split(":")]
    assert mount.control_request("flush", cell=cell.cell, fid=fid)["ok"]
    before = mount.stats()["cm"]["busy_waits"]
    # vos offline -busy: the volume answers VBUSY for the next seconds
    busy = subprocess.Popen(["vos", "offline", "-server", cell.host, "-partition", "a",
                             "-id", name, "-sleep", "6", "-busy", "-localauth"],
                            executable=cell.bin("vos"), env=cell.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(2)
        with open(p, "rb") as f:
            assert f.read() == data
    finally:
        busy.wait(120)
    assert mount.stats()["cm"]["busy_waits"] > before


def test_volume_moved_while_a_file_is_open(cell, amount, scratch_volume):
    """vos move between the partitions while a file is open and half read:
    it is read to the end, right."""
    mount = amount
    name, mp = scratch_volume
    p = os.path.join(mp, "f")
    data = os.urandom(6 << 20)
    with open(p, "wb") as f:
        f.write(data)
    fid = [int(x, 16) for x in os.getxattr(p, "afs.fid").decode().split(":")]
    with open(p, "rb") as f:
        first = f.read(1 << 20)
        assert mount.control_request("flush", cell=cell.cell, fid=fid)["ok"]
        _vos(cell, "move", "-id", name, "-fromserver", cell.host, "-frompartition", "a",
             "-toserver", cell.host, "-topartition", "b")
        rest = f.read()
    assert first + rest == data
    ex = _vos(cell, "examine", name).stdout
    assert "/vicepb" in ex


def test_full_cache_disk_goes_on_serving(cell, tmp_path, cm_factory, workvol):
    cache = tmp_path / "afs-cache"
    cache.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(cache)], check=True)
    m = KafsMount(cell, tmp_path, options="cache_size=64M,memcache=1M")
    m.cache = str(cache)
    try:
        m.start()
        wd = m.scratch()
        p = os.path.join(wd, "f")
        data = os.urandom(8 << 20)
        with open(p, "wb") as f:
            f.write(data)
        m.restart()                       # nothing in memory or in the kernel's pages
        with open(p, "rb") as f:
            assert f.read() == data        # served, though the cache disk is full
        st = m.stats()["store"]
        assert st["bytes"] <= 2 << 20
        assert "cannot" in m.log_text() or st.get("errors", 0) >= 0
        subprocess.run(["rm", "-rf", wd], timeout=120)
    finally:
        m.stop()
        subprocess.run(["umount", "-l", str(cache)], capture_output=True)


def test_token_the_server_refuses_then_unlog(cell, tmp_path, admin_token):
    """A damaged (forged) token: clear errors for that user; after unlog it
    is anonymous again; the mount serves everyone else meanwhile."""
    import dataclasses
    m = KafsMount(cell, tmp_path).start()
    try:
        bad = dataclasses.replace(admin_token, ticket=bytes(len(admin_token.ticket)))
        m.push_token(bad)
        with pytest.raises(OSError) as e:
            os.listdir(m.cell_dir())
        assert e.value.errno in (errno.EKEYREJECTED, errno.EACCES, errno.EKEYEXPIRED)
        assert "Traceback" not in m.log_text()
        r = m.control_request("unlog")
        assert r["ok"]
        assert isinstance(os.listdir(m.cell_dir()), list)
    finally:
        m.stop()


def test_callbacks_expire_and_resets_drop_promises(cell, cm_factory):
    """With a clock of our own: a callback past its expiry is renewed by a
    new FetchStatus; an InitCallBackState from the server voids every
    promise it made; a break of vnode 0 voids the whole volume's."""
    import asyncio

    from kafs.client.callback import BrokenCallback
    from kafs.client.creds import Cred
    now = [1000.0]
    c = Cred(0)

    async def main():
        async with cm_factory(clock=lambda: now[0]) as cm:
            root = await cm.volume_root(cell.cell, "root.cell", cred=c)
            n0 = cm.counters["fetch_status"]
            await cm.validate(root, c)
            assert cm.counters["fetch_status"] == n0          # the promise holds
            assert root.cb_expires > now[0]
            now[0] = root.cb_expires + 1                      # ... and expires
            await cm.validate(root, c)
            assert cm.counters["fetch_status"] == n0 + 1
            assert root.cb_expires > now[0]                   # renewed
            cm._on_reset((cell.host, 7000))                   # the server restarted
            assert not root.cb_valid(now[0])
            await cm.validate(root, c)
            assert cm.counters["fetch_status"] == n0 + 2
            cm._on_break([BrokenCallback((cell.host, 7000), (root.fid.volume, 0, 0), 1)])
            assert not root.cb_valid(now[0])
            await cm.validate(root, c)
            assert root.cb_valid(now[0])
    asyncio.run(main())


def test_file_server_restart(cell, amount, cm_factory, workvol):
    """After the file server restarts, what we cached is still never stale."""
    import asyncio

    from kafs.client.creds import Cred
    from kafs.testcell import TestCell
    wd = amount.scratch()
    p = os.path.join(wd, "f")
    with open(p, "wb") as f:
        f.write(b"before the restart")
    assert open(p, "rb").read() == b"before the restart"
    r = cell.tool("bos", "restart", cell.host, "dafs", "-localauth", timeout=300)
    assert r.returncode == 0, r.stderr
    TestCell(verbose=False).up()                 # waits until it serves again

    async def change():
        async with cm_factory() as cm:
            c = Cred(0)
            d = await cm.volume_root(cell.cell, "root.cell", cred=c)
            for part in os.path.relpath(wd, amount.cell_dir()).split(os.sep):
                d = await cm.cross(await cm.lookup(d, part.encode(), c), c)
            f = await cm.lookup(d, b"f", c)
            await cm.setattr(f, c, size=0)
            await cm.write(f, 0, b"after the restart", c)
            await cm.flush(f, c)
    asyncio.run(change())
    end = time.monotonic() + 30
    while open(p, "rb").read() != b"after the restart" and time.monotonic() < end:
        time.sleep(0.2)
    assert open(p, "rb").read() == b"after the restart"
    subprocess.run(["rm", "-rf", wd], timeout=120)


def test_over_quota_is_edquot_not_lost(cell, amount, scratch_volume):
    """Writes past the volume's quota fail with EDQUOT at close or fsync
    (write-behind reports it), never silently."""
    name, mp = scratch_volume
    _vos(cell, "setfields", "-id", name, "-maxquota", "1000")
    p = os.path.join(mp, "f")
    f = open(p, "wb")
    with pytest.raises(OSError) as e:
        f.write(os.urandom(4 << 20))
        f.flush()
        os.fsync(f.fileno())
    assert e.value.errno == errno.EDQUOT
    f.close()                       # reported once, as a local file system does
    assert os.stat(p).st_size < 4 << 20
    # small writes still go
    q = os.path.join(mp, "small")
    with open(q, "wb") as g:
        g.write(b"fits")
    assert open(q, "rb").read() == b"fits"
