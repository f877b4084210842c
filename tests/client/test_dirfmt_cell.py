"""kafs.client.dirfmt against the real OpenAFS 1.8.9 file server.

Each test makes directories, files, hard links, symlinks and renames with
RXAFS calls, applies the same operations to its local copy of each
directory with ``Directory.add``/``remove``/``rename``/``set_parent``, and
checks that the copy is the server's directory byte for byte (FetchData64
of the directory vnode) after every step.  The directories live in a
volume of their own, ``dirfmt.test`` (made once with ``vos create``, kept
across runs); every test works in new subdirectories of its root, with
names no earlier run used, and removes them at the end.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re

import pytest

from kafs.api.session import AuthSpec, Session
from kafs.client import dirfmt
from kafs.client.busy import call_retrying_busy
from kafs.errors import RemoteAbort
from kafs.rpc import afsint
from kafs.testcell import dump
from kafs.xdr import EncodeError

pytestmark = pytest.mark.cell

VOLUME = "dirfmt.test"


ACL = {dump.ADMINISTRATORS: dump.rights("rlidwka"), dump.ANYUSER: dump.rights("rlidwk")}


@pytest.fixture(scope="module")
def volume_id(cell):
    """The volume's id; its root ACL lets anyone write (as root.cell's
    does), set the way kafs-testcell sets root ACLs: dump, edit, restore."""
    r = cell.tool("vos", "examine", VOLUME, "-localauth")
    if r.returncode != 0:
        r = cell.tool("vos", "create", cell.host, "a", VOLUME, "-maxquota", "0", "-localauth")
        assert r.returncode == 0, r.stderr
        r = cell.tool("vos", "examine", VOLUME, "-localauth")
    m = re.search(r"RWrite: (\d+)", r.stdout)
    assert m, r.stdout + r.stderr
    path = os.path.join(cell.scratch, "dirfmt.test.dump")
    try:
        r = cell.tool("vos", "dump", "-id", VOLUME, "-file", path, "-localauth")
        assert r.returncode == 0, r.stderr
        with open(path, "rb") as f:
            data = f.read()
        if dump.root_acl(data) != ACL:
            with open(path, "wb") as f:
                f.write(dump.set_root_acl(data, ACL))
            r = cell.tool("vos", "restore", cell.host, "a", VOLUME, "-file", path,
                          "-overwrite", "full", "-localauth")
            assert r.returncode == 0, r.stderr
    finally:
        if os.path.exists(path):
            os.unlink(path)
    return int(m.group(1))


def run(cell, volume_id, body):
    """Run ``body(fs)`` on an anonymous (rxnull) session."""
    async def main():
        async with await Session.open(cell.cell, auth=AuthSpec(noauth=True)) as se:
            fs = Server(se.fileserver(cell.host), volume_id)
            await fs.start()
            try:
                await body(fs)
            finally:
                await fs.cleanup()
    asyncio.run(asyncio.wait_for(main(), 600))


def _s(name: bytes) -> str:
    return name.decode("utf-8", "surrogateescape")


STATUS = afsint.AFSStoreStatus(Mask=afsint.AFS_SETMODE, UnixModeBits=0o644)
DIRSTATUS = afsint.AFSStoreStatus(Mask=afsint.AFS_SETMODE, UnixModeBits=0o755)
# a symlink with x bits clear would be a mount point, which needs the 'a' right
LINKSTATUS = afsint.AFSStoreStatus(Mask=afsint.AFS_SETMODE, UnixModeBits=0o777)


class Server:
    """The file server's directories next to our copies of them.

    Every operation is made on the server, applied to the copies, then
    each directory it touched is fetched and compared with its copy."""

    def __init__(self, conn, volume: int):
        self.conn = conn
        self.volume = volume
        self.copies: dict[int, tuple[int, dirfmt.Directory]] = {}   # vnode -> (unique, copy)
        self.made: list[tuple[int, int, bytes]] = []   # (parent, vnode, name) of our dirs
        self.tag = os.urandom(4).hex()
        self.root = (1, 1)

    def fid(self, vnode: int, unique: int | None = None) -> afsint.AFSFid:
        if unique is None:
            unique = self.copies[vnode][0]
        return afsint.AFSFid(self.volume, vnode, unique)

    async def fetch(self, vnode: int, unique: int | None = None) -> bytes:
        fid = self.fid(vnode, unique)

        async def once():
            st = (await afsint.RXAFS_FetchStatus(self.conn, fid)).OutStatus
            assert st.FileType == 2
            async with afsint.RXAFS_FetchData64(self.conn, fid, 0, st.Length) as s:
                n = int.from_bytes(await s.call.read_exact(8), "big")
                data = await s.call.read_exact(n)
            assert s.result.OutStatus.Length == len(data)
            return data
        return await call_retrying_busy(once)

    async def start(self) -> None:
        data = await self.fetch(1, 1)
        self.copies[1] = (1, dirfmt.parse(data))

    async def check(self, *vnodes: int) -> None:
        for v in vnodes:
            unique, copy = self.copies[v]
            data = await self.fetch(v, unique)
            assert copy.to_bytes() == data, f"directory {v}.{unique} differs from our copy"
            # and our parser takes the server's bytes, and agrees
            assert list(dirfmt.parse(data).entries()) == list(copy.entries())

    def d(self, vnode: int) -> dirfmt.Directory:
        return self.copies[vnode][1]

    # -- operations: server, then copy, then compare -----------------------
    async def mkdir(self, parent: int, name: bytes) -> int:
        r = await afsint.RXAFS_MakeDir(self.conn, self.fid(parent), _s(name), DIRSTATUS)
        f = r.OutFid
        self.d(parent).add(name, f.Vnode, f.Unique)
        pu = self.copies[parent][0]
        self.copies[f.Vnode] = (f.Unique, dirfmt.parse(dirfmt.build([], parent, pu, f.Vnode,
                                                                     f.Unique)))
        self.made.append((parent, f.Vnode, name))
        await self.check(parent, f.Vnode)
        return f.Vnode

    async def create(self, parent: int, name: bytes, check: bool = True) -> tuple[int, int]:
        r = await afsint.RXAFS_CreateFile(self.conn, self.fid(parent), _s(name), STATUS)
        self.d(parent).add(name, r.OutFid.Vnode, r.OutFid.Unique)
        if check:
            await self.check(parent)
        return r.OutFid.Vnode, r.OutFid.Unique

    async def symlink(self, parent: int, name: bytes, target: str) -> None:
        r = await afsint.RXAFS_Symlink(self.conn, self.fid(parent), _s(name), target, LINKSTATUS)
        self.d(parent).add(name, r.OutFid.Vnode, r.OutFid.Unique)
        await self.check(parent)

    async def link(self, parent: int, name: bytes, existing: tuple[int, int]) -> None:
        await afsint.RXAFS_Link(self.conn, self.fid(parent), _s(name), self.fid(*existing))
        self.d(parent).add(name, *existing)
        await self.check(parent)

    async def remove(self, parent: int, name: bytes, check: bool = True) -> None:
        await afsint.RXAFS_RemoveFile(self.conn, self.fid(parent), _s(name))
        self.d(parent).remove(name)
        if check:
            await self.check(parent)

    async def rmdir(self, parent: int, name: bytes) -> None:
        await afsint.RXAFS_RemoveDir(self.conn, self.fid(parent), _s(name))
        vnode = self.d(parent).remove(name)[0]
        self.copies.pop(vnode, None)
        await self.check(parent)

    async def rename(self, src: int, old: bytes, dst: int, new: bytes) -> None:
        await afsint.RXAFS_Rename(self.conn, self.fid(src), _s(old), self.fid(dst), _s(new))
        moved = self.d(src).lookup(old)
        replaced = self.d(dst).lookup(new)
        dirfmt.rename(self.d(src), old, self.d(dst), new)
        if replaced is not None and replaced[0] in self.copies:
            del self.copies[replaced[0]]
        touched = {src, dst}
        if moved[0] in self.copies and src != dst:
            self.d(moved[0]).set_parent(dst, self.copies[dst][0])
            touched.add(moved[0])
        await self.check(*touched)

    async def cleanup(self) -> None:
        """Remove what the test made (best effort: a failed test leaves its
        directories behind, under names no later run uses)."""
        for parent, vnode, name in reversed(self.made):
            if vnode not in self.copies or parent not in self.copies:
                continue
            try:
                for n, v, _ in list(self.d(vnode).entries()):
                    if n in (b".", b".."):
                        continue
                    if v in self.copies:
                        continue            # a subdirectory: removed on its own turn
                    await afsint.RXAFS_RemoveFile(self.conn, self.fid(vnode), _s(n))
                await afsint.RXAFS_RemoveDir(self.conn, self.fid(parent), _s(name))
            except RemoteAbort:
                pass


def names(prefix: str, n: int, lengths) -> list[bytes]:
    """``n`` distinct names of the given lengths (cycled)."""
    out = []
    for i in range(n):
        base = f"{prefix}{i:04d}-".encode()
        ln = lengths[i % len(lengths)]
        out.append((base + b"x" * ln)[:max(ln, len(base))])
    return out


def test_new_directory_is_what_build_makes(cell, volume_id):
    async def body(fs):
        top = await fs.mkdir(1, f"build-{fs.tag}".encode())
        sub = await fs.mkdir(top, b"sub")
        assert fs.d(top).lookup(b"sub") == (sub, fs.copies[sub][0])
        assert dict((n, v) for n, v, _ in fs.d(sub).entries()) == {b".": sub, b"..": top}
    run(cell, volume_id, body)


def test_files_links_symlinks_and_many_entries_spilling_pages(cell, volume_id):
    async def body(fs):
        top = await fs.mkdir(1, f"many-{fs.tag}".encode())
        # short names (1 blob), 2-, 3- and up to 9-blob names, across pages
        lengths = [1, 5, 15, 16, 17, 40, 47, 48, 49, 80, 111, 112, 200, 255, 256]
        made = []
        for name in names("f", 150, lengths):
            made.append(await fs.create(top, name))
        assert fs.d(top).pages >= 4
        await fs.symlink(top, b"a-symlink", "target/of/the/link")
        await fs.link(top, b"a-hard-link", made[3])
        await fs.link(top, b"L" * 256, made[4])
        assert fs.d(top).lookup(b"a-hard-link") == made[3]
        # a name longer than AFSNAMEMAX (string<AFSNAMEMAX> in the RPC) cannot
        # be sent, so no server directory has one: add refuses it too
        with pytest.raises(EncodeError):
            await fs.create(top, b"y" * 257)
        with pytest.raises(ValueError):
            fs.d(top).add(b"y" * 257, 5, 5)
        await fs.check(top)
        d = dirfmt.parse(await fs.fetch(top))
        for n, v, u in d.entries():
            assert d.lookup(n) == (v, u)
    run(cell, volume_id, body)


def test_removals_then_readds_reuse_blobs(cell, volume_id):
    async def body(fs):
        top = await fs.mkdir(1, f"reuse-{fs.tag}".encode())
        first = names("r", 120, [3, 30, 70, 130, 250])
        for n in first:
            await fs.create(top, n)
        gone = [n for i, n in enumerate(first) if i % 3 == 0 or i % 7 == 1]
        for n in gone:
            await fs.remove(top, n)
        # new names of other lengths fall into the holes (first fit)
        for n in names("s", 80, [250, 2, 60, 16, 100, 31]):
            await fs.create(top, n)
        # and a name removed and entered again
        await fs.remove(top, first[2])
        await fs.create(top, first[2])
        assert len(fs.d(top)) == 2 + len(first) - len(gone) + 80
    run(cell, volume_id, body)


def test_renames_within_and_across_directories(cell, volume_id):
    async def body(fs):
        top = await fs.mkdir(1, f"rename-{fs.tag}".encode())
        a = await fs.mkdir(top, b"a")
        b = await fs.mkdir(top, b"b")
        for n in names("n", 30, [4, 40, 120]):
            await fs.create(a, n)
        await fs.rename(a, names("n", 30, [4, 40, 120])[0], a, b"renamed-in-place")
        await fs.rename(a, b"renamed-in-place", a, b"R" * 200)          # short -> long
        await fs.create(a, b"victim")
        await fs.rename(a, b"R" * 200, a, b"victim")                    # onto an existing file
        await fs.rename(a, b"victim", b, b"moved-file")                 # across directories
        sub = await fs.mkdir(a, b"subdir")
        await fs.create(sub, b"inside")
        await fs.rename(a, b"subdir", b, b"moved-dir")                  # a directory: its .. moves
        assert fs.d(sub).lookup(b"..") == (b, fs.copies[b][0])
        await fs.rename(b, b"moved-dir", b, b"moved-dir-2")             # a directory, in place
        await fs.remove(sub, b"inside")
        await fs.rmdir(b, b"moved-dir-2")
    run(cell, volume_id, body)


def test_beyond_the_allocation_map_past_128_pages(cell, volume_id):
    """Pages 128 and up have no allocation-map byte: the server finds room
    in them by scanning their bitmaps, page by page."""
    async def body(fs):
        top = await fs.mkdir(1, f"big-{fs.tag}".encode())
        # 9-blob names: 7 entries a page (the last a 7-blob one on page 0)
        long = names("b", 940, [250])
        for i, n in enumerate(long):
            await fs.create(top, n, check=(i % 200 == 0))
        await fs.check(top)
        assert fs.d(top).pages > 128
        # holes low and high, filled again by shorter names
        for n in long[5:900:13]:
            await fs.remove(top, n, check=False)
        await fs.check(top)
        for n in names("c", 100, [1, 20, 100, 250]):
            await fs.create(top, n, check=False)
        await fs.check(top)
        for n in [n for n, _, _ in fs.d(top).entries() if n not in (b".", b"..")]:
            await fs.remove(top, n, check=False)
        await fs.check(top)
        assert len(fs.d(top)) == 2
    run(cell, volume_id, body)


def test_what_the_server_refuses_the_copy_refuses(cell, volume_id):
    async def body(fs):
        top = await fs.mkdir(1, f"refuse-{fs.tag}".encode())
        await fs.create(top, b"here")
        d = fs.d(top)
        with pytest.raises(RemoteAbort) as ei:
            await afsint.RXAFS_CreateFile(fs.conn, fs.fid(top), "here", STATUS)
        assert ei.value.message == os.strerror(errno.EEXIST)   # as a UAE code
        with pytest.raises(FileExistsError):
            d.add(b"here", 99, 99)
        with pytest.raises(RemoteAbort) as ei:
            await afsint.RXAFS_CreateFile(fs.conn, fs.fid(top), "a/b", STATUS)
        assert ei.value.message == os.strerror(errno.EINVAL)   # as a UAE code
        with pytest.raises(ValueError):
            d.add(b"a/b", 99, 99)
        with pytest.raises(RemoteAbort) as ei:
            await afsint.RXAFS_RemoveFile(fs.conn, fs.fid(top), "not-here")
        assert ei.value.message == os.strerror(errno.ENOENT)   # as a UAE code
        with pytest.raises(FileNotFoundError):
            d.remove(b"not-here")
        await fs.check(top)
    run(cell, volume_id, body)
