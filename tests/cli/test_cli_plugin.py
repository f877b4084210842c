"""How a subcommand implementation plugs into the framework: run/render/
to_json/exit_code, async run, -json, errors, hooks, the Args object."""

from __future__ import annotations

import io
import json
import sys
import types
from dataclasses import dataclass

import pytest

from kafs.cli import CommandError
from kafs.cli import main as M
from kafs.cli.suites import load


@dataclass
class Entry:
    name: str
    id: int
    flags: bytes


def make_module(name="fake_examine", **funcs):
    mod = types.ModuleType(name)
    for k, v in funcs.items():
        setattr(mod, k, v)
    return mod


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(M, "_REGISTRY", {})
    return M._REGISTRY


def run(suite, *argv, hooks=None):
    out, err = io.StringIO(), io.StringIO()
    r = M.Runner(load(suite), suite, out=out, err=err)
    if hooks is not None:
        r.hooks = hooks
    saved = sys.stdout
    sys.stdout = out          # implementations print to sys.stdout
    try:
        status = r.main([suite, *argv])
    finally:
        sys.stdout = saved
    return out.getvalue(), err.getvalue(), status


def test_run_render_json(registry):
    seen = {}

    def run_(args):
        seen["args"] = args
        return Entry(args.nameorid[0], 42, b"\x01\xff")

    def render(result, args):
        print("Name: %s, id: %d" % (result.name, result.id))

    M.register("pts", "examine", make_module(run=run_, render=render))
    assert run("pts", "exa", "alice", "bob", "-noauth") == (
        "Name: alice, id: 42\n", "", 0)
    a = seen["args"]
    assert a.nameorid == ["alice", "bob"] and a.noauth is True
    assert a.cell is None and a.force is False and a.json is False
    assert a["-nameorid"] == ["alice", "bob"] and a.given("-noauth")
    assert not a.given("-cell")
    assert (a.prog, a.suite, a.command, a.invoked_as) == ("pts", "pts", "examine", "examine")
    out, err, status = run("pts", "check", "alice", "-json")
    assert json.loads(out) == {"name": "alice", "id": 42, "flags": "01ff"}
    assert seen["args"].invoked_as == "check" and seen["args"].json


def test_to_json_and_exit_code(registry):
    M.register("vos", "examine", make_module(
        run=lambda args: {"ok": False},
        to_json=lambda r: {"converted": r["ok"]},
        exit_code=lambda r: 0 if r["ok"] else 1))
    assert run("vos", "examine", "v", "--json") == ('{\n  "converted": false\n}\n', "", 255)


def test_async_run(registry):
    async def run_(args):
        import asyncio
        await asyncio.sleep(0)
        return "text result\n"

    M.register("bos", "getdate", make_module(run=run_))
    assert run("bos", "getd", "srv", "f1", "f2") == ("text result\n", "", 0)


def test_command_error(registry):
    def run_(args):
        raise CommandError("fs: Invalid argument; it is possible that x is not in AFS.", 1)

    M.register("fs", "listacl", make_module(run=run_))
    assert run("fs", "la", "x") == (
        "", "fs: Invalid argument; it is possible that x is not in AFS.\n", 1)


def test_command_error_code_goes_through_exit_rule(registry):
    M.register("bos", "status", make_module(
        run=lambda a: (_ for _ in ()).throw(CommandError(None, 3359749 + 256))))
    assert run("bos", "status", "s") == ("", "", 5)


def test_kafs_error_is_one_line(registry):
    from kafs.errors import AFSError

    def run_(args):
        raise AFSError(363524)     # VL_NOENT

    M.register("vos", "examine", make_module(run=run_))
    out, err, status = run("vos", "examine", "v")
    assert status == 255 and err.count("\n") == 1 and err.startswith("vos: ")


def test_unexpected_exception_without_and_with_debug(registry, monkeypatch):
    def run_(args):
        raise ZeroDivisionError("boom")

    M.register("vos", "examine", make_module(run=run_))
    monkeypatch.delenv("KAFS_DEBUG", raising=False)
    out, err, status = run("vos", "examine", "v")
    assert status == 255
    assert err == ("vos: internal error: ZeroDivisionError: boom "
                   "(set KAFS_DEBUG=1 for a traceback)\n")
    monkeypatch.setenv("KAFS_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        run("vos", "examine", "v")


def test_bad_import_inside_an_implementation_is_not_hidden(registry):
    M.register("vos", "examine", "kafs.cli.nosuchpackage_for_test.examine")
    assert run("vos", "examine", "v")[1] == \
        "vos examine: not implemented yet in kafs\n"
    sys.modules.pop("fake_broken", None)
    import importlib.abc

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "fake_broken":
                import importlib.util
                return importlib.util.spec_from_loader(name, Loader())

    class Loader(importlib.abc.Loader):
        def create_module(self, spec):
            return None

        def exec_module(self, module):
            import nosuchmodule_xyz  # noqa: F401

    sys.meta_path.insert(0, Finder())
    try:
        M.register("vos", "examine", "fake_broken")
        out, err, status = run("vos", "examine", "v")
        assert "ModuleNotFoundError" in err and "not implemented" not in err
    finally:
        sys.meta_path.pop(0)


def test_before_and_after_hooks(registry):
    calls = []
    hooks = types.SimpleNamespace(
        before=lambda a: calls.append(("before", a.command)) or 0,
        after=lambda a: calls.append(("after", a.command)))
    M.register("vos", "examine", make_module(run=lambda a: calls.append("run")))
    run("vos", "examine", "v", hooks=hooks)
    run("vos", "help", hooks=hooks)                 # not for help/apropos
    run("vos", "examine", "-help", hooks=hooks)     # nor for -help
    out, err, status = run("vos", "version", hooks=hooks)   # but for version
    assert calls == [("before", "examine"), "run", ("after", "examine"),
                     ("before", "version"), ("after", "version")]
    hooks.before = lambda a: 7
    assert run("vos", "examine", "v", hooks=hooks)[2] == 255


def test_args_keys():
    p = [x for x in load("vos").command("release").params]
    a = M.Args("vos", "vos", "release", "release", p,
               {"-force-reclone": True, "-id": "v"}, {})
    assert a.force_reclone is True and a.force is False and a.id == "v"
    b = M.Args("fs", "fs", "listacl", "la", load("fs").command("listacl").params,
               {"-if": True}, {})
    assert b.if_ is True and b["-if"] is True and b.id is False
    with pytest.raises(AttributeError):
        a.nosuch
    with pytest.raises(AttributeError):
        a.id = "x"


def test_parse_line():
    assert M.parse_line("a  'b c'\td\"e\"f") == (0, ["a", "b c", "def"])
    assert M.parse_line("x" * 256) == (0, ["x" * 256])
    assert M.parse_line("x" * 257)[0] == M.CMD_TOOBIG
    assert M.parse_line(" ".join("a" * 62))[0] == 0
    assert M.parse_line(" ".join("a" * 63))[0] == M.CMD_TOOMANY
    assert M.parse_line('""') == (0, [""])


def test_prog_name(tmp_path, monkeypatch):
    exe = tmp_path / "vos"
    exe.write_text("")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert M.prog_name(str(exe), "vos") == "vos"            # found by $PATH
    monkeypatch.setenv("PATH", "/nonexistent")
    assert M.prog_name(str(exe), "vos") == str(exe)         # typed path
    assert M.prog_name("vos", "x") == "vos"
    assert M.prog_name("", "vos") == "vos"
