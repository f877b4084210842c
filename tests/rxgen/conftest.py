import importlib.util
import itertools
import os
import sys

import pytest

from kafs.rxgen import compile_file

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
_n = itertools.count()


def load_module(text: str, tmp_path, name: str = "gen"):
    modname = f"_kafs_rxgen_test_{name}_{next(_n)}"
    path = tmp_path / f"{modname}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def compile_xg(tmp_path):
    """compile_xg(text_or_fixture_name, **kw) -> imported module."""

    def run(src: str, files: dict[str, str] | None = None, **kw):
        if src.endswith(".xg") and "\n" not in src:
            path = os.path.join(FIXTURES, src)
        else:
            for fname, body in (files or {}).items():
                (tmp_path / fname).write_text(body)
            path = tmp_path / "t.xg"
            path.write_text(src)
            path = str(path)
        return load_module(compile_file(path, **kw), tmp_path)

    return run


@pytest.fixture
def demo(compile_xg):
    return compile_xg("demo.xg")
