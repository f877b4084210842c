"""bos shutdown: Shutdown (bos.c) -- BOZO_ShutdownAll, or
BOZO_SetTStatus(shutdown) per instance; then BOZO_WaitAll with -wait."""

from __future__ import annotations

from kafs.cli.bos import run_async
from kafs.cli.bos._control import all_or_each
from kafs.cli.bos._write import render, to_json  # noqa: F401


async def _run(args):
    return await all_or_each(args, lambda b: b.shutdown_all(),
                             "bos: failed to shutdown servers (%s)\n",
                             lambda b, n: b.set_temp_status(n, 0),
                             "bos: failed to shutdown instance %s (%s)\n")


def run(args):
    return run_async(_run(args))
