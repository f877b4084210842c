"""A thin ctypes binding of libkeyutils (the Linux kernel key retention
service): just what the token store needs.

Keyrings used (``keyctl(1)`` names): ``@s`` the session keyring, ``@us``
the user session keyring.  A process without a session keyring of its own
gets the user session keyring installed as its session keyring when it
asks for ``@s`` *without* the create flag; ``add_key(..., @s)`` would
instead create and join a fresh anonymous session keyring that dies with
the process.  :func:`session_keyring` therefore resolves ``@s`` to a
serial number first (no create) and everything else works on serials.

All failures raise :class:`KeyringError` (an ``OSError`` with ``errno``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno as _errno
import os
import sys
from dataclasses import dataclass

__all__ = ["KeyringError", "available", "session_keyring", "user_session_keyring",
           "add_key", "search", "read", "describe", "invalidate", "unlink",
           "set_timeout", "keyring_keys", "join_session_keyring", "KeyInfo",
           "KEY_SPEC_SESSION_KEYRING", "KEY_SPEC_USER_SESSION_KEYRING"]

KEY_SPEC_THREAD_KEYRING = -1
KEY_SPEC_PROCESS_KEYRING = -2
KEY_SPEC_SESSION_KEYRING = -3
KEY_SPEC_USER_KEYRING = -4
KEY_SPEC_USER_SESSION_KEYRING = -5

_lib = None
_load_error: str | None = None


class KeyringError(OSError):
    pass


def _load():
    global _lib, _load_error
    if _lib is not None or _load_error is not None:
        return _lib
    names = []
    found = ctypes.util.find_library("keyutils")
    if found:
        names.append(found)
    names.append("libkeyutils.so.1")
    for n in names:
        try:
            lib = ctypes.CDLL(n, use_errno=True)
            break
        except OSError as e:
            _load_error = str(e)
    else:
        return None
    i32, c = ctypes.c_int32, ctypes.c_char_p
    lib.add_key.argtypes = [c, c, ctypes.c_void_p, ctypes.c_size_t, i32]
    lib.add_key.restype = i32
    lib.keyctl_get_keyring_ID.argtypes = [i32, ctypes.c_int]
    lib.keyctl_get_keyring_ID.restype = i32
    lib.keyctl_search.argtypes = [i32, c, c, i32]
    lib.keyctl_search.restype = ctypes.c_long
    lib.keyctl_read_alloc.argtypes = [i32, ctypes.POINTER(ctypes.c_void_p)]
    lib.keyctl_read_alloc.restype = ctypes.c_long
    lib.keyctl_describe_alloc.argtypes = [i32, ctypes.POINTER(ctypes.c_char_p)]
    lib.keyctl_describe_alloc.restype = ctypes.c_long
    lib.keyctl_unlink.argtypes = [i32, i32]
    lib.keyctl_unlink.restype = ctypes.c_long
    lib.keyctl_invalidate.argtypes = [i32]
    lib.keyctl_invalidate.restype = ctypes.c_long
    lib.keyctl_set_timeout.argtypes = [i32, ctypes.c_uint]
    lib.keyctl_set_timeout.restype = ctypes.c_long
    lib.keyctl_join_session_keyring.argtypes = [c]
    lib.keyctl_join_session_keyring.restype = i32
    _libc = ctypes.CDLL(None)
    _libc.free.argtypes = [ctypes.c_void_p]
    lib._free = _libc.free
    _lib = lib
    _load_error = None
    return lib


def _need():
    lib = _load()
    if lib is None:
        raise KeyringError(_errno.ENOSYS, "libkeyutils is not available: %s" % _load_error)
    return lib


def _check(ret, what: str):
    if ret < 0:
        e = ctypes.get_errno()
        raise KeyringError(e, "%s: %s" % (what, os.strerror(e)))
    return ret


def available() -> bool:
    """Whether the kernel keyring can be used by this process: libkeyutils
    loads and the user session keyring can be looked up."""
    lib = _load()
    if lib is None:
        return False
    try:
        _check(lib.keyctl_get_keyring_ID(KEY_SPEC_USER_SESSION_KEYRING, 0), "keyctl")
    except KeyringError:
        return False
    return True


def session_keyring() -> int:
    """Serial of the session keyring; the user session keyring when the
    process has no session keyring (never creates one)."""
    lib = _need()
    return _check(lib.keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0),
                  "keyctl_get_keyring_ID(@s)")


def user_session_keyring() -> int:
    lib = _need()
    return _check(lib.keyctl_get_keyring_ID(KEY_SPEC_USER_SESSION_KEYRING, 0),
                  "keyctl_get_keyring_ID(@us)")


def join_session_keyring(name: str | None = None) -> int:
    """Join (or create) the named session keyring; None: a new anonymous one."""
    lib = _need()
    return _check(lib.keyctl_join_session_keyring(name.encode() if name else None),
                  "keyctl_join_session_keyring")


def add_key(type_: str, description: str, payload: bytes, keyring: int) -> int:
    """Add (or update) a key in ``keyring``; returns its serial."""
    lib = _need()
    buf = ctypes.create_string_buffer(bytes(payload), len(payload))
    try:
        return _check(lib.add_key(type_.encode(), description.encode("utf-8", "surrogateescape"),
                                  buf, len(payload), keyring), "add_key")
    finally:
        ctypes.memset(buf, 0, len(payload))


def search(keyring: int, type_: str, description: str) -> int | None:
    """Serial of a matching key reachable from ``keyring``, or None."""
    lib = _need()
    ret = lib.keyctl_search(keyring, type_.encode(),
                            description.encode("utf-8", "surrogateescape"), 0)
    if ret < 0:
        e = ctypes.get_errno()
        if e in (_errno.ENOKEY, _errno.EKEYEXPIRED, _errno.EKEYREVOKED, _errno.ENODEV,
                 _errno.EACCES, _errno.EINVAL):
            return None
        raise KeyringError(e, "keyctl_search: %s" % os.strerror(e))
    return int(ret)


def read(key: int) -> bytes:
    """The key's payload (a keyring's payload is its key serials)."""
    lib = _need()
    p = ctypes.c_void_p()
    n = _check(lib.keyctl_read_alloc(key, ctypes.byref(p)), "keyctl_read")
    try:
        return ctypes.string_at(p, n)
    finally:
        if p.value:
            ctypes.memset(p, 0, n)
            lib._free(p)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    serial: int
    type: str
    uid: int
    gid: int
    perm: int
    description: str


def describe(key: int) -> KeyInfo:
    lib = _need()
    p = ctypes.c_char_p()
    _check(lib.keyctl_describe_alloc(key, ctypes.byref(p)), "keyctl_describe")
    if not p.value:
        raise KeyringError(_errno.ENOKEY, "keyctl_describe: no description")
    try:
        s = p.value.decode("utf-8", "surrogateescape")
    finally:
        lib._free(ctypes.cast(p, ctypes.c_void_p))
    type_, uid, gid, perm, desc = s.split(";", 4)
    return KeyInfo(key, type_, int(uid), int(gid), int(perm, 16), desc)


def keyring_keys(keyring: int) -> list[int]:
    """Serials of the keys linked directly in ``keyring``."""
    data = read(keyring)
    return [int.from_bytes(data[i:i + 4], sys.byteorder, signed=True)
            for i in range(0, len(data) - len(data) % 4, 4)]


def invalidate(key: int) -> None:
    lib = _need()
    _check(lib.keyctl_invalidate(key), "keyctl_invalidate")


def unlink(key: int, keyring: int) -> None:
    lib = _need()
    _check(lib.keyctl_unlink(key, keyring), "keyctl_unlink")


def set_timeout(key: int, seconds: int) -> None:
    lib = _need()
    _check(lib.keyctl_set_timeout(key, max(0, int(seconds))), "keyctl_set_timeout")
