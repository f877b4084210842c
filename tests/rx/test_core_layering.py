"""The Rx core is sans-I/O (docs/internals.md): core, packet and security
import no asyncio, socket, select, time or threading, and never read a clock;
time reaches them only as a parameter."""

from __future__ import annotations

import ast
from pathlib import Path

import kafs.rx

CORE = ("core.py", "packet.py", "security.py")
FORBIDDEN = {"asyncio", "socket", "select", "selectors", "time", "threading", "datetime"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_modules_do_no_io_and_read_no_clock():
    here = Path(kafs.rx.__file__).parent
    for name in CORE:
        bad = _imports(here / name) & FORBIDDEN
        assert not bad, f"kafs/rx/{name} imports {sorted(bad)}"


def test_what_the_core_imports_of_ours_is_sans_io_too():
    import kafs._ip
    bad = _imports(Path(kafs._ip.__file__)) & FORBIDDEN
    assert not bad, f"kafs/_ip.py (used by the core) imports {sorted(bad)}"


def test_the_check_sees_a_forbidden_import(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("import os\nfrom time import monotonic\n")
    assert _imports(f) & FORBIDDEN == {"time"}
