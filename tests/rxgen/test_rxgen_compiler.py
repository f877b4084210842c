"""The .xg compiler: rxgen dialect, quirks, generated API and error reporting."""

import os
import subprocess
import sys

import pytest

from kafs.errors import DecodeError
from kafs.rpc.runtime import afsUUID
from kafs.rxgen import CompileError, compile_file
from kafs.xdr import Decoder, EncodeError, Encoder

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def roundtrip(cls, value):
    e = Encoder()
    value.encode(e)
    d = Decoder(e.getvalue())
    got = cls.decode(d)
    d.done()
    return got, e.getvalue()


def proc(mod, pkg, name):
    return getattr(mod, f"{pkg}PACKAGE").by_name(name)


# -- preprocessor ---------------------------------------------------------------

def test_include_define_ifdef(demo):
    assert demo.DEMO_NAMELEN == 16  # from the included demo_common.xg
    assert demo.DemoFid._xdr_size == 12  # defined once despite two #includes
    assert demo.SHOWN == 2 and not hasattr(demo, "HIDDEN")
    assert demo.BIGITEMS == 10  # #if defined(X) && X > 5, macro expanded
    assert demo.DEMO_PING == 100  # opcode from a #define in a header
    assert not hasattr(demo, "IGNORED")  # % lines are C passthrough


def test_enum_values(demo):
    assert (demo.DK_NONE, demo.DK_FILE, demo.DK_DIR) == (0, 5, 6)
    assert demo.demo_kind.DK_DIR == 6


# -- procedures -----------------------------------------------------------------

def test_direction_inherited_within_and_across_procedures(demo):
    ping = proc(demo, "DEMO_", "Ping")
    assert [p.direction for p in ping.params] == ["IN", "IN", "OUT"]
    # Echo's only parameter has no keyword: it inherits OUT from Ping's last one
    echo = proc(demo, "DEMO_", "Echo")
    assert [p.direction for p in echo.params] == ["OUT"]
    fetch = proc(demo, "DEMO_", "Fetch")
    assert [p.direction for p in fetch.params] == ["IN", "IN", "IN", "OUT"]


def test_opcodes_statindex_and_flags(demo):
    pkg = demo.DEMO_PACKAGE
    assert pkg.statindex == 42 and pkg.server_prefix == "S"
    assert pkg.opcodes == {"Ping": 100, "Echo": 99, "Fetch": 101, "Store": 102, "Mixed": 103}
    assert [p.index for p in pkg.procs] == [0, 1, 2, 3, 4]
    assert proc(demo, "DEMO_", "Fetch").split and proc(demo, "DEMO_", "Store").split
    assert proc(demo, "DEMO_", "Mixed").multi
    assert demo.DEMO_STATINDEX == 42 and demo.DEMO_NO_OF_STAT_FUNCS == 5
    assert demo.PACKAGES == (demo.DEMO_PACKAGE, demo.AUTO_PACKAGE)


def test_automatic_numbering_with_startingopcode(demo):
    assert demo.AUTO_FIRST == 7 and demo.AUTO_SECOND == 8
    assert demo.AUTO_PACKAGE.by_opcode(8).name == "Second"


def test_automatic_numbering_from_zero_and_shared_counter(compile_xg):
    m = compile_xg("package A_\nOne(IN int x);\nTwo(OUT int *y);\n"
                   "package B_\nThree(IN int z);\n")
    assert (m.A_ONE, m.A_TWO, m.B_THREE) == (0, 1, 2)


def test_param_metadata(demo):
    mixed = proc(demo, "DEMO_", "Mixed")
    assert [(p.name, p.direction) for p in mixed.params] == [
        ("names", "IN"), ("cursor", "INOUT"), ("u", "OUT"), ("list", "OUT"), ("blob", "OUT"),
        ("bbs", "OUT")]
    assert mixed.params[0].xdr == ("varray", ("chars", 16), 10)
    assert [p.name for p in mixed.ins] == ["names", "cursor"]
    assert proc(demo, "DEMO_", "Store").params[1].decl == "string name<DEMO_NAMELEN>"


# -- types ----------------------------------------------------------------------

def test_struct_round_trip_all_field_kinds(demo):
    e = demo.demo_entry(name="f\u00e9", kind=5, size=-(2**40), mode=0o755, flag=-3, raw=b"\x01\xff\x00",
                        key=b"12345", fids=[demo.DemoFid(1, 2, 3), demo.DemoFid(4, 5, 6)], ok=True,
                        uuid=afsUUID(1, 2, 3, -1, 5, b"\x00\x01\x02\x03\x04\xff"))
    got, wire = roundtrip(demo.demo_entry, e)
    assert got == e
    assert len(wire) == demo.demo_entry._xdr_size == 176
    # the same through the fixed-struct array path
    d = Decoder(wire * 3)
    assert [demo.demo_entry._from_t(t) for t in demo.demo_entry._ST.iter_unpack(wire * 3)] == [e] * 3
    assert d.remaining == 3 * 176


def test_fixed_array_length_checked(demo):
    e = demo.demo_entry(fids=[demo.DemoFid()])
    with pytest.raises(EncodeError):
        e.encode(Encoder())
    with pytest.raises(EncodeError):
        demo.demo_entry(key=b"123").encode(Encoder())


def test_union(demo):
    for u in (demo.demo_u(5, demo.demo_entry(name="x")), demo.demo_u(6, "/afs/x"),
              demo.demo_u(7, [1, 2]), demo.demo_u(99, None)):
        assert roundtrip(demo.demo_u, u)[0] == u
    with pytest.raises(EncodeError):
        demo.demo_u(7, [1, 2, 3, 4, 5]).encode(Encoder())


def test_union_without_default_rejects_unknown_discriminant(compile_xg):
    m = compile_xg("union u switch (int d) { case 1: int a; case 2: void; };\n")
    assert roundtrip(m.u, m.u(2, None))[0] == m.u(2, None)
    with pytest.raises(DecodeError):
        m.u.decode(Decoder(b"\0\0\0\x03"))
    with pytest.raises(EncodeError):
        m.u(3, None).encode(Encoder())


def test_linked_list(demo):
    lst = demo.demo_list_node(1, demo.demo_list_node(2, demo.demo_list_node(3)))
    got, wire = roundtrip(demo.demo_list_node, lst)
    assert got == lst and len(wire) == 3 * 8
    deep = b"\0\0\0\x01\0\0\0\x01" * 10000 + b"\0\0\0\x01\0\0\0\0"
    with pytest.raises(DecodeError):
        demo.demo_list_node.decode(Decoder(deep))


def test_customized_struct(demo):
    b = demo.DemoBBS(0, 0, b"hello")
    got, wire = roundtrip(demo.DemoBBS, b)
    assert wire == b"\0\0\0\x05\0\0\0\x05hello\0\0\0"
    assert got == demo.DemoBBS(5, 5, b"hello")
    with pytest.raises(DecodeError):  # SeqLen > MaxSeqLen
        demo.DemoBBS.decode(Decoder(b"\0\0\0\x01\0\0\0\x05hello\0\0\0"))


def test_afsuuid_is_builtin_and_44_bytes(demo):
    assert demo.afsUUID is afsUUID
    u = afsUUID(0x01020304, 0x0506, 0x0708, -0x80, 0x7F, b"\x00\x11\x22\x33\x44\x55")
    got, wire = roundtrip(afsUUID, u)
    assert got == u and len(wire) == 44
    assert wire[12:16] == b"\xff\xff\xff\x80"  # chars sign-extended as in C
    assert str(u) == "01020304-0506-0708-80-7f-001122334455"


def test_afsuuid_definition_must_match_builtin(tmp_path):
    p = tmp_path / "u.xg"
    p.write_text("struct afsUUID { afs_uint32 a; };\n")
    with pytest.raises(CompileError, match="afsUUID"):
        compile_file(str(p))


def test_names_that_are_python_keywords(compile_xg):
    m = compile_xg("struct s { int from; int len; };\npackage K_\n"
                   "P(IN int in, int len, int enc, OUT int x<5>) = 1;\n")
    assert [f for f, _ in m.s._xdr_fields] == ["from_", "len_"]
    assert m._K_P_ienc.__code__.co_varnames[:4] == ("enc", "in_", "len_", "enc_")


def test_const_strings_and_hex(compile_xg):
    m = compile_xg('const A = 0x10;\nconst B = A;\nconst C = "text";\nconst D = -5;\n')
    assert (m.A, m.B, m.C, m.D) == (16, 16, "text", -5)


# -- errors -------------------------------------------------------------------------

@pytest.mark.parametrize("src,line,msg", [
    ("struct s {\n  int a;\n  nosuch b;\n};\n", 3, "unknown type 'nosuch'"),
    ("struct s { int a; }\nconst X = 1;\n", 2, "expected ';'"),
    ("package P_\nA(x int) = 1;\n", 2, "no direction"),
    ("package P_\nA(IN int a) = 1;\nB(IN int b) = 1;\n", 3, "already used"),
    ("package P_\nA(IN int a);\nB(IN int b) = 5;\n", 3, "isn't allowed"),
    ("package P_\nA(IN int a<>) = 1;\n", 2, "max size"),
    ("struct s { string a; };\n", 1, "variable-length array"),
    ("A(IN int a) = 1;\n", 1, "must be in a package"),
    ("const X = Y;\n", 1, "unknown constant 'Y'"),
    ("const A = 1;\n#if 1\nconst X = 1;\n", 2, "unterminated #if"),
    ("/* never\n closed\n", 1, "unterminated comment"),
    ("struct s { int a; };\nstruct s { int b; };\n", 2, "already defined"),
    ("const X = 1 $;\n", 1, "illegal character"),
    ("#include \"nope.xg\"\n", 1, "cannot find include"),
    ("#define F(x) x\n", 1, "function-like"),
    ("typedef int t;\nunion u switch (int d) { case 1: int a; case 1: int b; };\n", 2, "duplicate case"),
])
def test_errors_have_file_and_line(tmp_path, src, line, msg):
    p = tmp_path / "bad.xg"
    p.write_text(src)
    with pytest.raises(CompileError) as ei:
        compile_file(str(p))
    assert ei.value.file == str(p)
    assert ei.value.line == line
    assert msg in str(ei.value)
    assert str(ei.value).startswith(f"{p}:{line}: ")


def test_error_in_included_file_names_that_file(tmp_path):
    (tmp_path / "inc.xg").write_text("const A = 1;\n\nstruct { };\n")
    p = tmp_path / "main.xg"
    p.write_text('#include "inc.xg"\n')
    with pytest.raises(CompileError) as ei:
        compile_file(str(p))
    assert ei.value.file == str(tmp_path / "inc.xg") and ei.value.line == 3


def test_cli_ok_and_error(tmp_path):
    out = tmp_path / "demo.py"
    r = subprocess.run([sys.executable, "-m", "kafs.rxgen", os.path.join(FIXTURES, "demo.xg"),
                        "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.read_text().startswith("# generated by kafs.rxgen from demo.xg")
    bad = tmp_path / "bad.xg"
    bad.write_text("struct s {\n int a\n};\n")
    r = subprocess.run([sys.executable, "-m", "kafs.rxgen", str(bad)], capture_output=True, text=True)
    assert r.returncode != 0
    assert f"{bad}:3: " in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


def test_package_imports_included_xg(tmp_path):
    # With package=..., types from a sibling .xg come from that module.
    text = compile_file(os.path.join(FIXTURES, "demo.xg"), package="pkg")
    assert "from pkg.demo_common import (" in text
    assert "class DemoFid" not in text
