"""vos addsite: add a read-only site to a volume's VLDB entry (vos.c
AddSite, vsprocs.c UV_AddSite2)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, extract_name, outcome_exit as exit_code,  # noqa: F401
                      locate, partition_name,
                      print_error, reporter, run_async, session, volume_id)


async def _run(args) -> Done:
    from kafs.api import volops
    r = reporter(args)
    d = Done(volume=args.id, server=args.server, partition=None, id=None, ro_id=None,
             valid=bool(args.valid))
    async with await session(args) as s:
        volid, err = await volume_id(s, extract_name(args.id))
        if not volid:
            r.err(print_error(err) if err else "vos: can't find volume '%s'\n" % args.id)
            return d.fail(status=1)
        d.info["id"] = volid
        roid = 0
        if args.roid is not None:
            roid, err = await volume_id(s, extract_name(args.roid))
            if not roid:
                r.err("vos: invalid ro volume id '%s'\n" % args.roid)
                return d.fail(status=1)
            d.info["ro_id"] = roid
        server, part, failed = await locate(s, r, args.server, args.partition)
        if failed:
            return d.fail(status=1)
        d.info["partition"] = partition_name(part)
        try:
            await volops.add_site(s, r, server, part, volid, roid, bool(args.valid))
        except volops.VolOpError as e:
            diag(r, "addsite", e.code)
            return d.fail(e.code, status=1)
    r.out("Added replication site %s %s for volume %s\n"
          % (args.server, partition_name(part), args.id))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
