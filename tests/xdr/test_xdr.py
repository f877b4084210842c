"""XDR codec: exact wire forms, bounds checks, and hypothesis properties."""

import struct

import pytest
from hypothesis import given, settings, strategies as st

from kafs.errors import DecodeError
from kafs.xdr import Decoder, EncodeError, Encoder, NeedMore, StreamDecoder


def enc(fn, *a):
    e = Encoder()
    getattr(e, fn)(*a)
    return e.getvalue()


def test_scalars_wire():
    assert enc("int32", -1) == b"\xff\xff\xff\xff"
    assert enc("uint32", 0x01020304) == b"\x01\x02\x03\x04"
    # hyper: high word first, then low word
    assert enc("int64", 0x0000000100000002) == b"\0\0\0\x01\0\0\0\x02"
    assert enc("uint64", 2**64 - 1) == b"\xff" * 8
    assert enc("bool", True) == b"\0\0\0\x01"


def test_scalar_range_checked():
    for fn, v in [("int32", 2**31), ("uint32", -1), ("int64", 2**63), ("uint64", -1), ("int32", "x")]:
        with pytest.raises(EncodeError):
            enc(fn, v)


def test_narrow_types_widened():
    d = Decoder(b"\xff\xff\xff\x80" b"\0\0\0\x80" b"\xff\xff\x80\x00" b"\0\0\xff\xff")
    assert d.char() == -128
    assert d.uchar() == 0x80
    assert d.short() == -32768
    assert d.ushort() == 0xFFFF
    d.done()


def test_char_array_is_ints():
    w = enc("chars", "ab", 4)
    assert w == b"\0\0\0a\0\0\0b" + b"\0" * 8
    assert Decoder(w).chars(4) == "ab"
    # bytes >= 0x80 are sign-extended like a C char
    w = enc("chars", "\u00e9", 3)
    assert w[:8] == b"\xff\xff\xff\xc3\xff\xff\xff\xa9"
    assert Decoder(w).chars(3) == "\u00e9"
    with pytest.raises(EncodeError):
        enc("chars", "abcde", 4)
    with pytest.raises(EncodeError):
        enc("chars", "a\0b", 4)
    # exactly N characters: no NUL on the wire, still decodes
    assert Decoder(enc("chars", "abcd", 4)).chars(4) == "abcd"


def test_opaque_and_string_padding():
    assert enc("opaque_fixed", b"abcde", 5) == b"abcde\0\0\0"
    assert enc("opaque", b"abcde", 10) == b"\0\0\0\x05abcde\0\0\0"
    assert enc("string", "abcd", 4) == b"\0\0\0\x04abcd"
    assert enc("opaque", b"", None) == b"\0\0\0\0"
    with pytest.raises(EncodeError):
        enc("string", "abcde", 4)
    with pytest.raises(EncodeError):
        enc("opaque", b"abcde", 4)
    with pytest.raises(EncodeError):
        enc("opaque_fixed", b"abc", 4)
    d = Decoder(b"\0\0\0\x05abcde\0\0\0")
    assert d.opaque(5) == b"abcde"
    d.done()


def test_string_bound_checked_on_decode():
    w = enc("string", "abcde", None)
    with pytest.raises(DecodeError):
        Decoder(w).string(4)
    assert Decoder(w).string(5) == "abcde"


def test_string_non_utf8_round_trips():
    s = b"\xffab".decode("utf-8", "surrogateescape")
    assert Decoder(enc("string", s, 10)).string(10) == s


def test_counted_arrays():
    w = enc("prim_list", "i", [1, -2, 3], 5)
    assert w == struct.pack(">I3i", 3, 1, -2, 3)
    assert Decoder(w).prim_list("i", 5) == [1, -2, 3]
    with pytest.raises(DecodeError):
        Decoder(w).prim_list("i", 2)
    with pytest.raises(EncodeError):
        enc("prim_list", "i", [1, 2, 3], 2)
    assert Decoder(enc("prim_array", "Q", [1, 2], 2)).prim_array("Q", 2) == [1, 2]
    with pytest.raises(EncodeError):
        enc("prim_array", "i", [1], 2)


def test_huge_count_fails_fast():
    # a count of 2^31 with 10 bytes behind it: DecodeError before allocating
    data = struct.pack(">I", 2**31) + b"\0" * 10
    for fn in (lambda d: d.prim_list("i", None), lambda d: d.count(None, 4),
               lambda d: d.opaque(None), lambda d: d.string(None),
               lambda d: d.struct_list(None, struct.Struct(">i"), tuple)):
        with pytest.raises(DecodeError):
            fn(Decoder(data))
    # zero-sized items still cannot claim more items than bytes
    with pytest.raises(DecodeError):
        Decoder(data).count(None, 0)


def test_optional():
    d = Decoder(b"\0\0\0\0" b"\0\0\0\x01\0\0\0\x07" b"\0\0\0\x02")
    assert d.optional(Decoder.int32) is None
    assert d.optional(Decoder.int32) == 7
    with pytest.raises(DecodeError):
        d.optional(Decoder.int32)


def test_optional_depth_limited():
    # a linked list deeper than MAX_DEPTH: DecodeError, not RecursionError
    def node(d):
        return (d.int32(), d.optional(node))

    data = b"\0\0\0\x01\0\0\0\x05" * 5000 + b"\0\0\0\0"
    with pytest.raises(DecodeError):
        Decoder(data).optional(node)


def test_done_and_remaining():
    d = Decoder(b"\0\0\0\x01\0\0")
    assert d.int32() == 1
    assert d.remaining == 2
    with pytest.raises(DecodeError):
        d.done()
    with pytest.raises(DecodeError):
        d.int32()


def test_decoder_rejects_non_buffers():
    with pytest.raises(DecodeError):
        Decoder("text")


def test_stream_decoder_asks_exact_deficit():
    d = StreamDecoder(b"\0\0\0\x08ab")
    with pytest.raises(NeedMore) as ei:
        d.opaque(100)
    assert ei.value.n == 6


# -- hypothesis -----------------------------------------------------------------

_READERS = [
    lambda d: d.int32(), lambda d: d.uint32(), lambda d: d.int64(), lambda d: d.uint64(),
    lambda d: d.bool(), lambda d: d.char(), lambda d: d.ushort(), lambda d: d.float64(),
    lambda d: d.opaque_fixed(5), lambda d: d.opaque(None), lambda d: d.opaque(8),
    lambda d: d.string(None), lambda d: d.string(3), lambda d: d.chars(3), lambda d: d.uchars(2),
    lambda d: d.prim_list("i", None), lambda d: d.prim_list("Q", 4), lambda d: d.prim_array("i", 2),
    lambda d: d.count(None, 4), lambda d: d.optional(Decoder.int32),
    lambda d: d.struct_list(None, struct.Struct(">ii"), tuple),
]


@settings(max_examples=300)
@given(st.binary(max_size=64), st.lists(st.integers(0, len(_READERS) - 1), min_size=1, max_size=8))
def test_primitives_never_raise_other_errors(data, ops):
    d = Decoder(data)
    try:
        for i in ops:
            _READERS[i](d)
        d.done()
    except DecodeError:
        pass


@given(st.lists(st.one_of(
    st.tuples(st.just("int32"), st.integers(-2**31, 2**31 - 1)),
    st.tuples(st.just("uint32"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("int64"), st.integers(-2**63, 2**63 - 1)),
    st.tuples(st.just("uint64"), st.integers(0, 2**64 - 1)),
    st.tuples(st.just("opaque"), st.binary(max_size=20)),
    st.tuples(st.just("string"), st.text(max_size=10).filter(lambda s: "\0" not in s)),
    st.tuples(st.just("chars"), st.text(max_size=3).filter(
        lambda s: "\0" not in s and len(s.encode()) <= 8)),
    st.tuples(st.just("ilist"), st.lists(st.integers(-2**31, 2**31 - 1), max_size=5)),
)))
def test_round_trip(items):
    e = Encoder()
    for kind, v in items:
        if kind == "chars":
            e.chars(v, 8)
        elif kind == "ilist":
            e.prim_list("i", v, 5)
        else:
            getattr(e, kind)(v)
    assert len(e) % 4 == 0
    d = Decoder(e.getvalue())
    for kind, v in items:
        if kind == "chars":
            got = d.chars(8)
        elif kind == "ilist":
            got = d.prim_list("i", 5)
        else:
            got = getattr(d, kind)()
        assert got == v
    d.done()
