"""pts creategroup: CreateGroup (pts.c)."""

from __future__ import annotations

from kafs.cli.pts import pts_api, run_async
from kafs.cli.pts._write import (Done, as_looked_up, exit_code, fits, forced,  # noqa: F401
                                 given_id, printer, stop, to_json)


async def _run(args, o):
    p = pts_api(args)
    res = Done()
    ids = list(args.id or ())
    owner = args.owner                 # lower-cased in place once looked up
    for name in args.name:
        if ids:
            id = given_id(args, res, ids.pop(0), "group")
            if id is None:
                return res
        else:
            id = 0
        shown = as_looked_up(name)
        if owner is not None and fits(name):
            owner = as_looked_up(owner)
        item = {"name": shown, "id": id, "owner": owner, "ok": True}
        res.items.append(item)
        try:
            id = item["id"] = await p.create_group(name, args.owner, id)
        except Exception as x:          # noqa: BLE001
            if owner is not None or id:
                text = "; unable to create group %s with id %d%s%s%s%s" % (
                    shown, id, " owned by '" if owner is not None else "",
                    owner or "", "'" if owner is not None else "",
                    " (ignored)" if args.force else "")
            else:
                text = "; unable to create group %s %s" % (shown, forced(args))
            if stop(args, res, item, x, text):
                return res
        if o is not None:
            o.write("group %s has id %d\n" % (shown, id))
    return res


def run(args):
    return run_async(args, _run(args, printer(args)))


def render(res, args):
    pass
