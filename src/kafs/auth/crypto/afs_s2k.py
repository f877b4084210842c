"""The AFS string-to-key functions (kauth's ``ka_StringToKey``): a password
and a cell name (the "realm", lower-cased) to a DES key, as ``bos addkey``
and the kaserver make one.

* Passwords of more than 8 bytes: the DES CBC checksum of ``password +
  realm`` keyed with "kerberos" (parity set), then again keyed with that
  checksum and with it as IV; the result with odd parity.
* Passwords of at most 8 bytes (the "Andrew" function): the password
  XOR'ed into the first 8 bytes of the realm, NULs made 'X', through the
  traditional DES ``crypt(3)`` with salt "p1"; 8 characters of the result
  after the salt, each shifted left one bit, with odd parity.

``crypt(3)`` is libcrypt's (libxcrypt on Debian), through ctypes, as the
Python ``crypt`` module (removed in 3.13) called it.
"""

from __future__ import annotations

from .des import des_encrypt_block, set_odd_parity


def cbc_checksum(key: bytes, iv: bytes, data: bytes) -> bytes:
    """DES_cbc_cksum: the last block of DES-CBC over ``data`` (zero-padded)."""
    v = int.from_bytes(iv, "big")
    data = data + bytes(-len(data) % 8)
    for i in range(0, len(data), 8):
        blk = int.from_bytes(data[i:i + 8], "big") ^ v
        v = int.from_bytes(des_encrypt_block(key, blk.to_bytes(8, "big")), "big")
    return v.to_bytes(8, "big")


def long_string_to_key(password: bytes, realm: bytes) -> bytes:
    # the C buffer is BUFSIZ (8192) bytes: the realm is cut to fit it
    data = (password + realm)[:8192]
    k1 = set_odd_parity(b"kerberos")
    iv = cbc_checksum(k1, b"kerberos", data)
    return set_odd_parity(cbc_checksum(set_odd_parity(iv), iv, data))


_crypt = None


def _libcrypt():
    global _crypt
    if _crypt is None:
        import ctypes
        import ctypes.util
        name = ctypes.util.find_library("crypt") or "libcrypt.so.1"
        lib = ctypes.CDLL(name)
        f = lib.crypt
        f.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
        f.restype = ctypes.c_char_p
        _crypt = f
    return _crypt


def des_crypt(password: bytes, salt: bytes) -> bytes:
    """crypt(3) with a traditional two-character DES salt."""
    r = _libcrypt()(password, salt)
    if not r or r.startswith(b"*"):
        raise ValueError("crypt(3) refused the DES salt")
    return r


def andrew_string_to_key(password: bytes, realm: bytes) -> bytes:
    buf = bytearray(realm[:8].split(b"\0", 1)[0].ljust(8, b"\0"))
    for i, c in enumerate(password[:8]):
        buf[i] ^= c
    # strncpy into password[9]: the string ends at the first NUL left
    for i in range(8):
        if buf[i] == 0:
            buf[i] = ord("X")
    out = des_crypt(bytes(buf), b"p1")[2:10].ljust(8, b"\0")
    return set_odd_parity(bytes((c << 1) & 0xFF for c in out))


def string_to_key(password: bytes, realm: str) -> bytes:
    """ka_StringToKey with the realm already chosen (see :func:`afs_realm`)."""
    r = realm.encode("utf-8", "surrogateescape")
    if len(password) > 8:
        return long_string_to_key(password, r)
    return andrew_string_to_key(password, r)


__all__ = ["string_to_key", "long_string_to_key", "andrew_string_to_key",
           "cbc_checksum", "des_crypt"]
