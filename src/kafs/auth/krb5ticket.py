"""Kerberos 5 tickets for rxkad-k5: DER codecs and RFC 3961/3962 encryption.

rxkad carries Kerberos 5 tickets in two forms (protocol-notes section 2.8):

* ticket type 256 (``RXKAD_TKT_TYPE_KERBEROS_V5``): the complete DER
  ``Ticket`` a KDC issued (what aklog stores);
* ticket type 213 (``RXKAD_TKT_TYPE_KERBEROS_V5_ENCPART_ONLY``): only the
  DER ``EncryptedData`` (what ``-localauth`` forges with a KeyFileExt key,
  OpenAFS ``tkt_MakeTicket5``).

The server decrypts ``enc-part`` with its key for (kvno, enctype), key usage
2, parses the ``EncTicketPart`` and takes client name/instance/realm, the
session key (through rxkad-kdf) and the times (``tkt_DecodeTicket5``).

Encryption types: aes128/aes256-cts-hmac-sha1-96 (17, 18; RFC 3962, AES
from the ``cryptography`` package) and, for decoding old tickets,
des-cbc-crc / des-cbc-md4 / des-cbc-md5 (1, 2, 3; RFC 3961 section 6.2,
with our own DES).  The DER here is a small strict subset: definite
lengths, bounds-checked; anything else raises :class:`Krb5Error`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import zlib
from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import DecodeError

__all__ = [
    "Krb5Error", "EncryptedData", "Ticket", "EncTicketPart", "nfold",
    "derive_key", "encrypt", "decrypt", "decode_ticket", "encode_ticket",
    "decode_encrypted_data", "encode_encrypted_data", "encode_enc_ticket_part",
    "decode_enc_ticket_part", "KU_TICKET", "NT_PRINCIPAL",
    "TKT_FLAG_TRANSITED_POLICY_CHECKED", "TKT_FLAG_INVALID", "SUPPORTED_ENCTYPES",
]

KU_TICKET = 2
NT_PRINCIPAL = 1
#: TicketFlags bit numbers (RFC 4120 section 5.3)
TKT_FLAG_INVALID = 7
TKT_FLAG_TRANSITED_POLICY_CHECKED = 12

ETYPE_DES_CBC_CRC = 1
ETYPE_DES_CBC_MD4 = 2
ETYPE_DES_CBC_MD5 = 3
ETYPE_AES128 = 17
ETYPE_AES256 = 18
SUPPORTED_ENCTYPES = (ETYPE_DES_CBC_CRC, ETYPE_DES_CBC_MD4, ETYPE_DES_CBC_MD5,
                      ETYPE_AES128, ETYPE_AES256)
_AES_KEYLEN = {ETYPE_AES128: 16, ETYPE_AES256: 32}
MAX_TICKET = 12000


class Krb5Error(DecodeError):
    """A ticket that cannot be decoded, decrypted or built."""


# ================================================================ DER

_SEQ = 0x30


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(b),)) + b


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _der_len(len(body)) + body


def _ctx(n: int, body: bytes) -> bytes:
    return _tlv(0xA0 | n, body)


def _app(n: int, body: bytes) -> bytes:
    return _tlv(0x60 | n, body)


def _int(v: int) -> bytes:
    n = max(1, (v.bit_length() + 8) // 8)
    return _tlv(0x02, v.to_bytes(n, "big", signed=True))


def _octets(b: bytes) -> bytes:
    return _tlv(0x04, bytes(b))


def _gstring(s: str) -> bytes:
    return _tlv(0x1B, s.encode("utf-8", "surrogateescape"))


def _gtime(t: int) -> bytes:
    return _tlv(0x18, time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t)).encode())


def _bitstring32(flags: int) -> bytes:
    return _tlv(0x03, b"\0" + (flags & 0xFFFFFFFF).to_bytes(4, "big"))


class _Der:
    """A cursor over DER bytes."""

    __slots__ = ("b", "pos", "end")

    def __init__(self, b: bytes, pos: int = 0, end: int | None = None):
        self.b = b
        self.pos = pos
        self.end = len(b) if end is None else end

    def more(self) -> bool:
        return self.pos < self.end

    def peek_tag(self) -> int | None:
        return self.b[self.pos] if self.pos < self.end else None

    def tlv(self, want: int | None = None) -> tuple[int, "_Der"]:
        b = self.b
        p = self.pos
        if p + 2 > self.end:
            raise Krb5Error("truncated DER")
        tag = b[p]
        if tag & 0x1F == 0x1F:
            raise Krb5Error("multi-byte DER tags are not used here")
        if want is not None and tag != want:
            raise Krb5Error(f"DER tag {tag:#x}, expected {want:#x}")
        ln = b[p + 1]
        p += 2
        if ln & 0x80:
            nb = ln & 0x7F
            if nb == 0 or nb > 3 or p + nb > self.end:
                raise Krb5Error("bad DER length")
            ln = int.from_bytes(b[p:p + nb], "big")
            p += nb
        if p + ln > self.end:
            raise Krb5Error("DER value past its container")
        self.pos = p + ln
        return tag, _Der(b, p, p + ln)

    def raw(self) -> bytes:
        return bytes(self.b[self.pos:self.end])

    def ctx(self, n: int) -> "_Der":
        return self.tlv(0xA0 | n)[1]

    def opt_ctx(self, n: int) -> "_Der | None":
        if self.peek_tag() == (0xA0 | n):
            return self.ctx(n)
        return None

    def integer(self) -> int:
        _, v = self.tlv(0x02)
        raw = v.raw()
        if not raw or len(raw) > 9:
            raise Krb5Error("bad DER integer")
        return int.from_bytes(raw, "big", signed=True)

    def octets(self) -> bytes:
        return self.tlv(0x04)[1].raw()

    def gstring(self) -> str:
        return self.tlv(0x1B)[1].raw().decode("utf-8", "surrogateescape")

    def gtime(self) -> int:
        s = self.tlv(0x18)[1].raw().decode("ascii", "replace")
        try:
            if len(s) != 15 or s[-1] != "Z":
                raise ValueError
            from calendar import timegm
            return timegm(time.strptime(s[:14], "%Y%m%d%H%M%S"))
        except ValueError:
            raise Krb5Error(f"bad KerberosTime {s!r}") from None

    def bitstring32(self) -> int:
        raw = self.tlv(0x03)[1].raw()
        if not raw:
            raise Krb5Error("bad BIT STRING")
        bits = raw[1:5] + bytes(max(0, 4 - len(raw[1:5])))
        return int.from_bytes(bits, "big")


# ================================================================ structures

@dataclass(frozen=True, slots=True)
class EncryptedData:
    etype: int
    kvno: int | None
    cipher: bytes = field(repr=False)


class Ticket(NamedTuple):
    realm: str
    sname: tuple[str, ...]
    enc_part: EncryptedData
    sname_type: int = NT_PRINCIPAL


@dataclass(frozen=True, slots=True)
class EncTicketPart:
    """The decrypted part of a ticket (the fields rxkad uses)."""

    flags: int                     # TicketFlags as a 32-bit number, bit 0 = MSB
    keytype: int
    key: bytes = field(repr=False)
    crealm: str = ""
    cname: tuple[str, ...] = ()
    authtime: int = 0
    starttime: int | None = None
    endtime: int = 0
    cname_type: int = NT_PRINCIPAL

    def flag(self, bit: int) -> bool:
        return bool(self.flags & (0x80000000 >> bit))


def encode_encrypted_data(ed: EncryptedData) -> bytes:
    body = _ctx(0, _int(ed.etype))
    if ed.kvno is not None:
        body += _ctx(1, _int(ed.kvno))
    body += _ctx(2, _octets(ed.cipher))
    return _tlv(_SEQ, body)


def _parse_encrypted_data(d: _Der) -> EncryptedData:
    _, s = d.tlv(_SEQ)
    etype = s.ctx(0).integer()
    k = s.opt_ctx(1)
    kvno = k.integer() & 0xFFFFFFFF if k is not None else None
    cipher = s.ctx(2).octets()
    return EncryptedData(etype, kvno, cipher)


def decode_encrypted_data(data: bytes) -> EncryptedData:
    """DER ``EncryptedData`` (ticket type 213)."""
    d = _Der(bytes(data))
    return _parse_encrypted_data(d)


def _principal(name_type: int, comps) -> bytes:
    seq = b"".join(_gstring(c) for c in comps)
    return _tlv(_SEQ, _ctx(0, _int(name_type)) + _ctx(1, _tlv(_SEQ, seq)))


def _parse_principal(d: _Der) -> tuple[int, tuple[str, ...]]:
    _, s = d.tlv(_SEQ)
    nt = s.ctx(0).integer()
    _, names = s.ctx(1).tlv(_SEQ)
    comps = []
    while names.more():
        comps.append(names.gstring())
        if len(comps) > 16:
            raise Krb5Error("too many name components")
    return nt, tuple(comps)


def encode_ticket(t: Ticket) -> bytes:
    body = (_ctx(0, _int(5)) + _ctx(1, _gstring(t.realm))
            + _ctx(2, _principal(t.sname_type, t.sname))
            + _ctx(3, encode_encrypted_data(t.enc_part)))
    return _app(1, _tlv(_SEQ, body))


def decode_ticket(data: bytes) -> Ticket:
    """DER ``Ticket`` (ticket type 256)."""
    d = _Der(bytes(data))
    _, a = d.tlv(0x61)
    _, s = a.tlv(_SEQ)
    if s.ctx(0).integer() != 5:
        raise Krb5Error("not a Kerberos 5 ticket")
    realm = s.ctx(1).gstring()
    nt, sname = _parse_principal(s.ctx(2))
    enc = _parse_encrypted_data(s.ctx(3))
    return Ticket(realm, sname, enc, nt)


def encode_enc_ticket_part(p: EncTicketPart) -> bytes:
    body = (_ctx(0, _bitstring32(p.flags))
            + _ctx(1, _tlv(_SEQ, _ctx(0, _int(p.keytype)) + _ctx(1, _octets(p.key))))
            + _ctx(2, _gstring(p.crealm))
            + _ctx(3, _principal(p.cname_type, p.cname))
            + _ctx(4, _tlv(_SEQ, _ctx(0, _int(0)) + _ctx(1, _octets(b""))))
            + _ctx(5, _gtime(p.authtime)))
    if p.starttime is not None:
        body += _ctx(6, _gtime(p.starttime))
    body += _ctx(7, _gtime(p.endtime))
    return _app(3, _tlv(_SEQ, body))


def decode_enc_ticket_part(data: bytes) -> EncTicketPart:
    d = _Der(bytes(data))
    _, a = d.tlv(0x63)
    _, s = a.tlv(_SEQ)
    flags = s.ctx(0).bitstring32()
    _, k = s.ctx(1).tlv(_SEQ)
    keytype = k.ctx(0).integer()
    key = k.ctx(1).octets()
    crealm = s.ctx(2).gstring()
    nt, cname = _parse_principal(s.ctx(3))
    s.ctx(4)                                    # transited
    authtime = s.ctx(5).gtime()
    st = s.opt_ctx(6)
    starttime = st.gtime() if st is not None else None
    endtime = s.ctx(7).gtime()
    # renew-till, caddr, authorization-data: ignored
    return EncTicketPart(flags, keytype, key, crealm, cname, authtime, starttime,
                         endtime, nt)


# ================================================================ RFC 3961

def nfold(data: bytes, nbytes: int) -> bytes:
    """RFC 3961 n-fold of ``data`` to ``nbytes`` bytes."""
    data = bytes(data)
    inlen = len(data)
    lcm = inlen * nbytes // _gcd(inlen, nbytes)
    bits = inlen * 8
    big = int.from_bytes(data, "big")
    # concatenate rotated copies (each rotated right by 13 bits more)
    copies = []
    for i in range(lcm // inlen):
        r = (13 * i) % bits
        v = ((big >> r) | (big << (bits - r))) & ((1 << bits) - 1) if r else big
        copies.append(v.to_bytes(inlen, "big"))
    stream = b"".join(copies)
    out = [0] * nbytes
    for off in range(0, lcm, nbytes):
        chunk = stream[off:off + nbytes]
        carry = 0
        for i in range(nbytes - 1, -1, -1):
            s = out[i] + chunk[i] + carry
            out[i] = s & 0xFF
            carry = s >> 8
        # end-around carry
        i = nbytes - 1
        while carry:
            s = out[i] + carry
            out[i] = s & 0xFF
            carry = s >> 8
            i = (i - 1) % nbytes
    return bytes(out)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _aes_ecb(key: bytes, block: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


def derive_key(etype: int, key: bytes, constant: bytes) -> bytes:
    """RFC 3961 DK for the AES enctypes (DR with AES, no random-to-key)."""
    klen = _AES_KEYLEN[etype]
    if len(key) != klen:
        raise Krb5Error(f"enctype {etype} needs a {klen}-byte key")
    block = nfold(constant, 16)
    out = b""
    while len(out) < klen:
        block = _aes_ecb(key, block)
        out += block
    return out[:klen]


def _usage_keys(etype: int, key: bytes, usage: int) -> tuple[bytes, bytes]:
    u = usage.to_bytes(4, "big")
    return derive_key(etype, key, u + b"\xaa"), derive_key(etype, key, u + b"\x55")


def _cbc(key: bytes, data: bytes, encrypt: bool) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    c = Cipher(algorithms.AES(key), modes.CBC(bytes(16)))
    x = c.encryptor() if encrypt else c.decryptor()
    return x.update(data) + x.finalize()


def _cts_encrypt(key: bytes, data: bytes) -> bytes:
    n = len(data)
    if n < 16:
        raise Krb5Error("CTS needs at least one block")
    if n == 16:
        return _cbc(key, data, True)
    pad = (-n) % 16
    c = _cbc(key, data + bytes(pad), True)
    # swap the last two blocks, cut to the input length
    return c[:-32] + c[-16:] + c[-32:-16][:16 - pad]


def _cts_decrypt(key: bytes, data: bytes) -> bytes:
    n = len(data)
    if n < 16:
        raise Krb5Error("CTS ciphertext shorter than a block")
    if n == 16:
        return _cbc(key, data, False)
    tail = n % 16 or 16
    head = data[:n - 16 - tail]
    cn1 = data[n - 16 - tail:n - tail]           # C(n-1) as sent: the full block
    cn = data[n - tail:]                          # the partial last block
    prev = head[-16:] if head else bytes(16)
    dn = _aes_ecb_decrypt(key, cn1)               # = P(n) ^ C(n-1)', padded
    cfull = cn + dn[tail:]                        # reconstruct C(n-1)'
    pn = bytes(a ^ b for a, b in zip(dn[:tail], cn))
    pn1 = bytes(a ^ b for a, b in zip(_aes_ecb_decrypt(key, cfull), prev))
    return (_cbc(key, head, False) if head else b"") + pn1 + pn


def _aes_ecb_decrypt(key: bytes, block: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    d = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return d.update(block) + d.finalize()


def _des_decrypt(etype: int, key: bytes, data: bytes) -> bytes:
    from .crypto.des import des_decrypt_block
    if len(key) != 8 or len(data) % 8 or len(data) < 16:
        raise Krb5Error("bad DES ciphertext")
    prev = key if etype == ETYPE_DES_CBC_CRC else bytes(8)
    out = bytearray()
    for i in range(0, len(data), 8):
        c = data[i:i + 8]
        out += bytes(a ^ b for a, b in zip(des_decrypt_block(key, c), prev))
        prev = c
    plain = bytes(out)
    if etype == ETYPE_DES_CBC_CRC:
        ck, off = plain[8:12], 12
        zeroed = plain[:8] + bytes(4) + plain[12:]
        ok = hmac.compare_digest(ck, (zlib.crc32(zeroed) & 0xFFFFFFFF).to_bytes(4, "little"))
    else:
        ck, off = plain[8:24], 24
        zeroed = plain[:8] + bytes(16) + plain[24:]
        h = hashlib.new("md4" if etype == ETYPE_DES_CBC_MD4 else "md5", zeroed).digest()
        ok = hmac.compare_digest(ck, h)
    if not ok:
        raise Krb5Error("ticket integrity check failed")
    return plain[off:]


def encrypt(etype: int, key: bytes, usage: int, plain: bytes,
            confounder: bytes | None = None) -> bytes:
    """RFC 3961 encryption (AES enctypes): ``CTS(Ke, conf|plain) | HMAC96(Ki)``."""
    if etype not in _AES_KEYLEN:
        raise Krb5Error(f"cannot encrypt with enctype {etype}")
    ke, ki = _usage_keys(etype, bytes(key), usage)
    conf = os.urandom(16) if confounder is None else bytes(confounder)
    data = conf + bytes(plain)
    return _cts_encrypt(ke, data) + hmac.digest(ki, data, "sha1")[:12]


def decrypt(etype: int, key: bytes, usage: int, cipher: bytes) -> bytes:
    """Inverse of :func:`encrypt` (plus the DES enctypes 1-3); a wrong key or
    altered data raises :class:`Krb5Error`."""
    key = bytes(key)
    cipher = bytes(cipher)
    if etype in (ETYPE_DES_CBC_CRC, ETYPE_DES_CBC_MD4, ETYPE_DES_CBC_MD5):
        return _des_decrypt(etype, key, cipher)
    if etype not in _AES_KEYLEN:
        raise Krb5Error(f"unsupported enctype {etype}")
    if len(cipher) < 16 + 12:
        raise Krb5Error("ciphertext too short")
    ke, ki = _usage_keys(etype, key, usage)
    data = _cts_decrypt(ke, cipher[:-12])
    if not hmac.compare_digest(hmac.digest(ki, data, "sha1")[:12], cipher[-12:]):
        raise Krb5Error("ticket integrity check failed")
    return data[16:]


# ================================================================ tickets

def make_encpart_ticket(etype: int, kvno: int, server_key: bytes, session_key: bytes,
                        name: str, instance: str, cell: str, start: int, end: int) -> bytes:
    """OpenAFS ``tkt_MakeTicket5``: the DER ``EncryptedData`` (type 213) of an
    ``EncTicketPart`` with flags transited-policy-checked, a des-cbc-crc
    session key, crealm ``cell``, cname ``name[/instance]``, authtime
    ``start``, endtime ``end``, encrypted in ``server_key`` (usage 2)."""
    part = EncTicketPart(
        flags=0x80000000 >> TKT_FLAG_TRANSITED_POLICY_CHECKED,
        keytype=ETYPE_DES_CBC_CRC, key=bytes(session_key), crealm=cell,
        cname=(name, instance) if instance else (name,), authtime=start,
        endtime=end)
    cipher = encrypt(etype, server_key, KU_TICKET, encode_enc_ticket_part(part))
    return encode_encrypted_data(EncryptedData(etype, kvno, cipher))
