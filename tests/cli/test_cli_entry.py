"""The entry points: ``python -m kafs.cli.main``, the console scripts, the
program name as messages print it, ``afs``, bash completion, and what
start-up imports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

VENV_BIN = os.path.dirname(sys.executable)
ENV = dict(os.environ, LC_ALL="C")


def real(suite, *args, argv0=None):
    exe = "/usr/bin/" + suite
    if not os.access(exe, os.X_OK):
        pytest.skip("OpenAFS %s is not installed" % suite)
    p = subprocess.run([argv0 or suite, *args], executable=exe,
                       capture_output=True, env=ENV)
    return p.stdout, p.stderr, p.returncode


def ours(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, env=env or ENV)
    return p.stdout, p.stderr, p.returncode


def script(name):
    path = os.path.join(VENV_BIN, name)
    if not os.access(path, os.X_OK):
        pytest.skip("console script %s is not installed (pip install -e .)" % name)
    return path


@pytest.mark.parametrize("args", [["help"], ["foo"], ["examine", "-help"],
                                  ["exa", "-foo"], []])
def test_python_m(args):
    assert ours([sys.executable, "-m", "kafs.cli.main", "vos", *args]) == \
        real("vos", *args)


@pytest.mark.parametrize("suite", ["vos", "pts", "bos", "fs"])
def test_console_script_full_path(suite):
    # Typed with a path, argv[0] is that path in OpenAFS's messages too.
    path = script(suite)
    o = ours([path, "nosuchcommand"])
    r = real(suite, "nosuchcommand", argv0="/usr/bin/" + suite)
    assert o[0] == r[0] and o[2] == r[2]
    assert o[1] == r[1].replace(b"/usr/bin/" + suite.encode(), path.encode())


@pytest.mark.parametrize("suite", ["vos", "pts", "bos", "fs"])
def test_console_script_bare_name(suite):
    script(suite)
    env = dict(ENV, PATH=VENV_BIN + os.pathsep + ENV.get("PATH", ""))
    assert shutil.which(suite, path=env["PATH"]) == os.path.join(VENV_BIN, suite)
    for args in (["nosuchcommand"], ["help"], ["li"], ["help", "nosuch"]):
        o = subprocess.run([suite, *args], capture_output=True, env=env)
        assert (o.stdout, o.stderr, o.returncode) == real(suite, *args)


def test_afs_entry():
    afs = script("afs")
    assert ours([afs, "fs", "help"]) == real("fs", "help")
    assert ours([afs, "pts", "exa"]) == real("pts", "exa")
    o = ours([afs])
    assert o[2] == 1 and o[0].startswith(b"Usage: afs")
    o = ours([afs, "nosuchsuite"])
    assert o[2] == 1 and o[1] == b"afs: unknown suite 'nosuchsuite'; type 'afs help' for help\n"


def _unimplemented(suite):
    """A visible subcommand of ``suite`` with no implementing module yet, and
    arguments that satisfy its required switches."""
    import importlib.util
    from kafs.cli.cmd import FLAG
    from kafs.cli.suites import load
    for c in load(suite).commands:
        if c.hidden or c.impl or c.name in ("help", "apropos", "version"):
            continue
        try:
            spec = importlib.util.find_spec(f"kafs.cli.{suite}.{c.name}")
        except ModuleNotFoundError:          # no kafs.cli.<suite> package at all
            spec = None
        if spec is None:
            args = []
            for p in c.params:
                if not p.optional:
                    args += [p.name] if p.type == FLAG else [p.name, "x"]
            return c.name, args
    return None, None


@pytest.mark.parametrize("suite,code", [("vos", 255), ("bos", 1), ("fs", 1)])
def test_not_implemented(suite, code):
    name, args = _unimplemented(suite)
    if name is None:          # the whole suite is implemented: nothing left to say
        return
    o = ours([sys.executable, "-m", "kafs.cli.main", suite, name, "-help"])
    assert o[2] == 0                                   # -help works for every command
    o = ours([sys.executable, "-m", "kafs.cli.main", suite, name, *args])
    # (the suite's "before" hook may print its unauthenticated warning first)
    assert o[1].endswith(f"{suite} {name}: not implemented yet in kafs\n".encode())
    assert o == (b"", o[1], code)


def test_completion_script_is_valid_bash(tmp_path):
    bash = shutil.which("bash")
    if not bash:
        pytest.skip("no bash")
    o = ours([sys.executable, "-m", "kafs.cli.main", "completion", "bash"])
    assert o[2] == 0
    f = tmp_path / "c.sh"
    f.write_bytes(o[0])
    probe = f"""
source {f}
t() {{ COMP_WORDS=("$@"); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); COMPREPLY=()
      if [[ $1 == afs ]]; then _kafs_complete_afs; else _kafs_complete; fi
      echo "${{COMPREPLY[*]}}"; }}
t vos ex
t vos e -e
t vos release -f
t fs cachesize -
t afs pts examine -c
t afs vos listv
t pts help cre
"""
    p = subprocess.run([bash, "-c", probe], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "examine",
        "-extended -encrypt",
        "-force -force-reclone",
        "-blocks -help -json",
        "-cell -config",
        "listvldb listvol",
        "creategroup createuser",
    ]


_PROBE = """
import sys
from kafs.cli.main import run_suite
import io
run_suite(%r, %r, out=io.StringIO(), err=io.StringIO())
print(" ".join(sorted(sys.modules)))
"""


@pytest.mark.parametrize("suite,args", [("pts", ["help"]), ("vos", ["help"]),
                                        ("pts", ["examine", "-help"]),
                                        ("vos", ["examine", "-help"]),
                                        ("fs", ["apropos", "acl"])])
def test_startup_imports_little(suite, args):
    p = subprocess.run([sys.executable, "-c", _PROBE % (suite, args)],
                       capture_output=True, text=True, env=ENV)
    mods = set(p.stdout.split())
    assert not {"asyncio", "json", "socket", "kafs.errors", "kafs.rx",
                "kafs.cli.render", "kafs.cli.completion"} & mods
    assert {m for m in mods if m.startswith("kafs.cli.suites.")} == \
        {"kafs.cli.suites." + suite}


def test_cell_lookup_imports_no_dns_or_client_conf(tmp_path):
    """With a CellServDB listing the cell and no client.conf, finding the
    servers loads neither the DNS nor the client.conf/profile modules."""
    (tmp_path / "ThisCell").write_text("example.org\n")
    (tmp_path / "CellServDB").write_text(">example.org #x\n192.0.2.1 #db1.example.org\n")
    code = ("import sys\nfrom kafs.cell import Cell\n"
            "print(Cell().vlservers())\n"
            "print(' '.join(m for m in sorted(sys.modules) if m.startswith('kafs.cell')))\n")
    env = dict(ENV, KAFS_CONF_DIR=str(tmp_path), KAFS_CLIENT_CONF=str(tmp_path / "none.conf"))
    env.pop("AFSCELL", None)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    found, mods = p.stdout.splitlines()
    assert found == "[('192.0.2.1', 7003)]"
    assert mods.split() == ["kafs.cell", "kafs.cell.cell", "kafs.cell.cellservdb"]


def test_a_program_leaves_after_its_exit_hooks_and_a_flush():
    """_leave: the atexit hooks run (sessions are closed there), buffered
    stdout and stderr reach the reader, and the status is kept; only the
    interpreter's teardown is skipped."""
    code = ("import atexit, sys\n"
            "from kafs.cli.main import _leave\n"
            "atexit.register(lambda: sys.stderr.write('hook ran\\n'))\n"
            "sys.stdout.write('x' * 100000)\n"
            "sys.stderr.write('no newline')\n"
            "_leave(3)\n"
            "print('not reached')\n")
    env = {k: v for k, v in ENV.items() if k != "KAFS_DEBUG"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env)
    assert p.returncode == 3
    assert p.stdout == b"x" * 100000
    assert p.stderr == b"no newlinehook ran\n"


@pytest.mark.parametrize("cmd", [["pts", "help"], ["vos", "nosuch"], ["afs", "bos", "help"]])
def test_console_scripts_and_python_m_end_the_same_way(cmd):
    """The console script, ``afs <suite>`` and ``python -m kafs.cli.main``
    leave through _leave with the same output and status."""
    if cmd[0] == "afs":
        direct = [script("afs"), *cmd[1:]]
        via_m = [sys.executable, "-m", "kafs.cli.main", *cmd[1:]]
    else:
        direct = [script(cmd[0]), *cmd[1:]]
        via_m = [sys.executable, "-m", "kafs.cli.main", *cmd]
    a, b = ours(direct), ours(via_m)
    prog = direct[0].encode()                 # messages name argv[0] as given
    a = (a[0].replace(prog, cmd[-2].encode() if cmd[0] == "afs" else cmd[0].encode()),
         a[1].replace(prog, cmd[0].encode()), a[2])
    assert a == b
    assert (a[2] == 0) == (cmd[-1] == "help")
    assert a[0] or a[1]


def test_kafs_debug_exits_through_the_usual_interpreter_exit():
    """With KAFS_DEBUG the program is not cut short: code that runs at
    interpreter exit after the atexit hooks (a profiler, say) still runs."""
    code = ("import sys, kafs.cli.main as m\n"
            "class Late:\n"
            "    def __del__(self):\n"
            "        sys.stderr.write('teardown ran\\n')\n"
            "m.LATE = Late()\n"
            "sys.exit(m._leave(4))\n")
    env = dict(ENV, KAFS_DEBUG="1")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env)
    assert p.returncode == 4 and b"teardown ran" in p.stderr
    env.pop("KAFS_DEBUG")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env)
    assert p.returncode == 4 and b"teardown ran" not in p.stderr
