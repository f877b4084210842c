"""The small types the cache manager passes around: fids, statuses, rights."""

from __future__ import annotations

import stat as _stat
from dataclasses import dataclass
from typing import NamedTuple

# AFSFetchStatus.FileType
FT_FILE = 1
FT_DIR = 2
FT_SYMLINK = 3

# Access rights (the bits of CallerAccess / AnonymousAccess and of ACL entries)
PRSFS_READ = 1
PRSFS_WRITE = 2
PRSFS_INSERT = 4
PRSFS_LOOKUP = 8
PRSFS_DELETE = 16
PRSFS_LOCK = 32
PRSFS_ADMINISTER = 64

# VL volume types (the index into an entry's volumeId[])
RWVOL = 0
ROVOL = 1
BACKVOL = 2
VOLTYPE_NAMES = {RWVOL: "RW", ROVOL: "RO", BACKVOL: "BK"}

# AFSStoreStatus.Mask
AFS_SETMODTIME = 1
AFS_SETOWNER = 2
AFS_SETGROUP = 4
AFS_SETMODE = 8
AFS_FSYNC = 1024


def _signed(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


class Fid(NamedTuple):
    """A file's identity in the AFS name space: cell and AFSFid."""

    cell: str
    volume: int
    vnode: int
    unique: int

    def afs(self):
        from ..rpc.afsint import AFSFid
        return AFSFid(self.volume, self.vnode, self.unique)

    def __str__(self) -> str:
        return "%s:%d.%d.%d" % (self.cell, self.volume, self.vnode, self.unique)


@dataclass(slots=True)
class Status:
    """What a file server said about a vnode (AFSFetchStatus), in plain form."""

    type: int
    nlink: int
    length: int
    dv: int
    author: int
    owner: int
    group: int
    caller_access: int
    anon_access: int
    mode: int
    parent_vnode: int
    parent_unique: int
    client_mtime: int
    server_mtime: int
    lock_count: int

    @classmethod
    def from_afs(cls, s) -> "Status":
        return cls(
            type=s.FileType,
            nlink=s.LinkCount,
            length=((s.Length_hi & 0xFFFFFFFF) << 32) | (s.Length & 0xFFFFFFFF),
            dv=((s.dataVersionHigh & 0xFFFFFFFF) << 32) | (s.DataVersion & 0xFFFFFFFF),
            author=s.Author & 0xFFFFFFFF,
            owner=s.Owner & 0xFFFFFFFF,
            group=s.Group & 0xFFFFFFFF,
            caller_access=s.CallerAccess & 0xFFFFFFFF,
            anon_access=s.AnonymousAccess & 0xFFFFFFFF,
            mode=s.UnixModeBits & 0o7777,
            parent_vnode=s.ParentVnode & 0xFFFFFFFF,
            parent_unique=s.ParentUnique & 0xFFFFFFFF,
            client_mtime=s.ClientModTime & 0xFFFFFFFF,
            server_mtime=s.ServerModTime & 0xFFFFFFFF,
            lock_count=_signed(s.lockCount),   # -1: a write lock, n: n readers
        )

    @property
    def is_dir(self) -> bool:
        return self.type == FT_DIR

    @property
    def is_symlink(self) -> bool:
        return self.type == FT_SYMLINK

    @property
    def maybe_mountpoint(self) -> bool:
        """A symlink without execute bits is a mount point (its text says
        which volume: ``#vol.`` or ``%cell:vol.``); real symlinks are 0755."""
        return self.type == FT_SYMLINK and (self.mode & 0o111) == 0

    def st_mode(self) -> int:
        kind = {FT_DIR: _stat.S_IFDIR, FT_SYMLINK: _stat.S_IFLNK}.get(self.type, _stat.S_IFREG)
        return kind | (self.mode & 0o7777)


def rights_string(bits: int) -> str:
    """``rlidwka`` letters for an access mask, in the order fs prints them."""
    order = ((PRSFS_READ, "r"), (PRSFS_LOOKUP, "l"), (PRSFS_INSERT, "i"), (PRSFS_DELETE, "d"),
             (PRSFS_WRITE, "w"), (PRSFS_LOCK, "k"), (PRSFS_ADMINISTER, "a"))
    out = "".join(c for bit, c in order if bits & bit)
    for i, c in enumerate("ABCDEFGH"):
        if bits & (1 << (24 + i)):
            out += c
    return out
