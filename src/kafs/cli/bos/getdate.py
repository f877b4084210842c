"""bos getdate: GetDate (bos.c)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafs.cli import CommandError
from kafs.cli.bos import connect, em, error_code, out, run_async, say

BIN_DIR = "/usr/afs/bin"       # AFSDIR_CANONICAL_SERVER_BIN_DIRPATH


@dataclass
class Dates:
    files: list = field(default_factory=list)       # kafs.api.bos.FileDates


def dest(name: str, d: str) -> str:
    """ComputeDestDir."""
    i = name.rfind("/")
    return d + ("/" + name if i < 0 else name[i:])


def line(f) -> str:
    from kafs.cli.render import ctime
    s = "File %s " % f.path
    s += "does not exist, " if f.time == 0 else "dated %s, " % ctime(f.time)
    s += "no .BAK file, " if f.bak_time == 0 else ".BAK file dated %s, " % ctime(f.bak_time)
    s += "no .OLD file." if f.old_time == 0 else ".OLD file dated %s." % ctime(f.old_time)
    return s + "\n"


async def _run(args, o):
    c = await connect(args)
    res = Dates()
    try:
        d = args.dir if args.dir is not None else BIN_DIR
        for name in args.file:
            path = dest(name, d)
            try:
                f = await c.bos.dates(path)
            except Exception as x:  # noqa: BLE001
                say(args, "bos: failed to check date on %s (%s)\n"
                    % (name, em(error_code(x))))
                raise CommandError(None, 1) from None
            res.files.append(f)
            if o is not None:
                o.write(line(f))
    finally:
        await c.session.close()
    return res


def run(args):
    return run_async(_run(args, None if args.json else out(args)))


def render(res, args):
    pass


def to_json(res):
    return [{"path": f.path, "time": f.time or None, "bak_time": f.bak_time or None,
             "old_time": f.old_time or None} for f in res.files]
