"""pts delete: Delete (pts.c)."""

from __future__ import annotations

from kafs.cli.pts import pts_api, run_async
from kafs.cli.pts._write import Done, exit_code, failed, forced, to_json  # noqa: F401

PRBADARG = 267273


async def _run(args):
    from kafs.api.pts import ANONYMOUSID
    from kafs.cli.pts._names import name_or_id
    p = pts_api(args)
    res = Done()
    got = await name_or_id(args, p, args.nameorid)
    if got is None:
        res.code = PRBADARG
        return res
    for id, name in zip(*got):
        if id == ANONYMOUSID:
            continue
        item = {"name": name, "id": id, "ok": True}
        res.items.append(item)
        try:
            await p.delete(id)
        except Exception as x:          # noqa: BLE001
            code = failed(args, item, x, "deleting %s (id: %d) %s" % (name, id, forced(args)))
            if not args.force:
                res.code = code
                return res
    return res


def run(args):
    return run_async(args, _run(args))


def render(res, args):
    pass
