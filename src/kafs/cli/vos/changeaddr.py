"""vos changeaddr: change or remove a file server address in the VLDB
(vos.c ChangeAddr)."""

from __future__ import annotations

from ._common import (Done, done_json as to_json, get_server, inet_ntoa,  # noqa: F401
                      outcome_exit as exit_code, print_error, reporter, run_async,
                      server_address_noresolve, session)


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    d = Done(oldaddr=args.oldaddr, newaddr=args.newaddr, remove=bool(args.remove))
    lookup = server_address_noresolve if args.noresolve else get_server
    ip1 = lookup(args.oldaddr)
    if not ip1:
        r.err("vos: invalid host address\n")
        return d.fail(volops.EINVAL)
    if (args.newaddr is not None) == bool(args.remove):
        r.err("vos: Must specify either '-newaddr <addr>' or '-remove' flag\n")
        return d.fail(volops.EINVAL)
    remove = False
    if args.newaddr is not None:
        ip2 = lookup(args.newaddr)
        if not ip2:
            r.err("vos: invalid host address\n")
            return d.fail(volops.EINVAL)
    else:
        remove = True
        ip1, ip2 = 0xFFFFFFFF, ip1
    async with await session(args) as s:
        if not remove and not args.force:
            sa, code = await volops._c(vldb.get_addrs_u(s, ipaddr=ip1))
            if code == 0:
                r.err("vos: Refusing to change address in multi-homed server entry.\n")
                r.err("     -oldaddr address is registered to file server UUID %s\n" % sa.uuid)
                r.err("     Please restart the file server or use vos setaddrs.\n")
                return d.fail(volops.EINVAL)
            if code != volops.VL_NOENT:
                r.err("vos: could not list the server addresses\n")
                r.err(print_error(code))
                return d.fail(code)
        _, code = await volops._c(vldb.change_addr(s, ip1, ip2))
        if code:
            if remove:
                r.err("Could not remove server %s from the VLDB\n" % inet_ntoa(ip2))
                if code == volops.VL_NOENT:
                    r.err("vlserver does not support the remove flag or ")
            else:
                r.err("Could not change server %s to server %s\n"
                      % (inet_ntoa(ip1), inet_ntoa(ip2)))
            r.err(print_error(code))
            return d.fail(code)
    if remove:
        r.out("Removed server %s from the VLDB\n" % args.oldaddr)
    else:
        r.out("Changed server %s to server %s\n" % (args.oldaddr, args.newaddr))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
