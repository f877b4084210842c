"""bos create: CreateServer (bos.c) -- BOZO_CreateBnode."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render  # noqa: F401
from kafs.cli.bos._write import only as to_json  # noqa: F401


async def _run(args):
    # bos takes up to six -cmd values but sends only five
    cmds = list(args.cmd[:5])
    res = await each(args, [args.instance],
                     lambda b, n: b.create_instance(n, args.type, cmds, args.notifier),
                     lambda n, code: "bos: failed to create new server instance %s of "
                     "type '%s' (%s)\n" % (n, args.type, em(code)),
                     key="instance",
                     extra={"type": args.type, "commands": cmds, "notifier": args.notifier},
                     last=True)
    return res


def run(args):
    return run_async(_run(args))
