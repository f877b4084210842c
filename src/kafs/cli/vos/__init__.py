"""vos subcommands (``kafs.cli.vos.<command>``) and the suite's hooks.

``before(args)`` does what vos.c's ``MyBeforeProc`` / ``vsu_ClientInit``
do before every command (``version`` included): find the configuration
directory and the cell's VL servers, choose the security class, and print
OpenAFS's messages (``vos: Could not get afs tokens, running
unauthenticated.``, ``could not initialize VLDB library (code=N)``).  The
result lives in ``args.state["vos"]`` and the commands open their
:class:`kafs.api.Session` from it (``_common.session(args)``).
"""

from __future__ import annotations

import os
import sys

#: com_err code vos prints for a cell it cannot find (AFSCONF_NOTFOUND)
AFSCONF_NOTFOUND = 70354689
CLIENT_ETC = "/etc/openafs/"          # AFSDIR_CLIENT_ETC_DIRPATH as vos prints it
SERVER_ETC = "/etc/openafs/server"    # AFSDIR_SERVER_ETC_DIRPATH


def _say(text: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(text)
    sys.stderr.flush()


def _fail_init(prog: str, msg: str, code: int) -> None:
    _say(msg + "could not initialize VLDB library (code=%d) \n" % code)
    raise SystemExit(1)


def _confdir_ok(d: str) -> bool:
    """``afsconf_Open`` succeeds: the directory has a readable CellServDB
    (or the pieces Debian assembles it from)."""
    for f in ("CellServDB", "CellServDB.local", "CellServDB.dist"):
        if os.access(os.path.join(d, f), os.R_OK):
            return True
    return False


def before(args) -> int:
    from kafs.api.session import AuthSpec
    from kafs.cell import Cell
    from kafs.errors import ConfigError

    st = args.state.setdefault("vos", {})
    prog = "vos"
    auth = AuthSpec(noauth=bool(args.noauth), localauth=bool(args.localauth),
                    encrypt=bool(args.encrypt))
    confdir = None
    shown = None
    if args.localauth:
        confdir = SERVER_ETC
        shown = SERVER_ETC
    if args.config:
        confdir = args.config
        shown = args.config
    # vos takes the cell from -cell or ThisCell; $AFSCELL is not looked at.
    env = {k: v for k, v in os.environ.items() if k != "AFSCELL"}
    try:
        probe = Cell(args.cell, confdir=confdir, localauth=bool(args.localauth), env=env)
    except ConfigError:
        probe = None
    cdir = str(probe.confdir) if probe is not None else (confdir or CLIENT_ETC)
    if shown is None:
        shown = CLIENT_ETC if probe is None or os.path.normpath(cdir) == "/etc/openafs" else cdir
    if not _confdir_ok(cdir):
        _fail_init(prog, "%s: Could not process files in configuration directory (%s).\n"
                   % (prog, shown), 5)
    cellname = args.cell
    try:
        if probe is None:
            raise ConfigError("no cell")
        probe.servers("vlserver")
        cell = probe
    except ConfigError:
        if cellname is None:
            cellname = probe.requested_name if probe is not None else ""
        _fail_init(prog, "%s: can't find cell %s's hosts in %s/CellServDB\n"
                   % (prog, cellname, shown.rstrip("/") if shown != CLIENT_ETC else shown),
                   AFSCONF_NOTFOUND)
    # the security class, now: OpenAFS prints its warning here
    from kafs.auth.select import client_security
    try:
        security = _run_now(lambda: client_security(cell, auth, prog))
    except ConfigError as e:
        _say("%s: %s\n" % (prog, e))
        raise SystemExit(1)
    if auth.unauthenticated and not auth.noauth:
        _say("%s: Could not get afs tokens, running unauthenticated.\n" % prog)
    st.update(cell=cell, auth=auth, security=security)
    return 0


def _run_now(factory):
    """Run a coroutine that (usually) never suspends without starting an
    event loop (asyncio costs start-up time); with asyncio.run when it does."""
    coro = factory()
    try:
        coro.send(None)
    except StopIteration as e:
        return e.value
    coro.close()
    import asyncio
    return asyncio.run(factory())
