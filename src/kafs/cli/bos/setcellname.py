"""bos setcellname: SetCellName (bos.c)."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render  # noqa: F401


async def _run(args):
    # bos reports a failure but returns 0
    return await each(args, [args.name], lambda b, n: b.set_cell_name(n),
                      lambda n, code: "bos: failed to set cell (%s)\n" % em(code))


def run(args):
    return run_async(_run(args))


def to_json(res):
    return res.items[0]
