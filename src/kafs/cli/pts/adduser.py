"""pts adduser: AddToGroup (pts.c)."""

from __future__ import annotations

from kafs.cli.pts import pts_api, run_async
from kafs.cli.pts._write import Done, exit_code, failed, forced, to_json  # noqa: F401


async def _run(args):
    p = pts_api(args)
    res = Done()
    for u in args.user:
        for g in args.group:
            item = {"user": u, "group": g, "ok": True}
            res.items.append(item)
            try:
                await p.add_to_group(u, g)
            except Exception as x:      # noqa: BLE001
                code = failed(args, item, x, "; unable to add user %s to group %s %s" % (u, g, forced(args)))
                if not args.force:
                    res.code = code
                    return res
    return res


def run(args):
    return run_async(args, _run(args))


def render(res, args):
    pass
