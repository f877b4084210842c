"""vos size: the size a dump of the volume would have (vos.c Sizes,
GetVolumeInfo, vsprocs.c UV_GetSize)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from ._common import (VosExit, diagnostics, error_code, get_server, out,
                      partition_id, print_error, run_async, session)

VOLSERVOLBUSY = 1492325134
ITBusy = 2
VLSF_ROVOL, VLSF_RWVOL, VLSF_DONTUSE = 0x02, 0x04, 0x20


@dataclass
class Size:
    spec: str
    volid: int = 0
    server: int = 0
    partition: int = 0
    fromdate: int = 0
    dump_size: int | None = None
    events: list = None
    code: int = 0


def date_to_int32(s: str) -> tuple[int, int]:
    """ktime_DateToInt32: (code, seconds)."""
    m = re.fullmatch(r"\s*(\d+)", s)
    if m and int(m.group(1)) > 200000000:
        return 0, int(m.group(1)) & 0xFFFFFFFF
    low = s[:6].lower()
    if low == "never":
        return 0, 0xFFFFFFFF
    if low == "now":
        return 0, int(time.time())
    d = r"\s*([-+]?\d+)\s*"
    hour = minute = sec = 0
    m = (re.fullmatch(d + "/" + d + "/" + d + r"\s+" + d + ":" + d + ":" + d, s)
         or re.fullmatch(d + "/" + d + "/" + d + r"\s+" + d + ":" + d, s)
         or re.fullmatch(d + "/" + d + "/" + d, s))
    if m:
        g = [int(x) for x in m.groups()]
        month, day, year = g[0], g[1], g[2]
        if len(g) > 3:
            hour, minute = g[3], g[4]
        if len(g) > 5:
            sec = g[5]
    else:
        m = (re.fullmatch(r"\s*([-+]?\d+)-([-+]?\d+)-([-+]?\d+)\s+(\d+):(\d+):(\d+)", s)
             or re.fullmatch(r"\s*([-+]?\d+)-([-+]?\d+)-([-+]?\d+)\s+(\d+):(\d+)", s)
             or re.fullmatch(r"\s*([-+]?\d+)-([-+]?\d+)-([-+]?\d+)", s))
        if not m:
            return -1, 0
        g = [int(x) for x in m.groups()]
        year, month, day = g[0], g[1], g[2]
        if len(g) > 3:
            hour, minute = g[3], g[4]
        if len(g) > 5:
            sec = g[5]
    if (year < 0 or not 1 <= month <= 12 or not 1 <= day <= 31 or not 0 <= hour <= 23
            or not 0 <= minute <= 59 or not 0 <= sec <= 59):
        return -2, 0
    if year < 69:
        year += 100
    elif year >= 1900:
        year -= 1900
    elif year > 99:
        return -2, 0
    t = time.mktime((year + 1900, month, day, hour, minute, sec, 0, 0, -1))
    return 0, int(t) & 0xFFFFFFFF


async def _volume_info(s, volid: int):
    """vos.c GetVolumeInfo: (server, partition) or VosExit."""
    from kafs.api import vldb
    from kafs.errors import AFSError, DecodeError
    try:
        e = await vldb.get_entry_by_id(s, volid, -1)
    except (AFSError, DecodeError) as ex:
        code = error_code(ex)
        raise VosExit("Could not fetch the entry for volume %u from VLDB \n" % volid
                      + print_error(code), -1)
    if volid == e.ro_id:
        for st in e.sites:
            if st.flags & VLSF_ROVOL and not st.flags & VLSF_DONTUSE:
                return st.server, st.partition
        raise VosExit("RO volume is not found in VLDB entry for volume %u\n" % volid, -1)
    rw = [st for st in e.sites if st.flags & VLSF_RWVOL]
    if not rw:
        raise VosExit("RW Volume is not found in VLDB entry for volume %u\n" % volid, -1)
    if volid in (e.rw_id, e.bk_id):
        return rw[0].server, rw[0].partition
    raise VosExit("unexpected volume type for volume %u\n" % volid, -1)


async def dump_target(s, args, r, volid: int) -> None:
    """vos dump's and vos size's -server/-partition (both or neither: then
    where the VLDB has the volume) into r.server/r.partition, and -time
    into r.fromdate; VosExit for a bad one."""
    if args.server is not None or args.partition is not None:
        if args.server is None or args.partition is None:
            raise VosExit("Must specify both -server and -partition options\n", -1)
        srv = get_server(args.server)
        if not srv:
            raise VosExit("Invalid server name\n", -1)
        part = partition_id(args.partition)
        if part < 0:
            raise VosExit("Invalid partition name\n", -1)
    else:
        srv, part = await _volume_info(s, volid)
    r.server, r.partition = srv, part
    if args.time is not None and args.time != "0":
        code, r.fromdate = date_to_int32(args.time)
        if code:
            raise VosExit("vos: failed to parse date '%s' (error=%d))\n" % (args.time, code),
                          -1)


async def _run(args) -> Size:
    import asyncio
    from kafs.api import vldb, volume
    from kafs.errors import AFSError, DecodeError
    r = Size(args.id, events=[])
    ev = r.events
    verbose = bool(args.verbose)
    async with await session(args) as s:
        try:
            volid = await vldb.volume_id(s, args.id)
        except (AFSError, DecodeError) as e:
            raise VosExit(print_error(error_code(e)), -1)
        if volid == 0:
            raise VosExit("vos: can't find volume '%s'\n" % args.id, -1)
        r.volid = volid
        await dump_target(s, args, r, volid)
        srv, part = r.server, r.partition
        ev.append(("out", "Volume: %s\n" % args.id))
        if not args.dump:
            return r
        conn = s.volser(volume._addr(srv))
        error = 0
        tid = 0
        if verbose:
            ev.append(("out", "Starting transaction on volume %u..." % volid))
        code = 0
        for retries in (2, 1, 0):
            try:
                tid = await volume.trans_create_once(conn, volid, part, ITBusy)
                code = 0
            except (AFSError, DecodeError) as e:
                code = error_code(e)
            if code != VOLSERVOLBUSY:
                break
            await asyncio.sleep(3 - retries)
        if code:
            ev.append(("err", "\nCould not start transaction on the volume %u to be measured\n"
                       % volid + print_error(code, "   ")))
            error = code
        else:
            if verbose:
                ev.append(("out", " done\n"))
                ev.append(("out", "Getting size of volume on volume %u..." % volid))
            try:
                r.dump_size = await volume.get_size_trans(conn, tid, r.fromdate)
                if verbose:
                    ev.append(("out", " done\n"))
            except (AFSError, DecodeError) as e:
                code = error_code(e)
                ev.append(("err", "\nCould not start the measurement process \n"
                           + print_error(code, "   ")))
                error = code
        if tid:
            if verbose:
                ev.append(("out", "Ending transaction on volume %u..." % volid))
            rcode = 0
            try:
                rcode = await volume.end_trans(conn, tid)
                code = 0
            except (AFSError, DecodeError) as e:
                code = error_code(e)
            if code or rcode:
                ev.append(("err", "Could not end transaction on the volume %u\n" % volid
                           + "error codes: %d and %d\n" % (code, rcode)))
                if not error:
                    error = code or rcode
            if verbose:
                ev.append(("out", " done\n"))
        ev.append(("err", print_error(error)))
        if error:
            ev.append(("err", diagnostics("size", error)))
            r.dump_size = None
            r.code = error
            return r
        ev.append(("out", "dump_size: %u\n" % r.dump_size))
    return r


def run(args):
    return run_async(_run, args)


def render(r: Size, args) -> None:
    import sys
    from ._common import err
    for kind, text in r.events:
        if kind == "out":
            out(text)
        elif text:
            sys.stdout.flush()
            err(text)


def to_json(r: Size):
    from ._common import err
    for kind, text in r.events:
        if kind == "err" and text:
            err(text)
    return {"volume": r.spec, "id": r.volid, "server": _inet(r.server),
            "partition": _pn(r.partition), "from_date": r.fromdate,
            "dump_size": r.dump_size}


def _inet(a):
    from ._common import inet_ntoa
    return inet_ntoa(a)


def _pn(p):
    from . import _fmt
    return _fmt.pname(p)


def exit_code(r: Size) -> int:
    return r.code
