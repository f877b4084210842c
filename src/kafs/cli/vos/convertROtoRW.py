"""vos convertROtoRW: turn a read-only copy into the read-write volume
after the RW was lost (vos.c ConvertRO, vsprocs.c UV_ConvertRO)."""

from __future__ import annotations

import sys

from ._common import (Done, done_json as to_json, get_server, host_name,  # noqa: F401
                      outcome_exit as exit_code, partition_id, partition_name, partition_ok,
                      print_error, reporter, run_async, session, volume_id)


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(volume=args.id, id=None, server=args.server, partition=None)
    server = get_server(args.server)
    if not server:
        r.err("vos: host '%s' not found in host table\n" % args.server)
        return d.fail(volops.ENOENT)
    part = partition_id(args.partition)
    if part < 0:
        r.err("vos: could not interpret partition name '%s'\n" % args.partition)
        return d.fail(volops.ENOENT)
    async with await session(args) as s:
        if not await partition_ok(s, r, server, part, args.partition):
            return d.fail(volops.ENOENT)
        d.info["partition"] = partition_name(part)
        volid, err = await volume_id(s, args.id)
        if not volid:
            r.err(print_error(err) if err else "Unknown volume ID or name '%s'\n" % args.id)
            return d.fail(-1)
        e, vcode = await volops._c(vldb.get_entry_by_id(s, volid, -1))
        if vcode:
            r.err("Could not fetch the entry for volume %u from VLDB\n" % volid)
            r.err(print_error(vcode, "convertROtoRW "))
            return d.fail(vcode)
        volid = e.ro_id
        d.info["id"] = volid
        rwserver = roserver = 0
        rwpart = ropart = 0
        for x in e.sites:
            if x.flags & vldb.VLSF_RWVOL:
                rwserver, rwpart = x.server, x.partition
                if roserver:
                    break
            elif x.flags & vldb.VLSF_ROVOL and not roserver:
                same, err = await volops.is_same_addrs(s, server, x.server)
                if err:
                    r.err("Failed to get info about server's %d address(es) from vlserver "
                          "(err=%d); aborting call!\n" % (volops.net_int(server), err))
                    return d.fail(volops.ENOENT)
                if same:
                    roserver, ropart = x.server, x.partition
                    if rwserver:
                        break
        if not roserver:
            r.err("Warning: RO volume didn't exist in vldb!\n")
        if roserver and ropart != part:
            r.err("Warning: RO volume should be in partition %d instead of %d (vldb)\n"
                  % (ropart, part))
        if rwserver:
            r.err("VLDB indicates that a RW volume exists already on %s in partition %s.\n"
                  % (host_name(rwserver), partition_name(rwpart)))
            if not args.force:
                r.err("Overwrite this VLDB entry? [y|n] (n)\n")
                line = sys.stdin.readline() if sys.stdin is not None else ""
                if line[:1] not in ("y", "Y"):
                    r.err("aborted.\n")
                    return d.fail(-1)
        try:
            await volops.convert_ro(s, r, server, part, volid, e)
        except volops.VolOpError as ex:
            return d.fail(ex.code)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
