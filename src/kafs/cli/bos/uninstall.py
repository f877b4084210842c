"""bos uninstall: UnInstall (bos.c) -- BOZO_UnInstall per file; the first
failure ends the command."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, exit_code, render  # noqa: F401
from kafs.cli.bos.getdate import BIN_DIR, dest


async def _run(args):
    d = args.dir if args.dir is not None else BIN_DIR
    res = await each(args, args.file, lambda b, f: b.uninstall(dest(f, d)),
                     lambda f, code: "bos: failed to uninstall %s (%s)\n" % (f, em(code)),
                     key="file", stop=True,
                     ok_text=lambda f: "bos: uninstalled file %s\n" % f)
    for i in res.items:
        i["path"] = dest(i["file"], d)
    return res


def run(args):
    return run_async(_run(args))


def to_json(res):
    return res.items
