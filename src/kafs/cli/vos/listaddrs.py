"""vos listaddrs: the file servers registered in the VLDB (vos.c ListAddrs,
print_addrs)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from ._common import (VosExit, error_code, finish, host_name, inet_ntoa, out, print_error,
                      run_async, session)


@dataclass(repr=False)
class Addrs:
    servers: list = field(default_factory=list)      # ServerAddrs
    printuuid: bool = False
    code: int = 0
    error: VosExit | None = None


def _host_addr(name: str) -> int | None:
    """hostutil_GetHostByName: an address (host order) or None."""
    try:
        a = socket.gethostbyname(name)
    except (OSError, UnicodeError):
        return None
    return int.from_bytes(socket.inet_aton(a), "big")


async def _run(args) -> Addrs:
    from kafs.api import vldb
    from kafs.errors import AFSError, DecodeError
    from kafs.errors.tables import code_from_name
    if args.uuid is not None and args.host is not None:
        raise VosExit("vos: Can't use the -uuid and -host flags together\n", -1)
    uuid = host = None
    if args.uuid is not None:
        uuid = vldb.uuid_from_string(args.uuid)
        if uuid is None:
            raise VosExit("vos: invalid UUID '%s'\n" % args.uuid, -1)
    elif args.host is not None:
        host = _host_addr(args.host)
        if host is None:
            raise VosExit("vos: Can't get host info for '%s'\n" % args.host, -1)
    r = Addrs(printuuid=bool(args.printuuid))
    noent = code_from_name("VL_NOENT")
    indexerange = code_from_name("VL_INDEXERANGE")
    async with await session(args) as s:
        try:
            nentries, _ = await vldb.get_addrs(s)
        except (AFSError, DecodeError) as e:
            code = error_code(e)
            raise VosExit("vos: could not list the server addresses\n" + print_error(code), -1)
        i = 1
        while nentries:
            try:
                if uuid is not None:
                    sa = await vldb.get_addrs_u(s, uuid=uuid, index=i)
                elif host is not None:
                    sa = await vldb.get_addrs_u(s, ipaddr=host)
                else:
                    sa = await vldb.get_addrs_u(s, index=i)
            except (AFSError, DecodeError) as e:
                code = error_code(e)
                if code == noent:
                    if uuid is not None:
                        r.error = VosExit("vos: no entry for UUID '%s' found in VLDB\n"
                                          % args.uuid, -1)
                        break
                    if host is not None:
                        r.error = VosExit("vos: no entry for host '%s' [0x%08x] found in VLDB\n"
                                          % (args.host, host), -1)
                        break
                    i += 1
                    continue
                if code == indexerange:
                    break
                r.error = VosExit("vos: could not list the server addresses\n"
                                  + print_error(code), -1)
                break
            r.servers.append(sa)
            nentries -= 1
            i += 1
            if uuid is not None or host is not None:
                break
    return r


def run(args):
    return run_async(_run, args)


def render(r: Addrs, args) -> None:
    o = []
    for sa in r.servers:
        if r.printuuid:
            o.append("UUID: %s\n" % sa.uuid)
        for a in sa.addrs:
            o.append((inet_ntoa(a) if args.noresolve else host_name(a)) + "\n")
        if r.printuuid:
            o.append("\n")
    out("".join(o))


def to_json(r: Addrs):
    return {"servers": [sa.to_json() for sa in r.servers]}


def exit_code(r: Addrs) -> int:
    if r.error:
        finish(r.error)
    return 0
