"""vos online: end an offline transaction so the volume comes back on
line (vos.c volOnline, vsprocs.c UV_SetVolume)."""

from __future__ import annotations

from ._common import (Done, done_json as to_json, find_volume, outcome_exit as exit_code,  # noqa: F401
                      parse_partition, parse_server, partition_name, reporter, run_async,
                      session)


async def set_state(args, online: bool) -> Done:
    from kafs.api import volops
    r = reporter(args)
    d = Done(volume=args.id, server=args.server, partition=None, id=None)
    server = parse_server(r, args.server)
    if not server:
        return d.fail(-1)
    part = parse_partition(r, args.partition)
    if part < 0:
        return d.fail(volops.ENOENT)
    d.info["partition"] = partition_name(part)
    async with await session(args) as s:
        # vos names the -server argument in this message (an OpenAFS slip)
        volid = await find_volume(s, r, args.id, "Unknown volume ID or name '%s'\n"
                                  % args.server.replace("%", "%%"))
        if not volid:
            return d.fail(-1)
        d.info["id"] = volid
        if online:
            transflag, setflag, sleeptime = volops.ITOffline, 0, 0
        else:
            busy = bool(args.busy)
            transflag = volops.ITBusy if busy else volops.ITOffline
            sleeptime = _atol(args.sleep) if args.sleep is not None else 0
            setflag = 0 if (sleeptime or busy) else volops.VTOutOfService
            if busy and args.sleep is None:
                r.err("-sleep option must be used with -busy flag\n")
                return d.fail(-1)
            d.info.update(busy=busy, sleep=sleeptime)
        try:
            await volops.set_volume(s, r, server, part, volid, transflag, setflag, sleeptime)
        except volops.VolOpError as e:
            r.err("Failed to set volume. Code = %d\n" % e.code)
            return d.fail(-1)
    return d


def _atol(s: str) -> int:
    import re
    m = re.match(r"[ \t\n\v\f\r]*([-+]?\d+)", s)
    if not m:
        return 0
    v = int(m.group(1))
    v &= 0xFFFFFFFF                  # afs_int32 sleeptime = atol(...)
    return v - 0x100000000 if v & 0x80000000 else v


async def _run(args) -> Done:
    return await set_state(args, True)


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
