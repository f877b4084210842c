"""pts creategroup: CreateGroup (pts.c)."""

from __future__ import annotations

from kafs.cli.pts import com_err, err, pts_api, run_async
from kafs.cli.pts._names import get_int32
from kafs.cli.pts._write import (EINVAL, Done, as_looked_up, exit_code, failed,  # noqa: F401
                                 fits, forced, printer, to_json)

PRBADARG = 267273


async def _run(args, o):
    p = pts_api(args)
    res = Done()
    ids = list(args.id or ())
    owner = args.owner                 # lower-cased in place once looked up
    for name in args.name:
        if ids:
            s = ids.pop(0)
            id = get_int32(s)
            if id is None:
                res.code = -1
                com_err(args, -1, "because group id was: '%s'" % s)
                return res
            if id == 0:
                err(args).write("0 isn't a valid group id; aborting\n")
                res.code = EINVAL
                return res
            if id > 0:
                res.code = PRBADARG
                com_err(args, PRBADARG, "because group id %d was not negative" % id)
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
            code = failed(args, item, x, text)
            if not args.force:
                res.code = code
                return res
        if o is not None:
            o.write("group %s has id %d\n" % (shown, id))
    return res


def run(args):
    return run_async(args, _run(args, printer(args)))


def render(res, args):
    pass
