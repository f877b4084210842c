"""bos exec: Exec (bos.c) -- BOZO_Exec; the server's system(3) status is
the call's code, and bos's exit status (so 256, "exit 1", exits 0)."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render  # noqa: F401


async def _run(args):
    res = await each(args, [args.cmd], lambda b, c: b.exec(c),
                     lambda c, code: "bos: failed to execute command (%s)\n" % em(code),
                     key="command", last=True)
    return res


def run(args):
    return run_async(_run(args))


def to_json(res):
    d = dict(res.items[0])
    d["status"] = res.code
    return d
