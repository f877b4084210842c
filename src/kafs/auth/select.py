"""Choosing the client security class for a cell, as the tools' switches say.

``client_security(cell, auth, tool)`` returns the security object for Rx
connections (None = rxnull):

* ``-noauth``: rxnull.
* ``-localauth``: an :class:`~kafs.auth.rxkad.RxkadClient` with a ticket
  forged from the server keys in ``cell.confdir`` (the server configuration
  directory when the cell was opened with ``localauth=True``), at the level
  the tool uses (:func:`tool_level`).  Without a usable key OpenAFS falls
  back to rxnull: vos and pts then run unauthenticated (``auth.unauthenticated``
  is set so they print their warning); a bos subcommand that needs
  encryption fails with AFSCONF_NOTFOUND.
* otherwise: the cell's token from ``kafs.auth.store.get_token`` at clear
  (crypt with ``-encrypt``, and for pts -encrypt / bos as below); without a
  token, rxnull with ``auth.unauthenticated`` set.

Levels (OpenAFS 1.8.9): vos: clear, crypt with ``-encrypt`` (token or
localauth); pts: token at clear (crypt with ``-encrypt``), ``-localauth``
always crypt (libprot's ``afsconf_ClientAuthSecure``); bos: crypt for every
subcommand except getdate, getrestart, listhosts, listusers, status and
getrestricted (pass ``tool="bos <subcommand>"``; plain ``"bos"`` means crypt).
"""

from __future__ import annotations

from ..errors import AFSError

# kafs.auth.crypto.rxkad's levels, repeated so that -noauth never imports
# the rxkad code (tests/auth/test_select_levels.py keeps them equal)
LEVEL_CLEAR = 0
LEVEL_CRYPT = 2

__all__ = ["client_security", "tool_level", "BOS_CLEAR_SUBCOMMANDS", "AFSCONF_NOTFOUND"]

#: bos subcommands that do not ask for an encrypted connection (bos.c)
BOS_CLEAR_SUBCOMMANDS = frozenset(("getdate", "getrestart", "listhosts", "listusers",
                                   "status", "getrestricted"))
AFSCONF_NOTFOUND = 70354689


def _split_tool(tool: str) -> tuple[str, str]:
    t = (tool or "").replace(":", " ").split()
    return (t[0] if t else ""), (t[1] if len(t) > 1 else "")


def tool_level(tool: str, auth) -> int:
    """The rxkad level ``tool`` uses with these switches."""
    prog, sub = _split_tool(tool)
    if getattr(auth, "encrypt", False):
        return LEVEL_CRYPT
    if prog == "bos":
        return LEVEL_CLEAR if sub in BOS_CLEAR_SUBCOMMANDS else LEVEL_CRYPT
    if prog == "pts" and getattr(auth, "localauth", False):
        return LEVEL_CRYPT
    return LEVEL_CLEAR


def _get_token(cell_name: str):
    try:
        from . import store  # type: ignore[attr-defined]
    except ImportError:
        return None
    get = getattr(store, "get_token", None)
    if get is None:
        return None
    return get(cell_name)


async def _token(cell_name: str):
    tok = _get_token(cell_name)
    if hasattr(tok, "__await__"):
        tok = await tok
    return tok


async def client_security(cell, auth, tool: str):
    if auth.noauth:
        return None
    level = tool_level(tool, auth)
    cell_name = getattr(cell, "name", None) or str(cell)
    if auth.localauth:
        from .localauth import localauth_security
        confdir = getattr(cell, "confdir", None)
        kw = {"cell": cell_name}
        sec = localauth_security(level, str(confdir), **kw) if confdir is not None \
            else localauth_security(level, **kw)
        if sec is None:
            prog, _ = _split_tool(tool)
            if prog == "bos" and level == LEVEL_CRYPT:
                raise AFSError(AFSCONF_NOTFOUND, "no server key for -localauth")
            auth.unauthenticated = True
        return sec
    tok = await _token(cell_name)
    if tok is None:
        auth.unauthenticated = True
        return None
    from .rxkad import RxkadClient
    return RxkadClient.from_token(tok, level)
