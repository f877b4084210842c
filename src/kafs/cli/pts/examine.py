"""pts examine: CheckEntry (pts.c)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafs.cli.pts import com_err, error_code, out, pts_api, run_async

PRBADARG = 267273


@dataclass
class Examined:
    entries: list = field(default_factory=list)   # (PtsEntry, unlimited)
    code: int = 0


async def _run(args):
    from kafs.api.pts import ANONYMOUSID, SYSADMIN, SYSADMINID
    from kafs.cli.pts._names import name_or_id
    p = pts_api(args)
    res = Examined()
    got = await name_or_id(args, p, args.nameorid)
    if got is None:
        res.code = PRBADARG
        return res
    ids, _ = got
    rcode = 1
    admin = False          # sticky across entries, as in pts.c
    flag = 0
    for id in ids:
        if id == ANONYMOUSID:
            continue
        rcode = 0
        try:
            e = await p.entry(id)
        except Exception as x:      # noqa: BLE001
            rcode = error_code(x)
            com_err(args, rcode, "; unable to find entry for (id: %d)" % id)
            continue
        try:
            e.owner_name, e.creator_name = (await p.id_to_name([e.owner, e.creator]))[:2]
        except Exception as x:      # noqa: BLE001
            rcode = error_code(x)
            com_err(args, rcode, "translating owner (%d) and creator (%d) ids"
                    % (e.owner, e.creator))
            continue
        if e.id == SYSADMINID:
            admin = True
        else:
            try:
                flag = int(await p.is_member_of(e.name, SYSADMIN))
            except Exception:       # noqa: BLE001 - pts ignores failures here
                pass
            else:
                if flag:
                    admin = True
        res.entries.append((e, admin))
    res.code = rcode
    return res


def run(args):
    return run_async(args, _run(args))


def render(res, args):
    o = out(args)
    for e, unlimited in res.entries:
        o.write("Name: %s, id: %d, owner: %s, creator: %s,\n"
                % (e.name, e.id, e.owner_name, e.creator_name))
        o.write("  membership: %d, flags: %s, group quota: %s.\n"
                % (e.count, e.flags_string,
                   "unlimited" if unlimited else "%d" % e.ngroups))


def to_json(res):
    return [{"name": e.name, "id": e.id, "owner": e.owner, "owner_name": e.owner_name,
             "creator": e.creator, "creator_name": e.creator_name,
             "membership": e.count, "flags": e.flags_string,
             "flags_raw": e.flags, "group_quota": None if unlimited else e.ngroups,
             "nusers": e.nusers}
            for e, unlimited in res.entries]


def exit_code(res):
    return res.code
