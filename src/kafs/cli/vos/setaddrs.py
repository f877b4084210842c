"""vos setaddrs: set the address list of a file server UUID in the VLDB
(vos.c SetAddrs)."""

from __future__ import annotations

from ._common import (Done, done_json as to_json, get_server, host_name, inet_ntoa,  # noqa: F401
                      outcome_exit as exit_code, print_error, reporter, run_async,
                      server_address_noresolve, session)

ADDRSPERSITE = 16
VL_MULTIPADDR = 363550
RXGEN_OPCODE = -455


def print_addrs(r, uuid: str, addrs) -> None:
    """vos.c print_addrs (with the UUID and a blank line)."""
    r.out("UUID: %s\n" % uuid)
    for a in addrs:
        r.out("%s\n" % (inet_ntoa(a) if r.noresolve else host_name(a)))
    r.out("\n")


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(uuid=args.uuid, hosts=[])
    if vldb.uuid_from_string(args.uuid) is None:
        r.err("vos: invalid UUID '%s'\n" % args.uuid)
        return d.fail(status=-1)
    lookup = server_address_noresolve if args.noresolve else get_server
    addrs = []
    for h in (args.host or [])[:ADDRSPERSITE]:
        a = lookup(h)
        if not a:
            r.err("vos: Can't get host info for '%s'\n" % h)
            return d.fail(status=-1)
        addrs.append(a)
    d.info["hosts"] = [inet_ntoa(a) for a in addrs]
    async with await session(args) as s:
        _, code = await volops._c(vldb.register_addrs(s, args.uuid, addrs))
    if code:
        if code == VL_MULTIPADDR:
            r.err("vos: VL_RegisterAddrs rpc failed; The IP address exists on a different "
                  "server; repair it\n")
        elif code == RXGEN_OPCODE:
            r.err("vlserver doesn't support VL_RegisterAddrs rpc; ignored\n")
        else:
            r.err("vos: VL_RegisterAddrs rpc failed\n")
        r.err(print_error(code))
        return d.fail(code)
    if r.verbose:
        r.out("vos: Changed UUID with addresses:\n")
        u = vldb.uuid_to_string(vldb.uuid_from_string(args.uuid))
        print_addrs(r, u, addrs)
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
