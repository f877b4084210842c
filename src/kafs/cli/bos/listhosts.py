"""bos listhosts: ListHosts (bos.c)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafs.cli import CommandError
from kafs.cli.bos import connect, em, error_code, out, run_async, say

BZDOM = 39429


@dataclass
class Hosts:
    cell: str
    hosts: list[str] = field(default_factory=list)


async def _run(args, o):
    c = await connect(args)
    try:
        try:
            name = await c.bos.cell_name()
        except Exception as x:      # noqa: BLE001
            say(args, "bos: failed to get cell name (%s)\n" % em(error_code(x)))
            raise CommandError(None, 1) from None
        res = Hosts(name)
        if o is not None:
            o.write("Cell name is %s\n" % name)
        i = 0
        while True:
            try:
                h = await c.bos.cell_host(i)
            except Exception as x:  # noqa: BLE001
                code = error_code(x)
                if code == BZDOM:
                    break
                say(args, "bos: failed to get cell host %d (%s)\n" % (i, em(code)))
                raise CommandError(None, 1) from None
            res.hosts.append(h)
            if o is not None:
                o.write("    Host %d is %s\n" % (i + 1, h))
            i += 1
    finally:
        await c.session.close()
    return res


def run(args):
    return run_async(_run(args, None if args.json else out(args)))


def render(res, args):
    pass


def to_json(res):
    return {"cell": res.cell, "hosts": res.hosts}
