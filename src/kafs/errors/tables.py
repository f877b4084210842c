"""com_err tables and OpenAFS's ``afs_error_message`` behaviour.

Codes and texts are those of OpenAFS 1.8.9 (the table data lives in
:mod:`kafs.errors._etdata` and is loaded on first use, so importing this
module costs nothing but a few small dicts).

Rules reproduced (see protocol notes section 6.1):

* A table name of 1-4 characters ``[A-Za-z0-9_]`` maps to a 24-bit number,
  6 bits per character (``A``=1 ... ``_``=63); shifted left by 8 it is the
  table *base*, and code = base + index (index < 256).
* ``table_name(code)`` decodes bits 8..31 back into characters, skipping zero
  digits, and lower-cases the result (``VL_NOENT`` -> ``"vl"``; any code
  0..255 -> ``""``).
* ``error_message(code)``:
  negative codes get Rx's fixed texts; 0..255 get the C library's
  ``strerror`` (so 110 is "Connection timed out" on Linux, not VBUSY);
  codes of a registered table get its text; anything else gets
  ``"Unknown code <table> <index> (<code>)"``.

Which tables are "registered" depends on the OpenAFS program (each one calls
its own ``initialize_*_error_table`` set).  By default every table shipped
here is registered; pass ``tables=`` (e.g. :data:`TOOL_TABLES` entries) to
reproduce one program exactly.
"""

from __future__ import annotations

import errno as _errno
import os
from dataclasses import dataclass
from typing import Iterable, Iterator

_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
_CHARNUM = {c: i + 1 for i, c in enumerate(_CHARSET)}
ERRCODE_RANGE = 8  # bits of index inside a table
BITS_PER_CHAR = 6

# --- Rx / rxgen (negative codes; no com_err table: fixed texts) -------------

RX_SYMBOLS: dict[int, tuple[str, ...]] = {
    -1: ("RX_CALL_DEAD",),
    -2: ("RX_INVALID_OPERATION",),
    -3: ("RX_CALL_TIMEOUT",),
    -4: ("RX_EOF",),
    -5: ("RX_PROTOCOL_ERROR",),
    -6: ("RX_USER_ABORT",),
    -7: ("RX_ADDRINUSE",),
    -8: ("RX_MSGSIZE",),
    -100: ("RX_RESTARTING", "VRESTARTING"),
    -450: ("RXGEN_CC_MARSHAL",),
    -451: ("RXGEN_CC_UNMARSHAL",),
    -452: ("RXGEN_SS_MARSHAL",),
    -453: ("RXGEN_SS_UNMARSHAL",),
    -454: ("RXGEN_DECODE",),
    -455: ("RXGEN_OPCODE",),
    -456: ("RXGEN_SS_XDRFREE",),
    -457: ("RXGEN_CC_XDRFREE",),
}

_NEGATIVE_TEXT = {
    -1: "server or network not responding",
    -2: "invalid RPC (RX) operation",
    -3: "server not responding promptly",
    -7: "port address already in use",
}

# --- VICE codes (src/util/errors.h, afsint.xg) ------------------------------
# 101..120 fall in the errno range, so afs_error_message shows strerror() for
# them; the volume texts below are only OpenAFS's fallback for a C library
# whose strerror returns NULL (glibc never does).

VICE_SYMBOLS: dict[int, str] = {
    101: "VSALVAGE",
    102: "VNOVNODE",
    103: "VNOVOL",
    104: "VVOLEXISTS",
    105: "VNOSERVICE",
    106: "VOFFLINE",
    107: "VONLINE",
    108: "VDISKFULL",
    109: "VOVERQUOTA",
    110: "VBUSY",
    111: "VMOVED",
    112: "VIO",
    113: "VSALVAGING",
    120: "VRESTRICTED",
    1234: "VICECONNBAD",
    1235: "VICETOKENDEAD",
}

_VOLUME_FALLBACK = (
    "volume needs to be salvaged",
    "no such entry (vnode)",
    "volume does not exist / did not salvage",
    "volume already exists",
    "volume out of service",
    "volume offline (utility running)",
    "volume already online",
    "unknown volume error 108",
    "unknown volume error 109",
    "volume temporarily busy",
    "volume moved",
)

# Tables each OpenAFS 1.8.9 program registers (best effort, from the
# initialize_*_error_table calls on its normal code paths).
TOOL_TABLES: dict[str, tuple[str, ...]] = {
    "translate_et": ("KA", "RXK", "KTC", "ACFG", "CMD", "VL", "PT", "BZ", "U", "VOLS"),
    "bos": ("U", "KA", "RXK", "KTC", "ACFG", "CMD", "BZ"),   # ka_Init adds the first five
    "vos": ("U", "RXK", "KTC", "ACFG", "VL"),
    "pts": ("U", "ACFG", "KTC", "PT", "RXK"),
    "aklog": ("ACFG", "KTC", "PT", "RXK", "U"),
    "backup": ("ACFG", "BUCD", "BUDB", "BUTC", "BUTM", "BUTX", "CMD", "KA",
               "KTC", "RXK", "VL", "VOLS", "U"),
    "fs": (),
}
TRANSLATE_ET_TABLES = TOOL_TABLES["translate_et"]


# --- table name <-> base ----------------------------------------------------

def table_base(name: str) -> int:
    """The com_err base of table ``name`` (e.g. ``"VL"`` -> 363520)."""
    if not 1 <= len(name) <= 4:
        raise ValueError(f"com_err table name must have 1-4 characters: {name!r}")
    num = 0
    for ch in name:
        digit = _CHARNUM.get(ch)
        if digit is None:
            raise ValueError(f"illegal character {ch!r} in table name {name!r}")
        num = (num << BITS_PER_CHAR) + digit
    if _CHARNUM[name[0]] > _CHARNUM["z"]:
        raise ValueError(f"table name must start with a letter: {name!r}")
    return num << ERRCODE_RANGE


def _int32(code: int) -> int:
    return ((int(code) + 0x80000000) & 0xFFFFFFFF) - 0x80000000


def table_name(code: int) -> str:
    """``afs_error_table_name``: the lower-cased table name encoded in ``code``.

    Works for any 32-bit value like the C function does ("" for 0..255,
    ``"____"`` for -1).
    """
    num = (_int32(code) >> ERRCODE_RANGE) & 0xFFFFFF
    chars = []
    for shift in (18, 12, 6, 0):
        digit = (num >> shift) & 0x3F
        if digit:
            chars.append(_CHARSET[digit - 1])
    return "".join(chars).lower()


# --- the table data (loaded lazily) ----------------------------------------

@dataclass(frozen=True, slots=True)
class ErrorTable:
    name: str                           # as declared in the .et file ("VL", "uae")
    base: int
    source: str                         # path in the OpenAFS tree, or "" for pseudo tables
    entries: tuple[tuple[str, str], ...]  # (symbol, message) by index; pseudo: see codes

    def __len__(self) -> int:
        return len(self.entries)

    def codes(self) -> Iterator[tuple[int, str, str]]:
        """(code, symbol, message) for every entry."""
        for i, (sym, msg) in enumerate(self.entries):
            yield self.base + i, sym, msg


class _Registry:
    __slots__ = ("tables", "by_base", "by_name", "symbol_to_code", "code_to_symbol")

    def __init__(self) -> None:
        from ._etdata import TABLES

        self.tables: tuple[ErrorTable, ...] = tuple(
            ErrorTable(name, table_base(name), src, tuple(entries))
            for name, src, entries in TABLES
        )
        self.by_base = {t.base: t for t in self.tables}
        self.by_name = {t.name.upper(): t for t in self.tables}
        s2c: dict[str, int] = {}
        c2s: dict[int, str] = {}
        for t in self.tables:
            for code, sym, _ in t.codes():
                s2c.setdefault(sym, code)
                c2s.setdefault(code, sym)
        for code, syms in RX_SYMBOLS.items():
            for sym in syms:
                s2c.setdefault(sym, code)
            c2s.setdefault(code, syms[0])
        for code, sym in VICE_SYMBOLS.items():
            s2c.setdefault(sym, code)
            c2s.setdefault(code, sym)
        self.symbol_to_code = s2c
        self.code_to_symbol = c2s


_registry: _Registry | None = None


def _reg() -> _Registry:
    global _registry
    if _registry is None:
        _registry = _Registry()
    return _registry


def iter_tables() -> Iterator[ErrorTable]:
    """Every com_err table shipped, in a fixed order."""
    yield from _reg().tables


def get_table(name: str) -> ErrorTable:
    """The table called ``name`` (case-insensitive: ``"vl"``, ``"VL"``)."""
    try:
        return _reg().by_name[name.upper()]
    except KeyError:
        raise KeyError(f"unknown com_err table {name!r}") from None


def code_from_name(symbol: str) -> int:
    """``"VL_NOENT"`` -> 363524; also Rx/rxgen and VICE symbols."""
    try:
        return _reg().symbol_to_code[symbol]
    except KeyError:
        raise KeyError(f"unknown error symbol {symbol!r}") from None


def symbol(code: int) -> str | None:
    """The symbolic name of ``code`` (``363524`` -> ``"VL_NOENT"``), or None.

    Codes 0..255 other than the VICE ones are errno values: their ``errno``
    module name (``"ENOENT"``) is returned.
    """
    code = _int32(code)
    sym = _reg().code_to_symbol.get(code)
    if sym is None and 0 < code < 256:
        sym = _errno.errorcode.get(code)
    return sym


# --- afs_error_message -------------------------------------------------------

def _negative_message(code: int) -> str:
    text = _NEGATIVE_TEXT.get(code)
    if text is not None:
        return text
    if -500 < code <= -450:
        return f"RPC interface mismatch ({code})"
    return f"unknown RPC error ({code})"


def _unknown(code: int, table_num: int, offset: int) -> str:
    text = "Unknown code "
    if table_num:
        text += table_name(table_num) + " "
    return f"{text}{offset} ({code})"


def error_message(code: int, tables: Iterable[str] | None = None) -> str:
    """The text ``afs_error_message(code)`` prints in OpenAFS 1.8.9.

    ``tables``: names of the registered tables (default: all shipped).
    """
    code = _int32(code)
    if code < 0:
        return _negative_message(code)
    offset = code & ((1 << ERRCODE_RANGE) - 1)
    table_num = code - offset
    if not table_num:
        try:
            return os.strerror(offset)
        except ValueError:  # a C library whose strerror returns NULL
            if offset < 140:
                if 101 <= code <= 111:
                    return _VOLUME_FALLBACK[code - 101]
                return "unknown volume error"
            return _unknown(code, 0, offset)
    table = _reg().by_base.get(table_num)
    if table is not None and tables is not None:
        wanted = {t.upper() for t in tables}
        if table.name.upper() not in wanted:
            table = None
    if table is None or offset >= len(table.entries):
        return _unknown(code, table_num, offset)
    return table.entries[offset][1]


def translate_et(code: int, tables: Iterable[str] | None = TRANSLATE_ET_TABLES) -> str:
    """One output line of OpenAFS's ``translate_et <code>`` (without newline)."""
    code = _int32(code)
    return f"{code} ({table_name(code)}).{code & 0xFF} = {error_message(code, tables)}"


# --- errno conversions around the file server (protocol notes 3.3, 6.2) ----

@dataclass(frozen=True)
class _ErrnoMap:
    """errno <-> AFS code conversions, by errno *name* (values are per-OS).

    * ``server_to_vice``: the file/volume server reports these local errno
      values with VICE codes (ENOSPC -> VDISKFULL, EDQUOT -> VOVERQUOTA).
    * ``client_from_vice``: ``afs_CheckCode``'s final mapping of a VICE code
      to the errno an application sees.
    * ``uae``: with the ERRORTRANS capability errno values travel as codes of
      the ``uae`` table; ``to_uae``/``from_uae`` convert using the symbol
      names (UAE<X> <-> E<X>).
    """

    server_to_vice: dict[str, int]
    client_from_vice: dict[int, str]

    def to_wire(self, err: int) -> int:
        """Server side: local errno -> code sent in the ABORT."""
        name = _errno.errorcode.get(err)
        if name in self.server_to_vice:
            return self.server_to_vice[name]
        return err

    def to_local(self, code: int) -> int:
        """Client side: VICE/uae code -> local errno value (else unchanged)."""
        code = self.from_uae(code)
        name = self.client_from_vice.get(code)
        if name is not None and hasattr(_errno, name):
            return getattr(_errno, name)
        return code

    @staticmethod
    def to_uae(err: int) -> int:
        """Local errno -> ``uae`` code (unchanged when there is no UAE twin)."""
        name = _errno.errorcode.get(err)
        if name is None:
            return err
        try:
            return code_from_name("UA" + name)
        except KeyError:
            return err

    @staticmethod
    def from_uae(code: int) -> int:
        """``uae`` code -> local errno (unchanged if not a known uae code)."""
        if code & ~0xFF != table_base("uae"):
            return code
        sym = symbol(code)
        if sym and sym.startswith("UAE") and hasattr(_errno, sym[2:]):
            return getattr(_errno, sym[2:])
        return code


errno_map = _ErrnoMap(
    server_to_vice={"ENOSPC": 108, "EDQUOT": 109},
    client_from_vice={102: "EIO", 108: "ENOSPC", 109: "EDQUOT", 105: "ETIMEDOUT"},
)
