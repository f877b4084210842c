"""Single DES (FIPS 46-3) and DES-PCBC, in pure Python.

rxkad's Kerberos-4-style tickets are sealed with real DES in PCBC mode under
the server key with the key itself as IV (protocol-notes section 2.8).  They
are small (at most 12000 bytes) and handled once per connection, so a table
driven pure-Python DES is fast enough; no third-party library is needed.

The implementation follows the standard: bits are numbered 1..64 from the
most significant bit of the big-endian block; each permutation is turned into
per-byte lookup tables at import; the S-boxes are combined with the P
permutation into eight 64-entry tables, and the expansion E is done with
rotations.  Key parity bits are ignored (as DES ignores them).
"""

from __future__ import annotations

from functools import lru_cache
from struct import Struct

__all__ = [
    "des_encrypt_block", "des_decrypt_block", "des_pcbc_encrypt",
    "des_pcbc_decrypt", "set_odd_parity", "is_weak_key", "WEAK_KEYS",
]

_IP = (
    58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
    62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
    57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
    61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
)
_FP = tuple(_IP.index(i) + 1 for i in range(1, 65))   # inverse of IP

_P = (
    16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
    2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
)

_PC1 = (
    57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
    10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
    63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
    14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
)

_PC2 = (
    14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10,
    23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
    41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
    44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
)

_SHIFTS = (1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1)

_S = (
    (14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
     0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
     4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
     15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13),
    (15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
     3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
     0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
     13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9),
    (10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
     13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
     13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
     1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12),
    (7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
     13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
     10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
     3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14),
    (2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
     14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
     4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
     11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3),
    (12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
     10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
     9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
     4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13),
    (4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
     13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
     1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
     6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12),
    (13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
     1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
     7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
     2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11),
)


def _byte_tables(table: tuple[int, ...], in_bits: int) -> tuple[tuple[int, ...], ...]:
    """Per-input-byte lookup tables for the bit permutation ``table``.

    ``table[k]`` is the 1-based input bit (from the MSB) that becomes output
    bit k+1 (from the MSB).  ``in_bits`` must be a multiple of 8.
    """
    out_bits = len(table)
    tabs = []
    for byte in range(in_bits // 8):
        entries = []
        for v in range(256):
            acc = 0
            for k, src in enumerate(table):
                pos = src - 1 - 8 * byte           # bit index inside this byte
                if 0 <= pos < 8 and (v >> (7 - pos)) & 1:
                    acc |= 1 << (out_bits - 1 - k)
            entries.append(acc)
        tabs.append(tuple(entries))
    return tuple(tabs)


def _permute(x: int, tabs, in_bits: int) -> int:
    acc = 0
    shift = in_bits - 8
    for t in tabs:
        acc |= t[(x >> shift) & 0xFF]
        shift -= 8
    return acc


def _sp_tables(p_t) -> tuple[tuple[int, ...], ...]:
    tabs = []
    for j, box in enumerate(_S):
        entries = []
        for v in range(64):
            row = ((v >> 4) & 2) | (v & 1)
            col = (v >> 1) & 0xF
            s = box[row * 16 + col]
            entries.append(_permute(s << (28 - 4 * j), p_t, 32))
        tabs.append(tuple(entries))
    return tuple(tabs)


@lru_cache(maxsize=1)
def _tables():
    """(IP, FP, PC1, PC2, SP) lookup tables, built on first use: building
    them takes tens of milliseconds, which a tool that never uses DES (an
    AES -localauth ticket, say) should not pay at start-up."""
    return (_byte_tables(_IP, 64), _byte_tables(_FP, 64), _byte_tables(_PC1, 64),
            _byte_tables(_PC2, 56), _sp_tables(_byte_tables(_P, 32)))

# E-expansion chunk j (6 bits) starts at 0-based input bit 4j-1 (mod 32):
# rotating R left by that amount brings it to the top.
_EROT = tuple((4 * j - 1) % 32 for j in range(8))

_M32 = 0xFFFFFFFF
_PAIR = Struct(">II")
_Q = Struct(">Q")


@lru_cache(maxsize=64)
def _subkeys(key: bytes) -> tuple[tuple[int, ...], ...]:
    """16 round keys, each as eight 6-bit chunks."""
    _, _, pc1_t, pc2_t, _ = _tables()
    cd = _permute(_Q.unpack(key)[0], pc1_t, 64)
    c, d = cd >> 28, cd & 0xFFFFFFF
    rounds = []
    for s in _SHIFTS:
        c = ((c << s) | (c >> (28 - s))) & 0xFFFFFFF
        d = ((d << s) | (d >> (28 - s))) & 0xFFFFFFF
        k = _permute((c << 28) | d, pc2_t, 56)
        rounds.append(tuple((k >> (42 - 6 * j)) & 0x3F for j in range(8)))
    return tuple(rounds)


def _f(r: int, sk: tuple[int, ...], sp) -> int:
    out = 0
    for j in range(8):
        n = _EROT[j]
        rot = ((r << n) | (r >> (32 - n))) & _M32 if n else r
        out |= sp[j][(rot >> 26) ^ sk[j]]
    return out


def _crypt(block: int, sks) -> int:
    ip_t, fp_t, _, _, sp = _tables()
    x = _permute(block, ip_t, 64)
    left, right = x >> 32, x & _M32
    for sk in sks:
        left, right = right, left ^ _f(right, sk, sp)
    return _permute((right << 32) | left, fp_t, 64)


def _key(key) -> bytes:
    key = bytes(memoryview(key))
    if len(key) != 8:
        raise ValueError(f"DES key must be 8 bytes, not {len(key)}")
    return key


def des_encrypt_block(key, block) -> bytes:
    """DES-encrypt one 8-byte block."""
    return _Q.pack(_crypt(_Q.unpack(bytes(memoryview(block)))[0], _subkeys(_key(key))))


def des_decrypt_block(key, block) -> bytes:
    """DES-decrypt one 8-byte block."""
    return _Q.pack(_crypt(_Q.unpack(bytes(memoryview(block)))[0], _subkeys(_key(key))[::-1]))


def des_pcbc_encrypt(key, iv, data) -> bytes:
    """DES in PCBC mode; ``data`` is zero-padded to a multiple of 8 bytes."""
    sks = _subkeys(_key(key))
    v = _Q.unpack(bytes(memoryview(iv)))[0]
    data = bytes(data)
    data += bytes(-len(data) % 8)
    out = bytearray()
    for (p,) in _Q.iter_unpack(data):
        c = _crypt(p ^ v, sks)
        out += _Q.pack(c)
        v = p ^ c
    return bytes(out)


def des_pcbc_decrypt(key, iv, data) -> bytes:
    """Inverse of :func:`des_pcbc_encrypt`; ``len(data)`` must be a multiple of 8."""
    sks = _subkeys(_key(key))[::-1]
    v = _Q.unpack(bytes(memoryview(iv)))[0]
    data = bytes(data)
    if len(data) % 8:
        raise ValueError("DES-PCBC ciphertext length must be a multiple of 8")
    out = bytearray()
    for (c,) in _Q.iter_unpack(data):
        p = _crypt(c, sks) ^ v
        out += _Q.pack(p)
        v = p ^ c
    return bytes(out)


def set_odd_parity(key) -> bytes:
    """Set the low bit of each byte so every byte has an odd number of 1 bits."""
    out = bytearray(key)
    for i, b in enumerate(out):
        hi = b & 0xFE
        out[i] = hi | ((bin(hi).count("1") & 1) ^ 1)
    return bytes(out)


# The 4 weak and 12 semi-weak DES keys (with odd parity), as DES_is_weak_key
# checks them.
WEAK_KEYS = frozenset(bytes.fromhex(h) for h in (
    "0101010101010101", "fefefefefefefefe", "1f1f1f1f0e0e0e0e", "e0e0e0e0f1f1f1f1",
    "01fe01fe01fe01fe", "fe01fe01fe01fe01", "1fe01fe00ef10ef1", "e01fe01ff10ef10e",
    "01e001e001f101f1", "e001e001f101f101", "1ffe1ffe0efe0efe", "fe1ffe1ffe0efe0e",
    "011f011f010e010e", "1f011f010e010e01", "e0fee0fef1fef1fe", "fee0fee0fef1fef1",
))


def is_weak_key(key) -> bool:
    """True for the DES weak and semi-weak keys (compared after fixing parity)."""
    return set_odd_parity(key) in WEAK_KEYS
