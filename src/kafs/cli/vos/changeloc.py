"""vos changeloc: move the RW site in the VLDB entry only (vos.c
ChangeLocation, vsprocs.c UV_ChangeLocation)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, find_volume, outcome_exit as exit_code,  # noqa: F401
                      locate, partition_name, reporter,
                      run_async, session)


async def _run(args) -> Done:
    from kafs.api import volops
    r = reporter(args)
    d = Done(volume=args.id, server=args.server, partition=None, id=None)
    async with await session(args) as s:
        volid = await find_volume(s, r, args.id)
        if not volid:
            return d.fail(status=1)
        d.info["id"] = volid
        server, part, failed = await locate(s, r, args.server, args.partition)
        if failed:
            return d.fail(status=1)
        d.info["partition"] = partition_name(part)
        try:
            await volops.change_location(s, r, server, part, volid)
        except volops.VolOpError as e:
            diag(r, "changeloc", e.code)
            return d.fail(e.code, status=1)
    r.out("Changed location to %s %s for volume %s\n"
          % (args.server, partition_name(part), args.id))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
