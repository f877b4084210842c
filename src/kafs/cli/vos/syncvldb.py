"""vos syncvldb: make the VLDB agree with what a server holds, or check
one volume (vos.c SyncVldb, vsprocs.c UV_SyncVldb / UV_SyncVolume)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, get_server,  # noqa: F401
                      outcome_exit as exit_code, partition_id, partition_name, partition_ok,
                      reporter, run_async, session)


async def _run(args) -> Done:
    from kafs.api import volops, volsync
    r = reporter(args)
    d = Done(server=args.server, partition=None, volume=args.volume, dryrun=bool(args.dryrun))
    server = 0
    if args.server is not None:
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
            if not await partition_ok(s, r, server, part, args.partition,
                                      "vos: partition %s does not exist on the server\n"):
                return d.fail(status=1)
            d.info["partition"] = partition_name(part)
            if not server:
                r.err("The -partition option requires a -server option\n")
                return d.fail(status=1)
        try:
            if args.volume is not None:
                d.info["result"] = await volsync.sync_volume(s, r, server, part, args.volume,
                                                             bool(args.dryrun))
            else:
                if not server:
                    r.err("Without a -volume option, the -server option is required\n")
                    return d.fail(status=1)
                d.info["result"] = await volsync.sync_vldb(s, r, server, part,
                                                           bool(args.dryrun))
        except volops.VolOpError as e:
            diag(r, "syncvldb", e.code)
            return d.fail(e.code, status=1)
    t = ("VLDB volume %s synchronized" % args.volume) if args.volume is not None \
        else "VLDB synchronized"
    if server:
        t += " with state of server %s" % args.server
    if part is not None:
        t += " partition %s\n" % partition_name(part)
    r.out(t + "\n")
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
