"""Volume operations: what OpenAFS's libvolser (``vsprocs.c``) does for vos.

Each operation runs the same sequence of VLDB and volserver calls as
OpenAFS 1.8.9's, including what happens on failure: transactions are
ended, temporary clones deleted and the VLDB entry unlocked exactly where
OpenAFS's code does it, so a failed or interrupted operation leaves the
cell as OpenAFS's vos would.

Progress and diagnostics go to a :class:`Reporter` (OpenAFS's texts: the
library prints them as it goes, and scripts read them); the default one
keeps them in lists, the vos commands pass one that writes stdout/stderr.
A failure raises :class:`VolOpError` (``.code``: the VOLSER/VL/Rx code)
after its messages went to the reporter::

    async with await Session.open(auth=AuthSpec(localauth=True)) as s:
        await volops.backup_volume(s, server, 0, volid)
        await volops.move_volume(s, volid, srv, 0, srv, 1)
        await volops.release_volume(s, volid, srv, 0)

Servers are IPv4 numbers in host order, partitions numbers (0 = /vicepa).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from . import vldb, volume
from .vldb import (BACKVOL, LOCKREL_ALL, LOCKREL_TIMESTAMP, ROVOL, RWVOL, VLF_BACKEXISTS,
                   VLF_ROEXISTS, VLF_RWEXISTS, VLOP_ALLOPERS, VLSF_DONTUSE,
                   VLSF_NEWREPSITE, VLSF_ROVOL, VLSF_RWVOL, NMAXNSERVERS, Site, VLDBEntry,
                   inet_ntoa, partition_name)

__all__ = ["Reporter", "VolOpError", "lock_entry", "lock_release", "add_site",
           "remove_site", "change_location", "rename_volume", "set_volume",
           "set_volume_info", "volume_zap", "nuke_volume", "backup_volume",
           "clone_volume", "move_volume", "copy_volume", "release_volume",
           "restore_volume", "convert_ro", "print_error"]

# --- codes ------------------------------------------------------------------
ENOENT, EIO, ENOMEM, EACCES, EXDEV, ENODEV, EINVAL, EPIPE = 2, 5, 12, 13, 18, 19, 22, 32
RXGEN_OPCODE = -455
VNOVOL, VVOLEXISTS = 103, 104
VL_NOENT, VL_ENTDELETED, VL_BADENTRY, VL_RERELEASE = 363524, 363526, 363538, 363544
VOLSERVLDB_ERROR = 1492325128
VOLSERBADNAME = 1492325129
VOLSERVOLMOVED = 1492325130
VOLSERBADOP = 1492325131
VOLSERBADRELEASE = 1492325132
VOLSERNOVOL = 1492325135

VLOP_MOVE, VLOP_RELEASE, VLOP_BACKUP, VLOP_DELETE, VLOP_DUMP = 0x10, 0x20, 0x40, 0x80, 0x100
VLOP_ADDSITE = VLOP_DELETE                        # vldbint.xg's aliases
VLOP_RESTORE = VLOP_DUMP
ITOffline, ITBusy = 0x1, 0x2
VTDeleteOnSalvage, VTOutOfService = 1, 2
readonlyVolume, backupVolume, readwriteVolume = 1, 2, 0
volser_RW, volser_RO, volser_BACK = 0, 1, 2
INVALID_BID = 0
VOLSER_OLDMAXVOLNAME = 32
VOLSERVICE_PORT = 7005
CLOCKSKEW = 2

# restore/copy flags (volser.h RV_*)
RV_FULLRST, RV_OFFLINE, RV_CRDUMP, RV_CRKEEP, RV_CRNEW = 0x1, 0x2, 0x10, 0x20, 0x40
RV_LUDUMP, RV_LUKEEP, RV_LUNEW, RV_RDONLY, RV_CPINCR = 0x100, 0x200, 0x400, 0x10000, 0x20000
RV_NOVLDB, RV_NOCLONE, RV_NODEL, RV_RWONLY = 0x40000, 0x80000, 0x100000, 0x200000
REL_COMPLETE, REL_FULLDUMPS = 0x1, 0x2


def clockadj(t: int) -> int:
    return 0 if t < CLOCKSKEW else t - CLOCKSKEW


def name_valid(name: str) -> bool:
    """ISNAMEVALID: shorter than VOLSER_OLDMAXVOLNAME - 9 bytes."""
    return len(name.encode("utf-8", "surrogateescape")) < VOLSER_OLDMAXVOLNAME - 9


def blen(s: str) -> int:
    return len(s.encode("utf-8", "surrogateescape"))


# --- PrintError ---------------------------------------------------------------
_PRINT_ERROR_SYMBOLS = (
    ("VSALVAGE", "Volume needs to be salvaged"),
    ("VNOVNODE", "Bad vnode number quoted"),
    ("VNOVOL", "Volume not attached, does not exist, or not on line"),
    ("VVOLEXISTS", "Volume already exists"),
    ("VNOSERVICE", "Volume is not in service"),
    ("VOFFLINE", "Volume is off line"),
    ("VONLINE", "Volume is already on line"),
    ("VDISKFULL", "Partition is full"),
    ("VOVERQUOTA", "Volume max quota exceeded"),
    ("VBUSY", "Volume temporarily unavailable"),
    ("VMOVED", "Volume has moved to another server"),
    ("VL_IDEXIST", "VLDB: volume Id exists in the vldb"),
    ("VL_IO", "VLDB: a read terminated too early"),
    ("VL_NAMEEXIST", "VLDB: volume entry exists in the vldb"),
    ("VL_CREATEFAIL", "VLDB: internal creation failure"),
    ("VL_NOENT", "VLDB: no such entry"),
    ("VL_EMPTY", "VLDB: vldb database is empty"),
    ("VL_ENTDELETED", "VLDB: entry is deleted (soft delete)"),
    ("VL_BADNAME", "VLDB: volume name is illegal"),
    ("VL_BADINDEX", "VLDB: index was out of range"),
    ("VL_BADVOLTYPE", "VLDB: bad volume type"),
    ("VL_BADSERVER", "VLDB: illegal server number (not within limits)"),
    ("VL_BADPARTITION", "VLDB: bad partition number"),
    ("VL_REPSFULL", "VLDB: run out of space for replication sites"),
    ("VL_NOREPSERVER", "VLDB: no such repsite server exists"),
    ("VL_DUPREPSERVER", "VLDB: replication site server already exists"),
    ("VL_RWNOTFOUND", "VLDB: parent r/w entry not found"),
    ("VL_BADREFCOUNT", "VLDB: illegal reference count number"),
    ("VL_SIZEEXCEEDED", "VLDB: vldb size for attributes exceeded"),
    ("VL_BADENTRY", "VLDB: bad incoming vldb entry"),
    ("VL_BADVOLIDBUMP", "VLDB: illegal max volid increment"),
    ("VL_IDALREADYHASHED", "VLDB: (RO/BACK) Id already hashed"),
    ("VL_ENTRYLOCKED", "VLDB: vldb entry is already locked"),
    ("VL_BADVOLOPER", "VLDB: bad volume operation code"),
    ("VL_BADRELLOCKTYPE", "VLDB: bad release lock type"),
    ("VL_RERELEASE", "VLDB: status report: last release was aborted"),
    ("VL_BADSERVERFLAG", "VLDB: invalid replication site server flag"),
    ("VL_PERM", "VLDB: no permission access for call"),
    ("VOLSERREAD_DUMPERROR", "VOLSER:  Problems encountered in reading the dump file !"),
    ("VOLSERDUMPERROR", "VOLSER: Problems encountered in doing the dump !"),
    ("VOLSERATTACH_ERROR", "VOLSER: Could not attach the volume"),
    ("VOLSERDETACH_ERROR", "VOLSER: Could not detach the volume"),
    ("VOLSERILLEGAL_PARTITION", "VOLSER: encountered illegal partition number"),
    ("VOLSERBAD_ACCESS", "VOLSER: permission denied, not a super user"),
    ("VOLSERVLDB_ERROR", "VOLSER: error detected in the VLDB"),
    ("VOLSERBADNAME", "VOLSER: error in volume name"),
    ("VOLSERVOLMOVED", "VOLSER: volume has moved"),
    ("VOLSERBADOP", "VOLSER: illegal operation"),
    ("VOLSERBADRELEASE", "VOLSER: release could not be completed"),
    ("VOLSERVOLBUSY", "VOLSER: volume is busy"),
    ("VOLSERNO_MEMORY", "VOLSER: volume server is out of memory"),
    ("VOLSERNOVOL", "VOLSER: no such volume - location specified incorrectly or volume does not exist"),
    ("VOLSERMULTIRWVOL", "VOLSER: multiple RW volumes with same ID, one of which should be deleted"),
    ("VOLSERFAILEDOP", "VOLSER: not all entries were successfully processed"),
)
_texts: dict[int, str] | None = None


def print_error(code: int, msg: str = "") -> str:
    """vsprocs.c ``PrintError(msg, code)``: the text it writes to stderr."""
    global _texts
    if code == 0:
        return msg
    if _texts is None:
        from kafs.errors.tables import code_from_name
        _texts = {code_from_name(n): t for n, t in _PRINT_ERROR_SYMBOLS}
        _texts[-1] = "Possible communication failure"
    t = _texts.get(code)
    if t is None:
        from kafs.errors.tables import TOOL_TABLES, error_message, table_name
        t = "%s: %s" % (table_name(code), error_message(code, TOOL_TABLES["vos"]))
    return msg + t + "\n"


def code_of(exc: BaseException) -> int:
    """The code OpenAFS's C stubs would have returned for this failure."""
    from kafs.errors import AFSError, DecodeError
    if isinstance(exc, AFSError):
        return exc.code
    if isinstance(exc, DecodeError):
        return -451             # RXGEN_CC_UNMARSHAL
    if isinstance(exc, OSError):
        return -1
    raise exc


async def _c(aw):
    """(result, 0) or (None, code): one RPC the way the C code sees it."""
    from kafs.errors import AFSError, DecodeError
    try:
        return await aw, 0
    except (AFSError, DecodeError, OSError) as e:
        return None, code_of(e)


# --- reporting ----------------------------------------------------------------

class Reporter:
    """Where an operation's messages go.  This base keeps them in
    ``events`` as ("out"|"err", text); subclasses write them.  ``verbose``
    and ``noresolve`` are vos's switches of the same names."""

    def __init__(self, verbose: bool = False, noresolve: bool = False):
        self.verbose = verbose
        self.noresolve = noresolve
        self.events: list[tuple[str, str]] = []

    def out(self, text: str) -> None:
        self.events.append(("out", text))

    def err(self, text: str) -> None:
        if text:
            self.events.append(("err", text))

    # what vsprocs.c's macros do
    def vprint(self, text: str) -> None:
        if self.verbose:
            self.out(text)

    def vdone(self) -> None:
        self.vprint(" done\n")

    def veprint(self, text: str) -> None:
        if self.verbose:
            self.err(text)

    def vedone(self) -> None:
        self.veprint(" done\n")

    def eprint(self, code: int, text: str) -> None:
        self.err("\n" + text + print_error(code, "   "))

    def perror(self, code: int, msg: str = "") -> None:
        self.err(print_error(code, msg))

    def host(self, addr: int) -> str:
        """A server as vos names it in messages (``-noresolve``: the address)."""
        return inet_ntoa(addr) if self.noresolve else vldb.host_name(addr)

    def entry(self, e: VLDBEntry) -> None:
        """``EnumerateEntry`` (vos prints the entry's text on stdout)."""
        self.events.append(("entry", e))          # type: ignore[arg-type]

    def progress(self, what: str, done: int, total: int | None) -> None:
        """Progress of a long transfer (bytes or units); nothing by default."""

    def progress_end(self) -> None:
        pass


class VolOpError(Exception):
    """An operation failed with ``code``; ``fatal``: OpenAFS's vos exits
    (status 1) right there instead of returning the code (move/copy
    recovery, some argument checks)."""

    def __init__(self, code: int, fatal: bool = False):
        super().__init__(print_error(code).strip() or "error %d" % code)
        self.code = code
        self.fatal = fatal


def _raise(code: int) -> None:
    if code:
        raise VolOpError(code)


def _vs():
    from kafs.rpc import volser
    return volser


def _conn(s, server: int, dead_time: float | None = None):
    if dead_time:
        return s.volser(inet_ntoa(server), dead_time=dead_time)
    return s.volser(inet_ntoa(server))


# --- lockprocs.c --------------------------------------------------------------

async def find_index(s, r: Reporter, e: VLDBEntry, server: int, part: int, stype: int) -> int:
    """FindIndex: the site of type ``stype`` on server/part (server 0: any)."""
    for i, st in enumerate(e.sites[:max(0, e.n_servers)]):
        if not stype or st.flags & stype:
            if not server:
                return i
            if st.partition == part:
                same, err = await is_same_addrs(s, st.server, server)
                if err:
                    r.err("Failed to get info about server's %d address(es) from vlserver "
                          "(err=%d)\n" % (net_int(st.server), err))
                    return -1
                if same:
                    return i
            if stype == VLSF_RWVOL:
                return -1
    return -1


async def lp_match(s, r, server, part, e) -> bool:
    return await find_index(s, r, e, server, part, VLSF_RWVOL) != -1


async def lp_ro_match(s, r, server, part, e) -> int:
    return await find_index(s, r, e, server, part, VLSF_ROVOL) + 1


def _rw_first(e: VLDBEntry) -> int:
    # FindIndex with server 0 and type RW: the first site that is RW
    for i, st in enumerate(e.sites[:max(0, e.n_servers)]):
        if st.flags & VLSF_RWVOL:
            return i
    return -1


async def set_a_value(s, r, e: VLDBEntry, oserver, opart, nserver, npart, stype) -> None:
    """SetAValue: change (or, with 0/0, remove) the site."""
    i = await find_index(s, r, e, oserver, opart, stype)
    if i == -1:
        return
    if nserver == 0 and npart == 0:
        del e.sites[i]
        # (the count is the caller's to lower, as in C)
        e.sites.append(Site(0, 0, 0))
    else:
        e.sites[i].server = nserver
        e.sites[i].partition = npart


async def is_same_addrs(s, a: int, b: int) -> tuple[bool, int]:
    """VLDB_IsSameAddrs: (same server, error code)."""
    from kafs.errors import AFSError
    if (a & 0xFFFFFFFF) == (b & 0xFFFFFFFF):
        return True, 0
    try:
        sa = await vldb.get_addrs_u(s, ipaddr=a)
    except AFSError as e:
        if e.code in (VL_NOENT, RXGEN_OPCODE):
            return False, 0
        return False, e.code
    return (b & 0xFFFFFFFF) in sa.addrs, 0


def net_int(addr: int) -> int:
    """An address as vos prints it with %d: its network-order word read
    by a little-endian machine."""
    return _i32(int.from_bytes((addr & 0xFFFFFFFF).to_bytes(4, "big"), "little"))


def _i32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


def _copy_entry(e: VLDBEntry) -> VLDBEntry:
    return VLDBEntry(e.name, e.rw_id, e.ro_id, e.bk_id, e.clone_id, e.flags,
                     [Site(x.server, x.partition, x.flags) for x in e.sites], e.n_servers)


def _same_entry(a: VLDBEntry, b: VLDBEntry) -> bool:
    return (a.name == b.name and a.volume_ids() == b.volume_ids() and a.clone_id == b.clone_id
            and a.flags == b.flags and len(a.sites) == len(b.sites)
            and all((x.server, x.partition, x.flags) == (y.server, y.partition, y.flags)
                    for x, y in zip(a.sites, b.sites)))


def _store(e: VLDBEntry) -> VLDBEntry:
    """The entry as written back: ``n_servers`` sites."""
    n = max(0, e.n_servers)
    out = _copy_entry(e)
    out.sites = out.sites[:n]
    while len(out.sites) < n:
        out.sites.append(Site(0, 0, 0))
    return out


# --- VLDB calls as code-returning steps -------------------------------------------

async def _get_entry_id(s, volid, vtype=-1):
    return await _c(vldb.get_entry_by_id(s, volid, vtype))


async def _get_entry_name(s, name):
    return await _c(vldb.get_entry(s, name))


async def _set_lock(s, volid, vtype, op) -> int:
    return (await _c(vldb.set_lock(s, volid, vtype, op)))[1]


async def _release_lock(s, volid, vtype=-1, rel=LOCKREL_ALL) -> int:
    return (await _c(vldb.release_lock(s, volid, vtype, rel)))[1]


async def _replace(s, volid, vtype, e, rel) -> int:
    return (await _c(vldb.replace_entry(s, volid, vtype, _store(e), rel)))[1]


async def _new_id(s):
    return await _c(vldb.get_new_volume_id(s))


# --- volserver steps ----------------------------------------------------------------

async def _trans(conn, volid, part, flags):
    """AFSVolTransCreate_retry: (tid, code)."""
    tid, code = await _c(volume.trans_create(conn, volid, part, flags))
    return (tid or 0), code


async def _end(conn, tid) -> int:
    """AFSVolEndTrans: the call's code, else the server's rcode."""
    rc, code = await _c(_vs().AFSVolEndTrans(conn, tid))
    return code or (rc or 0)


async def _end_pair(conn, tid) -> tuple[int, int]:
    rc, code = await _c(_vs().AFSVolEndTrans(conn, tid))
    return code, (rc or 0)


async def _flags(conn, tid, f) -> int:
    return (await _c(_vs().AFSVolSetFlags(conn, tid, f)))[1]


async def _status(conn, tid):
    return await _c(_vs().AFSVolGetStatus(conn, tid))


async def do_vol_delete(s, r: Reporter, conn, volid: int, part: int, typestring: str | None,
                        toserver: int = 0, want_status: bool = False, prefix: str = ""):
    """DoVolDelete; returns (code, status) (status only with
    ``want_status``).  VNOVOL comes back quietly."""
    verbose_here = typestring is not None
    typestring = typestring if typestring is not None else "the"
    if verbose_here:
        r.vprint("%sDeleting %s volume %u ..." % (prefix, typestring, volid))
    error = 0
    status = None
    tid, code = await _trans(conn, volid, part, ITOffline)
    if code == VNOVOL:
        return code, None
    if code:
        r.eprint(code, "%sFailed to start transaction on %u\n" % (prefix, volid))
        error = code
    else:
        while True:
            if want_status:
                status, code = await _status(conn, tid)
                if code:
                    r.eprint(code, "%sCould not get timestamp from volume %u\n"
                             % (prefix, volid))
                    error = code
                    break
            code = await _flags(conn, tid, VTDeleteOnSalvage | VTOutOfService)
            if code:
                r.eprint(code, "%sCould not set flags on volume %u \n" % (prefix, volid))
                error = code
                break
            if toserver:
                r.vprint("%sSetting volume forwarding pointer ..." % prefix)
                await _c(_vs().AFSVolSetForwarding(conn, tid, _i32(toserver)))
                r.vdone()
            code = (await _c(volume.delete_trans_volume(conn, tid)))[1]
            if code:
                r.eprint(code, "%sCould not delete volume %u\n" % (prefix, volid))
                error = code
            break
    if tid:
        code = await _end(conn, tid)
        if code:
            r.err("%sCould not end transaction on %s volume %u \n"
                  % (prefix, typestring, volid))
            if not error:
                error = code
    if verbose_here and not error:
        r.vdone()
    return error, status


async def do_vol_clone(s, r: Reporter, conn, volid: int, part: int, vtype: int, cloneid: int,
                       typestring: str, pname: str | None, vname: str | None,
                       suffix: str | None, want_status: bool = False):
    """DoVolClone; returns (code, status of the parent)."""
    error = 0
    status = None
    ttid = 0
    cloneexists = True
    btid, code = await _trans(conn, cloneid, part, ITOffline)
    try:
        if code:
            if code != VNOVOL:
                r.eprint(code, "Could not reach the %s volume %u\n" % (typestring, cloneid))
                error = code
                raise _Fail
            cloneexists = False
        if btid:
            c, rc = await _end_pair(conn, btid)
            btid = 0
            if c or rc:
                r.err("Could not end transaction on the previous %s volume %u\n"
                      % (typestring, cloneid))
                error = c or rc
                raise _Fail
        ttid, code = await _trans(conn, volid, part, ITBusy)
        if code:
            r.err("Could not start a transaction on the volume %u\n" % volid)
            error = code
            raise _Fail
        if cloneexists:
            r.vprint("Re-cloning %s volume %u ..." % (typestring, cloneid))
            code = (await _c(_vs().AFSVolReClone(conn, ttid, cloneid)))[1]
            if code:
                r.eprint(code, "Could not re-clone %s volume %u\n" % (typestring, cloneid))
                error = code
                raise _Fail
        else:
            r.vprint("Creating a new %s clone %u ..." % (typestring, cloneid))
            name = vname if vname else (pname or "") + (suffix or "")
            _, code = await _c(volume.clone(conn, ttid, 0, vtype, name, cloneid))
            if code:
                r.err("Failed to clone the volume %u\n" % volid)
                error = code
                raise _Fail
        r.vdone()
        if want_status:
            r.vprint("Getting status of parent volume %u..." % volid)
            status, code = await _status(conn, ttid)
            if code:
                r.err("Failed to get the status of the parent volume %u\n" % volid)
                error = code
                raise _Fail
            r.vdone()
    except _Fail:
        pass
    if ttid:
        c, rc = await _end_pair(conn, ttid)
        if c or rc:
            r.err("Could not end transaction on the volume %u\n" % volid)
            if not error:
                error = c or rc
    if btid:
        c, rc = await _end_pair(conn, btid)
        if c or rc:
            r.err("Could not end transaction on the %s volume %u\n" % (typestring, cloneid))
            if not error:
                error = c or rc
    return error, status


class _Fail(Exception):
    pass


def _info(**kw):
    v = volume.new_volint_info()
    for k, val in kw.items():
        setattr(v, k, val)
    return v


# =============================================================================
# VLDB-only operations
# =============================================================================

async def lock_release(s, r: Reporter, volid: int) -> None:
    """UV_LockRelease (vos unlock)."""
    r.vprint("Binding to the VLDB server\n")
    code = await _release_lock(s, volid)
    if code:
        r.err("Could not unlock the entry for volume number %u in VLDB \n" % volid)
        r.perror(code)
        raise VolOpError(code)
    r.vprint("VLDB updated\n")


async def add_site(s, r: Reporter, server: int, part: int, volid: int, rovolid: int = 0,
                   valid: bool = False) -> None:
    """UV_AddSite2 (vos addsite)."""
    error = await _set_lock(s, volid, RWVOL, VLOP_ADDSITE)
    islocked = False
    try:
        if error:
            r.err(" Could not lock the VLDB entry for the volume %u \n" % volid)
            raise _Fail
        islocked = True
        e, error = await _get_entry_id(s, volid, RWVOL)
        if error:
            r.err("Could not fetch the VLDB entry for volume number %u  \n" % volid)
            raise _Fail
        if not name_valid(e.name):
            r.err("Volume name %s is too long, rename before adding site\n" % e.name)
            error = VOLSERBADOP
            raise _Fail
        if e.n_servers >= NMAXNSERVERS:
            r.err("Total number of entries will exceed %u\n" % NMAXNSERVERS)
            error = VOLSERBADOP
            raise _Fail
        nro = 0
        for st in e.sites:
            if st.flags & VLSF_ROVOL:
                nro += 1
                same, err = await is_same_addrs(s, server, st.server)
                if same:
                    r.err("RO already exists on partition %s. Multiple ROs on a single "
                          "server aren't allowed\n" % partition_name(st.partition))
                    error = VOLSERBADOP
                    raise _Fail
                if err:
                    # OpenAFS only looks at the error when the addresses matched
                    pass
        if nro >= NMAXNSERVERS - 1:
            r.err("Total number of sites will exceed %u\n" % (NMAXNSERVERS - 1))
            error = VOLSERBADOP
            raise _Fail
        if rovolid:
            if e.ro_id == INVALID_BID:
                _, vc = await _get_entry_id(s, rovolid, -1)
                if not vc:
                    r.err("Volume ID %d already exists\n" % _i32(rovolid))
                    raise VolOpError(VVOLEXISTS)     # the lock stays, as in OpenAFS
                r.vprint("Using RO volume id %d.\n" % _i32(rovolid))
                e.ro_id = rovolid
            else:
                r.err("Ignoring given RO id %d, since volume already has RO id %d\n"
                      % (_i32(rovolid), _i32(e.ro_id)))
        r.vprint("Adding a new site ...")
        e.sites = e.sites[:e.n_servers]
        e.sites.append(Site(server, part, VLSF_ROVOL if valid else VLSF_ROVOL | VLSF_DONTUSE))
        e.n_servers += 1
        error = await _replace(s, volid, RWVOL, e, LOCKREL_ALL)
        if error:
            r.err("Could not update entry for volume %u \n" % volid)
            raise _Fail
        islocked = False
        r.vdone()
    except _Fail:
        pass
    if islocked:
        vc = await _release_lock(s, volid, RWVOL)
        if vc:
            r.err("Could not release lock on volume entry for %u \n" % volid)
            r.perror(vc)
    r.perror(error)
    _raise(error)


async def remove_site(s, r: Reporter, server: int, part: int, volid: int) -> None:
    """UV_RemoveSite (vos remsite)."""
    vc = await _set_lock(s, volid, RWVOL, VLOP_ADDSITE)
    if vc:
        r.err(" Could not lock the VLDB entry for volume %u \n" % volid)
        r.perror(vc)
        raise VolOpError(vc)
    e, vc = await _get_entry_id(s, volid, RWVOL)
    if vc:
        r.err("Could not fetch the entry for volume number %u from VLDB \n" % volid)
        r.perror(vc)
        raise VolOpError(vc)                 # the lock stays, as in OpenAFS
    if not await lp_ro_match(s, r, server, part, e):
        r.err("This site is not a replication site \n")
        vc = await _release_lock(s, volid, RWVOL)
        if vc:
            r.err("Could not update entry for volume %u \n" % volid)
            r.perror(vc)
            await _release_lock(s, volid, RWVOL)
            raise VolOpError(vc)
        raise VolOpError(VOLSERBADOP)
    await set_a_value(s, r, e, server, part, 0, 0, VLSF_ROVOL)
    e.n_servers -= 1
    if e.n_servers == 1 and e.flags & VLF_RWEXISTS:
        e.flags &= ~VLF_ROEXISTS
    if e.n_servers < 1:
        r.vprint("Deleting the VLDB entry for %u ..." % volid)
        _, vc = await _c(vldb.delete_entry(s, volid, ROVOL))
        if vc:
            r.err("Could not delete VLDB entry for volume %u \n" % volid)
            r.perror(vc)
            raise VolOpError(vc)
        r.vdone()
    r.out("Deleting the replication site for volume %u ..." % volid)
    vc = await _replace(s, volid, RWVOL, e, LOCKREL_ALL)
    if vc:
        r.err("Could not release lock on volume entry for %u \n" % volid)
        r.perror(vc)
        await _release_lock(s, volid, RWVOL)
        raise VolOpError(vc)
    r.out(" done\n")


async def change_location(s, r: Reporter, server: int, part: int, volid: int) -> None:
    """UV_ChangeLocation (vos changeloc)."""
    vc = await _set_lock(s, volid, RWVOL, VLOP_ADDSITE)
    if vc:
        r.err(" Could not lock the VLDB entry for volume %u \n" % volid)
        r.perror(vc)
        raise VolOpError(vc)
    e, vc = await _get_entry_id(s, volid, RWVOL)
    if vc:
        r.err("Could not fetch the entry for volume number %u from VLDB \n" % volid)
        r.perror(vc)
        raise VolOpError(vc)
    i = _rw_first(e)
    if i < 0 or i >= e.n_servers:
        r.err("No existing RW site for volume %u" % volid)
        vc = await _release_lock(s, volid, RWVOL)
        if vc:
            r.err("Could not release lock on entry for volume %u \n" % volid)
            r.perror(vc)
            raise VolOpError(vc)
        raise VolOpError(VOLSERBADOP)
    e.sites[i].server = server
    e.sites[i].partition = part
    vc = await _replace(s, volid, RWVOL, e, LOCKREL_ALL)
    if vc:
        r.err("Could not update entry for volume %u \n" % volid)
        r.perror(vc)
        await _release_lock(s, volid, RWVOL)
        raise VolOpError(vc)
    r.vdone()


async def rename_volume(s, r: Reporter, entry: VLDBEntry, oldname: str, newname: str) -> None:
    """UV_RenameVolume (vos rename): the VLDB name first, then every
    volume's header (RW, backup, each RO)."""
    error = 0
    conn = None
    tid = 0
    islocked = False
    e = _copy_entry(entry)
    rw = e.rw_id
    try:
        vc = await _set_lock(s, rw, RWVOL, VLOP_ADDSITE)
        if vc:
            r.err(" Could not lock the VLDB entry for the  volume %u \n" % rw)
            error = vc
            raise _Fail
        islocked = True
        e.flags = (e.flags & ~VLOP_ALLOPERS) | VLOP_ADDSITE
        cur, vc = await _get_entry_id(s, rw, RWVOL)
        if vc:
            r.err("Could not obtain the VLDB entry for the volume %u\n" % rw)
            error = vc
            raise _Fail
        if not _same_entry(e, cur):
            r.err("VLDB entry for volume %u has changed; please reissue the command.\n" % rw)
            error = VL_BADENTRY
            raise _Fail
        e.name = newname.encode("utf-8", "surrogateescape")[:VOLSER_OLDMAXVOLNAME] \
            .decode("utf-8", "surrogateescape")
        vc = await _replace(s, rw, RWVOL, e, 0)
        if vc:
            r.err("Could not update VLDB entry for %u\n" % rw)
            error = vc
            raise _Fail
        r.vprint("Recorded the new name %s in VLDB\n" % newname)
        vs = _vs()
        if e.flags & VLF_RWEXISTS:
            i = _rw_first(e)
            if i == -1:
                r.err("There is a serious discrepancy in VLDB entry for volume %u\n" % rw)
                r.err("try building VLDB from scratch\n")
                error = VOLSERVLDB_ERROR
                raise _Fail
            conn = _conn(s, e.sites[i].server)
            tid, code = await _trans(conn, rw, e.sites[i].partition, ITOffline)
            if code:
                r.err("Could not start transaction on the rw volume %u\n" % rw)
                error = code
                raise _Fail
            _, code = await _c(vs.AFSVolSetIdsTypes(conn, tid, newname, RWVOL, rw,
                                                    e.ro_id, e.bk_id))
            if code:
                r.err("Could not  set parameters on volume %s %u\n" % (e.name, rw))
                error = code
                raise _Fail
            r.vprint("Renamed rw volume %s to %s\n" % (oldname, newname))
            c, _ = await _end_pair(conn, tid)
            tid = 0
            if c:
                r.err("Could not  end transaction on volume %s %u\n" % (e.name, rw))
                error = c
                raise _Fail
        if e.flags & VLF_BACKEXISTS:
            i = _rw_first(e)
            if i == -1:
                r.err("There is a serious discrepancy in the VLDB entry for the backup "
                      "volume %u\n" % e.bk_id)
                r.err("try building VLDB from scratch\n")
                error = VOLSERVLDB_ERROR
                raise _Fail
            conn = _conn(s, e.sites[i].server)
            tid, code = await _trans(conn, e.bk_id, e.sites[i].partition, ITOffline)
            if code:
                r.err("Could not start transaction on the backup volume  %u\n" % e.bk_id)
                error = code
                raise _Fail
            if blen(newname) > VOLSER_OLDMAXVOLNAME - 8:
                r.err("Volume name %s.backup exceeds the limit of %u characters\n"
                      % (newname, VOLSER_OLDMAXVOLNAME))
                error = code
                raise _Fail
            bname = newname + ".backup"
            _, code = await _c(vs.AFSVolSetIdsTypes(conn, tid, bname, BACKVOL, rw, 0, 0))
            if code:
                r.err("Could not  set parameters on the backup volume %u\n" % e.bk_id)
                error = code
                raise _Fail
            r.vprint("Renamed backup volume to %s \n" % bname)
            c, _ = await _end_pair(conn, tid)
            tid = 0
            if c:
                r.err("Could not  end transaction on the backup volume %u\n" % e.bk_id)
                error = c
                raise _Fail
        if e.flags & VLF_ROEXISTS:
            for st in e.sites[:e.n_servers]:
                if not st.flags & VLSF_ROVOL:
                    continue
                conn = _conn(s, st.server)
                tid, code = await _trans(conn, e.ro_id, st.partition, ITOffline)
                if code:
                    r.err("Could not start transaction on the ro volume %u\n" % e.ro_id)
                    error = code
                    raise _Fail
                roname = newname + ".readonly"
                if blen(roname) > VOLSER_OLDMAXVOLNAME - 1:
                    r.err("Volume name %s exceeds the limit of %u characters\n"
                          % (roname, VOLSER_OLDMAXVOLNAME))
                    error = code
                    raise _Fail
                _, code = await _c(vs.AFSVolSetIdsTypes(conn, tid, roname, ROVOL, rw, 0, 0))
                if code:
                    r.err("Could not  set parameters on the ro volume %u\n" % e.ro_id)
                    error = code
                    raise _Fail
                r.vprint("Renamed RO volume %s on host %s\n" % (roname, r.host(st.server)))
                c, _ = await _end_pair(conn, tid)
                tid = 0
                if c:
                    r.err("Could not  end transaction on volume %u\n" % e.ro_id)
                    error = c
                    raise _Fail
    except _Fail:
        pass
    if islocked:
        vc = await _release_lock(s, rw, RWVOL)
        if vc:
            r.err("Could not unlock the VLDB entry for the volume %s %u\n" % (e.name, rw))
            if not error:
                error = vc
    if tid:
        code = await _end(conn, tid)
        if code:
            r.err("Failed to end transaction on a volume \n")
            if not error:
                error = code
    r.perror(error)
    _raise(error)


# =============================================================================
# one volume on one server
# =============================================================================

async def set_volume(s, r: Reporter, server: int, part: int, volid: int, transflag: int,
                     setflag: int, sleeptime: int = 0) -> None:
    """UV_SetVolume (vos online/offline)."""
    conn = _conn(s, server)
    error = 0
    tid, code = await _trans(conn, volid, part, transflag)
    if code:
        r.err("SetVolumeStatus: TransCreate Failed\n")
        error = code
    else:
        code = await _flags(conn, tid, setflag)
        if code:
            r.err("SetVolumeStatus: SetFlags Failed\n")
            error = code
        elif sleeptime:
            await asyncio.sleep(sleeptime if sleeptime > 0 else 0)
    if tid:
        c, rc = await _end_pair(conn, tid)
        if c or rc:
            r.err("SetVolumeStatus: EndTrans Failed\n")
            if not error:
                error = c or rc
    _raise(error)


async def set_volume_info(s, r: Reporter, server: int, part: int, volid: int, info) -> None:
    """UV_SetVolumeInfo (vos setfields)."""
    conn = _conn(s, server)
    error = 0
    tid, code = await _trans(conn, volid, part, ITOffline)
    if code:
        r.err("SetVolumeInfo: TransCreate Failed\n")
        error = code
    else:
        code = (await _c(volume.set_info(conn, tid, info)))[1]
        if code:
            r.err("SetVolumeInfo: SetInfo Failed\n")
            error = code
    if tid:
        c, rc = await _end_pair(conn, tid)
        if c or rc:
            r.err("SetVolumeInfo: EndTrans Failed\n")
            if not error:
                error = c or rc
    _raise(error)


async def volume_zap(s, r: Reporter, server: int, part: int, volid: int) -> None:
    """UV_VolumeZap: delete the volume from the server, VLDB untouched."""
    conn = _conn(s, server)
    error, _ = await do_vol_delete(s, r, conn, volid, part, None)
    if error == VNOVOL:
        r.eprint(error, "Failed to start transaction on %u\n" % volid)
    r.perror(error)
    _raise(error)


async def nuke_volume(s, server: int, part: int, volid: int) -> int:
    """UV_NukeVolume (vos zap -force): AFSVolNukeVolume's code."""
    return (await _c(_vs().AFSVolNukeVolume(_conn(s, server), part, volid)))[1]


async def list_one(s, server: int, part: int, volid: int):
    """UV_ListOneVolume: (VolumeInfo, code)."""
    return await _c(volume.list_one_volume(s, inet_ntoa(server), part, volid))


# =============================================================================
# backup, clone
# =============================================================================

@dataclass
class Cloned:
    volid: int
    clone_id: int
    server: int
    partition: int


async def backup_volume(s, r: Reporter, server: int, part: int, volid: int) -> Cloned:
    """UV_BackupVolume: make or refresh the .backup clone."""
    conn = _conn(s, server)
    error = 0
    btid = 0
    backup_id = 0
    locked = modified = False
    e = None
    try:
        e, code = await _get_entry_id(s, volid, RWVOL)
        if code:
            r.err("Could not fetch the entry for the volume %u from the VLDB \n" % volid)
            error = code
            raise _Fail
        if (not e.flags & VLF_BACKEXISTS or e.flags & VLOP_ALLOPERS
                or e.bk_id == INVALID_BID):
            code = await _set_lock(s, volid, RWVOL, VLOP_BACKUP)
            if code:
                r.err("Could not lock the VLDB entry for the volume %u\n" % volid)
                error = code
                raise _Fail
            locked = True
            e, code = await _get_entry_id(s, volid, RWVOL)
            if code:
                r.err("Could not fetch the entry for the volume %u from the VLDB \n" % volid)
                error = code
                raise _Fail
        if not name_valid(e.name):
            r.err("Name of the volume %s exceeds the size limit\n" % e.name)
            error = VOLSERBADNAME
            raise _Fail
        backup_id = e.bk_id
        if backup_id == INVALID_BID:
            backup_id, code = await _new_id(s)
            if code:
                r.err("Could not allocate ID for the backup volume of  %u from the VLDB\n"
                      % volid)
                error = code
                raise _Fail
            e.bk_id = backup_id
            modified = True
        code, _ = await do_vol_clone(s, r, conn, volid, part, backupVolume, backup_id,
                                     "backup", e.name, None, ".backup")
        if code:
            error = code
            raise _Fail
        if not e.flags & VLF_BACKEXISTS:
            e.flags |= VLF_BACKEXISTS
            modified = True
        btid, code = await _trans(conn, backup_id, part, ITOffline)
        if code:
            r.err("Failed to start a transaction on the backup volume %u\n" % backup_id)
            error = code
            raise _Fail
        code = await _flags(conn, btid, 0)
        if code:
            r.err("Could not mark the backup volume %u on line \n" % backup_id)
            error = code
            raise _Fail
        c, rc = await _end_pair(conn, btid)
        btid = 0
        if c or rc:
            r.err("Failed to end the transaction on the backup volume %u\n" % backup_id)
            error = c or rc
            raise _Fail
    except _Fail:
        pass
    if btid:
        c, rc = await _end_pair(conn, btid)
        if c or rc:
            r.err("Could not end transaction the backup volume %u\n" % backup_id)
            if not error:
                error = c or rc
    if locked:
        if modified:
            code = await _replace(s, volid, RWVOL, e, LOCKREL_ALL)
            if code:
                r.err("Could not update the VLDB entry for the volume %u \n" % volid)
                if not error:
                    error = code
        else:
            code = await _release_lock(s, volid, RWVOL)
            if code:
                r.err("Could not unlock the VLDB entry for the volume %u \n" % volid)
                if not error:
                    error = code
    r.perror(error)
    _raise(error)
    return Cloned(volid, backup_id, server, part)


async def clone_volume(s, r: Reporter, server: int, part: int, volid: int, cloneid: int = 0,
                       name: str | None = None, flags: int = 0) -> Cloned:
    """UV_CloneVolume (vos clone)."""
    conn = _conn(s, server)
    error = 0
    btid = 0
    try:
        if not name:
            v, code = await _c(_vs().AFSVolListOneVolume(conn, part, volid))
            if code or not v:
                r.err("Could not get info for volume %u\n" % volid)
                error = code or -451
                raise _Fail
            base = v[0].name.encode("utf-8", "surrogateescape")[:VOLSER_OLDMAXVOLNAME - 7]
            name = base.decode("utf-8", "surrogateescape") + ".clone"
        if not cloneid:
            r.vprint("Allocating new volume id for clone of volume %u ..." % volid)
            cloneid, code = await _new_id(s)
            if code:
                r.eprint(code, "Could not get an ID for the clone of volume %u from the VLDB\n"
                         % volid)
                error = code
                cloneid = 0
                raise _Fail
            r.vdone()
        vtype = (readwriteVolume if flags & RV_RWONLY else
                 readonlyVolume if flags & RV_RDONLY else backupVolume)
        code, _ = await do_vol_clone(s, r, conn, volid, part, vtype, cloneid, "clone",
                                     None, name, None)
        if code:
            error = code
            raise _Fail
        if not flags & RV_OFFLINE:
            btid, code = await _trans(conn, cloneid, part, ITOffline)
            if code:
                r.err("Failed to start a transaction on the clone volume %u\n" % cloneid)
                error = code
                raise _Fail
            code = await _flags(conn, btid, 0)
            if code:
                r.err("Could not mark the clone volume %u on line \n" % cloneid)
                error = code
                raise _Fail
            c, rc = await _end_pair(conn, btid)
            btid = 0
            if c or rc:
                r.err("Failed to end the transaction on the clone volume %u\n" % cloneid)
                error = c or rc
                raise _Fail
    except _Fail:
        pass
    if btid:
        c, rc = await _end_pair(conn, btid)
        if c or rc:
            r.err("Could not end transaction on the clone volume %u\n" % cloneid)
            if not error:
                error = c or rc
    r.perror(error)
    _raise(error)
    return Cloned(volid, cloneid, server, part)


# =============================================================================
# move, copy, shadow (UV_MoveVolume2, UV_CopyVolume2)
# =============================================================================

def _dest(server: int):
    d = _vs().destServer()
    d.destHost = _i32(server)
    d.destPort = VOLSERVICE_PORT
    d.destSSID = 1
    return d


def _cookie(name: str, vtype: int, parent: int):
    c = _vs().restoreCookie()
    c.name = name.encode("utf-8", "surrogateescape")[:VOLSER_OLDMAXVOLNAME].decode(
        "utf-8", "surrogateescape")
    c.type = vtype
    c.parent = parent
    c.clone = 0
    return c


async def _watch(s, r: Reporter, what: str, server: int, part: int, total_kb: int) -> None:
    """Progress of a server-to-server transfer, from the destination
    partition's free space (the data never passes through us)."""
    if not getattr(r, "tty", False) or total_kb <= 0:
        return
    name = partition_name(part)
    try:
        start = (await volume.partition_info(s, inet_ntoa(server), name)).free
        r.progress(what, 0, total_kb * 1024)
        while True:
            await asyncio.sleep(0.25)
            free = (await volume.partition_info(s, inet_ntoa(server), name)).free
            r.progress(what, max(0, start - free) * 1024, total_kb * 1024)
    except asyncio.CancelledError:
        raise
    except Exception:       # noqa: BLE001 - progress is best effort
        return


async def _forward(s, r, conn, tid, fromdate, toserver, totid, cookie, what, topart, size_kb):
    """AFSVolForward, with a progress line meanwhile when wanted."""
    watch = None
    if getattr(r, "tty", False) and size_kb:
        watch = asyncio.ensure_future(_watch(s, r, what, toserver, topart, size_kb))
    try:
        return (await _c(_vs().AFSVolForward(conn, tid, fromdate, _dest(toserver), totid,
                                             cookie)))[1]
    finally:
        if watch is not None:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            r.progress_end()


async def _open_clone(r, st, fromconn, clonevol: int, part: int, egoto) -> int:
    """Move/copy: a transaction on the temporary clone, taken out of
    service; returns the date to forward changes from (its creation)."""
    r.vprint("Starting transaction on the cloned volume %u ..." % clonevol)
    st["clonetid"], code = await _trans(fromconn, clonevol, part, ITOffline)
    await egoto(code, "Failed to start a transaction on the cloned volume%u\n" % clonevol)
    r.vdone()
    r.vprint("Setting flags on cloned volume %u ..." % clonevol)
    code = await _flags(fromconn, st["clonetid"], VTDeleteOnSalvage | VTOutOfService)
    await egoto(code, "Could not set flags on the cloned volume %u\n" % clonevol)
    r.vdone()
    r.vprint("Getting status of cloned volume %u ..." % clonevol)
    tstatus, code = await _status(fromconn, st["clonetid"])
    await egoto(code, "Failed to get the status of the cloned volume %u\n" % clonevol)
    r.vdone()
    return clockadj(tstatus.creationDate)


async def _forward_clone(s, r, st, fromconn, clonevol, clonefromdate, toserver, dest_id,
                         cookie, what, topart, size_kb, egoto) -> None:
    """Move/copy: forward the clone to the destination, then end the
    clone's transaction."""
    r.vprint("Dumping from clone %u on source to volume %u on destination ..."
             % (clonevol, dest_id))
    code = await _forward(s, r, fromconn, st["clonetid"], clonefromdate, toserver, st["totid"],
                          cookie, what, topart, size_kb)
    await egoto(code, "Failed to move data for the volume %u\n" % dest_id)
    r.vdone()
    r.vprint("Ending transaction on cloned volume %u ..." % clonevol)
    code = await _end(fromconn, st["clonetid"])
    st["clonetid"] = 0
    await egoto(code, "Failed to end the transaction on the cloned volume %u\n" % clonevol)
    r.vdone()


@dataclass
class Moved:
    volid: int
    from_server: int
    from_partition: int
    to_server: int
    to_partition: int


async def move_volume(s, r: Reporter, afromvol: int, afromserver: int, afrompart: int,
                      atoserver: int, atopart: int, flags: int = 0, size_kb: int = 0) -> Moved:
    """UV_MoveVolume2: clone, forward the clone, forward the changes since,
    switch the VLDB entry, delete the old copy.  ``flags``: RV_NOCLONE
    (``-live``).  On failure the recovery of OpenAFS's vos runs (it ends
    every transaction, deletes the half-made copy or the old one
    depending on where the VLDB points, unlocks) and VolOpError(fatal)
    is raised: vos exits 1 there.  Cancelling the task (a second
    control-C) runs the same recovery."""
    vs = _vs()
    st = {"fromtid": 0, "totid": 0, "clonetid": 0, "newVol": 0, "volid": 0, "islocked": False,
          "pntg": False, "fromconn": None, "toconn": None}
    backup_id = 0
    error = 0
    entry = None

    async def egoto(code, text):
        nonlocal error
        if code:
            r.eprint(code, text)
            error = code
            raise _Fail

    try:
        entry, vcode = await _get_entry_id(s, afromvol, -1)
        await egoto(vcode, "Could not fetch the entry for the volume  %u from the VLDB \n"
                    % afromvol)
        if entry.rw_id != afromvol:
            r.err("Only RW volume can be moved\n")
            raise VolOpError(VOLSERBADOP, fatal=True)
        vcode = await _set_lock(s, afromvol, RWVOL, VLOP_MOVE)
        await egoto(vcode, "Could not lock entry for volume %u \n" % afromvol)
        st["islocked"] = True
        entry, vcode = await _get_entry_id(s, afromvol, RWVOL)
        await egoto(vcode, "Could not fetch the entry for the volume  %u from the VLDB \n"
                    % afromvol)
        backup_id = entry.bk_id
        if not await lp_match(s, r, afromserver, afrompart, entry):
            if not await lp_match(s, r, atoserver, atopart, entry):
                r.err("The volume %u is not on the specified site. \n" % afromvol)
                r.err("The current site is :")
                for x in entry.sites:
                    if x.flags == VLSF_RWVOL:
                        r.err(" server %s partition %s \n"
                              % (r.host(x.server), partition_name(x.partition)))
                vcode = await _release_lock(s, afromvol, -1)
                await egoto(vcode, " Could not release lock on the VLDB entry for the volume "
                            "%u \n" % afromvol)
                raise VolOpError(VOLSERVOLMOVED)
            # already moved: remove leftovers on the source
            st["fromconn"] = fromconn = _conn(s, afromserver)
            st["pntg"] = True
            code, _ = await do_vol_delete(s, r, fromconn, afromvol, afrompart, "leftover")
            if code and code != VNOVOL:
                error = code
                raise _Fail
            code, _ = await do_vol_delete(s, r, fromconn, backup_id, afrompart,
                                          "leftover backup")
            if code and code != VNOVOL:
                error = code
                raise _Fail
            st["fromtid"] = 0
            error = 0
            raise _Fail
        if afrompart == atopart:
            same, err = await is_same_addrs(s, afromserver, atoserver)
            if err:
                await egoto(err, "Failed to get info about server's %d address(es) from "
                            "vlserver (err=%d); aborting call!\n" % (net_int(afromserver), err))
            if same:
                await egoto(VOLSERVOLMOVED, "Warning: Moving volume %u to its home partition "
                            "ignored!\n" % afromvol)
        st["pntg"] = True
        st["toconn"] = toconn = _conn(s, atoserver)
        st["fromconn"] = fromconn = _conn(s, afromserver)
        r.vprint("Starting transaction on source volume %u ..." % afromvol)
        st["fromtid"], code = await _trans(fromconn, afromvol, afrompart, ITBusy)
        await egoto(code, "Failed to create transaction on the volume %u\n" % afromvol)
        r.vdone()
        if not flags & RV_NOCLONE:
            r.vprint("Allocating new volume id for clone of volume %u ..." % afromvol)
            nv, vcode = await _new_id(s)
            st["newVol"] = nv or 0
            await egoto(vcode, "Could not get an ID for the clone of volume %u from the VLDB\n"
                        % afromvol)
            r.vdone()
            r.vprint("Cloning source volume %u ..." % afromvol)
            nv, code = await _c(volume.clone(fromconn, st["fromtid"], 0, readonlyVolume,
                                             "move-clone-temp", st["newVol"]))
            if not code:
                st["newVol"] = nv
            await egoto(code, "Failed to clone the source volume %u\n" % afromvol)
            r.vdone()
        st["volid"] = afromvol
        volname, code = await _c(volume.get_name(fromconn, st["fromtid"]))
        await egoto(code, "Failed to get the name of the volume %u\n" % afromvol)
        r.vprint("Ending the transaction on the source volume %u ..." % afromvol)
        code = await _end(fromconn, st["fromtid"])
        st["fromtid"] = 0
        await egoto(code, "Failed to end the transaction on the source volume %u\n" % afromvol)
        r.vdone()
        newVol = st["newVol"]
        if not flags & RV_NOCLONE:
            fromdate = await _open_clone(r, st, fromconn, newVol, afrompart, egoto)
        else:
            fromdate = 0
        volid = afromvol
        code, _ = await do_vol_delete(s, r, toconn, volid, atopart, "pre-existing destination")
        if code and code != VNOVOL:
            error = code
            raise _Fail
        r.vprint("Creating the destination volume %u ..." % volid)
        res, code = await _c(vs.AFSVolCreateVolume(toconn, atopart, volname, volser_RW, volid,
                                                   volid))
        if not code:
            volid, st["totid"] = res.volid, res.trans
            st["volid"] = volid
        await egoto(code, "Failed to create the destination volume %u\n" % volid)
        r.vdone()
        tmpname = volname
        r.vprint("Setting volume flags on destination volume %u ..." % volid)
        code = await _flags(toconn, st["totid"], VTDeleteOnSalvage | VTOutOfService)
        await egoto(code, "Failed to set the flags on the destination volume %u\n" % volid)
        r.vdone()
        cookie = _cookie(tmpname, RWVOL, entry.rw_id)
        if not flags & RV_NOCLONE:
            # (the destination has the RW volume's id in a move)
            await _forward_clone(s, r, st, fromconn, newVol, 0, atoserver, volid, cookie,
                                 "vos move", atopart, size_kb, egoto)
        r.vprint("Starting transaction on source volume %u ..." % afromvol)
        st["fromtid"], code = await _trans(fromconn, afromvol, afrompart, ITBusy)
        await egoto(code, "Failed to create a transaction on the source volume %u\n" % afromvol)
        r.vdone()
        incr = "" if flags & RV_NOCLONE else " incremental"
        r.vprint("Doing the%s dump from source to destination for volume %u ... "
                 % (incr, afromvol))
        code = await _forward(s, r, fromconn, st["fromtid"], fromdate, atoserver, st["totid"],
                              cookie, "vos move", atopart, size_kb if flags & RV_NOCLONE else 0)
        await egoto(code, "Failed to do the%s dump from rw volume on old site to rw volume on "
                    "newsite\n" % incr)
        r.vdone()
        r.vprint("Setting volume flags on old source volume %u ..." % afromvol)
        code = await _flags(fromconn, st["fromtid"], VTOutOfService)
        await egoto(code, "Failed to set the flags to make old source volume offline\n")
        r.vdone()
        r.vprint("Setting volume flags on new source volume %u ..." % afromvol)
        code = await _flags(toconn, st["totid"], 0)
        await egoto(code, "Failed to set the flags to make new source volume online\n")
        r.vdone()
        r.vprint("Ending transaction on destination volume %u ..." % afromvol)
        code = await _end(toconn, st["totid"])
        st["totid"] = 0
        await egoto(code, "Failed to end the transaction on the volume %u on the new site\n"
                    % afromvol)
        r.vdone()
        await set_a_value(s, r, entry, afromserver, afrompart, atoserver, atopart, VLSF_RWVOL)
        store = _copy_entry(entry)
        store.flags &= ~VLF_BACKEXISTS
        r.vprint("Releasing lock on VLDB entry for volume %u ..." % afromvol)
        vcode = await _replace(s, afromvol, -1, store, LOCKREL_ALL)
        if vcode:
            r.err(" Could not release the lock on the VLDB entry for the volume %s %u \n"
                  % (store.name, afromvol))
            error = vcode
            raise _Fail
        st["islocked"] = False
        r.vdone()
        if atoserver != afromserver:
            r.vprint("Setting forwarding pointer for volume %u ..." % afromvol)
            _, code = await _c(vs.AFSVolSetForwarding(fromconn, st["fromtid"], _i32(atoserver)))
            await egoto(code, "Failed to set the forwarding pointer for the volume %u\n"
                        % afromvol)
            r.vdone()
        r.vprint("Deleting old volume %u on source ..." % afromvol)
        code = (await _c(volume.delete_trans_volume(fromconn, st["fromtid"])))[1]
        await egoto(code, "Failed to delete the old volume %u on source\n" % afromvol)
        r.vdone()
        r.vprint("Ending transaction on old volume %u on the source ..." % afromvol)
        code = await _end(fromconn, st["fromtid"])
        st["fromtid"] = 0
        await egoto(code, "Failed to end the transaction on the old volume %u on the source\n"
                    % afromvol)
        r.vdone()
        code, _ = await do_vol_delete(s, r, fromconn, backup_id, afrompart, "source backup")
        if code and code != VNOVOL:
            error = code
            raise _Fail
        st["fromtid"] = 0
        if not flags & RV_NOCLONE:
            code, _ = await do_vol_delete(s, r, fromconn, newVol, afrompart, "cloned")
            if code and code != VNOVOL:
                error = code
                raise _Fail
    except (_Fail, asyncio.CancelledError):
        await _move_recovery(s, r, st, afromvol, afromserver, afrompart, atoserver, atopart,
                             backup_id)
        raise VolOpError(error or EINVAL, fatal=True) from None
    # the normal end
    if entry.flags & VLF_ROEXISTS:
        r.err("WARNING : readOnly copies still exist \n")
    await _move_cleanup(s, r, st, afromvol, "source", error)
    return Moved(afromvol, afromserver, afrompart, atoserver, atopart)


async def _move_cleanup(s, r, st, volid, label, error, clone_label="clone", dest_vol=None):
    """The "normal cleanup code" of move/copy: what is still open."""
    if st.get("islocked"):
        r.vprint("Cleanup: Releasing VLDB lock on volume %u ..." % volid)
        vcode = await _release_lock(s, volid, -1)
        if vcode:
            r.vprint("\n")
            r.err(" Could not release the lock on the VLDB entry for the volume %u \n" % volid)
            error = error or vcode
        r.vdone()
    fromconn, toconn = st["fromconn"], st["toconn"]
    if st["fromtid"]:
        r.vprint("Cleanup: Ending transaction on source volume %u ..." % volid)
        c, rc = await _end_pair(fromconn, st["fromtid"])
        if c or rc:
            r.vprint("\n")
            r.err("Could not end transaction on the source volume %u\n" % volid)
            error = error or c or rc
        r.vdone()
    if st["clonetid"]:
        cv = st.get("newVol") or st.get("cloneVol")
        r.vprint("Cleanup: Ending transaction on clone volume %u ..." % cv)
        c, rc = await _end_pair(fromconn, st["clonetid"])
        if c or rc:
            r.vprint("\n")
            r.err("Could not end transaction on the source's clone volume %u\n" % cv)
            error = error or c or rc
        r.vdone()
    if st["totid"]:
        dv = volid if dest_vol is None else dest_vol
        r.vprint("Cleanup: Ending transaction on destination volume %u ..." % dv)
        c, rc = await _end_pair(toconn, st["totid"])
        if c:
            r.vprint("\n")
            r.err("Could not end transaction on destination volume %u\n" % dv)
            error = error or c or rc
        r.vdone()
    r.perror(error)
    _raise(error)


async def _move_recovery(s, r, st, afromvol, afromserver, afrompart, atoserver, atopart,
                         backup_id):
    """The mfail path of UV_MoveVolume2."""
    vs = _vs()
    fromconn, toconn = st["fromconn"], st["toconn"]
    if st["pntg"]:
        r.out("vos move: operation interrupted, cleanup in progress...\n")
        r.out("clear transaction contexts\n")
    if st["islocked"]:
        r.vprint("Recovery: Releasing VLDB lock on volume %u ..." % afromvol)
        await _release_lock(s, afromvol, -1)
        r.vdone()
        st["islocked"] = False
    if st["clonetid"]:
        r.vprint("Recovery: Ending transaction on clone volume ...")
        await _c(vs.AFSVolEndTrans(fromconn, st["clonetid"]))
        r.vdone()
    if st["totid"]:
        r.vprint("Recovery: Ending transaction on destination volume ...")
        await _c(vs.AFSVolEndTrans(toconn, st["totid"]))
        r.vdone()
    if st["fromtid"]:
        r.vprint("Recovery: Setting volume flags on source volume ...")
        await _c(vs.AFSVolSetFlags(fromconn, st["fromtid"], 0))
        r.vdone()
        r.vprint("Recovery: Ending transaction on source volume ...")
        await _c(vs.AFSVolEndTrans(fromconn, st["fromtid"]))
        r.vdone()
    r.vprint("Recovery: Accessing VLDB.\n")
    entry, vcode = await _get_entry_id(s, afromvol, -1)
    if vcode:
        r.out("FATAL: VLDB access error: abort cleanup\n")
    else:
        if await lp_match(s, r, afromserver, afrompart, entry):
            if st["pntg"]:
                r.out("move incomplete - attempt cleanup of target partition - no guarantee\n")
            if st["volid"] and toconn is not None:
                code, _ = await do_vol_delete(s, r, toconn, st["volid"], atopart, "destination",
                                              prefix="Recovery:")
                if code == VNOVOL:
                    r.eprint(code, "Recovery: Failed to start transaction on %u\n" % st["volid"])
            if fromconn is not None:
                r.vprint("Recovery: Creating transaction on source volume %u ..." % afromvol)
                tid, code = await _trans(fromconn, afromvol, afrompart, ITBusy)
                st["fromtid"] = tid
                if not code:
                    r.vdone()
                    r.vprint("Recovery: Setting flags on source volume %u ..." % afromvol)
                    await _c(vs.AFSVolSetFlags(fromconn, tid, 0))
                    r.vdone()
                    r.vprint("Recovery: Ending transaction on source volume %u ..." % afromvol)
                    await _c(vs.AFSVolEndTrans(fromconn, tid))
                    r.vdone()
                else:
                    r.vprint("\nRecovery: Unable to start transaction on source volume %u.\n"
                             % afromvol)
        else:
            if st["pntg"]:
                r.out("move complete - attempt cleanup of source partition - no guarantee\n")
            if fromconn is not None:
                code, _ = await do_vol_delete(s, r, fromconn, backup_id, afrompart, "backup",
                                              prefix="Recovery:")
                if code == VNOVOL:
                    r.eprint(code, "Recovery: Failed to start transaction on %u\n" % backup_id)
                code, _ = await do_vol_delete(s, r, fromconn, afromvol, afrompart, "source",
                                              atoserver if atoserver != afromserver else 0)
                if code == VNOVOL:
                    r.eprint(code, "Failed to start transaction on %u\n" % afromvol)
        if st["newVol"]:
            code, _ = await do_vol_delete(s, r, fromconn, st["newVol"], afrompart, "clone",
                                          prefix="Recovery:")
            if code == VNOVOL:
                r.eprint(code, "Recovery: Failed to start transaction on %u\n" % st["newVol"])
        if st["islocked"]:
            r.vprint("Recovery: Releasing lock on VLDB entry for volume %u ..." % afromvol)
            await _release_lock(s, afromvol, -1)
            r.vdone()
    if st["pntg"]:
        r.out("cleanup complete - user verify desired result\n")


@dataclass
class Copied:
    volid: int
    new_id: int
    name: str
    to_server: int
    to_partition: int


async def copy_volume(s, r: Reporter, afromvol: int, afromserver: int, afrompart: int,
                      atovolname: str, atoserver: int, atopart: int, atovolid: int = 0,
                      flags: int = 0, size_kb: int = 0, what: str = "copy") -> Copied:
    """UV_CopyVolume2 (vos copy; vos shadow with RV_NOVLDB and a given
    id).  ``flags``: RV_RDONLY, RV_OFFLINE, RV_CPINCR, RV_NOVLDB,
    RV_NOCLONE.  Failure runs OpenAFS's recovery and raises
    VolOpError(fatal)."""
    vs = _vs()
    st = {"fromtid": 0, "totid": 0, "clonetid": 0, "cloneVol": 0, "pntg": False,
          "fromconn": None, "toconn": None}
    error = 0
    newvol = 0

    async def egoto(code, text):
        nonlocal error
        if code:
            r.eprint(code, text)
            error = code
            raise _Fail

    try:
        entry, vcode = await _get_entry_id(s, afromvol, -1)
        await egoto(vcode, "Could not fetch the entry for the volume  %u from the VLDB \n"
                    % afromvol)
        st["pntg"] = True
        st["toconn"] = toconn = _conn(s, atoserver)
        st["fromconn"] = fromconn = _conn(s, afromserver)
        noclone = bool(flags & RV_NOCLONE)
        if not noclone:
            r.vprint("Starting transaction on source volume %u ..." % afromvol)
            st["fromtid"], code = await _trans(fromconn, afromvol, afrompart, ITBusy)
            await egoto(code, "Failed to create transaction on the volume %u\n" % afromvol)
            r.vdone()
            r.vprint("Allocating new volume id for clone of volume %u ..." % afromvol)
            cv, vcode = await _new_id(s)
            st["cloneVol"] = cv or 0
            await egoto(vcode, "Could not get an ID for the clone of volume %u from the VLDB\n"
                        % afromvol)
            r.vdone()
        if atovolid:
            newvol = atovolid
        else:
            r.vprint("Allocating new volume id for copy of volume %u ..." % afromvol)
            nv, vcode = await _new_id(s)
            newvol = nv or 0
            await egoto(vcode, "Could not get an ID for the copy of volume %u from the VLDB\n"
                        % afromvol)
            r.vdone()
        cloneVol = st["cloneVol"]
        if not noclone:
            r.vprint("Cloning source volume %u ..." % afromvol)
            cv, code = await _c(volume.clone(fromconn, st["fromtid"], 0, readonlyVolume,
                                             "copy-clone-temp", cloneVol))
            if not code:
                st["cloneVol"] = cloneVol = cv
            await egoto(code, "Failed to clone the source volume %u\n" % afromvol)
            r.vdone()
            r.vprint("Ending the transaction on the source volume %u ..." % afromvol)
            code = await _end(fromconn, st["fromtid"])
            st["fromtid"] = 0
            await egoto(code, "Failed to end the transaction on the source volume %u\n"
                        % afromvol)
            r.vdone()
            fromdate = await _open_clone(r, st, fromconn, cloneVol, afrompart, egoto)
        else:
            fromdate = 0
        clonefromdate = 0
        tid, code = await _trans(toconn, newvol, atopart, ITOffline)
        st["totid"] = tid
        incremental = False
        if not code:
            if flags & RV_CPINCR:
                r.vprint("Getting status of pre-existing volume %u ..." % newvol)
                tstatus, code = await _status(toconn, st["totid"])
                await egoto(code, "Failed to get the status of the pre-existing volume %u\n"
                            % newvol)
                r.vdone()
                clonefromdate = clockadj(tstatus.updateDate)
                if noclone:
                    fromdate = clonefromdate
                incremental = True
            else:
                r.vprint("Deleting pre-existing volume %u on destination ..." % newvol)
                code = (await _c(volume.delete_trans_volume(toconn, st["totid"])))[1]
                await egoto(code, "Could not delete the pre-existing volume %u on destination\n"
                            % newvol)
                r.vdone()
                r.vprint("Ending transaction on pre-existing volume %u on destination ..."
                         % newvol)
                code = await _end(toconn, st["totid"])
                st["totid"] = 0
                await egoto(code, "Could not end the transaction on pre-existing volume %u on "
                            "destination\n" % newvol)
                r.vdone()
        if not incremental:
            r.vprint("Creating the destination volume %u ..." % newvol)
            res, code = await _c(vs.AFSVolCreateVolume(
                toconn, atopart, atovolname, volser_RO if flags & RV_RDONLY else volser_RW,
                newvol, newvol))
            if not code:
                newvol, st["totid"] = res.volid, res.trans
            await egoto(code, "Failed to create the destination volume %u\n" % newvol)
            r.vdone()
            r.vprint("Setting volume flags on destination volume %u ..." % newvol)
            code = await _flags(toconn, st["totid"], VTDeleteOnSalvage | VTOutOfService)
            await egoto(code, "Failed to set the flags on the destination volume %u\n" % newvol)
            r.vdone()
        cookie = _cookie(atovolname, ROVOL if flags & RV_RDONLY else RWVOL, 0)
        label = "vos " + what
        if not noclone:
            await _forward_clone(s, r, st, fromconn, cloneVol, clonefromdate, atoserver, newvol,
                                 cookie, label, atopart, size_kb, egoto)
        r.vprint("Starting transaction on source volume %u ..." % afromvol)
        st["fromtid"], code = await _trans(fromconn, afromvol, afrompart, ITBusy)
        await egoto(code, "Failed to create a transaction on the source volume %u\n" % afromvol)
        r.vdone()
        incr = "" if noclone else " incremental"
        r.vprint("Doing the%s dump from source to destination for volume %u ... "
                 % (incr, afromvol))
        code = await _forward(s, r, fromconn, st["fromtid"], fromdate, atoserver, st["totid"],
                              cookie, label, atopart, size_kb if noclone else 0)
        await egoto(code, "Failed to do the%s dump from old site to new site\n" % incr)
        r.vdone()
        r.vprint("Setting volume flags on destination volume %u ..." % newvol)
        code = await _flags(toconn, st["totid"], VTOutOfService if flags & RV_OFFLINE else 0)
        await egoto(code, "Failed to set the flags to make destination volume online\n")
        r.vdone()
        r.vprint("Ending transaction on destination volume %u ..." % newvol)
        code = await _end(toconn, st["totid"])
        st["totid"] = 0
        await egoto(code, "Failed to end the transaction on the destination volume %u\n"
                    % newvol)
        r.vdone()
        r.vprint("Ending transaction on source volume %u ..." % afromvol)
        code = await _end(fromconn, st["fromtid"])
        st["fromtid"] = 0
        await egoto(code, "Failed to end the transaction on the source volume %u\n" % afromvol)
        r.vdone()
        if not noclone:
            code, _ = await do_vol_delete(s, r, fromconn, cloneVol, afrompart, "cloned")
            if code and code != VNOVOL:
                error = code
                raise _Fail
        if not flags & RV_NOVLDB:
            ro = bool(flags & RV_RDONLY)
            ne = VLDBEntry(atovolname.encode("utf-8", "surrogateescape")[:VOLSER_OLDMAXVOLNAME]
                           .decode("utf-8", "surrogateescape"), newvol, newvol if ro else 0, 0,
                           0, VLF_ROEXISTS if ro else VLF_RWEXISTS,
                           [Site(atoserver, atopart, VLSF_ROVOL if ro else VLSF_RWVOL)], 1)
            _, vcode = await _c(vldb.create_entry(s, ne))
            if vcode:
                r.err("Could not create a VLDB entry for the volume %s %u\n"
                      % (atovolname, newvol))
                r.vprint("Deleting the newly created volume %u\n" % newvol)
                await _c(volume.delete_trans_volume(toconn, st["totid"]))
                error = vcode
                raise _Fail
            r.vprint("Created the VLDB entry for the volume %s %u\n" % (atovolname, newvol))
    except (_Fail, asyncio.CancelledError):
        await _copy_recovery(s, r, st, afromvol, afrompart, what)
        raise VolOpError(error or EINVAL, fatal=True) from None
    await _move_cleanup(s, r, st, afromvol, "source", error, dest_vol=newvol)
    return Copied(afromvol, newvol, atovolname, atoserver, atopart)


async def _copy_recovery(s, r, st, afromvol, afrompart, what):
    vs = _vs()
    fromconn, toconn = st["fromconn"], st["toconn"]
    if st["pntg"]:
        r.out("vos copy: operation interrupted, cleanup in progress...\n")
        r.out("clear transaction contexts\n")
    if st["clonetid"]:
        r.vprint("Recovery: Ending transaction on clone volume ...")
        await _c(vs.AFSVolEndTrans(fromconn, st["clonetid"]))
        r.vdone()
    if st["totid"]:
        r.vprint("Recovery: Ending transaction on destination volume ...")
        await _c(vs.AFSVolEndTrans(toconn, st["totid"]))
        r.vdone()
    if st["fromtid"]:
        r.vprint("Recovery: Ending transaction on source volume ...")
        await _c(vs.AFSVolEndTrans(fromconn, st["fromtid"]))
        r.vdone()
    r.vprint("Recovery: Accessing VLDB.\n")
    _, vcode = await _get_entry_id(s, afromvol, -1)
    if vcode:
        r.out("FATAL: VLDB access error: abort cleanup\n")
    elif st["cloneVol"]:
        await do_vol_delete(s, r, fromconn, st["cloneVol"], afrompart, "clone",
                            prefix="Recovery:")
    if st["pntg"]:
        r.out("cleanup complete - user verify desired result\n")


async def uv_list_one(s, r: Reporter, server: int, part: int, volid: int):
    """UV_ListOneVolume with its messages: (VolumeInfo or None, code)."""
    v, code = await list_one(s, server, part, volid)
    if code:
        r.err("Could not fetch the information about volume %u from the server\n" % volid)
    r.perror(code)
    return v, code


async def uv_partition_info(s, r: Reporter, server: int, pname: str):
    """UV_PartitionInfo64 with its messages: (PartitionInfo or None, code)."""
    p, code = await _c(volume.partition_info(s, inet_ntoa(server), pname))
    if code:
        r.err("Could not get information on partition %s\n" % pname)
        r.perror(code)
    return p, code


# =============================================================================
# release (UV_ReleaseVolume, GetTrans, CheckTrans, PutTrans)
# =============================================================================

CR_PARTIAL, CR_FORCED, CR_LAST_OK, CR_ALL_NEW, CR_NEW_RW, CR_RO_MISSING = 0, 1, 2, 4, 8, 16


def _status_tuple(st):
    return tuple(getattr(st, f) for f in st.__slots__) if st is not None else None


async def _get_trans(s, r, e: VLDBEntry, index: int, origflags, tmpvolid: int = 0):
    """GetTrans: (code, conn, tid, crtime, uptime) for the RO site."""
    vs = _vs()
    site = e.sites[index]
    conn = _conn(s, site.server)
    tid = 0
    crtime = uptime = 0
    volid = e.ro_id
    code = 0

    async def fail(code):
        nonlocal tid
        if tid:
            tc = await _end(conn, tid)
            tid = 0
            if tc and tc != ENOENT:
                r.perror(tc, "Could not end transaction on a ro volume: ")
        return code, conn, 0, 0, 0

    if volid:
        tid, code = await _trans(conn, volid, site.partition, ITOffline)
        if not code and origflags[index] & VLSF_DONTUSE:
            r.vprint("Deleting extant RO_DONTUSE site on %s..." % r.host(site.server))
            code = (await _c(volume.delete_trans_volume(conn, tid)))[1]
            if code:
                r.perror(code, "Failed to delete RO_DONTUSE site: ")
                return await fail(code)
            tc = await _end(conn, tid)
            tid = 0
            if tc:
                r.perror(tc, "Failed to end transaction on RO_DONTUSE site: ")
                return await fail(tc)
            r.vdone()
            code = VNOVOL
    if not volid or code:
        if volid and code != VNOVOL:
            r.perror(code, "Failed to start a transaction on the RO volume.\n")
            return await fail(code)
        volname = e.name + (".roclone" if tmpvolid else ".readonly")
        if blen(volname) >= 65:
            r.perror(ENOMEM, "Volume name is too long\n")
            return await fail(ENOMEM)
        if r.verbose:
            r.out("Creating new volume %u on replication site %s: "
                  % (tmpvolid or volid, r.host(site.server)))
        res, code = await _c(vs.AFSVolCreateVolume(conn, site.partition, volname, volser_RO,
                                                   e.rw_id, tmpvolid or volid))
        if code:
            r.perror(code, "Failed to create the ro volume: ")
            return await fail(code)
        tid = res.trans
        if not tmpvolid:
            volid = res.volid
        e.ro_id = volid
        r.vdone()
        code = await _flags(conn, tid, VTDeleteOnSalvage | VTOutOfService)
        if code:
            r.perror(code, "Failed to set flags on the ro volume: ")
            return await fail(code)
    else:
        r.vprint("Updating existing ro volume %u on %s ...\n" % (volid, r.host(site.server)))
        tstatus, code = await _status(conn, tid)
        if code:
            r.perror(code, "Failed to get status of volume on destination: ")
            return await fail(code)
        crtime = clockadj(tstatus.creationDate)
        uptime = clockadj(tstatus.updateDate)
    return 0, conn, tid, crtime, uptime


async def _check_trans(s, r, conn, tid: int, part: int, orig) -> tuple[int, int]:
    """CheckTrans: (code, tid) - the clone's transaction, recreated if it
    timed out."""
    new, code = await _status(conn, tid)
    if code:
        if code == ENOENT:
            r.vprint("Old transaction on cloned volume %u timed out, restarting transaction\n"
                     % orig.volID)
            tid, code = await _trans(conn, orig.volID, part, ITBusy)
            if code:
                r.perror(code, "Failed to recreate cloned RO volume transaction\n")
                return 1, 0
            new, code = await _status(conn, tid)
            if code:
                r.perror(code, "Failed to get status on recreated transaction\n")
                return 1, tid
            if _status_tuple(new) != _status_tuple(orig):
                r.perror(0, "Recreated transaction on cloned RO volume, but the volume has "
                         "changed!\n")
                return 1, tid
        else:
            r.perror(code, "Unable to get status of current cloned RO transaction\n")
            return 1, tid
    elif _status_tuple(new) != _status_tuple(orig):
        r.perror(0, "Internal error: current GetStatus does not match original GetStatus?\n")
        return 1, tid
    return 0, tid


@dataclass
class Released:
    volid: int
    ro_id: int
    complete: bool
    sites: int
    failed_sites: list = field(default_factory=list)


async def release_volume(s, r: Reporter, afromvol: int, afromserver: int, afrompart: int,
                         flags: int = 0) -> Released:
    """UV_ReleaseVolume: clone the RW and forward the clone to every RO
    site that needs it (or finish a previous, partial release).
    ``flags``: REL_COMPLETE (-force-reclone), REL_COMPLETE|REL_FULLDUMPS
    (-force).  A partial failure leaves the sites marked as OpenAFS's
    does and raises VolOpError(VOLSERBADRELEASE)."""
    vs = _vs()
    error = 0
    islocked = False
    fromconn = None
    fromtid = clonetid = 0
    replicas: list = []            # [conn, tid, server, vldb index, crtime, uptime]
    entry = None
    clone_id = 0
    complete = CR_PARTIAL
    failed_sites: list = []

    def onerror(code, text):
        nonlocal error
        if code:
            r.err(text)
            error = code
            raise _Fail

    try:
        vcode = await _set_lock(s, afromvol, RWVOL, VLOP_RELEASE)
        if vcode != VL_RERELEASE:
            onerror(vcode, "Could not lock the VLDB entry for the volume %u.\n" % afromvol)
        islocked = True
        entry, vcode = await _get_entry_id(s, afromvol, RWVOL)
        onerror(vcode, "Could not fetch the entry for the volume %u from the VLDB.\n" % afromvol)
        if r.verbose:
            r.entry(entry)
        if not name_valid(entry.name):
            onerror(VOLSERBADOP, "Volume name %s is too long, rename before releasing.\n"
                    % entry.name)
        if entry.rw_id != afromvol:
            onerror(VOLSERBADOP, "The volume %u being released is not a read-write volume.\n"
                    % afromvol)
        if entry.n_servers <= 1:
            onerror(VOLSERBADOP, "Volume %u has no replicas - release operation is "
                    "meaningless!\n" % afromvol)
        if blen(entry.name) > VOLSER_OLDMAXVOLNAME - 10:
            onerror(VOLSERBADOP, "RO volume name %s exceeds (VOLSER_OLDMAXVOLNAME - 10) "
                    "character limit\n" % entry.name)
        sites_ = entry.sites
        roindex = await lp_ro_match(s, r, afromserver, afrompart, entry) - 1
        roclone = roindex != -1
        rwindex = _rw_first(entry)
        if rwindex < 0:
            onerror(VOLSERNOVOL, "There is no RW volume \n")
        if entry.ro_id == INVALID_BID:
            rov, vcode = await _new_id(s)
            onerror(vcode, "Cant allocate ID for RO volume of %s\n" % entry.name)
            entry.ro_id = rov
            vcode = await _replace(s, afromvol, RWVOL, entry, 0)
            onerror(vcode, "Could not update vldb entry for %s.\n" % entry.name)
        nsites = new_sites = notreleased = 0
        origflags = [x.flags for x in sites_]
        for x in sites_:
            if x.flags & VLSF_ROVOL:
                nsites += 1
                if x.flags & VLSF_NEWREPSITE:
                    new_sites += 1
                if x.flags & VLSF_DONTUSE:
                    notreleased += 1
        if flags & REL_COMPLETE:
            complete |= CR_FORCED
        if new_sites == 0:
            complete |= CR_LAST_OK
        elif new_sites == nsites:
            complete |= CR_ALL_NEW
        justnewsites = False
        tried_justnewsites = False
        if complete & (CR_LAST_OK | CR_ALL_NEW) and not complete & CR_FORCED:
            if notreleased and notreleased != nsites:
                justnewsites = True
        clone_id = entry.ro_id if (complete or entry.clone_id == 0) else entry.clone_id
        _, code = await list_one(s, afromserver, afrompart, clone_id)
        roexists = code not in (ENODEV, 1492325125)     # VOLSERILLEGAL_PARTITION: ENODEV
        fromconn = _conn(s, afromserver)
        rwcrdate = rwupdate = 0
        if not complete:
            if not roexists:
                complete |= CR_RO_MISSING
            else:
                fromtid, code = await _trans(fromconn, afromvol, afrompart, ITBusy)
                onerror(code, "Failed to start transaction on RW volume %u\n" % afromvol)
                vst, code = await _status(fromconn, fromtid)
                onerror(code, "Failed to get the status of RW volume %u\n" % afromvol)
                rwcrdate = vst.creationDate
                code = await _end(fromconn, fromtid)
                fromtid = 0
                onerror(code, "Failed to end transaction on RW volume %u\n" % afromvol)
                clonetid, code = await _trans(fromconn, clone_id, afrompart, ITBusy)
                onerror(code, "Failed to start transaction on RW clone %u\n" % clone_id)
                vst, code = await _status(fromconn, clonetid)
                onerror(code, "Failed to get the status of RW clone %u\n" % clone_id)
                clcrdate = vst.creationDate
                code = await _end(fromconn, clonetid)
                clonetid = 0
                onerror(code, "Failed to end transaction on RW clone %u\n" % clone_id)
                if (rwcrdate & 0xFFFFFFFF) > (clcrdate & 0xFFFFFFFF):
                    complete |= CR_NEW_RW
        if not complete or complete & CR_NEW_RW:
            justnewsites = False
        if r.verbose:
            if not complete:
                r.out("This is a recovery of previously failed release\n")
            else:
                t = "This is a complete release of volume %u" % afromvol
                if complete == CR_LAST_OK:
                    if justnewsites:
                        tried_justnewsites = True
                        t += "\nThere are new RO sites; we will try to only release to new sites"
                else:
                    parts = []
                    if complete & CR_FORCED:
                        parts.append("forced")
                    if complete & CR_LAST_OK:
                        parts.append("last ok")
                    if complete & CR_ALL_NEW:
                        parts.append("all sites are new")
                    if complete & CR_NEW_RW:
                        parts.append("rw %u changed" % afromvol)
                    if complete & CR_RO_MISSING:
                        parts.append("ro clone missing")
                    t += " (" + ", ".join(parts) + ")"
                r.out(t + "\n")
        volstatus = None
        if complete:
            oldest = 0
            if roexists and (not roclone or sites_[roindex].flags & VLSF_DONTUSE):
                code, _ = await do_vol_delete(s, r, fromconn, clone_id, afrompart, "the")
                if code and code != VNOVOL:
                    error = code
                    raise _Fail
                roexists = False
            if justnewsites:
                r.vprint("Querying old RO sites for update times...")
                for x in sites_[:entry.n_servers]:
                    if not x.flags & VLSF_ROVOL or x.flags & VLSF_DONTUSE:
                        continue
                    v, code = await list_one(s, x.server, x.partition, entry.ro_id)
                    if code:
                        r.err("Could not fetch information about RO vol %u from server %s\n"
                              % (entry.ro_id, vldb.host_name(x.server)))
                        r.perror(code)
                        justnewsites = False
                        break
                    crdate = clockadj(v.creation_date)
                    if oldest == 0 or crdate < oldest:
                        oldest = crdate
                r.vdone()
            if justnewsites:
                v, code = await list_one(s, afromserver, afrompart, afromvol)
                if code:
                    r.err("Could not fetch information about RW vol %u from server %s\n"
                          % (afromvol, vldb.host_name(afromserver)))
                    r.perror(code)
                    justnewsites = False
                else:
                    rwupdate = v.update_date
            if justnewsites and oldest <= rwupdate:
                justnewsites = False
            for x in sites_[:entry.n_servers]:
                if justnewsites:
                    if x.flags & VLSF_DONTUSE:
                        x.flags &= ~VLSF_NEWREPSITE
                    else:
                        x.flags |= VLSF_NEWREPSITE
                else:
                    x.flags &= ~VLSF_NEWREPSITE
                    x.flags |= VLSF_DONTUSE
            sites_[rwindex].flags |= VLSF_NEWREPSITE
            sites_[rwindex].flags &= ~VLSF_DONTUSE
        releasecount = 0
        if justnewsites and roexists:
            pass
        elif complete:
            vname = entry.name + ".readonly" if roclone else "readonly-clone-temp"
            code, volstatus = await do_vol_clone(
                s, r, fromconn, afromvol, afrompart, readonlyVolume, clone_id,
                "permanent RO" if roclone else "temporary RO", None, vname, None,
                want_status=True)
            if code:
                error = code
                raise _Fail
            if justnewsites and rwupdate != volstatus.updateDate:
                justnewsites = False
                for x in sites_[:entry.n_servers]:
                    x.flags &= ~VLSF_NEWREPSITE
                    x.flags |= VLSF_DONTUSE
                sites_[rwindex].flags |= VLSF_NEWREPSITE
                sites_[rwindex].flags &= ~VLSF_DONTUSE
            rwcrdate = volstatus.creationDate
            entry.clone_id = clone_id
            if roclone:
                r.vprint("Starting transaction on RO clone volume %u..." % clone_id)
                onlinetid, code = await _trans(fromconn, clone_id, afrompart, ITOffline)
                onerror(code, "Failed to start transaction on volume %u\n" % clone_id)
                r.vdone()
                r.vprint("Setting volume flags for volume %u..." % clone_id)
                tcode = await _flags(fromconn, onlinetid, 0)
                r.vdone()
                r.vprint("Ending transaction on volume %u..." % clone_id)
                code = await _end(fromconn, onlinetid)
                onerror(code, "Failed to end transaction on RO clone %u\n" % clone_id)
                r.vdone()
                onerror(tcode, "Could not bring volume %u on line\n" % clone_id)
                if entry.n_servers > 2 and not justnewsites:
                    await asyncio.sleep(5)
                sites_[roindex].flags |= VLSF_NEWREPSITE
                sites_[roindex].flags &= ~VLSF_DONTUSE
                entry.flags |= VLF_ROEXISTS
                releasecount += 1
                r.vprint("Replacing VLDB entry for %s..." % entry.name)
                vcode = await _replace(s, afromvol, RWVOL, entry, 0)
                onerror(vcode, "Could not update vldb entry for %s.\n" % entry.name)
                r.vdone()
        if justnewsites:
            r.vprint("RW vol has not changed; only releasing to new RO sites\n")
            complete = CR_PARTIAL
        elif tried_justnewsites:
            r.vprint("RW vol has changed; releasing to all sites\n")
        vname = entry.name + ".readonly"
        cookie = _cookie(vname, ROVOL, entry.rw_id)
        nservers = entry.n_servers if justnewsites else entry.n_servers // 2
        r.vprint("Starting transaction on cloned volume %u..." % clone_id)
        fromtid, code = await _trans(fromconn, clone_id, afrompart, ITBusy)
        orig_status = None
        if not code:
            orig_status, code = await _status(fromconn, fromtid)
        if not complete and code:
            onerror(VOLSERNOVOL, "Old clone is inaccessible. Try vos release -f %u.\n"
                    % afromvol)
        onerror(code, "Failed to create transaction on the release clone\n")
        r.vdone()
        remember: dict[int, int] = {}
        vldbindex = 0
        nsrv = entry.n_servers
        while vldbindex < nsrv:
            replicas = []
            fromdate = 0
            while len(replicas) < nservers and vldbindex < nsrv:
                if not justnewsites and len(replicas) == 1 and releasecount < 2:
                    break
                i = vldbindex
                vldbindex += 1
                x = sites_[i]
                if i == roindex:
                    continue
                if x.flags & VLSF_NEWREPSITE and not x.flags & VLSF_DONTUSE:
                    continue
                if not x.flags & VLSF_ROVOL:
                    continue
                code, conn, tid, crtime, uptime = await _get_trans(s, r, entry, i, origflags)
                if code:
                    continue
                if flags & REL_FULLDUMPS:
                    r.vprint("This will be a full dump: forced\n")
                    thisdate = 0
                elif complete == CR_PARTIAL:
                    r.vprint("This will be a full dump: read-only volume needs be created for "
                             "new site\n" if justnewsites else
                             "This will be a full dump: previous release failed\n")
                    thisdate = 0
                elif crtime == 0:
                    r.vprint("This will be a full dump: read-only volume needs to be created\n")
                    thisdate = 0
                elif (rwcrdate & 0xFFFFFFFF) > crtime:
                    r.vprint("This will be a full dump: read-write volume was replaced\n")
                    thisdate = 0
                elif i in remember:
                    thisdate = min(remember[i], uptime)
                else:
                    thisdate = uptime
                remember[i] = thisdate
                if not replicas:
                    fromdate = thisdate
                else:
                    if abs(fromdate - thisdate) > 900:
                        await _c(vs.AFSVolEndTrans(conn, tid))
                        vldbindex = i         # this site waits for the next round
                        break
                    fromdate = min(fromdate, thisdate)
                replicas.append([conn, tid, x.server, i])
            if not replicas:
                continue
            code, fromtid = await _check_trans(s, r, fromconn, fromtid, afrompart, orig_status)
            if code:
                error = ENOENT
                raise _Fail
            if r.verbose:
                t = "Starting ForwardMulti from %u to %u on %s" % (
                    clone_id, entry.ro_id, r.host(replicas[0][2]))
                for rep in replicas[1:]:
                    t += " and %s" % r.host(rep[2])
                if fromdate == 0:
                    t += " (entire volume)"
                else:
                    t += " (as of %.24s)" % time.ctime(_i32(fromdate))
                r.out(t + ".\n")
            dests = []
            for rep in replicas:
                d = vs.replica()
                d.trans = rep[1]
                d.server = _dest(rep[2])
                dests.append(d)
            results, code = await _forward_multi(s, r, fromconn, fromtid, fromdate, dests,
                                                 cookie, replicas, entry, afrompart)
            if code == RXGEN_OPCODE:
                results = []
                for d in dests:
                    results.append((await _c(vs.AFSVolForward(fromconn, fromtid, fromdate,
                                                              d.server, d.trans, cookie)))[1])
                code = 0
                nservers = 1
            if code:
                r.perror(code, "Release failed: ")
            else:
                for m, rep in enumerate(replicas):
                    res = results[m] if m < len(results) else 0
                    if res:
                        if m == 0 or res != ENOENT:
                            r.perror(res, "Failed to dump volume from clone to a ro site: ")
                        continue
                    _, code = await _c(vs.AFSVolSetIdsTypes(rep[0], rep[1], vname, ROVOL,
                                                            entry.rw_id, 0, 0))
                    if code:
                        if m == 0 or code != ENOENT:
                            r.perror(code, "Failed to set correct names and ids: ")
                        continue
                    code = await _flags(rep[0], rep[1], 0)
                    if code:
                        if m == 0 or code != ENOENT:
                            r.perror(code, "Failed to set flags on ro volume: ")
                        continue
                    sites_[rep[3]].flags |= VLSF_NEWREPSITE
                    sites_[rep[3]].flags &= ~VLSF_DONTUSE
                    entry.flags |= VLF_ROEXISTS
                    releasecount += 1
            # PutTrans
            for m, rep in enumerate(replicas):
                if rep[1]:
                    code = await _end(rep[0], rep[1])
                    rep[1] = 0
                    if code:
                        if m == 0 or code != ENOENT:
                            r.perror(code, "Could not end transaction on a ro volume: ")
                        else:
                            r.perror(0, "Transaction timed out on a ro volume. Will retry.\n")
                            if rep[3] < vldbindex:
                                vldbindex = rep[3]
            replicas = []
            vcode = await _replace(s, afromvol, RWVOL, entry, 0)
            onerror(vcode, " Could not update VLDB entry for volume %u\n" % afromvol)
        code = await _end(fromconn, fromtid)
        fromtid = 0
        if code:
            r.perror(code, "Failed to end transaction on rw volume: ")
        failure = [x for x in sites_[:entry.n_servers] if not x.flags & VLSF_NEWREPSITE]
        if failure:
            r.err("The volume %u could not be released to the following %d sites:\n"
                  % (afromvol, len(failure)))
            for x in failure:
                r.err("\t%35s %s\n" % (r.host(x.server), partition_name(x.partition)))
                failed_sites.append((x.server, x.partition))
            vcode = await _replace(s, afromvol, RWVOL, entry, LOCKREL_TIMESTAMP)
            onerror(vcode, " Could not update VLDB entry for volume %u\n" % afromvol)
            error = VOLSERBADRELEASE
            raise _Fail
        entry.clone_id = 0
        if not roclone:
            if r.verbose:
                r.out("Deleting the releaseClone %u ..." % clone_id)
            code, _ = await do_vol_delete(s, r, fromconn, clone_id, afrompart, None)
            if code and code != VNOVOL:
                onerror(code, "Failed to delete volume %u.\n" % clone_id)
            r.vdone()
        for x in sites_:
            x.flags &= ~VLSF_NEWREPSITE
        r.vprint("updating VLDB ...")
        vcode = await _replace(s, afromvol, RWVOL, entry, LOCKREL_ALL)
        onerror(vcode, " Could not update VLDB entry for volume %u\n" % afromvol)
        r.vdone()
        islocked = False
    except _Fail:
        pass
    except asyncio.CancelledError:
        error = error or EINVAL
    if clonetid:
        code, _ = await _c(vs.AFSVolEndTrans(fromconn, clonetid))
        if code:
            r.err("Failed to end cloning transaction on the RW volume %u\n" % afromvol)
            error = error or code
    if fromtid:
        code, _ = await _c(vs.AFSVolEndTrans(fromconn, fromtid))
        if code:
            r.err("Failed to end transaction on the release clone %u\n" % clone_id)
            error = error or code
    for rep in replicas:
        if rep[1]:
            code, _ = await _c(vs.AFSVolEndTrans(rep[0], rep[1]))
            rep[1] = 0
            if code:
                r.err("Failed to end transaction on ro volume %u at server %s\n"
                      % (entry.ro_id, r.host(rep[2])))
                error = error or code
    if islocked:
        vcode = await _release_lock(s, afromvol, RWVOL)
        if vcode:
            r.err("Could not release lock on the VLDB entry for volume %u\n" % afromvol)
            error = error or vcode
    r.perror(error)
    if error:
        e = VolOpError(error)
        e.failed_sites = failed_sites          # type: ignore[attr-defined]
        raise e
    return Released(afromvol, entry.ro_id, bool(complete), entry.n_servers - 1, failed_sites)


async def _forward_multi(s, r, fromconn, fromtid, fromdate, dests, cookie, replicas, entry,
                         part):
    """AFSVolForwardMultiple, with a progress line when wanted: (results, code)."""
    vs = _vs()
    watch = None
    if getattr(r, "tty", False) and replicas:
        x = entry.sites[replicas[0][3]]
        v, _ = await list_one(s, entry.sites[_rw_first(entry)].server, part, entry.rw_id)
        if v is not None:
            watch = asyncio.ensure_future(_watch(s, r, "vos release", x.server, x.partition,
                                                 v.size))
    try:
        return await _c(vs.AFSVolForwardMultiple(fromconn, fromtid, fromdate, dests, 0, cookie))
    finally:
        if watch is not None:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            r.progress_end()


# =============================================================================
# restore (UV_RestoreVolume2)
# =============================================================================

@dataclass
class Restored:
    volid: int
    name: str
    server: int
    partition: int
    bytes: int = 0


class RestoreStream:
    """What a restore's data source writes to: ``await send(data)``."""

    def __init__(self, call):
        self._call = call
        self.bytes = 0

    async def send(self, data) -> None:
        await self._call.write(data)
        self.bytes += len(data)


def stream_from(source, chunk: int = 1 << 20):
    """A restore data source (``async def (stream) -> code``) reading a
    binary file object, bytes, or an async iterator of bytes."""
    async def write_data(stream: RestoreStream) -> int:
        if isinstance(source, (bytes, bytearray, memoryview)):
            mv = memoryview(source)
            for i in range(0, len(mv), chunk):
                await stream.send(mv[i:i + chunk])
        elif hasattr(source, "__aiter__"):
            async for d in source:
                await stream.send(d)
        else:
            while True:
                d = source.read(chunk)
                if not d:
                    break
                await stream.send(d)
        return 0
    return write_data


async def restore_volume(s, r: Reporter, toserver: int, topart: int, tovolid: int,
                         toparentid: int, tovolname: str, flags: int, write_data) -> Restored:
    """UV_RestoreVolume2: restore a dump into a (new or existing) volume
    and make the VLDB say so.  ``write_data(stream)`` is the data source
    (see :func:`stream_from`); it returns 0 or an error code, as vos's
    WriteData does.  ``flags``: RV_FULLRST, RV_OFFLINE, RV_RDONLY,
    RV_CR*/RV_LU* (creation/update dates), RV_NODEL."""
    vs = _vs()
    error = 0
    islocked = False
    totid = 0
    sc = None
    reuse = True
    ro = bool(flags & RV_RDONLY)
    voltype, volsertype = (ROVOL, volser_RO) if ro else (RWVOL, volser_RW)
    pvolid, pparentid = tovolid, toparentid
    toconn = _conn(s, toserver)
    entry = None
    sent = 0
    try:
        if pvolid == 0:
            entry, vcode = await _get_entry_name(s, tovolname)
            if vcode == VL_NOENT:
                pvolid, vcode = await _new_id(s)
                if vcode:
                    r.err("Could not get an Id for the volume %s\n" % tovolname)
                    error = vcode
                    raise _Fail
                reuse = False
            elif ro:
                if entry.flags & VLF_RWEXISTS:
                    r.err("Entry for ReadWrite volume %s already exists!\n" % entry.name)
                    error = VOLSERBADOP
                    raise _Fail
                if not entry.ro_id:
                    r.err("Existing entry for volume %s has no ReadOnly ID\n" % tovolname)
                    error = VOLSERBADOP
                    raise _Fail
                pvolid, pparentid = entry.ro_id, entry.rw_id
            else:
                # (a lookup error other than VL_NOENT leaves the entry empty, as in C)
                pvolid = pparentid = entry.rw_id if entry is not None else 0
        if not pparentid:
            pparentid = pvolid
        real = tovolname.encode("utf-8", "surrogateescape")[:VOLSER_OLDMAXVOLNAME - 1].decode(
            "utf-8", "surrogateescape")
        if blen(tovolname) > VOLSER_OLDMAXVOLNAME - 1:
            r.eprint(VOLSERBADOP, "The volume name %s exceeds the maximum limit of "
                     "(VOLSER_OLDMAXVOLNAME -1 ) bytes\n" % tovolname)
            error = VOLSERBADOP
            raise _Fail
        if pparentid != pvolid and ro:
            if blen(tovolname) > VOLSER_OLDMAXVOLNAME - 10:
                r.eprint(VOLSERBADOP, "The volume name %s exceeds the maximum limit of "
                         "(VOLSER_OLDMAXVOLNAME -1 ) bytes\n" % tovolname)
                error = VOLSERBADOP
                raise _Fail
            real = (tovolname + ".readonly").encode("utf-8", "surrogateescape")[
                :VOLSER_OLDMAXVOLNAME - 1].decode("utf-8", "surrogateescape")
        r.out("Restoring volume %s Id %u on server %s partition %s .."
              % (real, pvolid, r.host(toserver), partition_name(topart)))
        tstatus = None
        if flags & RV_FULLRST:
            code, tstatus = await do_vol_delete(s, r, toconn, pvolid, topart, "the previous",
                                                want_status=True)
            if code and code != VNOVOL:
                error = code
                raise _Fail
            res, code = await _c(vs.AFSVolCreateVolume(toconn, topart, real, volsertype,
                                                       pparentid, pvolid))
            if code:
                r.eprint(code, "Could not create new volume %u\n" % pvolid)
                error = code
                raise _Fail
            pvolid, totid = res.volid, res.trans
        else:
            totid, code = await _trans(toconn, pvolid, topart, ITOffline)
            if code == 0:
                tstatus, code = await _status(toconn, totid)
                if code:
                    r.eprint(code, "Could not get timestamp from volume %u\n" % pvolid)
                    error = code
                    raise _Fail
            elif code == VNOVOL:
                res, code = await _c(vs.AFSVolCreateVolume(toconn, topart, real, volsertype,
                                                           pparentid, pvolid))
                if code:
                    r.eprint(code, "Could not create new volume %u\n" % pvolid)
                    error = code
                    raise _Fail
                pvolid, totid = res.volid, res.trans
            else:
                r.eprint(code, "Failed to start transaction on %u\n" % pvolid)
                error = code
                raise _Fail
        old_cr = tstatus.creationDate if tstatus else 0
        old_up = tstatus.updateDate if tstatus else 0
        old_clone = tstatus.cloneID if tstatus else 0
        old_backup = tstatus.backupID if tstatus else 0
        cookie = _cookie(real, voltype, pparentid)
        sc = vs.AFSVolRestore(toconn, totid, 1, cookie)
        try:
            await sc.__aenter__()
        except Exception as e:          # noqa: BLE001
            sc = None
            r.err("Volume restore Failed \n")
            error = code_of(e)
            raise _Fail
        stream = RestoreStream(sc.call)
        try:
            code = await write_data(stream)
        except Exception:               # noqa: BLE001 - rx_Write came short
            code = -1
        sent = stream.bytes
        if code:
            r.err("Could not transmit data\n")
            error = code
            raise _Fail
        c, sc = sc, None
        code = 0
        try:
            await c.__aexit__(None, None, None)
        except Exception as e:          # noqa: BLE001
            code = code_of(e)
        if code:
            r.err("rx_EndCall Failed \n")
            error = code
            raise _Fail
        tstatus, code = await _status(toconn, totid)
        if code:
            r.err("Could not get status information about the volume %u\n" % pvolid)
            error = code
            raise _Fail
        _, code = await _c(vs.AFSVolSetIdsTypes(toconn, totid, real, voltype, pparentid,
                                                old_clone, old_backup))
        if code:
            r.err("Could not set the right type and IDs on %u\n" % pvolid)
            error = code
            raise _Fail
        now = int(time.time())
        if flags & RV_CRDUMP:
            new_cr = tstatus.creationDate
        elif flags & RV_CRKEEP and old_cr != 0:
            new_cr = old_cr
        else:
            new_cr = now
        if flags & RV_LUDUMP:
            new_up = tstatus.updateDate
        elif flags & RV_LUKEEP:
            new_up = old_up
        else:
            new_up = now
        _, code = await _c(vs.AFSVolSetDate(toconn, totid, _i32(new_cr)))
        if code:
            r.err("Could not set the 'creation' date on %u\n" % pvolid)
            error = code
            raise _Fail
        info = _info(creationDate=_i32(new_cr), updateDate=_i32(new_up))
        code = (await _c(volume.set_info(toconn, totid, info)))[1]
        if code:
            r.err("Could not set the 'last updated' date on %u\n" % pvolid)
            error = code
            raise _Fail
        code = await _flags(toconn, totid, VTOutOfService if flags & RV_OFFLINE else 0)
        if code:
            r.err("Could not mark %u online\n" % pvolid)
            error = code
            raise _Fail
        code = await _end(toconn, totid)
        totid = 0
        if code:
            r.err("Could not end transaction on %u\n" % pvolid)
            error = code
            raise _Fail
        r.out(" done\n")
        if not reuse or flags & RV_FULLRST:
            entry, vcode = await _get_entry_id(s, pvolid, voltype)
            if vcode and vcode not in (VL_NOENT, VL_ENTDELETED):
                r.err("Could not fetch the entry for volume number %u from VLDB \n" % pvolid)
                error = vcode
                raise _Fail
            if vcode == VL_NOENT:
                r.vprint("------- Creating a new VLDB entry ------- \n")
                ne = VLDBEntry(tovolname.encode("utf-8", "surrogateescape")[:65].decode(
                    "utf-8", "surrogateescape"), pparentid,
                    pvolid if ro else (tstatus.cloneID or INVALID_BID),
                    tstatus.backupID or INVALID_BID, 0,
                    VLF_ROEXISTS if ro else VLF_RWEXISTS,
                    [Site(toserver, topart, VLSF_ROVOL if ro else VLSF_RWVOL)], 1)
                _, vcode = await _c(vldb.create_entry(s, ne))
                if vcode:
                    r.err("Could not create the VLDB entry for volume number %u  \n" % pvolid)
                    error = vcode
                    raise _Fail
                if r.verbose:
                    r.entry(ne)
            elif vcode == 0:
                if r.verbose:
                    r.out("Updating the existing VLDB entry\n")
                    r.out("------- Old entry -------\n")
                    r.entry(entry)
                    r.out("------- New entry -------\n")
                vcode = await _set_lock(s, pvolid, voltype, VLOP_RESTORE)
                if vcode:
                    r.err("Could not lock the entry for volume number %u \n" % pvolid)
                    error = vcode
                    raise _Fail
                islocked = True
                entry.name = tovolname
                if ro:
                    index = await lp_ro_match(s, r, toserver, topart, entry) - 1
                else:
                    index = _rw_first(entry)
                entry.sites = entry.sites[:entry.n_servers]
                if index == -1:
                    entry.sites.append(Site(toserver, topart, VLSF_ROVOL if ro else VLSF_RWVOL))
                    entry.n_servers += 1
                else:
                    old = entry.sites[index]
                    same, errcode = await is_same_addrs(s, toserver, old.server)
                    if errcode:
                        r.eprint(errcode, "Failed to get info about server's %d address(es) "
                                 "from vlserver (err=%d)\n" % (net_int(toserver), errcode))
                    if (not errcode and not same) or old.partition != topart:
                        if flags & RV_NODEL:
                            r.vprint("Not deleting the previous volume %u on server %s, ..."
                                     % (pvolid, r.host(old.server)))
                        else:
                            r.vprint("Deleting the previous volume %u on server %s, partition "
                                     "%s ..." % (pvolid, r.host(old.server),
                                                 partition_name(old.partition)))
                            code, _ = await do_vol_delete(s, r, _conn(s, old.server), pvolid,
                                                          old.partition, "the")
                            if code and code != VNOVOL:
                                error = code
                                raise _Fail
                    old.server = toserver
                    old.partition = topart
                entry.flags |= VLF_ROEXISTS if ro else VLF_RWEXISTS
                vcode = await _replace(s, pvolid, voltype, entry, LOCKREL_ALL)
                if vcode:
                    r.err("Could not update the entry for volume number %u  \n" % pvolid)
                    error = vcode
                    raise _Fail
                islocked = False
                if r.verbose:
                    r.entry(entry)
    except _Fail:
        pass
    except asyncio.CancelledError:
        error = error or EINVAL
    if sc is not None:
        from kafs.errors import AFSError
        e = AFSError(-1)
        try:
            await sc.__aexit__(type(e), e, None)
        except Exception:           # noqa: BLE001
            pass
    if islocked:
        vcode = await _release_lock(s, pvolid, voltype)
        if vcode:
            r.err("Could not release lock on the VLDB entry for the volume %u\n" % pvolid)
            error = error or vcode
    if totid:
        code = await _end(toconn, totid)
        if code:
            r.err("Could not end transaction on the volume %u \n" % pvolid)
            error = error or code
    r.perror(error)
    _raise(error)
    return Restored(pvolid, tovolname, toserver, topart, sent)


# =============================================================================
# convertROtoRW (UV_ConvertRO)
# =============================================================================

async def convert_ro(s, r: Reporter, server: int, partition: int, volid: int,
                     entry: VLDBEntry) -> None:
    """UV_ConvertRO: make the RO volume on server/partition the RW volume
    and fix the VLDB entry to match (``entry``: the entry as the caller
    read it; it must not have changed)."""
    e = _copy_entry(entry)
    vcode = await _set_lock(s, e.rw_id, RWVOL, VLOP_MOVE)
    if vcode:
        r.err("Unable to lock volume %u, code %d\n" % (e.rw_id, vcode))
        r.perror(vcode)
        raise VolOpError(-1)
    code = 0
    try:
        check, vcode = await _get_entry_id(s, volid, -1)
        if vcode:
            r.err("Could not fetch the entry for volume %u from VLDB\n" % volid)
            r.perror(vcode, "convertROtoRW ")
            code = vcode
            raise _Fail
        e.flags = (e.flags & ~VLOP_ALLOPERS) | VLOP_MOVE
        if not _same_entry(e, check):
            r.err("VLDB entry for volume %u has changed; please reissue the command.\n" % volid)
            code = -1
            raise _Fail
        rwindex = roindex = 0
        rwserver = roserver = 0
        sites_ = e.sites[:e.n_servers]
        for i, x in enumerate(sites_):
            if x.flags & VLSF_RWVOL:
                rwindex, rwserver = i, x.server
                if roserver:
                    break
            elif x.flags & VLSF_ROVOL and not roserver:
                same, err = await is_same_addrs(s, server, x.server)
                if err:
                    r.err("Failed to get info about server's %d address(es) from vlserver "
                          "(err=%d); aborting call!\n" % (net_int(server), err))
                    code = ENOENT
                    raise _Fail
                if same:
                    roindex, roserver = i, x.server
                    if rwserver:
                        break
        _, code = await _c(_vs().AFSVolConvertROtoRWvolume(_conn(s, server), partition, volid))
        if code:
            r.err("Converting RO volume %u to RW volume failed with code %d\n" % (volid, code))
            r.perror(code, "convertROtoRW ")
            raise _Fail
        if roserver:
            sites_[roindex].flags = VLSF_RWVOL
        else:
            sites_.append(Site(server, partition, VLSF_RWVOL))
        e.flags |= VLF_RWEXISTS
        e.flags &= ~VLF_BACKEXISTS
        if rwserver:
            last = sites_.pop()
            if rwindex != len(sites_):
                sites_[rwindex] = last
        e.flags &= ~VLF_ROEXISTS
        for x in sites_:
            if x.flags & VLSF_ROVOL and not x.flags & (VLSF_DONTUSE | VLSF_NEWREPSITE):
                e.flags |= VLF_ROEXISTS
        e.sites = sites_
        e.n_servers = len(sites_)
        c = await _replace(s, e.rw_id, RWVOL, e, LOCKREL_ALL)
        if c:
            r.err("Warning: volume converted, but vldb update failed with code %d!\n" % c)
            code = c
    except _Fail:
        pass
    vcode = await _release_lock(s, e.rw_id)
    if vcode:
        r.err("Unable to unlock volume %u, code %d\n" % (e.rw_id, vcode))
        r.perror(vcode)
    _raise(code)


# =============================================================================
# dump as a stream
# =============================================================================

async def dump_stream(s, server: int, part: int, volid: int, fromdate: int = 0,
                      flags: int = 0, chunk: int = 1 << 20):
    """A volume's dump as an async iterator of bytes, as it arrives
    (TransCreate ITBusy, AFSVolDump or AFSVolDumpV2 with ``flags``,
    EndTrans).  Feeds :func:`stream_from` directly, e.g. to copy a volume
    through this process::

        await restore_volume(s, r, srv, 1, 0, 0, "copy", RV_FULLRST | RV_CRKEEP | RV_LUDUMP,
                             stream_from(dump_stream(s, srv, 0, volid)))

    A failure raises VolOpError with the server's code."""
    vs = _vs()
    conn = s.volser(inet_ntoa(server), dead_time=volume.DUMP_DEAD_TIME)
    tid, code = await _trans(conn, volid, part, ITBusy)
    _raise(code)
    try:
        sc = (vs.AFSVolDumpV2(conn, tid, _i32(fromdate), flags) if flags
              else vs.AFSVolDump(conn, tid, _i32(fromdate)))
        try:
            async with sc as call:
                while True:
                    d = await call.call.read(chunk)
                    if not d:
                        break
                    yield d
        except Exception as e:          # noqa: BLE001
            raise VolOpError(code_of(e)) from None
    finally:
        code = await _end(conn, tid)
    _raise(code)
