"""Coherence and the persistent cache, through real mounts on the real cell.

* A file changed by another client is seen changed by the next read after
  the file server's callback break, with no restart.
* A second read of a large file sends no FetchData.
* After a restart of the mount its cached chunks are revalidated (a
  FetchStatus says the data version is unchanged) and reused; a file
  changed while the mount was down is read anew: no byte of a superseded
  data version is served.
* Killing the mount in the middle of a write, then mounting again, serves
  no torn chunk: what is read is what the file server has.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import threading
import time
import uuid

import pytest

from kafs.client.creds import Cred

from .conftest import KafsMount

pytestmark = pytest.mark.cell


def _other_client_write(cm_factory, cell, path_parts, data: bytes, *, offset=0):
    """Write ``data`` into an existing file as another client would."""
    async def main():
        async with cm_factory() as cm:
            c = Cred(0)
            v = await cm.volume_root(cell, "root.cell", cred=c)
            for p in path_parts:
                v = await cm.cross(await cm.lookup(v, p.encode(), c), c)
            await cm.write(v, offset, data, c)
            await cm.flush(v, c)
            return v.status.dv
    return asyncio.run(main())


def _server_bytes(cm_factory, cell, path_parts) -> bytes:
    async def main():
        async with cm_factory() as cm:
            c = Cred(0)
            v = await cm.volume_root(cell, "root.cell", cred=c)
            for p in path_parts:
                v = await cm.cross(await cm.lookup(v, p.encode(), c), c)
            return await cm.read(v, 0, 1 << 40, c)
    return asyncio.run(main())


def _wait_for(pred, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def _parts(mount, path):
    rel = os.path.relpath(path, mount.cell_dir())
    return rel.split(os.sep)


def test_change_by_another_client_seen_after_break(mount, workdir, cm_factory, cell):
    p = os.path.join(workdir, "shared")
    with open(p, "wb") as f:
        f.write(b"version one\n")
    with open(p, "rb") as f:
        assert f.read() == b"version one\n"
    breaks = mount.stats()["cm"]["breaks"]
    _other_client_write(cm_factory, cell.cell, _parts(mount, p), b"VERSION TWO\n")
    # the file server breaks our callback at once (before it answers the writer)
    assert _wait_for(lambda: mount.stats()["cm"]["breaks"] > breaks)
    with open(p, "rb") as f:
        assert f.read() == b"VERSION TWO\n"
    # an fd opened before the change sees the change too (the kernel's pages were dropped)
    fd = os.open(p, os.O_RDONLY)
    try:
        assert os.pread(fd, 100, 0) == b"VERSION TWO\n"
        breaks = mount.stats()["cm"]["breaks"]
        _other_client_write(cm_factory, cell.cell, _parts(mount, p), b"version 3!!\n")
        assert _wait_for(lambda: mount.stats()["cm"]["breaks"] > breaks)
        assert _wait_for(lambda: os.pread(fd, 100, 0) == b"version 3!!\n", 10)
    finally:
        os.close(fd)


def test_directory_change_by_another_client(mount, workdir, cm_factory, cell):
    assert os.listdir(workdir) == []

    async def add():
        async with cm_factory() as cm:
            c = Cred(0)
            v = await cm.volume_root(cell.cell, "root.cell", cred=c)
            for p in _parts(mount, workdir):
                v = await cm.cross(await cm.lookup(v, p.encode(), c), c)
            await cm.create(v, b"from-elsewhere", 0o644, c)
    asyncio.run(add())
    assert _wait_for(lambda: os.listdir(workdir) == ["from-elsewhere"], 10)


def _big_file(workdir, mb=24) -> tuple[str, str]:
    p = os.path.join(workdir, "big")
    data = os.urandom(mb << 20)
    with open(p, "wb") as f:
        f.write(data)
    return p, hashlib.sha256(data).hexdigest()


def _sha(p) -> str:
    return subprocess.run(["sha256sum", p], capture_output=True, text=True, check=True,
                          timeout=300).stdout.split()[0]


def test_second_read_sends_no_fetchdata_and_restart_reuses_cache(cell, tmp_path, cm_factory,
                                                                  workvol):
    m = KafsMount(cell, tmp_path, options="memcache=4M").start()
    try:
        wd = m.scratch()
        p = os.path.join(wd, "big")
        data = os.urandom(24 << 20)
        want = hashlib.sha256(data).hexdigest()
        # written by another client, so this mount has nothing of it yet
        async def put():
            async with cm_factory() as cm:
                c = Cred(0)
                d = await cm.volume_root(cell.cell, "root.cell", cred=c)
                for part in _parts(m, wd):
                    d = await cm.cross(await cm.lookup(d, part.encode(), c), c)
                v = await cm.create(d, b"big", 0o644, c)
                await cm.write(v, 0, data, c)
                await cm.flush(v, c)
        asyncio.run(put())
        s0 = m.stats()["data"]
        assert _sha(p) == want
        s1 = m.stats()["data"]
        assert s1["fetches"] - s0["fetches"] >= 24          # it was fetched
        m.restart()      # the kernel's page cache and our memory go with the mount
        s2 = m.stats()["data"]
        assert _sha(p) == want
        s3 = m.stats()["data"]
        # no FetchData of the file (a directory or two may be fetched)
        assert s3["fetch_bytes"] - s2["fetch_bytes"] < 64 << 10
        assert s3["disk_hits"] >= 20                          # from the persistent cache
        assert m.stats()["cm"]["fetch_status"] >= 1           # ...after revalidation
        # changed while the mount is down: the old chunks must not be served
        m.stop()
        _other_client_write(cm_factory, cell.cell, _parts(m, p), b"Z" * 4096, offset=5 << 20)
        m.start()
        new = bytearray(data)
        new[5 << 20:(5 << 20) + 4096] = b"Z" * 4096
        assert _sha(p) == hashlib.sha256(new).hexdigest()
        subprocess.run(["rm", "-rf", wd], timeout=120)
    finally:
        m.stop()


def _fid(path):
    v, n, u = (int(x, 16) for x in os.getxattr(path, "afs.fid").decode().split(":"))
    return [v, n, u]


def test_killed_mid_write_serves_no_torn_chunk(cell, tmp_path, cm_factory, workvol):
    m = KafsMount(cell, tmp_path).start()
    try:
        wd = m.scratch()
        p = os.path.join(wd, "f")
        with open(p, "wb") as f:
            f.write(os.urandom(6 << 20))
        _sha(p)                                    # cached, chunks on disk
        stop = threading.Event()

        def writer():
            try:
                with open(p, "r+b") as f:
                    i = 0
                    while not stop.is_set():
                        f.seek((i * 997 * 1024) % (6 << 20))
                        f.write(os.urandom(256 << 10))
                        i += 1
            except OSError:
                pass                               # the mount went away under us
        t = threading.Thread(target=writer)
        t.start()
        time.sleep(1.5)
        m.kill()
        stop.set()
        t.join(30)
        m.start()
        got = open(p, "rb").read()
        assert got == _server_bytes(cm_factory, cell.cell, _parts(m, p))
        st = m.stats()["store"]
        assert st.get("errors", 0) >= 0            # counted, never served
        subprocess.run(["rm", "-rf", wd], timeout=120)
    finally:
        m.stop()


def test_unmount_stores_dirty_data(cell, tmp_path, cm_factory, workvol):
    m = KafsMount(cell, tmp_path, options="flush_size=64M").start()
    try:
        wd = m.scratch()
        p = os.path.join(wd, "f")
        data = os.urandom(3 << 20)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, data)                         # gathered, not yet stored
        os.close(fd)                               # close stores it
        m.stop()
        assert _server_bytes(cm_factory, cell.cell, _parts(m, p)) == data
        m.start()
        subprocess.run(["rm", "-rf", wd], timeout=120)
    finally:
        m.stop()
