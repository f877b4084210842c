"""The server side of rxkad: :class:`RxkadServer` (CHALLENGE, RESPONSE
checking with the server keys, then sealing at the client's level) and the
identity of an authenticated connection (:class:`RxkadIdentity`,
:func:`identity_of`).  :mod:`kafs.auth.rxkad` re-exports these names.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from types import ModuleType

from ..errors import AFSError
from ..rx.security import SecurityClass
from .crypto import kdf
from .crypto import rxkad as _rk
from .crypto import ticket as _tkt
from .crypto.rxkad import (LEVEL_CLEAR, LEVEL_CRYPT, RXKADBADTICKET, RXKADEXPIRED, RXKADLEVELFAIL,
                           RXKADNOAUTH, RXKADOUTOFSEQUENCE, RXKADUNKNOWNKEY)
from .rxkad import _M32, LEVEL_NAMES, NEVERDATE, _Sealing

__all__ = ["RxkadServer", "RxkadIdentity", "identity_of"]


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


class RxkadServer(_Sealing, SecurityClass):
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

    def check_packet(self, conn, call_number, channel, seq, cksum, payload):
        st = conn.sec
        if st.crypto is None:
            raise AFSError(RXKADEXPIRED, "unauthenticated")
        if st.expires != NEVERDATE and self.clock() >= st.expires:
            raise AFSError(RXKADEXPIRED, "ticket expired")
        st.packets_received += 1
        st.bytes_received += len(payload)
        return st.crypto.unseal(call_number, channel, seq, payload, cksum)

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
