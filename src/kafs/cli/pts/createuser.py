"""pts createuser: CreateUser (pts.c)."""

from __future__ import annotations

from kafs.cli.pts import pts_api, run_async
from kafs.cli.pts._write import (Done, as_looked_up, exit_code, forced,  # noqa: F401
                                 given_id, printer, stop, to_json)


async def _run(args, o):
    p = pts_api(args)
    res = Done()
    ids = list(args.id or ())
    for name in args.name:
        if ids:
            id = given_id(args, res, ids.pop(0), "user")
            if id is None:
                return res
        else:
            id = 0
        shown = as_looked_up(name)
        item = {"name": shown, "id": id, "ok": True}
        res.items.append(item)
        try:
            id = item["id"] = await p.create_user(name, id)
        except Exception as x:          # noqa: BLE001 - every failure is a code
            if id:
                text = "; unable to create user %s with id %d %s" % (shown, id, forced(args))
            else:
                text = "; unable to create user %s %s" % (shown, forced(args))
            if stop(args, res, item, x, text):
                return res
        if o is not None:
            o.write("User %s has id %d\n" % (shown, id))
    return res


def run(args):
    return run_async(args, _run(args, printer(args)))


def render(res, args):
    pass
