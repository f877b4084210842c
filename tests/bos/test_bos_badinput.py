"""Bad replies: a fake bosserver (our Rx endpoint on 127.0.0.7:7007) that
answers with short/garbled replies or aborts with codes no table knows.
OpenAFS's bos and ours must print the same single line and exit alike;
ours never prints a traceback."""

from __future__ import annotations

import io
import struct
import subprocess

import pytest

from _fakeserver import FakeServer

ADDR = "127.0.0.7"
REAL = "/usr/bin/bos"


class FakeBos(FakeServer):
    def __init__(self, mode):
        super().__init__(ADDR, 7007, 1)
        self.mode = mode

    async def handler(self, call):
        from kafs.errors import AFSError
        await call.read_all()
        mode = self.mode
        if mode == "short":
            await call.write(b"\x00\x01")
        elif mode == "abort":
            raise AFSError(0x7FFF0001)
        elif mode == "longstring":
            # a string length far beyond BOZO_BSSIZE
            await call.write(struct.pack(">I", 100000) + b"x" * 64)
        await call.end_write()


def run_real(args):
    p = subprocess.run(["bos", *args], executable=REAL, capture_output=True,
                       timeout=120, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    return p.stdout.decode(), p.stderr.decode(), p.returncode


def run_ours(args):
    from kafs.cli.main import run_suite
    out, err = io.StringIO(), io.StringIO()
    rc = run_suite("bos", list(args), prog="bos", out=out, err=err)
    return out.getvalue(), err.getvalue(), rc


CMDS = [["getrestricted", ADDR, "-noauth"], ["listhosts", ADDR, "-noauth"],
        ["listusers", ADDR, "-noauth"], ["status", ADDR, "-noauth"],
        ["getrestart", ADDR, "-noauth"], ["getdate", ADDR, "x", "-noauth"],
        ["status", ADDR, "ptserver", "-long", "-noauth"]]


@pytest.mark.parametrize("mode", ["short", "abort", "longstring"])
@pytest.mark.parametrize("args", CMDS, ids=[c[0] + ("-long" if "-long" in c else "")
                                           for c in CMDS])
def test_bad_reply(mode, args):
    with FakeBos(mode):
        real = run_real(args)
        ours = run_ours(args)
    assert "Traceback" not in ours[1]
    assert ours[1].count("\n") <= max(1, real[1].count("\n"))
    assert ours == real


WRITES = [["create", ADDR, "x", "simple", "/bin/true", "-noauth"],
          ["delete", ADDR, "x", "-noauth"], ["start", ADDR, "x", "-noauth"],
          ["stop", ADDR, "x", "-wait", "-noauth"], ["startup", ADDR, "-noauth"],
          ["shutdown", ADDR, "x", "-wait", "-noauth"], ["restart", ADDR, "-all", "-noauth"],
          ["restart", ADDR, "x", "-noauth"], ["restart", ADDR, "-bosserver", "-noauth"],
          ["exec", ADDR, "true", "-noauth"], ["prune", ADDR, "-all", "-noauth"],
          ["uninstall", ADDR, "x", "-noauth"], ["install", ADDR, "/etc/hostname", "-noauth"],
          ["setauth", ADDR, "on", "-noauth"], ["setrestricted", ADDR, "0", "-noauth"],
          ["setrestart", ADDR, "-time", "never", "-noauth"],
          ["addkey", ADDR, "-key", "k", "-kvno", "201", "-noauth"],
          ["removekey", ADDR, "201", "-noauth"],
          ["salvage", ADDR, "-all", "-noauth"], ["salvage", ADDR, "a", "7", "-noauth"],
          ["getlog", ADDR, "BosLog", "-noauth"]]


@pytest.mark.parametrize("mode", ["short", "abort", "longstring"])
@pytest.mark.parametrize("args", WRITES, ids=[" ".join(c[:3]) for c in WRITES])
def test_bad_reply_writes(mode, args):
    with FakeBos(mode):
        real = run_real(args)
        ours = run_ours(args)
    assert "Traceback" not in ours[1]
    assert ours == real
