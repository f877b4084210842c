"""vos unlockvldb: unlock every locked VLDB entry, or those of a server
and/or partition (vos.c UnlockVLDB)."""

from __future__ import annotations

from ._common import (Done, done_json as to_json, outcome_exit as exit_code,  # noqa: F401
                      parse_partition, parse_server, partition_name, partition_ok,
                      print_error, reporter, run_async, session)


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(server=args.server, partition=None, unlocked=[], failed=[])
    server = 0
    part = -1
    if args.server is not None:
        server = parse_server(r, args.server)
        if not server:
            return d.fail(status=1)
    async with await session(args) as s:
        if args.partition is not None:
            part = parse_partition(r, args.partition)
            if part < 0:
                return d.fail(status=1)
            if not await partition_ok(s, r, server, part, args.partition):
                return d.fail(status=1)
            d.info["partition"] = partition_name(part)
        entries, code = await volops._c(vldb.list_entries(
            s, server=server if args.server is not None else None,
            partition=part if args.partition is not None else None, locked=True))
        if code:
            r.err("Could not access the VLDB for attributes\n")
            r.err(print_error(code))
            return d.fail(code, status=1)
        failed = 0
        for e in entries:
            _, code = await volops._c(vldb.release_lock(s, e.rw_id, -1))
            if code:
                r.err("Could not unlock entry for volume %s\n" % e.name)
                r.err(print_error(code))
                failed += 1
                d.info["failed"].append(e.name)
            else:
                d.info["unlocked"].append(e.name)
    if failed:
        r.out("Could not lock %u VLDB entries of %u locked entries\n" % (failed, len(entries)))
    elif args.server is not None:
        r.out("Unlocked all the VLDB entries for volumes on server %s " % args.server)
        r.out("partition %s\n" % partition_name(part) if args.partition is not None else "\n")
    elif args.partition is not None:
        r.out("Unlocked all the VLDB entries for volumes on partition %s on all servers\n"
              % partition_name(part))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
