"""vos listpart: the partitions of a volume server (vos.c ListPartitions)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._common import (VosExit, diagnostics, error_code, get_server, out, print_error,
                      run_async, session)
from . import _fmt


@dataclass(repr=False)
class Partitions:
    server: str
    partitions: list = field(default_factory=list)


def list_partitions_error(code: int) -> str:
    """What UV_ListPartitions writes to stderr when it fails."""
    return "Could not fetch the list of partitions from the server\n" + print_error(code)


async def fetch_partitions(s, server: int, command: str) -> list[int]:
    """UV_ListPartitions + the caller's PrintDiagnostics, exit(1) on failure."""
    from kafs.api import volume
    from kafs.errors import AFSError, DecodeError
    try:
        return await volume.list_partitions(s, server)
    except (AFSError, DecodeError) as e:
        code = error_code(e)
        raise VosExit(list_partitions_error(code) + diagnostics(command, code), 1)


async def _run(args) -> Partitions:
    srv = get_server(args.server)
    if not srv:
        raise VosExit("vos: server '%s' not found in host table\n" % args.server, 1)
    async with await session(args) as s:
        parts = await fetch_partitions(s, srv, "listpart")
    return Partitions(args.server, parts)


def run(args):
    return run_async(_run, args)


def render(r: Partitions, args) -> None:
    o = ["The partitions on the server are:\n"]
    for i, p in enumerate(r.partitions):
        o.append(" %10s " % _fmt.pname(p))
        if i % 5 == 0 and i != 0:
            o.append("\n")
    o.append("\n")
    o.append("Total: %d\n" % len(r.partitions))
    out("".join(o))


def to_json(r: Partitions):
    return {"server": r.server, "partitions": [_fmt.pname(p) for p in r.partitions],
            "total": len(r.partitions)}
