"""bos listusers: ListSUsers (bos.c)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafs.cli.bos import connect, em, error_code, out, run_async, say


@dataclass
class SUsers:
    users: list[str] = field(default_factory=list)
    code: int = 0


async def _run(args):
    c = await connect(args)
    res = SUsers()
    try:
        while True:
            try:
                res.users.append(await c.bos.superuser(len(res.users)))
            except Exception as x:  # noqa: BLE001
                code = error_code(x)
                if code != 1:
                    res.code = code
                break
    finally:
        await c.session.close()
    return res


def run(args):
    res = run_async(_run(args))
    if res.code:
        say(args, "bos: failed to retrieve super-user list (%s)\n" % em(res.code))
    return res


def render(res, args):
    o = out(args)
    lastnl = False
    for i, u in enumerate(res.users):
        if i == 0:
            o.write("SUsers are: ")
        o.write("%s " % u)
        lastnl = i % 10 == 9
        if lastnl:
            o.write("\n")
    if not res.code and not lastnl:
        o.write("\n")


def to_json(res):
    return {"superusers": res.users}


def exit_code(res):
    return res.code
