"""bos install: Install (bos.c) -- each local file streamed to the server
with BOZO_Install (size, mode and mtime of the local file); a file that
cannot be opened or sent ends the command."""

from __future__ import annotations

import os

from kafs.cli import CommandError
from kafs.cli.bos import connect, em, out, run_async, say
from kafs.cli.bos._write import Done, attempt, exit_code, render  # noqa: F401
from kafs.cli.bos.getdate import BIN_DIR, dest


class _Reader:
    """read(n) on a descriptor (open(2) succeeds on a directory; reading
    it then fails with EISDIR, which aborts the install as in bos)."""

    def __init__(self, fd: int):
        self.fd = fd

    def read(self, n: int) -> bytes:
        return os.read(self.fd, n)


async def _run(args):
    c = await connect(args, encrypt=True)
    res = Done()
    d = args.dir if args.dir is not None else BIN_DIR
    try:
        for f in args.file:
            try:
                fd = os.open(f, os.O_RDONLY)
            except OSError:
                raise CommandError("bos: can't find file '%s', quitting" % f, 1) from None
            try:
                st = os.fstat(fd)
                path = dest(f, d)
                item = {"file": f, "path": path, "size": st.st_size,
                        "mode": st.st_mode & 0o7777, "mtime": int(st.st_mtime)}
                code = await attempt(res, item, c.bos.install(
                    path, _Reader(fd), st.st_size, st.st_mode, int(st.st_mtime)))
            finally:
                os.close(fd)
            if code:
                say(args, "bos: failed to install %s (%s)\n" % (f, em(code)))
                res.code = 1
                return res
            if not args.json:
                out(args).write("bos: installed file %s\n" % f)
    finally:
        await c.session.close()
    return res


def run(args):
    return run_async(_run(args))


def to_json(res):
    return res.items
