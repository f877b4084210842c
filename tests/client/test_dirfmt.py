"""kafs.client.dirfmt: the AFS directory format, without a server.

The byte-for-byte proof against OpenAFS's file server is
test_dirfmt_cell.py; here: the layout facts, the edits' invariants against
a dict model, and the strict parser against hand-broken and randomly
mutated directories.
"""

from __future__ import annotations

import ctypes
import errno
import re
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafs.client import dirfmt
from kafs.client.dirfmt import EPP, PAGE_SIZE, build, name_blobs, name_hash, parse
from kafs.errors import DecodeError

HASHTBL = 32 + 128


def u16(buf, off):
    return struct.unpack_from(">H", buf, off)[0]


def set_u16(buf, off, v):
    struct.pack_into(">H", buf, off, v)


def blob_of(d: dirfmt.Directory, name: bytes) -> int:
    """The first blob of an entry, by walking its chain in the bytes."""
    buf = d.to_bytes()
    b = u16(buf, HASHTBL + 2 * name_hash(name))
    while b:
        off = b * 32
        if buf[off + 12:off + 12 + len(name) + 1] == name + b"\0":
            return b
        b = u16(buf, off + 2)
    raise KeyError(name)


def ref_hash(name: bytes) -> int:
    """DirHash, in C integer arithmetic."""
    h = ctypes.c_uint32(0)
    for c in name:
        h = ctypes.c_uint32(h.value * 173 + c)
    t = h.value & 127
    if t == 0:
        return 0
    if ctypes.c_int32(h.value).value < 0:
        t = 128 - t
    return t


names_st = st.binary(min_size=1, max_size=dirfmt.AFSNAMEMAX).map(
    lambda b: b.replace(b"/", b"s").replace(b"\0", b"z"))


# -- hashing and sizes ----------------------------------------------------------

def test_name_hash_known_values():
    assert name_hash(b".") == 46
    assert name_hash(b"..") == (46 * 173 + 46) % 128 == 68
    assert name_hash(b"") == 0
    # a hash value with the top bit set folds to 128 - (h & 127)
    assert name_hash(b"hello") == 128 - 72 == 56    # h = 3489371592
    name = b"wxyzwxyz"
    h = 0
    for c in name:
        h = (h * 173 + c) % 2**32
    assert h >= 2**31 and h & 127
    assert name_hash(name) == 128 - (h & 127)


@given(st.binary(max_size=300))
def test_name_hash_is_dirhash(name):
    assert name_hash(name) == ref_hash(name)
    assert 0 <= name_hash(name) < 128


@pytest.mark.parametrize("n,blobs", [(1, 1), (15, 1), (16, 2), (47, 2), (48, 3),
                                     (255, 9), (256, 9)])
def test_name_blobs(n, blobs):
    assert name_blobs(b"x" * n) == blobs


# -- a new directory ---------------------------------------------------------------

def test_build_is_makedir_then_creates():
    data = build([], 7, 8, 1, 1)
    want = bytearray(PAGE_SIZE)
    set_u16(want, 0, 1)                                 # pgcount
    set_u16(want, 2, 1234)                              # tag
    want[4] = 64 - 13                                   # freecount, as MakeDir sets it
    want[5:7] = b"\xff\x7f"                             # header blobs, ".", ".."
    want[32] = 64 - 15                                  # alloMap[0]
    want[33:160] = bytes([64]) * 127                    # no other page
    set_u16(want, HASHTBL + 2 * 46, 13)                 # "." at blob 13
    set_u16(want, HASHTBL + 2 * 68, 14)                 # ".." at blob 14
    want[13 * 32:13 * 32 + 14] = b"\x01\0\0\0" + struct.pack(">II", 1, 1) + b".\0"
    want[14 * 32:14 * 32 + 15] = b"\x01\0\0\0" + struct.pack(">II", 7, 8) + b"..\0"
    assert data == bytes(want)
    d = parse(data)
    assert list(d.entries()) == [(b".", 1, 1), (b"..", 7, 8)]
    assert len(d) == 2 and d.pages == 1


def test_entries_in_blob_order_lookup_by_chain():
    ents = [(b"b%d" % i, 10 + i, 100 + i) for i in range(20)]
    d = parse(build(ents, 1, 1, 5, 6))
    assert list(d.entries()) == [(b".", 5, 6), (b"..", 1, 1)] + ents
    for n, v, u in ents:
        assert d.lookup(n) == (v, u)
        assert n in d
    assert d.lookup(b"nope") is None and b"nope" not in d
    assert d.lookup(b"b1\0") is None


# -- edits, as the server makes them ------------------------------------------------

def test_add_threads_at_the_head_of_its_chain():
    # two names in one bucket: the later one heads the chain
    a, b = b"a", None
    for i in range(10000):
        cand = b"n%d" % i
        if name_hash(cand) == name_hash(a):
            b = cand
            break
    d = parse(build([(a, 3, 3), (b, 4, 4)], 1, 1))
    buf = d.to_bytes()
    head = u16(buf, HASHTBL + 2 * name_hash(a))
    assert head == blob_of(d, b) == 16
    assert u16(buf, head * 32 + 2) == blob_of(d, a) == 15
    d.remove(b)
    assert u16(d.to_bytes(), HASHTBL + 2 * name_hash(a)) == 15


def test_remove_clears_28_bytes_a_blob_like_the_server():
    name = b"L" * 200                         # 7 blobs
    d = parse(build([(name, 3, 4)], 1, 1))
    first = blob_of(d, name)
    d.remove(name)
    buf = d.to_bytes()
    region = buf[first * 32:(first + 7) * 32]
    assert region[:28 * 7] == bytes(28 * 7)
    # the server leaves the rest: here the end of the name and its NUL
    tail = (b"\x00" * 12 + name + b"\0")[28 * 7:7 * 32]
    assert region[28 * 7:] == tail.ljust(7 * 32 - 28 * 7, b"\0")
    assert tail.strip(b"\0")                  # something was really left behind
    assert buf[32] == 64 - 15                 # the blobs are free again
    assert list(parse(buf).entries()) == [(b".", 1, 1), (b"..", 1, 1)]


def test_first_fit_reuses_holes_and_spills_to_a_new_page():
    d = parse(build([], 1, 1))
    for i in range(49):                       # fills page 0 (13 + 2 + 49 = 64)
        d.add(b"f%02d" % i, i + 2, 1)
    assert d.pages == 1 and d.to_bytes()[32] == 0
    d.add(b"spill", 99, 1)
    buf = d.to_bytes()
    assert d.pages == 2 and len(buf) == 2 * PAGE_SIZE
    assert u16(buf, 0) == 2
    p1 = buf[PAGE_SIZE:PAGE_SIZE + 32]
    assert p1 == b"\x00\x00\x04\xd2\x3f\x03" + bytes(26)   # tag, freecount 63, bitmap
    assert buf[33] == 62
    assert blob_of(d, b"spill") == 65
    d.remove(b"f10")
    d.remove(b"f11")
    d.add(b"x" * 20, 5, 5)                   # 2 blobs: into the hole f10, f11 left
    assert blob_of(d, b"x" * 20) == 15 + 10
    d.add(b"y" * 20, 6, 6)                   # 2 blobs: no hole of 2 on page 0 now
    assert blob_of(d, b"y" * 20) == 66
    parse(d.to_bytes())


def test_pages_past_the_allocation_map():
    name = lambda i: b"%04d" % i + b"p" * 250          # noqa: E731 - 9 blobs each
    d = parse(build([], 1, 1))
    i = 0
    while d.pages <= 130:
        d.add(name(i), i + 10, 1)
        i += 1
    buf = d.to_bytes()
    assert u16(buf, 0) == d.pages == len(buf) // PAGE_SIZE
    assert all(buf[32 + p] < 64 for p in range(128))
    victim = name(i - 10)
    page = blob_of(d, victim) // EPP
    assert 128 <= page < d.pages - 1
    d.remove(victim)                         # a hole on a page past 128
    # 6 blobs: page 0 has 4 left, pages 1-127 are full: the hole it is
    d.add(b"m" * 150, 1, 2)
    assert blob_of(d, b"m" * 150) // EPP == page
    assert parse(d.to_bytes()).lookup(b"m" * 150) == (1, 2)
    assert all(d.to_bytes()[32 + p] == (4 if p == 0 else 0) for p in range(128))


@pytest.fixture(scope="module")
def full_dir() -> bytes:
    d = parse(build([], 1, 1))
    i = 0
    with pytest.raises(OSError) as ei:
        while True:
            d.add(b"%05d" % i + b"q" * 251, i + 2, 1)
            i += 1
    assert ei.value.errno == errno.EFBIG
    return d.to_bytes()


def test_a_full_directory(full_dir):
    assert len(full_dir) == dirfmt.MAX_DIR_SIZE
    d = parse(full_dir)
    assert d.pages == 1023
    with pytest.raises(OSError) as ei:
        d.add(b"q" * 256, 1, 1)
    assert ei.value.errno == errno.EFBIG
    d.add(b"a", 1, 1)                         # page 0 has a single blob left... or none
    assert d.lookup(b"a") == (1, 1)
    assert parse(d.to_bytes()).to_bytes() == d.to_bytes()


def test_old_style_directory_without_a_page_count():
    buf = bytearray(build([(b"x", 2, 2)], 1, 1))
    set_u16(buf, 0, 0)
    d = parse(bytes(buf))
    d.add(b"y", 3, 3)                         # no new page: the count stays 0
    assert u16(d.to_bytes(), 0) == 0
    for i in range(60):
        d.add(b"z%d" % i, 10 + i, 1)          # a page is added: the count is set
    assert u16(d.to_bytes(), 0) == 2
    parse(d.to_bytes())


@pytest.mark.parametrize("name,why", [
    (b"", "empty"), (b"a/b", "'/'"), (b"a\0b", "NUL"), (b"x" * 257, "longer"),
])
def test_add_refuses_bad_names(name, why):
    d = parse(build([], 1, 1))
    with pytest.raises(ValueError, match=why):
        d.add(name, 2, 2)
    assert d.to_bytes() == build([], 1, 1)


def test_add_and_remove_errors():
    d = parse(build([(b"a", 2, 2)], 1, 1))
    with pytest.raises(FileExistsError):
        d.add(b"a", 3, 3)
    with pytest.raises(FileNotFoundError):
        d.remove(b"b")
    with pytest.raises(TypeError):
        d.add("a-str", 3, 3)
    with pytest.raises(ValueError):
        d.add(b"c", -1, 3)
    with pytest.raises(ValueError):
        d.add(b"c", 3, 1 << 32)
    assert d.to_bytes() == build([(b"a", 2, 2)], 1, 1)
    d.add(b"x" * 256, 4, 4)
    assert d.remove(b"x" * 256) == (4, 4)


def test_rename_and_set_parent_as_the_server_orders_them():
    d = parse(build([(b"old", 2, 2), (b"there", 3, 3)], 1, 1))
    d.rename(b"old", b"there")                # replaces: remove there, add there, remove old
    e = parse(build([(b"old", 2, 2), (b"there", 3, 3)], 1, 1))
    e.remove(b"there")
    e.add(b"there", 2, 2)
    e.remove(b"old")
    assert d.to_bytes() == e.to_bytes()
    with pytest.raises(ValueError):
        d.rename(b"there", b"there")
    with pytest.raises(FileNotFoundError):
        d.rename(b"gone", b"x")
    other = parse(build([], 9, 9, 5, 5))
    dirfmt.rename(d, b"there", other, b"moved")
    assert d.lookup(b"there") is None and other.lookup(b"moved") == (2, 2)
    other.set_parent(7, 7)
    assert other.lookup(b"..") == (7, 7)
    assert blob_of(other, b"..") == 14


# -- the model: any sequence of edits --------------------------------------------

ops_st = st.lists(st.tuples(st.sampled_from(["add", "remove"]), names_st,
                            st.integers(0, 2**32 - 1)), max_size=120)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(ops_st, st.lists(names_st, max_size=5))
def test_edits_match_a_dict_model_and_stay_valid(ops, extra):
    d = parse(build([], 1, 1))
    model = {b".": (1, 1), b"..": (1, 1)}
    for op, name, v in ops:
        if op == "add" and name not in model:
            d.add(name, v, v ^ 0x5A5A)
            model[name] = (v, v ^ 0x5A5A)
        elif op == "remove" and model and name not in (b".", b".."):
            victim = sorted(model)[v % len(model)]
            if victim in (b".", b".."):
                continue
            assert d.remove(victim) == model.pop(victim)
    assert len(d) == len(model)
    got = {n: (v, u) for n, v, u in d.entries()}
    assert got == model
    for n, fid in model.items():
        assert d.lookup(n) == fid
    for n in extra:
        assert d.lookup(n) == model.get(n)
    again = parse(d.to_bytes())
    assert again.to_bytes() == d.to_bytes()
    assert list(again.entries()) == list(d.entries())


# -- the strict parser --------------------------------------------------------------

def base_dir() -> bytearray:
    return bytearray(build([(b"file", 2, 2), (b"L" * 100, 3, 3), (b"x" * 20, 4, 4)]
                           + [(b"f%d" % i, 10 + i, 1) for i in range(60)], 1, 1))


def corrupt(fn):
    buf = base_dir()
    parse(bytes(buf))
    fn(buf)
    return bytes(buf)


def _chain_head(buf, name):
    return HASHTBL + 2 * name_hash(name)


def _blob(buf, name):
    return blob_of(parse(bytes(base_dir())), name)


CASES = {
    "empty": (lambda b: b.clear(), "empty"),
    "not whole pages": (lambda b: b.extend(b"\0" * 100), "not a multiple"),
    "truncated": (lambda b: b.__delitem__(slice(3000, None)), "not a multiple"),
    "page tag": (lambda b: set_u16(b, 2, 1235), "page 0 has tag 1235"),
    "page 1 tag": (lambda b: set_u16(b, PAGE_SIZE + 2, 0), "page 1 has tag 0"),
    "page count lies": (lambda b: set_u16(b, 0, 3), "header says 3 pages"),
    "extra page": (lambda b: b.extend(b[PAGE_SIZE:2 * PAGE_SIZE]), "header says 2 pages"),
    "alloMap lies": (lambda b: b.__setitem__(33, b[33] + 1), "allocation map gives page 1"),
    "alloMap past end": (lambda b: b.__setitem__(40, 3), "past the end"),
    "header blob free": (lambda b: b.__setitem__(5, 0xfe), "directory header"),
    "page header free": (lambda b: b.__setitem__(PAGE_SIZE + 5, b[PAGE_SIZE + 5] & 0xfe),
                         "page header"),
    "chain out of range": (lambda b: set_u16(b, _chain_head(b, b"file"), 200), "past the"),
    "chain into header": (lambda b: set_u16(b, _chain_head(b, b"file"), 5), "is a header"),
    "chain into page header": (lambda b: set_u16(b, _chain_head(b, b"file"), 64),
                               "is a header"),
    "chain loops": (lambda b: set_u16(b, _blob(b, b"file") * 32 + 2, _blob(b, b"file")),
                    "reached twice"),
    "chains share": (lambda b: set_u16(b, _blob(b, b"file") * 32 + 2, _blob(b, b"f3")),
                     "reached twice|belongs in hash chain"),
    "chain to a free blob": (lambda b: set_u16(b, _chain_head(b, b"file"), 120), "marked free"),
    "flag": (lambda b: b.__setitem__(_blob(b, b"file") * 32, 2), "flag 2"),
    "empty name": (lambda b: b.__setitem__(_blob(b, b"file") * 32 + 12, 0), "empty name"),
    "slash": (lambda b: b.__setitem__(_blob(b, b"file") * 32 + 13, ord("/")), "'/'"),
    "wrong bucket": (lambda b: b.__setitem__(_blob(b, b"file") * 32 + 13, ord("o")),
                     "belongs in hash chain"),
    "stray allocated blob": (lambda b: (b.__setitem__(PAGE_SIZE + 12, 0x80),
                                        b.__setitem__(33, b[33] - 1)),
                             r"blob 127 \(page 1, slot 63\) is marked allocated but no entry"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_directories(case):
    fn, msg = CASES[case]
    data = corrupt(fn)
    with pytest.raises(DecodeError) as ei:
        parse(data)
    assert str(ei.value).startswith("AFS directory: ")
    assert re.search(msg, str(ei.value))


def _two_pages_with(name: bytes, at_slot: int) -> bytearray:
    """A directory whose page 1 has an entry ``name`` at ``at_slot``, made by hand."""
    buf = bytearray(build([(b"f%d" % i, 10 + i, 1) for i in range(50)], 1, 1))
    assert len(buf) == 2 * PAGE_SIZE
    n = name_blobs(name)
    b = EPP + at_slot
    off = b * 32
    buf[off] = 1
    struct.pack_into(">II", buf, off + 4, 77, 77)
    end = min(off + 12 + len(name) + 1, 2 * PAGE_SIZE)
    buf[off + 12:end] = (name + b"\0")[:end - off - 12]
    set_u16(buf, off + 2, u16(buf, _chain_head(buf, name)))
    set_u16(buf, _chain_head(buf, name), b)
    bits = int.from_bytes(buf[PAGE_SIZE + 5:PAGE_SIZE + 13], "little")
    mask = (((1 << n) - 1) << at_slot) & ((1 << 64) - 1)
    bits |= mask
    buf[PAGE_SIZE + 5:PAGE_SIZE + 13] = bits.to_bytes(8, "little")
    buf[33] = 64 - bin(bits).count("1")
    return buf


def test_hand_made_entry_parses():
    d = parse(bytes(_two_pages_with(b"hand", 40)))
    assert d.lookup(b"hand") == (77, 77)


def test_name_without_nul_in_its_page():
    # 60 bytes at slot 62: the name runs into the next page, its NUL with it
    with pytest.raises(DecodeError, match="without a NUL before the end of its page"):
        parse(bytes(_two_pages_with(b"n" * 60, 62)))


def test_entry_running_past_its_page():
    # a 17-byte name needs 2 blobs; at slot 63 its NUL is in the page, its blobs are not
    with pytest.raises(DecodeError, match="running past the end of its page"):
        parse(bytes(_two_pages_with(b"n" * 17, 63)))


def test_name_longer_than_afsnamemax():
    with pytest.raises(DecodeError, match="more than 256"):
        parse(bytes(_two_pages_with(b"n" * 300, 20)))


def test_duplicate_name():
    buf = _two_pages_with(b"f3", 40)
    with pytest.raises(DecodeError, match="entered twice"):
        parse(bytes(buf))


def test_overlapping_entries():
    buf = _two_pages_with(b"a" * 60, 40)      # 3 blobs: 40, 41, 42
    # a second entry starting inside the first one's blobs
    off = (EPP + 41) * 32
    buf[off] = 1
    buf[off + 12:off + 14] = b"b\0"
    set_u16(buf, off + 2, 0)
    set_u16(buf, _chain_head(buf, b"b"), EPP + 41)
    with pytest.raises(DecodeError, match="overlaps|reached twice|belongs"):
        parse(bytes(buf))


def test_too_many_pages():
    with pytest.raises(DecodeError, match="more than the 1023"):
        parse(bytes(PAGE_SIZE * 1024))
    with pytest.raises(DecodeError, match="more than the 1023"):
        parse(bytes(PAGE_SIZE * 100000))


def test_parse_wants_bytes():
    with pytest.raises(TypeError):
        parse("a string")


@given(st.binary(max_size=3 * PAGE_SIZE))
def test_random_bytes_decode_error_or_directory(data):
    try:
        d = parse(data)
    except DecodeError:
        return
    list(d.entries())


@st.composite
def mutated(draw):
    ents = draw(st.lists(st.tuples(names_st, st.integers(0, 2**32 - 1)), max_size=70,
                         unique_by=lambda t: t[0]))
    ents = [(n, v, 1) for n, v in ents if n not in (b".", b"..")]
    buf = bytearray(build(ents, 1, 1))
    kind = draw(st.sampled_from(["byte", "u16", "bytes", "truncate", "extend"]))
    if kind == "byte":
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(buf) - 1))
            buf[i] = draw(st.integers(0, 255))
    elif kind == "u16":
        i = draw(st.integers(0, len(buf) // 2 - 1)) * 2
        set_u16(buf, i, draw(st.integers(0, 65535)))
    elif kind == "bytes":
        i = draw(st.integers(0, len(buf) - 1))
        chunk = draw(st.binary(min_size=1, max_size=64))
        buf[i:i + len(chunk)] = chunk
    elif kind == "truncate":
        del buf[draw(st.integers(0, len(buf) - 1)):]
    else:
        buf += draw(st.binary(max_size=PAGE_SIZE + 10))
    return bytes(buf)


@settings(max_examples=400)
@given(mutated(), names_st)
def test_mutated_directories_decode_error_or_consistent(data, name):
    try:
        d = parse(data)
    except DecodeError:
        return
    # whatever parses behaves: lookups agree with the scan, edits keep it valid
    ents = list(d.entries())
    assert len(ents) == len(d)
    for n, v, u in ents:
        assert d.lookup(n) == (v, u)
    assert d.to_bytes() == data
    if name in d:
        d.remove(name)
    else:
        try:
            d.add(name, 5, 6)
        except OSError as e:
            assert e.errno == errno.EFBIG
    parse(d.to_bytes())
