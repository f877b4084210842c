"""Bringing the VLDB and the volume servers into agreement: what OpenAFS's
vsprocs.c does for ``vos syncvldb`` (UV_SyncVldb, UV_SyncVolume,
CheckVolume) and ``vos syncserv`` (UV_SyncServer, CheckVldb and the RW/BK
and RO checks), with the same order of calls, locking (each entry is
read unlocked first and locked only when it will change), messages and
``-dryrun`` behaviour.  Messages go to a :class:`kafs.api.volops.Reporter`;
a failure raises :class:`kafs.api.volops.VolOpError`."""

from __future__ import annotations

from . import vldb, volume
from .vldb import (BACKVOL, LOCKREL_ALL, ROVOL, RWVOL, VLF_BACKEXISTS, VLF_ROEXISTS,
                   VLF_RWEXISTS, VLSF_ROVOL, VLSF_RWVOL, Site, VLDBEntry, partition_name)
from .volops import (ENODEV, EINVAL, VL_NOENT, VLOP_DELETE, VOLSER_OLDMAXVOLNAME,
                     VolOpError, _c, _copy_entry, _release_lock, _replace, _rw_first,
                     _set_lock, blen, lp_match, lp_ro_match, list_one, set_a_value)

VOLSERFAILEDOP = 1492325137

__all__ = ["sync_vldb", "sync_volume", "sync_server"]


class _Exit(Exception):
    def __init__(self, code):
        self.code = code


def _put(e: VLDBEntry, idx: int, server: int, part: int, flags: int) -> None:
    while len(e.sites) <= idx:
        e.sites.append(Site(0, 0, 0))
    e.sites[idx].server = server
    e.sites[idx].partition = part
    e.sites[idx].flags = flags


async def _exists(s, server: int, part: int, volid: int) -> int:
    """VolumeExists: 0, ENODEV (not there) or another code."""
    _, code = await list_one(s, server, part, volid)
    return ENODEV if code == 1492325125 else code


def _ids_max(e: VLDBEntry, cur: int) -> int:
    return max(cur, e.ro_id & 0xFFFFFFFF, e.bk_id & 0xFFFFFFFF, e.rw_id & 0xFFFFFFFF)


async def check_vldb_rwbk(s, r, e: VLDBEntry) -> int:
    """CheckVldbRWBK: the number of changes; raises _Exit on an error."""
    mod = 0
    idx = _rw_first(e)
    for vid, bit, label in ((e.rw_id, VLF_RWEXISTS, "RW"), (e.bk_id, VLF_BACKEXISTS, "BK")):
        if label == "BK":
            vid = e.bk_id
        if idx == -1:
            if e.flags & bit:
                e.flags &= ~bit
                mod += 1
            continue
        st = e.sites[idx]
        code = await _exists(s, st.server, st.partition, vid)
        if code == 0:
            if not e.flags & bit:
                e.flags |= bit
                mod += 1
        elif code == ENODEV:
            if e.flags & bit:
                e.flags &= ~bit
                mod += 1
        elif e.flags & bit:
            r.err("Transaction call failed for %s volume %u on server %s %s\n"
                  % (label, vid, r.host(st.server), partition_name(st.partition)))
            raise _Exit(code)
    if idx != -1 and not e.flags & VLF_RWEXISTS and not e.flags & VLF_BACKEXISTS:
        st = e.sites[idx]
        await set_a_value(s, r, e, st.server, st.partition, 0, 0, VLSF_RWVOL)
        e.n_servers -= 1
        mod += 1
    return mod


async def check_vldb_ro(s, r, e: VLDBEntry) -> int:
    """CheckVldbRO: the number of changes; raises _Exit on an error."""
    mod = 0
    found = 0
    idx = 0
    while idx < e.n_servers:
        st = e.sites[idx]
        if not st.flags & VLSF_ROVOL:
            idx += 1
            continue
        code = await _exists(s, st.server, st.partition, e.ro_id)
        if code == 0:
            found += 1
        elif code == ENODEV:
            await set_a_value(s, r, e, st.server, st.partition, 0, 0, VLSF_ROVOL)
            e.n_servers -= 1
            mod += 1
            continue
        else:
            r.err("Transaction call failed for RO %u on server %s %s\n"
                  % (e.ro_id, r.host(st.server), partition_name(st.partition)))
            raise _Exit(code)
        idx += 1
    if found:
        if not e.flags & VLF_ROEXISTS:
            e.flags |= VLF_ROEXISTS
            mod += 1
    elif e.flags & VLF_ROEXISTS:
        e.flags &= ~VLF_ROEXISTS
        mod += 1
    return mod


async def check_vldb(s, r, e: VLDBEntry, dryrun: bool) -> tuple[int, bool, bool]:
    """CheckVldb: (error, modified, deleted); ``e`` is updated in place."""
    doit = not dryrun
    error = 0
    islocked = False
    modentry = 0
    delentry = False
    if r.verbose:
        r.out("_______________________________\n")
        r.out("\n-- status before -- \n")
        if e.flags & (VLF_RWEXISTS | VLF_ROEXISTS | VLF_BACKEXISTS):
            r.entry(e)
        r.out("\n")
    if blen(e.name) > VOLSER_OLDMAXVOLNAME - 10:
        r.err("Volume name %s exceeds limit of %d characters\n"
              % (e.name, VOLSER_OLDMAXVOLNAME - 10))
    pass_ = 0
    try:
        while True:
            pass_ += 1
            if pass_ == 2:
                code = await _set_lock(s, e.rw_id, RWVOL, VLOP_DELETE)
                if code:
                    r.err("Could not lock VLDB entry for %u \n" % e.rw_id)
                    raise _Exit(code)
                islocked = True
                fresh, code = await _c(vldb.get_entry_by_id(s, e.rw_id, RWVOL))
                if code:
                    r.err("Could not read VLDB entry for volume %s\n" % e.name)
                    raise _Exit(code)
                _assign(e, fresh)
            modentry = 0
            mod = await check_vldb_rwbk(s, r, e)
            if mod and pass_ == 1 and doit:
                continue
            if mod:
                modentry += 1
            mod = await check_vldb_ro(s, r, e)
            if mod and pass_ == 1 and doit:
                continue
            if mod:
                modentry += 1
            if modentry and doit:
                if pass_ == 1:
                    continue
                if not e.flags & (VLF_RWEXISTS | VLF_BACKEXISTS | VLF_ROEXISTS):
                    _, code = await _c(vldb.delete_entry(s, e.rw_id, RWVOL))
                    if code:
                        r.err("Could not delete VLDB entry for volume %u \n" % e.rw_id)
                        raise _Exit(code)
                    delentry = True
                else:
                    code = await _replace(s, e.rw_id, RWVOL, e, LOCKREL_ALL)
                    if code:
                        r.err("Could not update VLDB entry for volume %u\n" % e.rw_id)
                        raise _Exit(code)
                islocked = False
            break
        if r.verbose:
            r.out("-- status after --\n")
            if delentry:
                r.out("\n**entry deleted**\n")
            elif modentry:
                r.entry(e)
            else:
                r.out("\n**no change**\n")
    except _Exit as x:
        error = x.code
    r.vprint("\n_______________________________\n")
    if islocked:
        code = await _release_lock(s, e.rw_id, RWVOL)
        if code:
            r.err("Could not release lock on VLDB entry for volume %u\n" % e.rw_id)
            error = error or code
    return error, bool(modentry), delentry


def _assign(e: VLDBEntry, f: VLDBEntry) -> None:
    e.name, e.rw_id, e.ro_id, e.bk_id = f.name, f.rw_id, f.ro_id, f.bk_id
    e.clone_id, e.flags, e.sites, e.n_servers = f.clone_id, f.flags, f.sites, f.n_servers


async def check_volume(s, r, v, aserver: int, apart: int, dryrun: bool, maxvolid: list,
                       aentry: VLDBEntry | None = None) -> tuple[int, bool]:
    """CheckVolume: make the VLDB agree with the volume header ``v``
    (a VolumeInfo) found on aserver/apart.  Returns (error, modified)."""
    doit = not dryrun
    rwvolid = v.volid if v.type == RWVOL else v.parent_id
    error = 0
    modified = 0
    pass_ = 0
    e = None
    try:
        while True:
            pass_ += 1
            if pass_ == 2:
                code = await _set_lock(s, rwvolid, RWVOL, VLOP_DELETE)
                if code:
                    r.err("Could not lock VLDB entry for %u\n" % rwvolid)
                    raise _Exit(code)
            createentry = addvolume = False
            modified = 0
            if aentry is not None:
                e = _copy_entry(aentry)
            else:
                e, code = await _c(vldb.get_entry_by_id(s, rwvolid, RWVOL))
                if code:
                    if code != VL_NOENT:
                        r.out("Could not retrieve the VLDB entry for volume %u \n" % rwvolid)
                        raise _Exit(code)
                    from .vldb import _extract_name
                    e = VLDBEntry(_extract_name(v.name), 0, 0, 0, 0, 0, [], 0)
                    createentry = True
            if r.verbose and pass_ == 1:
                r.out("_______________________________\n")
                r.out("\n-- status before -- \n")
                if createentry:
                    r.out("\n**does not exist**\n")
                elif e.flags & (VLF_RWEXISTS | VLF_ROEXISTS | VLF_BACKEXISTS):
                    r.entry(e)
                r.out("\n")
            idx = 0
            if v.type == RWVOL:
                if createentry:
                    idx = 0
                    e.n_servers = 1
                    addvolume = True
                else:
                    if await check_vldb_rwbk(s, r, e):
                        modified += 1
                    idx = _rw_first(e)
                    if idx == -1:
                        idx = e.n_servers
                        e.n_servers += 1
                        addvolume = True
                    elif not await lp_match(s, r, aserver, apart, e):
                        if e.flags & VLF_RWEXISTS:
                            if pass_ == 1:
                                r.err("*** Warning: Orphaned RW volume %u exists on %s %s\n"
                                      % (rwvolid, r.host(aserver), partition_name(apart)))
                                st = e.sites[idx]
                                r.err("    VLDB reports RW volume %u exists on %s %s\n"
                                      % (rwvolid, r.host(st.server),
                                         partition_name(st.partition)))
                        else:
                            addvolume = True
                            if e.flags & VLF_BACKEXISTS and pass_ == 1:
                                st = e.sites[idx]
                                r.err("*** Warning: Orphaned BK volume %u exists on %s %s\n"
                                      % (e.bk_id, r.host(st.server),
                                         partition_name(st.partition)))
                                r.err("    VLDB reports its RW volume %u exists on %s %s\n"
                                      % (rwvolid, r.host(aserver), partition_name(apart)))
                    elif ((v.backup_id and not e.bk_id) or (v.clone_id and not e.ro_id)
                          or _cut(e.name) != _cut(v.name)):
                        addvolume = True
                if addvolume:
                    e.flags |= VLF_RWEXISTS
                    e.rw_id = rwvolid
                    if not e.bk_id:
                        e.bk_id = v.backup_id
                    if not e.ro_id:
                        e.ro_id = v.clone_id
                    _put(e, idx, aserver, apart, VLSF_RWVOL)
                    e.name = _cut(v.name)
                    modified += 1
                    if await check_vldb_rwbk(s, r, e):
                        modified += 1
            elif v.type == BACKVOL:
                if createentry:
                    idx = 0
                    e.n_servers = 1
                    addvolume = True
                else:
                    if await check_vldb_rwbk(s, r, e):
                        modified += 1
                    idx = _rw_first(e)
                    if idx == -1:
                        idx = e.n_servers
                        e.n_servers += 1
                        addvolume = True
                    elif not await lp_match(s, r, aserver, apart, e):
                        if pass_ == 1:
                            r.err("*** Warning: Orphaned BK volume %u exists on %s %s\n"
                                  % (v.volid, r.host(aserver), partition_name(apart)))
                            st = e.sites[idx]
                            r.err("    VLDB reports its RW/BK volume %u exists on %s %s\n"
                                  % (rwvolid, r.host(st.server), partition_name(st.partition)))
                    elif v.volid != e.bk_id:
                        if not e.flags & VLF_BACKEXISTS:
                            addvolume = True
                        elif v.volid > e.bk_id:
                            addvolume = True
                            if pass_ == 1:
                                r.err("*** Warning: Orphaned BK volume %u exists on %s %s\n"
                                      % (e.bk_id, r.host(aserver), partition_name(apart)))
                                r.err("    VLDB reports its BK volume ID is %u\n" % v.volid)
                        elif pass_ == 1:
                            r.err("*** Warning: Orphaned BK volume %u exists on %s %s\n"
                                  % (v.volid, r.host(aserver), partition_name(apart)))
                            r.err("    VLDB reports its BK volume ID is %u\n" % e.bk_id)
                    elif not e.bk_id:
                        addvolume = True
                if addvolume:
                    e.flags |= VLF_BACKEXISTS
                    e.rw_id = rwvolid
                    e.bk_id = v.volid
                    _put(e, idx, aserver, apart, VLSF_RWVOL)
                    modified += 1
            elif v.type == ROVOL:
                if v.volid == e.ro_id:
                    idx = await lp_ro_match(s, r, aserver, apart, e) - 1
                    if idx == -1:
                        idx = e.n_servers
                        e.n_servers += 1
                        addvolume = True
                    elif not e.flags & VLF_ROEXISTS:
                        addvolume = True
                else:
                    if await check_vldb_ro(s, r, e):
                        modified += 1
                    if not e.flags & VLF_ROEXISTS:
                        idx = e.n_servers
                        e.n_servers += 1
                        addvolume = True
                    elif v.volid > e.ro_id:
                        j = 0
                        while j < e.n_servers:
                            if e.sites[j].flags & VLSF_ROVOL:
                                if pass_ == 1:
                                    r.err("*** Warning: Orphaned RO volume %u exists on %s %s\n"
                                          % (e.ro_id, r.host(e.sites[j].server),
                                             partition_name(apart)))
                                    r.err("    VLDB reports its RO volume ID is %u\n" % v.volid)
                                # (OpenAFS removes the RW-typed site at idx here)
                                st = e.sites[idx]
                                await set_a_value(s, r, e, st.server, st.partition, 0, 0,
                                                  VLSF_RWVOL)
                                e.n_servers -= 1
                                modified += 1
                                continue
                            j += 1
                        idx = e.n_servers
                        e.n_servers += 1
                        addvolume = True
                    elif v.volid < e.ro_id:
                        if pass_ == 1:
                            r.err("*** Warning: Orphaned RO volume %u exists on %s %s\n"
                                  % (v.volid, r.host(aserver), partition_name(apart)))
                            r.err("    VLDB reports its RO volume ID is %u\n" % e.ro_id)
                    else:
                        idx = await lp_ro_match(s, r, aserver, apart, e) - 1
                        if idx == -1:
                            idx = e.n_servers
                            e.n_servers += 1
                            addvolume = True
                if addvolume:
                    e.flags |= VLF_ROEXISTS
                    e.rw_id = rwvolid
                    e.ro_id = v.volid
                    _put(e, idx, aserver, apart, VLSF_ROVOL)
                    modified += 1
            maxvolid[0] = _ids_max(e, maxvolid[0])
            if modified and doit:
                if createentry:
                    _, code = await _c(vldb.create_entry(s, _trim(e)))
                    if code:
                        r.out("Could not create a VLDB entry for the volume %u\n" % rwvolid)
                        raise _Exit(code)
                else:
                    if pass_ == 1:
                        continue
                    code = await _replace(s, rwvolid, RWVOL, e, LOCKREL_ALL)
                    if code:
                        r.err("Could not update entry for %u\n" % rwvolid)
                        raise _Exit(code)
            elif pass_ == 2:
                code = await _release_lock(s, rwvolid, RWVOL)
                if code:
                    r.perror(code, "Could not unlock VLDB entry ")
            break
        if aentry is not None:
            _assign(aentry, e)
        if r.verbose:
            r.out("-- status after --\n")
            if modified:
                r.entry(e)
            else:
                r.out("\n**no change**\n")
    except _Exit as x:
        error = x.code
    r.vprint("\n_______________________________\n")
    return error, bool(modified)


def _cut(name: str) -> str:
    return name.encode("utf-8", "surrogateescape")[:VOLSER_OLDMAXVOLNAME].decode(
        "utf-8", "surrogateescape")


def _trim(e: VLDBEntry) -> VLDBEntry:
    from .volops import _store
    return _store(e)


async def _bump_max(s, r, maxvolid: int, error: int) -> int:
    """Raise the VLDB's highest volume id to ``maxvolid`` if it is lower."""
    if not maxvolid:
        return error
    top, code = await _c(vldb.get_new_volume_id(s, 0))
    if code:
        r.err("Could not get the highest allocated volume id from the VLDB\n")
        return error or code
    if maxvolid > (top & 0xFFFFFFFF):
        _, code = await _c(vldb.get_new_volume_id(s, maxvolid - top + 1))
        if code:
            r.err("Error in increasing highest allocated volume id in VLDB\n")
            return error or code
    return error


def _sort_key(v):
    """sortVolumes: by RW id (higher first), RW, then BK, then RO, higher ids first."""
    rw = v.volid if v.type == RWVOL else v.parent_id
    rank = 0 if v.type == RWVOL else 1 if v.type == BACKVOL else 2
    return (-(rw & 0xFFFFFFFF), rank, -(v.volid & 0xFFFFFFFF))


async def _partitions(s, r, server: int):
    """UV_ListPartitions with its messages."""
    parts, code = await _c(volume.list_partitions(s, vldb.inet_ntoa(server)))
    if code:
        r.err("Could not fetch the list of partitions from the server\n")
    r.perror(code)
    return parts or [], code


async def sync_vldb(s, r, server: int, part: int | None, dryrun: bool = False) -> dict:
    """UV_SyncVldb: every volume on the server (or one partition) checked
    against the VLDB.  Returns the counts."""
    error = 0
    maxvolid = [0]
    tentries = failures = modifications = 0
    try:
        if part is None:
            parts, code = await _partitions(s, r, server)
            if code:
                r.err("Could not fetch the list of partitions from the server\n")
                raise _Exit(code)
        else:
            parts = [part]
        r.vprint("Processing volume entries ...\n")
        for p in parts:
            pname = partition_name(p)
            vols, code = await _c(volume.list_volumes(s, vldb.inet_ntoa(server), p))
            if code:
                r.err("Could not fetch the list of volumes from the server\n")
                raise _Exit(code)
            vols.sort(key=_sort_key)
            pfail = 0
            for j, v in enumerate(vols):
                r.progress("vos syncvldb", j, len(vols))
                if not v.status:
                    continue
                tentries += 1
                if r.verbose:
                    r.out("Processing volume entry %d: %s (%u) on server %s %s...\n"
                          % (j + 1, v.name, v.volid, r.host(server), pname))
                code, mod = await check_volume(s, r, v, server, p, dryrun, maxvolid)
                if code:
                    r.perror(code)
                    failures += 1
                    pfail += 1
                elif mod:
                    modifications += 1
                if r.verbose:
                    r.out("...error encountered\n\n" if code else "...done entry %d\n\n" % (j + 1))
            r.progress_end()
            if pfail:
                r.err("Could not process entries on server %s partition %s\n"
                      % (r.host(server), pname))
        r.vprint("Total entries: %u, Failed to process %d, %s %d\n"
                 % (tentries, failures, "Would change" if dryrun else "Changed", modifications))
    except _Exit as x:
        error = x.code
    error = await _bump_max(s, r, maxvolid[0], error)
    r.perror(error)
    if error:
        raise VolOpError(error)
    return {"entries": tentries, "failed": failures, "changed": modifications}


async def sync_volume(s, r, server: int, part: int | None, name: str,
                      dryrun: bool = False) -> dict:
    """UV_SyncVolume: one volume's VLDB entry against the servers it names
    and, with ``server``, against that server (or partition)."""
    tverbose = r.verbose or dryrun
    r.verbose = False
    error = 0
    maxvolid = [0]
    modified = 0
    deleted = False
    try:
        if not server and part is not None:
            raise _Exit(EINVAL)
        e, vcode = await _c(vldb.get_entry(s, name))
        if vcode and vcode != VL_NOENT:
            r.err("Could not access the VLDB for volume %s\n" % name)
            raise _Exit(vcode)
        if vcode:
            e = VLDBEntry("", 0, 0, 0, 0, 0, [], 0)
        if tverbose:
            r.out("Processing VLDB entry %s ...\n" % name)
            r.out("_______________________________\n")
            r.out("\n-- status before -- \n")
            if vcode:
                r.out("\n**does not exist**\n")
            elif e.flags & (VLF_RWEXISTS | VLF_ROEXISTS | VLF_BACKEXISTS):
                r.entry(e)
            r.out("\n")
        if not vcode:
            code, mod, deleted = await check_vldb(s, r, e, dryrun)
            if code:
                r.err("Could not process VLDB entry for volume %s\n" % e.name)
                raise _Exit(code)
            if mod:
                modified += 1
        if server:
            if part is None:
                parts, code = await _partitions(s, r, server)
                if code:
                    r.err("Could not fetch the list of partitions from the server\n")
                    raise _Exit(code)
            else:
                parts = [part]
            volumeid = _atol(name)
            if volumeid:
                for p in parts:
                    if await _sync_one(s, r, server, p, volumeid, dryrun, maxvolid, e):
                        modified += 1
            for t in range(3):                  # the RW, RO and BK ids, read as they are now
                vid = (e.rw_id, e.ro_id, e.bk_id)[t]
                if vid == 0:
                    continue
                for p in parts:
                    if await _sync_one(s, r, server, p, vid, dryrun, maxvolid, e):
                        modified += 1
        if tverbose:
            r.out("-- status after --\n")
            if deleted:
                r.out("\n**entry deleted**\n")
            elif modified:
                r.entry(e)
            else:
                r.out("\n**no change**\n")
            r.out("\n_______________________________\n")
    except _Exit as x:
        error = x.code
    error = await _bump_max(s, r, maxvolid[0], error)
    r.verbose = tverbose
    if r.verbose:
        r.out("...error encountered" if error else "...done entry\n")
    r.perror(error)
    if error:
        raise VolOpError(error)
    return {"modified": bool(modified), "deleted": deleted}


async def _sync_one(s, r, server, p, vid, dryrun, maxvolid, e) -> bool:
    v, code = await list_one(s, server, p, vid)
    if code:
        if code != ENODEV:
            r.err("Could not query server\n")
            raise _Exit(code)
        return False
    code, mod = await check_volume(s, r, v, server, p, dryrun, maxvolid, e)
    if code:
        raise _Exit(code)
    return mod


def _atol(name: str) -> int:
    import re
    m = re.match(r"[ \t\n\v\f\r]*([-+]?\d+)", name)
    return (int(m.group(1)) & 0xFFFFFFFF) if m else 0


async def sync_server(s, r, server: int, part: int | None, dryrun: bool = False) -> dict:
    """UV_SyncServer: every VLDB entry naming the server (or partition)
    checked against what the servers hold."""
    if dryrun:
        r.verbose = True
    tentries = failures = modifications = 0
    error = 0
    r.vprint("Processing VLDB entries ...\n")
    try:
        pages = vldb.entries_pages(s, server=server, partition=part)
        try:
            while True:
                try:
                    page = await pages.__anext__()
                except StopAsyncIteration:
                    break
                except Exception as e:      # noqa: BLE001
                    from .volops import code_of
                    r.err("Could not access the VLDB for attributes\n")
                    raise _Exit(code_of(e))
                tentries += len(page)
                for j, e in enumerate(page):
                    r.vprint("Processing VLDB entry %d ...\n" % (j + 1))
                    code, mod, _ = await check_vldb(s, r, e, dryrun)
                    if code:
                        r.perror(code)
                        r.err("Could not process VLDB entry for volume %s\n" % e.name)
                        failures += 1
                    elif mod:
                        modifications += 1
                    if r.verbose:
                        r.out("...error encountered\n\n" if code
                              else "...done entry %d\n\n" % (j + 1))
        finally:
            await pages.aclose()
        r.vprint("Total entries: %u, Failed to process %d, %s %d\n"
                 % (tentries, failures, "Would change" if dryrun else "Changed", modifications))
    except _Exit as x:
        error = x.code
    if failures:
        error = VOLSERFAILEDOP
    if error:
        raise VolOpError(error)
    return {"entries": tentries, "failed": failures, "changed": modifications}
