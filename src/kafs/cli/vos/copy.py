"""vos copy: copy a volume under a new name (vos.c CopyVolume, vsprocs.c
UV_CopyVolume2)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, find_volume, interruptible,  # noqa: F401
                      is_numeric, name_ok, outcome_exit as exit_code, checked_partition,
                      parse_server, partition_name, reporter, run_async, session,
                      space_check, valid_name, diagnostics)


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(volume=args.id, id=None, name=args.toname, new_id=None,
             from_server=args.fromserver, from_partition=None, to_server=args.toserver,
             to_partition=None)
    async with await session(args) as s:
        volid = await find_volume(s, r, args.id, "vos: can't find volume ID or name '%s'\n")
        if not volid:
            return d.fail(volops.ENOENT)
        d.info["id"] = volid
        fromserver = parse_server(r, args.fromserver)
        if not fromserver:
            return d.fail(volops.ENOENT)
        toserver = parse_server(r, args.toserver)
        if not toserver:
            return d.fail(volops.ENOENT)
        name = args.toname
        if not valid_name(name):
            r.err("vos: the name of the root volume %s exceeds the size limit of %d\n"
                  % (name, volops.VOLSER_OLDMAXVOLNAME - 10))
            return d.fail(7)
        if not name_ok(name):
            r.err("Illegal volume name %s, should not end in .readonly or .backup\n" % name)
            return d.fail(volops.EINVAL)
        if is_numeric(name):
            r.err("Illegal volume name %s, should not be a number\n" % name)
            return d.fail(volops.EINVAL)
        _, code = await volops._c(vldb.get_entry(s, name))
        if not code:
            r.err("Volume %s already exists\n" % name)
            r.err(diagnostics("copy", 0))
            return d.fail(17)
        frompart, failed = await checked_partition(s, r, fromserver, args.frompartition)
        if failed:
            return d.fail(volops.EINVAL if failed == "partition" else volops.ENOENT)
        topart, failed = await checked_partition(s, r, toserver, args.topartition)
        if failed:
            return d.fail(volops.EINVAL if failed == "partition" else volops.ENOENT)
        d.info.update(from_partition=partition_name(frompart), to_partition=partition_name(topart))
        flags = ((volops.RV_OFFLINE if args.offline else 0)
                 | (volops.RV_RDONLY if args.readonly else 0)
                 | (volops.RV_NOCLONE if args.live else 0))
        size, status = await space_check(s, r, fromserver, frompart, volid, toserver, topart,
                                         "copy")
        if status is not None:
            return d.fail(status=status)
        try:
            c = await interruptible(r, volops.copy_volume(
                s, r, volid, fromserver, frompart, name, toserver, topart, 0, flags, size))
        except volops.VolOpError as e:
            if e.fatal:
                return d.fail(e.code, status=1)
            diag(r, "copy", e.code)
            return d.fail(e.code)
        d.info["new_id"] = c.new_id
    r.out("Volume %u copied from %s %s to %s on %s %s \n"
          % (volid, args.fromserver, partition_name(frompart), name, args.toserver,
             partition_name(topart)))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
