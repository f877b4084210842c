"""bos removekey: RemoveKey (bos.c) -- BOZO_DeleteKey per kvno; the first
failure ends the command (exit 1)."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render, to_json  # noqa: F401
from kafs.cli.bos.addkey import atoi


async def _run(args):
    kvnos = [atoi(k) for k in args.kvno]
    return await each(args, kvnos, lambda b, k: b.delete_key(k),
                      lambda k, code: "bos: failed to delete key %d (%s)\n" % (k, em(code)),
                      key="kvno", stop=True)


def run(args):
    return run_async(_run(args))
