"""vos clone: make a clone of a volume beside it (vos.c CloneVolume,
vsprocs.c UV_CloneVolume)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, find_volume, get_volume_info,  # noqa: F401
                      inet_ntoa, is_numeric, outcome_exit as exit_code, parse_partition,
                      parse_server, partition_name, partition_ok, reporter, run_async, session)


async def _run(args) -> Done:
    from kafs.api import volops
    r = reporter(args)
    d = Done(volume=args.id, id=None, clone_id=None, name=args.toname, server=None,
             partition=None)
    async with await session(args) as s:
        volid = await find_volume(s, r, args.id)
        if not volid:
            return d.fail(volops.ENOENT)
        d.info["id"] = volid
        if args.server is not None or args.partition is not None:
            if args.server is None or args.partition is None:
                r.err("Must specify both -server and -partition options\n")
                return d.fail(-1)
            server = parse_server(r, args.server)
            if not server:
                return d.fail(volops.ENOENT)
            part = parse_partition(r, args.partition)
            if part < 0:
                return d.fail(volops.EINVAL)
            if not await partition_ok(s, r, server, part, args.partition):
                return d.fail(volops.ENOENT)
        else:
            code, server, part, _, _ = await get_volume_info(s, r, volid)
            if code:
                return d.fail(code)
        name = None
        if args.toname is not None:
            name = args.toname
            if volops.blen(name) > volops.VOLSER_OLDMAXVOLNAME - 1:
                r.err("vos: the name of the root volume %s exceeds the size limit of %d\n"
                      % (name, volops.VOLSER_OLDMAXVOLNAME - 1))
                return d.fail(7)
            if is_numeric(name):
                r.err("Illegal volume name %s, should not be a number\n" % name)
                return d.fail(volops.EINVAL)
        cloneid = 0
        if args.toid is not None:
            cloneid = await find_volume(s, r, args.toid)
            if not cloneid:
                return d.fail(volops.ENOENT)
        flags = volops.RV_OFFLINE if args.offline else 0
        if args.readonly and args.readwrite:
            r.err("vos: cannot specify that a volume be -readwrite and -readonly\n")
            return d.fail(volops.EINVAL)
        if args.readonly:
            flags |= volops.RV_RDONLY
        if args.readwrite:
            flags |= volops.RV_RWONLY
        d.info.update(server=inet_ntoa(server), partition=partition_name(part))
        try:
            c = await volops.clone_volume(s, r, server, part, volid, cloneid, name, flags)
        except volops.VolOpError as ex:
            diag(r, "clone", ex.code)
            return d.fail(ex.code)
        d.info["clone_id"] = c.clone_id
    r.out("Created clone for volume %s\n" % args.id)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
