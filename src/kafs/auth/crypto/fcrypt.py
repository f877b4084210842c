"""fcrypt with a backend chosen at import time: the C accelerator or pure Python.

Both backends expose the same six functions (all keys, IVs and preSeq values
are 8 bytes; data is any bytes-like object):

``key_schedule(key) -> tuple[int, ...]``
    the 16 32-bit round keys.
``ecb_encrypt(key, block) -> bytes`` / ``ecb_decrypt(key, block) -> bytes``
    one 8-byte block.
``pcbc_encrypt(key, iv, data) -> bytes``
    PCBC (OpenAFS's ``fc_cbc_encrypt``), the input zero-padded to a multiple
    of 8 bytes.
``pcbc_decrypt(key, iv, data) -> bytes``
    the inverse; ``len(data)`` must be a multiple of 8 (``ValueError``).
``header_checksum(key, pre_seq, call_number, cid, seq) -> int``
    the 16-bit rxkad DATA-packet header checksum (1..65535).

The C accelerator is the extension module ``kafs.auth._fcrypt``, compiled by
``pip install`` when a C compiler is present (``setup.py``, ``optional=True``).
It is used when importable, unless the environment variable ``KAFS_NO_C`` is
set to a non-empty value other than ``0``: then the pure-Python backend is
used.  :data:`BACKEND` names the backend in use (``"c"`` or ``"python"``).

The C accelerator also seals and unseals whole rxkad DATA packets
(``rxkad_seal``/``rxkad_unseal``: checksum, length word and cipher in one
call); this module re-exports them as :data:`rxkad_seal` and
:data:`rxkad_unseal`, None with the Python backend.
"""

from __future__ import annotations

import os
from types import ModuleType

from . import _fcrypt_py as python_backend

__all__ = [
    "BACKEND", "python_backend", "load_c_backend", "backends",
    "key_schedule", "ecb_encrypt", "ecb_decrypt",
    "pcbc_encrypt", "pcbc_decrypt", "header_checksum",
]


def load_c_backend() -> ModuleType | None:
    """The C accelerator module, or None if it was not built (ignores KAFS_NO_C)."""
    try:
        from .. import _fcrypt  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _fcrypt


def _c_disabled() -> bool:
    v = os.environ.get("KAFS_NO_C", "").strip()
    return v not in ("", "0")


def backends() -> dict[str, ModuleType]:
    """Every available backend by name (for tests and benchmarks)."""
    out = {"python": python_backend}
    c = load_c_backend()
    if c is not None:
        out["c"] = c
    return out


_active: ModuleType = python_backend
if not _c_disabled():
    _active = load_c_backend() or python_backend

BACKEND = "c" if _active is not python_backend else "python"

key_schedule = _active.key_schedule
ecb_encrypt = _active.ecb_encrypt
ecb_decrypt = _active.ecb_decrypt
pcbc_encrypt = _active.pcbc_encrypt
pcbc_decrypt = _active.pcbc_decrypt
header_checksum = _active.header_checksum
#: whole-packet rxkad sealing, only in the C accelerator (None: the Python
#: code in kafs.auth.crypto.rxkad does it from the primitives above)
rxkad_seal = getattr(_active, "rxkad_seal", None)
rxkad_unseal = getattr(_active, "rxkad_unseal", None)
