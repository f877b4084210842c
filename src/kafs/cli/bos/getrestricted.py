"""bos getrestricted: GetRestrict (bos.c)."""

from __future__ import annotations

from dataclasses import dataclass

from kafs.cli.bos import connect, em, error_code, out, run_async, say


@dataclass
class Restricted:
    restricted: bool | None


async def _run(args):
    c = await connect(args)
    try:
        try:
            return Restricted(await c.bos.restricted())
        except Exception as x:      # noqa: BLE001
            say(args, "bos: failed to get restricted mode (%s)\n" % em(error_code(x)))
            return Restricted(None)
    finally:
        await c.session.close()


def run(args):
    return run_async(_run(args))


def render(res, args):
    if res.restricted is not None:
        out(args).write("Restricted mode is %s\n" % ("on" if res.restricted else "off"))


def to_json(res):
    return {"restricted": res.restricted}
