"""Lexer and parser for OpenAFS's rxgen dialect of RPCL (.xg files).

The grammar follows rxgen 1.8.9's parser (src/rxgen/rpc_parse.c), including
its quirks:

* ``package``/``prefix``/``statindex``/``startingopcode`` take no ``;``
  (one is accepted and ignored);
* a parameter without ``IN``/``OUT``/``INOUT`` takes the direction of the
  parameter before it, and that "last direction" survives from one
  procedure to the next (and across packages) within one compilation;
* once a procedure without ``= opcode`` appears (or after
  ``startingopcode``), a package numbers the rest automatically and
  rejects explicit opcodes; the automatic counter is shared by all
  packages of the file, starting at 0 unless ``startingopcode`` says so;
* ``T *x`` is optional data inside a struct but the plain T as a parameter.
"""

from __future__ import annotations

import re

from .errors import CompileError
from .model import (
    CHARLIKE, PRIMS, Case, Chars, Const, Decl, Enum, FixedArray, OpaqueFixed, OpaqueVar,
    Optional, Package, Param, Prim, Proc, Ref, Spec, String, Struct, Typedef, Union, VarArray,
)
from .preprocess import Line, Preprocessor

_TOK = re.compile(
    r"""\s*(?:
      (?P<str>"[^"\n]*")
    | (?P<num>-?(?:0[xX][0-9A-Fa-f]+|\d+)[uUlL]*)
    | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<p>[:;,=*\[\]{}()<>])
    | (?P<bad>\S)
    )""",
    re.X,
)


class Tok:
    __slots__ = ("kind", "val", "file", "line")

    def __init__(self, kind, val, file, line):
        self.kind = kind
        self.val = val
        self.file = file
        self.line = line

    def __repr__(self):
        return f"Tok({self.kind},{self.val!r})"


def lex(lines: list[Line]) -> list[Tok]:
    toks: list[Tok] = []
    for ln in lines:
        text = ln.text
        pos = 0
        n = len(text)
        while pos < n:
            m = _TOK.match(text, pos)
            if m is None or m.end() == pos:
                break
            pos = m.end()
            kind = m.lastgroup
            val = m.group(kind)
            if kind == "bad":
                raise CompileError(ln.file, ln.line, f"illegal character in file: {val!r}")
            if kind == "p":
                kind = val
            toks.append(Tok(kind, val, ln.file, ln.line))
    return toks


def parse_number(s: str) -> int:
    s = s.rstrip("uUlL")
    neg = s.startswith("-")
    if neg:
        s = s[1:]
    if s[:2] in ("0x", "0X"):
        v = int(s, 16)
    elif len(s) > 1 and s[0] == "0":
        v = int(s, 8)
    else:
        v = int(s)
    return -v if neg else v


_KEYWORD_DEFS = {"struct", "union", "typedef", "enum", "const", "package", "prefix", "statindex",
                 "startingopcode", "splitprefix", "customized", "proc", "special"}
_DIRS = ("IN", "OUT", "INOUT")


class Parser:
    def __init__(self, toks: list[Tok], spec: Spec, eof_file: str):
        self.t = toks
        self.i = 0
        self.spec = spec
        self.eof_file = eof_file
        self.pkg: Package | None = None
        self.last_dir: str | None = None  # rxgen's static last_param_kind
        self.master_opcode = None  # rxgen's master_opcodenumber (None == 99999)
        self.no_explicit: dict[int, bool] = {}  # package index -> opcodesnotallowed
        self.refs: list[tuple[str, Tok]] = []
        self.server_prefix = ""  # rxgen's global ServerPrefix

    # -- token helpers --------------------------------------------------------
    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def err(self, msg: str, tok: Tok | None = None):
        tok = tok or self.peek() or (self.t[-1] if self.t else None)
        if tok is None:
            raise CompileError(self.eof_file, 1, msg)
        raise CompileError(tok.file, tok.line, msg)

    def next(self) -> Tok:
        tok = self.peek()
        if tok is None:
            self.err("unexpected end of file")
        self.i += 1
        return tok

    def expect(self, kind: str, what: str | None = None) -> Tok:
        tok = self.peek()
        if tok is None:
            self.err(f"expected {what or repr(kind)}, found end of file")
        if tok.kind != kind:
            self.err(f"expected {what or repr(kind)}, found {tok.val!r}", tok)
        self.i += 1
        return tok

    def ident(self, what: str = "identifier") -> Tok:
        return self.expect("id", what)

    def accept(self, kind: str, val: str | None = None) -> Tok | None:
        tok = self.peek()
        if tok is not None and tok.kind == kind and (val is None or tok.val == val):
            self.i += 1
            return tok
        return None

    def is_id(self, val: str, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok is not None and tok.kind == "id" and tok.val == val

    # -- constants ------------------------------------------------------------
    def const_value(self, tok: Tok) -> int:
        if tok.kind == "num":
            return parse_number(tok.val)
        if tok.kind == "id":
            v = self.spec.consts.get(tok.val)
            if isinstance(v, int) and not isinstance(v, bool):
                return v
            self.err(f"unknown constant {tok.val!r}", tok)
        self.err(f"constant or identifier expected, found {tok.val!r}", tok)

    def num(self, what: str = "constant") -> int:
        tok = self.next()
        return self.const_value(tok)

    # -- definitions ------------------------------------------------------------
    def define(self, d, tok: Tok):
        name = d.name
        if name in self.spec.types or name in self.spec.consts:
            self.err(f"{name!r} is already defined", tok)
        if isinstance(d, (Struct, Union, Enum, Typedef)):
            self.spec.types[name] = d
        if isinstance(d, Const):
            self.spec.consts[name] = d.value
        if isinstance(d, Enum):
            for vname, v in d.values:
                if vname in self.spec.consts or vname in self.spec.types:
                    self.err(f"{vname!r} is already defined", tok)
                self.spec.consts[vname] = v
        self.spec.defs.append(d)

    def parse(self) -> None:
        while self.peek() is not None:
            self.definition()
        for name, tok in self.refs:
            if name not in self.spec.types and name != "afsUUID":
                self.err(f"unknown type {name!r}", tok)

    def definition(self) -> None:
        tok = self.next()
        if tok.kind != "id":
            if tok.kind == "(":
                self.err("procedures without a name are not supported", tok)
            self.err(f"definition keyword expected, found {tok.val!r}", tok)
        kw = tok.val
        if kw == "struct":
            self.def_struct(tok, False)
        elif kw == "customized":
            self.expect("id", "'struct'")
            self.def_struct(tok, True)
        elif kw == "union":
            self.def_union(tok)
        elif kw == "typedef":
            d = self.declaration("typedef")
            self.define(Typedef(d.name, d.type, tok.file, tok.line), tok)
            self.expect(";")
        elif kw == "enum":
            self.def_enum(tok)
        elif kw == "const":
            name = self.ident("constant name")
            self.expect("=")
            v = self.next()
            if v.kind == "str":
                value = v.val[1:-1]
            else:
                value = self.const_value(v)
            self.define(Const(name.val, value, tok.file, tok.line), name)
            self.expect(";")
        elif kw == "package":
            name = self.ident("package prefix")
            self.pkg = Package(prefix=name.val, server_prefix=self.server_prefix,
                               file=tok.file, line=tok.line)
            self.spec.packages.append(self.pkg)
            self.no_explicit[len(self.spec.packages) - 1] = False
            self.accept(";")
        elif kw == "prefix":
            name = self.ident("server prefix")
            # rxgen: a global, applies to the packages that follow
            self.server_prefix = name.val
            if self.pkg is not None:
                self.pkg.server_prefix = name.val
            self.accept(";")
        elif kw == "statindex":
            if self.pkg is None:
                self.err("'statindex' command must follow 'package' command!", tok)
            if self.pkg.statindex is not None:
                self.err("Cannot have more then one 'statindex' per package!", tok)
            v = self.next()
            if v.kind != "num" or not v.val.isdigit():
                self.err("Index in 'statindex' command must be a constant!", v)
            self.pkg.statindex = int(v.val)
            self.accept(";")
        elif kw == "startingopcode":
            if self.pkg is None:
                self.err("'startingopcode' must follow 'package'", tok)
            v = self.next()
            if v.kind != "num" or not v.val.isdigit():
                self.err("Opcode in 'startingopcode' command must be a constant!", v)
            n = int(v.val)
            if n > 99999:
                self.err("startingopcode number is out of bounds (must be >= 0 < 100000)", v)
            self.master_opcode = n
            self.no_explicit[len(self.spec.packages) - 1] = True
            self.accept(";")
        elif kw == "splitprefix":
            self.def_splitprefix(tok)
        elif kw == "special":
            self.err("'special' declarations are not supported", tok)
        elif kw == "proc":
            self.procedure(self.ident("procedure name"))
        elif kw in _DIRS:
            self.err(f"unexpected {kw!r}", tok)
        else:
            self.procedure(tok)

    def def_splitprefix(self, tok: Tok) -> None:
        if self.pkg is None:
            self.err("'splitprefix' must follow 'package'", tok)
        seen = False
        while True:
            t = self.next()
            if t.kind == ";":
                break
            if t.kind == "id" and t.val in ("IN", "OUT"):
                self.expect("=")
                name = self.ident()
                if t.val == "IN":
                    self.pkg.split_start = name.val
                else:
                    self.pkg.split_end = name.val
                seen = True
            else:
                self.err("syntax error in the 'splitprefix' line", t)
        if not seen:
            self.err("At least one param should be passed to 'splitprefix' cmd", tok)

    def def_struct(self, tok: Tok, customized: bool) -> None:
        name = self.ident("struct name")
        self.expect("{")
        fields = []
        while True:
            d = self.declaration("struct")
            if d.type is None:
                self.err("void is allowed only inside unions", name)
            fields.append(d)
            self.expect(";")
            if self.accept("}"):
                break
        if customized:
            self.check_customized(name, fields)
        if name.val == "afsUUID":
            # rxgen has afsUUID built in (a keyword, xdr_afsUUID in Rx); a
            # definition is accepted only if it matches that layout, and the
            # built-in type (kafs.rpc.runtime.afsUUID, node as bytes) is used.
            self.check_afsuuid(name, fields)
            self.expect(";")
            return
        self.define(Struct(name.val, fields, tok.file, tok.line, customized), name)
        self.expect(";")

    def check_afsuuid(self, name: Tok, fields: list[Decl]) -> None:
        sizes = []
        for f in fields:
            t = f.type
            if isinstance(t, Prim) and t.size == 4:
                sizes.append(4)
            elif isinstance(t, Chars) and t.n == 6:
                sizes.append(24)
            else:
                sizes.append(None)
        if sizes != [4, 4, 4, 4, 4, 24]:
            self.err("afsUUID is built into rxgen; a definition must match its 44-byte layout "
                     "(u32, u16, u16, char, char, char[6])", name)

    def check_customized(self, name: Tok, fields: list[Decl]) -> None:
        # OpenAFS's hand-written xdr_CBS/xdr_BBS/xdr_AFSAccessList: int fields
        # then a char* body whose length is the int just before it.
        body = fields[-1]
        ok = (
            isinstance(body.type, Optional)
            and isinstance(body.type.elem, Prim)
            and body.type.elem.name in ("char", "u_char")
            and len(fields) >= 2
            and all(isinstance(f.type, Prim) and f.type.kind == "int" for f in fields[:-1])
        )
        if not ok:
            self.err(
                f"customized struct {name.val}: only int fields followed by a 'char *' body "
                "(the CBS/BBS/AFSAccessList form) are supported",
                name,
            )

    def def_enum(self, tok: Tok) -> None:
        name = self.ident("enum name")
        self.expect("{")
        values = []
        nxt = 0
        local = {}
        while True:
            vname = self.ident("enum value name")
            if self.accept("="):
                vt = self.next()
                if vt.kind == "id" and vt.val in local:
                    v = local[vt.val]
                else:
                    v = self.const_value(vt)
            else:
                v = nxt
            values.append((vname.val, v))
            local[vname.val] = v
            nxt = v + 1
            t = self.next()
            if t.kind == "}":
                break
            if t.kind != ",":
                self.err(f"expected ',' or '}}', found {t.val!r}", t)
            if self.accept("}"):
                break
        self.define(Enum(name.val, values, tok.file, tok.line), name)
        self.expect(";")

    def def_union(self, tok: Tok) -> None:
        name = self.ident("union name")
        if not self.is_id("switch"):
            self.err("expected 'switch'")
        self.next()
        self.expect("(")
        disc = self.declaration("union")
        self.expect(")")
        self.expect("{")
        cases: list[Case] = []
        default = None
        has_default = False
        seen = set()
        t = self.next()
        if not (t.kind == "id" and t.val == "case"):
            self.err("expected 'case'", t)
        while True:
            vt = self.next()
            v = self.const_value(vt)
            if v in seen:
                self.err(f"duplicate case value {vt.val}", vt)
            seen.add(v)
            self.expect(":")
            d = self.declaration("union")
            cases.append(Case(v, vt.val, d if d.type is not None else None))
            self.expect(";")
            t = self.next()
            if t.kind == "id" and t.val == "case":
                continue
            if t.kind == "id" and t.val == "default":
                self.expect(":")
                d = self.declaration("union")
                default = d if d.type is not None else None
                has_default = True
                self.expect(";")
                self.expect("}")
                break
            if t.kind == "}":
                break
            self.err(f"expected 'case', 'default' or '}}', found {t.val!r}", t)
        self.define(Union(name.val, disc, cases, default, has_default, tok.file, tok.line), name)
        self.expect(";")

    # -- declarations -----------------------------------------------------------
    def type_name(self, context: str) -> tuple[str, Tok]:
        tok = self.next()
        if tok.kind != "id":
            self.err(f"expected type specifier, found {tok.val!r}", tok)
        v = tok.val
        if v in ("struct", "enum", "union"):
            n = self.ident(f"{v} name")
            self.refs.append((n.val, n))
            return n.val, n
        if v == "unsigned":
            nt = self.peek()
            if nt is not None and nt.kind == "id":
                if nt.val == "char":
                    self.next()
                    return "u_char", tok
                if nt.val == "short":
                    self.next()
                    self.accept("id", "int")
                    return "u_short", tok
                if nt.val == "afs_int32":
                    self.next()
                    self.accept("id", "int")
                    return "afs_uint32", tok
                if nt.val == "long":
                    self.next()
                    self.accept("id", "int")
                    return "u_long", tok
                if nt.val == "int":
                    self.next()
            return "u_int", tok
        if v in ("short", "afs_int32", "long"):
            self.accept("id", "int")
            return v, tok
        if v == "void":
            if context != "union":
                self.err("voids allowed only inside union definitions", tok)
            return v, tok
        if v in _KEYWORD_DEFS or v in _DIRS:
            self.err(f"expected type specifier, found {v!r}", tok)
        return v, tok

    def declaration(self, context: str) -> Decl:
        """rxgen's get_declaration; context: struct/union/typedef/IN/OUT/INOUT/None."""
        tname, ttok = self.type_name(context)
        if tname == "void":
            return Decl("", None, ttok.file, ttok.line)
        pointer = bool(self.accept("*"))
        name = self.ident("declaration name")
        rel = "alias"
        size = None
        if self.accept("["):
            if pointer:
                self.err("no array-of-pointer declarations -- use typedef", name)
            rel = "vector"
            size = self.num()
            self.expect("]")
        elif self.accept("<"):
            if pointer:
                self.err("no array-of-pointer declarations -- use typedef", name)
            rel = "array"
            if self.accept(">"):
                if context in ("IN", "INOUT"):
                    self.err("input arrays must specify a max size", name)
                size = None
            else:
                size = self.num()
                self.expect(">")
        if size is not None and size < 0:
            self.err(f"negative array size {size}", name)
        if tname == "opaque":
            if rel == "vector":
                t = OpaqueFixed(size)
            elif rel == "array":
                t = OpaqueVar(size)
            else:
                self.err("array declaration expected", name)
        elif tname == "string":
            if rel != "array":
                self.err(" variable-length array declaration expected", name)
            t = String(size)
        else:
            base = self.base_type(tname, ttok)
            if rel == "vector":
                if tname in CHARLIKE:
                    signed = CHARLIKE[tname]
                    t = Chars(size, text=signed, signext=signed)
                else:
                    t = FixedArray(base, size)
            elif rel == "array":
                t = VarArray(base, size)
            else:
                t = base
            if pointer and context in ("struct", "union", "typedef"):
                t = Optional(t)
        return Decl(name.val, t, name.file, name.line)

    def base_type(self, tname: str, tok: Tok):
        p = PRIMS.get(tname)
        if p is not None and tname not in self.spec.types:
            return p
        if tname in self.spec.types or tname == "afsUUID":
            return Ref(tname)
        # forward reference (allowed for pointers in C); checked at the end
        self.refs.append((tname, tok))
        return Ref(tname)

    # -- procedures -------------------------------------------------------------
    def procedure(self, name: Tok) -> None:
        if self.pkg is None:
            self.err("Procedure must be in a package!", name)
        pkg = self.pkg
        pkg_index = len(self.spec.packages) - 1
        stub = None
        t = self.next()
        if t.kind == "id":
            stub = t.val
            t = self.next()
        if t.kind != "(":
            self.err(f"expected '(' after procedure name, found {t.val!r}", t)
        params: list[Param] = []
        names = set()
        if not self.accept(")"):
            while True:
                direction = None
                start = self.peek()
                if start is not None and start.kind == "id" and start.val in _DIRS:
                    direction = start.val
                    self.next()
                ctx = direction
                if direction is None:
                    direction = self.last_dir
                    if direction is None:
                        self.err("parameter has no direction (IN, OUT or INOUT) and there is "
                                 "no previous parameter to inherit one from", start)
                self.last_dir = direction
                j0 = self.i
                d = self.declaration(ctx)
                ctype = " ".join(tok.val for tok in self.t[j0 : self.i])
                ctype = re.sub(r"\s*([<>\[\]])\s*", r"\1", ctype).replace("* ", "*")
                if d.name in names:
                    self.err(f"duplicate parameter name {d.name!r}", start)
                names.add(d.name)
                params.append(Param(d.name, direction, d.type, ctype))
                t = self.next()
                if t.kind == ")":
                    break
                if t.kind != ",":
                    self.err(f"expected ',' or ')', found {t.val!r}", t)
        split = multi = False
        t = self.next()
        if t.kind == "id" and t.val == "multi":
            multi = True
            t = self.next()
        elif t.kind == "id" and t.val == "split":
            split = True
            t = self.next()
        if t.kind == "=":
            if self.no_explicit.get(pkg_index):
                self.err("Opcode assignment isn't allowed here!", t)
            ot = self.next()
            if ot.kind != "num" or not ot.val.isdigit():
                self.err("Illegal Opcode assignment (Must be a constant opcode!)", ot)
            opcode = int(ot.val)
            self.expect(";")
        elif t.kind == ";":
            if self.master_opcode is None:
                self.master_opcode = 0
            opcode = self.master_opcode
            self.master_opcode += 1
            self.no_explicit[pkg_index] = True
        else:
            self.err(f"expected 'split', 'multi', '=' or ';', found {t.val!r}", t)
        for p in pkg.procs:
            if p.opcode == opcode:
                self.err(f"The opcode number is already used by a previous proc ({p.name})", name)
            if p.name == name.val:
                self.err(f"procedure {name.val!r} is already defined in package {pkg.prefix}", name)
        pkg.procs.append(Proc(name.val, opcode, params, split, multi, len(pkg.procs), stub,
                              name.file, name.line))


def parse_file(path: str, include_path: list[str] | None = None,
               defines: dict[str, str] | None = None) -> tuple[Spec, list[Line]]:
    """Preprocess and parse one .xg file; returns the Spec and the preprocessed lines."""
    pp = Preprocessor(include_path, defines)
    lines = pp.run(path)
    spec = Spec(path=lines[0].file if lines else path)
    spec.path = path
    spec.includes = pp.includes
    p = Parser(lex(lines), spec, path)
    p.parse()
    return spec, lines
