"""vos endtrans: end a volserver transaction by id (vos.c EndTrans)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, get_server,  # noqa: F401
                      outcome_exit as exit_code, reporter, run_async, session)
from .create import get_int32


async def _run(args) -> Done:
    from kafs.api import volops
    r = reporter(args)
    d = Done(server=args.server, transaction=None)
    server = get_server(args.server)
    if not server:
        r.err("vos: host '%s' not found in host table\n" % args.server)
        return d.fail(volops.EINVAL)
    tid = get_int32(args.transaction)
    if tid is None:
        r.err("vos: bad integer specified for transaction ID.\n")
        return d.fail(-1)
    d.info["transaction"] = tid
    async with await session(args) as s:
        code = await volops._end(volops._conn(s, server), tid)
    if code:
        diag(r, "endtrans", code)
        return d.fail(1)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
