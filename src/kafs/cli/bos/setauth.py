"""bos setauth: SetAuth (bos.c) -- BOZO_SetNoAuthFlag; bos exits 0 even
when the call failed."""

from __future__ import annotations

from kafs.cli import CommandError
from kafs.cli.bos import com_err, connect, run_async
from kafs.cli.bos._write import each, render  # noqa: F401
from kafs.cli.bos._write import only as to_json  # noqa: F401


async def _run(args):
    v = args.authrequired
    if v not in ("on", "off"):
        c = await connect(args, encrypt=True)
        await c.session.close()
        raise CommandError("bos: illegal authentication specifier '%s', must be 'off' "
                           "or 'on'." % v, 1)
    return await each(args, [v == "on"], lambda b, req: b.set_auth_required(req),
                      lambda _, code: com_err(code, "(failed to set authentication flag)"),
                      key="authrequired")


def run(args):
    return run_async(_run(args))
