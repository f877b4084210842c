"""vos shadow: make or update a copy of a volume that the VLDB does not
know (vos.c ShadowVolume, vsprocs.c UV_CopyVolume2 with RV_NOVLDB)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, find_volume, interruptible,  # noqa: F401
                      is_numeric, name_ok, outcome_exit as exit_code, checked_partition,
                      parse_server, partition_name, reporter, run_async, session,
                      valid_name)


async def _run(args) -> Done:
    from kafs.api import volops
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
        frompart, failed = await checked_partition(s, r, fromserver, args.frompartition)
        if failed:
            return d.fail(volops.EINVAL if failed == "partition" else volops.ENOENT)
        topart, failed = await checked_partition(s, r, toserver, args.topartition)
        if failed:
            return d.fail(volops.EINVAL if failed == "partition" else volops.ENOENT)
        v = None
        if args.toname is not None:
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
        else:
            v, code = await volops.uv_list_one(s, r, fromserver, frompart, volid)
            if code:
                r.err("vos:cannot access volume %u\n" % volid)
                return d.fail(status=1)
            name = v.name
        d.info["name"] = name
        spec = args.toid if args.toid is not None else name
        tovolid = await find_volume(s, r, spec, "vos: can't find volume ID or name '%s'\n")
        if not tovolid:
            return d.fail(volops.ENOENT)
        flags = (volops.RV_NOVLDB | (volops.RV_OFFLINE if args.offline else 0)
                 | (volops.RV_RDONLY if args.readonly else 0)
                 | (volops.RV_NOCLONE if args.live else 0)
                 | (volops.RV_CPINCR if args.incremental else 0))
        pname = partition_name(topart)
        p, code = await volops.uv_partition_info(s, r, toserver, pname)
        if code:
            r.err("vos: cannot access partition %s\n" % pname)
            return d.fail(status=1)
        if v is None:
            v, code = await volops.uv_list_one(s, r, fromserver, frompart, volid)
            if code:
                r.err("vos:cannot access volume %u\n" % volid)
                return d.fail(status=1)
        q, _ = await volops.uv_list_one(s, r, toserver, topart, tovolid)   # may fail
        size = v.size
        need = (size - q.size if q.size < size else 0) if q else size
        if p.free <= need:
            r.err("vos: no space on target partition %s to copy volume %u\n" % (pname, volid))
            return d.fail(status=1)
        d.info.update(from_partition=partition_name(frompart), to_partition=partition_name(topart),
                      new_id=tovolid)
        try:
            await interruptible(r, volops.copy_volume(
                s, r, volid, fromserver, frompart, name, toserver, topart, tovolid, flags, size,
                what="shadow"))
        except volops.VolOpError as e:
            if e.fatal:
                return d.fail(e.code, status=1)
            diag(r, "shadow", e.code)
            return d.fail(e.code)
    r.out("Volume %u shadowed from %s %s to %s %s \n"
          % (volid, args.fromserver, partition_name(frompart), args.toserver,
             partition_name(topart)))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
