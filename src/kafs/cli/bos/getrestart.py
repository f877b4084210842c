"""bos getrestart: GetRestartCmd (bos.c)."""

from __future__ import annotations

from dataclasses import dataclass

from kafs.cli import CommandError
from kafs.cli.bos import connect, em, error_code, out, run_async, say


@dataclass
class Restart:
    server: str
    general: object          # kafs.api.bos.RestartTime
    newbinary: object


async def _run(args):
    c = await connect(args)
    try:
        times = []
        for which in (1, 2):
            try:
                times.append(await c.bos.restart_time(which))
            except Exception as x:  # noqa: BLE001
                code = error_code(x)
                say(args, "bos: failed to retrieve restart information (%s)\n" % em(code))
                raise CommandError(None, code) from None
    finally:
        await c.session.close()
    return Restart(args.server, *times)


def run(args):
    return run_async(_run(args))


def render(res, args):
    o = out(args)
    o.write("Server %s restarts %s\n" % (res.server, res.general.display()))
    o.write("Server %s restarts for new binaries %s\n"
            % (res.server, res.newbinary.display()))


def _j(t):
    return {"display": t.display(), "mask": t.mask, "hour": t.hour, "min": t.min,
            "sec": t.sec, "day": t.day}


def to_json(res):
    return {"server": res.server, "general": _j(res.general),
            "newbinary": _j(res.newbinary)}
