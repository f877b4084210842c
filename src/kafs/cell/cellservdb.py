"""OpenAFS cell configuration files: ThisCell, CellServDB, CellAlias.

The parsing rules follow OpenAFS 1.8.9's ``src/auth/cellconfig.c``
(``afsconf_OpenInternal``, ``ParseCellLine``, ``ParseHostLine``,
``GetCellUnix``) as facts, re-expressed here:

* every line has its leading white space removed; empty lines are skipped;
* ``>name [linkedcell] [#comment]`` starts a cell.  The name is the first
  white-space delimited word after ``>`` (so ``>cell#x`` names a cell
  ``cell#x``, exactly like OpenAFS); a second word is a linked cell unless it
  starts with ``#``;
* any other line is a host of the current cell: ``a.b.c.d #hostname`` or,
  for a clone (a server that never becomes sync site), ``[a.b.c.d] #hostname``.
  Like ``sscanf("%d.%d.%d.%d #%s")`` the ``#`` and a non-empty host name are
  required, white space around ``#`` is optional, anything after the host
  name is ignored, and every octet must be 0..255.  There is no port;
  CellServDB lists database servers, whose ports are the services' ports;
* a host line before the first cell, or a line that does not parse, makes
  OpenAFS refuse the whole file; we raise :class:`~kafs.errors.ConfigError`
  naming ``file:line`` instead.  Note that OpenAFS has no comment lines in
  CellServDB: a line starting with ``#`` is a malformed host line there too;
* at most ``MAXHOSTSPERCELL`` (8) hosts per cell are kept; further hosts are
  ignored with a warning (OpenAFS prints "Too many hosts for cell ...");
* if a cell appears more than once, the *last* entry wins;
* a cell may be named by an unambiguous prefix of its name (``GetCellInfo``'s
  abbreviation rule) and names compare case-insensitively;
* ``CellAlias`` lines are ``realname alias``; ``#`` lines and lines with
  fewer than two words are ignored.

``CellServDB.local`` / ``CellServDB.dist``: OpenAFS's afsconf reads only
``CellServDB``; the distribution packaging builds it by concatenating
``CellServDB.local`` and ``CellServDB.dist``.  When ``CellServDB`` itself is
absent we read those two in that order, which gives the same result.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from kafs.errors import ConfigError

log = logging.getLogger("kafs.cell")

MAXHOSTSPERCELL = 8
MAXCELLCHARS = 64

__all__ = [
    "MAXHOSTSPERCELL",
    "CellServDBHost",
    "CellServDBEntry",
    "CellServDB",
    "parse_cellservdb",
    "read_cellservdb",
    "read_thiscell",
    "read_cellalias",
    "parse_cellalias",
]


class CellServDBHost(NamedTuple):
    """One database server line of a CellServDB cell."""

    address: str          # dotted quad, normalised ("010.1.2.3" -> "10.1.2.3")
    hostname: str         # the word after '#'
    clone: bool = False   # written as [a.b.c.d]
    origin: str = ""      # "file:line", for messages


class CellServDBEntry(NamedTuple):
    """One ``>cell`` block."""

    name: str
    hosts: tuple[CellServDBHost, ...] = ()
    linked_cell: str | None = None
    comment: str = ""
    origin: str = ""


@dataclass(slots=True)
class CellServDB:
    """The parsed contents of one or more CellServDB files, in file order."""

    entries: list[CellServDBEntry] = field(default_factory=list)
    files: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)   # alias(lower) -> real name

    def cells(self) -> list[str]:
        """Cell names, each once, in file order of their winning entry."""
        seen: dict[str, CellServDBEntry] = {}
        for e in self.entries:
            seen.pop(e.name.lower(), None)
            seen[e.name.lower()] = e
        return [e.name for e in seen.values()]

    def lookup(self, name: str) -> CellServDBEntry | None:
        """Find a cell as OpenAFS's ``_GetCellInfo`` does.

        Aliases first, then: an exact (case-insensitive) match wins, the last
        entry in the file first; otherwise a unique prefix match.  Entries
        without hosts do not count (OpenAFS then falls back to DNS).
        """
        want = name.lower()
        want = self.aliases.get(want, want).lower()
        best = None
        ambiguous = False
        for e in reversed(self.entries):
            cn = e.name.lower()
            if cn == want:
                best, ambiguous = e, False
                break
            if len(cn) >= len(want) and cn.startswith(want):
                if best is not None:
                    ambiguous = True
                best = e
        if best is None or ambiguous or not best.hosts:
            return None
        return best


# -- low-level scanf emulation ---------------------------------------------

_WS = " \t\n\r\v\f"
_INT = re.compile(r"[+-]?[0-9]+")


class _Scan:
    """Just enough of sscanf's %d, %s, literal and white-space rules."""

    __slots__ = ("s", "i")

    def __init__(self, s: str):
        self.s = s
        self.i = 0

    def skip_ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in _WS:
            self.i += 1

    def lit(self, ch: str) -> bool:
        if self.i < len(self.s) and self.s[self.i] == ch:
            self.i += 1
            return True
        return False

    def int_(self) -> int | None:
        self.skip_ws()
        m = _INT.match(self.s, self.i)
        if not m:
            return None
        self.i = m.end()
        return int(m.group(0))

    def word(self) -> str | None:
        self.skip_ws()
        j = self.i
        while j < len(self.s) and self.s[j] not in _WS:
            j += 1
        if j == self.i:
            return None
        w = self.s[self.i:j]
        self.i = j
        return w


def _parse_host_line(line: str, where: str) -> CellServDBHost:
    sc = _Scan(line)
    clone = sc.lit("[")
    octets: list[int] = []
    for k in range(4):
        v = sc.int_()
        if v is None:
            break
        octets.append(v)
        if k < 3 and not sc.lit("."):
            break
    ok = len(octets) == 4
    if ok and clone:
        ok = sc.lit("]")
    if ok:
        sc.skip_ws()
        ok = sc.lit("#")
    name = sc.word() if ok else None
    if name is None:
        shown = line.rstrip("\r\n")
        raise ConfigError(
            f"{where}: can't parse host line {shown!r} "
            f"(expected 'a.b.c.d #hostname' or '[a.b.c.d] #hostname')")
    if any(o < 0 or o > 255 for o in octets):
        raise ConfigError(
            f"{where}: illegal IP address {'.'.join(map(str, octets))}")
    return CellServDBHost(".".join(map(str, octets)), name, clone, where)


def _parse_cell_line(line: str, where: str) -> tuple[str, str | None, str]:
    sc = _Scan(line)
    sc.lit(">")
    name = sc.word()
    if name is None:
        raise ConfigError(f"{where}: cell line without a cell name")
    linked = sc.word()
    comment = ""
    rest = line[sc.i:].strip()
    if linked is not None and linked.startswith("#"):
        comment = (linked[1:] + (" " + rest if rest else "")).strip()
        linked = None
    else:
        if rest.startswith("#"):
            comment = rest[1:].strip()
    if len(name) >= MAXCELLCHARS:
        raise ConfigError(f"{where}: cell name {name[:20]!r}... is longer than "
                          f"{MAXCELLCHARS - 1} characters")
    return name, linked, comment


def parse_cellservdb(text: str, filename: str = "CellServDB",
                     db: CellServDB | None = None) -> CellServDB:
    """Parse CellServDB text; append to ``db`` when given."""
    if db is None:
        db = CellServDB()
    cur: dict | None = None

    def finish() -> None:
        if cur is not None:
            db.entries.append(CellServDBEntry(
                cur["name"], tuple(cur["hosts"]), cur["linked"],
                cur["comment"], cur["origin"]))

    for lineno, raw in enumerate(text.splitlines(), 1):
        where = f"{filename}:{lineno}"
        line = raw.lstrip(_WS)
        if not line:
            continue
        if line[0] == ">":
            finish()
            name, linked, comment = _parse_cell_line(line, where)
            cur = {"name": name, "linked": linked, "comment": comment,
                   "hosts": [], "origin": where}
            continue
        if cur is None:
            raise ConfigError(
                f"{where}: host line before the first '>cell' line "
                f"(CellServDB has no comment lines)")
        host = _parse_host_line(line, where)
        if len(cur["hosts"]) >= MAXHOSTSPERCELL:
            log.warning("%s: too many hosts for cell %s (at most %d); "
                        "ignoring %s", where, cur["name"], MAXHOSTSPERCELL,
                        host.address)
            continue
        cur["hosts"].append(host)
    finish()
    db.files = db.files + (filename,)
    return db


def _read_text(path: str) -> str | None:
    """File contents, or None if it does not exist.  Other errors -> ConfigError."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    # Bytes that are not UTF-8 are kept (surrogateescape) so names round-trip.
    return data.decode("utf-8", "surrogateescape")


def read_cellservdb(confdir: str | os.PathLike) -> CellServDB | None:
    """Read ``CellServDB`` (or ``CellServDB.local`` + ``.dist``) and ``CellAlias``.

    Returns None if none of the CellServDB files exists.
    """
    d = os.fspath(confdir)
    path = os.path.join(d, "CellServDB")
    text = _read_text(path)
    db: CellServDB | None = None
    if text is not None:
        db = parse_cellservdb(text, path)
    else:
        for part in ("CellServDB.local", "CellServDB.dist"):
            path = os.path.join(d, part)
            t = _read_text(path)
            if t is not None:
                db = parse_cellservdb(t, path, db)
    if db is not None:
        db.aliases = read_cellalias(d)
    return db


def parse_cellalias(text: str) -> dict[str, str]:
    """``realname alias`` lines -> {alias.lower(): realname}."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.lstrip(_WS)
        if not line or line[0] == "#":
            continue
        words = line.split()
        if len(words) < 2:
            continue
        out[words[1].lower()] = words[0]   # a later line wins, as in OpenAFS
    return out


def read_cellalias(confdir: str | os.PathLike) -> dict[str, str]:
    text = _read_text(os.path.join(confdir, "CellAlias"))
    return parse_cellalias(text) if text is not None else {}


def read_thiscell(confdir: str | os.PathLike) -> str | None:
    """The first word of the first line of ``ThisCell``, or None.

    Like ``GetCellUnix``: leading white space is skipped and the name ends at
    the next white space; an empty first line means "no cell".
    """
    path = os.path.join(confdir, "ThisCell")
    text = _read_text(path)
    if text is None:
        return None
    first = text.split("\n", 1)[0]
    words = first.split()
    if not words:
        raise ConfigError(f"{path}:1: empty; it should hold the local cell name")
    return words[0]
