"""Error types shared by every layer of kafs.

Every failure that crosses a layer boundary is a :class:`KafsError`.
Errors that carry an AFS/Rx/com_err code are :class:`AFSError`; their
``table`` and ``message`` come from the com_err tables in
:mod:`kafs.errors.tables` (looked up lazily, so importing this module is cheap).
"""

from __future__ import annotations


class KafsError(Exception):
    """Base class of every error kafs raises on purpose."""


class DecodeError(KafsError, ValueError):
    """Bytes that do not decode: a short, long, or out-of-bounds packet/XDR item."""


class ConfigError(KafsError):
    """Broken or missing configuration (CellServDB, ThisCell, client.conf...)."""


class AFSError(KafsError):
    """An error with a numeric code from Rx, rxgen or a com_err table.

    ``code`` is the signed 32-bit value as it travels in an ABORT packet.
    """

    def __init__(self, code: int, detail: str | None = None):
        self.code = int(code)
        self.detail = detail
        super().__init__(self.code)

    @property
    def table(self) -> str:
        from .tables import table_name
        return table_name(self.code)

    @property
    def message(self) -> str:
        from .tables import error_message
        return error_message(self.code)

    def __str__(self) -> str:
        text = self.message
        if self.detail:
            text = f"{text} ({self.detail})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.message!r})"


class RemoteAbort(AFSError):
    """The peer aborted the call (or the whole connection) with ``code``."""


class LocalAbort(AFSError):
    """We ended the call ourselves with ``code`` (dead peer, timeout, protocol error...)."""


class CallDead(LocalAbort):
    """RX_CALL_DEAD: the peer stopped answering for longer than the dead time."""

    def __init__(self, detail: str | None = None):
        super().__init__(-1, detail)


class CallTimeout(LocalAbort):
    """RX_CALL_TIMEOUT: idle-dead or hard-dead time exceeded."""

    def __init__(self, detail: str | None = None):
        super().__init__(-3, detail)


# Rx / rxgen codes used across layers (protocol-notes section 1.5).
RX_CALL_DEAD = -1
RX_INVALID_OPERATION = -2
RX_CALL_TIMEOUT = -3
RX_EOF = -4
RX_PROTOCOL_ERROR = -5
RX_USER_ABORT = -6
RX_ADDRINUSE = -7
RX_MSGSIZE = -8
RX_RESTARTING = -100
RXGEN_CC_MARSHAL = -450
RXGEN_CC_UNMARSHAL = -451
RXGEN_SS_MARSHAL = -452
RXGEN_SS_UNMARSHAL = -453
RXGEN_DECODE = -454
RXGEN_OPCODE = -455
RXGEN_SS_XDRFREE = -456
RXGEN_CC_XDRFREE = -457
