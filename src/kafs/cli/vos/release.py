"""vos release: release a read-write volume to its read-only sites
(vos.c ReleaseVolume, vsprocs.c UV_ReleaseVolume).  1.8.9 refuses the
hidden -stayonline switch, and so do we."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, find_volume, get_volume_info,  # noqa: F401
                      inet_ntoa, outcome_exit as exit_code, partition_name, reporter,
                      run_async, session, valid_name)


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(volume=args.id, id=None, ro_id=None, failed_sites=[])
    flags = 0
    if args.force:
        flags |= volops.REL_COMPLETE | volops.REL_FULLDUMPS
    if args.stayonline:
        r.err("vos: -stayonline not supported\n")
        return d.fail(volops.EINVAL)
    if args.force_reclone:
        flags |= volops.REL_COMPLETE
    async with await session(args) as s:
        volid = await find_volume(s, r, args.id, "vos: can't find volume '%s'\n")
        if not volid:
            return d.fail(volops.ENOENT)
        d.info["id"] = volid
        code, server, part, vtype, e = await get_volume_info(s, r, volid)
        if code:
            return d.fail(code)
        if vtype != vldb.RWVOL:
            r.err("%s not a RW volume\n" % args.id)
            return d.fail(volops.ENOENT)
        if not valid_name(e.name):
            r.err("Volume name %s is too long, rename before releasing\n" % e.name)
            return d.fail(7)
        try:
            rel = await volops.release_volume(s, r, volid, server, part, flags)
        except volops.VolOpError as ex:
            d.info["failed_sites"] = [{"server": inet_ntoa(a), "partition": partition_name(p)}
                                      for a, p in getattr(ex, "failed_sites", [])]
            diag(r, "release", ex.code)
            return d.fail(ex.code)
        d.info["ro_id"] = rel.ro_id
    r.out("Released volume %s successfully\n" % args.id)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
