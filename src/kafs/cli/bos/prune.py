"""bos prune: Prune (bos.c) -- BOZO_Prune."""

from __future__ import annotations

from kafs.cli.bos import com_err, run_async
from kafs.cli.bos._write import each, exit_code, render  # noqa: F401


async def _run(args):
    flags = {"bak": bool(args.bak), "old": bool(args.old), "core": bool(args.core),
             "all": bool(args.all)}
    res = await each(args, [None],
                     lambda b, _: b.prune(**flags),
                     lambda _, code: com_err(code, "(failed to prune server files)"),
                     key="prune", extra=flags, last=True)
    return res


def run(args):
    return run_async(_run(args))


def to_json(res):
    d = dict(res.items[0])
    del d["prune"]
    return d
