"""bos start: StartServer (bos.c) -- BOZO_SetStatus(run) per instance."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render, to_json  # noqa: F401


async def _run(args):
    return await each(args, args.instance, lambda b, n: b.start(n),
                      lambda n, code: "bos: failed to start instance '%s' (%s)\n" % (n, em(code)),
                      key="instance", last=True)


def run(args):
    return run_async(_run(args))

