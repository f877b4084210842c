"""Kerberos-4-style rxkad tickets: build, seal, open and parse.

Layout (protocol-notes section 2.8; OpenAFS ``tkt_MakeTicket`` /
``tkt_DecodeTicket``): flags byte, NUL-terminated client name, instance and
cell, 4-byte host address, 8-byte session key, 1-byte Kerberos-4 lifetime,
4-byte start time, NUL-terminated server name and instance, zero padding to
a multiple of 8; the whole sealed with DES-PCBC under the server key (IV =
the key).  Integers are big-endian unless flag bit 0 says little-endian.

Also here: the lifetime byte encoding (:func:`time_to_life`,
:func:`life_to_time`) and OpenAFS's ticket time check
(:func:`check_times`).

Decoding never raises anything but :class:`TicketError`, a
:class:`kafs.errors.DecodeError` that is also an
:class:`kafs.errors.AFSError` carrying RXKADBADTICKET (or RXKADTICKETLEN),
so a server can abort the connection with ``err.code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from struct import Struct

from kafs.errors import AFSError, DecodeError

from .des import des_pcbc_decrypt, des_pcbc_encrypt

__all__ = [
    "Ticket", "TicketError", "encode_ticket", "decode_ticket",
    "assemble_ticket", "parse_ticket", "time_to_life", "life_to_time",
    "check_times", "LIFETIMES", "NEVERDATE", "MIN_TICKET_LEN",
    "MAX_TICKET_LEN", "MAX_NAME_LEN", "MAX_TICKET_LIFETIME",
    "TIME_UNCERTAINTY",
]

RXKADTICKETLEN = 19270403
RXKADBADTICKET = 19270407

NEVERDATE = 0xFFFFFFFF
MIN_TICKET_LEN = 32            # MINKTCTICKETLEN
MAX_TICKET_LEN = 12000         # MAXKTCTICKETLEN
MAX_NAME_LEN = 64              # MAXKTCNAMELEN, including the NUL
MAX_TICKET_LIFETIME = 30 * 24 * 60 * 60   # MAXKTCTICKETLIFETIME
TIME_UNCERTAINTY = 15 * 60     # KTC_TIME_UNCERTAINTY
_LIFE_NOEXPIRE = 0xFF
_LIFE_MINFIXED = 0x80
_LIFE_MAXFIXED = 0xBF

# Seconds for lifetime bytes 0x80..0xBF (OpenAFS src/rxkad/lifetimes.h).
LIFETIMES = (
    38400, 41055, 43894, 46929, 50174, 53643, 57352, 61318,
    65558, 70091, 74937, 80119, 85658, 91581, 97914, 104684,
    111922, 119661, 127935, 136781, 146239, 156350, 167161, 178720,
    191077, 204289, 218415, 233517, 249664, 266926, 285383, 305116,
    326213, 348769, 372885, 398668, 426234, 455705, 487215, 520904,
    556921, 595430, 636601, 680618, 727680, 777995, 831789, 889303,
    950794, 1016537, 1086825, 1161973, 1242318, 1328218, 1420057, 1518247,
    1623226, 1735464, 1855462, 1983758, 2120925, 2267576, 2424367, 2592000,
)
assert len(LIFETIMES) == _LIFE_MAXFIXED - _LIFE_MINFIXED + 1

_BE32 = Struct(">I")
_LE32 = Struct("<I")


class TicketError(DecodeError, AFSError):
    """A ticket that cannot be built or opened; ``code`` is an rxkad error."""

    def __init__(self, detail: str, code: int = RXKADBADTICKET):
        AFSError.__init__(self, code, detail)


@dataclass(frozen=True, slots=True)
class Ticket:
    """The contents of a Kerberos-4-style rxkad ticket.

    ``host`` is the IPv4 address as an unsigned 32-bit integer; ``end`` is
    derived from ``start`` and the lifetime byte when decoding, so it is
    rounded to what the lifetime byte can express.  Names are ``str``
    (decoded as latin-1, so any byte survives a round trip).
    """

    name: str
    instance: str
    cell: str
    host: int
    session_key: bytes
    start: int
    end: int
    server_name: str = "afs"
    server_instance: str = ""


# ---------------------------------------------------------------- lifetimes

def life_to_time(start: int, life: int) -> int:
    """End time for a start time and a Kerberos-4 lifetime byte."""
    if life == _LIFE_NOEXPIRE:
        return NEVERDATE
    if life < _LIFE_MINFIXED:
        return (start + life * 300) & 0xFFFFFFFF
    if life > _LIFE_MAXFIXED:
        return (start + MAX_TICKET_LIFETIME) & 0xFFFFFFFF
    return (start + LIFETIMES[life - _LIFE_MINFIXED]) & 0xFFFFFFFF


def time_to_life(start: int, end: int) -> int:
    """Lifetime byte for ``end - start`` (0 means "not expressible").

    0xFF for ``end == NEVERDATE``; below 38400 s, rounded up to 5-minute
    units; otherwise the smallest table entry not shorter than the wanted
    lifetime.  Lifetimes over 30 days or not positive give 0.
    """
    if end == NEVERDATE:
        return _LIFE_NOEXPIRE
    lifetime = end - start
    if lifetime > MAX_TICKET_LIFETIME or lifetime <= 0:
        return 0
    if lifetime < LIFETIMES[0]:
        return (lifetime + 299) // 300
    for i, secs in enumerate(LIFETIMES):
        if secs >= lifetime:
            return _LIFE_MINFIXED + i
    return 0                                  # pragma: no cover - table ends at the max


def check_times(start: int, end: int, now: int) -> int:
    """OpenAFS ``tkt_CheckTimes``.

    Returns -2 (inconsistent or long expired), -1 (expired recently),
    0 (not yet valid), 1 (valid, no expiry) or 2 (valid).  A server maps
    0 to RXKADNOAUTH, -1 to RXKADEXPIRED and -2 to RXKADBADTICKET.
    """
    if start >= end:
        return -2
    if start > now + TIME_UNCERTAINTY + MAX_TICKET_LIFETIME:
        return -2
    if start != 0 and end != NEVERDATE and end - start > MAX_TICKET_LIFETIME:
        return -2
    if end != NEVERDATE and end + TIME_UNCERTAINTY < now:
        if start != 0 and now - start > MAX_TICKET_LIFETIME + 24 * 60 * 60:
            return -2
        return -1
    active = 1 if (start == 0 or start - TIME_UNCERTAINTY <= now) else 0
    if start == 0 or end == NEVERDATE:
        return active
    return active * 2


# ---------------------------------------------------------------- plaintext

def _put_str(out: bytearray, s: str, minimum: int, what: str) -> None:
    b = s.encode("latin-1") if isinstance(s, str) else bytes(s)
    if b"\0" in b or not (minimum <= len(b) < MAX_NAME_LEN):
        raise TicketError(f"bad {what} {s!r} for a ticket")
    out += b + b"\0"


def assemble_ticket(t: Ticket) -> bytes:
    """The ticket plaintext, unpadded (OpenAFS ``assemble_athena_ticket``)."""
    if len(t.session_key) != 8:
        raise TicketError("session key must be 8 bytes")
    life = time_to_life(t.start, t.end)
    if life == 0:
        raise TicketError(f"lifetime {t.end - t.start} cannot be expressed")
    out = bytearray(b"\0")                     # flags: big-endian integers
    _put_str(out, t.name, 1, "name")
    _put_str(out, t.instance, 0, "instance")
    _put_str(out, t.cell, 0, "cell")
    out += _BE32.pack(t.host & 0xFFFFFFFF)
    out += t.session_key
    out.append(life)
    out += _BE32.pack(t.start & 0xFFFFFFFF)
    _put_str(out, t.server_name, 1, "server name")
    _put_str(out, t.server_instance, 0, "server instance")
    return bytes(out)


def _get_str(buf: bytes, pos: int, minimum: int, what: str) -> tuple[str, int]:
    nul = buf.find(b"\0", pos)
    if nul < 0:
        raise TicketError(f"unterminated {what}")
    n = nul - pos
    if n < minimum or n >= MAX_NAME_LEN:
        raise TicketError(f"{what} length {n} out of range")
    return buf[pos:nul].decode("latin-1"), nul + 1


def parse_ticket(plain: bytes, ticket_len: int | None = None) -> Ticket:
    """Parse a decrypted ticket (OpenAFS ``decode_athena_ticket``).

    ``ticket_len`` is the sealed length; the content rounded up to 8 must
    equal it, or it must be exactly 56 (as OpenAFS accepts).  Defaults to
    ``len(plain)``.
    """
    plain = bytes(plain)
    if ticket_len is None:
        ticket_len = len(plain)
    pos = 1
    if not plain:
        raise TicketError("empty ticket")
    flags = plain[0]
    i32 = _LE32 if flags & 1 else _BE32
    name, pos = _get_str(plain, pos, 1, "name")
    inst, pos = _get_str(plain, pos, 0, "instance")
    cell, pos = _get_str(plain, pos, 0, "cell")
    if pos + 17 > len(plain):
        raise TicketError("ticket too short")
    host = i32.unpack_from(plain, pos)[0]
    session_key = plain[pos + 4:pos + 12]
    life = plain[pos + 12]
    start = i32.unpack_from(plain, pos + 13)[0]
    pos += 17
    sname, pos = _get_str(plain, pos, 1, "server name")
    sinst, pos = _get_str(plain, pos, 0, "server instance")
    if (pos + 7) // 8 * 8 != ticket_len and ticket_len != 56:
        raise TicketError(f"ticket content of {pos} bytes does not fit length {ticket_len}")
    return Ticket(name, inst, cell, host, session_key, start,
                  life_to_time(start, life), sname, sinst)


# ---------------------------------------------------------------- sealed

def _server_key(key) -> bytes:
    key = bytes(memoryview(key))
    if len(key) != 8:
        raise ValueError(f"server key must be 8 bytes, not {len(key)}")
    return key


def encode_ticket(t: Ticket, server_key) -> bytes:
    """Build and seal a ticket (OpenAFS ``tkt_MakeTicket``)."""
    key = _server_key(server_key)
    plain = assemble_ticket(t)
    if len(plain) > MAX_TICKET_LEN:                 # pragma: no cover - names are bounded
        raise TicketError("ticket too long", RXKADTICKETLEN)
    return des_pcbc_encrypt(key, key, plain)


def decode_ticket(data, server_key) -> Ticket:
    """Open and parse a sealed ticket (OpenAFS ``tkt_DecodeTicket``, minus
    the time check: call :func:`check_times` on the result).

    Any malformed input raises :class:`TicketError` (RXKADBADTICKET).
    """
    key = _server_key(server_key)
    data = bytes(data)
    n = len(data)
    if n < MIN_TICKET_LEN or n > MAX_TICKET_LEN or n % 8:
        raise TicketError(f"bad ticket length {n}")
    return parse_ticket(des_pcbc_decrypt(key, key, data), n)
