"""pts listowned: ListOwned (pts.c)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafs.cli.pts import com_err, error_code, out, pts_api, run_async


@dataclass
class Owned:
    id: int
    name: str
    groups: list[str] = field(default_factory=list)
    error: int = 0


@dataclass
class OwnedList:
    items: list = field(default_factory=list)
    code: int = 0


async def _run(args, o):
    from kafs.cli.pts._names import PRBADARG, entries, over_limit
    p = pts_api(args)
    res = OwnedList()
    got = await entries(args, p)
    if got is None:
        res.code = PRBADARG
        return res
    over = over_limit(args)
    for oid, name in got:
        item = Owned(oid, name)
        res.items.append(item)
        if o is not None:
            if oid:
                o.write("Groups owned by %s (id: %d) are:\n" % (name, oid))
            else:
                o.write("Orphaned groups are:\n")
        try:
            async for page in p.owned_pages(oid, warn=over):
                item.groups += page.names
                if o is not None:
                    o.write("".join("  %s\n" % n for n in page.names))
        except Exception as x:      # noqa: BLE001
            item.error = error_code(x)
            com_err(args, item.error, "; unable to get owner list for %s (id: %d)"
                    % (name, oid))
    return res


def run(args):
    return run_async(args, _run(args, None if args.json else out(args)))


def render(res, args):
    pass


def to_json(res):
    from kafs.errors.tables import error_message
    return [{"name": i.name, "id": i.id, "orphans": i.id == 0, "groups": i.groups,
             **({"error": {"code": i.error, "message": error_message(i.error)}}
                if i.error else {})}
            for i in res.items]


def exit_code(res):
    return res.code
