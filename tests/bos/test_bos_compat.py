"""bos read-only subcommands: OpenAFS 1.8.9's bos and ours side by side
(stdout, stderr, exit status compared exactly).  Ours runs in-process with
argv[0] = "bos".  Cases with -localauth are xfail'ed while kafs's
-localauth is missing (ours then says so in one line)."""

from __future__ import annotations

import io
import subprocess

import pytest

pytestmark = pytest.mark.cell

REAL = "/usr/bin/bos"
H = "afs1.test.example"


def run_real(cell, args):
    env = cell.env()
    env["LC_ALL"] = "C"
    p = subprocess.run(["bos", *args], executable=REAL, capture_output=True,
                       env=env, timeout=120)
    return (p.stdout.decode("utf-8", "surrogateescape"),
            p.stderr.decode("utf-8", "surrogateescape"), p.returncode)


def run_ours(args):
    from kafs.cli.main import run_suite
    out, err = io.StringIO(), io.StringIO()
    rc = run_suite("bos", list(args), prog="bos", out=out, err=err)
    return out.getvalue(), err.getvalue(), rc


def compare(cell, args):
    real = run_real(cell, args)
    ours = run_ours(args)
    if "-localauth" in args and "-localauth is not supported" in ours[1]:
        pytest.xfail("kafs -localauth not available yet")
    if args[:1] == ["getlog"] and real[2] == 0:
        # Volatile: BosLog may grow between the two runs (servers restarted
        # by other tests on the shared cell); compare the part both saw.
        n = min(len(real[0]), len(ours[0]))
        real = (real[0][:n], real[1], real[2])
        ours = (ours[0][:n], ours[1], ours[2])
    assert ours == real


CASES = [
    ["status", H],
    ["status", "127.1.0.1"],
    ["status", H, "-long"],
    ["status", H, "ptserver"],
    ["status", H, "-instance", "vlserver", "dafs", "-long"],
    ["status", H, "nosuch", "ptserver", "-long"],
    ["status", H, "-noauth"],
    ["status", H, "-noauth", "-cell", "nosuch.invalid"],
    ["status", H, "-cell", "nosuch.invalid"],
    ["status", H, "-localauth", "-cell", "nosuch.invalid"],   # -cell ignored with -localauth
    ["status", H, "-cell", "test.example"],
    ["status", H, "-localauth"],
    ["status", "nosuch.host.invalid"],
    ["status", "127.0.0.1"],                 # nothing listens: ICMP, -1
    ["status"],
    ["status", H, "-bogus"],
    ["status", H, "-l"],
    ["listhosts", H],
    ["getcell", H, "-noauth"],
    ["listhosts", H, "-localauth"],
    ["listhosts", "127.0.0.1"],
    ["listusers", H],
    ["listusers", H, "-noauth"],
    ["listusers", "127.0.0.1"],
    ["listkeys", H],
    ["listkeys", H, "-noauth"],
    ["listkeys", H, "-showkey", "-noauth"],
    ["listkeys", H, "-localauth"],
    ["getdate", H, "bosserver", "ptserver", "nosuch"],
    ["getdate", H, "-file", "/usr/lib/openafs/ptserver", "-dir", "/usr/lib/openafs"],
    ["getdate", H, "x/y/vlserver", "-dir", "/usr/bin", "-noauth"],
    ["getdate", "127.0.0.1", "bosserver"],
    ["getdate", H],
    ["getrestart", H],
    ["getr", H, "-noauth"],
    ["getrestart", "127.0.0.1"],
    ["getrestricted", H],
    ["getrestricted", H, "-noauth"],
    ["getrestricted", "127.0.0.1"],
    ["getlog", H, "BosLog"],
    ["getlog", H, "BosLog", "-noauth"],
    ["getlog", H, "nosuch", "-noauth"],
    ["getlog", H, "BosLog", "-localauth"],
    ["getlog", H, "nosuch", "-localauth"],
    ["getlog", H],
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c)[:60] for c in CASES])
def test_bos(cell, args):
    compare(cell, args)
