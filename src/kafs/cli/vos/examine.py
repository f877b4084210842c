"""vos examine: the VLDB entry and the volume headers of a volume
(vos.c ExamineVolume)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._common import (ENODEV, ENOENT, VosExit, diagnostics, err, error_code, host_name,
                      out, print_error, run_async, session)
from . import _fmt

RWVOL, ROVOL, BACKVOL = 0, 1, 2
VLSF_ROVOL, VLSF_RWVOL = 0x02, 0x04
VLF_BACKEXISTS = 0x4000


@dataclass(repr=False)
class Site:
    server: int
    partition: int
    volume: object = None       # VolumeInfo / VolumeXInfo
    error: int = 0


@dataclass(repr=False)
class Examined:
    spec: str
    volid: int = 0
    voltype: int = RWVOL
    entry: object = None
    sites: list = field(default_factory=list)
    events: list = field(default_factory=list)   # ("out"|"err", text) in C order
    code: int = 0


def _server_and_part(entry, voltype: int, previdx: int):
    """vos.c GetServerAndPart: (server, part, idx) or idx == -1."""
    if voltype in (RWVOL, BACKVOL):
        vtype, istart = VLSF_RWVOL, 0
    else:
        vtype, istart = VLSF_ROVOL, (0 if previdx < 0 else previdx + 1)
    for i in range(istart, len(entry.sites)):
        st = entry.sites[i]
        if st.flags & vtype:
            return st.server, st.partition, i
    return -1, -1, -1


async def _run(args) -> Examined:
    from kafs.api import vldb, volume
    from kafs.errors import AFSError, DecodeError
    r = Examined(args.id)
    ev = r.events
    verbose = bool(args.verbose)
    extended = bool(args.extended)
    async with await session(args) as s:
        try:
            volid = await vldb.volume_id(s, args.id)
        except (AFSError, DecodeError) as e:
            raise VosExit(print_error(error_code(e)), -1)
        if volid == 0:
            raise VosExit("Unknown volume ID or name '%s'\n" % args.id, -1)
        r.volid = volid
        if verbose:
            ev.append(("out", "Fetching VLDB entry for %u .. " % volid))
        try:
            entry = await vldb.get_entry_by_id(s, volid, -1)
        except (AFSError, DecodeError):
            raise VosExit("Could not fetch the entry for volume number %u from VLDB \n"
                          % volid, -1, stdout="".join(t for k, t in ev if k == "out"))
        r.entry = entry
        if verbose:
            ev.append(("out", "done\n"))
        if entry.rw_id == volid:
            voltype = RWVOL
        elif entry.bk_id == volid:
            voltype = BACKVOL
        else:
            voltype = ROVOL
        r.voltype = voltype
        error = 0
        foundserv = foundentry = False
        sub_enum = False
        previdx = -1
        while True:
            server, part, previdx = _server_and_part(
                entry, ROVOL if voltype == ROVOL else RWVOL, previdx)
            if previdx == -1:
                if not foundentry:
                    ev.append(("err", "Volume %s does not exist in VLDB\n\n" % args.id))
                    error = ENOENT
                break
            foundentry = True
            site = Site(server, part)
            r.sites.append(site)
            if verbose:
                ev.append(("out", "Getting volume listing from the server %s .. "
                           % host_name(server)))
            code = 0
            try:
                if extended:
                    site.volume = await volume.xlist_one_volume(s, server, part, volid)
                else:
                    site.volume = await volume.list_one_volume(s, server, part, volid)
            except (AFSError, DecodeError) as e:
                code = error_code(e)
                if extended:
                    ev.append(("err", "[UV_XListOneVolume] Couldn't fetch the volume "
                               "information\n" + print_error(code)))
                else:
                    ev.append(("err", "Could not fetch the information about volume %u "
                               "from the server\n" % volid + print_error(code)))
            if verbose:
                ev.append(("out", "done\n"))
            if code:
                site.error = code
                error = code
                if code == ENODEV:
                    if voltype == BACKVOL and not entry.flags & VLF_BACKEXISTS:
                        ev.append(("err", "Volume %s does not exist\n" % args.id))
                        error = ENOENT
                    else:
                        ev.append(("err", "Volume does not exist on server %s as "
                                   "indicated by the VLDB\n" % host_name(server)))
                else:
                    ev.append(("err", diagnostics("examine", code)))
                ev.append(("out", "\n"))
            else:
                foundserv = True
                c = _fmt.Counts()
                if extended:
                    ev.append(("out", _fmt.xdisplay_format(site.volume, server, part, c,
                                                           False, True, True)))
                elif args.format:
                    ev.append(("out", _fmt.display_format2(site.volume, server, part)
                               + _fmt.enumerate_entry(entry, bool(args.noresolve))))
                    sub_enum = True
                else:
                    ev.append(("out", _fmt.display_format(site.volume, server, part, c,
                                                          False, True, True)))
                if voltype == BACKVOL and not entry.flags & VLF_BACKEXISTS:
                    ev.append(("err", "Volume %s does not exist in VLDB\n" % args.id))
                    error = ENOENT
            if voltype != ROVOL:
                break
        if not foundserv:
            ev.append(("err", "Dump only information from VLDB\n\n"))
            ev.append(("out", "%s \n" % entry.name))
        if not sub_enum:
            ev.append(("out", _fmt.sub_enumerate(entry, bool(args.noresolve))
                       + _fmt.print_locked(entry.flags)))
        r.code = error
    return r


def run(args):
    return run_async(_run, args)


def render(r: Examined, args) -> None:
    for kind, text in r.events:
        if kind == "out":
            out(text)
        else:
            import sys
            sys.stdout.flush()
            err(text)


_TYPES = {0: "RW", 1: "RO", 2: "BK"}


def to_json(r: Examined):
    from kafs.cli.render import to_jsonable
    for kind, text in r.events:
        if kind == "err":
            err(text)
    sites = []
    for st in r.sites:
        sites.append({
            "server": _fmt.inet_ntoa(st.server),
            "partition": _fmt.pname(st.partition),
            "volume": to_jsonable(st.volume) if st.volume is not None else None,
            "error": st.error or None,
        })
    return {
        "id": r.volid,
        "type": _TYPES[r.voltype],
        "vldb": r.entry.to_json() if r.entry is not None else None,
        "sites": sites,
        "code": r.code,
    }


def exit_code(r: Examined) -> int:
    return r.code
