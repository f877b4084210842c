"""vos restore: restore a dump file (or stdin) into a volume (vos.c
RestoreVolumeCmd and WriteData, vsprocs.c UV_RestoreVolume2).  With
-file on a terminal, a progress line on stderr shows how much was sent."""

from __future__ import annotations

import os
import sys

from ._common import (Done, diag, done_json as to_json, extract_name, get_server,  # noqa: F401
                      get_volume_info, name_ok, outcome_exit as exit_code, partition_id,
                      partition_name, partition_ok, print_error, reporter, run_async, session,
                      valid_name, volume_id)

ASK, ABORT, FULL, INC = 0, 1, 2, 3
TS_DUMP, TS_KEEP, TS_NEW = 1, 2, 3
DUMPENDMAGIC = 0x3A214B6E
CHUNK = 1 << 20


def _choice(value, table):
    for k, names in table.items():
        if value in names:
            return k
    return None


def _strerror(e: OSError) -> str:
    from kafs.errors.tables import TOOL_TABLES, error_message
    return error_message(e.errno, TOOL_TABLES["vos"]) if e.errno else str(e)


def write_data(r, filename: str):
    """vos.c WriteData: the file (checked for the dump-end signature
    first) or stdin, sent on the restore call."""
    from kafs.api import volops

    async def send_all(stream) -> int:
        import asyncio
        if not filename:
            loop = asyncio.get_running_loop()
            fd = sys.stdin.fileno() if sys.stdin is not None else 0
            while True:
                d = await loop.run_in_executor(None, os.read, fd, CHUNK)
                if not d:
                    return 0
                await stream.send(d)
                r.progress("vos restore", stream.bytes, None)
        try:
            f = open(filename, "rb")
        except OSError as e:
            r.err("Could not access file '%s': %s\n" % (filename, _strerror(e)))
            return volops.VOLSERBADOP
        with f:
            try:
                size = os.fstat(f.fileno()).st_size
                f.seek(max(0, size - 4))
                tail = f.read(4)
                f.seek(0)
            except OSError:
                tail = b""
                size = 0
            if len(tail) != 4 or int.from_bytes(tail, "big") != DUMPENDMAGIC:
                r.err("Signature missing from end of file '%s'\n" % filename)
                return volops.VOLSERBADOP
            while True:
                try:
                    d = f.read(CHUNK)
                except OSError as e:
                    r.err("File system read failed: %s\n" % _strerror(e))
                    return e.errno or -1
                if not d:
                    break
                await stream.send(d)
                r.progress("vos restore", stream.bytes, size)
        r.progress_end()
        return 0
    return send_all


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(name=args.name, server=args.server, partition=None, id=None, file=args.file,
             full=None, bytes=0)
    async with await session(args) as s:
        avolid = 0
        aparentid = 0
        if args.id is not None:
            avolid, err = await volume_id(s, args.id)
            if not avolid:
                r.err(print_error(err) if err else "vos: can't find volume '%s'\n" % args.id)
                return d.fail(status=1)
        overwrite = ASK
        if args.overwrite is not None:
            overwrite = _choice(args.overwrite, {ABORT: ("a", "abort"), FULL: ("f", "full"),
                                                 INC: ("i", "inc", "increment", "incremental")})
            if overwrite is None:
                r.err("vos: %s is not a valid argument to -overwrite\n" % args.overwrite)
                return d.fail(status=1)
        readonly = bool(args.readonly)
        voltype = vldb.ROVOL if readonly else vldb.RWVOL
        ts = {TS_DUMP: ("d", "dump"), TS_KEEP: ("k", "keep"), TS_NEW: ("n", "new")}
        acreation = alastupdate = 0
        for opt, label in ((args.creation, "creation"), (args.lastupdate, "lastupdate")):
            if opt is not None:
                v = _choice(opt, ts)
                if v is None:
                    r.err("vos: %s is not a valid argument to -%s\n" % (opt, label))
                    return d.fail(status=1)
                if label == "creation":
                    acreation = v
                else:
                    alastupdate = v
        server = get_server(args.server)
        if not server:
            r.err("vos: server '%s' not found in host table\n" % args.server)
            return d.fail(status=1)
        part = partition_id(args.partition)
        if part < 0:
            r.err("vos: could not interpret partition name '%s'\n" % args.partition)
            return d.fail(status=1)
        if not await partition_ok(s, r, server, part, args.partition):
            return d.fail(status=1)
        d.info["partition"] = partition_name(part)
        name = args.name
        if not valid_name(name):
            r.err("vos: the name of the volume %s exceeds the size limit\n" % name)
            return d.fail(status=1)
        if not name_ok(name):
            r.err("Illegal volume name %s, should not end in .readonly or .backup\n" % name)
            return d.fail(status=1)
        filename = ""
        if args.file is not None:
            filename = args.file
            try:
                ok = os.path.exists(filename) and open(filename, "rb").close() is None
            except OSError:
                ok = False
            if not ok:
                r.err("Can't access file %s\n" % filename)
                return d.fail(status=1)
        restoreflags = 0
        volname = extract_name(name)
        e, vcode = await volops._c(vldb.get_entry(s, volname))
        rw_index = -1 if vcode else next((i for i, x in enumerate(e.sites)
                                          if x.flags & vldb.VLSF_RWVOL), -1)
        ro_match = 0 if vcode else await volops.lp_ro_match(s, r, 0, 0, e)
        if vcode:
            restoreflags = volops.RV_FULLRST
            if overwrite in (INC, ABORT):
                r.err("Volume does not exist; Will perform a full restore\n")
        elif (not readonly and rw_index == -1) or (readonly and not ro_match):
            restoreflags = volops.RV_FULLRST
            if overwrite in (INC, ABORT):
                r.err("%s Volume does not exist; Will perform a full restore\n"
                      % ("RO" if readonly else "RW"))
            ids = e.volume_ids()
            if avolid == 0 or (ids[voltype] != 0 and ids[voltype] != avolid):
                avolid = ids[voltype]
            aparentid = e.rw_id
        else:
            ids = e.volume_ids()
            if avolid == 0 or (ids[voltype] != 0 and ids[voltype] != avolid):
                avolid = ids[voltype]
            aparentid = e.rw_id
            code, oserver, opart, _, _ = await get_volume_info(s, r, avolid)
            if code:
                return d.fail(code, status=1)
            same, err = await volops.is_same_addrs(s, oserver, server)
            if err:
                r.err("Failed to get info about server's %d address(es) from vlserver (err=%d); "
                      "aborting call!\n" % (volops.net_int(oserver), err))
                return d.fail(err, status=1)
            elsewhere = not same or opart != part
            if overwrite == ASK:
                if not filename:
                    r.err("Volume exists and no -overwrite option specified; Aborting restore "
                          "command\n")
                    return d.fail(status=1)
                if elsewhere:
                    r.err("The volume %s %u already exists on a different server/part\n"
                          % (volname, ids[voltype]))
                    r.err("Do you want to do a full restore or abort? [fa](a): ")
                else:
                    r.err("The volume %s %u already exists in the VLDB\n" % (volname, ids[voltype]))
                    r.err("Do you want to do a full/incremental restore or abort? [fia](a): ")
                line = sys.stdin.readline() if sys.stdin is not None else ""
                c = line[:1]
                overwrite = FULL if c in ("f", "F") else INC if c in ("i", "I") else ABORT
            if overwrite == ABORT:
                r.err("Volume exists; Aborting restore command\n")
                return d.fail(status=1)
            if overwrite == FULL:
                restoreflags = volops.RV_FULLRST
                r.err("Volume exists; Will delete and perform full restore\n")
            elif overwrite == INC:
                restoreflags = 0
                if elsewhere:
                    r.err("%s volume %u already exists on a different server/part; not allowed\n"
                          % ("RO" if readonly else "RW", avolid))
                    return d.fail(status=1)
        if args.offline:
            restoreflags |= volops.RV_OFFLINE
        if readonly:
            restoreflags |= volops.RV_RDONLY
        restoreflags |= {TS_DUMP: volops.RV_CRDUMP, TS_KEEP: volops.RV_CRKEEP,
                         TS_NEW: volops.RV_CRNEW}.get(
            acreation, volops.RV_CRNEW if overwrite == FULL else volops.RV_CRKEEP)
        restoreflags |= {TS_DUMP: volops.RV_LUDUMP, TS_KEEP: volops.RV_LUKEEP,
                         TS_NEW: volops.RV_LUNEW}.get(alastupdate, volops.RV_LUDUMP)
        if args.nodelete:
            restoreflags |= volops.RV_NODEL
        d.info["full"] = bool(restoreflags & volops.RV_FULLRST)
        try:
            res = await volops.restore_volume(s, r, server, part, avolid, aparentid, name,
                                              restoreflags, write_data(r, filename))
        except volops.VolOpError as ex:
            diag(r, "restore", ex.code)
            return d.fail(ex.code, status=1)
        d.info.update(id=res.volid, bytes=res.bytes)
    r.out("Restored volume %s on %s %s\n" % (name, args.server, partition_name(part)))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
