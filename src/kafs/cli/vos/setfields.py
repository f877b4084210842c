"""vos setfields: change a volume's quota, day use or update counter
(vos.c SetFields, vsprocs.c UV_SetVolumeInfo)."""

from __future__ import annotations

from ._common import (Done, done_json as to_json, find_volume, inet_ntoa,  # noqa: F401
                      outcome_exit as exit_code, partition_name, reporter, run_async, session)
from .create import get_human_int32


async def _run(args) -> Done:
    from kafs.api import vldb, volops, volume
    r = reporter(args)
    d = Done(volume=args.id, id=None, server=None, partition=None, maxquota=None,
             clearuse=bool(args.clearuse), clear_vol_up_counter=bool(args.clearVolUpCounter))
    async with await session(args) as s:
        volid = await find_volume(s, r, args.id, "Unknown volume ID or name '%s'\n")
        if not volid:
            return d.fail(-1)
        d.info["id"] = volid
        e, code = await volops._c(vldb.get_entry_by_id(s, volid, vldb.RWVOL))
        if code:
            r.err("Could not fetch the entry for volume number %u from VLDB \n" % volid)
            return d.fail(code)
        i = next((j for j, st in enumerate(e.sites) if st.flags & vldb.VLSF_RWVOL), -1)
        if i == -1:
            r.err("Volume %s does not exist in VLDB\n\n" % args.id)
            return d.fail(volops.ENOENT)
        server, part = e.sites[i].server, e.sites[i].partition
        d.info.update(server=inet_ntoa(server), partition=partition_name(part))
        info = volume.new_volint_info()
        info.volid = volid
        info.type = vldb.RWVOL
        have = False
        if args.maxquota is not None:
            have = True
            q = get_human_int32(args.maxquota)
            if q is None:
                r.err("invalid quota value\n")
                return d.fail(volops.EINVAL)
            info.maxquota = q
            d.info["maxquota"] = q
        if args.clearuse:
            have = True
            info.dayUse = 0
        if args.clearVolUpCounter:
            have = True
            info.spare2 = 0
        if not have:
            r.err("Nothing to set.\n")
            return d.fail(1)
        try:
            await volops.set_volume_info(s, r, server, part, volid, info)
        except volops.VolOpError as ex:
            r.err("Could not update volume info fields for volume number %u\n" % volid)
            return d.fail(ex.code)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
