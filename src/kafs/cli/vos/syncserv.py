"""vos syncserv: make the VLDB agree with the servers its entries name
(vos.c SyncServer, vsprocs.c UV_SyncServer / CheckVldb)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, get_server,  # noqa: F401
                      outcome_exit as exit_code, partition_id, partition_name, partition_ok,
                      reporter, run_async, session)


async def _run(args) -> Done:
    from kafs.api import volops, volsync
    r = reporter(args)
    d = Done(server=args.server, partition=None, dryrun=bool(args.dryrun))
    server = get_server(args.server)
    if not server:
        r.err("vos: host '%s' not found in host table\n" % args.server)
        return d.fail(status=1)
    part = None
    async with await session(args) as s:
        if args.partition is not None:
            part = partition_id(args.partition)
            if part < 0:
                r.err("vos: could not interpret partition name '%s'\n" % args.partition)
                return d.fail(status=1)
            if not await partition_ok(s, r, server, part, args.partition):
                return d.fail(status=1)
            d.info["partition"] = partition_name(part)
        try:
            d.info["result"] = await volsync.sync_server(s, r, server, part, bool(args.dryrun))
        except volops.VolOpError as e:
            diag(r, "syncserv", e.code)
            return d.fail(e.code, status=1)
    if part is not None:
        r.out("Server %s partition %s synchronized with VLDB\n"
              % (args.server, partition_name(part)))
    else:
        r.out("Server %s synchronized with VLDB\n" % args.server)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
