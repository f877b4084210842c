"""vos remsite: remove a read-only site from the VLDB entry (vos.c
RemoveSite, vsprocs.c UV_RemoveSite).  The partition is not checked on
the server (it may be gone already), as in OpenAFS."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, extract_name, outcome_exit as exit_code,  # noqa: F401
                      locate, partition_name, print_error, reporter,
                      run_async, session, volume_id)


async def _run(args) -> Done:
    from kafs.api import volops
    r = reporter(args)
    d = Done(volume=args.id, server=args.server, partition=None, id=None)
    async with await session(args) as s:
        volid, err = await volume_id(s, extract_name(args.id))
        if not volid:
            r.err(print_error(err) if err else "vos: can't find volume '%s'\n" % args.id)
            return d.fail(status=1)
        d.info["id"] = volid
        server, part, failed = await locate(s, r, args.server, args.partition, check=False)
        if failed:
            return d.fail(status=1)
        d.info["partition"] = partition_name(part)
        try:
            await volops.remove_site(s, r, server, part, volid)
        except volops.VolOpError as e:
            diag(r, "remsite", e.code)
            return d.fail(e.code, status=1)
    r.out("Removed replication site %s %s for volume %s\n"
          % (args.server, partition_name(part), args.id))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
