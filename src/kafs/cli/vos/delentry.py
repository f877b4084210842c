"""vos delentry: delete VLDB entries by id/name, or by server/partition/
prefix (vos.c DeleteEntry)."""

from __future__ import annotations

from ._common import (Done, done_json as to_json, outcome_exit as exit_code,  # noqa: F401
                      partition_id, partition_name, print_error, reporter,
                      run_async, session, volume_id, get_server)


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(deleted=[], failed=[], would_delete=[])
    dry = bool(args.dryrun or args.noexecute)
    async with await session(args) as s:
        if args.id:
            if args.prefix is not None or args.server is not None or args.partition is not None:
                r.err("You cannot use -server, -partition, or -prefix with the -id argument\n")
                return d.fail(status=-2)
            back = fail = 0
            for spec in args.id:
                volid, err = await volume_id(s, spec)
                if not volid:
                    r.err(print_error(err) if err else "vos: can't find volume '%s'\n" % spec)
                    continue
                if dry:
                    r.out("Would have deleted VLDB entry for %s \n" % spec)
                    d.info["would_delete"].append(spec)
                    continue
                _, code = await volops._c(vldb.delete_entry(s, volid, vldb.RWVOL))
                if code:
                    r.err("Could not delete entry for volume %s\n" % spec)
                    r.err("You must specify a RW volume name or ID "
                          "(the entire VLDB entry will be deleted)\n")
                    r.err(print_error(code))
                    fail += 1
                    d.info["failed"].append(spec)
                    continue
                back += 1
                d.info["deleted"].append(spec)
            r.out("Deleted %d VLDB entries\n" % back)
            return d.fail(fail)
        if args.prefix is None and args.server is None and args.partition is None:
            r.err("You must specify an option\n")
            return d.fail(status=-2)
        prefix = None
        if args.prefix is not None:
            prefix = args.prefix.encode("utf-8", "surrogateescape")[:65].decode(
                "utf-8", "surrogateescape")
            if args.server is None and args.partition is None:
                r.err("You must provide -server with the -prefix argument\n")
                return d.fail(status=-2)
        server = part = None
        if args.server is not None:
            server = get_server(args.server)
            if not server:
                r.err("vos: server '%s' not found in host table\n" % args.server)
                return d.fail(status=-1)
        if args.partition is not None:
            if args.server is None:
                r.err("You must provide -server with the -partition argument\n")
                return d.fail(status=-2)
            part = partition_id(args.partition)
            if part < 0:
                r.err("vos: could not interpret partition name '%s'\n" % args.partition)
                return d.fail(status=-1)
        line = "Deleting VLDB entries for "
        if args.server is not None:
            line += "server %s " % args.server
        if args.partition is not None:
            line += "partition %s " % partition_name(part)
        if prefix is not None:
            line += "which are prefixed with %s " % prefix
        r.out(line + "\n")
        entries, code = await volops._c(vldb.list_entries(s, server=server, partition=part))
        if code:
            r.err("Could not access the VLDB for attributes\n")
            r.err(print_error(code))
            return d.fail(code, status=-1)
        back = fail = 0
        for e in entries:
            if prefix is not None and not e.name.startswith(prefix):
                if r.verbose:
                    r.out("Omitting to delete %s due to prefix %s mismatch\n" % (e.name, prefix))
                continue
            if dry:
                r.out("Would have deleted VLDB entry for %s \n" % e.name)
                d.info["would_delete"].append(e.name)
                continue
            _, code = await volops._c(vldb.delete_entry(s, e.rw_id, vldb.RWVOL))
            if code:
                r.out("Could not delete VLDB entry for  %s\n" % e.name)
                fail += 1
                r.err(print_error(code))
                d.info["failed"].append(e.name)
                continue
            back += 1
            d.info["deleted"].append(e.name)
            if r.verbose:
                r.out("Deleted VLDB entry for %s \n" % e.name)
    r.out("----------------------\n")
    r.out("Total VLDB entries deleted: %u; failed to delete: %u\n" % (back, fail))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
