"""pts delete: Delete (pts.c)."""

from __future__ import annotations

from kafs.cli.pts import pts_api, run_async
from kafs.cli.pts._write import Done, exit_code, forced, stop, to_json  # noqa: F401


async def _run(args):
    from kafs.cli.pts._names import PRBADARG, entries
    p = pts_api(args)
    res = Done()
    got = await entries(args, p)
    if got is None:
        res.code = PRBADARG
        return res
    for id, name in got:
        item = {"name": name, "id": id, "ok": True}
        res.items.append(item)
        try:
            await p.delete(id)
        except Exception as x:          # noqa: BLE001
            if stop(args, res, item, x, "deleting %s (id: %d) %s" % (name, id, forced(args))):
                return res
    return res


def run(args):
    return run_async(args, _run(args))


def render(res, args):
    pass
