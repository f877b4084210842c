"""bos removeuser: RemoveSUser (bos.c)."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render, to_json  # noqa: F401

ENOENT = 2


def _text(n, code):
    return "bos: failed to delete user '%s', %s\n" % (
        n, "(no such user)" if code == ENOENT else "(%s)" % em(code))


async def _run(args):
    res = await each(args, args.user, lambda b, n: b.delete_superuser(n), _text,
                     key="user")
    res.code = int(any(not i["ok"] for i in res.items))
    return res


def run(args):
    return run_async(_run(args))
