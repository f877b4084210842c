"""bos setrestart: SetRestartCmd (bos.c) -- BOZO_SetRestartTime of the
general (default) or the new-binary restart time."""

from __future__ import annotations

from kafs.cli import CommandError
from kafs.cli.bos import connect, em, run_async
from kafs.cli.bos._write import each, exit_code, render  # noqa: F401


async def _run(args):
    from kafs.api.bos import TimeSyntaxError, parse_periodic
    c = await connect(args, encrypt=True)
    try:
        if args.general and args.newbinary:
            raise CommandError("bos: can't specify more than one restart time at a time", -1)
        which = 2 if args.newbinary else 1
        try:
            t = parse_periodic(args.time)
        except TimeSyntaxError:
            raise CommandError("bos: failed to parse '%s' as periodic restart time(%s)"
                               % (args.time, em(-1)), -1) from None
    except CommandError:
        await c.session.close()
        raise
    res = await each(args, [which], lambda b, w: b.set_restart_time(w, t),
                     lambda _, code: "bos: failed to set restart time at server (%s)\n"
                     % em(code), key="which",
                     extra={"time": t.display(), "mask": t.mask, "hour": t.hour,
                            "min": t.min, "sec": t.sec, "day": t.day}, conn=c, last=True)
    return res


def run(args):
    return run_async(_run(args))


def to_json(res):
    d = dict(res.items[0])
    d["which"] = "newbinary" if d["which"] == 2 else "general"
    return d
