"""XDR (RFC 4506, as OpenAFS's rxgen uses it) encoder and decoder.

Everything on the wire is a sequence of 4-byte big-endian units:

* ``int``/``afs_int32``/``long``/enum/bool and the narrow types ``char``,
  ``short`` (and their unsigned forms) are 4 bytes each;
* ``hyper``/``afs_int64`` are 8 bytes, high word first;
* ``char name[N]`` is N ints (one per character), ``opaque x[N]`` is N
  bytes padded to 4, ``opaque x<N>``/``string x<N>`` are a length then the
  padded bytes, ``T x<N>`` a count then the items.

The :class:`Decoder` checks every length and count against its declared
bound *and* against the bytes that are actually left before it allocates
anything; any malformed input raises :class:`kafs.errors.DecodeError` and
nothing else.  Generated code (``kafs.rpc.*``) packs runs of fixed-size
fields with one precompiled :class:`struct.Struct` through
:meth:`Encoder.pack` / :meth:`Decoder.unpack`.
"""

from __future__ import annotations

import struct
from struct import Struct

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms to import
    from typing import Callable

from kafs.errors import DecodeError, KafsError

__all__ = [
    "Decoder",
    "Encoder",
    "EncodeError",
    "DecodeError",
    "NeedMore",
    "MAX_DEPTH",
    "cstr_from_ints",
    "ints_from_cstr",
]

I32 = Struct(">i")
U32 = Struct(">I")
I64 = Struct(">q")
U64 = Struct(">Q")
SCHAR = Struct(">3xb")
UCHAR = Struct(">3xB")
SSHORT = Struct(">2xh")
USHORT = Struct(">2xH")
F32 = Struct(">f")
F64 = Struct(">d")
_ZERO = b"\0\0\0\0"

#: Deepest nesting of optional data (``T *p`` in a struct, linked lists)
#: the decoder follows before it gives up with DecodeError.
MAX_DEPTH = 200


class EncodeError(KafsError, ValueError):
    """A value that cannot be XDR-encoded (out of range, too long, wrong type)."""


class NeedMore(Exception):
    """Raised by a streaming decoder: ``n`` more bytes are needed (internal)."""

    def __init__(self, n: int):
        super().__init__(n)
        self.n = n


def _pad(n: int) -> int:
    return (4 - (n & 3)) & 3


def cstr_from_ints(raw: bytes) -> str:
    """Decode a ``char name[N]`` field given its 4*N wire bytes.

    Each character travels as a 32-bit int; its value is the low byte (as C's
    xdr_char truncates).  The string ends at the first NUL.
    """
    b = raw[3::4]
    i = b.find(0)
    if i >= 0:
        b = b[:i]
    return b.decode("utf-8", "surrogateescape")


def ints_from_cstr(value: str, n: int) -> bytes:
    """Encode a str as ``char name[N]``: 4*N bytes, NUL padded.

    Bytes >= 0x80 are sign-extended, as a C ``char`` on the platforms OpenAFS
    runs on.  Raises EncodeError if the string (UTF-8) is longer than N or
    contains a NUL.
    """
    if not isinstance(value, str):
        raise EncodeError(f"char[{n}] field needs a str, not {type(value).__name__}")
    b = value.encode("utf-8", "surrogateescape")
    if len(b) > n:
        raise EncodeError(f"string of {len(b)} bytes does not fit char[{n}]")
    if 0 in b:
        raise EncodeError("string contains a NUL byte")
    out = bytearray(4 * n)
    out[3 : 4 * len(b) : 4] = b
    if max(b, default=0) >= 0x80:
        for i, c in enumerate(b):
            if c >= 0x80:
                out[4 * i : 4 * i + 3] = b"\xff\xff\xff"
    return bytes(out)


def uchars_from_ints(raw: bytes) -> bytes:
    """``u_char x[N]``: the low byte of each of the N ints, as bytes."""
    return raw[3::4]


def ints_from_bytes(value: bytes, n: int, signext: bool = False) -> bytes:
    """Encode up to N bytes as N ints (zero padded), optionally sign-extended."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise EncodeError(f"char[{n}] field needs bytes, not {type(value).__name__}")
    value = bytes(value)
    if len(value) > n:
        raise EncodeError(f"{len(value)} bytes do not fit char[{n}]")
    out = bytearray(4 * n)
    out[3 : 4 * len(value) : 4] = value
    if signext and max(value, default=0) >= 0x80:
        for i, c in enumerate(value):
            if c >= 0x80:
                out[4 * i : 4 * i + 3] = b"\xff\xff\xff"
    return bytes(out)


ints_from_uchars = ints_from_bytes


def _text(value: str, what: str) -> bytes:
    if not isinstance(value, str):
        raise EncodeError(f"{what} needs a str, not {type(value).__name__}")
    b = value.encode("utf-8", "surrogateescape")
    if 0 in b:
        raise EncodeError(f"{what} contains a NUL byte")
    return b


class Encoder:
    """Appends XDR items to a bytearray (``.buf``); ``getvalue()`` returns bytes."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self.buf)

    def __len__(self) -> int:
        return len(self.buf)

    # -- scalars ---------------------------------------------------------
    def pack(self, st: Struct, *values) -> None:
        try:
            self.buf += st.pack(*values)
        except (struct.error, TypeError) as e:
            raise EncodeError(f"cannot encode {values!r:.200}: {e}") from None

    def _one(self, st: Struct, v) -> None:
        try:
            self.buf += st.pack(v)
        except (struct.error, TypeError) as e:
            raise EncodeError(f"cannot encode {v!r:.100}: {e}") from None

    def int32(self, v: int) -> None:
        self._one(I32, v)

    def uint32(self, v: int) -> None:
        self._one(U32, v)

    def int64(self, v: int) -> None:
        self._one(I64, v)

    def uint64(self, v: int) -> None:
        self._one(U64, v)

    def bool(self, v) -> None:
        self.buf += I32.pack(1 if v else 0)

    def float32(self, v: float) -> None:
        self._one(F32, v)

    def float64(self, v: float) -> None:
        self._one(F64, v)

    # -- bytes and strings -------------------------------------------------
    def opaque_fixed(self, value: bytes, n: int) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise EncodeError(f"opaque[{n}] needs bytes, not {type(value).__name__}")
        if len(value) != n:
            raise EncodeError(f"opaque[{n}] given {len(value)} bytes")
        self.buf += value
        self.buf += _ZERO[: _pad(n)]

    def opaque(self, value: bytes, maxlen: int | None = None) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise EncodeError(f"opaque needs bytes, not {type(value).__name__}")
        n = len(value)
        if maxlen is not None and n > maxlen:
            raise EncodeError(f"opaque of {n} bytes exceeds bound {maxlen}")
        if n > 0xFFFFFFFF:
            raise EncodeError("opaque too long")
        self.buf += U32.pack(n)
        self.buf += value
        self.buf += _ZERO[: _pad(n)]

    def string(self, value: str, maxlen: int | None = None) -> None:
        b = _text(value, "string")
        n = len(b)
        if maxlen is not None and n > maxlen:
            raise EncodeError(f"string of {n} bytes exceeds bound {maxlen}")
        self.buf += U32.pack(n)
        self.buf += b
        self.buf += _ZERO[: _pad(n)]

    def chars(self, value: str, n: int) -> None:
        """``char name[N]``: N ints."""
        self.buf += ints_from_cstr(value, n)

    def uchars(self, value: bytes, n: int, signext: bool = False) -> None:
        self.buf += ints_from_bytes(value, n, signext)

    # -- arrays --------------------------------------------------------------
    def count(self, n: int, maxn: int | None = None) -> None:
        if maxn is not None and n > maxn:
            raise EncodeError(f"{n} items exceed bound {maxn}")
        self._one(U32, n)

    def prim_array(self, fmt: str, values, n: int) -> None:
        """Fixed array ``T x[N]`` of a scalar type (struct code ``fmt``)."""
        values = list(values) if not isinstance(values, (list, tuple)) else values
        if len(values) != n:
            raise EncodeError(f"array of {n} given {len(values)} items")
        try:
            self.buf += struct.pack(">%d%s" % (n, fmt), *values)
        except (struct.error, TypeError) as e:
            raise EncodeError(f"cannot encode array: {e}") from None

    def prim_list(self, fmt: str, values, maxn: int | None = None) -> None:
        """Counted array ``T x<N>`` of a scalar type."""
        values = list(values) if not isinstance(values, (list, tuple)) else values
        n = len(values)
        if maxn is not None and n > maxn:
            raise EncodeError(f"{n} items exceed bound {maxn}")
        try:
            self.buf += struct.pack(">I%d%s" % (n, fmt), n, *values)
        except (struct.error, TypeError) as e:
            raise EncodeError(f"cannot encode array: {e}") from None

    def optional(self, present: bool) -> None:
        self.buf += I32.pack(1 if present else 0)

    def raw(self, data: bytes) -> None:
        self.buf += data


class Decoder:
    """Reads XDR items from a bytes-like object.

    ``pos`` is the read offset, ``remaining`` the bytes left; :meth:`done`
    raises DecodeError if anything is left over.
    """

    __slots__ = ("_mv", "pos", "end", "depth")

    def __init__(self, data, pos: int = 0) -> None:
        try:
            mv = memoryview(data)
        except TypeError:
            raise DecodeError(f"cannot decode from {type(data).__name__}") from None
        if mv.ndim != 1 or mv.itemsize != 1 or mv.format not in ("B", "b", "c"):
            mv = mv.cast("B")
        self._mv = mv
        self.pos = pos
        self.end = len(mv)
        self.depth = 0

    # -- bookkeeping ------------------------------------------------------------
    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def _short(self, need: int):
        raise DecodeError(
            f"short XDR data: need {need} bytes at offset {self.pos}, "
            f"only {self.end - self.pos} left"
        )

    def done(self) -> None:
        if self.pos != self.end:
            raise DecodeError(f"{self.end - self.pos} trailing bytes after XDR data")

    def rest(self) -> bytes:
        b = bytes(self._mv[self.pos : self.end])
        self.pos = self.end
        return b

    def _take(self, n: int) -> int:
        pos = self.pos
        if pos + n > self.end:
            self._short(n)
        self.pos = pos + n
        return pos

    # -- scalars ---------------------------------------------------------
    def unpack(self, st: Struct) -> tuple:
        pos = self.pos
        end = pos + st.size
        if end > self.end:
            self._short(st.size)
        self.pos = end
        return st.unpack_from(self._mv, pos)

    def int32(self) -> int:
        pos = self.pos
        if pos + 4 > self.end:
            self._short(4)
        self.pos = pos + 4
        return I32.unpack_from(self._mv, pos)[0]

    def uint32(self) -> int:
        pos = self.pos
        if pos + 4 > self.end:
            self._short(4)
        self.pos = pos + 4
        return U32.unpack_from(self._mv, pos)[0]

    def char(self) -> int:
        return SCHAR.unpack_from(self._mv, self._take(4))[0]

    def uchar(self) -> int:
        return UCHAR.unpack_from(self._mv, self._take(4))[0]

    def short(self) -> int:
        return SSHORT.unpack_from(self._mv, self._take(4))[0]

    def ushort(self) -> int:
        return USHORT.unpack_from(self._mv, self._take(4))[0]

    def int64(self) -> int:
        return I64.unpack_from(self._mv, self._take(8))[0]

    def uint64(self) -> int:
        return U64.unpack_from(self._mv, self._take(8))[0]

    def bool(self) -> bool:
        return self.int32() != 0

    def float32(self) -> float:
        return F32.unpack_from(self._mv, self._take(4))[0]

    def float64(self) -> float:
        return F64.unpack_from(self._mv, self._take(8))[0]

    # -- bytes and strings -------------------------------------------------
    def opaque_fixed(self, n: int) -> bytes:
        pos = self._take(n + _pad(n))
        return bytes(self._mv[pos : pos + n])

    def _length(self, maxlen: int | None, what: str) -> int:
        n = self.uint32()
        if maxlen is not None and n > maxlen:
            raise DecodeError(f"{what} length {n} exceeds bound {maxlen}")
        return n

    def opaque(self, maxlen: int | None = None) -> bytes:
        n = self._length(maxlen, "opaque")
        pos = self._take(n + _pad(n))
        return bytes(self._mv[pos : pos + n])

    def string(self, maxlen: int | None = None) -> str:
        n = self._length(maxlen, "string")
        pos = self._take(n + _pad(n))
        b = bytes(self._mv[pos : pos + n])
        i = b.find(0)
        if i >= 0:
            b = b[:i]
        return b.decode("utf-8", "surrogateescape")

    def chars(self, n: int) -> str:
        pos = self._take(4 * n)
        return cstr_from_ints(bytes(self._mv[pos : pos + 4 * n]))

    def uchars(self, n: int) -> bytes:
        pos = self._take(4 * n)
        return bytes(self._mv[pos + 3 : pos + 4 * n : 4])

    # -- arrays --------------------------------------------------------------
    def count(self, maxn: int | None, minsize: int) -> int:
        """Read an array count; check it against ``maxn`` and the bytes left.

        ``minsize`` is the smallest encoding of one item, so ``count *
        minsize`` bytes must still be there before anything is allocated.
        """
        n = self.uint32()
        if maxn is not None and n > maxn:
            raise DecodeError(f"array count {n} exceeds bound {maxn}")
        need = n * (minsize if minsize > 0 else 1)
        if need > self.end - self.pos:
            self._short(need)
        return n

    def prim_array(self, fmt: str, n: int) -> list:
        size = 8 if fmt in "qQd" else 4
        return list(struct.unpack_from(">%d%s" % (n, fmt), self._mv, self._take(n * size)))

    def prim_list(self, fmt: str, maxn: int | None = None) -> list:
        size = 8 if fmt in "qQd" else 4
        n = self.count(maxn, size)
        pos = self._take(n * size)
        return list(struct.unpack_from(">%d%s" % (n, fmt), self._mv, pos))

    def struct_list(self, maxn: int | None, st: Struct, make: Callable[[tuple], object]) -> list:
        """Counted array of a fixed-size struct: one ``iter_unpack`` pass."""
        n = self.count(maxn, st.size)
        pos = self._take(n * st.size)
        return [make(t) for t in st.iter_unpack(self._mv[pos : pos + n * st.size])]

    def optional(self, decode: Callable[["Decoder"], object]):
        """``T *p`` in a struct: 0 (absent) or 1 followed by T."""
        flag = self.uint32()
        if flag == 0:
            return None
        if flag != 1:
            raise DecodeError(f"bad optional-data flag {flag}")
        if self.depth >= MAX_DEPTH:
            raise DecodeError("optional data nested too deeply")
        self.depth += 1
        try:
            return decode(self)
        finally:
            self.depth -= 1

    def raw(self, n: int) -> bytes:
        pos = self._take(n)
        return bytes(self._mv[pos : pos + n])


class StreamDecoder(Decoder):
    """A Decoder over a prefix of a stream: running short raises NeedMore.

    Used to decode the IN arguments of split calls from an Rx call without
    reading past them: decode, and on NeedMore(n) read exactly n more bytes
    and try again.  Every request is a lower bound on what is still needed.
    """

    __slots__ = ()
    limit = 1 << 24

    def _short(self, need: int):
        deficit = need - (self.end - self.pos)
        if self.end + deficit > self.limit:
            raise DecodeError("split-call arguments too large")
        raise NeedMore(deficit)

