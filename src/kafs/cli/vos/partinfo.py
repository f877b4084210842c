"""vos partinfo: free space of a server's partitions (vos.c PartitionInfo)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._common import (VosExit, error_code, get_server, out, partition_id, print_error,
                      run_async, session)
from .listpart import fetch_partitions, list_partitions_error
from . import _fmt


@dataclass(repr=False)
class PartInfo:
    server: str
    partitions: list = field(default_factory=list)      # PartitionInfo
    summary: bool = False
    error: VosExit | None = None


def int64_size(v: int) -> str:
    """vos.c PrintInt64Size (32-bit arithmetic kept)."""
    v &= 0xFFFFFFFFFFFFFFFF
    hi, lo = v >> 32, v & 0xFFFFFFFF
    if hi == 0:
        units = "KB"
    elif not hi & 0xFFFFFC00:
        units, lo = "MB", ((hi << 22) | (lo >> 10)) & 0xFFFFFFFF
    elif not hi & 0xFFF00000:
        units, lo = "GB", ((hi << 12) | (lo >> 20)) & 0xFFFFFFFF
    elif not hi & 0xC0000000:
        units, lo = "TB", ((hi << 2) | (lo >> 30)) & 0xFFFFFFFF
    else:
        units, lo = "PB", hi >> 8
    return "%u %s" % (lo, units)


async def check_partition(s, srv: int, part: int, name: str) -> None:
    """vos.c IsPartValid and its callers' messages; exit(1) if not valid."""
    from kafs.api import volume
    from kafs.errors import AFSError, DecodeError
    try:
        parts = await volume.list_partitions(s, srv)
    except (AFSError, DecodeError) as e:
        code = error_code(e)
        raise VosExit(list_partitions_error(code) + print_error(code), 1)
    if part not in parts:
        raise VosExit("vos : partition %s does not exist on the server\n" % name, 1)


async def _run(args) -> PartInfo:
    from kafs.api import volume
    from kafs.errors import AFSError, DecodeError
    srv = get_server(args.server)
    if not srv:
        raise VosExit("vos: server '%s' not found in host table\n" % args.server, 1)
    part = -1
    if args.partition is not None:
        part = partition_id(args.partition)
        if part < 0:
            raise VosExit("vos: could not interpret partition name '%s'\n" % args.partition, 1)
    r = PartInfo(args.server, summary=bool(args.summary))
    async with await session(args) as s:
        if part != -1:
            await check_partition(s, srv, part, args.partition)
            parts = [part]
        else:
            parts = await fetch_partitions(s, srv, "listpart")
        for p in parts:
            name = _fmt.pname(p)
            try:
                r.partitions.append(await volume.partition_info(s, srv, name))
            except (AFSError, DecodeError) as e:
                code = error_code(e)
                msg = "Could not get information on partition %s\n" % name + print_error(code)
                r.error = VosExit(msg + msg, 1)
                break
    return r


def run(args):
    return run_async(_run, args)


def render(r: PartInfo, args) -> None:
    o = []
    for p in r.partitions:
        o.append("Free space on partition %s: %d K blocks out of total %d\n"
                 % (p.name, p.free, p.min_free))
    if r.summary and not r.error:
        o.append("Summary: %s free out of " % int64_size(sum(p.free for p in r.partitions)))
        o.append("%s on %d partitions\n" % (int64_size(sum(p.min_free for p in r.partitions)),
                                            len(r.partitions)))
    out("".join(o))


def to_json(r: PartInfo):
    d = {"server": r.server,
         "partitions": [{"name": p.name, "device": p.device, "free_kb": p.free,
                         "total_kb": p.min_free, "total_usable_kb": p.total_usable}
                        for p in r.partitions]}
    if r.summary:
        d["summary"] = {"free_kb": sum(p.free for p in r.partitions),
                        "total_kb": sum(p.min_free for p in r.partitions),
                        "partitions": len(r.partitions)}
    return d


def exit_code(r: PartInfo) -> int:
    if r.error:
        from ._common import finish
        finish(r.error)
    return 0
