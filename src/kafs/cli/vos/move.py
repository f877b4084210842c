"""vos move: move a read-write volume to another server or partition
(vos.c MoveVolume, vsprocs.c UV_MoveVolume2).  The data goes from
volserver to volserver (AFSVolForward); on a terminal a progress line on
stderr follows the destination partition's use."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, find_volume, inet_ntoa,  # noqa: F401
                      interruptible, outcome_exit as exit_code, checked_partition, parse_server,
                      partition_name, reporter, run_async, session, space_check)


async def _run(args) -> Done:
    from kafs.api import volops
    r = reporter(args)
    d = Done(volume=args.id, id=None, from_server=args.fromserver, from_partition=None,
             to_server=args.toserver, to_partition=None)
    async with await session(args) as s:
        volid = await find_volume(s, r, args.id, "vos: can't find volume ID or name '%s'\n")
        if not volid:
            return d.fail(volops.ENOENT)
        d.info["id"] = volid
        fromserver = parse_server(r, args.fromserver)
        if not fromserver:
            return d.fail(volops.ENOENT)
        toserver = parse_server(r, args.toserver)
        if not toserver:
            return d.fail(volops.ENOENT)
        frompart, failed = await checked_partition(s, r, fromserver, args.frompartition)
        if failed:
            return d.fail(volops.EINVAL if failed == "partition" else volops.ENOENT)
        topart, failed = await checked_partition(s, r, toserver, args.topartition)
        if failed:
            return d.fail(volops.EINVAL if failed == "partition" else volops.ENOENT)
        d.info.update(from_partition=partition_name(frompart), to_partition=partition_name(topart))
        flags = volops.RV_NOCLONE if args.live else 0
        size, status = await space_check(s, r, fromserver, frompart, volid, toserver, topart,
                                         "move")
        if status is not None:
            return d.fail(status=status)
        try:
            await interruptible(r, volops.move_volume(s, r, volid, fromserver, frompart,
                                                      toserver, topart, flags, size))
        except volops.VolOpError as e:
            if e.fatal:
                return d.fail(e.code, status=1)
            diag(r, "move", e.code)
            return d.fail(e.code)
    r.out("Volume %u moved from %s %s to %s %s \n"
          % (volid, args.fromserver, partition_name(frompart), args.toserver,
             partition_name(topart)))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
