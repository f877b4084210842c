"""bos adduser: AddSUser (bos.c)."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render, to_json  # noqa: F401


async def _run(args):
    res = await each(args, args.user, lambda b, n: b.add_superuser(n),
                     lambda n, code: "bos: failed to add user '%s' (%s)\n" % (n, em(code)),
                     key="user")
    res.code = int(any(not i["ok"] for i in res.items))
    return res


def run(args):
    return run_async(_run(args))
