"""bos stop: StopServer (bos.c) -- BOZO_SetStatus(shutdown) per instance,
then BOZO_WaitAll with -wait."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render, to_json  # noqa: F401
from kafs.cli.bos._control import wait_after


async def _run(args):
    return await each(args, args.instance, lambda b, n: b.stop(n),
                      lambda n, code: "bos: failed to change stop instance '%s' (%s)\n"
                      % (n, em(code)),
                      key="instance", after=wait_after(args), last=True)


def run(args):
    return run_async(_run(args))

