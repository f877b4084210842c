"""pts subcommands.

The *before* hook is pts.c's ``GetGlobals``: it (re)opens the connection
to the protection servers when the security options, the cell or the
configuration directory change (always for the first command), printing
libprot's warnings exactly as ``pr_Initialize`` does.  The connection — a
:class:`kafs.api.Session` on an event loop that lives as long as the
process — is kept in ``args.state`` so that ``pts interactive`` and
``pts source`` share one connection across commands, as the C tool does.

Every command module calls :func:`run_async` to run its coroutine on that
loop and :func:`pts_api` to reach the :class:`kafs.api.pts.Pts` client.
"""

from __future__ import annotations

import os
import sys

#: pts loads these com_err tables (pr_Initialize + ubik); others print as
#: "Unknown code ..." as in OpenAFS.
TABLES = ("U", "ACFG", "KTC", "PT", "RXK")

CLIENT_ETC = "/etc/openafs/"          # AFSDIR_CLIENT_ETC_DIRPATH as pts prints it
SERVER_ETC = "/etc/openafs/server"    # AFSDIR_SERVER_ETC_DIRPATH

RXGEN_CC_UNMARSHAL = -451
AFSCONF_NOTFOUND = 70354689
AFSCONF_NO_SECURITY_CLASS = 70354696

_OPEN: list = []          # (loop, state) of every process-wide connection


# -- output helpers ------------------------------------------------------------

def out(args):
    r = getattr(args, "session", None)
    return r._out() if r is not None else sys.stdout


def err(args):
    r = getattr(args, "session", None)
    return r._err() if r is not None else sys.stderr


def whoami(args) -> str:
    return args.state.get("whoami") or args.prog


def com_err(args, code: int, text: str) -> None:
    """afs_com_err(whoami, code, text) with pts's tables."""
    from kafs.cli.render import com_err_line
    e = err(args)
    e.write(com_err_line(whoami(args), code, text, tables=TABLES))
    e.flush()


def error_code(exc: BaseException) -> int:
    """The code libprot would have seen for an exception of ours."""
    from kafs.errors import AFSError, DecodeError
    if isinstance(exc, AFSError):
        return exc.code
    if isinstance(exc, DecodeError):
        return RXGEN_CC_UNMARSHAL
    if isinstance(exc, OSError):
        return -1
    raise exc


# -- the connection --------------------------------------------------------------

def _loop(state):
    loop = state.get("pts_loop")
    if loop is None:
        import asyncio
        loop = asyncio.new_event_loop()
        state["pts_loop"] = loop
        if not _OPEN:
            import atexit
            atexit.register(_close_all)
        _OPEN.append(state)
    return loop


def run_async(args, coro):
    """Run ``coro`` on the process-wide loop of this pts run."""
    return _loop(args.state).run_until_complete(coro)


def pts_api(args):
    """The Pts client of the current connection."""
    s = args.state.get("pts_session")
    if s is None:
        s = _NoClient()
    from kafs.api.pts import Pts
    return Pts(s)


class _NoClient:
    """After a failed initialisation pts goes on with a NULL ubik client;
    every call on it fails with UNOENT ("file not found when processing
    dbase")."""

    @property
    def pt(self):
        from kafs.errors import AFSError
        raise AFSError(5382)          # UNOENT


def _close(state) -> None:
    s = state.pop("pts_session", None)
    loop = state.get("pts_loop")
    if s is not None and loop is not None and not loop.is_closed():
        try:
            loop.run_until_complete(s.close())
        except Exception:         # noqa: BLE001 - closing is best effort
            pass


def _close_all() -> None:
    for state in list(_OPEN):
        _close(state)
        loop = state.pop("pts_loop", None)
        if loop is not None and not loop.is_closed():
            loop.close()
    _OPEN.clear()


def before(args) -> int:
    """GetGlobals (pts.c)."""
    st = args.state
    st["whoami"] = args.prog
    if args.command == "help":
        return 0
    def a(key):
        try:
            return getattr(args, key)
        except AttributeError:          # version: a command without switches
            return None
    cell = st.get("pts_cell") or None
    sec = st.get("pts_sec", 1)
    changed = st.get("pts_confdir") is None
    if a("cell") is not None:
        changed, cell = True, a("cell")
    if a("noauth"):
        changed, sec = True, 0
    if a("localauth"):
        changed, sec = True, 2
    if a("auth"):
        changed, sec = True, 1
    if a("encrypt"):
        changed, sec = True, 3
    if a("test") or a("localauth"):
        changed, confdir = True, SERVER_ETC
    else:
        confdir = SERVER_ETC if sec == 2 else CLIENT_ETC
    if a("config") is not None:
        changed, confdir = True, a("config")
    if changed:
        _close(st)                                    # CleanUp
        code = _initialize(args, sec, confdir, cell)
        if code:
            com_err(args, code, "while initializing")
            return code
    st["pts_sec"] = sec
    st["pts_confdir"] = confdir
    if cell:
        st["pts_cell"] = cell
    return 0


def after(args) -> None:
    r = getattr(args, "session", None)
    if r is None or r.source is None or r.finished:
        # The last command of the process: close the connection now (the
        # atexit fallback covers interactive input that ends with EOF).
        _close(args.state)


def _initialize(args, sec: int, confdir: str, cell: str | None) -> int:
    """pr_Initialize (ptuser.c): find the cell, choose the security class,
    make the Ubik client.  Returns a com_err code (0 = fine)."""
    from kafs.errors import AFSError, ConfigError
    e = err(args)
    st = args.state
    # ptuser.c keeps one configuration directory open ("tdir", static):
    # without -cell it is opened once and kept even when a later command
    # asks for another directory (so "-localauth" after a plain command in
    # interactive mode still reads the client directory and runs
    # unauthenticated); a -cell that differs closes and reopens it.
    tdir = st.get("pts_tdir")
    gottdir = False

    def opendir(d):
        if d not in (CLIENT_ETC, SERVER_ETC) and not os.path.isdir(d):
            if d:
                e.write("libprot: Could not open configuration directory: %s.\n" % d)
            else:
                e.write("libprot: No configuration directory specified.\n")
            return False
        return True
    if not cell:
        if tdir is None:
            if not opendir(confdir):
                return -1
            tdir = confdir
        gottdir = True
        try:
            from kafs.cell import Cell
            cell = Cell(None, confdir=tdir if tdir not in (CLIENT_ETC, SERVER_ETC)
                        else None, localauth=tdir == SERVER_ETC).name
        except ConfigError:
            cell = None
    if tdir is None or confdir != st.get("pts_tconfdir") or cell != st.get("pts_tcell"):
        if tdir is not None and not gottdir:
            tdir = None
        st["pts_tconfdir"], st["pts_tcell"] = confdir, cell
        if not gottdir:
            if not opendir(confdir):
                st["pts_tdir"] = None
                return -1
            tdir = confdir
    st["pts_tdir"] = tdir
    explicit_dir = tdir not in (CLIENT_ETC, SERVER_ETC)
    from kafs.cell import Cell
    try:
        c = Cell(cell, confdir=tdir if explicit_dir else None,
                 localauth=tdir == SERVER_ETC)
        c.servers("ptserver")
    except ConfigError:
        name = cell if cell else "(local)"
        e.write("libprot: Could not locate cell %s in %s/CellServDB\n" % (name, confdir))
        return AFSCONF_NOTFOUND
    if sec == 2 and tdir != SERVER_ETC and not explicit_dir:
        # afsconf_ClientAuthSecure on a directory without server keys:
        # rxnull, no error, and the "running unauthenticated" warning.
        sec_open = 0
    else:
        sec_open = sec
    from kafs.api.session import AuthSpec, Session
    auth = AuthSpec(noauth=sec_open == 0, localauth=sec_open == 2,
                    encrypt=sec_open == 3)

    async def _open():
        return await Session.open(c, auth=auth, tool="pts")

    try:
        s = run_async(args, _open())
    except AFSError as x:
        e.write(_libprot(x.code, "(getting token)"))
        return x.code
    except ConfigError as x:
        e.write("%s: %s\n" % (args.prog, x))
        return 1
    if s.auth.unauthenticated:
        e.write(_libprot(AFSCONF_NO_SECURITY_CLASS, "(getting token)"))
        if sec == 3:
            run_async(args, s.close())
            return AFSCONF_NO_SECURITY_CLASS
    if s.security is None and sec != 0:
        e.write("libprot: Could not get afs tokens, running unauthenticated\n")
    args.state["pts_session"] = s
    return 0


def _libprot(code: int, text: str) -> str:
    """afs_com_err("libprot", code, text) -- ends in "\n\r" like every
    com_err line."""
    from kafs.cli.render import com_err_line
    return com_err_line("libprot", code, text, tables=TABLES)
