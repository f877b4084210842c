"""pts listentries: ListEntries (pts.c)."""

from __future__ import annotations

from contextlib import aclosing

from kafs.cli.pts import com_err, error_code, out, pts_api, run_async

HEADER = "Name                          ID  Owner Creator\n"


class Listed:
    """The result: the entries (kept for -json only) and the com_err code."""

    __slots__ = ("entries", "code")

    def __init__(self):
        self.entries: list = []         # ListedEntry
        self.code = 0


def _line(e) -> str:
    return "%-25s %6d %6d %7d \n" % (e.name, e.id, e.owner, e.creator)


async def _run(args, o):
    p = pts_api(args)
    groups = bool(args.groups)
    users = bool(args.users) or not groups
    res = Listed()
    try:
        # aclosing: a failed write (or ^C in pts interactive) also cancels
        # the calls still in flight on the shared loop
        async with aclosing(p.entries_pages(users, groups)) as pages:
            async for page in pages:
                if o is not None:                   # text: print page by page
                    o.write("".join(_line(e) for e in page))
                else:
                    res.entries.extend(page)
    except Exception as x:          # noqa: BLE001
        res.code = error_code(x)
        com_err(args, res.code, "; unable to list entries")
    return res


def run(args):
    o = None
    if not args.json:
        o = out(args)
        o.write(HEADER)
    return run_async(args, _run(args, o))


def render(res, args):
    pass                               # printed while listing


def to_json(res):
    return [{"name": e.name, "id": e.id, "owner": e.owner, "creator": e.creator,
             "flags": e.flags, "group_quota": e.ngroups, "membership": e.count}
            for e in res.entries]


def exit_code(res):
    return res.code
