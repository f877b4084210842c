"""bos addhost: AddHost (bos.c)."""

from __future__ import annotations

from kafs.cli import CommandError
from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render, to_json  # noqa: F401

MAXHOSTCHARS = 64
E2BIG = 7


async def _run(args):
    clone = bool(args.clone)
    if clone:
        # bos checks each name just before its call; the calls made before
        # a name that is too long still happen
        for i, n in enumerate(args.host):
            if len(n.encode("utf-8", "surrogateescape")) > MAXHOSTCHARS - 3:
                if i:
                    await each(args, args.host[:i],
                               lambda b, h: b.add_cell_host(h, clone=True), _text)
                else:
                    from kafs.cli.bos import connect
                    c = await connect(args, encrypt=True)
                    await c.session.close()
                raise CommandError("bos: host name too long", E2BIG)
    res = await each(args, args.host, lambda b, h: b.add_cell_host(h, clone=clone), _text)
    for i in res.items:
        i["clone"] = clone
    return res


def _text(n, code):
    return "bos: failed to add host %s (%s)\n" % (n, em(code))


def run(args):
    return run_async(_run(args))
