"""What a file server's answer means to a program: AFS codes -> errno.

The file server answers with three kinds of codes:

* VICE volume codes (101..120, -100): mostly handled by the cache manager
  itself (wait, look the volume up again, try another site); what is left
  after that becomes an errno here (VDISKFULL -> ENOSPC, VOVERQUOTA ->
  EDQUOT, VNOVNODE -> ENOENT as kAFS does: the file is gone);
* errno values in the ``uae`` com_err table, when the server and the client
  agreed on the ERRORTRANS capability (UAENOENT -> ENOENT ...), and plain
  small errno values from servers that do not translate;
* Rx and rxkad codes: a call that could not be made at all (every server
  down: EIO, as a local disk that stopped answering), a token problem
  (EKEYEXPIRED / EKEYREJECTED, as kAFS reports them).
"""

from __future__ import annotations

import errno as _errno

from ..errors import AFSError, CallDead, CallTimeout

VSALVAGE = 101
VNOVNODE = 102
VNOVOL = 103
VVOLEXISTS = 104
VNOSERVICE = 105
VOFFLINE = 106
VONLINE = 107
VDISKFULL = 108
VOVERQUOTA = 109
VBUSY = 110
VMOVED = 111
VIO = 112
VSALVAGING = 113
VRESTRICTED = 120
VRESTARTING = -100
VICETOKENDEAD = 1235

#: the file server says "this volume is not here (any more)": look it up
#: again and try the other sites
VOLUME_GONE = frozenset({VSALVAGE, VNOVOL, VOFFLINE, VMOVED, VNOSERVICE})
#: the file server says "wait and ask again"
VOLUME_BUSY = frozenset({VBUSY, VSALVAGING, VRESTARTING})

UAE_BASE = 49733376            # ERROR_TABLE_BASE_uae
RXKAD_BASE = 19270400          # ERROR_TABLE_BASE_rxk
RXKADEXPIRED = RXKAD_BASE + 9  # "Ticket expired"

_VICE = {
    VNOVNODE: _errno.ENOENT,
    VDISKFULL: _errno.ENOSPC,
    VOVERQUOTA: _errno.EDQUOT,
    VIO: _errno.EIO,
    VRESTRICTED: _errno.EACCES,
    VVOLEXISTS: _errno.EEXIST,
    VONLINE: _errno.EBUSY,
    VNOSERVICE: _errno.ETIMEDOUT,
    VICETOKENDEAD: _errno.EKEYEXPIRED,
    # a volume missing everywhere, or busy for too long
    VSALVAGE: _errno.ENODEV, VNOVOL: _errno.ENODEV, VOFFLINE: _errno.ENODEV,
    VMOVED: _errno.ENODEV,
    VBUSY: _errno.EWOULDBLOCK, VSALVAGING: _errno.EWOULDBLOCK,
    VRESTARTING: _errno.EWOULDBLOCK,
}


def uae_to_errno(code: int) -> int | None:
    """The local errno for a ``uae`` table code (None if not one)."""
    if (code & ~0xFF) != UAE_BASE:
        return None
    from ..errors.tables import symbol
    name = symbol(code)
    if name and name.startswith("UAE"):
        v = getattr(_errno, "E" + name[3:], None)
        if isinstance(v, int):
            return v
    return _errno.EIO


def code_to_errno(code: int) -> int:
    """errno for an abort code of a file server call."""
    if code in _VICE:
        return _VICE[code]
    e = uae_to_errno(code)
    if e is not None:
        return e
    if 0 < code < 512:
        return code                    # a plain errno (same numbering: Linux servers)
    if (code & ~0xFF) == RXKAD_BASE:
        return _errno.EKEYEXPIRED if code == RXKADEXPIRED else _errno.EKEYREJECTED
    from ..errors.tables import table_name
    if table_name(code) in ("asn1", "krb5", "KTC"):
        return _errno.EKEYREJECTED      # the server could not read the caller's ticket
    return _errno.EIO


def exc_to_errno(exc: BaseException) -> int:
    """errno for whatever a cache manager operation raised."""
    if isinstance(exc, OSError) and exc.errno:
        return exc.errno
    if isinstance(exc, (CallDead, CallTimeout)):
        return _errno.EIO
    if isinstance(exc, AFSError):
        return code_to_errno(exc.code)
    return _errno.EIO


class FSError(OSError):
    """An operation's failure as the caller sees it: an errno and a text."""

    def __init__(self, err: int, text: str | None = None):
        super().__init__(err, text or _errno.errorcode.get(err, "error %d" % err))
