"""The cache manager: cells, volumes, vnodes, callbacks, and the operations
a filesystem (FUSE), ``afsio`` and ``fs`` are built on.

Every operation takes a :class:`~kafs.client.creds.Cred` (whose token the
calls carry) and raises :class:`~kafs.client.errmap.FSError` (an OSError
with the errno a program expects) for anything that is the caller's answer.

Talking to file servers (:meth:`CacheManager.call`) follows what a cache
manager does with each answer:

* a communication failure (no answer within the dead time, ICMP
  unreachable) marks the server down and tries the volume's next site; a
  read-write volume has one site, so its call fails with EIO;
* VBUSY, VRESTARTING, VSALVAGING: wait a second and ask the same server
  again, for at most ``busy_timeout`` seconds (then EWOULDBLOCK);
* VNOVOL, VMOVED, VOFFLINE, VSALVAGE, VNOSERVICE: that site does not have
  the volume (now): look the volume up in the VLDB again and go on with
  the sites it names, once; ENODEV when no site has it;
* anything else is the answer (EACCES, ENOENT, EEXIST, EDQUOT ...).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import time
from dataclasses import dataclass, field

from ..errors import AFSError, ConfigError, DecodeError, LocalAbort, RemoteAbort
from . import errmap
from .creds import Cred, TokenSource
from .errmap import FSError
from .servers import ServerTable
from .types import (FT_DIR, PRSFS_INSERT, PRSFS_LOOKUP, PRSFS_READ, ROVOL, RWVOL, Fid,
                    Status)
from .vnode import Vnode
from .volumes import VL_NOENT, Volume, VolumeTable

log = logging.getLogger("kafs.client")

DEFAULT_SYSNAMES = ("amd64_linux26",)
#: Rx error codes that mean "no answer from this server"
_COMM_CODES = frozenset({-1, -3, -5, -7})


def _afsint():
    from ..rpc import afsint
    return afsint


@dataclass
class CMCell:
    """A cell the cache manager has opened."""

    name: str
    conf: object              # kafs.cell.Cell
    volumes: VolumeTable
    vl: object                # UbikClient
    aliases: set = field(default_factory=set)


class CacheManager:
    """A userspace AFS cache manager.  ``await start()`` before use,
    ``await close()`` after (stores what is dirty, closes the cache)."""

    def __init__(self, *, cache_dir: str | None = None, cache_size: int = 1 << 30,
                 chunk_size: int = 1 << 20, memory_cache: int = 64 << 20,
                 readahead: int = 8, flush_size: int = 8 << 20,
                 sysnames=DEFAULT_SYSNAMES, local_cell: str | None = None,
                 confdir=None, client_conf=None, tokens: TokenSource | None = None,
                 dead_time: float = 50.0, idle_dead: float = 120.0,
                 busy_timeout: float = 300.0,
                 busy_interval: float = 1.0, down_time: float = 60.0,
                 dns: bool | None = None, clock=time.monotonic, endpoint=None):
        self.cache_dir = cache_dir
        self.cache_size = cache_size
        self.chunk_size = chunk_size
        self.sysnames = [s if isinstance(s, bytes) else s.encode() for s in sysnames]
        self.confdir = confdir
        self.client_conf = client_conf
        self.dns = dns
        self.tokens = tokens or TokenSource()
        self.dead_time = dead_time
        #: a call on which the server sends nothing for this long (while
        #: answering pings) is given up, as OpenAFS's idle dead time
        self.idle_dead = idle_dead
        self.busy_timeout = busy_timeout
        self.busy_interval = busy_interval
        self.clock = clock
        self.servers = ServerTable(down_time=down_time)
        self.cells: dict[str, CMCell] = {}
        self.vnodes: dict[Fid, Vnode] = {}
        self.endpoint = endpoint
        self._owns_endpoint = endpoint is None
        self._local_cell = local_cell
        self.callbacks = None
        self.store = None
        self._data_opts = dict(chunk_size=chunk_size, memory_bytes=memory_cache,
                               readahead=readahead, flush_size=flush_size)
        self.data = None
        #: called with a Vnode whose cached contents or attributes became
        #: invalid (the FUSE layer drops the kernel's copies)
        self.on_invalidate = None
        self._identities: dict = {}
        self.counters = {"breaks": 0, "resets": 0, "fetch_status": 0, "bulk_status": 0,
                         "busy_waits": 0, "failovers": 0, "vl_refreshes": 0}

    # ------------------------------------------------------------------ life
    async def start(self) -> "CacheManager":
        if self.endpoint is None:
            from ..rx.endpoint import Endpoint
            self.endpoint = await Endpoint.open("0.0.0.0", 0)
        if self.cache_dir:
            from .store import ChunkStore
            self.store = ChunkStore(self.cache_dir, self.cache_size, self.chunk_size)
        from .data import DataPath
        self.data = DataPath(self, store=self.store, **self._data_opts)
        from .callback import CallbackService
        self.callbacks = CallbackService(cell=self.local_cell or "",
                                         on_break=self._on_break, on_reset=self._on_reset)
        self.callbacks.install(self.endpoint)
        return self

    async def close(self) -> None:
        for v in list(self.vnodes.values()):
            if v.wb is not None and v.wb.dirty():
                try:
                    await self.data.flush(v, Cred(getattr(v.wb, "uid", 0)))
                except Exception as e:   # noqa: BLE001 - reported, the rest still closes
                    log.error("%s: data not stored at close: %s", v.fid, e)
        if self.data is not None:
            await self.data.close()
        if self.store is not None:
            self.store.close()
            self.store = None
        if self._owns_endpoint and self.endpoint is not None:
            await self.endpoint.close()
            self.endpoint = None

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc):
        await self.close()

    # ----------------------------------------------------------------- cells
    @property
    def local_cell(self) -> str | None:
        if self._local_cell is None:
            from ..cell import local_cell_name
            # the cache manager's cell is ThisCell's (AFSCELL is for tools)
            env = {k: v for k, v in os.environ.items() if k != "AFSCELL"}
            try:
                self._local_cell = local_cell_name(self.confdir, client_conf=self.client_conf,
                                                   env=env)[0]
            except ConfigError:
                self._local_cell = None
        return self._local_cell

    def known_cells(self) -> list[str]:
        """The cells configured (CellServDB, client.conf) and those opened."""
        names = set(self.cells)
        from ..cell.cell import Cell
        try:
            c = Cell(self.local_cell, confdir=self.confdir, client_conf=self.client_conf) \
                if self.local_cell else None
        except ConfigError:
            c = None
        if c is not None:
            db = c.cellservdb
            if db is not None:
                names.update(n.lower() for n in db.cells())
            cc = c.client_conf
            if cc is not None:
                names.update(n.lower() for n in getattr(cc, "cells", {}) or {})
        if self.local_cell:
            names.add(self.local_cell.lower())
        return sorted(names)

    def cell(self, name: str) -> CMCell:
        """Open a cell (configuration, then the DNS).  ENOENT if unknown."""
        key = name.lower()
        c = self.cells.get(key)
        if c is not None:
            return c
        from ..cell.cell import Cell
        from ..ubik import UbikClient
        try:
            conf = Cell(name, confdir=self.confdir, client_conf=self.client_conf,
                        **({"dns": self.dns} if self.dns is not None else {}))
            servers = conf.servers("vlserver")
        except ConfigError as e:
            raise FSError(errno.ENOENT, str(e)) from None
        except Exception as e:           # noqa: BLE001 - a DNS failure: no such cell here
            raise FSError(errno.ENOENT, "cell %s: %s" % (name, e)) from None
        if not servers:
            raise FSError(errno.ENOENT, "no vlservers for cell %s" % name)
        vl = UbikClient(servers, 52, None, _DeadTimeView(self.endpoint, 30.0))
        real = conf.name.lower()
        c = self.cells.get(real)
        if c is None:
            c = CMCell(real, conf, VolumeTable(real, vl, clock=self.clock), vl)
            self.cells[real] = c
        if key != real:
            c.aliases.add(key)
            self.cells[key] = c
        return c

    # --------------------------------------------------------------- volumes
    async def volume(self, cell: str, name: str, vtype: int | None = None) -> Volume:
        c = self.cell(cell)
        try:
            return await c.volumes.volume(name, vtype)
        except RemoteAbort as e:
            if e.code == VL_NOENT:
                raise FSError(errno.ENODEV, "no volume %s in cell %s" % (name, cell)) from None
            raise FSError(errmap.exc_to_errno(e), "VLDB: %s" % e) from None
        except AFSError as e:
            if e.code == VL_NOENT:
                raise FSError(errno.ENODEV, str(e)) from None
            raise FSError(errno.EIO, "cell %s: VLDB unreachable: %s" % (cell, e)) from None

    def vnode(self, fid: Fid, volume: Volume) -> Vnode:
        v = self.vnodes.get(fid)
        if v is None:
            v = Vnode(fid, volume)
            self.vnodes[fid] = v
        elif v.volume is not volume and volume is not None:
            v.volume = volume
        return v

    async def volume_root(self, cell: str, name: str, vtype: int | None = None,
                          cred: Cred | None = None) -> Vnode:
        vol = await self.volume(cell, name, vtype)
        v = self.vnode(Fid(vol.cell, vol.vid, 1, 1), vol)
        if cred is not None:
            await self.validate(v, cred)
        return v

    # ---------------------------------------------------------------- calls
    async def call(self, vol: Volume, cred: Cred, op, *, what: str = "call",
                   retry_comm: bool = True):
        """Run ``op(conn)`` against the volume's sites; returns (result, server)."""
        sec = self.tokens.security(cred, vol.cell)
        cell = self.cells.get(vol.cell)
        refreshed = False
        waited = 0.0
        last_err: BaseException | None = None
        tried: set = set()
        while True:
            now = self.clock()
            addrs = vol.site_addrs()
            servers = self.servers.order([self.servers.get(a, cell=vol.cell) for a in addrs], now)
            servers = [s for s in servers if s.addr not in tried]
            if not servers:
                if not refreshed and cell is not None:
                    refreshed = True
                    tried.clear()
                    vol = await self._relocate(cell, vol)
                    continue
                if last_err is not None and isinstance(last_err, RemoteAbort) and \
                        last_err.code in errmap.VOLUME_GONE:
                    raise FSError(errno.ENODEV, "volume %s: no site has it (%s)"
                                  % (vol.name, last_err)) from None
                if last_err is not None:
                    raise FSError(errno.EIO, "volume %s: no file server answers (%s)"
                                  % (vol.name, last_err)) from None
                raise FSError(errno.ENODEV, "volume %s has no sites" % vol.name)
            srv = servers[0]
            conn = srv.connection(self.endpoint, sec, self.dead_time, self.idle_dead)
            try:
                result = await op(conn)
            except RemoteAbort as e:
                code = e.code
                if code in errmap.VOLUME_BUSY:
                    if waited >= self.busy_timeout:
                        raise FSError(errno.EWOULDBLOCK, "volume %s busy for %d s"
                                      % (vol.name, waited)) from None
                    if waited == 0:
                        log.info("waiting for busy volume %s on %s (%s)", vol.name, srv.addr, e)
                    self.counters["busy_waits"] += 1
                    await asyncio.sleep(self.busy_interval)
                    waited += self.busy_interval
                    continue
                if code in errmap.VOLUME_GONE:
                    log.info("volume %s: %s says %s; looking it up again", vol.name, srv.addr, e)
                    vol.gone.add(srv.addr)
                    tried.add(srv.addr)
                    last_err = e
                    if not refreshed and cell is not None:
                        refreshed = True
                        vol = await self._relocate(cell, vol)
                        if code == errmap.VMOVED:
                            # moved: the new record's sites are all worth a try
                            vol.gone.discard(srv.addr)
                            tried.clear()
                    continue
                if code in _COMM_CODES:
                    self._server_failed(srv, e)
                    tried.add(srv.addr)
                    last_err = e
                    if not retry_comm:
                        raise FSError(errno.EIO, "%s on %s failed: %s" % (what, srv.addr, e)) \
                            from None
                    self.counters["failovers"] += 1
                    continue
                srv.mark_up()
                err = errmap.code_to_errno(code)
                if err == errno.EIO:
                    log.error("%s: %s answered %s", what, srv.addr, e)
                raise FSError(err, "%s: %s" % (what, e)) from None
            except LocalAbort as e:
                self._server_failed(srv, e)
                tried.add(srv.addr)
                last_err = e
                if not retry_comm:
                    raise FSError(errno.EIO, "%s on %s failed: %s" % (what, srv.addr, e)) from None
                self.counters["failovers"] += 1
                continue
            except DecodeError as e:
                log.error("%s from %s: undecodable reply: %s", what, srv.addr, e)
                raise FSError(errno.EIO, "%s: bad reply from %s: %s" % (what, srv.addr, e)) \
                    from None
            srv.mark_up()
            return result, srv

    def _server_failed(self, srv, e) -> None:
        if not srv.is_down(self.clock()):
            log.warning("file server %s is not answering (%s)", srv.addr, e)
        srv.mark_down(self.clock(), self.servers.down_time)

    async def _relocate(self, cell: CMCell, vol: Volume) -> Volume:
        self.counters["vl_refreshes"] += 1
        try:
            return await cell.volumes.refresh(vol)
        except RemoteAbort as e:
            if e.code == VL_NOENT:
                raise FSError(errno.ENODEV, "volume %s no longer exists" % vol.name) from None
            raise FSError(errno.EIO, "VLDB: %s" % e) from None
        except AFSError as e:
            raise FSError(errno.EIO, "VLDB unreachable: %s" % e) from None

    # ------------------------------------------------------- status, callbacks
    def status_from_reply(self, v: Vnode, afs_status, server=None) -> Status:
        """Take a status a server sent for ``v``; a new data version drops
        what was cached of the old one."""
        if getattr(afs_status, "errorCode", 0):
            raise FSError(errmap.code_to_errno(afs_status.errorCode),
                          "%s: status error %d" % (v.fid, afs_status.errorCode))
        st = Status.from_afs(afs_status)
        old = v.status
        v.status = st
        if old is not None and old.dv != st.dv:
            v.dir = None
            v.dir_dv = -1
            v.mount_target = None
            lin = v.lineage.get(st.dv)
            if lin is None or lin[0] != old.dv:
                self.data.forget_file(v)
                if self.on_invalidate is not None:
                    self.on_invalidate(v, data=True)
        return st

    def note_callback(self, v: Vnode, cb, server, started: float) -> None:
        """Record a callback promise (AFSCallBack) from ``server``."""
        if cb is None or server is None:
            return
        if cb.CallBackType == 3 or cb.ExpirationTime <= 0:      # dropped / none
            v.break_callback()
            return
        v.set_callback(server, started + cb.ExpirationTime)

    def note_access(self, v: Vnode, cred: Cred) -> None:
        v.access[cred.uid] = v.status.caller_access

    def _check_identity(self, cred: Cred, cell: str) -> None:
        """Rights learnt for a uid hold only while it keeps the same token:
        a new token, an unlog or an expiry forgets them."""
        sec = self.tokens.security(cred, cell)
        key = (cred.uid, cell)
        old = self._identities.get(key, _UNSET)
        if old is not sec:
            if old is not _UNSET:
                self.forget_access(cred.uid)
            self._identities[key] = sec

    def forget_access(self, uid: int) -> None:
        for v in self.vnodes.values():
            v.access.pop(uid, None)

    async def validate(self, v: Vnode, cred: Cred, *, force: bool = False) -> Status:
        """The vnode's status, asking the server unless a callback holds."""
        self._check_identity(cred, v.fid.cell)
        now = self.clock()
        if not force and v.cb_valid(now) and cred.uid in v.access:
            return v.status
        async with v.lock:
            now = self.clock()
            if not force and v.cb_valid(now) and cred.uid in v.access:
                return v.status
            afsint = _afsint()
            fid = v.fid.afs()
            started = self.clock()
            res, server = await self.call(v.volume, cred,
                                          lambda c: afsint.RXAFS_FetchStatus(c, fid),
                                          what="FetchStatus")
            self.counters["fetch_status"] += 1
            if not v.cb_valid(now) and v.access:
                v.access.clear()       # rights learnt under an expired promise
            st = self.status_from_reply(v, res.OutStatus, server)
            self.note_callback(v, res.CallBack, server, started)
            self.note_access(v, cred)
            return st

    async def rights(self, v: Vnode, cred: Cred) -> int:
        """CallerAccess of ``cred`` on ``v``."""
        await self.validate(v, cred)
        r = v.access.get(cred.uid)
        if r is None:
            await self.validate(v, cred, force=True)
            r = v.access.get(cred.uid, 0)
        return r

    async def check_rights(self, v: Vnode, cred: Cred, need: int, what: str) -> None:
        if (await self.rights(v, cred)) & need != need:
            raise FSError(errno.EACCES, "%s: no %s right on %s" % (what, _right_name(need), v.fid))

    async def bulk_status(self, dirv: Vnode, fids: list[Fid], cred: Cred) -> None:
        """Status (and callbacks) for many vnodes of one volume, 50 a call
        (InlineBulkStatus); per-entry errors leave that vnode unvalidated."""
        afsint = _afsint()
        todo = [f for f in fids if not self.vnode(f, dirv.volume).cb_valid(self.clock())
                or cred.uid not in self.vnodes[f].access]

        async def one(batch):
            arr = [f.afs() for f in batch]
            started = self.clock()
            res, server = await self.call(dirv.volume, cred,
                                          lambda c: afsint.RXAFS_InlineBulkStatus(c, arr),
                                          what="InlineBulkStatus")
            self.counters["bulk_status"] += 1
            stats, cbs = res.StatArray, res.CBArray
            for i, f in enumerate(batch):
                if i >= len(stats):
                    break
                s = stats[i]
                if s.errorCode:
                    continue
                v = self.vnode(f, dirv.volume)
                self.status_from_reply(v, s, server)
                if i < len(cbs):
                    self.note_callback(v, cbs[i], server, started)
                self.note_access(v, cred)

        batches = [todo[i:i + 50] for i in range(0, len(todo), 50)]
        sem = asyncio.Semaphore(4)

        async def guarded(b):
            async with sem:
                await one(b)

        await asyncio.gather(*(guarded(b) for b in batches))

    # ------------------------------------------------------------- callbacks
    def _on_break(self, broken) -> None:
        self.counters["breaks"] += len(broken)
        for b in broken:
            vid, vno, uniq = b.fid
            srv = self.servers.by_peer(b.server[0])
            cells = srv.cells if srv is not None else set(self.cells)
            if vno == 0:
                for cname in cells:
                    c = self.cells.get(cname)
                    vol = c.volumes.cached(vid) if c else None
                    if vol is not None:
                        vol.epoch += 1
                        for v in self.vnodes.values():
                            if v.volume is vol:
                                v.access.clear()
                                if self.on_invalidate is not None:
                                    self.on_invalidate(v, data=False)
                continue
            for cname in cells:
                v = self.vnodes.get(Fid(cname, vid, vno, uniq))
                if v is not None:
                    v.break_callback()
                    if self.on_invalidate is not None:
                        self.on_invalidate(v, data=False)

    def _on_reset(self, peer) -> None:
        srv = self.servers.by_peer(peer[0])
        if srv is None:
            return
        self.counters["resets"] += 1
        srv.epoch += 1
        for v in self.vnodes.values():
            if v.cb_server is srv:
                v.access.clear()
                if self.on_invalidate is not None:
                    self.on_invalidate(v, data=False)

    # -------------------------------------------------------- directories
    async def read_dir(self, v: Vnode, cred: Cred):
        """The parsed contents of directory ``v``."""
        st = await self.validate(v, cred)
        if st.type != FT_DIR:
            raise FSError(errno.ENOTDIR, "%s is not a directory" % v.fid)
        await self.check_rights(v, cred, PRSFS_LOOKUP, "lookup")
        if v.dir is not None and v.dir_dv == st.dv:
            return v.dir
        from . import dirfmt
        for _ in range(4):
            st = await self.validate(v, cred)
            data = await self.data.read(v, 0, st.length, cred)
            if v.status.dv != st.dv:
                continue
            try:
                d = dirfmt.parse(data)
            except DecodeError as e:
                log.error("directory %s (dv %d) does not parse: %s", v.fid, st.dv, e)
                raise FSError(errno.EIO, "directory %s is damaged: %s" % (v.fid, e)) from None
            v.dir, v.dir_dv = d, st.dv
            return d
        raise FSError(errno.EIO, "directory %s keeps changing" % v.fid)

    def _names(self, name: bytes) -> list[bytes]:
        if b"@sys" in name:
            return [name.replace(b"@sys", s) for s in self.sysnames]
        return [name]

    async def lookup(self, dirv: Vnode, name: bytes, cred: Cred) -> Vnode:
        """The vnode ``name`` names in ``dirv`` (not crossing mount points)."""
        if name == b"." or name == b"":
            return dirv
        d = await self.read_dir(dirv, cred)
        if name == b".." and dirv.parent is not None and dirv.fid.vnode == 1:
            return dirv.parent
        for n in self._names(name):
            hit = d.lookup(n)
            if hit is not None:
                vno, uniq = hit
                f = Fid(dirv.fid.cell, dirv.fid.volume, vno, uniq)
                if f == dirv.fid:
                    return dirv
                return self.vnode(f, dirv.volume)
        raise FSError(errno.ENOENT, "%s: no entry %r" % (dirv.fid, name.decode(errors="replace")))

    async def readdir(self, dirv: Vnode, cred: Cred) -> list[tuple[bytes, Fid]]:
        d = await self.read_dir(dirv, cred)
        return [(n, Fid(dirv.fid.cell, dirv.fid.volume, vno, uniq)) for n, vno, uniq in d.entries()]

    async def readlink(self, v: Vnode, cred: Cred) -> bytes:
        st = await self.validate(v, cred)
        if not st.is_symlink:
            raise FSError(errno.EINVAL, "%s is not a symlink" % v.fid)
        if v.link is not None and v.link_dv == st.dv:
            return v.link
        await self.check_rights(v, cred, PRSFS_READ, "readlink")
        data = await self.data.read(v, 0, min(st.length, 4096), cred)
        v.link, v.link_dv = data, st.dv
        return data

    async def mount_point(self, v: Vnode, cred: Cred):
        """The MountPoint ``v`` is, or None."""
        st = await self.validate(v, cred)
        if not st.maybe_mountpoint:
            return None
        from . import mountpoint
        return mountpoint.parse(await self.readlink(v, cred))

    async def cross(self, v: Vnode, cred: Cred, parent: Vnode | None = None) -> Vnode:
        """The root of the volume mount point ``v`` names (``v`` if it is
        not a mount point)."""
        from . import mountpoint
        mp = await self.mount_point(v, cred)
        if mp is None:
            return v
        if v.mount_target is not None and v.mount_target.volume.record is not None:
            root = v.mount_target
        else:
            cell = mp.cell or v.fid.cell
            try:
                cname = self.cell(cell).name
            except FSError:
                raise FSError(errno.ENODEV, "mount point %s: unknown cell %s"
                              % (mp.text(), cell)) from None
            root = await self.mount_root(cname, mp, from_read_only=v.volume.read_only,
                                         same_cell=(cname == v.fid.cell))
            v.mount_target = root
        if parent is not None:
            root.parent = parent
        await self.validate(root, cred)
        return root

    async def mount_root(self, cell: str, mp, *, from_read_only: bool, same_cell: bool) -> Vnode:
        from . import mountpoint
        from .volumes import split_volume_name
        base, suffix = split_volume_name(mp.volume)
        if suffix is not None:
            vol = await self.volume(cell, mp.volume)
        else:
            rw = await self.volume(cell, mp.volume)
            t = mountpoint.wanted_type(mp, from_read_only=from_read_only, same_cell=same_cell,
                                       has_ro=rw.record.has(ROVOL) and bool(
                                           rw.record.site_addrs(ROVOL)))
            vol = rw if t == RWVOL else await self.volume(cell, mp.volume, t)
        return self.vnode(Fid(vol.cell, vol.vid, 1, 1), vol)

    # ------------------------------------------------------------ mutations
    def _dir_edit(self, dirv: Vnode, old_dv: int, new_status: Status, edit) -> None:
        """Apply our own change to the cached directory when the server's
        new version is exactly the next one; else it is fetched anew."""
        d = dirv.dir
        if d is not None and dirv.dir_dv == old_dv and new_status.dv == old_dv + 1:
            try:
                edit(d)
                dirv.dir_dv = new_status.dv
                return
            except (ValueError, OSError) as e:
                # our copy and the server's disagree: fetch it anew
                log.info("directory %s: local edit failed (%s); refetching", dirv.fid, e)
        dirv.dir = None
        dirv.dir_dv = -1

    async def _mutate(self, dirv: Vnode, cred: Cred, op, what: str):
        """Run a directory-changing call; returns (result, server, old dir dv)."""
        await self.validate(dirv, cred)
        old_dv = dirv.dv
        started = self.clock()
        res, server = await self.call(dirv.volume, cred, op, what=what, retry_comm=False)
        return res, server, old_dv, started

    def _take_dir_status(self, dirv: Vnode, afs_status, server, old_dv, edit) -> None:
        d, ddv = dirv.dir, dirv.dir_dv
        st = Status.from_afs(afs_status)
        # keep the parsed directory across the status update if we can edit it
        keep = d is not None and ddv == old_dv and st.dv == old_dv + 1
        self.status_from_reply(dirv, afs_status, server)
        if keep:
            dirv.dir, dirv.dir_dv = d, old_dv
        self._dir_edit(dirv, old_dv, st, edit)

    def _check_name(self, name: bytes) -> str:
        if not name or b"/" in name or b"\0" in name or name in (b".", b".."):
            raise FSError(errno.EINVAL, "bad name %r" % name)
        if len(name) > 255:
            raise FSError(errno.ENAMETOOLONG, "name longer than 255 bytes")
        return name.decode("utf-8", "surrogateescape")

    def _store_status(self, mode=None, mtime=None, owner=None, group=None):
        from .types import AFS_SETGROUP, AFS_SETMODE, AFS_SETMODTIME, AFS_SETOWNER
        afsint = _afsint()
        s = afsint.AFSStoreStatus()
        if mtime is not None:
            s.Mask |= AFS_SETMODTIME
            s.ClientModTime = int(mtime) & 0xFFFFFFFF
        if mode is not None:
            s.Mask |= AFS_SETMODE
            s.UnixModeBits = mode & 0o7777
        if owner is not None:
            s.Mask |= AFS_SETOWNER
            s.Owner = owner
        if group is not None:
            s.Mask |= AFS_SETGROUP
            s.Group = group
        return s

    async def _create_like(self, dirv, name, cred, call_name, mk):
        afsint = _afsint()
        sname = self._check_name(name)
        fid = dirv.fid.afs()
        res, server, old_dv, started = await self._mutate(
            dirv, cred, lambda c: mk(afsint, c, fid, sname), call_name)
        nf = Fid(dirv.fid.cell, dirv.fid.volume, res.OutFid.Vnode, res.OutFid.Unique)
        self._take_dir_status(dirv, res.OutDirStatus, server, old_dv,
                              lambda d: d.add(name, nf.vnode, nf.unique))
        nv = self.vnode(nf, dirv.volume)
        self.status_from_reply(nv, res.OutFidStatus, server)
        cb = getattr(res, "CallBack", None)
        self.note_callback(nv, cb, server, started)
        nv.access[cred.uid] = nv.status.caller_access
        dirv.access[cred.uid] = dirv.status.caller_access
        return nv

    async def create(self, dirv: Vnode, name: bytes, mode: int, cred: Cred) -> Vnode:
        ss = self._store_status(mode=mode, mtime=time.time())
        return await self._create_like(dirv, name, cred, "CreateFile",
                                       lambda a, c, f, n: a.RXAFS_CreateFile(c, f, n, ss))

    async def mkdir(self, dirv: Vnode, name: bytes, mode: int, cred: Cred) -> Vnode:
        ss = self._store_status(mode=mode, mtime=time.time())
        return await self._create_like(dirv, name, cred, "MakeDir",
                                       lambda a, c, f, n: a.RXAFS_MakeDir(c, f, n, ss))

    async def symlink(self, dirv: Vnode, name: bytes, target: bytes, cred: Cred,
                      mode: int = 0o755) -> Vnode:
        ss = self._store_status(mode=mode, mtime=time.time())
        text = target.decode("utf-8", "surrogateescape")
        if len(target) >= 1024:
            raise FSError(errno.ENAMETOOLONG, "symlink text longer than 1023 bytes")
        return await self._create_like(dirv, name, cred, "Symlink",
                                       lambda a, c, f, n: a.RXAFS_Symlink(c, f, n, text, ss))

    async def mkmount(self, dirv: Vnode, name: bytes, mp, cred: Cred) -> Vnode:
        """Make mount point ``name`` -> MountPoint ``mp`` (mode 0644)."""
        return await self.symlink(dirv, name, mp.text().encode(), cred, mode=0o644)

    async def _remove_like(self, dirv, name, cred, call_name, rm):
        afsint = _afsint()
        sname = self._check_name(name)
        victim = None
        try:
            victim = await self.lookup(dirv, name, cred)
        except FSError:
            pass
        fid = dirv.fid.afs()
        res, server, old_dv, _ = await self._mutate(
            dirv, cred, lambda c: rm(afsint, c, fid, sname), call_name)
        dir_status = res.OutDirStatus if hasattr(res, "OutDirStatus") else res.OutStatus
        self._take_dir_status(dirv, dir_status, server, old_dv, lambda d: d.remove(name))
        dirv.access[cred.uid] = dirv.status.caller_access
        if victim is not None:
            victim.break_callback()           # its link count changed
            if self.on_invalidate is not None:
                self.on_invalidate(victim, data=False)
        return victim

    async def unlink(self, dirv: Vnode, name: bytes, cred: Cred):
        return await self._remove_like(dirv, name, cred, "RemoveFile",
                                       lambda a, c, f, n: a.RXAFS_RemoveFile(c, f, n))

    async def rmdir(self, dirv: Vnode, name: bytes, cred: Cred):
        try:
            return await self._remove_like(dirv, name, cred, "RemoveDir",
                                           lambda a, c, f, n: a.RXAFS_RemoveDir(c, f, n))
        except FSError as e:
            if e.errno == errno.EEXIST:   # the file server's word for "not empty"
                raise FSError(errno.ENOTEMPTY, e.strerror) from None
            raise

    async def rename(self, odir: Vnode, oname: bytes, ndir: Vnode, nname: bytes,
                     cred: Cred) -> None:
        afsint = _afsint()
        so, sn = self._check_name(oname), self._check_name(nname)
        if odir.volume is not ndir.volume:
            raise FSError(errno.EXDEV, "rename across volumes")
        moved = await self.lookup(odir, oname, cred)
        replaced = None
        try:
            replaced = await self.lookup(ndir, nname, cred)
        except FSError:
            pass
        await self.validate(ndir, cred)
        o_dv, n_dv = odir.dv, ndir.dv
        of, nf = odir.fid.afs(), ndir.fid.afs()
        res, server, _, _ = await self._mutate(
            odir, cred, lambda c: afsint.RXAFS_Rename(c, of, so, nf, sn), "Rename")
        mv = (moved.fid.vnode, moved.fid.unique)
        if odir is ndir:
            self._take_dir_status(odir, res.OutNewDirStatus, server, o_dv,
                                  lambda d: d.rename(oname, nname))
        else:
            self._take_dir_status(odir, res.OutOldDirStatus, server, o_dv,
                                  lambda d: d.remove(oname))

            def edit_new(d):
                if replaced is not None:
                    d.remove(nname)
                d.add(nname, *mv)
            self._take_dir_status(ndir, res.OutNewDirStatus, server, n_dv, edit_new)
        for v in (odir, ndir):
            v.access[cred.uid] = v.status.caller_access
        # a moved directory's '..' changed; a replaced file lost a link
        stale = [replaced] if replaced is not None and replaced is not moved else []
        if moved.status is not None and moved.status.is_dir:
            stale.append(moved)
        for v in stale:
            v.break_callback()
            v.dir, v.dir_dv = None, -1
            if self.on_invalidate is not None:
                self.on_invalidate(v, data=v is moved)

    async def link(self, dirv: Vnode, name: bytes, target: Vnode, cred: Cred) -> Vnode:
        afsint = _afsint()
        sname = self._check_name(name)
        if target.volume is not dirv.volume:
            raise FSError(errno.EXDEV, "hard link across volumes")
        fid, tf = dirv.fid.afs(), target.fid.afs()
        res, server, old_dv, _ = await self._mutate(
            dirv, cred, lambda c: afsint.RXAFS_Link(c, fid, sname, tf), "Link")
        self._take_dir_status(dirv, res.OutDirStatus, server, old_dv,
                              lambda d: d.add(name, target.fid.vnode, target.fid.unique))
        self.status_from_reply(target, res.OutFidStatus, server)
        dirv.access[cred.uid] = dirv.status.caller_access
        return target

    async def setattr(self, v: Vnode, cred: Cred, *, mode=None, owner=None, group=None,
                      mtime=None, size=None) -> Status:
        if size is not None:
            await self.data.truncate(v, size, cred)
        if mode is None and owner is None and group is None and mtime is None:
            return await self.validate(v, cred)
        await self.data.flush(v, cred)
        afsint = _afsint()
        ss = self._store_status(mode=mode, mtime=mtime, owner=owner, group=group)
        fid = v.fid.afs()
        res, server = await self.call(v.volume, cred,
                                      lambda c: afsint.RXAFS_StoreStatus(c, fid, ss),
                                      what="StoreStatus")
        st = self.status_from_reply(v, res.OutStatus, server)
        self.note_access(v, cred)
        return st

    # ----------------------------------------------------------- file data
    async def read(self, v: Vnode, off: int, size: int, cred: Cred) -> bytes:
        await self.check_rights(v, cred, PRSFS_READ, "read")
        return await self.data.read(v, off, size, cred)

    async def write(self, v: Vnode, off: int, data: bytes, cred: Cred) -> int:
        if v.volume.read_only:
            raise FSError(errno.EROFS, "read-only volume")
        await self.validate(v, cred)
        n = await self.data.write(v, off, data, cred)
        v.wb.uid = cred.uid
        return n

    async def flush(self, v: Vnode, cred: Cred) -> None:
        await self.data.flush(v, cred)

    def size_of(self, v: Vnode) -> int:
        """The file's length as this client sees it (with unstored writes)."""
        n = v.status.length if v.status else 0
        if v.wb is not None and v.wb.dirty():
            n = max(n, v.wb.length)
        return n

    # --------------------------------------------------- ACLs, volume status
    async def fetch_acl(self, v: Vnode, cred: Cred) -> bytes:
        afsint = _afsint()
        fid = v.fid.afs()
        res, server = await self.call(v.volume, cred, lambda c: afsint.RXAFS_FetchACL(c, fid),
                                      what="FetchACL")
        self.status_from_reply(v, res.OutStatus, server)
        return res.AccessList if isinstance(res.AccessList, bytes) else bytes(res.AccessList)

    async def store_acl(self, v: Vnode, acl: bytes, cred: Cred) -> None:
        afsint = _afsint()
        fid = v.fid.afs()
        if v.volume.read_only:
            raise FSError(errno.EROFS, "read-only volume")
        if not acl.endswith(b"\0"):
            acl += b"\0"             # the file server parses a C string, as fs sends it
        res, server = await self.call(v.volume, cred,
                                      lambda c: afsint.RXAFS_StoreACL(c, fid, acl),
                                      what="StoreACL")
        self.status_from_reply(v, res.OutStatus, server)
        v.access.clear()                        # everyone's rights may have changed
        if self.on_invalidate is not None:
            self.on_invalidate(v, data=False)

    async def volume_status(self, v: Vnode, cred: Cred):
        afsint = _afsint()
        vid = v.fid.volume
        res, _ = await self.call(v.volume, cred,
                                 lambda c: afsint.RXAFS_GetVolumeStatus(c, vid),
                                 what="GetVolumeStatus")
        return res

    async def set_volume_status(self, v: Vnode, cred: Cred, *, maxquota=None, minquota=None,
                                name=None, offline_msg=None, motd=None) -> None:
        afsint = _afsint()
        s = afsint.AFSStoreVolumeStatus()
        if minquota is not None:
            s.Mask |= 1
            s.MinQuota = minquota
        if maxquota is not None:
            s.Mask |= 2
            s.MaxQuota = maxquota
        vid = v.fid.volume
        await self.call(v.volume, cred, lambda c: afsint.RXAFS_SetVolumeStatus(
            c, vid, s, name or "", offline_msg or "", motd or ""), what="SetVolumeStatus")

    # ---------------------------------------------------------------- locks
    async def set_lock(self, v: Vnode, write: bool, cred: Cred) -> None:
        afsint = _afsint()
        fid = v.fid.afs()
        await self.call(v.volume, cred, lambda c: afsint.RXAFS_SetLock(c, fid, 1 if write else 0),
                        what="SetLock")

    async def extend_lock(self, v: Vnode, cred: Cred) -> None:
        afsint = _afsint()
        fid = v.fid.afs()
        await self.call(v.volume, cred, lambda c: afsint.RXAFS_ExtendLock(c, fid),
                        what="ExtendLock")

    async def release_lock(self, v: Vnode, cred: Cred) -> None:
        afsint = _afsint()
        fid = v.fid.afs()
        await self.call(v.volume, cred, lambda c: afsint.RXAFS_ReleaseLock(c, fid),
                        what="ReleaseLock")

    # ---------------------------------------------------------- flushing
    def flush_vnode(self, v: Vnode) -> None:
        """fs flush: forget what is cached of ``v`` (not its dirty data)."""
        v.break_callback()
        v.dir, v.dir_dv, v.link, v.link_dv = None, -1, None, -1
        self.data.forget_file(v)
        if self.store is not None:
            self.store.invalidate(self.data.file_key(v))
        if self.on_invalidate is not None:
            self.on_invalidate(v, data=True)

    def flush_volume(self, vol: Volume) -> None:
        for v in list(self.vnodes.values()):
            if v.volume is vol or v.fid.volume == vol.vid:
                self.flush_vnode(v)


_UNSET = object()


def _right_name(bits: int) -> str:
    from .types import rights_string
    return rights_string(bits) or "%#x" % bits


class _DeadTimeView:
    """An endpoint view whose connections carry a given Rx dead time."""

    def __init__(self, endpoint, dead_time: float):
        self._ep = endpoint
        self._dead = dead_time

    def connection(self, addr, service_id, security=None, **kw):
        kw.setdefault("dead_time", self._dead)
        return self._ep.connection(addr, service_id, security, **kw)
