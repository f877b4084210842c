"""rxkad (security index 2) as Rx security classes: client and server.

:class:`RxkadClient` holds a token (session key, ticket type/kvno, ticket)
and a level (clear 0, auth 1, crypt 2).  Every DATA packet gets the 16-bit
header checksum; at auth the first 8 bytes are sealed with the length word,
at crypt the whole payload is PCBC-encrypted (the per-level cryptography
lives in :mod:`kafs.auth.crypto`).  The security header/trailer (4/4 at
auth, 8/8 at crypt) reduce each packet's user data; as in OpenAFS a jumbogram
sub-packet must be exactly 1412 bytes on the wire, which only clear-level
packets can be (1396/1404 bytes of user data seal to 1408 at crypt/auth), so
auth and crypt traffic goes one packet per datagram.  The Rx core seals a
call's packets ahead of its send window in batches (``prepare_packets``,
one C call for many packets); the checksum and the sealed bytes depend on
the call number, channel and seq only, so a retransmission resends them
unchanged under a new serial.  A CHALLENGE (v2 or
old) is answered with a RESPONSE carrying the ticket.  Connections are shared
between client objects with the same token and level.

:class:`RxkadServer` issues CHALLENGEs with a random nonce and the minimum
level, verifies the RESPONSE (ticket decrypted with the server key: v4 DES
tickets with KeyFile keys, Kerberos 5 tickets -- type 256 full ``Ticket`` or
type 213 ``EncryptedData`` -- with KeyFileExt keys; OpenAFS
``rxkad_CheckResponse`` order and error codes), then seals/unseals at the
level the client chose (>= the minimum).  The client's identity is
``call.connection.sec.identity`` (:func:`identity_of`).  The server half
lives in :mod:`kafs.auth.rxkad_server` and is imported from there on first
use of its names, so a client does not load the ticket-decoding code.

Errors are OpenAFS's: RXKADTICKETLEN, RXKADUNKNOWNKEY (no key for the
kvno/enctype), RXKADBADTICKET (undecryptable or malformed ticket),
RXKADEXPIRED / RXKADNOAUTH (ticket times), RXKADSEALEDINCON (wrong session
key, response for another connection), RXKADOUTOFSEQUENCE (response to an
old challenge: a replay), RXKADLEVELFAIL.

Secrets (keys, tickets, session keys) never appear in ``repr``/``str``.
"""

from __future__ import annotations

import hashlib
import time
from types import ModuleType

from ..errors import AFSError
from ..rx.security import SecurityClass
from .crypto import rxkad as _rk
from .crypto.rxkad import LEVEL_AUTH, LEVEL_CLEAR, LEVEL_CRYPT, RXKADEXPIRED

__all__ = [
    "RxkadClient", "RxkadServer", "RxkadIdentity", "TokenExpired", "identity_of",
    "LEVEL_CLEAR", "LEVEL_AUTH", "LEVEL_CRYPT", "LEVEL_NAMES", "level_from_name",
]

LEVEL_NAMES = {LEVEL_CLEAR: "clear", LEVEL_AUTH: "auth", LEVEL_CRYPT: "crypt"}
NEVERDATE = 0xFFFFFFFF
_M32 = 0xFFFFFFFF


def level_from_name(name: str) -> int:
    for k, v in LEVEL_NAMES.items():
        if v == name:
            return k
    raise ValueError(f"unknown rxkad level {name!r}")


def _fmt_time(t: int) -> str:
    if not t or t >= NEVERDATE:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


class TokenExpired(AFSError):
    """A token past its end time, refused before any call is made."""

    def __init__(self, end: int, cell: str | None = None):
        what = f"rxkad token for cell {cell}" if cell else "rxkad token"
        super().__init__(RXKADEXPIRED, f"{what} expired at {_fmt_time(end)}")
        self.end = end
        self.cell = cell


# ====================================================================== client

class _ClientConn:
    __slots__ = ("crypto", "challenges", "packets_sent", "packets_received",
                 "bytes_sent", "bytes_received")

    def __init__(self, crypto):
        self.crypto = crypto
        self.challenges = 0
        self.packets_sent = self.packets_received = 0
        self.bytes_sent = self.bytes_received = 0

    def __repr__(self):
        return f"<rxkad client conn level={LEVEL_NAMES[self.crypto.level]}>"


class _Sealing:
    """Outgoing DATA, alike for the client and the server class: the
    connection's crypto seals, ``conn.sec`` counts."""

    def prepare_packet(self, conn, call_number, channel, seq, payload):
        st = conn.sec
        st.packets_sent += 1
        st.bytes_sent += len(payload)
        return st.crypto.seal(call_number, channel, seq, payload)

    def prepare_packets(self, conn, call_number, channel, seq, payloads):
        st = conn.sec
        st.packets_sent += len(payloads)
        st.bytes_sent += sum(map(len, payloads))
        return st.crypto.seal_many(call_number, channel, seq, payloads)


class RxkadClient(_Sealing, SecurityClass):
    """The client side of rxkad for one token at one level.

    ``kvno`` is the ticket type sent in the RESPONSE (a v4 key version,
    213 or 256).  ``start``/``end`` are the token's times (0 = unknown);
    a token whose ``end`` has passed is refused here with
    :class:`TokenExpired`.
    """

    index = 2
    name = "rxkad"
    debug_type = 3

    def __init__(self, level: int, session_key: bytes, kvno: int, ticket: bytes, *,
                 start: int = 0, end: int = 0, cell: str | None = None,
                 viceid: int | None = None, principal: str | None = None,
                 backend: ModuleType | None = None, now: float | None = None):
        if level not in LEVEL_NAMES:
            raise ValueError(f"bad rxkad level {level!r}")
        session_key = bytes(memoryview(session_key))
        if len(session_key) != 8:
            raise ValueError("an rxkad session key is 8 bytes")
        ticket = bytes(memoryview(ticket))
        if not 0 < len(ticket) <= _rk.MAX_TICKET_LEN:
            raise ValueError(f"a ticket of {len(ticket)} bytes does not fit rxkad")
        if not 0 <= kvno <= _M32:
            raise ValueError(f"bad ticket type {kvno}")
        now = time.time() if now is None else now
        if end and end != NEVERDATE and end <= now:
            raise TokenExpired(end, cell)
        self.level = level
        self.kvno = kvno
        self.start = start
        self.end = end
        self.cell = cell
        self.viceid = viceid
        self.principal = principal
        self._session_key = session_key
        self._ticket = ticket
        self._backend = backend
        self.header_size = self.trailer_size = _rk.HEADER_SIZE[level]
        self._id = hashlib.sha256(b"rxkad-token\0" + kvno.to_bytes(4, "big")
                                  + session_key + ticket).digest()[:16]
        self.challenges = 0

    @classmethod
    def from_token(cls, token, level: int = LEVEL_CLEAR, **kw) -> "RxkadClient":
        """From a ``kafs.auth.token.RxkadToken`` (or anything with kvno,
        session_key, ticket, start, end and optionally cell, viceid)."""
        return cls(level, token.session_key, token.kvno, token.ticket,
                   start=getattr(token, "start", 0), end=getattr(token, "end", 0),
                   cell=getattr(token, "cell", None), viceid=getattr(token, "viceid", None),
                   **kw)

    def with_level(self, level: int) -> "RxkadClient":
        """The same token at another level."""
        return RxkadClient(level, self._session_key, self.kvno, self._ticket,
                           start=self.start, end=self.end, cell=self.cell,
                           viceid=self.viceid, principal=self.principal,
                           backend=self._backend, now=0)

    def __repr__(self) -> str:
        who = f" {self.principal}" if self.principal else ""
        cell = f" cell={self.cell}" if self.cell else ""
        return (f"<RxkadClient{who} level={LEVEL_NAMES[self.level]} kvno={self.kvno}"
                f"{cell} expires={_fmt_time(self.end)}>")

    __str__ = __repr__

    def expired(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return bool(self.end) and self.end != NEVERDATE and self.end <= now

    # -- SecurityClass
    def key(self):
        return (2, self.level, self._id)

    def new_connection(self, conn, server: bool) -> None:
        conn.sec = _ClientConn(_rk.ConnectionCrypto(self._session_key, conn.epoch, conn.cid,
                                                    self.level, backend=self._backend))
        conn.authenticated = True

    def check_packet(self, conn, call_number, channel, seq, cksum, payload):
        st = conn.sec
        st.packets_received += 1
        st.bytes_received += len(payload)
        return st.crypto.unseal(call_number, channel, seq, payload, cksum)

    def respond_to_challenge(self, conn, body):
        self.challenges += 1
        conn.sec.challenges += 1
        return _rk.respond_to_challenge(
            body, self._session_key, conn.epoch, conn.cid,
            conn.call_numbers_for_response(), self.level, self.kvno, self._ticket,
            backend=self._backend)

    def stats(self, conn) -> dict:
        st = conn.sec
        if st is None:
            return {"type": 3, "level": self.level, "flags": 1, "expires": 0}
        return {"type": 3, "level": self.level,
                "flags": 8 if st.crypto.checksum_seen else 0, "expires": 0,
                "packets_sent": st.packets_sent, "packets_received": st.packets_received,
                "bytes_sent": st.bytes_sent, "bytes_received": st.bytes_received}


_SERVER_NAMES = ("RxkadServer", "RxkadIdentity", "identity_of")


def __getattr__(name):
    if name in _SERVER_NAMES:
        from . import rxkad_server
        value = getattr(rxkad_server, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
