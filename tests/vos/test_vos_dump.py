"""vos dump: OpenAFS 1.8.9's and ours side by side.

Messages and exit statuses are compared byte for byte; the dump files are
compared with :func:`compare_dumps`, which parses the dump format
(protocol-notes section 8) and ignores only the fields in
:data:`TIME_FIELDS` — the dump's to-time and the volume's dates, which
may move between two dumps taken a moment apart.  Everything else (ids,
names, quotas, every vnode field, ACLs, file contents) must be equal.
"""

from __future__ import annotations

import importlib.util
import os
import struct
from pathlib import Path

import pytest

from .conftest import REPO, assert_same, run_both

#: the only fields compare_dumps does not compare:
#:   ("dump", "t", 1)  the dump header's to-time (RW: the update date)
#:   ("volume", X)     volume header dates: C creation, A access, U update,
#:                     B backup, D day-use date
TIME_FIELDS = {("dump", "t"), ("volume", "C"), ("volume", "A"), ("volume", "U"),
               ("volume", "B"), ("volume", "D")}

_U32 = set("ivupcqmdfaoCAUEBDZV")
_VOL_U8 = set("sbt")
_VN_U32 = set("vmaogps")
_VN_U16 = set("lb")


class DumpFormatError(ValueError):
    pass


def parse_dump(d: bytes):
    """The dump as a list of (section, tag, value); file data as bytes."""
    out = []
    p = 0

    def take(n):
        nonlocal p
        if p + n > len(d):
            raise DumpFormatError("truncated at %d" % p)
        b = d[p:p + n]
        p += n
        return b

    def u32():
        return struct.unpack(">I", take(4))[0]

    def string():
        nonlocal p
        e = d.index(b"\0", p)
        s = d[p:e]
        p = e + 1
        return s

    if take(1) != b"\x01" or u32() != 0xB3A11322:
        raise DumpFormatError("no dump header")
    out.append(("dump", "version", u32()))
    while p < len(d) and d[p] not in (2, 3, 4):
        tag = chr(take(1)[0])
        if tag == "v":
            out.append(("dump", tag, u32()))
        elif tag == "n":
            out.append(("dump", tag, string()))
        elif tag == "t":
            n = struct.unpack(">H", take(2))[0]
            ts = [u32() for _ in range(n)]
            out.append(("dump", "from", ts[0]))
            out.append(("dump", "t", ts[1:]))
        else:
            raise DumpFormatError("dump header tag %r" % tag)
    if take(1) != b"\x02":
        raise DumpFormatError("no volume header")
    while d[p] not in (3, 4):
        tag = chr(take(1)[0])
        if tag in _U32:
            out.append(("volume", tag, u32()))
        elif tag in _VOL_U8:
            out.append(("volume", tag, take(1)[0]))
        elif tag in "nOM":
            out.append(("volume", tag, string()))
        elif tag == "W":
            n = struct.unpack(">H", take(2))[0]
            out.append(("volume", tag, [u32() for _ in range(n)]))
        else:
            raise DumpFormatError("volume header tag %r" % tag)
    while True:
        t = take(1)[0]
        if t == 4:
            if u32() != 0x3A214B6E:
                raise DumpFormatError("bad end magic")
            out.append(("end", "", 0))
            break
        if t != 3:
            raise DumpFormatError("record type %d at %d" % (t, p - 1))
        vn, uniq = struct.unpack(">II", take(8))
        sec = "vnode %d" % vn
        out.append((sec, "uniq", uniq))
        while p < len(d) and d[p] not in (3, 4):
            tag = chr(take(1)[0])
            if tag == "t":
                out.append((sec, tag, take(1)[0]))
            elif tag in _VN_U16:
                out.append((sec, tag, struct.unpack(">H", take(2))[0]))
            elif tag in _VN_U32:
                out.append((sec, tag, u32()))
            elif tag == "A":
                out.append((sec, tag, take(192)))
            elif tag == "f":
                out.append((sec, tag, take(u32())))
            elif tag == "h":
                hi, lo = u32(), u32()
                out.append((sec, tag, take((hi << 32) | lo)))
            else:
                raise DumpFormatError("vnode tag %r at %d" % (tag, p - 1))
    if p != len(d):
        raise DumpFormatError("%d bytes after the end" % (len(d) - p))
    return out


def compare_dumps(a: bytes, b: bytes, ignore=TIME_FIELDS) -> list[str]:
    """Differences between two dumps outside ``ignore`` ((section, tag)
    pairs); [] when equal."""
    pa, pb = parse_dump(a), parse_dump(b)
    diffs = []
    if len(pa) != len(pb):
        diffs.append("%d fields != %d fields" % (len(pa), len(pb)))
    for (s1, t1, v1), (s2, t2, v2) in zip(pa, pb):
        if (s1, t1) != (s2, t2):
            diffs.append("field %s/%s != %s/%s" % (s1, t1, s2, t2))
            break
        if (s1, t1) in ignore:
            continue
        if v1 != v2:
            diffs.append("%s %s: %r != %r" % (s1, t1, v1 if not isinstance(v1, bytes)
                                              or len(v1) < 40 else "<%d bytes>" % len(v1),
                                              v2 if not isinstance(v2, bytes) or len(v2) < 40
                                              else "<%d bytes>" % len(v2)))
    return diffs


def _bench():
    spec = importlib.util.spec_from_file_location("vos_dump_bench",
                                                  REPO / "bench" / "vos_dump_bench.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def test_parse_generated_dump():
    b = _bench()
    head = (b"\x01" + struct.pack(">II", 0xB3A11322, 1) + b"v" + struct.pack(">I", 7)
            + b"nx\0t" + struct.pack(">HII", 2, 0, 5) + b"\x02i" + struct.pack(">I", 7)
            + b"nx\0" + b"W" + struct.pack(">H7I", 7, *range(7)))
    d = b.grow_dump(head + struct.pack(">BI", 4, 0x3A214B6E), [10, 3])
    p = parse_dump(d)
    assert [len(v) for sec, t, v in p if t == "f"] == [10, 3]
    assert compare_dumps(d, d) == []
    e = bytearray(d)
    e[-6] ^= 1                        # the last byte of vnode 4's data
    diffs = compare_dumps(d, bytes(e))
    assert len(diffs) == 1 and diffs[0].startswith("vnode 4 f:")
    with pytest.raises(DumpFormatError):
        parse_dump(d[:-3])


@pytest.fixture(scope="module")
def dump_volume(cell):
    """An 8 MB volume (three files), made once with OpenAFS's vos restore."""
    b = _bench()
    return b.ensure_volume("kbench.dump8", [5 << 20, 3 << 20, 12345])


def _files(tmp_path):
    return str(tmp_path / "openafs.dump"), str(tmp_path / "kafs.dump")


def _both_to_files(cell, tmp_path, *args):
    fo, fk = _files(tmp_path)
    o, _ = run_both(cell, *args, "-file", fo)
    _, k = run_both(cell, *args, "-file", fk)
    # the messages name the file: compare them with the name replaced
    o = (o[0], o[1].replace(fo.encode(), b"FILE"), o[2])
    k = (k[0], k[1].replace(fk.encode(), b"FILE"), k[2])
    return o, k, fo, fk


@pytest.mark.parametrize("opts", [
    ("-localauth",),
    ("-localauth", "-encrypt"),
    ("-localauth", "-verbose"),
    ("-localauth", "-time", "1/1/2020", "-omitdirs"),
    ("-localauth", "-time", "12/31/2099"),
    ("-localauth", "-time", "12/31/2099", "-omitdirs"),
    ("-localauth", "-server", "afs1", "-partition", "a", "-noresolve"),
], ids=lambda o: " ".join(o))
def test_dump_root_cell_identical(cell, tmp_path, opts):
    o, k, fo, fk = _both_to_files(cell, tmp_path, "dump", "-id", "root.cell", *opts)
    assert o[2] == 0, o
    assert_same(o, k, ("dump",) + opts)
    with open(fo, "rb") as f1, open(fk, "rb") as f2:
        a, b = f1.read(), f2.read()
    assert compare_dumps(a, b) == []


def test_dump_to_stdout(cell):
    o, k = run_both(cell, "dump", "root.cell", "-localauth")
    assert o[2] == 0 and o[1] == k[1] == b"Dumped volume root.cell in stdout \n"
    assert compare_dumps(o[0], k[0]) == []


def test_clone_dump_differs_only_in_clone_id(cell, tmp_path):
    o, k, fo, fk = _both_to_files(cell, tmp_path, "dump", "root.cell", "-clone", "-localauth")
    assert o == k
    with open(fo, "rb") as f1, open(fk, "rb") as f2:
        a, b = f1.read(), f2.read()
    # the clone gets a fresh id from the VLDB: dump 'v', volume 'i' and 'c'
    d = compare_dumps(a, b, TIME_FIELDS | {("dump", "v"), ("volume", "i"), ("volume", "c")})
    assert d == []
    assert len(compare_dumps(a, b)) == 3


ERRORS = [
    ("dump", "-id", "nosuch.vol", "-localauth"),
    ("dump", "-id", "4000000000", "-localauth"),
    ("dump", "-id", "root.cell", "-server", "afs1", "-localauth"),
    ("dump", "-id", "root.cell", "-partition", "a", "-localauth"),
    ("dump", "-id", "root.cell", "-server", "nosuch.invalid", "-partition", "a", "-localauth"),
    ("dump", "-id", "root.cell", "-server", "afs1", "-partition", "zz9", "-localauth"),
    ("dump", "-id", "root.cell", "-server", "afs1", "-partition", "b", "-localauth"),
    ("dump", "-id", "root.cell", "-time", "garbage", "-localauth"),
    ("dump", "-id", "root.cell", "-file", "/nonexistent/dir/x", "-localauth"),
    ("dump", "-id", "root.cell", "-file", "/dev/full", "-localauth"),
    ("dump", "-id", "root.cell", "-file", "/dev/null", "-noauth"),
    ("dump", "-id", "root.cell", "-file", "/dev/null"),
    ("dump", "-id", "root.cell", "-file", "/dev/null", "-clone", "-noauth"),
    ("dump", "-id", "root.cell", "-file", "/dev/null", "-clone", "-noauth", "-verbose"),
    ("dump", "-id", "root.cell.backup", "-file", "/dev/null", "-localauth"),
    ("dump", "-id", "root.cell.readonly", "-file", "/dev/null", "-localauth"),
]


@pytest.mark.parametrize("args", ERRORS, ids=lambda a: " ".join(a))
def test_dump_errors_identical(cell, args):
    o, k = run_both(cell, *args)
    assert_same(o, k, args)


def test_no_transaction_left(cell):
    r = cell.tool("vos", "status", cell.host, "-localauth")
    assert "No active transactions" in r.stdout


def test_crypt_level_multi_mb_dump_identical(cell, tmp_path, dump_volume):
    """-encrypt -localauth: rxkad crypt level bulk transfer of a multi-MB
    dump from the real volserver, bit-exact against OpenAFS's vos."""
    o, k, fo, fk = _both_to_files(cell, tmp_path, "dump", "-id", dump_volume,
                                  "-encrypt", "-localauth")
    assert o[2] == 0, o
    assert_same(o, k, ("dump -encrypt",))
    assert os.path.getsize(fo) > 8_000_000
    with open(fo, "rb") as f1, open(fk, "rb") as f2:
        a, b = f1.read(), f2.read()
    assert compare_dumps(a, b) == []
    assert a == b        # nothing changed the volume in between: every byte equal
