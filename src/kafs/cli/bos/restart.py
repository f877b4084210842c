"""bos restart: Restart (bos.c) -- BOZO_ReBozo (-bosserver), BOZO_RestartAll
(-all) or BOZO_Restart per instance."""

from __future__ import annotations

from kafs.cli import CommandError
from kafs.cli.bos import connect, em, run_async, say
from kafs.cli.bos._write import Done, attempt, each, render, to_json  # noqa: F401


async def _one(args, call, text, item):
    c = await connect(args, encrypt=True)
    res = Done()
    try:
        code = await attempt(res, item, call(c.bos))
        if code:
            say(args, text % em(code))
    finally:
        await c.session.close()
    return res, code


async def _run(args):
    if args.bosserver:
        if args.instance:
            c = await connect(args, encrypt=True)
            await c.session.close()
            raise CommandError("bos: can't specify both '-bos' and specific servers "
                               "to restart.", 1)
        res, res.code = await _one(args, lambda b: b.restart_bosserver(),
                                   "bos: failed to restart bosserver (%s)\n",
                                   {"instance": None, "bosserver": True})
        return res
    if not args.instance:
        if not args.all:
            c = await connect(args, encrypt=True)
            await c.session.close()
            say(args, "bos: To restart all processes please specify '-all'\n")
            return Done()
        return (await _one(args, lambda b: b.restart_all(),
                           "bos: failed to restart servers (%s)\n", {"instance": None}))[0]
    if args.all:
        c = await connect(args, encrypt=True)
        await c.session.close()
        say(args, "bos: Can't use '-all' along with individual instances\n")
        return Done()
    return await each(args, args.instance, lambda b, n: b.restart(n),
                      lambda n, code: "bos: failed to restart instance %s (%s)\n"
                      % (n, em(code)), key="instance")


def run(args):
    return run_async(_run(args))


def exit_code(res):
    return res.code
