"""pts listmax: ListMax (pts.c)."""

from __future__ import annotations

from dataclasses import dataclass

from kafs.cli.pts import com_err, error_code, out, pts_api, run_async


@dataclass
class Max:
    max_user_id: int | None = None
    max_group_id: int | None = None
    code: int = 0


async def _run(args):
    p = pts_api(args)
    res = Max()
    # pts asks twice (pr_ListMaxUserId, pr_ListMaxGroupId): one RPC each.
    try:
        res.max_user_id = (await p.list_max())[0]
    except Exception as x:          # noqa: BLE001
        res.code = error_code(x)
        com_err(args, res.code, "getting maximum user id")
        return res
    try:
        res.max_group_id = (await p.list_max())[1]
    except Exception as x:          # noqa: BLE001
        res.code = error_code(x)
        com_err(args, res.code, "getting maximum group id")
        res.max_user_id = None
    return res


def run(args):
    return run_async(args, _run(args))


def render(res, args):
    if not res.code:
        out(args).write("Max user id is %d and max group id is %d.\n"
                        % (res.max_user_id, res.max_group_id))


def to_json(res):
    return {"max_user_id": res.max_user_id, "max_group_id": res.max_group_id}


def exit_code(res):
    return res.code
