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
``call.connection.sec.identity`` (:func:`identity_of`).

Errors are OpenAFS's: RXKADTICKETLEN, RXKADUNKNOWNKEY (no key for the
kvno/enctype), RXKADBADTICKET (undecryptable or malformed ticket),
RXKADEXPIRED / RXKADNOAUTH (ticket times), RXKADSEALEDINCON (wrong session
key, response for another connection), RXKADOUTOFSEQUENCE (response to an
old challenge: a replay), RXKADLEVELFAIL.

Secrets (keys, tickets, session keys) never appear in ``repr``/``str``.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from types import ModuleType

from ..errors import AFSError
from ..rx.security import SecurityClass
from .crypto import kdf
from .crypto import rxkad as _rk
from .crypto import ticket as _tkt
from .crypto.rxkad import (LEVEL_AUTH, LEVEL_CLEAR, LEVEL_CRYPT, RXKADBADTICKET,
                           RXKADEXPIRED, RXKADLEVELFAIL, RXKADNOAUTH,
                           RXKADOUTOFSEQUENCE, RXKADUNKNOWNKEY)

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


class RxkadClient(SecurityClass):
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

    def check_packet(self, conn, header, payload):
        st = conn.sec
        st.packets_received += 1
        st.bytes_received += len(payload)
        return st.crypto.unseal(header.call, header.cid & 3, header.seq, payload, header.cksum)

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


# ====================================================================== server

@dataclass(frozen=True, slots=True)
class RxkadIdentity:
    """Who authenticated a server connection (OpenAFS ``rxkad_GetServerInfo``).

    ``viceid`` is filled only when the server class was given a
    ``viceid_lookup``; tickets do not carry it.
    """

    name: str
    instance: str
    cell: str
    kvno: int
    level: int
    start: int
    expires: int
    viceid: int | None = None

    @property
    def principal(self) -> str:
        p = self.name + ("." + self.instance if self.instance else "")
        return p + ("@" + self.cell if self.cell else "")

    @property
    def is_localauth(self) -> bool:
        """The super-user identity of ``-localauth`` tickets (``userok.c``):
        client ``afs`` with empty instance and empty cell."""
        return self.name == "afs" and not self.instance and not self.cell


class _ServerConn:
    __slots__ = ("challenge_id", "v2", "crypto", "level", "expires", "identity",
                 "packets_sent", "packets_received", "bytes_sent", "bytes_received",
                 "challenges")

    def __init__(self, level):
        self.challenge_id = None
        self.v2 = False
        self.crypto = None
        self.level = level
        self.expires = 0
        self.identity = None
        self.challenges = 0
        self.packets_sent = self.packets_received = 0
        self.bytes_sent = self.bytes_received = 0

    @property
    def authenticated(self) -> bool:
        return self.crypto is not None

    def __repr__(self):
        who = self.identity.principal if self.identity else "unauthenticated"
        return f"<rxkad server conn {who} level={LEVEL_NAMES.get(self.level, self.level)}>"


#: v5 service names OpenAFS maps to v4 (ticket5.c sconv_list):
#: name -> (v4 name, realm conversion: instance cut at the first '.')
_SCONV: dict[str, tuple[str, bool]] = {"kadmin": ("kadmin", False), "host": ("rcmd", True),
                                       "zephyr": ("zephyr", False)}
for _n in ("discuss rvdsrv sample olc pop sis rfs imap ftp ecat daemon gnats moira "
           "prms mandarin register changepw sms afpserver gdss news abs nfs tftp http "
           "khttp pgpsigner irc mandarin-agent write palladium smtp lmtp ldap acap "
           "argus mupdate").split():
    _SCONV.setdefault(_n, (_n, True))


class RxkadServer(SecurityClass):
    """The server side of rxkad.

    ``keys`` has ``des_key(kvno)`` and ``krb5_key(kvno, enctype)``
    (:class:`kafs.auth.keys.ServerKeys`).  ``min_level`` is the lowest level
    accepted (OpenAFS servers use 0; 2 for the "always encrypt" slot).
    ``user_ok(identity) -> bool`` may refuse a client (RXKADNOAUTH).
    ``clock`` gives wall-clock Unix seconds for ticket times.
    """

    index = 2
    name = "rxkad"
    debug_type = 3

    def __init__(self, keys, min_level: int = LEVEL_CLEAR, *, user_ok=None,
                 viceid_lookup=None, clock=time.time, check_dot: bool = True,
                 backend: ModuleType | None = None, index: int = 2):
        if min_level not in LEVEL_NAMES:
            raise ValueError(f"bad rxkad level {min_level!r}")
        self.keys = keys
        self.min_level = min_level
        self.user_ok = user_ok
        self.viceid_lookup = viceid_lookup
        self.clock = clock
        self.check_dot = check_dot
        self.index = index
        self._backend = backend
        self.header_size = self.trailer_size = 0
        self.stats_counts = {"challenges": 0, "responses": 0, "rejected": 0}

    def __repr__(self) -> str:
        return f"<RxkadServer min_level={LEVEL_NAMES[self.min_level]} keys={self.keys!r}>"

    def key(self):
        return (self.index, id(self))

    def new_connection(self, conn, server: bool) -> None:
        conn.sec = _ServerConn(self.min_level)
        conn.authenticated = False

    def make_challenge(self, conn, now) -> bytes:
        st = conn.sec
        if getattr(conn, "using_pkt_cksum", True):
            st.v2 = True
        if st.challenge_id is None:
            st.challenge_id = int.from_bytes(os.urandom(4), "big")
        st.challenges += 1
        self.stats_counts["challenges"] += 1
        return _rk.make_challenge(st.challenge_id, self.min_level, st.v2)

    def rechallenge(self, conn) -> None:
        """Forget the connection's authentication: the next CHALLENGE has a
        new nonce and calls wait for a new RESPONSE."""
        st = conn.sec
        st.challenge_id = None
        st.crypto = None
        conn.authenticated = False

    def verify_response(self, conn, body, now) -> None:
        try:
            self._verify(conn, body)
        except AFSError:
            self.stats_counts["rejected"] += 1
            raise

    def _verify(self, conn, body) -> None:
        st = conn.sec
        if st.challenge_id is None:
            raise AFSError(RXKADOUTOFSEQUENCE, "response without a challenge")
        if getattr(conn, "using_pkt_cksum", False):
            st.v2 = True
        resp = _rk.parse_response(body, st.v2)
        wall = int(self.clock())
        name, inst, cell, session_key, start, end = self._open_ticket(resp.kvno, resp.ticket,
                                                                      wall)
        code = _tkt.check_times(start, end, wall)
        if code == 0:
            raise AFSError(RXKADNOAUTH, "ticket not yet valid")
        if code == -1:
            raise AFSError(RXKADEXPIRED, "ticket expired")
        if code < -1:
            raise AFSError(RXKADBADTICKET, "ticket times are inconsistent")
        contents = _rk.open_response(resp, session_key, conn.epoch, conn.cid,
                                     backend=self._backend)
        if resp.v2:
            conn.adopt_call_numbers(contents.call_numbers)
        if contents.inc_challenge_id != (st.challenge_id + 1) & _M32:
            raise AFSError(RXKADOUTOFSEQUENCE, "response does not answer the current challenge")
        level = contents.level
        if level < st.level or level > LEVEL_CRYPT:
            raise AFSError(RXKADLEVELFAIL, f"level {level} refused")
        st.level = level
        st.crypto = _rk.ConnectionCrypto(session_key, conn.epoch, conn.cid, level,
                                         backend=self._backend)
        st.expires = end
        st.challenge_id = None
        conn.header_size = conn.trailer_size = _rk.HEADER_SIZE[level]
        viceid = None
        ident = RxkadIdentity(name, inst, cell, resp.kvno, level, start, end)
        if self.viceid_lookup is not None:
            viceid = self.viceid_lookup(ident)
            ident = RxkadIdentity(name, inst, cell, resp.kvno, level, start, end, viceid)
        st.identity = ident
        self.stats_counts["responses"] += 1
        if self.user_ok is not None and not self.user_ok(ident):
            raise AFSError(RXKADNOAUTH, f"{ident.principal} refused")
        conn.authenticated = True

    def _open_ticket(self, kvno: int, ticket: bytes, wall: int):
        if kvno in (kdf.TKT_TYPE_KERBEROS_V5, kdf.TKT_TYPE_KERBEROS_V5_ENCPART_ONLY):
            return self._open_ticket5(kvno, ticket, wall)
        key = self.keys.des_key(kvno)
        if key is None:
            raise AFSError(RXKADUNKNOWNKEY, f"no server key with kvno {kvno}")
        t = _tkt.decode_ticket(ticket, key)          # TicketError: RXKADBADTICKET
        return t.name, t.instance, t.cell, t.session_key, t.start, t.end

    def _open_ticket5(self, kvno: int, ticket: bytes, wall: int):
        from . import krb5ticket as k5
        try:
            if kvno == kdf.TKT_TYPE_KERBEROS_V5:
                enc = k5.decode_ticket(ticket).enc_part
            else:
                enc = k5.decode_encrypted_data(ticket)
        except k5.Krb5Error:
            raise AFSError(RXKADBADTICKET, "undecodable Kerberos 5 ticket") from None
        skvno = enc.kvno or 0
        if enc.etype in (1, 2, 3):
            key = self.keys.des_key(skvno)
        elif enc.etype in k5.SUPPORTED_ENCTYPES:
            key = self.keys.krb5_key(skvno, enc.etype)
        else:
            key = None
        if key is None:
            raise AFSError(RXKADUNKNOWNKEY,
                           f"no server key for kvno {skvno} enctype {enc.etype}")
        try:
            part = k5.decode_enc_ticket_part(k5.decrypt(enc.etype, key, k5.KU_TICKET,
                                                        enc.cipher))
        except k5.Krb5Error:
            raise AFSError(RXKADBADTICKET, "Kerberos 5 ticket does not decrypt") from None
        inst = ""
        if len(part.cname) == 2:
            c0, c1 = part.cname
            conv = _SCONV.get(c0)
            if conv is not None:
                name = conv[0]
                if conv[1]:
                    dot = c1.find(".")
                    if dot < 0 or dot >= 63:
                        raise AFSError(RXKADBADTICKET, "bad service principal instance")
                    inst = c1[:dot]
            else:
                name, inst = c0, c1
        elif len(part.cname) == 1:
            name = part.cname[0]
        else:
            raise AFSError(RXKADBADTICKET, "principal with more than two components")
        if self.check_dot and "." in part.cname[0]:
            raise AFSError(RXKADBADTICKET, "'.' in the first principal component")
        try:
            session_key = kdf.derive_des_key(part.keytype, part.key)
        except ValueError:
            raise AFSError(RXKADBADTICKET, "unusable ticket session key") from None
        start = part.starttime if part.starttime is not None else part.authtime
        if part.flag(k5.TKT_FLAG_INVALID):
            raise AFSError(RXKADNOAUTH, "ticket marked invalid")
        if wall > part.endtime:
            raise AFSError(RXKADEXPIRED, "ticket expired")
        return name[:63], inst[:63], part.crealm[:63], session_key, start, part.endtime

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

    def check_packet(self, conn, header, payload):
        st = conn.sec
        if st.crypto is None:
            raise AFSError(RXKADEXPIRED, "unauthenticated")
        if st.expires != NEVERDATE and self.clock() >= st.expires:
            raise AFSError(RXKADEXPIRED, "ticket expired")
        st.packets_received += 1
        st.bytes_received += len(payload)
        return st.crypto.unseal(header.call, header.cid & 3, header.seq, payload, header.cksum)

    def stats(self, conn) -> dict:
        st = conn.sec
        if st is None:
            return {"type": 3, "level": self.min_level, "flags": 1, "expires": 0}
        flags = (2 if st.crypto is not None else 0)
        if st.v2 or (st.crypto is not None and st.crypto.checksum_seen):
            flags |= 8
        return {"type": 3, "level": st.level, "flags": flags, "expires": st.expires,
                "packets_sent": st.packets_sent, "packets_received": st.packets_received,
                "bytes_sent": st.bytes_sent, "bytes_received": st.bytes_received}


def identity_of(call) -> RxkadIdentity | None:
    """The rxkad identity of a server call's connection (None for rxnull
    or before authentication)."""
    conn = getattr(call, "connection", call)
    st = getattr(conn, "sec", None)
    return getattr(st, "identity", None) if isinstance(st, _ServerConn) else None
