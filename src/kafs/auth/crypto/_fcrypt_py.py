"""fcrypt in pure Python: the reference backend, always available.

fcrypt is rxkad's 16-round Feistel block cipher (64-bit blocks, 56-bit
key; protocol-notes section 2.7).  This module and the C accelerator
``kafs.auth._fcrypt`` expose the same functions with the same signatures;
:mod:`kafs.auth.crypto.fcrypt` picks one of them.

Speed notes: the round function's four S-box lookups and the 5-bit right
rotation are folded into four 256-entry tables of 32-bit words (the rotation
of a byte lane is a fixed bit placement, so it can be precomputed per lane);
whole buffers are converted to big-endian words once, and key schedules are
cached per key.
"""

from __future__ import annotations

from functools import lru_cache
from struct import Struct

from ._sboxes import SBOX0, SBOX1, SBOX2, SBOX3

__all__ = [
    "key_schedule", "ecb_encrypt", "ecb_decrypt",
    "pcbc_encrypt", "pcbc_decrypt", "header_checksum",
]

_M32 = 0xFFFFFFFF
_PAIR = Struct(">II")


def _rotr5(x: int) -> int:
    return ((x >> 5) | (x << 27)) & _M32


# Lane tables: F(x) = T0[x>>24] | T1[(x>>16)&255] | T2[(x>>8)&255] | T3[x&255].
# Byte 0 (most significant) of the input goes through sbox0 into bits 8-15 of
# P, byte 1 through sbox1 into bits 0-7, byte 2 through sbox2 into bits 16-23,
# byte 3 through sbox3 into bits 24-31; then P is rotated right by 5.
_T0 = tuple(_rotr5(v << 8) for v in SBOX0)
_T1 = tuple(_rotr5(v) for v in SBOX1)
_T2 = tuple(_rotr5(v << 16) for v in SBOX2)
_T3 = tuple(_rotr5(v << 24) for v in SBOX3)


def _check_key(key) -> bytes:
    key = bytes(memoryview(key))
    if len(key) != 8:
        raise ValueError(f"fcrypt key must be 8 bytes, not {len(key)}")
    return key


@lru_cache(maxsize=256)
def _schedule(key: bytes) -> tuple[int, ...]:
    # The low bit of each key byte is parity: drop it and join the eight
    # 7-bit groups, first byte most significant, into 56 bits.
    k = 0
    for b in key:
        k = (k << 7) | (b >> 1)
    mask56 = (1 << 56) - 1
    out = []
    for _ in range(16):
        out.append(k & _M32)
        k = ((k >> 11) | (k << 45)) & mask56       # rotate right 11 in 56 bits
    return tuple(out)


def key_schedule(key) -> tuple[int, ...]:
    """The 16 32-bit round keys for an 8-byte key."""
    return _schedule(_check_key(key))


def _enc(L: int, R: int, ks) -> tuple[int, int]:
    T0, T1, T2, T3 = _T0, _T1, _T2, _T3
    for i in range(0, 16, 2):
        s = R ^ ks[i]
        L ^= T0[s >> 24] | T1[(s >> 16) & 255] | T2[(s >> 8) & 255] | T3[s & 255]
        s = L ^ ks[i + 1]
        R ^= T0[s >> 24] | T1[(s >> 16) & 255] | T2[(s >> 8) & 255] | T3[s & 255]
    return L, R


def _dec(L: int, R: int, ks) -> tuple[int, int]:
    T0, T1, T2, T3 = _T0, _T1, _T2, _T3
    for i in range(15, 0, -2):
        s = L ^ ks[i]
        R ^= T0[s >> 24] | T1[(s >> 16) & 255] | T2[(s >> 8) & 255] | T3[s & 255]
        s = R ^ ks[i - 1]
        L ^= T0[s >> 24] | T1[(s >> 16) & 255] | T2[(s >> 8) & 255] | T3[s & 255]
    return L, R


def _block(block) -> tuple[int, int]:
    block = bytes(memoryview(block))
    if len(block) != 8:
        raise ValueError(f"fcrypt block must be 8 bytes, not {len(block)}")
    return _PAIR.unpack(block)


def ecb_encrypt(key, block) -> bytes:
    """Encrypt one 8-byte block."""
    return _PAIR.pack(*_enc(*_block(block), key_schedule(key)))


def ecb_decrypt(key, block) -> bytes:
    """Decrypt one 8-byte block."""
    return _PAIR.pack(*_dec(*_block(block), key_schedule(key)))


def _words(data: bytes) -> tuple[int, ...]:
    return Struct(f">{len(data) // 4}I").unpack(data)


def pcbc_encrypt(key, iv, data) -> bytes:
    """PCBC-encrypt ``data`` (zero-padded to a multiple of 8 bytes).

    ``C_i = E(P_i ^ V); V = P_i ^ C_i`` with ``V`` starting at ``iv``.  This
    is OpenAFS's ``fc_cbc_encrypt`` (which, despite its name, is PCBC).
    """
    ks = key_schedule(key)
    v0, v1 = _block(iv)
    data = bytes(memoryview(data))
    pad = -len(data) % 8
    if pad:
        data += bytes(pad)
    w = _words(data)
    out = [0] * len(w)
    enc = _enc
    for i in range(0, len(w), 2):
        p0 = w[i]
        p1 = w[i + 1]
        c0, c1 = enc(p0 ^ v0, p1 ^ v1, ks)
        out[i] = c0
        out[i + 1] = c1
        v0 = p0 ^ c0
        v1 = p1 ^ c1
    return Struct(f">{len(out)}I").pack(*out)


def pcbc_decrypt(key, iv, data) -> bytes:
    """Inverse of :func:`pcbc_encrypt`; ``len(data)`` must be a multiple of 8."""
    ks = key_schedule(key)
    v0, v1 = _block(iv)
    data = bytes(memoryview(data))
    if len(data) % 8:
        raise ValueError("PCBC ciphertext length must be a multiple of 8")
    w = _words(data)
    out = [0] * len(w)
    dec = _dec
    for i in range(0, len(w), 2):
        c0 = w[i]
        c1 = w[i + 1]
        p0, p1 = dec(c0, c1, ks)
        p0 ^= v0
        p1 ^= v1
        out[i] = p0
        out[i + 1] = p1
        v0 = p0 ^ c0
        v1 = p1 ^ c1
    return Struct(f">{len(out)}I").pack(*out)


def header_checksum(key, pre_seq, call_number: int, cid: int, seq: int) -> int:
    """The 16-bit rxkad header checksum of one DATA packet (never 0).

    ``cid`` is the packet's full connection id (its low 2 bits are the
    channel); ``pre_seq`` the connection's 8-byte value from the endpoint
    block (see :func:`kafs.auth.crypto.rxkad.compute_pre_seq`).
    """
    x0, x1 = _block(pre_seq)
    w0 = (call_number & _M32) ^ x0
    w1 = ((((cid & 3) << 30) | (seq & 0x3FFFFFFF)) & _M32) ^ x1
    _, r = _enc(w0, w1, key_schedule(key))
    t = r >> 16
    return t or 1
