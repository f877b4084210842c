"""The AFS directory format: parse, look up, list and edit a directory blob.

An AFS directory travels as the raw contents of its vnode (FetchData64 of a
vnode of FileType 2), laid out as OpenAFS's file server keeps it:

* pages of 2048 bytes, at most 1023 of them; each page is 64 blobs of 32
  bytes.  Blob 0 of every page is the page header: ``pgcount`` (u16, the
  number of pages; meaningful on page 0 only), ``tag`` (u16, 1234),
  ``freecount`` (u8, never maintained), the allocation bitmap of the page's
  64 blobs (8 bytes, bit ``j & 7`` of byte ``j >> 3``) and padding.
* page 0 also holds the directory header in blobs 1-12: the allocation map
  (128 bytes: free blobs of each of the first 128 pages, 64 for a page that
  does not exist) and the hash table (128 u16 blob numbers, the heads of
  the name hash chains; 0 ends a chain).
* an entry starts at a blob: flag (u8, 1 = first blob of an entry), a
  byte the server never sets, ``next`` (u16, the next blob of its hash
  chain), the vnode and uniquifier (u32 each) and, from byte 12, the name,
  NUL-terminated and running on into the following blobs: an entry takes
  ``1 + (len(name) + 16) // 32`` blobs, all inside one page.

All integers are big-endian.  :class:`Directory` keeps the bytes and edits
them in place exactly as the OpenAFS file server does (the same first-fit
blob allocation, the same hash-chain order, the same partial clearing of a
removed entry), so that after the client's own CreateFile, MakeDir, Remove,
Rename, Link or Symlink, applying the same change locally gives the
server's new directory byte for byte, and the directory need not be
fetched again.

:func:`parse` is strict: anything a file server would not have written is
a :class:`kafs.errors.DecodeError` naming what is wrong.
"""

from __future__ import annotations

import errno
import struct
from typing import Iterable, Iterator

from ..errors import DecodeError

#: bytes per directory page
PAGE_SIZE = 2048
#: bytes per blob
BLOB_SIZE = 32
#: blobs per page
EPP = 64
#: name hash buckets
NHASHENT = 128
#: pages the allocation map covers
MAXPAGES = 128
#: most pages a directory can have
BIGMAXPAGES = 1023
#: blobs of page 0 taken by the page header and the directory header
DHE_BLOBS = 13
#: the page tag
PAGE_TAG = 1234
#: flag of an entry's first blob
FFIRST = 1
#: the most bytes of a name the RPCs carry (string<AFSNAMEMAX>)
AFSNAMEMAX = 256
#: the largest directory, in bytes
MAX_DIR_SIZE = BIGMAXPAGES * PAGE_SIZE

_ALLOMAP = 32                     # offset of the allocation map in page 0
_HASHTBL = _ALLOMAP + MAXPAGES    # offset of the hash table in page 0
_NAME = 12                        # offset of the name in an entry
_U16 = struct.Struct(">H")
_ENTRY = struct.Struct(">BBHII")  # flag, (unused), next, vnode, unique
_ALL = (1 << EPP) - 1


def name_hash(name: bytes) -> int:
    """The hash bucket (0..127) of a name, as OpenAFS's DirHash gives it."""
    h = 0
    for c in name:
        h = (h * 173 + c) & 0xFFFFFFFF
    t = h & (NHASHENT - 1)
    if t and h >= 0x80000000:
        t = NHASHENT - t
    return t


def name_blobs(name: bytes) -> int:
    """How many blobs an entry with this name takes."""
    return 1 + ((len(name) + 16) >> 5)


def check_name(name: bytes) -> None:
    """Raise ValueError for a name no directory entry can have."""
    if not isinstance(name, (bytes, bytearray)):
        raise TypeError(f"a directory entry name is bytes, not {type(name).__name__}")
    if not name:
        raise ValueError("empty directory entry name")
    if len(name) > AFSNAMEMAX:
        raise ValueError(f"directory entry name of {len(name)} bytes is longer "
                         f"than {AFSNAMEMAX}")
    if b"\0" in name:
        raise ValueError("directory entry name contains a NUL byte")
    if b"/" in name:
        raise ValueError("directory entry name contains '/'")


def _check_u32(what: str, v: int) -> None:
    if not isinstance(v, int) or not 0 <= v <= 0xFFFFFFFF:
        raise ValueError(f"{what} {v!r} is not an unsigned 32-bit number")


def _err(msg: str) -> DecodeError:
    return DecodeError("AFS directory: " + msg)


def _blob_name(b: int) -> str:
    return f"blob {b} (page {b >> 6}, slot {b & 63})"


class Directory:
    """A parsed AFS directory; see the module docstring.

    Build one with :func:`parse` or :func:`build`.  ``lookup`` follows the
    hash chain, ``entries`` lists in blob order (what ``readdir`` shows),
    ``add`` and ``remove`` edit the bytes as the file server would.
    """

    __slots__ = ("_buf", "_count")

    def __init__(self, buf: bytearray, count: int):
        self._buf = buf
        self._count = count

    # -- reading ----------------------------------------------------------
    def __len__(self) -> int:
        """The number of entries, ``.`` and ``..`` included."""
        return self._count

    def __contains__(self, name) -> bool:
        return self._find(bytes(name))[1] is not None

    def __repr__(self) -> str:
        return f"<Directory: {self._count} entries, {self.pages} pages>"

    @property
    def pages(self) -> int:
        return len(self._buf) // PAGE_SIZE

    def lookup(self, name: bytes) -> tuple[int, int] | None:
        """``(vnode, unique)`` of ``name``, found through its hash chain, or None."""
        b = self._find(bytes(name))[1]
        if b is None:
            return None
        _, _, _, vnode, unique = _ENTRY.unpack_from(self._buf, b * BLOB_SIZE)
        return vnode, unique

    def entries(self) -> Iterator[tuple[bytes, int, int]]:
        """``(name, vnode, unique)`` of each entry, in on-disk (blob) order.

        A scan of the allocation bitmaps, as a cache manager's readdir
        walks the pages, independent of the hash chains.
        """
        buf = self._buf
        for page in range(len(buf) // PAGE_SIZE):
            base = page * PAGE_SIZE
            bits = int.from_bytes(buf[base + 5:base + 13], "little")
            slot = DHE_BLOBS if page == 0 else 1
            while slot < EPP:
                if not (bits >> slot) & 1:
                    slot += 1
                    continue
                off = base + slot * BLOB_SIZE
                _, _, _, vnode, unique = _ENTRY.unpack_from(buf, off)
                end = buf.index(0, off + _NAME, base + PAGE_SIZE)
                name = bytes(buf[off + _NAME:end])
                yield name, vnode, unique
                slot += name_blobs(name)

    def names(self) -> list[bytes]:
        return [n for n, _, _ in self.entries()]

    def to_bytes(self) -> bytes:
        """The directory as the file server would serve it."""
        return bytes(self._buf)

    # -- editing, as the file server does ---------------------------------
    def add(self, name: bytes, vnode: int, unique: int) -> None:
        """Enter ``name`` -> ``(vnode, unique)``, as afs_dir_Create does.

        ValueError for a name no entry can have (empty, longer than
        AFSNAMEMAX, with NUL or '/'); FileExistsError if the name is there;
        OSError(EFBIG) if the directory has no room left.
        """
        check_name(name)
        name = bytes(name)
        _check_u32("vnode", vnode)
        _check_u32("uniquifier", unique)
        if self._find(name)[1] is not None:
            raise FileExistsError(errno.EEXIST, "directory entry exists", name.decode(
                "utf-8", "surrogateescape"))
        b = self._alloc(name_blobs(name))
        buf = self._buf
        off = b * BLOB_SIZE
        buf[off] = FFIRST
        struct.pack_into(">II", buf, off + 4, vnode, unique)
        buf[off + _NAME:off + _NAME + len(name) + 1] = name + b"\0"
        slot = _HASHTBL + 2 * name_hash(name)
        buf[off + 2:off + 4] = buf[slot:slot + 2]
        _U16.pack_into(buf, slot, b)
        self._count += 1

    def remove(self, name: bytes) -> tuple[int, int]:
        """Remove ``name``, as afs_dir_Delete does; returns its ``(vnode, unique)``.

        FileNotFoundError if there is no such entry.
        """
        name = bytes(name)
        prev, b = self._find(name)
        if b is None:
            raise FileNotFoundError(errno.ENOENT, "no such directory entry",
                                    name.decode("utf-8", "surrogateescape"))
        buf = self._buf
        off = b * BLOB_SIZE
        _, _, _, vnode, unique = _ENTRY.unpack_from(buf, off)
        buf[prev:prev + 2] = buf[off + 2:off + 4]
        n = name_blobs(name)
        # The server clears n times sizeof(struct DirEntry), 28 bytes, not
        # n blobs: the tail of a long name's last blobs stays behind.
        buf[off:off + 28 * n] = bytes(28 * n)
        page, slot = divmod(b, EPP)
        if page < MAXPAGES:
            buf[_ALLOMAP + page] += n
        base = page * PAGE_SIZE
        bits = int.from_bytes(buf[base + 5:base + 13], "little")
        bits &= ~(((1 << n) - 1) << slot)
        buf[base + 5:base + 13] = bits.to_bytes(8, "little")
        self._count -= 1
        return vnode, unique

    def rename(self, old: bytes, new: bytes) -> None:
        """RXAFS_Rename within this directory; see :func:`rename`."""
        rename(self, old, self, new)

    def set_parent(self, vnode: int, unique: int) -> None:
        """Point ``..`` at a new parent, as the file server does when a
        directory is renamed into another one (remove ``..``, enter it
        again)."""
        _check_u32("vnode", vnode)
        _check_u32("uniquifier", unique)
        if b".." in self:
            self.remove(b"..")
        self.add(b"..", vnode, unique)

    # -- internals --------------------------------------------------------
    def _find(self, name: bytes) -> tuple[int, int | None]:
        """(offset of the u16 pointing at the entry, its blob) or (_, None)."""
        buf = self._buf
        prev = _HASHTBL + 2 * name_hash(name)
        b = _U16.unpack_from(buf, prev)[0]
        steps = 0
        while b:
            off = b * BLOB_SIZE
            if buf[off + _NAME:off + _NAME + len(name) + 1] == name + b"\0":
                return prev, b
            prev = off + 2
            b = _U16.unpack_from(buf, prev)[0]
            steps += 1
            if steps > BIGMAXPAGES * EPP:       # unreachable for a parsed directory
                raise _err("hash chain loops")
        return prev, None

    def _alloc(self, n: int) -> int:
        """First fit of ``n`` contiguous free blobs, page by page, adding a
        page where the server would (FindBlobs/AddPage); the first blob."""
        buf = self._buf
        want = (1 << n) - 1
        for page in range(BIGMAXPAGES):
            if page >= MAXPAGES:
                pgcount = _U16.unpack_from(buf, 0)[0]
                if pgcount == 0:
                    pgcount = MAXPAGES
                    _U16.pack_into(buf, 0, pgcount)
                if page > pgcount - 1:
                    self._add_page(page)
                    _U16.pack_into(buf, 0, page + 1)
            else:
                free = buf[_ALLOMAP + page]
                if free < n:
                    continue
                if free == EPP:
                    self._add_page(page)
                    buf[_ALLOMAP + page] = EPP - 1
                    _U16.pack_into(buf, 0, page + 1)
            base = page * PAGE_SIZE
            bits = int.from_bytes(buf[base + 5:base + 13], "little")
            if bits == _ALL:
                continue
            # runs: bit j set if blobs j .. j+n-1 are all free
            free = ~bits & _ALL
            runs = free
            for k in range(1, n):
                runs &= free >> k
            if runs:
                slot = (runs & -runs).bit_length() - 1      # the first fit
                if page < MAXPAGES:
                    buf[_ALLOMAP + page] -= n
                bits |= want << slot
                buf[base + 5:base + 13] = bits.to_bytes(8, "little")
                return page * EPP + slot
        raise OSError(errno.EFBIG, "directory is full")

    def _add_page(self, page: int) -> None:
        buf = self._buf
        if len(buf) < (page + 1) * PAGE_SIZE:
            buf.extend(bytes((page + 1) * PAGE_SIZE - len(buf)))
        base = page * PAGE_SIZE
        _U16.pack_into(buf, base + 2, PAGE_TAG)
        if page > 0:
            _U16.pack_into(buf, base, 0)
        buf[base + 4] = EPP - 1
        buf[base + 5:base + 13] = b"\x01" + bytes(7)


def rename(src: Directory, old: bytes, dst: Directory, new: bytes) -> None:
    """RXAFS_Rename's edits of the directories, in the file server's order:
    an existing ``new`` is removed from ``dst``, ``new`` is entered in
    ``dst`` with the fid of ``old``, then ``old`` is removed from ``src``
    (``src`` and ``dst`` may be the same Directory).  A directory moved to
    another parent also needs :meth:`Directory.set_parent` on its own
    contents.  FileNotFoundError if ``old`` is not there; ValueError for a
    rename of a name onto the same file (the server's EINVAL)."""
    fid = src.lookup(old)
    if fid is None:
        raise FileNotFoundError(errno.ENOENT, "no such directory entry",
                                bytes(old).decode("utf-8", "surrogateescape"))
    check_name(new)
    there = dst.lookup(new)
    if there is not None:
        if there[0] == fid[0]:
            raise ValueError("rename onto the same file")
        dst.remove(new)
    dst.add(new, *fid)
    src.remove(old)


def _empty(self_vnode: int, self_unique: int, parent_vnode: int,
           parent_unique: int) -> Directory:
    """A new directory as afs_dir_MakeDir formats it."""
    buf = bytearray(PAGE_SIZE)
    _U16.pack_into(buf, 0, 1)
    _U16.pack_into(buf, 2, PAGE_TAG)
    buf[4] = EPP - DHE_BLOBS
    buf[5:7] = b"\xff\x1f"
    buf[_ALLOMAP] = EPP - DHE_BLOBS
    buf[_ALLOMAP + 1:_ALLOMAP + MAXPAGES] = bytes([EPP]) * (MAXPAGES - 1)
    d = Directory(buf, 0)
    d.add(b".", self_vnode, self_unique)
    d.add(b"..", parent_vnode, parent_unique)
    return d


def build(entries: Iterable[tuple[bytes, int, int]], parent_vnode: int, parent_unique: int,
          self_vnode: int = 1, self_unique: int = 1) -> bytes:
    """A directory as the file server makes it (MakeDir: ``.`` and ``..``)
    and then fills it, one create per ``(name, vnode, unique)`` in order."""
    d = _empty(self_vnode, self_unique, parent_vnode, parent_unique)
    for name, vnode, unique in entries:
        d.add(name, vnode, unique)
    return d.to_bytes()


def _claim_entry(buf: bytearray, bucket: int, b: int, bitmaps: list[int],
                 claimed: list[int]) -> tuple[bytes, int]:
    """Check the entry at blob ``b`` of chain ``bucket`` and claim its
    blobs; its name and the next blob of the chain."""
    def bad(msg: str) -> DecodeError:
        return _err(f"hash chain {bucket}: {_blob_name(b)} {msg}")

    npages = len(bitmaps)
    if b >= npages * EPP:
        raise _err(f"hash chain {bucket} points at blob {b}, past the "
                   f"{npages * EPP} blobs of {npages} page(s)")
    page, slot = divmod(b, EPP)
    if slot == 0 or (page == 0 and slot < DHE_BLOBS):
        raise bad("is a header, not an entry")
    if (claimed[page] >> slot) & 1:
        raise bad("is reached twice (a loop or a shared blob)")
    if not (bitmaps[page] >> slot) & 1:
        raise bad("is marked free")
    off = b * BLOB_SIZE
    flag, _, nxt, _, _ = _ENTRY.unpack_from(buf, off)
    if flag != FFIRST:
        raise bad(f"has flag {flag}, not {FFIRST}")
    end = buf.find(0, off + _NAME, (page + 1) * PAGE_SIZE)
    if end < 0:
        raise bad("has a name without a NUL before the end of its page")
    name = bytes(buf[off + _NAME:end])
    if not name:
        raise bad("has an empty name")
    if len(name) > AFSNAMEMAX:
        raise bad(f"has a name of {len(name)} bytes, more than {AFSNAMEMAX}")
    if b"/" in name:
        raise bad("has a name with '/' in it")
    n = name_blobs(name)
    if slot + n > EPP:
        raise bad(f"has {n} blobs, running past the end of its page")
    mask = ((1 << n) - 1) << slot
    if bitmaps[page] & mask != mask:
        raise bad(f"has {n} blobs, not all marked allocated")
    if claimed[page] & mask:
        raise bad("overlaps another entry")
    if name_hash(name) != bucket:
        raise bad(f"has name {name!r}, which belongs in hash chain {name_hash(name)}")
    claimed[page] |= mask
    return name, nxt


def parse(data: bytes) -> Directory:
    """Check ``data`` is a directory as a file server writes it; a Directory.

    Any departure raises DecodeError: a size that is not a whole number of
    pages (1..1023), a page without its tag, a page count or allocation
    map that disagrees with the pages and their bitmaps, a hash chain that
    points outside the directory, into a header, at a free or shared blob
    or back on itself, an entry without its first-blob flag, a name that is
    empty, longer than AFSNAMEMAX, holds '/', lacks its NUL in its page or
    sits in the wrong hash chain, an entry past the end of its page, a
    name entered twice, or an allocated blob no entry accounts for.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"directory data is bytes, not {type(data).__name__}")
    size = len(data)
    if size == 0:
        raise _err("empty")
    if size % PAGE_SIZE:
        raise _err(f"length {size} is not a multiple of the {PAGE_SIZE}-byte page")
    npages = size // PAGE_SIZE
    if npages > BIGMAXPAGES:
        raise _err(f"{npages} pages, more than the {BIGMAXPAGES} a directory can have")
    buf = bytearray(data)

    bitmaps = []
    for page in range(npages):
        base = page * PAGE_SIZE
        tag = _U16.unpack_from(buf, base + 2)[0]
        if tag != PAGE_TAG:
            raise _err(f"page {page} has tag {tag}, not {PAGE_TAG}")
        bitmaps.append(int.from_bytes(buf[base + 5:base + 13], "little"))

    pgcount = _U16.unpack_from(buf, 0)[0]
    allomap = buf[_ALLOMAP:_ALLOMAP + MAXPAGES]
    if pgcount == 0:                 # an old-style directory: the map says
        pgcount = next((i for i, f in enumerate(allomap) if f == EPP), MAXPAGES)
        if pgcount != npages:
            raise _err(f"the allocation map shows {pgcount} pages, the data has {npages}")
    elif pgcount != npages:
        raise _err(f"the header says {pgcount} pages, the data has {npages}")
    if bitmaps[0] & 0x1FFF != 0x1FFF:
        raise _err("page 0's bitmap does not hold the directory header")
    for page in range(MAXPAGES):
        if page < npages:
            if not bitmaps[page] & 1:
                raise _err(f"page {page}'s bitmap does not hold its page header")
            free = EPP - bin(bitmaps[page]).count("1")
            if allomap[page] != free:
                raise _err(f"the allocation map gives page {page} {allomap[page]} free "
                           f"blobs, its bitmap {free}")
        elif allomap[page] != EPP:
            raise _err(f"the allocation map gives page {page}, past the end, "
                       f"{allomap[page]} free blobs, not {EPP}")

    # Walk every hash chain; each entry claims its blobs.
    claimed = [(0x1FFF if page == 0 else 1) for page in range(npages)]
    names: set[bytes] = set()
    for bucket in range(NHASHENT):
        b = _U16.unpack_from(buf, _HASHTBL + 2 * bucket)[0]
        while b:
            name, b = _claim_entry(buf, bucket, b, bitmaps, claimed)
            if name in names:
                raise _err(f"name {name!r} is entered twice")
            names.add(name)
    for page in range(npages):
        stray = bitmaps[page] & ~claimed[page]
        if stray:
            slot = (stray & -stray).bit_length() - 1
            raise _err(f"{_blob_name(page * EPP + slot)} is marked allocated but no "
                       f"entry holds it")
    return Directory(buf, len(names))
