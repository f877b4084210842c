"""What the .xg parser produces: type expressions, definitions, packages."""

from __future__ import annotations

from dataclasses import dataclass, field

# ---------------------------------------------------------------------------
# Type expressions


@dataclass(frozen=True)
class Prim:
    """A scalar.

    ``fmt`` is the struct code used to encode (i I q Q f d); ``dfmt`` the
    struct piece used to decode (``3xb`` for char: C's xdr_char keeps only
    the low byte); ``kind`` is int, bool or float.
    """

    name: str
    fmt: str
    kind: str = "int"
    dfmt: str = ""

    def __post_init__(self):
        if not self.dfmt:
            object.__setattr__(self, "dfmt", self.fmt)

    @property
    def size(self) -> int:
        return 8 if self.fmt in "qQd" else 4

    @property
    def narrow(self) -> bool:
        return self.dfmt != self.fmt


@dataclass(frozen=True)
class Chars:
    """``char x[N]``: N ints on the wire, one per byte.

    ``text``: decoded as str up to the first NUL (``char``), else bytes
    (``u_char``); ``signext``: bytes >= 0x80 are sign-extended on encode.
    """

    n: int
    text: bool = True
    signext: bool = True


@dataclass(frozen=True)
class OpaqueFixed:
    n: int


@dataclass(frozen=True)
class OpaqueVar:
    max: int | None


@dataclass(frozen=True)
class String:
    max: int | None


@dataclass(frozen=True)
class FixedArray:
    elem: object
    n: int


@dataclass(frozen=True)
class VarArray:
    elem: object
    max: int | None


@dataclass(frozen=True)
class Optional:
    """``T *p`` inside a struct or a pointer typedef: flag word, then T."""

    elem: object


@dataclass(frozen=True)
class Ref:
    """A named type: struct, union, enum, typedef, customized struct, afsUUID."""

    name: str


# Built-in scalar types (xdr_<name> routines of OpenAFS's XDR library).
_I = "i"
_U = "I"
PRIMS: dict[str, Prim] = {}
for _n in ("int", "afs_int32", "long", "int32", "int32_t", "enum_t"):
    PRIMS[_n] = Prim(_n, _I)
for _n in ("u_int", "unsigned", "afs_uint32", "u_long", "uint32", "uint32_t", "u_int32",
           "u_int32_t"):
    PRIMS[_n] = Prim(_n, _U)
for _n in ("short", "afs_int16", "int16", "int16_t"):
    PRIMS[_n] = Prim(_n, _I, dfmt="2xh")
for _n in ("u_short", "afs_uint16", "uint16_t", "u_int16_t"):
    PRIMS[_n] = Prim(_n, _U, dfmt="2xH")
for _n in ("char", "afs_int8", "int8_t"):
    PRIMS[_n] = Prim(_n, _I, dfmt="3xb")
for _n in ("u_char", "afs_uint8", "byte", "uint8_t"):
    PRIMS[_n] = Prim(_n, _U, dfmt="3xB")
for _n in ("afs_int64", "hyper", "int64_t", "quad_t"):
    PRIMS[_n] = Prim(_n, "q")
for _n in ("afs_uint64", "u_hyper", "afs_hyper", "uint64_t", "u_quad_t", "afs_uhyper"):
    PRIMS[_n] = Prim(_n, "Q")
PRIMS["bool"] = Prim("bool", _I, "bool")
PRIMS["bool_t"] = Prim("bool_t", _I, "bool")
PRIMS["float"] = Prim("float", "f", "float")
PRIMS["double"] = Prim("double", "d", "float")

CHARLIKE = {"char": True, "u_char": False, "byte": False, "afs_int8": True, "afs_uint8": False,
            "int8_t": True, "uint8_t": False}


# ---------------------------------------------------------------------------
# Definitions


@dataclass
class Decl:
    name: str
    type: object
    file: str = ""
    line: int = 0


@dataclass
class Const:
    name: str
    value: object  # int or str
    file: str
    line: int


@dataclass
class Enum:
    name: str
    values: list[tuple[str, int]]
    file: str
    line: int


@dataclass
class Struct:
    name: str
    fields: list[Decl]
    file: str
    line: int
    customized: bool = False


@dataclass
class Case:
    value: int
    label: str
    decl: Decl | None  # None == void


@dataclass
class Union:
    name: str
    disc: Decl
    cases: list[Case]
    default: Decl | None  # used when default_void is False
    has_default: bool
    file: str
    line: int


@dataclass
class Typedef:
    name: str
    type: object
    file: str
    line: int


@dataclass
class Param:
    name: str
    direction: str  # "IN", "OUT", "INOUT"
    type: object
    ctype: str  # the declaration as written, for metadata


@dataclass
class Proc:
    name: str
    opcode: int
    params: list[Param]
    split: bool
    multi: bool
    statindex: int  # position in the package (rxgen's per-package function index)
    server_stub: str | None
    file: str
    line: int


@dataclass
class Package:
    prefix: str
    server_prefix: str = ""
    statindex: int | None = None
    split_start: str = "Start"
    split_end: str = "End"
    procs: list[Proc] = field(default_factory=list)
    file: str = ""
    line: int = 0


@dataclass
class Spec:
    """A parsed .xg file (with everything it includes)."""

    path: str
    defs: list = field(default_factory=list)  # Const/Enum/Struct/Union/Typedef in order
    types: dict[str, object] = field(default_factory=dict)
    consts: dict[str, object] = field(default_factory=dict)  # const and enum values
    packages: list[Package] = field(default_factory=list)
    includes: list[tuple[str, str]] = field(default_factory=list)
