"""Generated classes keep the shape ``@dataclass(slots=True)`` gave them
(positional/keyword construction, fresh mutable defaults, ``==``, repr,
unhashable, slots) without importing dataclasses."""

import subprocess
import sys

import pytest

from kafs.rpc import runtime as rt

SRC = """
struct Inner { int a; int b; };
struct Outer {
    int n;
    string s<20>;
    int fixed[3];
    Inner Inner;
    Inner *next;
    opaque blob<10>;
    Inner items<5>;
};
union U switch (int d) { case 1: Inner in; case 2: int x; };
package T_
proc Get(IN int a, OUT Inner *i, OUT int *n) = 1;
"""


@pytest.fixture
def mod(compile_xg):
    return compile_xg(SRC)


def test_construction_defaults_and_slots(mod):
    o = mod.Outer()
    assert (o.n, o.s, o.fixed, o.Inner, o.next, o.blob, o.items) == (
        0, "", [0, 0, 0], mod.Inner(0, 0), None, b"", [])
    assert mod.Outer().fixed is not o.fixed          # made afresh, like default_factory
    assert mod.Outer().items is not o.items
    assert mod.Outer().Inner is not o.Inner          # a field named like its type
    assert mod.Inner(1, b=2) == mod.Inner(a=1, b=2) == mod.Inner(*[1, 2])
    with pytest.raises(TypeError):
        mod.Inner(1, 2, 3)
    with pytest.raises(TypeError):
        mod.Inner(c=1)
    with pytest.raises(AttributeError):
        o.nonesuch = 1
    assert mod.Outer.__slots__ == mod.Outer.__match_args__ == (
        "n", "s", "fixed", "Inner", "next", "blob", "items")
    assert [n for n, _ in mod.Outer._xdr_fields] == list(mod.Outer.__slots__)
    assert "int" in mod.Outer.__annotations__["n"]
    u = mod.U()
    assert (u.disc, u.value) == (1, mod.Inner())


def test_eq_repr_hash(mod):
    a, b = mod.Inner(1, 2), mod.Inner(1, 2)
    assert a == b and not (a != b)
    assert a != mod.Inner(1, 3)
    assert (a == (1, 2)) is False
    assert repr(a) == "Inner(a=1, b=2)"
    assert repr(mod.U(2, 5)) == "U(disc=2, value=5)"
    with pytest.raises(TypeError):
        hash(a)
    r = mod.T_Get_Result(mod.Inner(1, 2), 7)
    assert repr(r) == "T_Get_Result(i=Inner(a=1, b=2), n=7)"
    assert tuple(r) == (mod.Inner(1, 2), 7) and len(r) == 2
    assert r == mod.T_Get_Result(i=mod.Inner(1, 2), n=7)


def test_frozen_metadata():
    from kafs.rpc import vl
    p = vl.VL_PACKAGE.by_name("GetEntryByNameN")
    assert p.opcode == vl.VL_GETENTRYBYNAMEN
    with pytest.raises(AttributeError):
        p.opcode = 1
    assert p == vl.VL_PACKAGE.by_opcode(p.opcode) and hash(p) == hash(p)
    assert repr(p.params[0]).startswith("ParamInfo(name='volumename', direction='IN'")
    assert isinstance(rt.afsUUID(), rt.XdrStruct)


def test_generated_modules_do_not_import_dataclasses():
    code = ("import sys; import kafs.rpc.vl, kafs.rpc.volser, kafs.rpc.pr, kafs.rpc.bozo, "
            "kafs.rpc.ubik, kafs.rpc.afsint; print('dataclasses' in sys.modules, "
            "'logging' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
