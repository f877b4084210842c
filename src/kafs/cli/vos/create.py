"""vos create: a new read-write volume and its VLDB entry (vos.c
CreateVolume, vsprocs.c UV_CreateVolume3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._common import (EACCES, ENOENT, diagnostics, err, error_code, get_server, out,
                      partition_id, partition_name, print_error, run_async, session)

EEXIST, EINVAL, E2BIG = 17, 22, 7
VVOLEXISTS = 104
VOLSER_OLDMAXVOLNAME = 32
MAX_INT32, MIN_INT32 = 0x7FFFFFFF, -0x80000000


@dataclass(repr=False)
class Events:
    """stdout/stderr text in the order the C code writes it."""

    events: list = field(default_factory=list)
    code: int = 0

    def out(self, text: str) -> None:
        self.events.append(("out", text))

    def err(self, text: str) -> None:
        if text:
            self.events.append(("err", text))

    def eprint(self, code: int, text: str) -> None:
        """vsprocs.c EPRINT: newline, the text, PrintError("   ", code)."""
        self.err("\n" + text + print_error(code, "   "))


@dataclass(repr=False)
class Created(Events):
    name: str = ""
    server: str = ""
    partition: int = 0
    volid: int = 0
    roid: int = 0
    bkid: int = 0


def render_events(r: Events, args=None) -> None:
    import sys
    for kind, text in r.events:
        if kind == "out":
            out(text)
        else:
            sys.stdout.flush()
            err(text)


def err_events(r: Events) -> None:
    for kind, text in r.events:
        if kind == "err":
            err(text)


def c_int(v: int) -> int:
    """An unsigned 32-bit value printed with %d."""
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


def is_numeric(s: str) -> bool:
    """vos.c IsNumeric (the empty string is numeric)."""
    return all("0" <= c <= "9" for c in s)


def get_uint32(s: str) -> int | None:
    """util_GetUInt32: leading blanks, 0x hex / 0 octal / decimal, wraps."""
    i = 0
    while i < len(s) and s[i] in " \t":
        i += 1
    base = 10
    if s[i:i + 1] == "0":
        i += 1
        if s[i:i + 1] in ("x", "X"):
            base = 16
            i += 1
        else:
            base = 8
    total = 0
    for c in s[i:]:
        if "0" <= c <= "7" or (base > 8 and c in "89") or (base > 10 and c in "abcdefABCDEF"):
            total = (total * base + int(c, 16)) & 0xFFFFFFFF
        else:
            return None
    return total


def get_int32(s: str) -> int | None:
    """util_GetInt32: blanks, an optional '-', 0x hex / 0 octal / decimal
    (wrapping in 32 bits); None if it does not parse."""
    i = 0
    while i < len(s) and s[i] in " \t":
        i += 1
    neg = s[i:i + 1] == "-"
    if neg:
        i += 1
    v = get_uint32(s[i:])
    if v is None:
        return None
    v = (-v if neg else v) & 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


def get_human_int32(s: str) -> int | None:
    """util_GetHumanInt32: strtol(s, 0) then an optional K/M/G/T unit
    (K means 1: the value is in KB); None if it does not parse or fit."""
    import re
    m = re.match(r"[ \t\n\v\f\r]*([-+]?)(0[xX](?=[0-9a-fA-F])[0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)?", s)
    body = m.group(2)
    if body is None:
        value, rest = 0, s          # no digits: strtol consumes nothing
    else:
        if body[:2] in ("0x", "0X"):
            value = int(body[2:], 16)
        elif body.startswith("0"):
            value = int(body, 8)
        else:
            value = int(body)
        if m.group(1) == "-":
            value = -value
        rest = s[m.end():]
        if not -(1 << 63) <= value < (1 << 63):
            return None             # ERANGE
    mult = 1
    if rest:
        letters = "KMGT"
        k = letters.find(rest[0])
        if k < 0:
            return None
        mult = 1024 ** k
    if value > MAX_INT32 // mult or value < -(-MIN_INT32 // mult):
        return None
    return value * mult


async def part_valid(s, r: Events, server: int, part: int) -> tuple[bool, int]:
    """vos.c IsPartValid with UV_ListPartitions' messages: (valid, code)."""
    from kafs.api import volume
    from kafs.errors import AFSError, DecodeError
    try:
        parts = await volume.list_partitions(s, server)
    except (AFSError, DecodeError, OSError) as e:
        code = error_code(e)
        r.err("Could not fetch the list of partitions from the server\n" + print_error(code))
        return False, code
    return part in parts, 0


async def _run(args) -> Created:
    from kafs.api import vldb, volume
    from kafs.errors import AFSError, DecodeError
    r = Created(name=args.name, server=args.server)
    verbose = bool(args.verbose)

    def fail(text: str, code: int) -> Created:
        r.err(text)
        r.code = code
        return r

    tserver = get_server(args.server)
    if not tserver:
        return fail("vos: host '%s' not found in host table\n" % args.server, ENOENT)
    pnum = partition_id(args.partition)
    if pnum < 0:
        return fail("vos: could not interpret partition name '%s'\n" % args.partition, ENOENT)
    async with await session(args) as s:
        ok, code = await part_valid(s, r, tserver, pnum)
        if not ok:
            if code:
                return fail(print_error(code), ENOENT)
            return fail("vos : partition %s does not exist on the server\n" % args.partition,
                        ENOENT)
        name = args.name
        if not len(name.encode("utf-8", "surrogateescape")) < VOLSER_OLDMAXVOLNAME - 9:
            return fail("vos: the name of the root volume %s exceeds the size limit of %d\n"
                        % (name, VOLSER_OLDMAXVOLNAME - 10), E2BIG)
        if name.endswith(".readonly") or name.endswith(".backup"):
            return fail("Illegal volume name %s, should not end in .readonly or .backup\n"
                        % name, EINVAL)
        if is_numeric(name):
            return fail("Illegal volume name %s, should not be a number\n" % name, EINVAL)
        try:
            await vldb.get_entry(s, name)
            exists = True
        except (AFSError, DecodeError):
            exists = False
        if exists:
            r.err("Volume %s already exists\n" % name)
            return fail(diagnostics("create", code), EEXIST)
        quota = 5000
        if args.maxquota is not None:
            q = get_human_int32(args.maxquota)
            if q is None:
                return fail("vos: bad integer specified for quota.\n", -1)
            quota = q
        volid = roid = 0
        want_ro = True
        if args.id is not None:
            if not is_numeric(args.id):
                return fail("vos: Given volume ID %s should be numeric.\n" % args.id, EINVAL)
            v = get_uint32(args.id)
            if v is None:
                return fail("vos: bad integer specified for volume ID.\n", -1)
            volid = v
        if args.roid is not None:
            if not is_numeric(args.roid):
                return fail("vos: Given RO volume ID %s should be numeric.\n" % args.roid,
                            EINVAL)
            v = get_uint32(args.roid)
            if v is None:
                return fail("vos: bad integer specified for volume ID.\n", -1)
            roid = v
            if roid == 0:
                want_ro = False
        r.partition = pnum
        code = await _create3(s, r, tserver, pnum, name, quota, volid, roid, want_ro,
                              verbose, vldb, volume)
        if code:
            r.err(diagnostics("create", code))
            r.code = code
            return r
        r.out("Volume %u created on partition %s of %s\n"
              % (r.volid, partition_name(pnum), args.server))
    return r


async def _create3(s, r: Created, server: int, part: int, name: str, quota: int,
                   volid: int, roid: int, want_ro: bool, verbose: bool,
                   vldb, volume) -> int:
    """UV_CreateVolume3; returns the error code (messages in ``r``)."""
    from kafs.errors import AFSError, DecodeError
    conn = s.volser(volume._addr(server))
    tid = 0
    error = 0

    def vprint(text):
        if verbose:
            r.out(text)

    if want_ro and roid:
        vprint("Using RO volume ID %d.\n" % c_int(roid))
    bkid = 0
    try:
        if volid:
            try:
                await vldb.get_entry_by_id(s, volid, -1)
                found = True
            except (AFSError, DecodeError):
                found = False
            if found:
                r.err("Volume ID %d already exists\n" % c_int(volid))
                return VVOLEXISTS
            vprint("Using volume ID %d.\n" % c_int(volid))
        else:
            for what, label in (("rw", "an Id"), ("ro", "an RO Id"), ("bk", "a BK Id")):
                if what == "ro" and not (want_ro and roid == 0):
                    continue
                try:
                    v = await vldb.get_new_volume_id(s)
                except (AFSError, DecodeError) as e:
                    error = error_code(e)
                    r.eprint(error, "Could not get %s for volume %s\n" % (label, name))
                    raise _Fail
                if what == "rw":
                    volid = v
                elif what == "ro":
                    roid = v
                else:
                    bkid = v
        last = volid
        if want_ro and roid:
            last = max(last, roid)
        if bkid:
            last = max(last, bkid)
        if want_ro and roid == 0:
            last += 1
            roid = last
        if bkid == 0:
            last += 1
            bkid = last
        try:
            volid, tid = await volume.create_volume_trans(conn, part, name, volid)
        except (AFSError, DecodeError) as e:
            error = error_code(e)
            r.eprint(error, "Failed to create the volume %s %u \n" % (name, volid))
            raise _Fail
        try:
            await volume.set_info(conn, tid, volume.new_volint_info(quota))
        except (AFSError, DecodeError) as e:
            r.eprint(error_code(e), "Could not change quota, continuing...\n")
        try:
            await volume.set_flags(conn, tid, 0)
        except (AFSError, DecodeError) as e:
            error = error_code(e)
            r.eprint(error, "Could not bring the volume %s %u online \n" % (name, volid))
            raise _Fail
        vprint("Volume %s %u created and brought online\n" % (name, volid))
        entry = vldb.VLDBEntry(name, volid, roid if want_ro else 0, bkid, 0,
                               vldb.VLF_RWEXISTS,
                               [vldb.Site(server, part, vldb.VLSF_RWVOL)], 1)
        try:
            await vldb.create_entry(s, entry)
        except (AFSError, DecodeError) as e:
            r.err("Could not create a VLDB entry for the volume %s %u\n" % (name, volid))
            vprint("Deleting the newly created volume %u\n" % volid)
            try:
                await volume.delete_trans_volume(conn, tid)
            except (AFSError, DecodeError):
                pass
            error = error_code(e)
            raise _Fail
        vprint("Created the VLDB entry for the volume %s %u\n" % (name, volid))
        t, tid = tid, 0
        try:
            await volume.end_trans(conn, t)
        except (AFSError, DecodeError) as e:
            r.err("Failed to end the transaction on the volume %s %u\n" % (name, volid))
            error = error_code(e)
            raise _Fail
    except _Fail:
        pass
    if tid:
        try:
            await volume.end_trans(conn, tid)
        except (AFSError, DecodeError):
            r.err("WARNING: could not end transaction\n")
    r.err(print_error(error))
    r.volid, r.roid, r.bkid = volid, roid, bkid
    return error


class _Fail(Exception):
    pass


def run(args):
    return run_async(_run, args)


def render(r: Created, args) -> None:
    render_events(r, args)


def to_json(r: Created):
    err_events(r)
    return {"name": r.name, "id": r.volid or None, "ro_id": r.roid or None,
            "bk_id": r.bkid or None, "server": r.server,
            "partition": partition_name(r.partition), "code": r.code}


def exit_code(r: Created) -> int:
    return r.code


__all__ = ["Events", "render_events", "err_events", "part_valid", "EACCES"]
