"""rxkad's per-connection cryptography: preSeq, header checksums, sealing
DATA payloads per level, CHALLENGE and RESPONSE bodies.

Everything here is a pure function of bytes and integers (no Rx objects,
no clock): see the package docstring (:mod:`kafs.auth.crypto`) for how the
rxkad security class calls it.  Every function that runs fcrypt takes an
optional ``backend`` (a module from :func:`kafs.auth.crypto.fcrypt.backends`);
by default the active one (C when built) is used.

Errors that OpenAFS answers by aborting the connection are raised as
:class:`kafs.errors.AFSError` with the rxkad code (RXKADSEALEDINCON,
RXKADDATALEN, RXKADPACKETSHORT, RXKADLEVELFAIL, RXKADTICKETLEN...).
"""

from __future__ import annotations

from typing import NamedTuple
from struct import Struct
from types import ModuleType

from kafs.errors import AFSError

from . import fcrypt as _fcrypt

__all__ = [
    "LEVEL_CLEAR", "LEVEL_AUTH", "LEVEL_CRYPT", "HEADER_SIZE",
    "RXKAD_SECURITY_INDEX", "compute_pre_seq", "packet_checksum",
    "seal_payload", "unseal_payload", "sealed_length", "ConnectionCrypto",
    "Challenge", "make_challenge", "parse_challenge", "response_checksum",
    "make_response", "respond_to_challenge", "Response", "parse_response",
    "ResponseContents", "open_response",
    "RXKADINCONSISTENCY", "RXKADPACKETSHORT", "RXKADLEVELFAIL",
    "RXKADTICKETLEN", "RXKADOUTOFSEQUENCE", "RXKADNOAUTH", "RXKADBADKEY",
    "RXKADBADTICKET", "RXKADUNKNOWNKEY", "RXKADEXPIRED", "RXKADSEALEDINCON",
    "RXKADDATALEN", "RXKADILLEGALLEVEL",
]

# rxkad com_err codes (table RXK, src/rxkad/rxkad_errs.et)
RXKADINCONSISTENCY = 19270400
RXKADPACKETSHORT = 19270401
RXKADLEVELFAIL = 19270402
RXKADTICKETLEN = 19270403
RXKADOUTOFSEQUENCE = 19270404
RXKADNOAUTH = 19270405
RXKADBADKEY = 19270406
RXKADBADTICKET = 19270407
RXKADUNKNOWNKEY = 19270408
RXKADEXPIRED = 19270409
RXKADSEALEDINCON = 19270410
RXKADDATALEN = 19270411
RXKADILLEGALLEVEL = 19270412

LEVEL_CLEAR = 0
LEVEL_AUTH = 1
LEVEL_CRYPT = 2
#: security header bytes per level (the trailer reserve is the same number)
HEADER_SIZE = {LEVEL_CLEAR: 0, LEVEL_AUTH: 4, LEVEL_CRYPT: 8}
RXKAD_SECURITY_INDEX = 2
CHALLENGE_VERSION = 2

_M32 = 0xFFFFFFFF
_I = Struct(">I")
_II = Struct(">II")
_ENDPOINT = Struct(">IIII")
_CHAL_V2 = Struct(">IIII")          # version, challengeID, level, spare
_V2_HEAD = Struct(">II")            # version, spare
_V2_PLAIN = Struct(">IIIIIIIIII")   # epoch, cid, cksum, index, calls[4], incID, level
_TAIL = Struct(">II")               # kvno, ticketLen
V2_RESPONSE_SIZE = 56
OLD_RESPONSE_SIZE = 16
MIN_TICKET_LEN = 32
MAX_TICKET_LEN = 12000


def _be(backend: ModuleType | None) -> ModuleType:
    return backend if backend is not None else _fcrypt


def _key8(key) -> bytes:
    key = bytes(memoryview(key))
    if len(key) != 8:
        raise ValueError(f"rxkad session key must be 8 bytes, not {len(key)}")
    return key


# ---------------------------------------------------------------- DATA packets

def compute_pre_seq(session_key, epoch: int, cid: int,
                    security_index: int = RXKAD_SECURITY_INDEX,
                    backend: ModuleType | None = None) -> bytes:
    """The connection's 8-byte preSeq (OpenAFS ``rxkad_DeriveXORInfo``).

    The endpoint block ``epoch | cid & ~3 | 0 | securityIndex`` is
    PCBC-encrypted under the session key with IV = the key; the last 8
    bytes of the result are kept.
    """
    key = _key8(session_key)
    block = _ENDPOINT.pack(epoch & _M32, cid & 0xFFFFFFFC, 0, security_index & _M32)
    return _be(backend).pcbc_encrypt(key, key, block)[8:16]


def packet_checksum(session_key, pre_seq, call_number: int, cid: int, seq: int,
                    backend: ModuleType | None = None) -> int:
    """The 16-bit header checksum (never 0) of a DATA packet; ``cid`` is the
    packet's connection id including the channel bits."""
    return _be(backend).header_checksum(_key8(session_key), pre_seq,
                                        call_number, cid, seq)


def sealed_length(level: int, length: int) -> int:
    """Wire payload length for ``length`` bytes of user data at ``level``."""
    if level == LEVEL_CLEAR:
        return length
    if level == LEVEL_AUTH:
        return max(8, length + 4)
    if level == LEVEL_CRYPT:
        return (length + 8 + 7) & ~7
    raise ValueError(f"bad rxkad level {level}")


def _seal_word(call_number: int, seq: int, length: int) -> bytes:
    return _I.pack((((seq ^ call_number) & 0xFFFF) << 16) | (length & 0xFFFF))


def seal_payload(level: int, session_key, call_number: int, seq: int, payload,
                 backend: ModuleType | None = None) -> bytes:
    """Outgoing DATA payload at ``level`` (OpenAFS ``rxkad_PreparePacket``).

    clear: unchanged.  auth: the 4-byte sealed length word is prepended,
    the result zero-padded to at least 8 bytes and the first 8 bytes
    ECB-encrypted.  crypt: the length word and 4 zero bytes are prepended,
    the result zero-padded to a multiple of 8 and PCBC-encrypted with
    IV = the session key.
    """
    payload = bytes(payload)
    if level == LEVEL_CLEAR:
        return payload
    key = _key8(session_key)
    if len(payload) > 0xFFFF:
        raise ValueError("an rxkad packet carries at most 65535 bytes")
    word = _seal_word(call_number, seq, len(payload))
    be = _be(backend)
    if level == LEVEL_AUTH:
        buf = word + payload
        if len(buf) < 8:
            buf += bytes(8 - len(buf))
        return be.ecb_encrypt(key, buf[:8]) + buf[8:]
    if level == LEVEL_CRYPT:
        return be.pcbc_encrypt(key, key, word + b"\0\0\0\0" + payload)
    raise ValueError(f"bad rxkad level {level}")


def unseal_payload(level: int, session_key, call_number: int, seq: int, wire,
                   backend: ModuleType | None = None) -> bytes:
    """Inverse of :func:`seal_payload` (OpenAFS ``rxkad_CheckPacket`` after
    the checksum): returns the user data.

    Raises AFSError RXKADSEALEDINCON when the sealed word does not match
    ``(seq ^ call) & 0xffff`` (or when an auth packet is shorter than 8 bytes
    or a crypt packet is not a non-empty multiple of 8 bytes: OpenAFS would
    decrypt bytes past the data there), and RXKADDATALEN when the sealed
    length exceeds what arrived.
    """
    wire = bytes(wire)
    if level == LEVEL_CLEAR:
        return wire
    key = _key8(session_key)
    be = _be(backend)
    if level == LEVEL_AUTH:
        if len(wire) < 8:
            raise AFSError(RXKADSEALEDINCON, "auth packet shorter than 8 bytes")
        plain = be.ecb_decrypt(key, wire[:8]) + wire[8:]
        hdr = 4
    elif level == LEVEL_CRYPT:
        if not wire or len(wire) % 8:
            raise AFSError(RXKADSEALEDINCON,
                           f"crypt packet of {len(wire)} bytes is not whole blocks")
        plain = be.pcbc_decrypt(key, key, wire)
        hdr = 8
    else:
        raise ValueError(f"bad rxkad level {level}")
    word = _I.unpack_from(plain)[0]
    if word >> 16 != (seq ^ call_number) & 0xFFFF:
        raise AFSError(RXKADSEALEDINCON, "sealed sequence word mismatch")
    length = word & 0xFFFF
    if hdr + length > len(plain):
        raise AFSError(RXKADDATALEN, f"sealed length {length} > {len(plain) - hdr}")
    return plain[hdr:hdr + length]


_UNSEAL_ERRORS = {
    -1: (RXKADSEALEDINCON, "bad packet header checksum"),
    -2: (RXKADSEALEDINCON, "sealed sequence word mismatch"),
    -3: (RXKADSEALEDINCON, "sealed packet too short or not whole blocks"),
    -4: (RXKADDATALEN, "sealed length exceeds the packet"),
}


class ConnectionCrypto:
    """The per-connection rxkad state that DATA packets need.

    ``cid`` is the connection id (channel bits are ignored here; the packet
    functions take the channel).  ``checksum_seen`` follows OpenAFS: received
    checksums are verified only once a non-zero one has arrived.

    With the C backend a packet is sealed or unsealed in one call
    (``rxkad_seal`` / ``rxkad_unseal``: checksum, length word, cipher);
    :meth:`seal_many` seals a run of consecutive packets of one call at
    once (crypt: several PCBC chains interleaved).  The pure-Python backend
    takes the step-by-step path; the results are identical.
    """

    __slots__ = ("session_key", "epoch", "cid", "security_index", "level",
                 "pre_seq", "checksum_seen", "_be", "_seal", "_unseal")

    def __init__(self, session_key, epoch: int, cid: int, level: int,
                 security_index: int = RXKAD_SECURITY_INDEX,
                 backend: ModuleType | None = None):
        if level not in HEADER_SIZE:
            raise ValueError(f"bad rxkad level {level}")
        self.session_key = _key8(session_key)
        self.epoch = epoch & _M32
        self.cid = cid & 0xFFFFFFFC
        self.security_index = security_index
        self.level = level
        self._be = _be(backend)
        self._seal = getattr(self._be, "rxkad_seal", None)
        self._unseal = getattr(self._be, "rxkad_unseal", None)
        self.pre_seq = compute_pre_seq(self.session_key, epoch, cid,
                                       security_index, self._be)
        self.checksum_seen = False

    @property
    def header_size(self) -> int:
        return HEADER_SIZE[self.level]

    def checksum(self, call_number: int, channel: int, seq: int) -> int:
        return self._be.header_checksum(self.session_key, self.pre_seq, call_number,
                                        self.cid | (channel & 3), seq)

    def seal(self, call_number: int, channel: int, seq: int, payload) -> tuple[bytes, int]:
        """Outgoing DATA: ``(wire payload, header checksum)``."""
        if self._seal is not None:
            return self._seal(self.session_key, self.pre_seq, self.level, call_number,
                              self.cid | (channel & 3), seq, (payload,))[0]
        return (seal_payload(self.level, self.session_key, call_number, seq,
                             payload, self._be),
                self.checksum(call_number, channel, seq))

    def seal_many(self, call_number: int, channel: int, seq: int,
                  payloads) -> list[tuple[bytes, int]]:
        """:meth:`seal` of ``payloads[i]`` with sequence number ``seq + i``."""
        if self._seal is not None:
            return self._seal(self.session_key, self.pre_seq, self.level, call_number,
                              self.cid | (channel & 3), seq, payloads)
        return [self.seal(call_number, channel, seq + i, p)
                for i, p in enumerate(payloads)]

    def unseal(self, call_number: int, channel: int, seq: int, wire,
               cksum: int) -> bytes:
        """Incoming DATA: check the header checksum, return the user data."""
        if cksum:
            self.checksum_seen = True
        if self._unseal is not None:
            r = self._unseal(self.session_key, self.pre_seq, self.level, call_number,
                             self.cid | (channel & 3), seq, wire, cksum,
                             self.checksum_seen)
            if r.__class__ is int:
                code, why = _UNSEAL_ERRORS[r]
                raise AFSError(code, why)
            return r
        if self.checksum_seen and cksum != self.checksum(call_number, channel, seq):
            raise AFSError(RXKADSEALEDINCON, "bad packet header checksum")
        return unseal_payload(self.level, self.session_key, call_number, seq,
                              wire, self._be)


# ---------------------------------------------------------------- challenge

class Challenge(NamedTuple):
    version: int          # 2, or 0 for the old 8-byte form
    challenge_id: int
    min_level: int


def make_challenge(challenge_id: int, min_level: int, v2: bool = True) -> bytes:
    """A CHALLENGE body: v2 (16 bytes) or the old 8-byte form."""
    if v2:
        return _CHAL_V2.pack(CHALLENGE_VERSION, challenge_id & _M32, min_level & _M32, 0)
    return _II.pack(challenge_id & _M32, min_level & _M32)


def parse_challenge(body) -> Challenge:
    """Parse a CHALLENGE body (more than 8 bytes means v2); a short body
    raises AFSError RXKADPACKETSHORT."""
    body = bytes(body)
    if len(body) > 8:
        if len(body) < _CHAL_V2.size:
            raise AFSError(RXKADPACKETSHORT, "short v2 challenge")
        version, cid, level, _ = _CHAL_V2.unpack_from(body)
        return Challenge(version, cid, _signed(level))
    if len(body) < 8:
        raise AFSError(RXKADPACKETSHORT, "short challenge")
    cid, level = _II.unpack(body)
    return Challenge(0, cid, _signed(level))


def _signed(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v


# ---------------------------------------------------------------- response

def response_checksum(response56) -> int:
    """rxkad's checksum over the 56-byte v2 response in plaintext, with the
    checksum field (bytes 16..19) taken as zero."""
    b = bytearray(response56[:V2_RESPONSE_SIZE])
    if len(b) != V2_RESPONSE_SIZE:
        raise ValueError("a v2 response header is 56 bytes")
    b[16:20] = b"\0\0\0\0"
    ck = 1000003
    for x in b:
        ck = (x + ck * 0x10204081) & _M32
    return ck


def _check_ticket(ticket) -> bytes:
    ticket = bytes(ticket)
    if len(ticket) > MAX_TICKET_LEN:
        raise ValueError(f"ticket of {len(ticket)} bytes is too long")
    return ticket


def make_response(session_key, epoch: int, cid: int, call_numbers, challenge_id: int,
                  level: int, kvno: int, ticket, v2: bool = True,
                  security_index: int = RXKAD_SECURITY_INDEX,
                  backend: ModuleType | None = None) -> bytes:
    """A RESPONSE body (OpenAFS ``rxkad_GetResponse``), ticket appended.

    v2: ``version=2, spare, PCBC{epoch, cid&~3, cksum, index, calls[4],
    challengeID+1, level}, kvno, ticketLen``.  Old: ``ECB{challengeID+1,
    level}, kvno, ticketLen``.
    """
    key = _key8(session_key)
    ticket = _check_ticket(ticket)
    be = _be(backend)
    tail = _TAIL.pack(kvno & _M32, len(ticket))
    inc = (challenge_id + 1) & _M32
    if not v2:
        return be.ecb_encrypt(key, _II.pack(inc, level & _M32)) + tail + ticket
    calls = list(call_numbers)
    if len(calls) != 4 or any(not 0 <= c <= 0x7FFFFFFF for c in calls):
        raise ValueError("need four call numbers in 0..2^31-1")
    plain = bytearray(_V2_HEAD.pack(CHALLENGE_VERSION, 0)
                      + _V2_PLAIN.pack(epoch & _M32, cid & 0xFFFFFFFC, 0,
                                       security_index & _M32, *calls, inc, level & _M32)
                      + tail)
    plain[16:20] = _I.pack(response_checksum(plain))
    return bytes(plain[:8]) + be.pcbc_encrypt(key, key, plain[8:48]) + bytes(plain[48:]) + ticket


def respond_to_challenge(body, session_key, epoch: int, cid: int, call_numbers,
                         level: int, kvno: int, ticket,
                         security_index: int = RXKAD_SECURITY_INDEX,
                         backend: ModuleType | None = None) -> bytes:
    """Client side in one step: parse the CHALLENGE, refuse a minimum level
    above ours (AFSError RXKADLEVELFAIL) and build the matching RESPONSE."""
    body = bytes(body)
    ch = parse_challenge(body)
    if ch.min_level > level:
        raise AFSError(RXKADLEVELFAIL, f"server wants level {ch.min_level}")
    return make_response(session_key, epoch, cid, call_numbers, ch.challenge_id,
                         level, kvno, ticket, v2=len(body) > 8,
                         security_index=security_index, backend=backend)


class Response(NamedTuple):
    """A RESPONSE split into its cleartext parts (nothing decrypted yet)."""

    v2: bool
    header: bytes         # v2: the 56 bytes; old: the 16 bytes
    kvno: int
    ticket: bytes


def parse_response(body, v2: bool = True) -> Response:
    """Split a RESPONSE body (server side).  ``v2`` is whether the server
    sent a v2 challenge (OpenAFS: whether it has seen packet checksums).

    Raises AFSError RXKADPACKETSHORT or RXKADTICKETLEN like OpenAFS's
    ``rxkad_CheckResponse``.
    """
    body = bytes(body)
    size = V2_RESPONSE_SIZE if v2 else OLD_RESPONSE_SIZE
    if len(body) < size:
        raise AFSError(RXKADPACKETSHORT, "short response")
    kvno, tlen = _TAIL.unpack_from(body, size - 8)
    if v2:
        if len(body) < size + tlen:
            raise AFSError(RXKADPACKETSHORT, "response shorter than its ticket")
    elif len(body) != size + tlen:
        raise AFSError(RXKADPACKETSHORT, "old response length does not match its ticket")
    if not MIN_TICKET_LEN <= tlen <= MAX_TICKET_LEN:
        raise AFSError(RXKADTICKETLEN, f"ticket length {tlen}")
    return Response(v2, body[:size], kvno, body[size:size + tlen])


class ResponseContents(NamedTuple):
    inc_challenge_id: int          # challengeID + 1 as sent
    level: int
    call_numbers: tuple[int, ...]  # v2 only; () for the old form


def open_response(response: Response, session_key, epoch: int, cid: int,
                  security_index: int = RXKAD_SECURITY_INDEX,
                  backend: ModuleType | None = None) -> ResponseContents:
    """Decrypt a RESPONSE with the session key from its ticket and check it
    (v2: checksum, endpoint, call numbers).  Raises AFSError
    RXKADSEALEDINCON on any mismatch.  The caller still checks the
    challenge id (RXKADOUTOFSEQUENCE) and level (RXKADLEVELFAIL).
    """
    key = _key8(session_key)
    be = _be(backend)
    if not response.v2:
        inc, level = _II.unpack(be.ecb_decrypt(key, response.header[:8]))
        return ResponseContents(inc, _signed(level), ())
    h = response.header
    plain = h[:8] + be.pcbc_decrypt(key, key, h[8:48]) + h[48:56]
    (r_epoch, r_cid, r_ck, r_index, c0, c1, c2, c3, inc, level) = _V2_PLAIN.unpack_from(plain, 8)
    if r_ck != response_checksum(plain):
        raise AFSError(RXKADSEALEDINCON, "response checksum mismatch")
    if (r_epoch, r_cid, r_index) != (epoch & _M32, cid & 0xFFFFFFFC, security_index & _M32):
        raise AFSError(RXKADSEALEDINCON, "response is for another connection")
    calls = (c0, c1, c2, c3)
    if any(c & 0x80000000 for c in calls):
        raise AFSError(RXKADSEALEDINCON, "negative call number in response")
    return ResponseContents(inc, _signed(level), calls)
