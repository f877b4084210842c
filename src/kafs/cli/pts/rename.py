"""pts rename: ChangeName (pts.c)."""

from __future__ import annotations

from kafs.cli.pts import pts_api, run_async
from kafs.cli.pts._write import Done, exit_code, failed, to_json  # noqa: F401
from kafs.cli.pts._write import change_entry


async def _run(args):
    res = Done()
    item = {"oldname": args.oldname, "newname": args.newname, "ok": True}
    res.items.append(item)
    shown = [args.oldname, args.newname]
    try:
        await change_entry(pts_api(args), shown, item, newowner=False)
    except Exception as x:              # noqa: BLE001
        res.code = failed(args, item, x, "; unable to change name of %s to %s"
                          % tuple(shown))
    return res


def run(args):
    return run_async(args, _run(args))


def render(res, args):
    pass
