"""pts setmax: SetMaxCommand (pts.c)."""

from __future__ import annotations

from kafs.cli.pts import com_err, err, pts_api, run_async
from kafs.cli.pts._write import Done, exit_code, failed, to_json  # noqa: F401

PRBADARG = 267273


async def _run(args):
    from kafs.cli.pts._names import get_int32
    p = pts_api(args)
    res = Done()
    code = 0
    # -user first, then -group; the code of the last one is returned
    for kind, value in (("user", args.user), ("group", args.group)):
        if value is None:
            continue
        maxid = get_int32(value)
        if maxid is None:
            code = -1
            com_err(args, -1, "because id was: '%s'" % value)
            continue
        item = {"kind": kind, "id": maxid, "ok": True}
        res.items.append(item)
        try:
            await p.set_max(maxid, group=kind == "group")
            code = 0
        except Exception as x:          # noqa: BLE001
            code = failed(args, item, x, "so couldn't set Max %s Id to %d"
                          % (kind.capitalize(), maxid))
    if args.user is None and args.group is None:
        code = PRBADARG
        err(args).write("Must specify at least one of group or user.\n")
    res.code = code
    return res


def run(args):
    return run_async(args, _run(args))


def render(res, args):
    pass
