"""Python code generation from a parsed .xg :class:`~kafs.rxgen.model.Spec`.

Per .xg file one module: constants, structs with ``encode(enc)``/
``decode(dec)``, union classes, and per package the opcode
constants, client stubs, server dispatcher and procedure table.

Speed: consecutive fixed-size fields (scalars, ``char x[N]``, fixed opaques,
fixed arrays of those, nested all-fixed structs) are packed and unpacked with
one precompiled ``struct.Struct``; an all-fixed struct also gets ``_ST`` and
``_from_t`` so arrays of it decode with one ``iter_unpack`` pass.

Type descriptors (``_xdr_fields``, ``ParamInfo.xdr``) are small tuples::

    ("prim", c)        c in i I q Q (32/64-bit), b B h H (char/short), ? (bool), f d
    ("chars", n)       char x[N] as str        ("bchars", n)  u_char x[N] as bytes
    ("opaque", n)      opaque x[N]             ("vopaque", max) opaque x<max>
    ("string", max)    string x<max>           max is None for <>
    ("array", d, n)    T x[N]                  ("varray", d, max) T x<max>
    ("optional", d)    T *x in a struct
    ("struct", name) / ("union", name)   a class of the module
"""

from __future__ import annotations

import keyword
import os
import re as _re

from .errors import CompileError
from .model import (
    Chars, Enum, FixedArray, OpaqueFixed, OpaqueVar, Optional, Prim, PRIMS, Ref, Spec, String,
    Struct, Typedef, Union, VarArray, Decl, Const,
)

_AFSUUID = Struct(
    "afsUUID",
    [
        Decl("time_low", PRIMS["afs_uint32"]),
        Decl("time_mid", PRIMS["u_short"]),
        Decl("time_hi_and_version", PRIMS["u_short"]),
        Decl("clock_seq_hi_and_reserved", PRIMS["char"]),
        Decl("clock_seq_low", PRIMS["char"]),
        Decl("node", Chars(6, text=False, signext=True)),
    ],
    "<builtin>",
    0,
)

_RESERVED = set(keyword.kwlist) | set(keyword.softkwlist) | {
    "encode", "decode", "field", "dataclass", "int", "str", "bytes", "list", "bool", "float",
    "object", "cls", "self", "enc", "dec", "conn", "call", "len", "range", "max", "isinstance",
    "bytearray", "memoryview", "d",
}
_METHOD = {"i": "int32", "I": "uint32", "q": "int64", "Q": "uint64", "f": "float32",
           "d": "float64", "3xb": "char", "3xB": "uchar", "2xh": "short", "2xH": "ushort"}
_DESC = {"i": "i", "I": "I", "q": "q", "Q": "Q", "f": "f", "d": "d", "3xb": "b", "3xB": "B",
         "2xh": "h", "2xH": "H"}


def pyname(name: str) -> str:
    if name in _RESERVED or keyword.iskeyword(name):
        return name + "_"
    if name.startswith("__"):
        return "x" + name
    return name


class _Flat:
    """How a fixed-size type sits inside one struct.Struct run."""

    __slots__ = ("dfmt", "efmt", "nvals", "dec", "enc", "size")

    def __init__(self, dfmt, efmt, nvals, dec, enc, size):
        self.dfmt = dfmt  # struct pieces for decoding
        self.efmt = efmt  # struct pieces for encoding
        self.nvals = nvals  # tuple items it occupies
        self.dec = dec  # (tuple_var, index) -> expression
        self.enc = enc  # expression -> list of value expressions (may use *)
        self.size = size


class Emitter:
    def __init__(self, spec: Spec, source_name: str, import_from: dict[str, str] | None = None):
        self.spec = spec
        self.source = source_name
        # file path -> python module to import its definitions from
        self.import_from = import_from or {}
        self.structs: dict[str, str] = {}  # fmt -> name of module-level Struct
        self.struct_order: list[tuple[str, str]] = []
        self.flat_cache: dict = {}
        self.min_cache: dict = {}
        self.uses_afsuuid = False
        self.uses_enum = False  # import enum only where an enum is emitted
        self.out: list[str] = []

    # -- type resolution ----------------------------------------------------------
    def lookup(self, name: str):
        d = self.spec.types.get(name)
        if d is None:
            if name == "afsUUID":
                self.uses_afsuuid = True
                return _AFSUUID
            raise CompileError(self.spec.path, 0, f"unknown type {name!r}")
        return d

    def resolve(self, t, seen=None):
        """Follow typedefs; enums become int32.  Returns a type expression or a def."""
        seen = seen or set()
        while isinstance(t, Ref):
            if t.name in seen:
                raise CompileError(self.spec.path, 0, f"typedef loop through {t.name!r}")
            seen.add(t.name)
            d = self.lookup(t.name)
            if isinstance(d, Typedef):
                t = d.type
            elif isinstance(d, Enum):
                return PRIMS["int"]
            else:
                return d
        return t

    def clsname(self, d) -> str:
        return pyname(d.name)

    # -- sizes ----------------------------------------------------------------------
    def minsize(self, t, stack=()) -> int:
        r = self.resolve(t)
        key = id(r)
        if key in self.min_cache:
            return self.min_cache[key]
        if isinstance(r, Prim):
            v = r.size
        elif isinstance(r, Chars):
            v = 4 * r.n
        elif isinstance(r, OpaqueFixed):
            v = (r.n + 3) & ~3
        elif isinstance(r, (OpaqueVar, String, VarArray, Optional)):
            v = 4
        elif isinstance(r, FixedArray):
            v = r.n * self.minsize(r.elem, stack)
        elif isinstance(r, Struct):
            if r.name in stack:
                raise CompileError(r.file, r.line, f"struct {r.name} contains itself (use a pointer)")
            if r.customized:
                v = 4 * (len(r.fields) - 1)
            else:
                v = sum(self.minsize(f.type, stack + (r.name,)) for f in r.fields)
        elif isinstance(r, Union):
            if r.name in stack:
                raise CompileError(r.file, r.line, f"union {r.name} contains itself (use a pointer)")
            arms = [c.decl for c in r.cases] + ([r.default] if r.has_default else [])
            sizes = [0 if a is None else self.minsize(a.type, stack + (r.name,)) for a in arms]
            v = self.minsize(r.disc.type) + (min(sizes) if sizes else 0)
        else:  # pragma: no cover
            raise AssertionError(r)
        self.min_cache[key] = v
        return v

    # -- fixed-size runs ------------------------------------------------------------
    def flat(self, t):
        """A _Flat for fixed-size types that can live in a struct run, else None."""
        r = self.resolve(t)
        key = id(r) if isinstance(r, Struct) else r
        try:
            if key in self.flat_cache:
                return self.flat_cache[key]
        except TypeError:  # unhashable
            key = None
        f = self._flat(r)
        if key is not None:
            self.flat_cache[key] = f
        return f

    def _flat(self, r):
        if isinstance(r, Prim):
            if r.kind == "bool":
                return _Flat(r.dfmt, r.fmt, 1, lambda tv, k: f"({tv}[{k}] != 0)",
                             lambda e: [f"(1 if {e} else 0)"], 4)
            return _Flat(r.dfmt, r.fmt, 1, lambda tv, k: f"{tv}[{k}]", lambda e: [e], r.size)
        if isinstance(r, Chars):
            n = r.n
            piece = f"{4 * n}s"
            if r.text:
                return _Flat(piece, piece, 1, lambda tv, k: f"_cstr({tv}[{k}])",
                             lambda e: [f"_cints({e}, {n})"], 4 * n)
            se = r.signext
            return _Flat(piece, piece, 1, lambda tv, k: f"{tv}[{k}][3::4]",
                         lambda e: [f"_bints({e}, {n}, {se})"], 4 * n)
        if isinstance(r, OpaqueFixed):
            n = r.n
            pad = (4 - n % 4) % 4
            piece = f"{n}s" + (f"{pad}x" if pad else "")
            return _Flat(piece, piece, 1, lambda tv, k: f"{tv}[{k}]",
                         lambda e: [f"_ofix({e}, {n})"], n + pad)
        if isinstance(r, FixedArray):
            elem = self.resolve(r.elem)
            n = r.n
            if isinstance(elem, Prim):
                dfmt = f"{n}{elem.fmt}" if not elem.narrow else elem.dfmt * n
                if elem.kind == "bool":
                    return _Flat(dfmt, f"{n}{elem.fmt}", n,
                                 lambda tv, k: f"[_v != 0 for _v in {tv}[{k}:{k + n}]]",
                                 lambda e: [f"*[1 if _v else 0 for _v in _fx({e}, {n})]"],
                                 n * elem.size)
                return _Flat(dfmt, f"{n}{elem.fmt}", n, lambda tv, k: f"list({tv}[{k}:{k + n}])",
                             lambda e: [f"*_fx({e}, {n})"], n * elem.size)
            sub = self.flat(elem)
            if sub is None or n > 32 or n == 0:
                return None
            sn = sub.nvals
            return _Flat(
                sub.dfmt * n, sub.efmt * n, sn * n,
                lambda tv, k: "[" + ", ".join(sub.dec(tv, k + i * sn) for i in range(n)) + "]",
                lambda e: [x for i in range(n) for x in sub.enc(f"_fx({e}, {n})[{i}]")],
                sub.size * n,
            )
        if isinstance(r, Struct):
            if r.customized:
                return None
            subs = []
            for fd in r.fields:
                s = self.flat(fd.type)
                if s is None:
                    return None
                subs.append((pyname(fd.name), s))
            cls = self.clsname(r)
            offs = []
            k = 0
            for _, s in subs:
                offs.append(k)
                k += s.nvals

            def dec(tv, base, subs=subs, offs=offs, cls=cls):
                return f"{cls}(" + ", ".join(s.dec(tv, base + o) for (_, s), o in zip(subs, offs)) + ")"

            def enc(e, subs=subs):
                return [x for name, s in subs for x in s.enc(f"{e}.{name}")]

            return _Flat("".join(s.dfmt for _, s in subs), "".join(s.efmt for _, s in subs), k,
                         dec, enc, sum(s.size for _, s in subs))
        return None

    def struct_const(self, fmt: str) -> str:
        fmt = ">" + fmt
        name = self.structs.get(fmt)
        if name is None:
            name = f"_S{len(self.structs)}"
            self.structs[fmt] = name
            self.struct_order.append((name, fmt))
        return name

    # -- expressions ----------------------------------------------------------------
    def dexpr(self, t) -> str:
        """An expression decoding ``t`` from ``dec``."""
        r = self.resolve(t)
        if isinstance(r, Prim):
            if r.kind == "bool":
                return "dec.bool()"
            return f"dec.{_METHOD[r.dfmt]}()"
        if isinstance(r, Chars):
            return f"dec.chars({r.n})" if r.text else f"dec.uchars({r.n})"
        if isinstance(r, OpaqueFixed):
            return f"dec.opaque_fixed({r.n})"
        if isinstance(r, OpaqueVar):
            return f"dec.opaque({r.max})"
        if isinstance(r, String):
            return f"dec.string({r.max})"
        if isinstance(r, FixedArray):
            e = self.resolve(r.elem)
            if isinstance(e, Prim) and not e.narrow and e.kind != "bool":
                return f"dec.prim_array({e.fmt!r}, {r.n})"
            return f"[{self.dexpr(r.elem)} for _ in range({r.n})]"
        if isinstance(r, VarArray):
            e = self.resolve(r.elem)
            if isinstance(e, Prim) and not e.narrow and e.kind != "bool":
                return f"dec.prim_list({e.fmt!r}, {r.max})"
            if isinstance(e, Struct) and self.flat(e) is not None:
                c = self.clsname(e)
                return f"dec.struct_list({r.max}, {c}._ST, {c}._from_t)"
            return f"[{self.dexpr(r.elem)} for _ in range(dec.count({r.max}, {self.minsize(e)}))]"
        if isinstance(r, Optional):
            e = self.resolve(r.elem)
            if isinstance(e, (Struct, Union)):
                return f"dec.optional({self.clsname(e)}.decode)"
            return f"dec.optional(lambda dec: {self.dexpr(r.elem)})"
        if isinstance(r, (Struct, Union)):
            return f"{self.clsname(r)}.decode(dec)"
        raise AssertionError(r)  # pragma: no cover

    def estmts(self, t, e: str, depth: int = 0) -> list[str]:
        """Statements encoding expression ``e`` of type ``t`` into ``enc``."""
        r = self.resolve(t)
        v = f"_v{depth}"
        if isinstance(r, Prim):
            if r.kind == "bool":
                return [f"enc.bool({e})"]
            return [f"enc.{_METHOD[r.fmt]}({e})"]
        if isinstance(r, Chars):
            if r.text:
                return [f"enc.chars({e}, {r.n})"]
            return [f"enc.uchars({e}, {r.n}, {r.signext})"]
        if isinstance(r, OpaqueFixed):
            return [f"enc.opaque_fixed({e}, {r.n})"]
        if isinstance(r, OpaqueVar):
            return [f"enc.opaque({e}, {r.max})"]
        if isinstance(r, String):
            return [f"enc.string({e}, {r.max})"]
        if isinstance(r, FixedArray):
            el = self.resolve(r.elem)
            if isinstance(el, Prim) and not el.narrow and el.kind != "bool":
                return [f"enc.prim_array({el.fmt!r}, {e}, {r.n})"]
            body = self.estmts(r.elem, v, depth + 1)
            return [f"for {v} in _fx({e}, {r.n}):"] + ["    " + s for s in body]
        if isinstance(r, VarArray):
            el = self.resolve(r.elem)
            if isinstance(el, Prim) and not el.narrow and el.kind != "bool":
                return [f"enc.prim_list({el.fmt!r}, {e}, {r.max})"]
            body = self.estmts(r.elem, v, depth + 1)
            return [f"enc.count(len({e}), {r.max})", f"for {v} in {e}:"] + ["    " + s for s in body]
        if isinstance(r, Optional):
            body = self.estmts(r.elem, e, depth + 1)
            return [f"if {e} is None:", "    enc.optional(False)", "else:", "    enc.optional(True)"] + [
                "    " + s for s in body]
        if isinstance(r, (Struct, Union)):
            return [f"{e}.encode(enc)"]
        raise AssertionError(r)  # pragma: no cover

    # -- annotations, defaults, descriptors -------------------------------------------
    def ann(self, t) -> str:
        if isinstance(t, Ref):
            d = self.lookup(t.name)
            if isinstance(d, (Struct, Union)):
                return self.clsname(d)
        r = self.resolve(t)
        if isinstance(r, Prim):
            return r.kind
        if isinstance(r, Chars):
            return "str" if r.text else "bytes"
        if isinstance(r, (OpaqueFixed, OpaqueVar)):
            return "bytes"
        if isinstance(r, String):
            return "str"
        if isinstance(r, (FixedArray, VarArray)):
            return f"list[{self.ann(r.elem)}]"
        if isinstance(r, Optional):
            return f"{self.ann(r.elem)} | None"
        if isinstance(r, (Struct, Union)):
            return self.clsname(r)
        raise AssertionError(r)  # pragma: no cover

    def default(self, t) -> str:
        """``= <default>`` text for a dataclass field."""
        r = self.resolve(t)
        if isinstance(r, Prim):
            return {"int": "0", "bool": "False", "float": "0.0"}[r.kind]
        if isinstance(r, Chars):
            return '""' if r.text else f"bytes({r.n})"
        if isinstance(r, OpaqueFixed):
            return f"bytes({r.n})"
        if isinstance(r, OpaqueVar):
            return 'b""'
        if isinstance(r, String):
            return '""'
        if isinstance(r, Optional):
            return "None"
        if isinstance(r, VarArray):
            return "field(default_factory=list)"
        if isinstance(r, FixedArray):
            el = self.resolve(r.elem)
            if isinstance(el, (Prim, Chars, OpaqueFixed, String, OpaqueVar)):
                return f"field(default_factory=lambda: [{self.default(el)}] * {r.n})"
            return f"field(default_factory=lambda: [{self.value_default(el)} for _ in range({r.n})])"
        if isinstance(r, (Struct, Union)):
            return f"field(default_factory=lambda: {self.clsname(r)}())"
        raise AssertionError(r)  # pragma: no cover

    def init_field(self, name: str, t) -> tuple[str, str]:
        """(``__init__`` parameter text, assignment statement) for a field
        whose default is ``default(t)``: literal defaults go in the
        signature, made-afresh ones (lists, nested structs) are built in the
        body when the parameter was not given."""
        return self._init_field(name, self.default(t))

    @staticmethod
    def _init_field(name: str, d: str) -> tuple[str, str]:
        if d.startswith("field(default_factory=lambda: "):
            expr = d[len("field(default_factory=lambda: "):-1]
        elif d == "field(default_factory=list)":
            expr = "[]"
        else:
            return f"{name}={d}", f"self.{name} = {name}"
        if name in _re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr):
            # the parameter would shadow the class the default is made of
            expr = f"globals()[{name!r}]" + expr[len(name):] if expr.startswith(name + "(") else None
            if expr is None:  # pragma: no cover - no such field in our .xg files
                raise CompileError("<emit>", 0, f"field {name}: default needs its own name")
        return f"{name}=_D", f"self.{name} = {expr} if {name} is _D else {name}"

    def emit_fields(self, names: list[str], anns: list[str], defaults: list[str]) -> list[str]:
        """Class body lines: ``__slots__``, annotations and ``__init__`` (the
        shape ``@dataclass(slots=True)`` had, without its import-time cost)."""
        slots = "(" + "".join(f"{n!r}, " for n in names) + ")"
        L = [f"    __slots__ = __match_args__ = {slots}"]
        L += [f"    {n}: {a}" for n, a in zip(names, anns)]
        params, body = [], []
        for n, d in zip(names, defaults):
            p, b = self._init_field(n, d)
            params.append(p)
            body.append(b)
        L.append("")
        L.append(f"    def __init__(self{''.join(', ' + p for p in params)}):")
        L += ["        " + b for b in body] or ["        pass"]
        return L

    def value_default(self, t) -> str:
        d = self.default(t)
        if d.startswith("field(default_factory=lambda: "):
            return d[len("field(default_factory=lambda: "):-1]
        if d == "field(default_factory=list)":
            return "[]"
        return d

    def desc(self, t) -> str:
        if isinstance(t, Ref):
            d = self.lookup(t.name)
            if isinstance(d, Struct):
                return f"('struct', {self.clsname(d)!r})"
            if isinstance(d, Union):
                return f"('union', {self.clsname(d)!r})"
        r = self.resolve(t)
        if isinstance(r, Prim):
            c = "?" if r.kind == "bool" else _DESC[r.dfmt]
            return f"('prim', {c!r})"
        if isinstance(r, Chars):
            return f"('chars', {r.n})" if r.text else f"('bchars', {r.n})"
        if isinstance(r, OpaqueFixed):
            return f"('opaque', {r.n})"
        if isinstance(r, OpaqueVar):
            return f"('vopaque', {r.max})"
        if isinstance(r, String):
            return f"('string', {r.max})"
        if isinstance(r, FixedArray):
            return f"('array', {self.desc(r.elem)}, {r.n})"
        if isinstance(r, VarArray):
            return f"('varray', {self.desc(r.elem)}, {r.max})"
        if isinstance(r, Optional):
            return f"('optional', {self.desc(r.elem)})"
        if isinstance(r, Struct):
            return f"('struct', {self.clsname(r)!r})"
        if isinstance(r, Union):
            return f"('union', {self.clsname(r)!r})"
        raise AssertionError(r)  # pragma: no cover

    # -- sequences of items (struct fields, parameter lists) -----------------------------
    def seq_decode(self, types: list) -> tuple[list[str], list[str]]:
        """Statements + one expression per item, decoding ``types`` in order."""
        lines: list[str] = []
        exprs: list[str] = []
        i = 0
        nrun = 0
        while i < len(types):
            f = self.flat(types[i])
            if f is None:
                lines.append(f"_f{i} = {self.dexpr(types[i])}")
                exprs.append(f"_f{i}")
                i += 1
                continue
            run = [f]
            j = i + 1
            while j < len(types):
                g = self.flat(types[j])
                if g is None:
                    break
                run.append(g)
                j += 1
            tv = f"_t{nrun}" if True else "_t"
            nrun += 1
            st = self.struct_const("".join(x.dfmt for x in run))
            lines.append(f"{tv} = dec.unpack({st})")
            k = 0
            for x in run:
                exprs.append(x.dec(tv, k))
                k += x.nvals
            i = j
        return lines, exprs

    def seq_encode(self, items: list[tuple[str, object]]) -> list[str]:
        lines: list[str] = []
        i = 0
        while i < len(items):
            e, t = items[i]
            f = self.flat(t)
            if f is None:
                lines += self.estmts(t, e)
                i += 1
                continue
            vals = list(f.enc(e))
            fmts = [f.efmt]
            j = i + 1
            while j < len(items):
                g = self.flat(items[j][1])
                if g is None:
                    break
                vals += g.enc(items[j][0])
                fmts.append(g.efmt)
                j += 1
            st = self.struct_const("".join(fmts))
            lines.append(f"enc.pack({st}, {', '.join(vals)})")
            i = j
        return lines

    # -- definitions ----------------------------------------------------------------
    def emit_struct(self, s: Struct) -> list[str]:
        cls = self.clsname(s)
        names = [pyname(f.name) for f in s.fields]
        if len(set(names)) != len(names):
            raise CompileError(s.file, s.line, f"struct {s.name}: duplicate field names")
        L = ["", "", f"class {cls}(_XdrStruct):"]
        doc = f"struct {s.name}" + (" (customized)" if s.customized else "")
        if s.customized:
            return L + self.emit_customized(s, cls, names)
        fl = self.flat(s)
        size = fl.size if fl is not None else None
        L.append(f'    """{doc}: {size} bytes."""' if size is not None else f'    """{doc}."""')
        L.append("")
        L += self.emit_fields(names, [self.ann(f.type) for f in s.fields],
                              [self.default(f.type) for f in s.fields])
        L.append("")
        L.append("    _xdr_fields = (" + "".join(
            f"({n!r}, {self.desc(f.type)}), " for n, f in zip(names, s.fields)) + ")")
        L.append(f"    _xdr_size = {size}")
        L.append(f"    _xdr_min = {self.minsize(s)}")
        if fl is not None:
            L.append(f"    _ST = {self.struct_const(fl.dfmt)}")
        # encode
        L.append("")
        L.append("    def encode(self, enc):")
        for ln in self.seq_encode([(f"self.{n}", f.type) for n, f in zip(names, s.fields)]):
            L.append("        " + ln)
        # decode
        lines, exprs = self.seq_decode([f.type for f in s.fields])
        L.append("")
        L.append("    @classmethod")
        L.append("    def decode(cls, dec):")
        for ln in lines:
            L.append("        " + ln)
        L.append(f"        return cls({', '.join(exprs)})")
        if fl is not None:
            L.append("")
            L.append("    @classmethod")
            L.append("    def _from_t(cls, _t0):")
            L.append(f"        return cls({', '.join(exprs)})")
        return L

    def emit_customized(self, s: Struct, cls: str, names: list[str]) -> list[str]:
        # OpenAFS's hand-written xdr_CBS / xdr_BBS / xdr_AFSAccessList: int
        # fields, the last of which is the body length, then the body bytes.
        ints = names[:-1]
        body = names[-1]
        L = [f'    """customized struct {s.name}: {", ".join(ints)}, then {body} '
             f'({ints[-1]} bytes, padded to 4)."""', ""]
        L += self.emit_fields(names, ["int"] * len(ints) + ["bytes"], ["0"] * len(ints) + ['b""'])
        L.append("")
        L.append("    _xdr_fields = (" + "".join(f"({n!r}, ('prim', 'i')), " for n in ints)
                 + f"({body!r}, ('body',)), )")
        L.append("    _xdr_size = None")
        L.append(f"    _xdr_min = {4 * len(ints)}")
        L.append("")
        L.append("    def encode(self, enc):")
        L.append(f"        _body = self.{body}")
        L.append("        if not isinstance(_body, (bytes, bytearray, memoryview)):")
        L.append(f"            raise _EncodeError('{s.name}.{body} needs bytes')")
        for n in ints[:-1]:
            if len(ints) == 2:  # BBS form: MaxSeqLen must cover the body
                L.append(f"        enc.int32(max(self.{n}, len(_body)))")
            else:
                L.append(f"        enc.int32(self.{n})")
        L.append("        enc.int32(len(_body))")
        L.append("        enc.opaque_fixed(bytes(_body), len(_body))")
        L.append("")
        L.append("    @classmethod")
        L.append("    def decode(cls, dec):")
        for i, n in enumerate(ints):
            L.append(f"        _f{i} = dec.int32()")
        last = f"_f{len(ints) - 1}"
        L.append(f"        if {last} < 0:")
        L.append(f"            raise _DecodeError('{s.name}: negative length')")
        if len(ints) == 2:
            L.append(f"        if {last} > _f0:")
            L.append(f"            raise _DecodeError('{s.name}: length exceeds maximum')")
        L.append(f"        _body = dec.opaque_fixed({last})")
        L.append(f"        return cls({', '.join(f'_f{i}' for i in range(len(ints)))}, _body)")
        return L

    def emit_union(self, u: Union) -> list[str]:
        cls = self.clsname(u)
        dr = self.resolve(u.disc.type)
        if not isinstance(dr, Prim) or dr.kind == "float":
            raise CompileError(u.file, u.line, f"union {u.name}: discriminant must be an integer type")
        first = u.cases[0] if u.cases else None
        disc_default = first.value if first else 0
        val_default = "None" if (first is None or first.decl is None) else self.value_default(first.decl.type)
        L = ["", "", f"class {cls}(_XdrStruct):",
             f'    """union {u.name} switch ({u.disc.name}): ``disc`` selects the arm, ``value`` holds it."""',
             ""]
        vdef = "None" if val_default == "None" else f"field(default_factory=lambda: {val_default})"
        L += self.emit_fields(["disc", "value"], ["int", "object"], [str(disc_default), vdef])
        L.append("")
        arms = []
        for c in u.cases:
            arms.append(f"({c.value}, {c.decl.name if c.decl else ''!r}, "
                        f"{self.desc(c.decl.type) if c.decl else None}), ")
        dflt = "None"
        if u.has_default:
            dflt = f"({u.default.name!r}, {self.desc(u.default.type)})" if u.default else "('', None)"
        L.append(f"    _xdr_union = ({self.desc(u.disc.type)}, ({''.join(arms)}), {dflt})")
        L.append(f"    _xdr_size = None")
        L.append(f"    _xdr_min = {self.minsize(u)}")
        # encode
        L.append("")
        L.append("    def encode(self, enc):")
        L.append("        d = self.disc")
        L += ["        " + s for s in self.estmts(u.disc.type, "d")]
        kw = "if"
        for c in u.cases:
            L.append(f"        {kw} d == {c.value}:")
            body = self.estmts(c.decl.type, "self.value") if c.decl else ["pass"]
            L += ["            " + s for s in body]
            kw = "elif"
        if u.cases:
            L.append("        else:")
            ind = "            "
        else:
            ind = "        "
        if u.has_default:
            body = self.estmts(u.default.type, "self.value") if u.default else ["pass"]
            L += [ind + s for s in body]
        else:
            L.append(ind + f"raise _EncodeError(f'union {u.name}: no arm for discriminant {{d}}')")
        # decode
        L.append("")
        L.append("    @classmethod")
        L.append("    def decode(cls, dec):")
        L.append(f"        d = {self.dexpr(u.disc.type)}")
        kw = "if"
        for c in u.cases:
            L.append(f"        {kw} d == {c.value}:")
            L.append(f"            return cls(d, {self.dexpr(c.decl.type) if c.decl else 'None'})")
            kw = "elif"
        if u.has_default:
            L.append(f"        return cls(d, {self.dexpr(u.default.type) if u.default else 'None'})")
        else:
            L.append(f"        raise _DecodeError(f'union {u.name}: bad discriminant {{d}}')")
        return L

    def emit_enum(self, e: Enum) -> list[str]:
        self.uses_enum = True
        L = [""]
        for name, v in e.values:
            L.append(f"{pyname(name)} = {v}")
        L.append(f"{self.clsname(e)} = _IntEnum({e.name!r}, {[(pyname(n), v) for n, v in e.values]!r})")
        return L

    # -- procedures -------------------------------------------------------------------
    def emit_package(self, pkg, taken: set[str]) -> list[str]:
        P = pkg.prefix
        L = ["", "", f"# {'-' * 70}", f"# package {P}" + (f" (statindex {pkg.statindex})" if pkg.statindex is not None else ""), ""]
        if pkg.statindex is not None and f"{P}STATINDEX" not in taken:
            L.append(f"{P}STATINDEX = {pkg.statindex}")
            taken.add(f"{P}STATINDEX")
        if f"{P}NO_OF_STAT_FUNCS" not in taken:
            L.append(f"{P}NO_OF_STAT_FUNCS = {len(pkg.procs)}")
            taken.add(f"{P}NO_OF_STAT_FUNCS")
        for p in pkg.procs:
            cname = (P + p.name).upper()
            if cname in taken:
                L.append(f"# opcode constant {cname} omitted: the name is taken")
            else:
                L.append(f"{cname} = {p.opcode}")
                taken.add(cname)
        server = []
        for p in pkg.procs:
            L += self.emit_proc(pkg, p, server, taken)
        # procedure table
        L += ["", "", f"{P}PACKAGE = _rt.PackageInfo(",
              f"    prefix={P!r},", f"    server_prefix={pkg.server_prefix!r},",
              f"    statindex={pkg.statindex!r},", "    procs=("]
        for p in pkg.procs:
            params = "".join(
                f"_rt.ParamInfo({q.name!r}, {q.direction!r}, {q.ctype!r}, {self.desc(q.type)}), "
                for q in p.params)
            L.append(f"        _rt.ProcInfo({p.name!r}, {p.opcode}, {p.statindex}, {p.split}, {p.multi}, ({params})),")
        L += ["    ),", f"    split_start={pkg.split_start!r},", f"    split_end={pkg.split_end!r},", ")"]
        L += ["", f"_{P}SERVER = {{"] + ["    " + s for s in server] + ["}"]
        L += ["", "", f"def make_{P.rstrip('_')}_dispatcher(impl):",
              f'    """``async handler(call)`` serving package {P} with ``impl``\'s async methods',
              f"    (``impl.GetXxx(call, *in_args)``, see kafs.rpc.runtime.make_dispatcher).\"\"\"",
              f"    return _rt.make_dispatcher(_{P}SERVER, impl, {P!r})"]
        return L

    def emit_proc(self, pkg, p, server: list[str], taken: set[str]) -> list[str]:
        P = pkg.prefix
        full = P + p.name
        ins = [q for q in p.params if q.direction in ("IN", "INOUT")]
        outs = [q for q in p.params if q.direction in ("OUT", "INOUT")]
        argn = [pyname(q.name) for q in ins]
        outn = [pyname(q.name) for q in outs]
        L = ["", ""]
        # codecs
        L.append(f"def _{full}_ienc(enc{''.join(', ' + a for a in argn)}):")
        body = self.seq_encode([(a, q.type) for a, q in zip(argn, ins)]) or ["pass"]
        L += ["    " + s for s in body]
        L += ["", ""]
        L.append(f"def _{full}_idec(dec):")
        lines, exprs = self.seq_decode([q.type for q in ins])
        L += ["    " + s for s in lines]
        L.append(f"    return ({''.join(e + ', ' for e in exprs)})")
        L += ["", ""]
        L.append(f"def _{full}_oenc(enc{''.join(', ' + a for a in outn)}):")
        body = self.seq_encode([(a, q.type) for a, q in zip(outn, outs)]) or ["pass"]
        L += ["    " + s for s in body]
        result_cls = None
        if len(outs) > 1:
            result_cls = f"{full}_Result"
            if result_cls in taken:
                raise CompileError(p.file, p.line, f"name {result_cls} is already taken")
            taken.add(result_cls)
            L += ["", "", f"class {result_cls}(_rt.Result):",
                  f'    """OUT parameters of {full}."""', ""]
            L += self.emit_fields(outn, [self.ann(q.type) for q in outs],
                                  [self.default(q.type) for q in outs])
        L += ["", ""]
        L.append(f"def _{full}_odec(dec):")
        lines, exprs = self.seq_decode([q.type for q in outs])
        L += ["    " + s for s in lines]
        if not outs:
            L.append("    return None")
        elif len(outs) == 1:
            L.append(f"    return {exprs[0]}")
        else:
            L.append(f"    return {result_cls}({', '.join(exprs)})")
        # client stub
        op = p.opcode.to_bytes(4, "big", signed=False) if p.opcode >= 0 else p.opcode.to_bytes(4, "big", signed=True)
        sig = "".join(f", {a}: {self.ann(q.type)}" for a, q in zip(argn, ins))
        if not outs:
            rann = "None"
        elif len(outs) == 1:
            rann = self.ann(outs[0].type)
        else:
            rann = result_cls
        doc_in = ", ".join(f"{q.direction} {q.ctype}" for q in p.params) or "no parameters"
        args_t = "(" + "".join(a + ", " for a in argn) + ")"
        L += ["", ""]
        if p.split:
            L.append(f"def {full}(conn{sig}) -> _rt.SplitCall:")
            L.append(f'    """{full} (opcode {p.opcode}, split): {doc_in}.')
            L.append("")
            L.append(f"    ``async with {full}(conn, ...) as s:`` stream on ``s.call``; afterwards")
            L.append(f"    ``s.result`` is {rann}.")
            L.append('    """')
            L.append(f"    return _rt.split_call(conn, {op!r}, _{full}_ienc, {args_t}, _{full}_odec)")
        else:
            L.append(f"async def {full}(conn{sig}) -> {rann}:")
            L.append(f'    """{full} (opcode {p.opcode}{", multi" if p.multi else ""}): {doc_in}."""')
            L.append(f"    return await _rt.call(conn, {op!r}, _{full}_ienc, {args_t}, _{full}_odec)")
            L += ["", "", f"{full}.rpc = _rt.Rpc({full}, {op!r}, _{full}_ienc, _{full}_odec)"]
        server.append(f"{p.opcode}: _rt.ServerProc({p.name!r}, _{full}_idec, _{full}_oenc, "
                      f"{len(outs)}, {p.split}),")
        return L

    # -- module -------------------------------------------------------------------------
    def emit(self) -> str:
        spec = self.spec
        body: list[str] = []
        imports: dict[str, list[str]] = {}
        taken: set[str] = set()
        # constants first (rxgen emits #defines), then types in source order
        for d in spec.defs:
            mod = self.import_from.get(getattr(d, "file", ""))
            names = []
            if isinstance(d, Const):
                names = [d.name]
            elif isinstance(d, Enum):
                names = [n for n, _ in d.values] + [d.name]
            elif isinstance(d, (Struct, Union)):
                names = [d.name]
            for n in names:
                taken.add(pyname(n))
            if mod is not None:
                imports.setdefault(mod, []).extend(pyname(n) for n in names)
                continue
            if isinstance(d, Const):
                if body and body[-1].startswith(" "):
                    body += ["", ""]
                body.append(f"{pyname(d.name)} = {d.value!r}")
            elif isinstance(d, Enum):
                body += self.emit_enum(d)
            elif isinstance(d, Struct):
                body += self.emit_struct(d)
            elif isinstance(d, Union):
                body += self.emit_union(d)
            # typedefs: nothing to emit; uses are inlined
        for pkg in spec.packages:
            body += self.emit_package(pkg, taken)
        if spec.packages:
            body += ["", "", "PACKAGES = (" + "".join(f"{p.prefix}PACKAGE, " for p in spec.packages) + ")"]
        # header
        H = [f"# generated by kafs.rxgen from {self.source} \u2014 do not edit",
             f'"""Interface {self.source}: types, constants'
             + (", client stubs and server dispatch for " + ", ".join(p.prefix for p in spec.packages)
                if spec.packages else "") + '."""',
             "",
             "from __future__ import annotations",
             "",
             *(["from enum import IntEnum as _IntEnum"] if self.uses_enum else []),
             "from struct import Struct as _Struct",
             "",
             "from kafs.rpc import runtime as _rt",
             "from kafs.rpc.runtime import (",
             "    _DEFAULT as _D,",
             "    DecodeError as _DecodeError,",
             "    EncodeError as _EncodeError,",
             "    XdrStruct as _XdrStruct,",
             "    _bints,",
             "    _cints,",
             "    _cstr,",
             "    _fx,",
             "    _ofix,",
             ")"]
        if self.uses_afsuuid and "afsUUID" not in spec.types:
            H.append("from kafs.rpc.runtime import afsUUID")
        for mod in sorted(imports):
            names = imports[mod]
            H.append(f"from {mod} import (  # noqa: F401")
            H += [f"    {n}," for n in names]
            H.append(")")
        H.append("")
        H += ["# struct layouts of the fixed-size runs"]
        H += [f"{n} = _Struct({f!r})" for n, f in self.struct_order]
        H.append("")
        text = "\n".join(H + body) + "\n"
        return text


def module_name_for(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]
