"""The FUSE filesystem (pyfuse3 operations) on top of the cache manager.

Inodes.  Each FUSE inode is a :class:`Node`:

* the dynamic root (``/afs``): one entry per known cell, each also as
  ``.cell`` (the read-write path), and ``@cell``/``.@cell`` symlinks to the
  local cell, as kAFS's dynamic root has;
* a vnode of a volume (file, directory, symlink);
* a mount point: presented as the directory it leads to (kAFS's
  automount, OpenAFS's fakestat), crossed when first used.  The mount point
  keeps its own inode number, so one volume mounted in two places is two
  directories to the kernel, never an aliased one.

Callers.  Each request carries the caller's uid; the cache manager uses
that uid's token (creds.py).  Opened files remember their opener's uid for
reads and writes, as a kernel cache manager uses the opener's credentials.

Errors.  :class:`~kafs.client.errmap.FSError` becomes its errno; anything
else is logged (one line; the traceback only with KAFS_DEBUG) and becomes
EIO for that request, and the mount goes on serving.

Extended attributes: ``afs.acl`` (read/write, the ACL text as FetchACL
gives it), ``afs.cell``, ``afs.fid`` (``vid:vnode:unique`` in hex),
``afs.volume`` (kAFS's names), and ``kafs.control`` (the path of the mount's
control socket, which ``fs`` uses; not listed).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import stat
import time
from dataclasses import dataclass, field

import pyfuse3

from ..creds import Cred
from ..errmap import FSError
from ..types import FT_DIR, PRSFS_INSERT, PRSFS_LOOKUP, PRSFS_READ, PRSFS_WRITE, ROVOL, RWVOL, Fid

log = logging.getLogger("kafs.client.fuse")

K_DYNROOT = "dynroot"
K_CELL = "cell"          # /afs/<cell> or /afs/.<cell>
K_LINK = "dynlink"       # /afs/@cell
K_VNODE = "vnode"
K_MOUNT = "mount"

XATTRS = (b"afs.acl", b"afs.cell", b"afs.fid", b"afs.volume")
CONTROL_XATTR = b"kafs.control"


@dataclass(eq=False)
class Node:
    ino: int
    kind: str
    vnode: object = None          # K_VNODE: the vnode; K_MOUNT: the mount point vnode
    target: object = None         # K_MOUNT / K_CELL: the volume root it leads to
    cell: str = ""                # K_CELL / K_LINK
    rw: bool = False              # K_CELL: the .cell (read-write) entry
    link: bytes = b""             # K_LINK: the text
    parent: int = 1
    lookups: int = 0


@dataclass
class OpenFile:
    node: Node
    vnode: object
    cred: Cred
    writable: bool


@dataclass
class OpenDir:
    node: Node
    cred: Cred
    entries: list = field(default_factory=list)


def _now_ns() -> int:
    return time.time_ns()


class AfsOperations(pyfuse3.Operations):
    """pyfuse3 operations for a :class:`~kafs.client.manager.CacheManager`.

    ``root``: None for the dynamic root, else (cell, volume name) mounted
    at the top.  ``control_path``: the control socket's path (for the
    ``kafs.control`` attribute).
    """

    supports_dot_lookup = True
    enable_writeback_cache = False

    def __init__(self, cm, *, root=None, attr_timeout: float = 1.0,
                 entry_timeout: float = 1.0, control_path: str = ""):
        super().__init__()
        self.cm = cm
        self.attr_timeout = attr_timeout
        self.entry_timeout = entry_timeout
        self.control_path = control_path
        self.nodes: dict[int, Node] = {}
        self._by_key: dict = {}
        self._next_ino = 2
        self._fh: dict[int, object] = {}
        self._next_fh = 1
        self._dyn_entries: list[tuple[bytes, int]] | None = None
        self._statfs_cache = None
        self._inval_pending: set[int] = set()
        self._inval_task = None
        self.mounted = False
        root_node = Node(pyfuse3.ROOT_INODE, K_DYNROOT if root is None else K_CELL)
        if root is not None:
            root_node.cell, root_node.link = root[0], root[1].encode()
        self.nodes[pyfuse3.ROOT_INODE] = root_node
        cm.on_invalidate = self._invalidate_vnode
        self.counters = {"requests": 0, "errors": 0, "invalidations": 0}

    # ------------------------------------------------------------ inodes
    def _node_for(self, key, make) -> Node:
        ino = self._by_key.get(key)
        if ino is not None:
            return self.nodes[ino]
        n = make(self._next_ino)
        self._next_ino += 1
        self.nodes[n.ino] = n
        self._by_key[key] = n.ino
        return n

    def _vnode_node(self, v, parent: int) -> Node:
        kind = K_MOUNT if (v.status is not None and v.status.maybe_mountpoint) else K_VNODE
        n = self._node_for(("v", v.fid), lambda ino: Node(ino, kind, vnode=v, parent=parent))
        n.kind = kind if n.kind in (K_VNODE, K_MOUNT) else n.kind
        return n

    def _cell_node(self, cell: str, rw: bool) -> Node:
        return self._node_for(("c", cell, rw), lambda ino: Node(ino, K_CELL, cell=cell, rw=rw))

    def _link_node(self, name: bytes, text: bytes) -> Node:
        return self._node_for(("l", name), lambda ino: Node(ino, K_LINK, link=text))

    def _get(self, ino: int) -> Node:
        n = self.nodes.get(ino)
        if n is None:
            raise FSError(errno.ESTALE, "inode %d is not known" % ino)
        return n

    @staticmethod
    def _cred(ctx) -> Cred:
        return Cred(ctx.uid, ctx.gid, ctx.pid)

    async def _dir_vnode(self, n: Node, cred: Cred):
        """The vnode to list or look up in for node ``n`` (crossing into
        the volume a mount point or cell entry leads to)."""
        if n.kind == K_VNODE:
            return n.vnode
        if n.kind == K_MOUNT:
            parent = self.nodes.get(n.parent)
            pv = parent.vnode if parent is not None and parent.kind == K_VNODE else None
            n.target = await self.cm.cross(n.vnode, cred, parent=pv)
            return n.target
        if n.kind == K_CELL:
            if n.target is None or n.target.volume.record is None:
                n.target = await self._cell_root(n, cred)
            await self.cm.validate(n.target, cred)
            return n.target
        raise FSError(errno.ENOTDIR, "not a directory")

    async def _cell_root(self, n: Node, cred: Cred):
        from ..mountpoint import MountPoint
        vol = n.link.decode() if n.link else "root.cell"
        mp = MountPoint("%" if n.rw else "#", n.cell, vol)
        cname = self.cm.cell(n.cell).name
        # /afs/<cell> is a cellular mount point from the dynamic root: the
        # read-only volume when there is one
        return await self.cm.mount_root(cname, mp, from_read_only=True, same_cell=False)

    # --------------------------------------------------------- attributes
    def _attr_from(self, ino: int, st, size: int | None = None) -> pyfuse3.EntryAttributes:
        a = pyfuse3.EntryAttributes()
        a.st_ino = ino
        a.generation = 0
        a.entry_timeout = self.entry_timeout
        a.attr_timeout = self.attr_timeout
        a.st_mode = st.st_mode()
        a.st_nlink = max(1, st.nlink)
        a.st_uid = st.owner
        a.st_gid = st.group
        a.st_rdev = 0
        a.st_size = st.length if size is None else size
        a.st_blksize = 1 << 16
        a.st_blocks = (a.st_size + 511) // 512
        t = st.client_mtime * 1_000_000_000
        a.st_mtime_ns = t
        a.st_ctime_ns = st.server_mtime * 1_000_000_000
        a.st_atime_ns = t
        return a

    def _synthetic(self, ino: int, mode: int, size: int = 0, nlink: int = 2):
        a = pyfuse3.EntryAttributes()
        a.st_ino = ino
        a.entry_timeout = self.entry_timeout
        a.attr_timeout = self.attr_timeout
        a.st_mode = mode
        a.st_nlink = nlink
        a.st_uid = 0
        a.st_gid = 0
        a.st_size = size
        a.st_blksize = 4096
        a.st_blocks = 0
        a.st_mtime_ns = a.st_ctime_ns = a.st_atime_ns = 0
        return a

    def _fakestat(self, n: Node):
        """A mount point not crossed yet: a directory with the mount point's
        own owner and times."""
        st = n.vnode.status
        a = self._attr_from(n.ino, st, size=2048)
        a.st_mode = stat.S_IFDIR | 0o755
        a.st_nlink = 2
        return a

    async def _attr(self, n: Node, cred: Cred, *, cross: bool = True):
        if n.kind == K_DYNROOT:
            return self._synthetic(n.ino, stat.S_IFDIR | 0o755, 4096,
                                   2 + len(self.cm.known_cells()) * 2)
        if n.kind == K_LINK:
            return self._synthetic(n.ino, stat.S_IFLNK | 0o777, len(n.link), 1)
        if n.kind == K_CELL:
            v = await self._dir_vnode(n, cred)
            return self._attr_from(n.ino, v.status)
        if n.kind == K_MOUNT:
            if n.target is not None and n.target.cb_valid(self.cm.clock()):
                return self._attr_from(n.ino, n.target.status)
            if not cross:
                return self._fakestat(n)
            try:
                v = await self._dir_vnode(n, cred)
            except FSError:
                return self._fakestat(n)
            return self._attr_from(n.ino, v.status)
        v = n.vnode
        st = await self.cm.validate(v, cred)
        return self._attr_from(n.ino, st, self.cm.size_of(v))

    # ------------------------------------------------------- error wrapper
    async def _run(self, what: str, coro):
        self.counters["requests"] += 1
        try:
            return await coro
        except FSError as e:
            raise pyfuse3.FUSEError(e.errno) from None
        except pyfuse3.FUSEError:
            raise
        except asyncio.CancelledError:
            raise pyfuse3.FUSEError(errno.EINTR) from None
        except Exception as e:           # noqa: BLE001 - one request fails, the mount goes on
            self.counters["errors"] += 1
            if os.environ.get("KAFS_DEBUG"):
                log.exception("%s failed", what)
            else:
                log.error("%s failed: %s: %s", what, type(e).__name__, e)
            raise pyfuse3.FUSEError(errno.EIO) from None

    # ------------------------------------------------------------ lookups
    async def lookup(self, parent_inode, name, ctx):
        return await self._run("lookup", self._lookup(parent_inode, name, self._cred(ctx)))

    async def _lookup(self, pino, name: bytes, cred: Cred, count: bool = True):
        p = self._get(pino)
        if name == b".":
            n = p
        elif name == b"..":
            n = self._get(p.parent)
        elif p.kind == K_DYNROOT:
            n = self._dyn_lookup(name)
        else:
            dv = await self._dir_vnode(p, cred)
            v = await self.cm.lookup(dv, name, cred)
            if v is dv:
                n = p
            else:
                await self.cm.validate(v, cred)
                if v.status.maybe_mountpoint and await self.cm.mount_point(v, cred) is None:
                    n = self._node_for(("v", v.fid), lambda ino: Node(ino, K_VNODE, vnode=v,
                                                                     parent=pino))
                else:
                    n = self._vnode_node(v, pino)
                n.parent = pino
        a = await self._attr(n, cred)
        if count and name not in (b".", b".."):
            n.lookups += 1
        return a

    def _dyn_names(self) -> list[tuple[bytes, Node]]:
        out = []
        for c in self.cm.known_cells():
            out.append((c.encode(), self._cell_node(c, False)))
            out.append((b"." + c.encode(), self._cell_node(c, True)))
        lc = self.cm.local_cell
        if lc:
            out.append((b"@cell", self._link_node(b"@cell", lc.encode())))
            out.append((b".@cell", self._link_node(b".@cell", b"." + lc.encode())))
        return out

    def _dyn_lookup(self, name: bytes) -> Node:
        for n, node in self._dyn_names():
            if n == name:
                return node
        # an unknown name may be a cell the DNS knows (kAFS looks it up)
        rw = name.startswith(b".")
        cname = (name[1:] if rw else name).decode("utf-8", "replace")
        if not cname or cname.startswith(".") or "/" in cname:
            raise FSError(errno.ENOENT, "no such cell")
        c = self.cm.cell(cname)          # ENOENT when nothing knows it
        return self._cell_node(c.name, rw)

    async def forget(self, inode_list):
        for ino, nlookup in inode_list:
            n = self.nodes.get(ino)
            if n is None or ino == pyfuse3.ROOT_INODE:
                continue
            n.lookups -= nlookup
            # nodes are kept (their numbers stay stable for the mount's life)

    async def getattr(self, inode, ctx):
        return await self._run("getattr", self._attr(self._get(inode), self._cred(ctx)))

    async def readlink(self, inode, ctx):
        return await self._run("readlink", self._readlink(inode, self._cred(ctx)))

    async def _readlink(self, inode, cred):
        n = self._get(inode)
        if n.kind == K_LINK:
            return n.link
        if n.kind != K_VNODE:
            raise FSError(errno.EINVAL, "not a symlink")
        return await self.cm.readlink(n.vnode, cred)

    async def access(self, inode, mode, ctx):
        return await self._run("access", self._access(inode, mode, self._cred(ctx)))

    async def _access(self, inode, mode, cred):
        n = self._get(inode)
        if n.kind in (K_DYNROOT, K_LINK):
            return not (mode & os.W_OK)
        v = await self._dir_vnode(n, cred) if n.kind != K_VNODE else n.vnode
        st = await self.cm.validate(v, cred)
        r = await self.cm.rights(v, cred)
        if st.type == FT_DIR:
            need = (PRSFS_LOOKUP if mode & (os.R_OK | os.X_OK) else 0) | \
                   (PRSFS_INSERT if mode & os.W_OK else 0)
            if mode & os.W_OK and v.volume.read_only:
                return False
            return r & need == need
        if mode & os.W_OK and (v.volume.read_only or not r & PRSFS_WRITE):
            return False
        if mode & os.R_OK and not r & PRSFS_READ:
            return False
        if mode & os.X_OK and not st.mode & 0o111:
            return False
        return True

    # --------------------------------------------------------- directories
    async def opendir(self, inode, ctx):
        return await self._run("opendir", self._opendir(inode, self._cred(ctx)))

    async def _opendir(self, inode, cred):
        n = self._get(inode)
        od = OpenDir(n, cred)
        if n.kind == K_DYNROOT:
            od.entries = [(b".", n), (b"..", n)] + self._dyn_names()
        else:
            v = await self._dir_vnode(n, cred)
            ents = await self.cm.readdir(v, cred)
            await self.cm.bulk_status(v, [f for name, f in ents if name not in (b".", b"..")],
                                      cred)
            out = []
            for name, f in ents:
                if name == b".":
                    out.append((name, n))
                elif name == b"..":
                    out.append((name, self._get(n.parent)))
                else:
                    cv = self.cm.vnode(f, v.volume)
                    if cv.status is None:
                        continue           # the server would not say (an error per entry)
                    cn = self._vnode_node(cv, inode)
                    out.append((name, cn))
            od.entries = out
        fh = self._next_fh
        self._next_fh += 1
        self._fh[fh] = od
        return fh

    async def readdir(self, fh, start_id, token):
        od = self._fh.get(fh)
        if od is None:
            return
        cred = od.cred
        for i in range(start_id, len(od.entries)):
            name, node = od.entries[i]
            try:
                if node.kind == K_VNODE:
                    st = node.vnode.status
                    attr = self._attr_from(node.ino, st, self.cm.size_of(node.vnode))
                elif node.kind == K_MOUNT:
                    attr = await self._attr(node, cred, cross=False)
                elif node.kind == K_CELL:
                    attr = self._synthetic(node.ino, stat.S_IFDIR | 0o755, 2048)
                else:
                    attr = await self._attr(node, cred, cross=False)
            except Exception:            # noqa: BLE001 - list what can be listed
                continue
            if not pyfuse3.readdir_reply(token, name, attr, i + 1):
                break
            if name not in (b".", b".."):
                node.lookups += 1

    async def releasedir(self, fh):
        self._fh.pop(fh, None)

    async def mkdir(self, parent_inode, name, mode, ctx):
        return await self._run("mkdir", self._make(parent_inode, name, mode, self._cred(ctx),
                                                   "mkdir"))

    async def _make(self, pino, name, mode, cred, how, target=None):
        p = self._get(pino)
        if p.kind == K_DYNROOT:
            raise FSError(errno.EPERM, "the dynamic root is read-only")
        dv = await self._dir_vnode(p, cred)
        if dv.volume.read_only:
            raise FSError(errno.EROFS, "read-only volume")
        if how == "mkdir":
            v = await self.cm.mkdir(dv, name, mode & 0o7777, cred)
        elif how == "symlink":
            v = await self.cm.symlink(dv, name, target, cred)
        else:
            v = await self.cm.create(dv, name, mode & 0o7777, cred)
        n = self._vnode_node(v, pino)
        n.lookups += 1
        return self._attr_from(n.ino, v.status)

    async def symlink(self, parent_inode, name, target, ctx):
        return await self._run("symlink", self._make(parent_inode, name, 0o755,
                                                     self._cred(ctx), "symlink", target))

    async def mknod(self, parent_inode, name, mode, rdev, ctx):
        if not stat.S_ISREG(mode):
            raise pyfuse3.FUSEError(errno.EPERM)
        return await self._run("mknod", self._make(parent_inode, name, mode, self._cred(ctx),
                                                   "create"))

    async def unlink(self, parent_inode, name, ctx):
        await self._run("unlink", self._remove(parent_inode, name, self._cred(ctx), False))

    async def rmdir(self, parent_inode, name, ctx):
        await self._run("rmdir", self._remove(parent_inode, name, self._cred(ctx), True))

    async def _remove(self, pino, name, cred, isdir):
        p = self._get(pino)
        if p.kind == K_DYNROOT:
            raise FSError(errno.EPERM, "the dynamic root is read-only")
        dv = await self._dir_vnode(p, cred)
        if dv.volume.read_only:
            raise FSError(errno.EROFS, "read-only volume")
        if isdir:
            await self.cm.rmdir(dv, name, cred)
        else:
            await self.cm.unlink(dv, name, cred)

    async def rename(self, parent_inode_old, name_old, parent_inode_new, name_new, flags, ctx):
        await self._run("rename", self._rename(parent_inode_old, name_old, parent_inode_new,
                                               name_new, flags, self._cred(ctx)))

    async def _rename(self, po, no, pn, nn, flags, cred):
        if flags & pyfuse3.RENAME_EXCHANGE:
            raise FSError(errno.EINVAL, "RENAME_EXCHANGE is not supported by AFS")
        a, b = self._get(po), self._get(pn)
        if K_DYNROOT in (a.kind, b.kind):
            raise FSError(errno.EPERM, "the dynamic root is read-only")
        od = await self._dir_vnode(a, cred)
        nd = await self._dir_vnode(b, cred)
        if od.volume.read_only:
            raise FSError(errno.EROFS, "read-only volume")
        if flags & pyfuse3.RENAME_NOREPLACE:
            try:
                await self.cm.lookup(nd, nn, cred)
                raise FSError(errno.EEXIST, "target exists")
            except FSError as e:
                if e.errno != errno.ENOENT:
                    raise
        await self.cm.rename(od, no, nd, nn, cred)

    async def link(self, inode, new_parent_inode, new_name, ctx):
        return await self._run("link", self._link(inode, new_parent_inode, new_name,
                                                  self._cred(ctx)))

    async def _link(self, ino, pino, name, cred):
        n, p = self._get(ino), self._get(pino)
        if n.kind != K_VNODE or p.kind == K_DYNROOT:
            raise FSError(errno.EPERM, "cannot link that")
        dv = await self._dir_vnode(p, cred)
        v = await self.cm.link(dv, name, n.vnode, cred)
        n.lookups += 1
        return self._attr_from(n.ino, v.status, self.cm.size_of(v))

    async def setattr(self, inode, attr, fields, fh, ctx):
        return await self._run("setattr", self._setattr(inode, attr, fields, fh,
                                                        self._cred(ctx)))

    async def _setattr(self, ino, attr, fields, fh, cred):
        n = self._get(ino)
        if n.kind != K_VNODE:
            v = await self._dir_vnode(n, cred) if n.kind in (K_MOUNT, K_CELL) else None
            if v is None:
                raise FSError(errno.EPERM, "cannot change that")
        else:
            v = n.vnode
        if v.volume.read_only:
            raise FSError(errno.EROFS, "read-only volume")
        kw = {}
        if fields.update_mode:
            kw["mode"] = attr.st_mode & 0o7777
        if fields.update_uid:
            kw["owner"] = attr.st_uid
        if fields.update_gid:
            kw["group"] = attr.st_gid
        if fields.update_mtime:
            kw["mtime"] = attr.st_mtime_ns // 1_000_000_000
        if fields.update_size:
            kw["size"] = attr.st_size
        await self.cm.setattr(v, cred, **kw)
        return await self._attr(n, cred)

    # --------------------------------------------------------------- files
    async def open(self, inode, flags, ctx):
        return await self._run("open", self._open(inode, flags, self._cred(ctx)))

    async def _open(self, ino, flags, cred):
        n = self._get(ino)
        if n.kind != K_VNODE:
            raise FSError(errno.EISDIR if n.kind != K_LINK else errno.ELOOP, "not a file")
        v = n.vnode
        old_dv = v.dv
        st = await self.cm.validate(v, cred)
        acc = flags & os.O_ACCMODE
        writable = acc in (os.O_WRONLY, os.O_RDWR)
        if st.type == FT_DIR:
            raise FSError(errno.EISDIR, "is a directory")
        if writable:
            if v.volume.read_only:
                raise FSError(errno.EROFS, "read-only volume")
        if acc in (os.O_RDONLY, os.O_RDWR):
            await self.cm.check_rights(v, cred, PRSFS_READ, "open")
        if flags & os.O_TRUNC and writable:
            await self.cm.setattr(v, cred, size=0)
        v.opens += 1
        fh = self._next_fh
        self._next_fh += 1
        self._fh[fh] = OpenFile(n, v, cred, writable)
        # the kernel's page cache of this file is still right if the data
        # version did not move since we last served it
        keep = old_dv == v.dv and old_dv >= 0
        return pyfuse3.FileInfo(fh=fh, keep_cache=keep)

    async def create(self, parent_inode, name, mode, flags, ctx):
        return await self._run("create", self._create(parent_inode, name, mode, flags,
                                                      self._cred(ctx)))

    async def _create(self, pino, name, mode, flags, cred):
        attr = await self._make(pino, name, mode, cred, "create")
        n = self.nodes[attr.st_ino]
        n.vnode.opens += 1
        fh = self._next_fh
        self._next_fh += 1
        self._fh[fh] = OpenFile(n, n.vnode, cred, True)
        return pyfuse3.FileInfo(fh=fh), attr

    def _file(self, fh) -> OpenFile:
        f = self._fh.get(fh)
        if not isinstance(f, OpenFile):
            raise FSError(errno.EBADF, "bad file handle")
        return f

    async def read(self, fh, off, size):
        f = self._file(fh)
        return await self._run("read", self.cm.read(f.vnode, off, size, f.cred))

    async def write(self, fh, off, buf):
        f = self._file(fh)
        return await self._run("write", self.cm.write(f.vnode, off, buf, f.cred))

    async def flush(self, fh):
        f = self._file(fh)
        await self._run("flush", self.cm.flush(f.vnode, f.cred))

    async def fsync(self, fh, datasync):
        f = self._file(fh)
        await self._run("fsync", self.cm.flush(f.vnode, f.cred))

    async def release(self, fh):
        f = self._fh.pop(fh, None)
        if isinstance(f, OpenFile):
            f.vnode.opens -= 1
            try:
                await self.cm.flush(f.vnode, f.cred)
            except Exception as e:      # noqa: BLE001 - flush already reported it to close()
                log.error("%s: store at release failed: %s", f.vnode.fid, e)

    # ------------------------------------------------------------- statfs
    async def statfs(self, ctx):
        return await self._run("statfs", self._statfs(self._cred(ctx)))

    async def _statfs(self, cred):
        s = pyfuse3.StatvfsData()
        s.f_bsize = s.f_frsize = 1024
        s.f_namemax = 255
        s.f_files = s.f_ffree = s.f_favail = 9000000
        total, free = 2 << 30, 1 << 30           # KB: what afsd shows without a volume
        cached = self._statfs_cache
        now = self.cm.clock()
        if cached is not None and now - cached[0] < 10:
            total, free = cached[1]
        else:
            lc = self.cm.local_cell
            try:
                root = await self.cm.volume_root(lc, "root.cell", cred=cred)
                vs = await self.cm.volume_status(root, cred)
                st = vs.Volumestatus if hasattr(vs, "Volumestatus") else vs[0]
                if st.MaxQuota > 0:
                    total = st.MaxQuota
                    free = max(0, st.MaxQuota - st.BlocksInUse)
                else:
                    total = max(st.PartMaxBlocks, 1)
                    free = max(0, st.PartBlocksAvail)
                self._statfs_cache = (now, (total, free))
            except Exception as e:      # noqa: BLE001 - df must not fail on a busy cell
                log.debug("statfs: %s", e)
        s.f_blocks = total
        s.f_bfree = s.f_bavail = free
        return s

    # -------------------------------------------------------------- xattrs
    async def getxattr(self, inode, name, ctx):
        if name not in XATTRS and name != CONTROL_XATTR:
            # security.capability on every write, ACL probes of ls -l ...: at once
            raise pyfuse3.FUSEError(pyfuse3.ENOATTR)
        return await self._run("getxattr", self._getxattr(inode, name, self._cred(ctx)))

    async def _xattr_vnode(self, n: Node, cred):
        if n.kind == K_VNODE:
            await self.cm.validate(n.vnode, cred)
            return n.vnode
        if n.kind in (K_MOUNT, K_CELL):
            return await self._dir_vnode(n, cred)
        raise FSError(pyfuse3.ENOATTR, "no such attribute")

    async def _getxattr(self, ino, name: bytes, cred):
        n = self._get(ino)
        if name == CONTROL_XATTR:
            if not self.control_path:
                raise FSError(pyfuse3.ENOATTR, "no control socket")
            return self.control_path.encode()
        if name not in XATTRS:
            raise FSError(pyfuse3.ENOATTR, "no such attribute")
        v = await self._xattr_vnode(n, cred)
        if name == b"afs.cell":
            return v.fid.cell.encode()
        if name == b"afs.fid":
            return b"%x:%x:%x" % (v.fid.volume, v.fid.vnode, v.fid.unique)
        if name == b"afs.volume":
            return v.volume.name.encode()
        acl = await self.cm.fetch_acl(v, cred)
        return acl.rstrip(b"\0")

    async def setxattr(self, inode, name, value, ctx):
        await self._run("setxattr", self._setxattr(inode, name, value, self._cred(ctx)))

    async def _setxattr(self, ino, name, value, cred):
        if name != b"afs.acl":
            if name in XATTRS or name == CONTROL_XATTR:
                raise FSError(errno.EPERM, "read-only attribute")
            raise FSError(errno.ENOTSUP, "no user attributes in AFS")
        v = await self._xattr_vnode(self._get(ino), cred)
        await self.cm.store_acl(v, bytes(value), cred)

    async def listxattr(self, inode, ctx):
        n = self._get(inode)
        if n.kind in (K_DYNROOT, K_LINK):
            return []
        return list(XATTRS)

    async def removexattr(self, inode, name, ctx):
        raise pyfuse3.FUSEError(errno.EPERM if name in XATTRS else pyfuse3.ENOATTR)

    # -------------------------------------------------------- invalidation
    def inos_of(self, v) -> list[int]:
        out = []
        ino = self._by_key.get(("v", v.fid))
        if ino is not None:
            out.append(ino)
        for n in self.nodes.values():
            if n.target is v:
                out.append(n.ino)
        return out

    def _invalidate_vnode(self, v, data: bool = True) -> None:
        """The cache manager says v's cached state is void: have the kernel
        drop its attributes and pages (in a thread: the kernel may wait for
        a request this loop is serving)."""
        if not self.mounted:
            return
        for ino in self.inos_of(v):
            self._inval_pending.add(ino)
        if self._inval_pending and (self._inval_task is None or self._inval_task.done()):
            self._inval_task = asyncio.ensure_future(self._drain_invalidations())

    async def _drain_invalidations(self) -> None:
        loop = asyncio.get_running_loop()
        while self._inval_pending and self.mounted:
            inos = list(self._inval_pending)
            self._inval_pending.clear()
            await loop.run_in_executor(None, self._invalidate_now, inos)

    def _invalidate_now(self, inos) -> None:
        for ino in inos:
            try:
                pyfuse3.invalidate_inode(ino, False)
                self.counters["invalidations"] += 1
            except OSError:
                pass                 # the kernel has no such inode (any more): nothing to drop
