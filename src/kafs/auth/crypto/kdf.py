"""rxkad-k5: the rxkad session key from a Kerberos 5 session key ("rxkad-kdf").

aklog and the servers both turn the Kerberos 5 service-ticket session key
into the 8-byte rxkad (fcrypt) key (OpenAFS ``tkt_DeriveDesKey``,
``src/rxkad/ticket5.c``; protocol-notes section 2.8):

* single-DES enctypes 1, 2, 3: the 8 key bytes as they are;
* enctypes 0, 4, 6, 8..15 and negative ones: refused;
* 3DES (5, 7, 16): drop the parity bits (8 bytes -> 7, see
  :func:`compress_parity_bits`), then the KDF;
* anything else (AES 17/18, RC4 23, Camellia 25/26, AES-SHA2 19/20...):
  the KDF over the raw key (which must be at least 7 bytes).

The KDF is NIST SP800-108 in counter mode with **HMAC-MD5** as the PRF
(not SHA-256: OpenAFS 1.8.9 calls ``EVP_md5()``): for i = 1..255,
``HMAC-MD5(key, i || "rxkad" || 0x00 || BE32(64))``, first 8 bytes, odd
parity; the first result that is not a weak or semi-weak DES key wins.

Token facts for rxkad-k5 (what aklog stores): the token's kvno/ticket
type is :data:`TKT_TYPE_KERBEROS_V5` (256) and its ticket is the complete
DER ``Ticket`` of the service ticket; ``-localauth`` with a krb5 key in
KeyFileExt sends only the DER ``EncryptedData`` with type
:data:`TKT_TYPE_KERBEROS_V5_ENCPART_ONLY` (213).  :func:`rxkad_k5_token`
assembles the rxkad token fields from a Kerberos credential.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from struct import pack

from .des import is_weak_key, set_odd_parity

__all__ = [
    "rxkad_kdf", "derive_des_key", "compress_parity_bits", "rxkad_k5_token",
    "RxkadToken", "TKT_TYPE_KERBEROS_V5", "TKT_TYPE_KERBEROS_V5_ENCPART_ONLY",
    "ETYPE_DES_CBC_CRC", "ETYPE_DES_CBC_MD4", "ETYPE_DES_CBC_MD5",
    "ETYPE_DES3_CBC_MD5", "ETYPE_OLD_DES3_CBC_SHA1", "ETYPE_DES3_CBC_SHA1",
    "ETYPE_AES128_CTS_HMAC_SHA1_96", "ETYPE_AES256_CTS_HMAC_SHA1_96",
    "ETYPE_ARCFOUR_HMAC",
]

TKT_TYPE_KERBEROS_V5 = 256
TKT_TYPE_KERBEROS_V5_ENCPART_ONLY = 213

ETYPE_DES_CBC_CRC = 1
ETYPE_DES_CBC_MD4 = 2
ETYPE_DES_CBC_MD5 = 3
ETYPE_DES3_CBC_MD5 = 5
ETYPE_OLD_DES3_CBC_SHA1 = 7
ETYPE_DES3_CBC_SHA1 = 16
ETYPE_AES128_CTS_HMAC_SHA1_96 = 17
ETYPE_AES256_CTS_HMAC_SHA1_96 = 18
ETYPE_ARCFOUR_HMAC = 23

_DES = (ETYPE_DES_CBC_CRC, ETYPE_DES_CBC_MD4, ETYPE_DES_CBC_MD5)
_DES3 = (ETYPE_DES3_CBC_MD5, ETYPE_OLD_DES3_CBC_SHA1, ETYPE_DES3_CBC_SHA1)
_REFUSED = frozenset((0, 4, 6, 8, 9, 10, 11, 12, 13, 14, 15))

_LABEL = b"rxkad\0" + pack(">I", 64)


def rxkad_kdf(key: bytes) -> bytes:
    """The 8-byte DES key derived from ``key`` (HMAC-MD5 counter-mode KDF)."""
    key = bytes(memoryview(key))
    for i in range(1, 256):
        out = set_odd_parity(hmac.digest(key, bytes((i,)) + _LABEL, "md5")[:8])
        if not is_weak_key(out):
            return out
    raise ValueError("rxkad-kdf: every counter gave a weak key")   # pragma: no cover


def compress_parity_bits(key: bytes) -> bytes:
    """3DES key -> its key bits: each 8-byte group becomes 7 bytes.

    The low bit of byte j (j = 0..6) of a group is replaced by bit j+1 of the
    group's 8th byte (the inverse of RFC 3961's 3DES random-to-key).
    """
    key = bytes(memoryview(key))
    if len(key) % 8:
        raise ValueError("3DES key length must be a multiple of 8")
    out = bytearray()
    for g in range(0, len(key), 8):
        last = key[g + 7] >> 1
        for j in range(7):
            out.append((key[g + j] & 0xFE) | ((last >> j) & 1))
    return bytes(out)


def derive_des_key(enctype: int, key: bytes) -> bytes:
    """OpenAFS ``tkt_DeriveDesKey``: the rxkad session key for a krb5 key.

    Raises ``ValueError`` for the enctypes and key sizes OpenAFS refuses.
    """
    key = bytes(memoryview(key))
    if enctype in _DES:
        if len(key) != 8:
            raise ValueError(f"DES key must be 8 bytes, not {len(key)}")
        return key
    if enctype < 0 or enctype in _REFUSED:
        raise ValueError(f"enctype {enctype} cannot make an rxkad key")
    if enctype in _DES3:
        key = compress_parity_bits(key)
    if len(key) < 7:
        raise ValueError(f"key of {len(key)} bytes is too short for rxkad-kdf")
    return rxkad_kdf(key)


@dataclass(frozen=True, slots=True)
class RxkadToken:
    """The rxkad token fields (``token_rxkad`` / ``ktc_token``)."""

    kvno: int            # ticket type: 0..255 (v4 key version), 213 or 256
    session_key: bytes   # 8 bytes, the fcrypt key
    ticket: bytes
    start: int
    end: int


def rxkad_k5_token(der_ticket: bytes, enctype: int, session_key: bytes,
                   start: int, end: int) -> RxkadToken:
    """The rxkad token aklog makes from a Kerberos 5 service ticket.

    ``der_ticket`` is the complete DER ``Ticket`` (sent as is, kvno 256);
    ``enctype``/``session_key`` are the credential's session key, turned
    into the fcrypt key with :func:`derive_des_key`.
    """
    der_ticket = bytes(der_ticket)
    if not 0 < len(der_ticket) <= 12000:
        raise ValueError(f"ticket of {len(der_ticket)} bytes does not fit a token")
    return RxkadToken(TKT_TYPE_KERBEROS_V5, derive_des_key(enctype, session_key),
                      der_ticket, start, end)
