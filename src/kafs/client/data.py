"""File data: chunks fetched, cached and read ahead; writes buffered behind.

Reading.  A file is read in chunks of ``chunk_size`` bytes (the cache's
unit).  A chunk of data version N is looked for in memory (a small LRU of
recent chunks), then in the persistent :class:`~kafs.client.store.ChunkStore`
(on a worker thread, so the event loop never waits on the disk), and only
then fetched with FetchData64.  A chunk being fetched is fetched once: later
readers wait for the same fetch.  Sequential reading opens a read-ahead
window that doubles up to ``readahead`` chunks.  A fetch that returns
another data version than the one asked for (the file changed meanwhile)
stores the chunk under the version the server named and makes the reader
start again with the new status; a reply that claims more bytes than asked
for, or that ends short of the file's end, is a broken server: EIO, and
nothing is cached.

Our own writes.  Each StoreData64 makes the server's data version go up
by one.  When the version after our store is exactly one more than before
it, nobody else changed the file in between, so the chunks of the old
version we did not write are still right for the new one: ``lineage``
records that, and a chunk looked for in the new version is found under the
old one.  A version that jumped (someone else wrote) has no lineage.

Writing.  Writes are gathered into one contiguous extent per file; when it
reaches ``flush_size`` it is stored with one StoreData64 while the next
extent fills (one store at a time per file: the FileLength of overlapping
stores must not race).  A write elsewhere in the file, a read, close,
fsync, truncate or a status change first stores what is gathered.  The
error of a store that ran behind is reported by the next write, flush or
close of that file, as a local filesystem reports a delayed write error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from ..errors import DecodeError
from .errmap import FSError

log = logging.getLogger("kafs.client.data")

EIO = 5

_FETCH64 = None


def _afsint():
    global _FETCH64
    if _FETCH64 is None:
        from ..rpc import afsint
        _FETCH64 = afsint
    return _FETCH64


class StaleVersion(Exception):
    """The file changed under a read: start again with this status."""

    def __init__(self, status):
        super().__init__("data version changed")
        self.status = status


class BrokenServer(FSError):
    """A reply no sane file server sends: EIO for that file, and a log line."""

    def __init__(self, text: str):
        super().__init__(EIO, text)
        log.error("%s", text)


class MemoryCache:
    """Recently used chunks, bounded in bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._d: OrderedDict = OrderedDict()

    def get(self, key):
        v = self._d.get(key)
        if v is not None:
            self._d.move_to_end(key)
        return v

    def put(self, key, data: bytes) -> None:
        if self.max_bytes <= 0 or len(data) > self.max_bytes:
            return
        old = self._d.pop(key, None)
        if old is not None:
            self.bytes -= len(old)
        self._d[key] = data
        self.bytes += len(data)
        while self.bytes > self.max_bytes:
            _, v = self._d.popitem(last=False)
            self.bytes -= len(v)

    def drop_file(self, fkey) -> None:
        for k in [k for k in self._d if k[0] == fkey]:
            self.bytes -= len(self._d.pop(k))

    def clear(self) -> None:
        self._d.clear()
        self.bytes = 0


@dataclass
class WriteBehind:
    """A file's gathered writes and its store running behind."""

    start: int = 0
    buf: bytearray = field(default_factory=bytearray)
    task: asyncio.Task | None = None
    error: BaseException | None = None
    #: the file's length once everything gathered is stored
    length: int = 0
    mtime: float = 0.0

    @property
    def end(self) -> int:
        return self.start + len(self.buf)

    def dirty(self) -> bool:
        return bool(self.buf) or self.task is not None


class DataPath:
    """Reads and writes of file contents for a :class:`CacheManager`."""

    def __init__(self, cm, *, store=None, chunk_size: int = 1 << 20,
                 memory_bytes: int = 64 << 20, readahead: int = 8,
                 flush_size: int = 8 << 20, io_threads: int = 2):
        self.cm = cm
        self.store = store
        self.chunk_size = chunk_size
        self.mem = MemoryCache(memory_bytes)
        self.readahead = max(1, readahead)
        self.flush_size = max(chunk_size, flush_size)
        self._inflight: dict = {}
        self._ra_tasks: set = set()
        self._executor = None
        self._io_threads = io_threads
        self.counters = {"fetches": 0, "fetch_bytes": 0, "mem_hits": 0, "disk_hits": 0,
                         "stores": 0, "store_bytes": 0, "readahead": 0, "broken": 0}

    # -- the persistent store, off the event loop ---------------------------
    async def _io(self, fn, *args):
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor
            self._executor = ThreadPoolExecutor(self._io_threads, thread_name_prefix="kafs-cache")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def close(self) -> None:
        for t in list(self._ra_tasks):
            t.cancel()
        if self._ra_tasks:
            await asyncio.gather(*self._ra_tasks, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    @staticmethod
    def file_key(v):
        f = v.fid
        return (f.cell, f.volume, f.vnode, f.unique)

    def forget_file(self, v) -> None:
        """Drop what memory holds of a file (its data changed)."""
        self.mem.drop_file(self.file_key(v))

    # -- reading ------------------------------------------------------------
    def _chunk_lineage(self, v, dv: int, idx: int):
        """The data versions (newest first) whose chunk ``idx`` is the same
        as dv's, by our own stores' lineage."""
        out = [dv]
        seen = 0
        while dv in v.lineage and seen < 64:
            prev, written = v.lineage[dv]
            if idx in written:
                break
            out.append(prev)
            dv = prev
            seen += 1
        return out

    async def _cached_chunk(self, v, dv: int, idx: int):
        fk = self.file_key(v)
        for d in self._chunk_lineage(v, dv, idx):
            data = self.mem.get((fk, d, idx))
            if data is not None:
                self.counters["mem_hits"] += 1
                return data
        if self.store is not None:
            for d in self._chunk_lineage(v, dv, idx):
                data = await self._io(self.store.get, fk, d, idx)
                if data is not None:
                    self.counters["disk_hits"] += 1
                    self.mem.put((fk, dv, idx), data)
                    return data
        return None

    async def chunk(self, v, status, idx: int, cred) -> bytes:
        """Chunk ``idx`` of ``v`` at ``status.dv`` (may raise StaleVersion)."""
        data = await self._cached_chunk(v, status.dv, idx)
        if data is not None:
            return data
        key = (self.file_key(v), status.dv, idx)
        fut = self._inflight.get(key)
        if fut is None:
            fut = asyncio.ensure_future(self._fetch(v, status, idx, cred))
            self._inflight[key] = fut
            fut.add_done_callback(lambda f, key=key: self._fetched(key, f))
        return await asyncio.shield(fut)

    def _fetched(self, key, fut) -> None:
        self._inflight.pop(key, None)
        if not fut.cancelled():
            fut.exception()          # retrieved: its readers may all be gone (read-ahead)

    async def _fetch(self, v, status, idx: int, cred) -> bytes:
        afsint = _afsint()
        cs = self.chunk_size
        pos = idx * cs
        want = max(0, min(cs, status.length - pos))

        async def op(conn):
            async with afsint.RXAFS_FetchData64(conn, v.fid.afs(), pos, want) as s:
                hdr = await s.call.read_exact(8)
                n = int.from_bytes(hdr, "big", signed=True)
                if n < 0 or n > want:
                    raise BrokenServer("file server sent %d bytes of %s where %d were asked for"
                                       % (n, v.fid, want))
                data = await s.call.read_exact(n) if n else b""
            return data, s.result

        started = self.cm.clock()
        (data, res), server = await self.cm.call(v.volume, cred, op, what="FetchData64")
        self.counters["fetches"] += 1
        self.counters["fetch_bytes"] += len(data)
        new = self.cm.status_from_reply(v, res.OutStatus, server)
        self.cm.note_callback(v, res.CallBack, server, started)
        if new.dv != status.dv:
            # the file changed: these bytes belong to the new version
            if len(data) == max(0, min(cs, new.length - pos)):
                await self._keep(v, new.dv, idx, data)
            raise StaleVersion(new)
        if len(data) < want:
            self.counters["broken"] += 1
            raise BrokenServer("file server sent %d bytes of %s at %d, short of its length %d"
                               % (len(data), v.fid, pos, status.length))
        await self._keep(v, status.dv, idx, data)
        return data

    async def _keep(self, v, dv: int, idx: int, data: bytes) -> None:
        fk = self.file_key(v)
        self.mem.put((fk, dv, idx), data)
        if self.store is not None:
            await self._io(self.store.put, fk, dv, idx, data)

    async def read(self, v, off: int, size: int, cred) -> bytes:
        """Up to ``size`` bytes at ``off`` (fewer at the end of the file)."""
        for _ in range(8):
            if v.wb is not None and v.wb.dirty():
                await self.flush(v, cred)
            status = await self.cm.validate(v, cred)
            try:
                return await self._read_at(v, status, off, size, cred)
            except StaleVersion:
                v.broken = True          # revalidate and read again
                continue
        raise FSError(EIO, "%s keeps changing while being read" % v.fid)

    async def _read_at(self, v, status, off: int, size: int, cred) -> bytes:
        end = min(off + size, status.length)
        if off >= end:
            return b""
        cs = self.chunk_size
        first, last = off // cs, (end - 1) // cs
        self._read_ahead(v, status, off, last, cred)
        if first == last:
            c = await self.chunk(v, status, first, cred)
            return c[off - first * cs:end - first * cs]
        parts = await asyncio.gather(*(self.chunk(v, status, i, cred)
                                       for i in range(first, last + 1)))
        whole = b"".join(parts)
        return whole[off - first * cs:end - first * cs]

    def _read_ahead(self, v, status, off: int, last: int, cred) -> None:
        if off == v.seq_end or off == 0:
            v.ra_window = min(self.readahead, max(1, v.ra_window * 2))
        else:
            v.ra_window = 1
        cs = self.chunk_size
        v.seq_end = min(status.length, (last + 1) * cs) if off != v.seq_end else v.seq_end
        nchunks = (status.length + cs - 1) // cs
        fk = self.file_key(v)
        for i in range(last + 1, min(nchunks, last + 1 + v.ra_window)):
            key = (fk, status.dv, i)
            if key in self._inflight or self.mem.get(key) is not None:
                continue
            self.counters["readahead"] += 1
            t = asyncio.ensure_future(self._quiet(self.chunk(v, status, i, cred)))
            self._ra_tasks.add(t)
            t.add_done_callback(self._ra_tasks.discard)

    @staticmethod
    async def _quiet(aw):
        try:
            await aw
        except Exception:       # noqa: BLE001 - read-ahead is a hint; the real read reports
            pass

    def note_read_end(self, v, end: int) -> None:
        v.seq_end = end

    # -- writing ------------------------------------------------------------
    def _wb(self, v) -> WriteBehind:
        if v.wb is None:
            st = v.status
            v.wb = WriteBehind(length=st.length if st else 0)
        return v.wb

    def _raise_pending(self, wb: WriteBehind) -> None:
        if wb.error is not None:
            e, wb.error = wb.error, None
            raise e

    async def write(self, v, off: int, data: bytes, cred) -> int:
        wb = self._wb(v)
        self._raise_pending(wb)
        if wb.buf and not (wb.start <= off <= wb.end):
            await self._store_gathered(v, cred, wait=True)
        if not wb.buf:
            wb.start = off
            wb.buf = bytearray(data)
        else:
            rel = off - wb.start
            wb.buf[rel:rel + len(data)] = data
        wb.length = max(wb.length, off + len(data))
        wb.mtime = time.time()
        if len(wb.buf) >= self.flush_size:
            await self._store_gathered(v, cred, wait=False)
        return len(data)

    async def _store_gathered(self, v, cred, *, wait: bool) -> None:
        wb = v.wb
        if wb.task is not None:                 # one store at a time per file
            t, wb.task = wb.task, None
            try:
                await t
            except BaseException as e:         # noqa: BLE001 - reported below
                wb.error = wb.error or e
        self._raise_pending(wb)
        if not wb.buf:
            return
        start, buf = wb.start, bytes(wb.buf)
        wb.buf = bytearray()
        t = asyncio.ensure_future(self._store(v, start, buf, wb.length, wb.mtime, cred))
        if wait:
            await t
        else:
            wb.task = t

    async def flush(self, v, cred) -> None:
        """Store everything gathered for ``v`` and report any store's error."""
        wb = v.wb
        if wb is None:
            return
        try:
            while wb.dirty():
                await self._store_gathered(v, cred, wait=True)
            self._raise_pending(wb)
        finally:
            if not wb.dirty() and wb.error is None:
                v.wb = None

    async def _store(self, v, pos: int, data: bytes, length: int, mtime: float, cred) -> None:
        afsint = _afsint()
        from .types import AFS_SETMODTIME
        instatus = afsint.AFSStoreStatus(Mask=AFS_SETMODTIME, ClientModTime=int(mtime))
        file_len = max(length, pos + len(data))

        async def op(conn):
            async with afsint.RXAFS_StoreData64(conn, v.fid.afs(), instatus, pos, len(data),
                                                file_len) as s:
                if data:
                    await s.call.write(data)
            return s.result

        async with v.lock:
            old_dv = v.dv
            res, server = await self.cm.call(v.volume, cred, op, what="StoreData64",
                                             retry_comm=False)
            self.counters["stores"] += 1
            self.counters["store_bytes"] += len(data)
            new = self.cm.status_from_reply(v, res.OutStatus, server)
            cs = self.chunk_size
            first = pos // cs
            last = (pos + len(data) - 1) // cs if data else first - 1
            written = set(range(first, last + 1))
            if new.dv == old_dv + 1 and old_dv >= 0:
                v.lineage[new.dv] = (old_dv, frozenset(written))
                # the chunks we wrote whole are known for the new version
                for i in written:
                    a, b = max(i * cs, pos), min((i + 1) * cs, pos + len(data), new.length)
                    if a == i * cs and (b == (i + 1) * cs or b == new.length) and b > a:
                        await self._keep(v, new.dv, i, data[a - pos:b - pos])
            else:
                self.forget_file(v)

    async def truncate(self, v, size: int, cred) -> None:
        await self.flush(v, cred)
        afsint = _afsint()
        from .types import AFS_SETMODTIME
        instatus = afsint.AFSStoreStatus(Mask=AFS_SETMODTIME, ClientModTime=int(time.time()))

        async def op(conn):
            async with afsint.RXAFS_StoreData64(conn, v.fid.afs(), instatus, size, 0, size) as s:
                pass
            return s.result

        async with v.lock:
            old = v.status
            res, server = await self.cm.call(v.volume, cred, op, what="StoreData64",
                                             retry_comm=False)
            new = self.cm.status_from_reply(v, res.OutStatus, server)
            cs = self.chunk_size
            if old is not None and new.dv == old.dv + 1:
                # chunks wholly below the new end are unchanged
                keep_below = size // cs
                v.lineage[new.dv] = (old.dv, frozenset(range(keep_below, max(keep_below + 1,
                                     (max(old.length, size) + cs - 1) // cs + 1))))
            else:
                self.forget_file(v)
