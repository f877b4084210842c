"""vos remaddrs: remove a file server (by UUID) from the VLDB (vos.c
RemoveAddrs)."""

from __future__ import annotations

from ._common import (Done, done_json as to_json, outcome_exit as exit_code,  # noqa: F401
                      print_error, reporter, run_async, session)
from .setaddrs import print_addrs


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(uuid=args.uuid, hosts=[])
    if vldb.uuid_from_string(args.uuid) is None:
        r.err("vos: invalid UUID '%s'\n" % args.uuid)
        return d.fail(volops.EINVAL)
    async with await session(args) as s:
        sa, code = await volops._c(vldb.get_addrs_u(s, uuid=args.uuid))
        if code == volops.VL_NOENT:
            r.err("vos: UUID not found\n")
            return d.fail(code)
        if code:
            r.err("vos: could not list the server addresses\n")
            r.err(print_error(code))
            return d.fail(code)
        if not sa.addrs:
            r.err("vos: no addresses found for UUID\n")
            return d
        d.info["hosts"] = [vldb.inet_ntoa(a) for a in sa.addrs]
        if r.verbose:
            r.out("vos: Removing UUID with hosts:\n")
            print_addrs(r, sa.uuid, sa.addrs)
        _, code = await volops._c(vldb.change_addr(s, 0xFFFFFFFF, sa.addrs[0]))
        if code:
            r.err("Could not remove server entry from the VLDB.\n")
            r.err(print_error(code))
            return d.fail(code)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
