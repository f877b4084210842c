"""The persistent chunk cache: file data kept on local disk (the FS-Cache role).

A :class:`ChunkStore` keeps pieces ("chunks") of AFS files, each for one
file (``key`` = ``(cell, volume, vnode, unique)``), one data version and
one chunk number, in a directory of its own, bounded in size, kept across
restarts and safe against a crash at any moment.

Layout under ``root`` (created 0700; every file 0600, for cached chunks
may hold private file data)::

    KAFSCACHE                         marker: the format version
    lock                              flock()ed while a store has it open
    <cell, hex>/<volume %08x>/<vnode %08x>.<unique %08x>.<dv %016x>.<index %x>
    <cell, hex>/<volume %08x>/.tmp.<random>    a chunk being written

A chunk file is a header and the data.  The header (little-endian) holds a
magic and version, the whole key, dv, index, the data length and its
CRC-32, and ends with a CRC-32 of the header itself; ``get`` checks all of
it against the file's name and size, so a torn, truncated, corrupt or
misplaced chunk is removed, counted in ``errors`` and reported as a miss,
never served.

Writes are atomic: the chunk is written to a temporary file in its final
directory and renamed over its name; temporaries left by a crash are
removed at open.  Durability is optional (``fsync=True`` syncs each chunk
before its rename); without it a crash of the process loses nothing (the
kernel has the data) and a crash of the machine may lose recent chunks,
which the checksums then turn into misses.  Either way a later ``get``
returns the right bytes or None.

The store is bounded: the bytes of its chunk files (header included) never
exceed ``max_bytes``; the least recently used chunks are evicted first.
Each use stamps the chunk file's mtime with a strictly increasing time, so
the order survives a restart: open lists the directories and stats the
files (it reads no chunk) and orders them by mtime.

A write that fails (a full disk, a quota, an I/O error) makes ``put``
return False after one log line (repeats of the same error are only
counted until a put succeeds again); the caller carries on without the
cache.  All methods are thread-safe: one lock guards the index, and chunk
data is read and written outside it.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import secrets
import struct
import threading
import time
import zlib
from collections import OrderedDict

from ..errors import ConfigError

log = logging.getLogger(__name__)

Key = tuple  # (cell: str, volume: int, vnode: int, unique: int)

MARKER = "KAFSCACHE"
MARKER_TEXT = b"kafs chunk cache 1\n"
LOCKFILE = "lock"
TMP_PREFIX = ".tmp."
MAGIC = b"KAFSCHNK"
VERSION = 1
#: the longest cell name a key may have (AFS allows 64)
MAX_CELL = 100

# magic, version, cell length, volume, vnode, unique, dv, index, length, data crc
_HEAD = struct.Struct("<8sHHIIIQQII")
_CRC = struct.Struct("<I")
_CHUNK_RE = re.compile(r"([0-9a-f]{8})\.([0-9a-f]{8})\.([0-9a-f]{16})\.([0-9a-f]+)")
_HEX_RE = re.compile(r"(?:[0-9a-f]{2})+")
_VOL_RE = re.compile(r"[0-9a-f]{8}")


def header_size(cell: str) -> int:
    """Bytes of a chunk file's header for a key of this cell."""
    return _HEAD.size + len(cell.encode("utf-8")) + _CRC.size


def footprint(key: Key, nbytes: int) -> int:
    """Bytes a chunk of ``nbytes`` data counts against ``max_bytes``."""
    return header_size(key[0]) + nbytes


def _check_key(key) -> tuple[str, int, int, int]:
    if not (isinstance(key, tuple) and len(key) == 4):
        raise ValueError(f"chunk key {key!r} is not (cell, volume, vnode, unique)")
    cell, volume, vnode, unique = key
    if not isinstance(cell, str) or not cell or len(cell.encode("utf-8")) > MAX_CELL:
        raise ValueError(f"chunk key cell {cell!r} is not a cell name")
    for what, v in (("volume", volume), ("vnode", vnode), ("uniquifier", unique)):
        if not isinstance(v, int) or not 0 <= v <= 0xFFFFFFFF:
            raise ValueError(f"chunk key {what} {v!r} is not an unsigned 32-bit number")
    return key


def _check_dv_index(dv, index) -> None:
    if not isinstance(dv, int) or not 0 <= dv < 1 << 64:
        raise ValueError(f"data version {dv!r} is not an unsigned 64-bit number")
    if not isinstance(index, int) or not 0 <= index < 1 << 63:
        raise ValueError(f"chunk index {index!r} is not a chunk number")


def _cell_dir(cell: str) -> str:
    return cell.encode("utf-8").hex()


def _chunk_name(vnode: int, unique: int, dv: int, index: int) -> str:
    return f"{vnode:08x}.{unique:08x}.{dv:016x}.{index:x}"


def _header(key, dv: int, index: int, data) -> bytes:
    cell = key[0].encode("utf-8")
    h = _HEAD.pack(MAGIC, VERSION, len(cell), key[1], key[2], key[3], dv, index,
                   len(data), zlib.crc32(data)) + cell
    return h + _CRC.pack(zlib.crc32(h))


class _Entry:
    __slots__ = ("size",)

    def __init__(self, size: int):
        self.size = size


class ChunkStore:
    """A bounded, persistent, crash-safe cache of file chunks; see the module.

    ``root``: the cache directory (made if missing; an existing non-empty
    directory must be a cache already).  ``max_bytes``: the bound on the
    chunk files' bytes.  ``chunk_size``: the most data a chunk holds.
    ``fsync``: sync each chunk before it is renamed into place.

    Raises ConfigError if the directory cannot be used (not ours, in use
    by another store, not writable).
    """

    def __init__(self, root, max_bytes: int, chunk_size: int = 1 << 20, *,
                 fsync: bool = False):
        if not isinstance(max_bytes, int) or max_bytes < 0:
            raise ValueError(f"max_bytes {max_bytes!r} is not a byte count")
        if not isinstance(chunk_size, int) or not 0 < chunk_size < 1 << 32:
            raise ValueError(f"chunk_size {chunk_size!r} is not a chunk size")
        self.root = os.fspath(root)
        self.max_bytes = max_bytes
        self.chunk_size = chunk_size
        self.fsync = fsync
        self._lock = threading.Lock()
        # (key, dv, index) -> _Entry, least recently used first
        self._lru: OrderedDict[tuple, _Entry] = OrderedDict()
        self._by_key: dict[tuple, set[tuple[int, int]]] = {}
        self._bytes = 0
        self._reserved = 0
        self._last_ns = 0
        self._counts = dict.fromkeys(("hits", "misses", "stores", "evictions", "errors",
                                      "write_errors"), 0)
        self._failing: int | None = None      # errno of the last logged write failure
        self._closed = False
        self._lockfd = -1
        try:
            self._open()
        except OSError as e:
            self._release()
            raise ConfigError(f"chunk cache {self.root}: {e.strerror or e}") from None
        except BaseException:
            self._release()
            raise

    # -- open ---------------------------------------------------------------
    def _open(self) -> None:
        root = self.root
        os.makedirs(root, mode=0o700, exist_ok=True)
        st = os.stat(root)
        if st.st_uid == os.geteuid() and st.st_mode & 0o077:
            os.chmod(root, 0o700)
        marker = os.path.join(root, MARKER)
        for n in os.listdir(root):
            if n.startswith(MARKER + TMP_PREFIX):        # a marker being written: crashed
                _unlink_quiet(os.path.join(root, n))
        if not os.path.exists(marker):
            if set(os.listdir(root)) - {"lost+found"}:
                raise ConfigError(f"chunk cache {root}: the directory is not empty and "
                                  f"is not a chunk cache (no {MARKER})")
            self._write_small(marker, MARKER_TEXT)
        else:
            with open(marker, "rb") as f:
                text = f.read(64)
            if text != MARKER_TEXT:
                raise ConfigError(f"chunk cache {root}: unknown cache format "
                                  f"{text[:32]!r}")
        self._lockfd = os.open(os.path.join(root, LOCKFILE),
                               os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._lockfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"chunk cache {root}: in use by another process "
                              f"(or another store of this one)") from None
        found = []
        for cdir in os.scandir(root):
            if not (cdir.is_dir(follow_symlinks=False) and _HEX_RE.fullmatch(cdir.name)):
                continue
            try:
                cell = bytes.fromhex(cdir.name).decode("utf-8")
            except UnicodeDecodeError:
                continue
            if _cell_dir(cell) != cdir.name or len(cdir.name) > 2 * MAX_CELL:
                continue
            for vdir in os.scandir(cdir.path):
                if not (vdir.is_dir(follow_symlinks=False) and _VOL_RE.fullmatch(vdir.name)):
                    continue
                volume = int(vdir.name, 16)
                n = 0
                for f in os.scandir(vdir.path):
                    n += 1
                    self._found(cell, volume, f, found)
                if n == 0:
                    _rmdir_quiet(vdir.path)
        found.sort(key=lambda t: (t[0], t[1]))
        for mtime, _, ck, size in found:
            hsize = header_size(ck[0][0])
            if size < hsize or size > hsize + self.chunk_size:
                # shorter than a header: torn; longer than a chunk: made with
                # a larger chunk size.  Neither can be served.
                if size < hsize:
                    self._counts["errors"] += 1
                _unlink_quiet(self._path(*ck))
                continue
            self._lru[ck] = _Entry(size)
            self._by_key.setdefault(ck[0], set()).add(ck[1:])
            self._bytes += size
            self._last_ns = max(self._last_ns, mtime)
        with self._lock:
            self._evict_to(0)

    def _found(self, cell: str, volume: int, f: os.DirEntry, found: list) -> None:
        if f.name.startswith(TMP_PREFIX):
            _unlink_quiet(f.path)
            return
        m = _CHUNK_RE.fullmatch(f.name)
        if not m or not f.is_file(follow_symlinks=False):
            return
        vnode, unique, dv, index = (int(x, 16) for x in m.groups())
        if _chunk_name(vnode, unique, dv, index) != f.name or index >= 1 << 63:
            return
        st = f.stat(follow_symlinks=False)
        found.append((st.st_mtime_ns, f.name,
                      ((cell, volume, vnode, unique), dv, index), st.st_size))

    def _write_small(self, path: str, data: bytes) -> None:
        tmp = path + TMP_PREFIX + secrets.token_hex(4)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.rename(tmp, path)

    # -- paths and small helpers -------------------------------------------
    def _dir(self, key) -> str:
        return os.path.join(self.root, _cell_dir(key[0]), f"{key[1]:08x}")

    def _path(self, key, dv: int, index: int) -> str:
        return os.path.join(self._dir(key), _chunk_name(key[2], key[3], dv, index))

    def _stamp(self) -> int:
        """A time for an mtime, later than every earlier stamp (lock held)."""
        t = max(time.time_ns(), self._last_ns + 1)
        self._last_ns = t
        return t

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("chunk store is closed")

    def _forget(self, ck) -> _Entry:
        """Drop ``ck`` from the index (lock held); its entry."""
        e = self._lru.pop(ck)
        self._bytes -= e.size
        s = self._by_key[ck[0]]
        s.discard(ck[1:])
        if not s:
            del self._by_key[ck[0]]
        return e

    def _drop(self, ck) -> None:
        """Remove a chunk and its file (lock held)."""
        self._forget(ck)
        _unlink_quiet(self._path(*ck))

    def _evict_to(self, need: int) -> bool:
        """Evict least recently used chunks until ``need`` more bytes fit (lock held)."""
        if need + self._reserved > self.max_bytes:
            return False
        while self._lru and self._bytes + self._reserved + need > self.max_bytes:
            ck = next(iter(self._lru))
            self._drop(ck)
            self._counts["evictions"] += 1
        return self._bytes + self._reserved + need <= self.max_bytes

    # -- the interface -------------------------------------------------------
    def has(self, key, dv: int, index: int) -> bool:
        """Whether a chunk for exactly this dv is stored (not verified, not a use)."""
        _check_key(key)
        _check_dv_index(dv, index)
        with self._lock:
            self._check_open()
            return (key, dv, index) in self._lru

    def get(self, key, dv: int, index: int) -> bytes | None:
        """The chunk stored for exactly this data version, verified; None if
        there is none or it does not verify (then it is removed)."""
        _check_key(key)
        _check_dv_index(dv, index)
        ck = (key, dv, index)
        with self._lock:
            self._check_open()
            if ck not in self._lru:
                self._counts["misses"] += 1
                return None
        path = self._path(key, dv, index)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError as e:
            with self._lock:
                self._counts["misses"] += 1
                if e.errno == errno.ENOENT and ck in self._lru:
                    # gone behind our back: forget it
                    self._forget(ck)
                    self._counts["errors"] += 1
            if e.errno != errno.ENOENT:
                log.warning("chunk cache: cannot read %s: %s", path, e.strerror)
            return None
        try:
            data, why = self._read(fd, ck)
            with self._lock:
                if data is None:
                    self._counts["misses"] += 1
                    self._counts["errors"] += 1
                    log.warning("chunk cache: removed a bad chunk %s: %s", path, why)
                    if self._same_file(fd, path) and ck in self._lru:
                        self._drop(ck)
                    return None
                self._counts["hits"] += 1
                if ck not in self._lru:
                    return data
                self._lru.move_to_end(ck)
                t = self._stamp()
            try:
                os.utime(fd, ns=(t, t))
            except OSError:
                pass
            return data
        finally:
            os.close(fd)

    def _read(self, fd: int, ck) -> tuple[bytes | None, str]:
        """Read and verify the chunk in ``fd``: (data, "") or (None, why)."""
        key, dv, index = ck
        try:
            size = os.fstat(fd).st_size
            hsize = header_size(key[0])
            if size < hsize:
                return None, f"{size} bytes, shorter than its header"
            if size > hsize + self.chunk_size:
                return None, f"{size} bytes, longer than a chunk"
            head = os.pread(fd, hsize, 0)
            if len(head) != hsize:
                return None, "short read of its header"
            if zlib.crc32(head[:-_CRC.size]) != _CRC.unpack_from(head, hsize - _CRC.size)[0]:
                return None, "header checksum mismatch"
            (magic, version, clen, volume, vnode, unique, hdv, hindex, length,
             crc) = _HEAD.unpack_from(head)
            if magic != MAGIC or version != VERSION:
                return None, "not a chunk of this format"
            cell = head[_HEAD.size:_HEAD.size + clen]
            if (cell != key[0].encode("utf-8") or clen != len(cell)
                    or (volume, vnode, unique, hdv, hindex) != (key[1], key[2], key[3], dv, index)):
                return None, "its header names another chunk"
            if size != hsize + length:
                return None, f"{size} bytes, its header says {hsize + length}"
            data = os.pread(fd, length, hsize)
            if len(data) != length:
                return None, "short read of its data"
            if zlib.crc32(data) != crc:
                return None, "data checksum mismatch"
            return data, ""
        except OSError as e:
            return None, f"read error: {e.strerror}"

    def _same_file(self, fd: int, path: str) -> bool:
        try:
            a, b = os.fstat(fd), os.stat(path, follow_symlinks=False)
        except OSError:
            return False
        return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)

    def put(self, key, dv: int, index: int, data) -> bool:
        """Store a chunk; True if it is now stored.

        False, never an exception, when it cannot be: a chunk larger than
        the whole cache, or a write that fails (a full disk, an I/O error:
        logged in one line, repeats of that error only counted).  A chunk
        stored before under the same (key, dv, index) is gone either way.
        ValueError for a bad key, dv or index, or data longer than
        ``chunk_size``.
        """
        _check_key(key)
        _check_dv_index(dv, index)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"chunk data is bytes, not {type(data).__name__}")
        data = memoryview(data).cast("B")
        if len(data) > self.chunk_size:
            raise ValueError(f"chunk of {len(data)} bytes is longer than the "
                             f"chunk size {self.chunk_size}")
        ck = (key, dv, index)
        head = _header(key, dv, index, data)
        size = len(head) + len(data)
        path = self._path(key, dv, index)
        with self._lock:
            self._check_open()
            if ck in self._lru:          # replaced: the old one goes first
                self._drop(ck)
            if not self._evict_to(size):
                return False
            self._reserved += size
        try:
            tmp = self._write_tmp(key, head, data)
        except OSError as e:
            with self._lock:
                self._reserved -= size
                self._write_failed(e)
            return False
        with self._lock:
            self._reserved -= size
            try:
                os.rename(tmp, path)
            except OSError as e:
                self._write_failed(e)
                _unlink_quiet(tmp)
                return False
            if ck in self._lru:          # another put of the same chunk won the race
                self._forget(ck)
            self._lru[ck] = _Entry(size)
            self._by_key.setdefault(key, set()).add((dv, index))
            self._bytes += size
            self._counts["stores"] += 1
            self._failing = None
        return True

    def _write_tmp(self, key, head: bytes, data) -> str:
        """The chunk written to a new temporary file in its directory; its path."""
        d = self._dir(key)
        tmp = os.path.join(d, TMP_PREFIX + secrets.token_hex(8))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        try:
            fd = os.open(tmp, flags, 0o600)
        except FileNotFoundError:
            for p in (os.path.dirname(d), d):
                try:
                    os.mkdir(p, 0o700)
                except FileExistsError:
                    pass
            fd = os.open(tmp, flags, 0o600)
        try:
            _write_all(fd, head, data)
            if self.fsync:
                os.fsync(fd)
            with self._lock:
                t = self._stamp()
            os.utime(fd, ns=(t, t))
        except BaseException:
            os.close(fd)
            _unlink_quiet(tmp)
            raise
        os.close(fd)
        return tmp

    def _write_failed(self, e: OSError) -> None:
        """Count a failed put and log it, once per run of one error (lock held)."""
        self._counts["write_errors"] += 1
        if self._failing != e.errno:
            self._failing = e.errno
            log.warning("chunk cache %s: cannot store a chunk: %s", self.root,
                        e.strerror or e)

    def invalidate(self, key, keep_dv: int | None = None) -> None:
        """Drop every chunk of ``key``, except those of ``keep_dv``."""
        _check_key(key)
        with self._lock:
            self._check_open()
            for dv, index in list(self._by_key.get(key, ())):
                if dv != keep_dv:
                    self._drop((key, dv, index))

    def drop_volume(self, cell: str, volume: int) -> None:
        """Drop every chunk of one volume."""
        _check_key((cell, volume, 0, 0))
        with self._lock:
            self._check_open()
            for key in [k for k in self._by_key if k[0] == cell and k[1] == volume]:
                for dv, index in list(self._by_key[key]):
                    self._drop((key, dv, index))

    def clear(self) -> None:
        """Drop every chunk."""
        with self._lock:
            self._check_open()
            for ck in list(self._lru):
                self._drop(ck)

    def stats(self) -> dict:
        """bytes (of the chunk files, headers included), chunks, hits,
        misses, stores, evictions, errors (bad chunks found and removed),
        write_errors (puts that failed to write), max_bytes, chunk_size."""
        with self._lock:
            return dict(bytes=self._bytes, chunks=len(self._lru), **self._counts,
                        max_bytes=self.max_bytes, chunk_size=self.chunk_size)

    def close(self) -> None:
        """Release the cache directory; the store cannot be used after."""
        with self._lock:
            self._closed = True
        self._release()

    def _release(self) -> None:
        if self._lockfd >= 0:
            os.close(self._lockfd)          # releases the flock
            self._lockfd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self._release()
        except Exception:                   # noqa: BLE001 - interpreter shutdown
            pass


def _write_all(fd: int, head: bytes, data) -> None:
    """Write the header and data; partial writes continue, errors raise."""
    bufs = [memoryview(head), data]
    while bufs:
        n = os.writev(fd, bufs)
        if n == 0:
            raise OSError(errno.EIO, "write wrote nothing")
        while bufs and n >= len(bufs[0]):
            n -= len(bufs[0])
            bufs.pop(0)
        if n:
            bufs[0] = bufs[0][n:]


def _unlink_quiet(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        log.warning("chunk cache: cannot remove %s: %s", path, e.strerror)


def _rmdir_quiet(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass
