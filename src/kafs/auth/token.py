"""rxkad tokens: what aklog makes, the token store keeps and rxkad uses.

:class:`RxkadToken` is one cell's rxkad token (OpenAFS ``token_rxkad`` /
``ktc_token`` plus the cell name).  Its ``repr`` never shows the session
key or the ticket.

Serialized form (:func:`encode_token_set` / :func:`decode_token_set`) is
the XDR ``ktc_setTokenData`` of OpenAFS's ``src/auth/token.xg``, which is
also exactly what the Linux kernel returns when an ``rxrpc`` key is read
(``net/rxrpc/key.c``, ``rxrpc_read``)::

    int32   flags                       (1 = AFSTOKEN_EX_SETPAG)
    string  cell<64>
    uint32  ntokens (<= 8), then per token:
        opaque token<16384> containing:
            int32  type                 (2 = rxkad; others are skipped)
            int32  viceid
            int32  kvno                 (0..255 v4 key version, 213, 256)
            opaque key[8]               (fixed size: no length word)
            uint32 begintime
            uint32 endtime
            int32  primary_flag
            opaque ticket<12000>

The token store (:mod:`kafs.auth.store`) keeps one such record per cell.

The AFS id and the lifetime parity (OpenAFS ``SetRxkadViceId``,
``token_extractRxkad``): a token whose ``viceid`` is a real AFS id has an
odd lifetime (``end - start``), otherwise an even one; ``tokens`` prints
"User's (AFS ID n)" only for odd lifetimes with a non-zero start.
:meth:`RxkadToken.with_viceid` moves ``start`` by one second to get the
parity right, as OpenAFS does.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field, replace

from ..errors import DecodeError

__all__ = [
    "RxkadToken", "encode_token_set", "decode_token_set", "TokenSet",
    "AFSTOKEN_UNION_KAD", "AFSTOKEN_EX_SETPAG", "MAX_TICKET_LEN", "MAX_CELL_LEN",
    "ANONYMOUSID", "TKT_TYPE_KERBEROS_V5",
]

AFSTOKEN_UNION_NOAUTH = 0
AFSTOKEN_UNION_KAD = 2
AFSTOKEN_EX_SETPAG = 1
AFSTOKEN_LENGTH_MAX = 16384
AFSTOKEN_MAX = 8
MAX_CELL_LEN = 64
MAX_TICKET_LEN = 12000          # MAXKTCTICKETLEN / AFSTOKEN_RK_TIX_MAX
MIN_TICKET_LEN = 32             # MINKTCTICKETLEN (OpenAFS refuses shorter)
ANONYMOUSID = 32766             # the ptserver's "anonymous" id
TKT_TYPE_KERBEROS_V5 = 256      # kvno of an rxkad-k5 token (full DER ticket)


@dataclass(frozen=True, slots=True, repr=False)
class RxkadToken:
    """One cell's rxkad token.

    ``kvno`` is the ticket type (0..255: key version of a v4 ticket, 213:
    krb5 enc-part only, 256: complete DER krb5 ticket); ``session_key`` the
    8-byte fcrypt key; ``start``/``end`` Unix times; ``viceid`` the AFS id
    (0 when unknown); ``primary`` the token's primary flag.
    """

    cell: str
    viceid: int
    kvno: int
    session_key: bytes
    start: int
    end: int
    ticket: bytes
    primary: bool
    #: ktc_setTokenData flags of the set the token came in (1 = setpag)
    flags: int = 0
    #: where the token was read from ("keyring:user", "keyring:rxrpc", "file")
    source: str = field(default="", compare=False)

    def __post_init__(self):
        if not isinstance(self.session_key, (bytes, bytearray)) or len(self.session_key) != 8:
            raise ValueError("rxkad session key must be 8 bytes")
        if not isinstance(self.ticket, (bytes, bytearray)):
            raise ValueError("ticket must be bytes")
        if len(self.ticket) > MAX_TICKET_LEN:
            raise ValueError(f"ticket of {len(self.ticket)} bytes is too long")
        if len(self.cell.encode("utf-8", "surrogateescape")) > MAX_CELL_LEN:
            raise ValueError("cell name too long")

    def __repr__(self) -> str:
        return ("RxkadToken(cell=%r, viceid=%d, kvno=%d, start=%d, end=%d, "
                "primary=%r, ticket=<%d bytes>, session_key=<hidden>)"
                % (self.cell, self.viceid, self.kvno, self.start, self.end,
                   self.primary, len(self.ticket)))

    __str__ = __repr__

    # -- state ----------------------------------------------------------------
    def expired(self, now: float | None = None) -> bool:
        """True once ``end`` has passed (``tokens``: end <= now)."""
        if now is None:
            now = time.time()
        return self.end <= int(now)

    @property
    def has_afs_id(self) -> bool:
        """Whether ``viceid`` is a real AFS id (OpenAFS token_extractRxkad)."""
        return self.kvno == 999 or (self.start != 0 and ((self.end - self.start) & 1) == 1)

    @property
    def client_name(self) -> str:
        """The client name OpenAFS derives: "AFS ID n" or "Unix UID n"."""
        if self.has_afs_id:
            return "AFS ID %d" % self.viceid
        return "Unix UID %d" % self.viceid

    def with_viceid(self, viceid: int) -> "RxkadToken":
        """The token labelled with ``viceid`` (0: none), lifetime parity
        fixed by moving ``start`` one second later (OpenAFS SetRxkadViceId)."""
        start = self.start
        odd = ((self.end - start) & 1) == 1
        if (viceid and not odd) or (not viceid and odd):
            start += 1
        return replace(self, viceid=int(viceid), start=start)

    def same_credentials(self, other: "RxkadToken | None") -> bool:
        """OpenAFS ``rxkadTokenEqual``: same kvno, session key and ticket."""
        return (other is not None and self.kvno == other.kvno
                and self.session_key == other.session_key
                and self.ticket == other.ticket)

    # -- serialization ----------------------------------------------------------
    def encode(self) -> bytes:
        """This token as a one-token ``ktc_setTokenData``."""
        return encode_token_set(self.cell, [self], self.flags)

    @classmethod
    def decode(cls, data: bytes, source: str = "") -> "RxkadToken":
        """The first rxkad token of an XDR ``ktc_setTokenData``."""
        ts = decode_token_set(data, source)
        if not ts.tokens:
            raise DecodeError(f"no rxkad token in the token set for {ts.cell}")
        return ts.tokens[0]


@dataclass(frozen=True, slots=True)
class TokenSet:
    """A decoded ``ktc_setTokenData``: flags, cell and its rxkad tokens
    (tokens of other types are counted in ``other``)."""

    flags: int
    cell: str
    tokens: tuple
    other: int = 0


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _opaque(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b + _pad(len(b))


def _encode_rxkad(t: RxkadToken) -> bytes:
    return (struct.pack(">iii", AFSTOKEN_UNION_KAD, t.viceid, t.kvno)
            + bytes(t.session_key)
            + struct.pack(">IIi", t.start & 0xffffffff, t.end & 0xffffffff,
                          1 if t.primary else 0)
            + _opaque(bytes(t.ticket)))


def encode_token_set(cell: str, tokens, flags: int = 0) -> bytes:
    """XDR ``ktc_setTokenData`` for ``cell`` holding ``tokens``."""
    tokens = list(tokens)
    if len(tokens) > AFSTOKEN_MAX:
        raise ValueError("too many tokens in one set")
    c = cell.encode("utf-8", "surrogateescape")
    if len(c) > MAX_CELL_LEN:
        raise ValueError("cell name too long")
    out = [struct.pack(">i", flags), _opaque(c), struct.pack(">I", len(tokens))]
    for t in tokens:
        out.append(_opaque(_encode_rxkad(t)))
    return b"".join(out)


class _Reader:
    __slots__ = ("b", "pos")

    def __init__(self, b: bytes):
        self.b = memoryview(bytes(b))
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.b):
            raise DecodeError("token data too short")
        out = bytes(self.b[self.pos:self.pos + n])
        self.pos += n
        return out

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def i32(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def opaque(self, limit: int) -> bytes:
        n = self.u32()
        if n > limit:
            raise DecodeError(f"token field of {n} bytes exceeds {limit}")
        out = self.take(n)
        pad = self.take(-n % 4)
        if pad.strip(b"\0"):
            raise DecodeError("non-zero XDR padding in token data")
        return out


def decode_token_set(data: bytes, source: str = "") -> TokenSet:
    """Decode an XDR ``ktc_setTokenData`` (raises :class:`DecodeError`)."""
    r = _Reader(data)
    flags = r.i32()
    cell = r.opaque(MAX_CELL_LEN).decode("utf-8", "surrogateescape")
    n = r.u32()
    if n > AFSTOKEN_MAX:
        raise DecodeError(f"token set with {n} tokens")
    toks = []
    other = 0
    for _ in range(n):
        raw = r.opaque(AFSTOKEN_LENGTH_MAX)
        t = _Reader(raw)
        kind = t.i32()
        if kind != AFSTOKEN_UNION_KAD:
            other += 1
            continue
        viceid = t.i32()
        kvno = t.i32()
        key = t.take(8)
        start = t.u32()
        end = t.u32()
        primary = t.i32()
        ticket = t.opaque(MAX_TICKET_LEN)
        toks.append(RxkadToken(cell=cell, viceid=viceid, kvno=kvno, session_key=key,
                               start=start, end=end, ticket=ticket,
                               primary=bool(primary), flags=flags, source=source))
    if r.pos != len(r.b):
        raise DecodeError("trailing bytes after the token set")
    return TokenSet(flags, cell, tuple(toks), other)


def token_from_krb5(cell: str, ticket: bytes, enctype: int, key: bytes,
                    start: int, end: int, viceid: int = 0) -> RxkadToken:
    """The rxkad-k5 token aklog builds from a Kerberos 5 service ticket:
    kvno 256, the complete DER ticket, the session key through rxkad-kdf
    (:func:`kafs.auth.crypto.kdf.derive_des_key`), labelled with ``viceid``
    (OpenAFS ``token_importRxkadViceId``)."""
    from .crypto.kdf import rxkad_k5_token
    k = rxkad_k5_token(ticket, enctype, key, start, end)
    t = RxkadToken(cell=cell.lower(), viceid=0, kvno=k.kvno, session_key=k.session_key,
                   start=int(start), end=int(end), ticket=k.ticket, primary=False)
    return t.with_viceid(viceid)
