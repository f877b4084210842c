"""A vnode as the cache manager holds it: status, callback, cached contents.

A vnode's cached status (and anything derived from it: directory contents,
symlink text, the callers' access rights) may be used without asking the
file server while its callback promise holds:

* the promise has not expired (``cb_expires``, local monotonic time: the
  time the call was made plus the ExpirationTime the server gave);
* the server has not broken it (a CallBack RPC naming the fid, or vnode 0
  of the volume: a volume-wide break bumps ``Volume.epoch``);
* the server has not told us to forget all its callbacks since
  (InitCallBackState*: bumps ``FileServer.epoch``).

Data chunks are keyed by data version, so a stale chunk can never be taken
for a current one: once the status says dv N, only chunks of dv N are used.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from .types import Fid, Status


@dataclass(eq=False)
class Vnode:
    fid: Fid
    volume: object                     # kafs.client.volumes.Volume
    status: Status | None = None
    cb_expires: float = 0.0
    cb_server: object = None           # kafs.client.servers.FileServer
    cb_epochs: tuple = (-1, -1)
    broken: bool = True
    #: uid -> CallerAccess rights learnt while the callback held
    access: dict = field(default_factory=dict)
    #: parsed directory contents, for ``dir_dv``
    dir: object = None
    dir_dv: int = -1
    #: symlink / mount point text, for ``link_dv``
    link: bytes | None = None
    link_dv: int = -1
    #: for a mount point: the root vnode of the volume it names
    mount_target: "Vnode | None" = None
    #: for a volume's root reached through a mount point: that mount point's
    #: directory (what ``..`` is)
    parent: "Vnode | None" = None
    #: dv -> (previous dv, chunk indices written): our own stores carry the
    #: unwritten chunks of the previous version over (see data.py)
    lineage: dict = field(default_factory=dict)
    #: write-behind state (data.WriteBehind) while the file has dirty data
    wb: object = None
    opens: int = 0
    seq_end: int = -1                  # read-ahead: where the last read ended
    ra_window: int = 1
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: advisory lock held on the server: (type, owner count)
    server_lock: object = None

    def cb_valid(self, now: float) -> bool:
        s = self.cb_server
        return (self.status is not None and not self.broken and now < self.cb_expires
                and s is not None and self.cb_epochs == (s.epoch, self.volume.epoch))

    def set_callback(self, server, expires: float) -> None:
        self.cb_server = server
        self.cb_expires = expires
        self.cb_epochs = (server.epoch, self.volume.epoch)
        self.broken = False

    def break_callback(self) -> None:
        self.broken = True
        self.access.clear()

    @property
    def dv(self) -> int:
        return self.status.dv if self.status is not None else -1
