"""vos remove: delete a volume from its server and its site from the VLDB
(vos.c DeleteVolume, vsprocs.c UV_DeleteVolume / DoVolDelete)."""

from __future__ import annotations

from dataclasses import dataclass

from ._common import (ENOENT, diagnostics, error_code, get_server, host_name,
                      partition_id, partition_name, print_error, run_async, session)
from .create import Events, err_events, part_valid, render_events
from . import _fmt

EINVAL = 22
VNOVOL = 103
RWVOL, ROVOL, BACKVOL = 0, 1, 2
VLF_RWEXISTS, VLF_ROEXISTS, VLF_BACKEXISTS = 0x1000, 0x2000, 0x4000
VLSF_ROVOL, VLSF_RWVOL = 0x02, 0x04
ITOffline = 0x1
VTDeleteOnSalvage, VTOutOfService = 1, 2


@dataclass(repr=False)
class Removed(Events):
    spec: str = ""
    volid: int = 0
    server: int = 0
    partition: int = -1


class _Exit(Exception):
    pass


async def _find_index(s, e, server: int, part: int, stype: int) -> int:
    """lockprocs.c FindIndex: the site of type ``stype`` on server/part
    (server 0: any), else -1."""
    from kafs.api import vldb
    for i, st in enumerate(e.sites):
        if not stype or st.flags & stype:
            if not server or (st.partition == part
                              and await vldb.same_server(s, st.server, server)):
                return i
            if stype == VLSF_RWVOL:
                return -1
    return -1


async def do_vol_delete(s, r: Events, conn, volid: int, part: int, typestring: str,
                        verbose: bool) -> int:
    """vsprocs.c DoVolDelete (with a type string: verbose); returns the
    code, VNOVOL quietly when the volume is not there."""
    from kafs.api import volume
    from kafs.errors import AFSError, DecodeError
    if verbose:
        r.out("Deleting %s volume %u ..." % (typestring, volid))
    error = 0
    tid = 0
    try:
        tid = await volume.trans_create(conn, volid, part, ITOffline)
    except (AFSError, DecodeError) as e:
        code = error_code(e)
        if code == VNOVOL:
            return code
        r.eprint(code, "Failed to start transaction on %u\n" % volid)
        error = code
    if tid:
        for what, coro in (("Could not set flags on volume %u \n",
                            lambda: volume.set_flags(conn, tid,
                                                     VTDeleteOnSalvage | VTOutOfService)),
                           ("Could not delete volume %u\n",
                            lambda: volume.delete_trans_volume(conn, tid))):
            try:
                await coro()
            except (AFSError, DecodeError) as e:
                error = error_code(e)
                r.eprint(error, what % volid)
                break
        try:
            code = await volume.end_trans(conn, tid)
        except (AFSError, DecodeError) as e:
            code = error_code(e)
        if code:
            r.err("Could not end transaction on %s volume %u \n" % (typestring, volid))
            if not error:
                error = code
    if verbose and not error:
        r.out(" done\n")
    return error


async def delete_volume(s, r: Events, server: int, part: int, volid: int,
                        verbose: bool, noresolve: bool) -> int:
    """vsprocs.c UV_DeleteVolume; returns the code (messages in ``r``)."""
    from kafs.api import vldb, volume
    from kafs.errors import AFSError, DecodeError
    error = 0
    islocked = False
    notondisk = False
    notinvldb = 0
    entry = None
    try:
        try:
            await vldb.set_lock(s, volid, -1, vldb.VLOP_DELETE)
            islocked = True
        except (AFSError, DecodeError) as e:
            code = error_code(e)
            if code != _vl_noent():
                r.eprint(code, "Could not lock VLDB entry for the volume %u\n" % volid)
                error = code
                raise _Exit
            notinvldb = 1
        if islocked:
            try:
                entry = await vldb.get_entry_by_id(s, volid, -1)
            except (AFSError, DecodeError) as e:
                error = error_code(e)
                r.eprint(error, "Could not fetch VLDB entry for volume %u\n" % volid)
                raise _Exit
            if verbose:
                r.out(_fmt.enumerate_entry(entry, noresolve))
        conn = s.volser(volume._addr(server))
        code = await do_vol_delete(s, r, conn, volid, part, "the", verbose)
        if code:
            if code == VNOVOL:
                notondisk = True
            else:
                error = code
                raise _Exit
        if notinvldb:
            raise _Exit
        e = entry
        if volid == e.bk_id:
            if not e.flags & VLF_BACKEXISTS or await _find_index(s, e, server, part,
                                                                 VLSF_RWVOL) < 0:
                notinvldb = 2
                raise _Exit
            if verbose:
                r.out("Marking the backup volume %u deleted in the VLDB\n" % volid)
            e.flags &= ~VLF_BACKEXISTS
            vtype = BACKVOL
        elif volid == e.ro_id:
            i = await _find_index(s, e, server, part, VLSF_ROVOL)
            if i < 0:
                notinvldb = 2
                raise _Exit
            if verbose:
                r.out("Marking the readonly volume %u deleted in the VLDB\n" % volid)
            del e.sites[i]
            e.n_servers -= 1
            if await _find_index(s, e, 0, 0, VLSF_ROVOL) < 0:
                e.flags &= ~VLF_ROEXISTS
            vtype = ROVOL
        elif volid == e.rw_id:
            i = -1
            if e.flags & VLF_RWEXISTS:
                i = await _find_index(s, e, server, part, VLSF_RWVOL)
            if i < 0:
                notinvldb = 2
                raise _Exit
            if e.bk_id:
                code = await do_vol_delete(s, r, conn, e.bk_id, part, "the backup", verbose)
                if code and code != VNOVOL:
                    error = code
                    raise _Exit
            if verbose:
                r.out("Marking the readwrite volume %u%s deleted in the VLDB\n"
                      % (volid, ", and its backup volume," if e.flags & VLF_BACKEXISTS
                         else ""))
            del e.sites[i]
            e.n_servers -= 1
            e.flags &= ~(VLF_BACKEXISTS | VLF_RWEXISTS)
            vtype = RWVOL
            if e.flags & VLF_ROEXISTS:
                r.err("WARNING: ReadOnly copy(s) may still exist\n")
        else:
            notinvldb = 2
            raise _Exit
        if e.n_servers <= 0 or not e.flags & (VLF_ROEXISTS | VLF_RWEXISTS):
            if verbose:
                r.out("Last reference to the VLDB entry for %u - deleting entry\n" % volid)
            try:
                await vldb.delete_entry(s, volid, vtype)
            except (AFSError, DecodeError) as ex:
                error = error_code(ex)
                r.eprint(error, "Could not delete the VLDB entry for the volume %u \n"
                         % volid)
                raise _Exit
        else:
            try:
                await vldb.replace_entry(s, volid, vtype, e, vldb.LOCKREL_ALL)
            except (AFSError, DecodeError) as ex:
                error = error_code(ex)
                r.eprint(error, "Could not update the VLDB entry for the volume %u \n"
                         % volid)
                raise _Exit
        islocked = False
    except _Exit:
        pass
    if error:
        r.eprint(error, "\n")
    if notondisk and notinvldb:
        code = _volser_novol()
        r.eprint(code, "Volume %u does not exist %s\n"
                 % (volid, "on server and partition" if notinvldb == 2 else ""))
        if not error:
            error = code
    elif notondisk:
        r.err("WARNING: Volume %u did not exist on the partition\n" % volid)
    elif notinvldb:
        r.err("WARNING: Volume %u does not exist in VLDB %s\n"
              % (volid, "on server and partition" if notinvldb == 2 else ""))
    if islocked:
        try:
            await vldb.release_lock(s, volid, -1, vldb.LOCKREL_ALL)
        except (AFSError, DecodeError) as ex:
            code = error_code(ex)
            r.eprint(code, "Could not release the lock on the VLDB entry for the volume %u \n"
                     % volid)
            if not error:
                error = code
    return error


def _vl_noent() -> int:
    from kafs.errors.tables import code_from_name
    return code_from_name("VL_NOENT")


def _volser_novol() -> int:
    from kafs.errors.tables import code_from_name
    return code_from_name("VOLSERNOVOL")


async def _run(args) -> Removed:
    from kafs.api import vldb
    from kafs.errors import AFSError, DecodeError
    r = Removed(spec=args.id)

    def fail(text: str, code: int) -> Removed:
        r.err(text)
        r.code = code
        return r

    server = 0
    partition = -1
    if args.server is not None:
        server = get_server(args.server)
        if not server:
            return fail("vos: server '%s' not found in host table\n" % args.server, ENOENT)
    async with await session(args) as s:
        if args.partition is not None:
            partition = partition_id(args.partition)
            if partition < 0:
                return fail("vos: could not interpret partition name '%s'\n"
                            % args.partition, EINVAL)
            ok, code = await part_valid(s, r, server, partition)
            if not ok:
                if code:
                    return fail(print_error(code), ENOENT)
                return fail("vos : partition %s does not exist on the server\n"
                            % args.partition, ENOENT)
        try:
            volid = await vldb.volume_id(s, args.id)
            verr = 0
        except (AFSError, DecodeError) as e:
            volid, verr = 0, error_code(e)
        if volid == 0:
            r.err("Can't find volume name '%s' in VLDB\n" % args.id)
            return fail(print_error(verr) if verr else "", ENOENT)
        r.volid = volid
        if partition == -1 or not server:
            try:
                e = await vldb.get_entry_by_id(s, volid, -1)
            except (AFSError, DecodeError) as ex:
                code = error_code(ex)
                r.err("Could not fetch the entry for volume %u from VLDB\n" % volid)
                return fail(print_error(code), code)
            nomatch = "VLDB: Volume '%s' no match\n" % args.id
            if ((volid == e.rw_id and e.flags & VLF_RWEXISTS)
                    or (volid == e.bk_id and e.flags & VLF_BACKEXISTS)):
                idx = await _find_index(s, e, 0, 0, VLSF_RWVOL)
                if (idx == -1 or (server and server != e.sites[idx].server)
                        or (partition != -1 and partition != e.sites[idx].partition)):
                    return fail(nomatch, ENOENT)
            elif volid == e.ro_id and e.flags & VLF_ROEXISTS:
                idx = -1
                for j, st in enumerate(e.sites):
                    if not st.flags & VLSF_ROVOL:
                        continue
                    if (server == 0 or server == st.server) and \
                            (partition == -1 or partition == st.partition):
                        if idx != -1:
                            return fail("VLDB: Volume '%s' matches more than one RO\n"
                                        % args.id, ENOENT)
                        idx = j
                if idx == -1:
                    return fail(nomatch, ENOENT)
            else:
                return fail(nomatch, ENOENT)
            server = e.sites[idx].server
            partition = e.sites[idx].partition
        r.server, r.partition = server, partition
        code = await delete_volume(s, r, server, partition, volid, bool(args.verbose),
                                   bool(args.noresolve))
        if code:
            r.err(diagnostics("remove", code))
            r.code = code
            return r
        r.out("Volume %u on partition %s server %s deleted\n"
              % (volid, partition_name(partition), host_name(server)))
    return r


def run(args):
    return run_async(_run, args)


def render(r: Removed, args) -> None:
    render_events(r, args)


def to_json(r: Removed):
    err_events(r)
    return {"volume": r.spec, "id": r.volid or None,
            "server": _fmt.inet_ntoa(r.server) if r.server else None,
            "partition": partition_name(r.partition) if r.partition >= 0 else None,
            "deleted": r.code == 0, "code": r.code}


def exit_code(r: Removed) -> int:
    return r.code
