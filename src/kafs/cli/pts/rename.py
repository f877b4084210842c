"""pts rename: ChangeName (pts.c)."""

from __future__ import annotations

from kafs.cli.pts import run_async
from kafs.cli.pts._write import exit_code, to_json  # noqa: F401
from kafs.cli.pts._write import change


def run(args):
    return run_async(args, change(
        args, {"oldname": args.oldname, "newname": args.newname, "ok": True}, False,
        "; unable to change name of %s to %s"))


def render(res, args):
    pass
