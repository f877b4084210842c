"""vos listvol: the volume headers on a server's partitions, bypassing the
VLDB (vos.c ListVolumes, DisplayVolumes, XDisplayVolumes, ...2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._common import (VosExit, diagnostics, error_code, finish, get_server, out,
                      partition_id, print_error, run_async, session)
from .listpart import fetch_partitions
from .partinfo import check_partition
from . import _fmt


@dataclass(repr=False)
class PartVolumes:
    partition: int
    volumes: list = field(default_factory=list)


@dataclass(repr=False)
class VolList:
    server: str
    addr: int
    fast: bool = False
    long: bool = False
    quiet: bool = False
    extended: bool = False
    format: bool = False
    partitions: list = field(default_factory=list)
    error: VosExit | None = None


def _s32(v):
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


async def _run(args) -> VolList:
    from kafs.api import volume
    from kafs.errors import AFSError, DecodeError
    fast = bool(args.fast)
    if args.extended and fast:
        raise VosExit("vos: Can't use the -fast and -extended flags together\n", 1)
    part = -1
    if args.partition is not None:
        part = partition_id(args.partition)
        if part < 0:
            raise VosExit("vos: could not interpret partition name '%s'\n" % args.partition, 1)
    srv = get_server(args.server)
    if not srv:
        raise VosExit("vos: server '%s' not found in host table\n" % args.server, 1)
    r = VolList(args.server, srv, fast=fast, long=bool(args.long) or bool(args.extended),
                quiet=bool(args.quiet), extended=bool(args.extended), format=bool(args.format))
    async with await session(args) as s:
        if part != -1:
            await check_partition(s, srv, part, args.partition)
            parts = [part]
        else:
            parts = await fetch_partitions(s, srv, "listvol")
        for p in parts:
            try:
                if r.extended:
                    vols = await volume.xlist_volumes(s, srv, p, not fast)
                else:
                    vols = await volume.list_volumes(s, srv, p, not fast)
            except (AFSError, DecodeError) as e:
                code = error_code(e)
                if r.extended:
                    msg = "[UV_XListVolumes] Couldn't fetch volume list\n"
                else:
                    msg = "Could not fetch the list of volumes from the server\n"
                r.error = VosExit(msg + print_error(code) + diagnostics("listvol", code), 1)
                break
            if not fast:
                vols.sort(key=lambda v: v.name.encode("utf-8", "surrogateescape"))
            elif r.extended:
                vols.sort(key=lambda v: _s32(v.volid))
            else:
                vols.sort(key=lambda v: v.volid)
            r.partitions.append(PartVolumes(p, vols))
    return r


def run(args):
    return run_async(_run, args)


def _display(r: VolList, pv: PartVolumes) -> str:
    o = []
    srv, part = r.addr, pv.partition
    c = _fmt.Counts()
    if r.extended:
        if r.format:
            f = _fmt.xdisplay_format2
            for v in pv.volumes:
                o.append("BEGIN_OF_ENTRY\n")
                o.append(f(v, srv, part, c, r.fast, r.long, False))
                o.append("END_OF_ENTRY\n")
            o.extend("BUSY_VOL\t%u\n" % i for i in c.busy_ids)
            o.extend("COULD_NOT_ATTACH\t%u\n" % i for i in c.notok_ids)
            if not r.quiet:
                o.append("\n")
                if not r.fast:
                    o.append("VOLUMES_ONLINE\t%d\nVOLUMES_OFFLINE\t%d\nVOLUMES_BUSY\t%d\n"
                             % (c.ok, c.notok, c.busy))
            return "".join(o)
        return _listed(r, pv, _fmt.xdisplay_format, c,
                       "Total volumes: %d on-line, %d off-line, %d  busyd\n\n")
    if r.format:
        f = _fmt.display_format2
        for v in pv.volumes:
            o.append("BEGIN_OF_ENTRY\n")
            o.append(f(v, srv, part))
            o.append("END_OF_ENTRY\n\n")
        return "".join(o)
    return _listed(r, pv, _fmt.display_format, c,
                   "Total volumes onLine %d ; Total volumes offLine %d ; Total busy %d\n\n")


def _listed(r: VolList, pv: PartVolumes, f, c, total: str) -> str:
    """The plain (not -format) listing: ``f`` for each volume, the busy and
    unattachable ones, then (unless -quiet / -fast) ``total`` of the counts."""
    o = [f(v, r.addr, pv.partition, c, r.fast, r.long, False) for v in pv.volumes]
    o.extend("**** Volume %u is busy ****\n" % i for i in c.busy_ids)
    o.extend("**** Could not attach volume %u ****\n" % i for i in c.notok_ids)
    if not r.quiet:
        o.append("\n")
        if not r.fast:
            o.append(total % (c.ok, c.notok, c.busy))
    return "".join(o)


def render(r: VolList, args) -> None:
    for pv in r.partitions:
        if not r.quiet:
            out("Total number of volumes on server %s partition %s: %u \n"
                % (r.server, _fmt.pname(pv.partition), len(pv.volumes)))
        out(_display(r, pv))


def to_json(r: VolList):
    from kafs.cli.render import to_jsonable
    parts = []
    for pv in r.partitions:
        ok = sum(1 for v in pv.volumes if v.status == _fmt.VOK and v.in_use == 1)
        busy = sum(1 for v in pv.volumes if v.status == _fmt.VBUSY)
        parts.append({
            "partition": _fmt.pname(pv.partition),
            "total": len(pv.volumes),
            "online": ok,
            "busy": busy,
            "offline": len(pv.volumes) - ok - busy,
            "volumes": [v.volid for v in pv.volumes] if r.fast
            else [to_jsonable(v) for v in pv.volumes],
        })
    return {"server": r.server, "partitions": parts}


def exit_code(r: VolList) -> int:
    if r.error:
        finish(r.error)
    return 0
