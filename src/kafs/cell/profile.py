"""The MIT-profile-style configuration format of kAFS's ``/etc/kafs/client.conf``.

Format (as kafs-client's ``kafs-client.conf(5)`` describes it)::

    # comment            ; comment
    include /path/to/file
    includedir /path/to/dir/
    [section]
    key = value
    key = "quoted \\t value"
    key = {
        sub = value
    }            # or "}*": this list is final, later clauses for it are ignored

Rules:

* leading and trailing blanks are ignored; lines starting with ``#`` or
  ``;`` are comments;
* ``include``/``includedir`` must start at the left margin and stand outside
  any braced list.  kafs-client only honours them before the first section
  of a file; we also accept them between sections (as MIT krb5 does) since
  that is harmless.  ``includedir`` reads the directory's files in name
  order, skipping names that start with ``.`` or end with ``~``.  A missing
  include file or directory is an error;
* ``[label]`` switches section and is only valid outside a braced list;
* clauses for the same list (``cells:foo``) merge; repeated string keys
  accumulate, and where one value is wanted the last one is taken;
* booleans: 0 f false n no off / 1 t true y yes on (case-insensitive).

Every syntax error raises :class:`~kafs.errors.ConfigError` with ``file:line``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kafs.errors import ConfigError

__all__ = ["ProfileNode", "parse_profile", "read_profile", "profile_bool"]

MAX_INCLUDE_DEPTH = 16

_FALSE = {"0", "f", "false", "n", "no", "off"}
_TRUE = {"1", "t", "true", "y", "yes", "on"}


def profile_bool(value: str | None, default: bool | None = None) -> bool | None:
    if value is None:
        return default
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return default


@dataclass(slots=True)
class ProfileNode:
    """A relation: a string (``value`` set) or a list (``children``)."""

    name: str
    value: str | None = None
    children: list["ProfileNode"] | None = None
    file: str = ""
    line: int = 0
    final: bool = False
    parent: "ProfileNode | None" = field(default=None, repr=False)
    dummy: bool = False      # swallowed: belongs to a list that was final

    @property
    def is_list(self) -> bool:
        return self.children is not None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else "<profile>"

    # -- queries ---------------------------------------------------------
    def lists(self, name: str | None = None) -> list["ProfileNode"]:
        return [c for c in self.children or () if c.is_list
                and (name is None or c.name == name)]

    def list(self, name: str) -> "ProfileNode | None":
        found = self.lists(name)
        return found[0] if found else None

    def strings(self, name: str) -> list["ProfileNode"]:
        return [c for c in self.children or () if not c.is_list and c.name == name]

    def string(self, name: str) -> str | None:
        found = self.strings(name)
        return found[-1].value if found else None

    def get(self, *path: str) -> "ProfileNode | None":
        node: ProfileNode | None = self
        for p in path:
            if node is None:
                return None
            node = node.list(p)
        return node

    # -- building ----------------------------------------------------------
    def _relation(self, name: str, is_list: bool, file: str, line: int) -> "ProfileNode":
        dummy = False
        if is_list:
            for c in self.children or ():
                if c.is_list and c.name == name:
                    if c.final:
                        dummy = True
                        break
                    c.final |= self.final
                    return c
        node = ProfileNode(name, None, [] if is_list else None, file, line,
                           parent=self, dummy=dummy or self.final or self.dummy)
        if not node.dummy:
            assert self.children is not None
            self.children.append(node)
        return node


def _unquote(value: str, where: str) -> str:
    if len(value) < 2 or value[-1] != '"':
        raise ConfigError(f"{where}: unterminated string")
    body = value[1:-1]
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        i += 1
        if ch == "\\":
            if i >= len(body):
                raise ConfigError(f"{where}: incomplete '\\' escape")
            ch = body[i]
            i += 1
            ch = {"n": "\n", "t": "\t", "b": "\b"}.get(ch, ch)
        out.append(ch)
    return "".join(out)


def _parse_text(root: ProfileNode, text: str, filename: str, depth: int,
                stack: tuple[str, ...]) -> None:
    section: ProfileNode | None = None
    cur: ProfileNode | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        where = f"{filename}:{lineno}"
        at_left = bool(raw) and raw[0] not in " \t"
        line = raw.strip(" \t\r\n\v\f")
        if not line or line[0] in "#;":
            continue

        outside = cur is None or cur is section
        if outside and at_left and (line.startswith("include ") or line.startswith("include\t")
                                    or line == "include"):
            path = line[7:].strip()
            if not path:
                raise ConfigError(f"{where}: no include path")
            _include_file(root, path, where, depth, stack)
            continue
        if outside and at_left and (line.startswith("includedir ") or line.startswith("includedir\t")
                                    or line == "includedir"):
            path = line[10:].strip()
            if not path:
                raise ConfigError(f"{where}: no includedir path")
            _include_dir(root, path, where, depth, stack)
            continue

        if outside and line[0] == "[":
            if len(line) < 3 or line[-1] != "]" or "]" in line[1:-1]:
                raise ConfigError(f"{where}: bad section label {line!r}")
            section = root._relation(line[1:-1], True, filename, lineno)
            cur = section
            continue

        if section is None:
            # kafs-client ignores anything else before the first section.
            continue

        assert cur is not None
        if line[0] == "}":
            if cur is section:
                raise ConfigError(f"{where}: unmatched '}}'")
            rest = line[1:]
            if rest.startswith("*"):
                cur.final = True
                rest = rest[1:]
            if rest.strip():
                raise ConfigError(f"{where}: unexpected text after '}}'")
            cur = cur.parent
            continue

        eq = line.find("=")
        if eq < 0:
            raise ConfigError(f"{where}: missing '=' in relation {line!r}")
        key = line[:eq].rstrip(" \t")
        if not key:
            raise ConfigError(f"{where}: relation without a name")
        value = line[eq + 1:].strip(" \t")
        if value.startswith("{"):
            if value[1:].strip():
                raise ConfigError(f"{where}: unexpected text after '{{'")
            cur = cur._relation(key, True, filename, lineno)
            continue
        if value.startswith('"'):
            value = _unquote(value, where)
        node = cur._relation(key, False, filename, lineno)
        node.value = value

    if cur is not None and cur is not section:
        raise ConfigError(f"{filename}:{cur.line}: '{{' of {cur.name!r} is never closed")


def _include_file(root: ProfileNode, path: str, where: str, depth: int,
                  stack: tuple[str, ...]) -> None:
    if depth >= MAX_INCLUDE_DEPTH:
        raise ConfigError(f"{where}: includes nested too deeply (loop?) at {path}")
    real = os.path.realpath(path)
    if real in stack:
        raise ConfigError(f"{where}: include loop: {path}")
    try:
        text = Path(path).read_bytes().decode("utf-8", "surrogateescape")
    except OSError as e:
        raise ConfigError(f"{where}: cannot include {path}: {e.strerror or e}") from None
    _parse_text(root, text, path, depth + 1, stack + (real,))


def _include_dir(root: ProfileNode, path: str, where: str, depth: int,
                 stack: tuple[str, ...]) -> None:
    try:
        names = sorted(os.listdir(path))
    except OSError as e:
        raise ConfigError(f"{where}: cannot read directory {path}: {e.strerror or e}") from None
    for n in names:
        if n.startswith(".") or n.endswith("~"):
            continue
        full = os.path.join(path, n)
        if os.path.isdir(full):
            continue
        _include_file(root, full, where, depth, stack)


def parse_profile(text: str, filename: str = "<profile>") -> ProfileNode:
    """Parse profile text (includes are resolved relative to the process cwd)."""
    root = ProfileNode("<root>", children=[])
    _parse_text(root, text, filename, 0, ())
    return root


def read_profile(path: str | os.PathLike) -> ProfileNode | None:
    """Parse a profile file and its includes; None if the file does not exist."""
    p = os.fspath(path)
    try:
        text = Path(p).read_bytes().decode("utf-8", "surrogateescape")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read: {e.strerror or e}") from None
    root = ProfileNode("<root>", children=[])
    _parse_text(root, text, p, 0, (os.path.realpath(p),))
    return root
