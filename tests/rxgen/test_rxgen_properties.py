"""Hypothesis over every generated decoder of every kafs.rpc module.

* arbitrary bytes -> a value or DecodeError, never another exception;
* hostile counts (2^31 items with a few bytes behind) fail fast and small;
* values built from each struct's own type descriptors round-trip exactly.
"""

import glob
import importlib
import os
import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kafs.errors import DecodeError
from kafs.rpc import runtime
from kafs.xdr import Decoder, Encoder

RPC = os.path.join(os.path.dirname(__file__), "..", "..", "src", "kafs", "rpc")
MODULES = [importlib.import_module(f"kafs.rpc.{os.path.basename(p)[:-3]}")
           for p in sorted(glob.glob(os.path.join(RPC, "*.xg")))]


def _classes():
    seen = {}
    for m in MODULES:
        for name, obj in sorted(vars(m).items()):
            if isinstance(obj, type) and (hasattr(obj, "_xdr_fields") or hasattr(obj, "_xdr_union")):
                seen.setdefault(f"{obj.__module__}.{obj.__qualname__}", (m, obj))
    return sorted(seen.items())


CLASSES = _classes()
DECODERS = sorted(
    (f"{m.__name__}.{name}", fn) for m in MODULES for name, fn in vars(m).items()
    if name.startswith("_") and (name.endswith("_odec") or name.endswith("_idec")))


def test_found_everything():
    names = {k.rsplit(".", 1)[1] for k, _ in CLASSES}
    assert {"nvldbentry", "vldbentry", "uvldbentry", "prcheckentry", "AFSFetchStatus",
            "afsUUID"} <= names
    assert len(DECODERS) > 200


# -- arbitrary bytes ----------------------------------------------------------------

def _check_decode(fn, data):
    d = Decoder(data)
    try:
        fn(d)
    except DecodeError:
        return
    assert 0 <= d.pos <= len(data)


@pytest.mark.parametrize("cls", [c for _, (_, c) in CLASSES], ids=[k for k, _ in CLASSES])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.one_of(st.binary(max_size=600),
                      st.lists(st.sampled_from([0, 1, 2, 3, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000]),
                               max_size=40).map(lambda v: struct.pack(f">{len(v)}I", *v))))
def test_struct_decode_arbitrary_bytes(cls, data):
    _check_decode(cls.decode, data)


@pytest.mark.parametrize("fn", [f for _, f in DECODERS], ids=[k for k, _ in DECODERS])
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.one_of(st.binary(max_size=300),
                      st.lists(st.sampled_from([0, 1, 5, 0x7FFFFFFF, 0xFFFFFFFF]),
                               max_size=30).map(lambda v: struct.pack(f">{len(v)}I", *v))))
def test_param_decoders_arbitrary_bytes(fn, data):
    _check_decode(fn, data)


HOSTILE = [struct.pack(">I", 2**31) * 4 + b"\0" * 10, b"\xff" * 64, b"\x7f\xff\xff\xff" * 16,
           b"\0\0\0\x01" * 3 + b"\x80\0\0\0" * 4]


@pytest.mark.parametrize("fn", [c.decode for _, (_, c) in CLASSES] + [f for _, f in DECODERS],
                         ids=[k for k, _ in CLASSES] + [k for k, _ in DECODERS])
def test_hostile_counts_fail_fast_and_small(fn):
    tracemalloc.start()
    try:
        for data in HOSTILE:
            _check_decode(fn, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024


# -- round trips ------------------------------------------------------------------------

_PRIM = {
    "i": st.integers(-2**31, 2**31 - 1), "I": st.integers(0, 2**32 - 1),
    "q": st.integers(-2**63, 2**63 - 1), "Q": st.integers(0, 2**64 - 1),
    "b": st.integers(-128, 127), "B": st.integers(0, 255),
    "h": st.integers(-32768, 32767), "H": st.integers(0, 65535), "?": st.booleans(),
    "f": st.floats(width=32, allow_nan=False), "d": st.floats(allow_nan=False),
}


def _text(maxlen):
    return st.binary(max_size=maxlen).filter(lambda b: 0 not in b).map(
        lambda b: b.decode("utf-8", "surrogateescape"))


_cache = {}


def strategy(desc, mod):
    kind = desc[0]
    if kind == "prim":
        return _PRIM[desc[1]]
    if kind == "chars":
        return _text(desc[1])
    if kind in ("bchars", "opaque"):
        return st.binary(min_size=desc[1], max_size=desc[1])
    if kind == "vopaque":
        return st.binary(max_size=min(desc[1] if desc[1] is not None else 40, 40))
    if kind == "string":
        return _text(min(desc[1] if desc[1] is not None else 40, 40))
    if kind == "array":
        return st.lists(strategy(desc[1], mod), min_size=desc[2], max_size=desc[2])
    if kind == "varray":
        return st.lists(strategy(desc[1], mod), max_size=min(desc[2] if desc[2] is not None else 3, 3))
    if kind == "optional":
        return st.none() | strategy(desc[1], mod)
    if kind in ("struct", "union"):
        cls = getattr(mod, desc[1])
        return class_strategy(cls, mod)
    raise AssertionError(desc)


def class_strategy(cls, mod):
    key = (cls, mod.__name__)
    if key in _cache:
        return _cache[key]
    _cache[key] = st.deferred(lambda: _build(cls, mod))
    return _cache[key]


def _build(cls, mod):
    if hasattr(cls, "_xdr_union"):
        disc_desc, arms, default = cls._xdr_union
        opts = [st.tuples(st.just(v), strategy(d, mod) if d else st.none()) for v, _, d in arms]
        if default is not None:
            used = {v for v, _, _ in arms}
            opts.append(st.tuples(_PRIM[disc_desc[1]].filter(lambda v: v not in used),
                                  strategy(default[1], mod) if default[1] else st.none()))
        return st.one_of(opts).map(lambda t: cls(*t))
    fields = cls._xdr_fields
    if fields and fields[-1][1] == ("body",):  # customized BBS/CBS: lengths follow the body
        n = len(fields) - 1

        def mk(t):
            body, extra, head = t
            ints = list(head)
            if n == 1:
                return cls(len(body), body)
            return cls(*ints[:-2], len(body) + extra, len(body), body)

        return st.tuples(st.binary(max_size=40), st.integers(0, 100),
                         st.lists(_PRIM["i"], min_size=n, max_size=n)).map(mk)
    return st.fixed_dictionaries({name: strategy(d, mod) for name, d in fields}).map(
        lambda kw: cls(**kw))


@pytest.mark.parametrize("mod,cls", [v for _, v in CLASSES], ids=[k for k, _ in CLASSES])
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_struct_round_trip(mod, cls, data):
    value = data.draw(class_strategy(cls, mod))
    e = Encoder()
    value.encode(e)
    wire = e.getvalue()
    assert len(wire) % 4 == 0
    if getattr(cls, "_xdr_size", None) is not None:
        assert len(wire) == cls._xdr_size
    assert len(wire) >= cls._xdr_min
    d = Decoder(wire)
    assert cls.decode(d) == value
    d.done()


def test_runtime_afsuuid_matches_generated_layout():
    # the hand-written built-in afsUUID agrees with what the compiler inlines
    from kafs.rpc import common
    u = runtime.afsUUID(0xDEADBEEF, 1, 2, -3, 4, b"\x01\x02\x03\x04\x05\x06")
    ia = common.interfaceAddr(numberOfInterfaces=1, uuid=u)
    e = Encoder()
    ia.encode(e)
    e2 = Encoder()
    u.encode(e2)
    assert e.getvalue()[4:48] == e2.getvalue()
    assert common.interfaceAddr.decode(Decoder(e.getvalue())).uuid == u
