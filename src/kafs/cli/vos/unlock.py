"""vos unlock: release the lock on a VLDB entry (vos.c LockReleaseCmd,
vsprocs.c UV_LockRelease)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, find_volume,  # noqa: F401
                      outcome_exit as exit_code, reporter, run_async, session)


async def _run(args) -> Done:
    from kafs.api import volops
    r = reporter(args)
    d = Done(volume=args.id, id=None)
    async with await session(args) as s:
        volid = await find_volume(s, r, args.id)
        if not volid:
            return d.fail(status=1)
        d.info["id"] = volid
        try:
            await volops.lock_release(s, r, volid)
        except volops.VolOpError as e:
            diag(r, "unlock", e.code)
            return d.fail(e.code, status=1)
    r.out("Released lock on vldb entry for volume %s\n" % args.id)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
