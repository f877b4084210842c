"""Design rule (design.md, "Layers"): a command module under src/kafs/cli
parses, calls kafs.api and renders; it never imports the generated RPC
modules (kafs.rpc) or the Rx layer (kafs.rx).  Only import statements
count (comments and strings that name them are fine)."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[2] / "src" / "kafs" / "cli"
FORBIDDEN = ("kafs.rpc", "kafs.rx")


def _is_forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def _package(path: Path, cli: Path) -> list[str]:
    """The package of a module under ``cli`` (…/kafs/cli), as a list
    (a module's and a package __init__'s are both its directory)."""
    return list(path.relative_to(cli.parent.parent).parts[:-1])


def _imports(path: Path, cli: Path):
    """(line, absolute module name) of every import in the file, relative
    imports resolved against the module's package; ``from X import y``
    gives both X and X.y (``from kafs import rpc`` counts)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    pkg = _package(path, cli)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[:len(pkg) - (node.level - 1)] if node.level > 1 else list(pkg)
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            yield node.lineno, mod
            for a in node.names:
                yield node.lineno, mod + "." + a.name if mod else a.name


def _violations(cli: Path = CLI) -> list[str]:
    bad = []
    for path in sorted(cli.rglob("*.py")):
        for line, name in _imports(path, cli):
            if _is_forbidden(name):
                bad.append("%s:%d imports %s"
                           % (path.relative_to(cli.parent.parent).as_posix(), line, name))
    return bad


def test_cli_modules_do_not_import_rpc_or_rx():
    bad = _violations()
    assert not bad, "command modules must go through kafs.api:\n" + "\n".join(bad)


def test_checker_sees_relative_and_absolute_imports(tmp_path):
    """The scan itself: absolute, relative and from-package forms are caught,
    a comment is not."""
    root = tmp_path / "kafs" / "cli"
    (root / "vos").mkdir(parents=True)
    cases = {
        "a.py": "from kafs.rpc import volser as vs\n",
        "b.py": "import kafs.rx.call\n",
        "c.py": "def f():\n    from ..rpc import pr\n",
        "vos/d.py": "from ...rx import conn\n",
        "vos/e.py": "from kafs import rpc\n",
        "vos/f.py": "from ... import rx\n",
        "ok.py": "# kafs.rpc is not imported here\nfrom kafs.api import volume\n"
                 "from ..api import vldb\nfrom .render import x\n",
    }
    for name, text in cases.items():
        (root / name).write_text(text)
    bad = _violations(root)
    hit = {b.split(":")[0] for b in bad}
    assert hit == {"kafs/cli/a.py", "kafs/cli/b.py", "kafs/cli/c.py",
                   "kafs/cli/vos/d.py", "kafs/cli/vos/e.py", "kafs/cli/vos/f.py"}, bad
