"""Bad replies from a fake ptserver (our Rx endpoint on 127.0.0.8:7002,
named by a private -config directory): OpenAFS's pts and ours print the
same lines and exit alike; ours never prints a traceback."""

from __future__ import annotations

import io
import subprocess

import pytest

from _fakeserver import FakeServer

ADDR = "127.0.0.8"
REAL = "/usr/bin/pts"


class FakePt(FakeServer):
    def __init__(self, mode):
        super().__init__(ADDR, 7002, 73)
        self.mode = mode

    async def handler(self, call):
        from kafs.errors import AFSError
        req = await call.read_all()
        op = int.from_bytes(req[:4], "big")
        if self.mode == "short":
            await call.write(b"\x00\x00\x00\x05\x00")     # count 5, no ids
        elif self.mode == "abort":
            raise AFSError(0x7FFF0002)
        elif self.mode == "badcount" and op == 504:        # NameToID
            await call.write(b"\xff\xff\xff\xff")
        elif self.mode == "badcount":
            raise AFSError(267268)
        await call.end_write()


@pytest.fixture
def confdir(tmp_path):
    (tmp_path / "ThisCell").write_text("fake.test\n")
    (tmp_path / "CellServDB").write_text(">fake.test #fake\n%s #fake\n" % ADDR)
    return str(tmp_path)


def run_real(args):
    p = subprocess.run(["pts", *args], executable=REAL, capture_output=True,
                       timeout=120, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    return p.stdout.decode(), p.stderr.decode(), p.returncode


def run_ours(args):
    from kafs.cli.main import run_suite
    out, err = io.StringIO(), io.StringIO()
    rc = run_suite("pts", list(args), prog="pts", out=out, err=err)
    return out.getvalue(), err.getvalue(), rc


CMDS = [["examine", "admin"], ["examine", "1"], ["listmax"], ["listentries"],
        ["membership", "-204"], ["listowned", "1"]]


@pytest.mark.parametrize("mode", ["short", "abort", "badcount"])
@pytest.mark.parametrize("args", CMDS, ids=["-".join(c) for c in CMDS])
def test_bad_reply(mode, args, confdir):
    argv = args + ["-noauth", "-config", confdir]
    with FakePt(mode):
        real = run_real(argv)
        ours = run_ours(argv)
    assert "Traceback" not in ours[1]
    assert ours == real
