"""Bad replies from a fake ptserver (our Rx endpoint on 127.0.0.8:7002,
named by a private -config directory): OpenAFS's pts and ours print the
same lines and exit alike; ours never prints a traceback."""

from __future__ import annotations

import asyncio
import io
import subprocess
import threading

import pytest

ADDR = "127.0.0.8"
REAL = "/usr/bin/pts"


class FakePt:
    def __init__(self, mode):
        self.mode = mode
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.t = threading.Thread(target=self._main, daemon=True)

    def _main(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self):
        from kafs.rx.endpoint import Endpoint
        self.ep = await Endpoint.open(ADDR, 7002)
        self.ep.serve(73, self.handler)

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

    def __enter__(self):
        self.t.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *a):
        async def stop():
            await self.ep.close()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.t.join(10)


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
