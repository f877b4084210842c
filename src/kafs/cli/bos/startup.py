"""bos startup: Startup (bos.c) -- BOZO_StartupAll, or BOZO_SetTStatus(run)
per instance."""

from __future__ import annotations

from kafs.cli.bos import run_async
from kafs.cli.bos._control import all_or_each
from kafs.cli.bos._write import render, to_json  # noqa: F401


async def _run(args):
    return await all_or_each(args, lambda b: b.startup_all(),
                             "bos: failed to startup servers (%s)\n",
                             lambda b, n: b.set_temp_status(n, 1),
                             "bos: failed to start instance %s (%s)\n")


def run(args):
    return run_async(_run(args))
