"""bos subcommands.

Helpers shared by the command modules: :func:`connect` is bos.c's
``GetConn`` (host lookup, security choice with its messages, one
connection to the bosserver), :func:`em` its ``em()`` error texts.  Every
bos message starts with the literal ``bos:`` (bos.c never uses argv[0]).
"""

from __future__ import annotations

import sys

AFSCONF_NOTFOUND = 70354689
AFSCONF_NO_SECURITY_CLASS = 70354696
RXGEN_CC_MARSHAL = -450
RXGEN_CC_UNMARSHAL = -451


def out(args):
    r = getattr(args, "session", None)
    return r._out() if r is not None else sys.stdout


def err(args):
    r = getattr(args, "session", None)
    return r._err() if r is not None else sys.stderr


def say(args, text: str) -> None:
    e = err(args)
    e.write(text)
    e.flush()


def em(code: int) -> str:
    if code == -1:
        return "communications failure (-1)"
    if code == -3:
        return "communications timeout (-3)"
    from kafs.errors.tables import TOOL_TABLES, error_message
    return error_message(code, TOOL_TABLES["bos"])


def com_err(code: int, text: str) -> str:
    """afs_com_err("bos", code, text) as a string."""
    from kafs.cli.render import com_err_line
    from kafs.errors.tables import TOOL_TABLES
    return com_err_line("bos", code, text, tables=TOOL_TABLES["bos"])


def error_code(exc: BaseException) -> int:
    """The code bos would have got for an exception of a call: an
    argument too long for the interface is RXGEN_CC_MARSHAL, a reply that
    does not decode RXGEN_CC_UNMARSHAL, a socket error RX_CALL_DEAD."""
    from kafs.errors import AFSError, DecodeError
    from kafs.xdr import EncodeError
    if isinstance(exc, AFSError):
        return exc.code
    if isinstance(exc, EncodeError):
        return RXGEN_CC_MARSHAL
    if isinstance(exc, DecodeError):
        return RXGEN_CC_UNMARSHAL
    if isinstance(exc, OSError):
        return -1
    raise exc


class Conn:
    """What GetConn gives a command: the session and the Bos client."""

    def __init__(self, session, bos):
        self.session = session
        self.bos = bos


async def connect(args, encrypt: bool = False) -> Conn:
    """GetConn (bos.c).  Failures raise CommandError with bos's text and
    exit status 1, as bos exit(1)s."""
    from kafs.cli import CommandError
    from kafs.errors import AFSError, ConfigError
    host = args.server
    from kafs.cell import resolve_host
    try:
        resolve_host(host)
    except ConfigError:
        raise CommandError("bos: can't find address for host '%s'" % host, 1) from None
    # bos ignores -cell with -noauth, and with -localauth (the server's own
    # cell and keys are used then).
    cellname = None if (args.noauth or args.localauth) else args.cell
    from kafs.cell import Cell
    try:
        cell = Cell(cellname, localauth=bool(args.localauth))
        if cellname is not None:
            cell.servers("vlserver")
    except ConfigError:
        say(args, com_err(AFSCONF_NOTFOUND, "(configuring connection security)"))
        raise CommandError(None, 1) from None
    from kafs.api.session import AuthSpec, Session
    auth = AuthSpec(noauth=bool(args.noauth), localauth=bool(args.localauth),
                    encrypt=encrypt)
    try:
        s = await Session.open(cell, auth=auth, tool=f"bos {args.command}")
    except AFSError as x:
        say(args, com_err(x.code, "(configuring connection security)"))
        raise CommandError(None, 1) from None
    except ConfigError as x:
        raise CommandError("bos: %s" % x, 1) from None
    if not args.noauth and s.security is None:
        if encrypt:
            await s.close()
            say(args, com_err(AFSCONF_NO_SECURITY_CLASS,
                              "(configuring connection security)"))
            raise CommandError(None, 1)
        say(args, "bos: running unauthenticated\n")
    from kafs.api.bos import Bos
    return Conn(s, Bos(s, host))


def run_async(coro):
    import asyncio
    return asyncio.run(coro)
