"""Compatibility: OpenAFS 1.8.9's bos/vos/pts/fs and ours, side by side.

Every case runs the real binary (``/usr/bin/<suite>``, invoked with
argv[0] = the bare suite name) and ours, and compares stdout, stderr and
exit status exactly.  Only command lines that never reach a cell are used
(help, apropos, -help, parse errors, version).

Ours runs in-process (``kafs.cli.main.run_suite``) for speed; the entry
points themselves (``python -m kafs.cli.main``, the console scripts) are
compared in ``test_cli_entry.py``.
"""

from __future__ import annotations

import io
import os
import re
import subprocess

import pytest

from kafs.cli.cmd import alias_name
from kafs.cli.main import run_suite
from kafs.cli.suites import NAMES, load

REAL = {s: "/usr/bin/" + s for s in NAMES}
ENV = dict(os.environ, LC_ALL="C")


def have(suite: str) -> bool:
    return os.access(REAL[suite], os.X_OK)


def run_real(suite, args, stdin=None):
    if not have(suite):
        pytest.skip("OpenAFS %s is not installed" % suite)
    p = subprocess.run([suite, *args], executable=REAL[suite], input=stdin,
                       capture_output=True, env=ENV, timeout=60)
    return (p.stdout.decode("utf-8", "surrogateescape"),
            p.stderr.decode("utf-8", "surrogateescape"), p.returncode)


class _Stdin:
    def __init__(self, data: bytes):
        self.f = io.BytesIO(data)

    def readline(self, n=-1):
        return self.f.readline(n)

    def fileno(self):
        raise ValueError("not a file")


def run_ours(suite, args, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    st = _Stdin(stdin or b"")
    rc = run_suite(suite, list(args), prog=suite, out=out, err=err, stdin=st)
    return out.getvalue(), err.getvalue(), rc


def compare(suite, args, stdin=None, filt=None, stderr=True):
    real = run_real(suite, args, stdin)
    ours = run_ours(suite, args, stdin)
    if filt:
        real = (real[0], filt(real[1]), real[2])
        ours = (ours[0], filt(ours[1]), ours[2])
    if not stderr:
        real, ours = (real[0], "", real[2]), (ours[0], "", ours[2])
    assert ours == real


# -- the inventory -------------------------------------------------------------

def _commands(suite, with_hidden=False):
    names = []
    for c in load(suite).commands:
        if c.hidden and not with_hidden:
            continue
        names.append(c.name)
        names.extend(alias_name(a) for a in c.aliases)
    return names + ["help", "apropos", "version"]


CASES_HELP = [(s, t) for s in NAMES for t in _commands(s)]
CASES_DASH = [(s, t) for s in NAMES for t in _commands(s, with_hidden=True)]


@pytest.mark.parametrize("suite", NAMES)
def test_help(suite):
    compare(suite, ["help"])


@pytest.mark.parametrize("suite,topic", CASES_HELP,
                         ids=["%s-%s" % c for c in CASES_HELP])
def test_help_topic(suite, topic):
    compare(suite, ["help", topic])


@pytest.mark.parametrize("suite,sub", CASES_DASH,
                         ids=["%s-%s" % c for c in CASES_DASH])
def test_dash_help(suite, sub):
    compare(suite, [sub, "-help"])


APROPOS = ["volume", "group", "server", "cache", "list", "user", "set", "acl",
           "ACL", "e", "", "zzz", "RX", "(", "key"]


@pytest.mark.parametrize("suite", NAMES)
@pytest.mark.parametrize("word", APROPOS)
def test_apropos(suite, word):
    compare(suite, ["apropos", word])


def test_inventory_counts():
    # protocol-notes §7.2: real subcommands (besides help/apropos/version)
    counts = {s: sum(1 for c in load(s).commands if not c.hidden) for s in NAMES}
    assert counts == {"vos": 38, "bos": 30, "pts": 18, "fs": 50}


# -- errors ----------------------------------------------------------------------

ERRORS = [
    # no subcommand; unknown; ambiguous abbreviation; hidden needs full name
    ("vos", []), ("pts", []), ("bos", []), ("fs", []),
    ("vos", ["foo"]), ("pts", ["foo"]), ("bos", ["foo"]), ("fs", ["foo"]),
    ("vos", ["li"]), ("vos", ["list"]), ("pts", ["c"]), ("pts", ["s"]),
    ("bos", ["s"]), ("bos", ["get"]), ("fs", ["get"]), ("fs", ["check"]),
    ("fs", ["mon"]), ("fs", ["mariner", "-help"]), ("vos", ["-h"]),
    ("fs", ["set"]), ("vos", ["e", "-help"]), ("vos", ["volin", "-help"]),
    # unknown switch / ambiguous switch / long style / embedded values
    ("vos", ["examine", "-foo"]), ("pts", ["examine", "-foo"]),
    ("bos", ["status", "-foo"]), ("fs", ["listacl", "-foo"]),
    ("vos", ["examine", "-n"]), ("vos", ["examine", "--c"]),
    ("vos", ["examine", "--noauth=x"]), ("vos", ["examine", "-extended=1"]),
    ("pts", ["examine", "-c"]), ("pts", ["examine", "-a"]),
    ("bos", ["status", "-l"]), ("fs", ["listacl", "-i"]),
    ("vos", ["release", "-forc"]), ("vos", ["release", "-stay"]),
    ("vos", ["release", "-force-r", "-help"]), ("vos", ["release", "-f", "-help"]),
    ("vos", ["examine", "-j"]), ("vos", ["examine", "-js", "-help"]),
    ("fs", ["wscell", "-j"]), ("fs", ["wscell", "-"]), ("fs", ["wscell", "--"]),
    ("vos", ["examine", "-=x"]), ("vos", ["examine", "-id=x=y"]),
    ("vos", ["examine", "-help", "-foo"]), ("vos", ["examine", "-foo", "-help"]),
    # missing required parameter / switch without value
    ("vos", ["examine"]), ("vos", ["exa"]), ("pts", ["examine"]),
    ("pts", ["adduser", "u"]), ("bos", ["status"]), ("bos", ["create", "s", "i"]),
    ("fs", ["lsmount"]), ("fs", ["uuid"]), ("fs", ["setquota", "p"]),
    ("vos", ["examine", "-id"]), ("vos", ["examine", "v", "-cell"]),
    ("pts", ["examine", "-nameorid"]), ("bos", ["status", "-server"]),
    ("fs", ["lsmount", "-dir"]), ("vos", ["apropos"]), ("vos", ["help", "-topic"]),
    ("fs", ["apropos", "-topic"]),
    # too many positional arguments / values
    ("vos", ["examine", "a", "b", "c", "d"]), ("vos", ["examine", "-id", "a", "b"]),
    ("fs", ["wscell", "x"]), ("fs", ["flushall", "x", "y"]),
    ("pts", ["listmax", "a", "b", "c"]), ("bos", ["setcellname", "a", "b", "c", "d"]),
    ("bos", ["getdate", "a", "-dir", "b", "c"]),
    ("vos", ["version", "x"]), ("bos", ["apropos", "a", "b"]),
    ("vos", ["--help", "foo"]),
    # help topics that fail; negative numbers are values
    ("vos", ["help", "foo"]), ("vos", ["help", "li"]), ("fs", ["help", "monitor"]),
    ("vos", ["help", "foo", "examine"]), ("vos", ["help", "examine", "foo"]),
    ("bos", ["help", "s", "get"]), ("pts", ["help", "-topic", "cg", "cu", "zz"]),
    ("vos", ["examine", "-5", "-help"]), ("vos", ["h"]),
    ("vos", ["-help"]), ("vos", ["--help"]), ("pts", ["-help"]), ("fs", ["--help"]),
    ("bos", ["--help", "-help"]), ("fs", ["-help", "-help"]),
]


@pytest.mark.parametrize("suite,args", ERRORS,
                         ids=["%s %s" % (s, " ".join(a)) for s, a in ERRORS])
def test_errors(suite, args):
    compare(suite, args)


# -- version -------------------------------------------------------------------

@pytest.mark.parametrize("suite", NAMES)
@pytest.mark.parametrize("form", ["version", "-version", "--version", "vers"])
def test_version(suite, form):
    # vos and pts run their "before" procedure (connection set-up) for
    # version too, which prints cell-dependent notices on stderr; those are
    # not the parser's and are left out for them.
    compare(suite, [form], stderr=suite in ("bos", "fs"))


# -- pts interactive -------------------------------------------------------------

INTERACTIVE = [
    b"help examine\napropos group\nexamine -help\nfoo\n\"abc def\" x\nquit\nhelp\n",
    b"help\n   \n\n  help   cg  \t\nlistowned -help\n",
    b"sleep -cell -delay\nsleep 0\nsleep 0\nsleep -h\n",
    b"x" * 300 + b"\nhelp\n",
    b" ".join([b"a"] * 63) + b"\n",
    b" ".join([b"a"] * 62) + b"\n",
    b"source /nonexistent/file\nversion\nin\nhelp in\n",
    b"'help' \"exa\"mine\nhelp 'exa mine'\n\"\"\n",
]


@pytest.mark.parametrize("stdin", INTERACTIVE, ids=range(len(INTERACTIVE)))
@pytest.mark.parametrize("form", [["interactive"], ["in", "-noauth"]])
def test_pts_interactive(stdin, form):
    compare("pts", form, stdin=stdin)


def test_pts_source(tmp_path):
    f1 = tmp_path / "one"
    f2 = tmp_path / "two"
    f1.write_bytes(b"help cu\nsource %s\nhelp groups\n" % str(f2).encode())
    f2.write_bytes(b"apropos max\nquit\nhelp\n")
    compare("pts", ["source", str(f1)])
    compare("pts", ["interactive"], stdin=b"source %s\nhelp\n" % str(f2).encode(),
            )


# -- randomised command lines (seeded) --------------------------------------------
#
# Random subcommand prefixes, switch prefixes/aliases, long-style and
# embedded values, negative numbers, lone dashes and bare words, always
# ending in a -help variant, so that OpenAFS never goes beyond its parser.

def _random_cases(n, seed=20240611):
    import random
    rnd = random.Random(seed)
    out = []
    while len(out) < n:
        s = rnd.choice(NAMES)
        c = rnd.choice(load(s).commands)
        nm = rnd.choice([c.name] + [alias_name(a) for a in c.aliases])
        if rnd.random() < 0.5 and not c.hidden:
            nm = nm[:rnd.randint(1, len(nm))]
        args = [nm]
        sw = [p.name for p in c.params] + \
             [a for p in c.params for a in p.aliases] + ["-help"]
        for _ in range(rnd.randint(0, 6)):
            r = rnd.random()
            if r < 0.4:
                w = rnd.choice(sw)
                if rnd.random() < 0.4:
                    w = w[:rnd.randint(1, len(w))]
                if rnd.random() < 0.1:
                    w = "-" + w
                if rnd.random() < 0.1:
                    w += "=" + rnd.choice(["x", "", "1=2"])
                args.append(w)
            elif r < 0.5:
                args.append(rnd.choice(["-1", "-", "--", "-j", "-x", "=", ""]))
            else:
                args.append(rnd.choice(["val", "a b", "foo", "1", "x=y"]))
        args.append(rnd.choice(["-help", "-help", "-h", "-he", "--help"]))
        out.append((s, args))
    return out


RANDOM = _random_cases(300)


@pytest.mark.parametrize("suite,args", RANDOM,
                         ids=["%d" % i for i in range(len(RANDOM))])
def test_random_command_lines(suite, args):
    compare(suite, args)


def _random_lines(n, seed=7):
    import random
    rnd = random.Random(seed)
    words = ["help", "apropos", "-topic", "exam", "ine", "cg", "'", '"', " ",
             "\t", "-help", "list", "sleep", "-delay", "0", "x", "in", "-h"]
    lines = []
    for _ in range(n):
        line = "".join(rnd.choice(words) + rnd.choice(["", " "])
                       for _ in range(rnd.randint(1, 6)))
        # close any open quote, then -help: nothing may reach a command
        # procedure (which would need the cell)
        if (line.count("'") + line.count('"')) % 2:
            line += "'"
        if rnd.random() < 0.8:
            line += " -help"
        elif not line.lstrip(" \t'\"").startswith(("help", "apropos")):
            line = "help " + line
        lines.append(line)
    return lines


def test_pts_interactive_random_lines():
    lines = _random_lines(150)
    stdin = ("\n".join(lines) + "\n").encode()
    compare("pts", ["interactive"], stdin=stdin)
