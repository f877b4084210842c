"""kafs.rxgen: compile OpenAFS .xg interface files into Python modules.

API::

    from kafs.rxgen import compile_file, CompileError
    text = compile_file("src/kafs/rpc/vl.xg", package="kafs.rpc")

Command line: ``python -m kafs.rxgen in.xg -o out.py`` (``kafs-rxgen``).
With ``package``, definitions that come from a sibling ``.xg`` file pulled
in by ``#include`` are imported from that file's module
(``from kafs.rpc.common import AFSFid``) instead of being generated again,
so every module shares one class per type.
"""

from __future__ import annotations

import os

from .emit import Emitter, module_name_for
from .errors import CompileError
from .parse import parse_file

__all__ = ["CompileError", "compile_file", "parse_file", "module_name_for"]


def _import_map(spec, path: str, package: str | None) -> dict[str, str]:
    if not package:
        return {}
    main = os.path.normpath(path)
    d = os.path.dirname(main)
    children: dict[str, list[str]] = {}
    for a, b in spec.includes:
        children.setdefault(a, []).append(b)
    out: dict[str, str] = {}
    for inc in children.get(main, []):
        if not inc.endswith(".xg") or os.path.dirname(inc) != d:
            continue
        mod = f"{package}.{module_name_for(inc)}"
        stack = [inc]
        while stack:
            f = stack.pop()
            if f in out or f == main:
                continue
            out[f] = mod
            stack += children.get(f, [])
    return out


def compile_file(path: str, package: str | None = None, include_path: list[str] | None = None,
                 defines: dict[str, str] | None = None) -> str:
    """Compile one .xg file; return the Python module text.  Raises CompileError."""
    spec, _ = parse_file(path, include_path, defines)
    em = Emitter(spec, os.path.basename(path), _import_map(spec, path, package))
    return em.emit()
