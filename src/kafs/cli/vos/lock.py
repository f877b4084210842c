"""vos lock: lock a VLDB entry (vos.c LockEntry)."""

from __future__ import annotations

from ._common import (Done, done_json as to_json, find_volume, outcome_exit as exit_code,  # noqa: F401
                      print_error, reporter, run_async, session)


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(volume=args.id, id=None)
    async with await session(args) as s:
        volid = await find_volume(s, r, args.id)
        if not volid:
            return d.fail(status=1)
        d.info["id"] = volid
        _, code = await volops._c(vldb.set_lock(s, volid, -1, volops.VLOP_DELETE))
        if code:
            r.err("Could not lock VLDB entry for volume %s\n" % args.id)
            r.err(print_error(code))
            return d.fail(code, status=1)
    r.out("Locked VLDB entry for volume %s\n" % args.id)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
