"""vos zap: delete a volume from a server without touching the VLDB
(vos.c VolumeZap / NukeVolume, vsprocs.c UV_VolumeZap / UV_NukeVolume)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, get_server,  # noqa: F401
                      outcome_exit as exit_code, parse_partition, partition_id,
                      partition_name, partition_ok, print_error, reporter, run_async, session,
                      volume_id)


async def _nuke(s, r, args, d: Done) -> Done:
    from kafs.api import volops
    server = get_server(args.server)
    if not server:
        r.err("vos: server '%s' not found in host table\n" % args.server)
        return d.fail(1)
    part = partition_id(args.partition)
    if part == -1:
        r.err("vos: could not parse '%s' as a partition name" % args.partition)
        return d.fail(1)
    volid, err = await volume_id(s, args.id)
    if not volid:
        r.err(print_error(err) if err else
              "vos: could not parse '%s' as a numeric volume ID" % args.id)
        return d.fail(1)
    d.info.update(id=volid, partition=partition_name(part))
    r.out("vos: forcibly removing all traces of volume %d, please wait..." % _s32(volid))
    code = await volops.nuke_volume(s, server, part, volid)
    if code == 0:
        r.out("done.\n")
        d.info["deleted"].append(volid)
    else:
        r.out("failed with code %d.\n" % code)
    return d.fail(code)


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(volume=args.id, server=args.server, partition=None, id=None, deleted=[],
             force=bool(args.force))
    async with await session(args) as s:
        if args.force:
            return await _nuke(s, r, args, d)
        volid, err = await volume_id(s, args.id)
        if not volid:
            r.err(print_error(err) if err else "vos: can't find volume '%s'\n" % args.id)
            return d.fail(status=1)
        d.info["id"] = volid
        part = parse_partition(r, args.partition)
        if part < 0:
            return d.fail(status=1)
        server = get_server(args.server)
        if not server:
            r.err("vos: host '%s' not found in host table\n" % args.server)
            return d.fail(status=1)
        if not await partition_ok(s, r, server, part, args.partition):
            return d.fail(status=1)
        d.info["partition"] = partition_name(part)
        backupid = 0
        e, code = await volops._c(vldb.get_entry_by_id(s, volid, -1))
        if not code:
            if volid == e.rw_id:
                backupid = e.bk_id
            r.err("Warning: Entry for volume number %u exists in VLDB (but we're zapping it "
                  "anyway!)\n" % volid)
        if args.backup:
            if not backupid:
                v, code = await volops.uv_list_one(s, r, server, part, volid)
                if not code and volid == v.parent_id:
                    backupid = v.backup_id
            if backupid:
                try:
                    await volops.volume_zap(s, r, server, part, backupid)
                except volops.VolOpError as ex:
                    diag(r, "zap", ex.code)
                    return d.fail(ex.code, status=1)
                r.out("Backup Volume %u deleted\n" % backupid)
                d.info["deleted"].append(backupid)
        try:
            await volops.volume_zap(s, r, server, part, volid)
        except volops.VolOpError as ex:
            diag(r, "zap", ex.code)
            return d.fail(ex.code, status=1)
        r.out("Volume %u deleted\n" % volid)
        d.info["deleted"].append(volid)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
