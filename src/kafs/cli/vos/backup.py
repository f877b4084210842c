"""vos backup: make or refresh a volume's backup clone (vos.c
BackupVolume, vsprocs.c UV_BackupVolume)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, find_volume, get_volume_info,  # noqa: F401
                      inet_ntoa, outcome_exit as exit_code, partition_name, reporter,
                      run_async, session)


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(volume=args.id, id=None, backup_id=None, server=None, partition=None)
    async with await session(args) as s:
        volid = await find_volume(s, r, args.id)
        if not volid:
            return d.fail(volops.ENOENT)
        d.info["id"] = volid
        code, server, part, vtype, e = await get_volume_info(s, r, volid)
        if code:
            return d.fail(code, status=1)
        if vtype != vldb.RWVOL:
            r.err("%s not RW volume\n" % args.id)
            return d.fail(status=1)
        if e.flags & vldb.VLF_BACKEXISTS:
            code, bserver, _, _, _ = await get_volume_info(s, r, e.bk_id)
            if code:
                return d.fail(code, status=1)
            same, err = await volops.is_same_addrs(s, bserver, server)
            if err:
                r.err("Failed to get info about server's %d address(es) from vlserver; "
                      "aborting call!\n" % volops.net_int(bserver))
                return d.fail(err, status=1)
            if not same:
                r.err("FATAL ERROR: backup volume %u exists on server %u\n"
                      % (e.bk_id, volops.net_int(bserver) & 0xFFFFFFFF))
                return d.fail(status=1)
        d.info.update(server=inet_ntoa(server), partition=partition_name(part))
        try:
            c = await volops.backup_volume(s, r, server, part, volid)
        except volops.VolOpError as ex:
            diag(r, "backup", ex.code)
            return d.fail(ex.code)
        d.info["backup_id"] = c.clone_id
    r.out("Created backup volume for %s \n" % args.id)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
