"""Helpers of the bos side-by-side tests: run OpenAFS's bos and ours, and
read the bosserver's state (status, BosConfig, keys)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import time

REAL = "/usr/bin/bos"
H = "afs1.test.example"
#: a name of this run, so that scratch objects of two runs never meet
RUN = "%d" % (os.getpid() % 100000)
BOSCONFIG = "/etc/openafs/BosConfig"
LOGS = "/var/log/openafs"


def run_real(cell, args, *, stdin: bytes | None = None, timeout: float = 300):
    """OpenAFS's bos, in a new session (no controlling terminal: it reads
    a prompted key from stdin, as ours does)."""
    env = cell.env()
    env["LC_ALL"] = "C"
    p = subprocess.run(["bos", *args], executable=REAL, capture_output=True, env=env,
                       timeout=timeout, input=stdin if stdin is not None else b"",
                       start_new_session=True)
    return (p.stdout.decode("utf-8", "surrogateescape"),
            p.stderr.decode("utf-8", "surrogateescape"), p.returncode)


def run_ours(args, *, stdin: bytes | None = None):
    """Ours, in this process, with argv[0] = "bos"."""
    from kafs.cli.main import run_suite
    out, err = io.StringIO(), io.StringIO()
    rc = run_suite("bos", list(args), prog="bos", out=out, err=err,
                   stdin=io.BytesIO(stdin if stdin is not None else b""))
    return out.getvalue(), err.getvalue(), rc


def run_side(side: str, cell, args, **kw):
    return run_real(cell, args, **kw) if side == "real" else run_ours(args, **kw)


def same(cell, args, **kw):
    """Both tools on the same arguments: identical stdout, stderr, status."""
    r = run_real(cell, args, **kw)
    o = run_ours(args, **kw)
    assert o == r, (args, o, r)
    return o


def bos(cell, *args, check: bool = True) -> str:
    """OpenAFS's bos -localauth, for setting up and reading state."""
    r = run_real(cell, [*args, "-localauth"])
    if check:
        assert r[2] == 0 and not r[1], (args, r)
    return r[0]


def status_long(cell, *instances) -> str:
    return bos(cell, "status", H, *instances, "-long", check=False)


def bosconfig_bnode(name: str) -> str:
    """The instance's block of BosConfig ("" if it has none)."""
    with open(BOSCONFIG) as f:
        text = f.read()
    m = re.search(r"^bnode \S+ %s \d+\n(?:parm .*\n)*end\n" % re.escape(name), text, re.M)
    return m.group(0) if m else ""


def swap(text: str, a: str, b: str) -> str:
    """``text`` with the scratch name ``a`` written as ``b``: the one
    normalisation the paired tests make (each tool works on its own object)."""
    return text.replace(a, b)


def strip_times(text: str) -> str:
    """ctime dates (Thu Dec  3 11:25:28 2026) as <date>: process start
    times of the two tools' own instances differ by seconds."""
    return re.sub(r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}", "<date>", text)


#: how long the cell may take to be healthy again after its servers were
#: stopped or restarted (a guard against a cell that never comes back, not
#: a measure: a healthy cell answers in ~1 s)
HEALTHY_WITHIN = 300.0


def wait_healthy(timeout: float = HEALTHY_WITHIN) -> None:
    """Wait until kafs.testcell finds nothing wrong with the cell; if it
    does not recover, repair it with TestCell.up() and fail."""
    import pytest
    from kafs.testcell import TestCell
    tc = TestCell(verbose=False)
    end = time.monotonic() + timeout
    probs = tc.problems()
    while probs and time.monotonic() < end:
        time.sleep(1)
        probs = tc.problems()
    if probs:
        tc.up()
        pytest.fail("the cell did not recover by itself: " + "; ".join(probs))
