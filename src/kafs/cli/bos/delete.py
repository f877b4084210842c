"""bos delete: DeleteServer (bos.c) -- BOZO_DeleteBnode per instance."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render, to_json  # noqa: F401

BZBUSY = 39426


def _text(n, code):
    if code == BZBUSY:
        return "bos: can't delete running instance '%s'\n" % n
    return "bos: failed to delete instance '%s' (%s)\n" % (n, em(code))


async def _run(args):
    return await each(args, args.instance, lambda b, n: b.delete_instance(n), _text,
                      key="instance", last=True)


def run(args):
    return run_async(_run(args))

