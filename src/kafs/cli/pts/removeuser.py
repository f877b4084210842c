"""pts removeuser: RemoveFromGroup (pts.c)."""

from __future__ import annotations

from kafs.cli.pts import run_async
from kafs.cli.pts._write import exit_code, to_json  # noqa: F401
from kafs.cli.pts._write import each_user_group


def run(args):
    return run_async(args, each_user_group(
        args, lambda p, u, g: p.remove_from_group(u, g),
        "; unable to remove user %s from group %s %s"))


def render(res, args):
    pass
