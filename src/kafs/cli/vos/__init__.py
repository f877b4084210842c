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


_HOST = None


def _cellservdb_ok(path: str, shown_path: str) -> bool:
    """What ``afsconf_Open`` checks while reading CellServDB: host lines
    must be ``a.b.c.d #name`` inside a cell; prints OpenAFS's messages."""
    import re
    global _HOST
    if _HOST is None:
        _HOST = re.compile(r"\s*\[?\s*([-+]?\d+)\.\s*([-+]?\d+)\.\s*([-+]?\d+)\.\s*([-+]?\d+)"
                           r"\]?\s*#\s*\S")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return True             # CellServDB.local/.dist: read by kafs.cell
    in_cell = False
    nhosts = 0
    for raw in data.split(b"\n"):
        line = raw.split(b"\0", 1)[0].decode("latin-1").lstrip(" \t\v\f\r")
        if not line:
            continue
        if line.startswith(">"):
            in_cell = True
            nhosts = 0
            continue
        if not in_cell:
            return False
        if nhosts >= 8:
            continue
        m = _HOST.match(line)
        if not m:
            _say('Can\'t properly parse host line "%s" in configuration file %s\n'
                 % (line, shown_path))
            return False
        c = [int(x) for x in m.groups()]
        if any(x < 0 or x > 255 for x in c):
            _say("Illegal IP address %d.%d.%d.%d\n" % tuple(c)
                 + 'Can\'t properly parse host line "%s" in configuration file %s\n'
                 % (line, shown_path))
            return False
        nhosts += 1
    return True


def before(args) -> int:
    from kafs.api.session import AuthSpec
    from kafs.cell import Cell
    from kafs.errors import ConfigError

    st = args.state.setdefault("vos", {})
    prog = "vos"

    def opt(name):          # built-ins (version) have none of the switches
        try:
            return getattr(args, name)
        except AttributeError:
            return None

    cellarg, config = opt("cell"), opt("config")
    localauth = bool(opt("localauth"))
    auth = AuthSpec(noauth=bool(opt("noauth")), localauth=localauth,
                    encrypt=bool(opt("encrypt")))
    confdir = None
    shown = None
    if localauth:
        confdir = SERVER_ETC
        shown = SERVER_ETC
    if config:
        confdir = config
        shown = config
    # vos takes the cell from -cell or ThisCell; $AFSCELL is not looked at.
    env = {k: v for k, v in os.environ.items() if k != "AFSCELL"}
    try:
        probe = Cell(cellarg, confdir=confdir, localauth=localauth, env=env)
    except ConfigError:
        probe = None
    cdir = str(probe.confdir) if probe is not None else (confdir or CLIENT_ETC)
    if shown is None:
        shown = CLIENT_ETC if probe is None or os.path.normpath(cdir) == "/etc/openafs" else cdir
    if not _confdir_ok(cdir) or not _cellservdb_ok(os.path.join(cdir, "CellServDB"),
                                                     shown + "/CellServDB"):
        _fail_init(prog, "%s: Could not process files in configuration directory (%s).\n"
                   % (prog, shown), 5)
    cellname = cellarg
    try:
        if probe is None:
            raise ConfigError("no cell")
        probe.servers("vlserver")
        cell = probe
    except ConfigError:
        if cellname is None:
            cellname = probe.requested_name if probe is not None else ""
        _fail_init(prog, "%s: can't find cell %s's hosts in %s/CellServDB\n"
                   % (prog, cellname, shown),
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
