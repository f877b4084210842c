"""bos removehost: RemoveHost (bos.c)."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render, to_json  # noqa: F401


async def _run(args):
    return await each(args, args.host, lambda b, h: b.delete_cell_host(h),
                      lambda n, code: "bos: failed to delete host %s (%s)\n" % (n, em(code)))


def run(args):
    return run_async(_run(args))
