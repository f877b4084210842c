"""pts membership: ListMembership (pts.c)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafs.cli.pts import com_err, error_code, out, pts_api, run_async

RXGEN_OPCODE = -455


@dataclass
class Membership:
    id: int
    name: str
    expanded: bool
    members: list[str]                      # members (group) or groups (user)
    supergroups: list[str] | None = None


@dataclass
class Memberships:
    items: list = field(default_factory=list)
    code: int = 0


async def _run(args, o):
    from kafs.cli.pts._names import PRBADARG, entries, over_limit
    p = pts_api(args)
    res = Memberships()
    got = await entries(args, p)
    if got is None:
        res.code = PRBADARG
        return res
    over = over_limit(args)
    for id, name in got:
        try:
            if args.expandgroups:
                lst = await p.expanded_members(id, warn=over)
            else:
                lst = await p.members(id)
                if lst.over:
                    over(id)
        except Exception as x:      # noqa: BLE001
            com_err(args, error_code(x), "; unable to get membership of %s (id: %d)"
                    % (name, id))
            continue
        m = Membership(id, name, bool(args.expandgroups), lst.names)
        if o is not None:
            _print_members(o, m)
        res.items.append(m)
        if args.supergroups and id < 0:
            try:
                sg = await p.supergroups(id)
                if sg.over:
                    over(id)
            except Exception as x:  # noqa: BLE001
                code = error_code(x)
                if code != RXGEN_OPCODE:
                    com_err(args, code, "; unable to get supergroups of %s (id: %d)"
                            % (name, id))
                continue
            m.supergroups = sg.names
            if o is not None:
                o.write("Groups %s (id: %d) is a member of:\n" % (name, id))
                o.write("".join("  %s\n" % n for n in sg.names))
    return res


def _print_members(o, m):
    head = "Expanded " if m.expanded else ""
    if m.id < 0:
        head += "Members of %s (id: %d) are:\n" % (m.name, m.id)
    else:
        head += "Groups %s (id: %d) is a member of:\n" % (m.name, m.id)
    o.write(head + "".join("  %s\n" % n for n in m.members))


def run(args):
    return run_async(args, _run(args, None if args.json else out(args)))


def render(res, args):
    pass                               # printed as it goes, like pts


def to_json(res):
    return [{"name": m.name, "id": m.id, "expanded": m.expanded,
             "kind": "group" if m.id < 0 else "user",
             ("members" if m.id < 0 else "groups"): m.members,
             **({"supergroups": m.supergroups} if m.supergroups is not None else {})}
            for m in res.items]


def exit_code(res):
    return res.code
