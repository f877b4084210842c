"""The mount's control socket: our pioctl.

OpenAFS's ``fs``, ``aklog``, ``tokens`` and ``unlog`` talk to the kernel
cache manager with pioctl(2); kAFS has no pioctl.  A kafs mount listens on
a Unix socket instead (its path is the ``kafs.control`` attribute of any
file of the mount, and the mount's ``control=`` option).  The caller's uid
is the socket's peer credential (SO_PEERCRED), so a request acts with the
caller's own token, exactly as a pioctl would.

Protocol: one request per line, a JSON object ``{"op": NAME, ...}``; one
reply per line, ``{"ok": true, ...}`` or ``{"ok": false, "errno": N,
"error": TEXT}``.  Requests about a file name it by ``cell`` and ``fid``
(``[volume, vnode, unique]``), which the caller reads from the file's
``afs.cell`` and ``afs.fid`` attributes: the kernel resolves the path
through the mount, so the vnode is one the cache manager holds.

Tokens never travel back: ``gettokens`` answers cell, AFS id and times.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import json
import logging
import os
import socket
import struct

from .creds import Cred
from .errmap import FSError
from .types import Fid, rights_string

log = logging.getLogger("kafs.client.control")

MAX_REQUEST = 1 << 20


def default_socket_path(mountpoint: str) -> str:
    import hashlib
    h = hashlib.sha1(os.path.realpath(mountpoint).encode()).hexdigest()[:12]
    base = "/run/kafs" if os.geteuid() == 0 else os.environ.get(
        "XDG_RUNTIME_DIR", "/tmp") + "/kafs"
    return "%s/mount-%s.sock" % (base, h)


class ControlServer:
    """Serves control requests for one mount (``handlers`` maps op names
    to ``async def handler(server, cred, request) -> dict``)."""

    handlers: dict = {}

    def __init__(self, cm, path: str, ops=None):
        self.cm = cm
        self.ops = ops
        self.path = path
        self._server = None
        self.counters = {"requests": 0, "errors": 0}

    async def start(self) -> None:
        d = os.path.dirname(self.path)
        os.makedirs(d, mode=0o755, exist_ok=True)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self._server = await asyncio.start_unix_server(self._client, path=self.path,
                                                       limit=MAX_REQUEST)
        os.chmod(self.path, 0o666)      # anyone may ask; SO_PEERCRED says who

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        try:
            os.unlink(self.path)
        except OSError:
            pass

    @staticmethod
    def _peer(writer) -> Cred:
        sock = writer.get_extra_info("socket")
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, gid = struct.unpack("3i", raw)
        return Cred(uid, gid, pid)

    async def _client(self, reader, writer) -> None:
        try:
            cred = self._peer(writer)
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await self._reply(writer, {"ok": False, "errno": errno.E2BIG,
                                               "error": "request too long"})
                    break
                if not line:
                    break
                await self._reply(writer, await self.handle(cred, line))
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _reply(writer, obj) -> None:
        writer.write(json.dumps(obj).encode() + b"\n")
        await writer.drain()

    async def handle(self, cred: Cred, line: bytes) -> dict:
        self.counters["requests"] += 1
        try:
            req = json.loads(line)
            if not isinstance(req, dict) or not isinstance(req.get("op"), str):
                raise FSError(errno.EINVAL, "a request is a JSON object with an op")
            h = self.handlers.get(req["op"])
            if h is None:
                raise FSError(errno.EOPNOTSUPP, "unknown request %r" % req["op"])
            out = await h(self, cred, req)
            out = dict(out or {})
            out["ok"] = True
            return out
        except FSError as e:
            self.counters["errors"] += 1
            return {"ok": False, "errno": e.errno, "error": e.strerror}
        except (ValueError, KeyError, TypeError) as e:
            self.counters["errors"] += 1
            return {"ok": False, "errno": errno.EINVAL, "error": "bad request: %s" % e}
        except Exception as e:          # noqa: BLE001 - one request fails, the socket goes on
            self.counters["errors"] += 1
            log.error("control request failed: %s: %s", type(e).__name__, e)
            return {"ok": False, "errno": errno.EIO, "error": str(e)}

    # -- helpers for handlers ------------------------------------------------
    def vnode(self, req) -> object:
        f = req["fid"]
        fid = Fid(str(req["cell"]).lower(), int(f[0]), int(f[1]), int(f[2]))
        v = self.cm.vnodes.get(fid)
        if v is None:
            c = self.cm.cells.get(fid.cell)
            real = c.name if c is not None else fid.cell
            v = self.cm.vnodes.get(fid._replace(cell=real))
        if v is None:
            raise FSError(errno.ESTALE, "%s is not in the cache (look the path up again)" % (fid,))
        return v


def handler(name):
    def deco(fn):
        ControlServer.handlers[name] = fn
        return fn
    return deco


# -- tokens -------------------------------------------------------------------

@handler("settoken")
async def _settoken(srv, cred, req):
    from ..auth.token import decode_token_set
    raw = base64.b64decode(req["token"])
    ts = decode_token_set(raw, "control")
    for t in ts.tokens:
        srv.cm.tokens.set_token(cred.uid, t)
    return {"cells": [t.cell for t in ts.tokens]}


@handler("gettokens")
async def _gettokens(srv, cred, req):
    out = []
    for t in srv.cm.tokens.tokens_of(cred.uid):
        out.append({"cell": t.cell, "viceid": t.viceid, "start": t.start, "end": t.end,
                    "kvno": t.kvno})
    return {"tokens": out}


@handler("unlog")
async def _unlog(srv, cred, req):
    return {"cells": srv.cm.tokens.forget(cred.uid, req.get("cell"))}


# -- files and volumes ----------------------------------------------------------

@handler("status")
async def _status(srv, cred, req):
    v = srv.vnode(req)
    st = await srv.cm.validate(v, cred)
    r = await srv.cm.rights(v, cred)
    return {"type": st.type, "length": srv.cm.size_of(v), "dv": st.dv, "owner": st.owner,
            "group": st.group, "mode": st.mode, "caller_access": r,
            "rights": rights_string(r), "anon_access": st.anon_access,
            "volume": v.volume.name, "volume_id": v.fid.volume,
            "volume_type": v.volume.vtype, "read_only": v.volume.read_only}


@handler("getacl")
async def _getacl(srv, cred, req):
    v = srv.vnode(req)
    acl = await srv.cm.fetch_acl(v, cred)
    return {"acl": acl.rstrip(b"\0").decode("utf-8", "surrogateescape")}


@handler("setacl")
async def _setacl(srv, cred, req):
    v = srv.vnode(req)
    await srv.cm.store_acl(v, str(req["acl"]).encode("utf-8", "surrogateescape"), cred)
    return {}


@handler("volstatus")
async def _volstatus(srv, cred, req):
    v = srv.vnode(req)
    res = await srv.cm.volume_status(v, cred)
    st = res.Volumestatus
    return {"vid": st.Vid, "parent_id": st.ParentId, "online": st.Online,
            "in_service": st.InService, "blessed": st.Blessed, "need_salvage": st.NeedsSalvage,
            "type": st.Type, "min_quota": st.MinQuota, "max_quota": st.MaxQuota,
            "blocks_in_use": st.BlocksInUse, "part_blocks_avail": st.PartBlocksAvail,
            "part_max_blocks": st.PartMaxBlocks, "name": res.Name,
            "offline_msg": res.OfflineMsg, "motd": res.Motd}


@handler("setvolstatus")
async def _setvolstatus(srv, cred, req):
    v = srv.vnode(req)
    await srv.cm.set_volume_status(v, cred, maxquota=req.get("max_quota"),
                                   minquota=req.get("min_quota"),
                                   offline_msg=req.get("offline_msg"), motd=req.get("motd"))
    return {}


@handler("whereis")
async def _whereis(srv, cred, req):
    v = srv.vnode(req)
    return {"servers": v.volume.site_addrs(), "volume": v.volume.name}


@handler("flush")
async def _flush(srv, cred, req):
    srv.cm.flush_vnode(srv.vnode(req))
    return {}


@handler("flushvolume")
async def _flushvolume(srv, cred, req):
    srv.cm.flush_volume(srv.vnode(req).volume)
    return {}


@handler("lsmount")
async def _lsmount(srv, cred, req):
    d = srv.vnode(req)
    v = await srv.cm.lookup(d, str(req["name"]).encode("utf-8", "surrogateescape"), cred)
    mp = await srv.cm.mount_point(v, cred)
    if mp is None:
        raise FSError(errno.EINVAL, "not a mount point")
    return {"mount": mp.text()}


@handler("mkmount")
async def _mkmount(srv, cred, req):
    from .mountpoint import parse
    d = srv.vnode(req)
    mp = parse(str(req["mount"]))
    if mp is None:
        raise FSError(errno.EINVAL, "bad mount point text")
    await srv.cm.mkmount(d, str(req["name"]).encode("utf-8", "surrogateescape"), mp, cred)
    return {}


@handler("rmmount")
async def _rmmount(srv, cred, req):
    d = srv.vnode(req)
    name = str(req["name"]).encode("utf-8", "surrogateescape")
    v = await srv.cm.lookup(d, name, cred)
    if await srv.cm.mount_point(v, cred) is None:
        raise FSError(errno.EINVAL, "not a mount point")
    await srv.cm.unlink(d, name, cred)
    return {}


# -- the cache manager as a whole --------------------------------------------------

@handler("wscell")
async def _wscell(srv, cred, req):
    return {"cell": srv.cm.local_cell}


@handler("listcells")
async def _listcells(srv, cred, req):
    out = []
    for name in srv.cm.known_cells():
        try:
            c = srv.cm.cell(name)
            servers = [list(a) for a in (s.addr for s in c.conf.servers("vlserver"))]
        except Exception:        # noqa: BLE001 - a cell without servers is still listed
            servers = []
        out.append({"cell": name, "servers": servers})
    return {"cells": out}


@handler("sysname")
async def _sysname(srv, cred, req):
    new = req.get("set")
    if new:
        if cred.uid != 0:
            raise FSError(errno.EACCES, "only root may set the sysname list")
        srv.cm.sysnames = [str(s).encode() for s in new]
    return {"sysnames": [s.decode() for s in srv.cm.sysnames]}


@handler("getcrypt")
async def _getcrypt(srv, cred, req):
    return {"crypt": srv.cm.tokens.level == 2}


@handler("setcrypt")
async def _setcrypt(srv, cred, req):
    if cred.uid != 0:
        raise FSError(errno.EACCES, "only root may change the encryption level")
    srv.cm.tokens.set_level(2 if req["crypt"] else 0)
    return {}


@handler("checkvolumes")
async def _checkvolumes(srv, cred, req):
    for c in set(srv.cm.cells.values()):
        c.volumes.flush()
    return {}


@handler("cachestats")
async def _cachestats(srv, cred, req):
    st = srv.cm.store.stats() if srv.cm.store is not None else {}
    return {"store": st, "data": srv.cm.data.counters, "cm": srv.cm.counters,
            "memory_bytes": srv.cm.data.mem.bytes, "chunk_size": srv.cm.chunk_size,
            "cache_size": srv.cm.cache_size}


@handler("serverprefs")
async def _serverprefs(srv, cred, req):
    sets = req.get("set") or []
    if sets and cred.uid != 0:
        raise FSError(errno.EACCES, "only root may set server ranks")
    for addr, rank in sets:
        srv.cm.servers.set_rank(str(addr), int(rank))
    return {"servers": sorted(([s.addr, s.rank] for s in srv.cm.servers.servers.values()),
                              key=lambda x: x[1])}


@handler("checkservers")
async def _checkservers(srv, cred, req):
    """Probe every file server known (GetTime); returns the ones down."""
    from ..rpc import afsint
    cell = req.get("cell")
    fast = bool(req.get("fast"))
    servers = [s for s in srv.cm.servers.servers.values()
               if cell is None or str(cell).lower() in s.cells]
    now = srv.cm.clock()
    if not fast:
        async def probe(s):
            conn = s.connection(srv.cm.endpoint, None, 10.0)
            try:
                await asyncio.wait_for(afsint.RXAFS_GetTime(conn), 15)
                s.mark_up()
            except Exception:        # noqa: BLE001 - any failure: down
                s.mark_down(srv.cm.clock(), srv.cm.servers.down_time)
        await asyncio.gather(*(probe(s) for s in servers))
        now = srv.cm.clock()
    return {"down": sorted(s.addr for s in servers if s.is_down(now))}
