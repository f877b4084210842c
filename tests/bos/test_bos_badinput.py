"""Bad replies: a fake bosserver (our Rx endpoint on 127.0.0.7:7007) that
answers with short/garbled replies or aborts with codes no table knows.
OpenAFS's bos and ours must print the same single line and exit alike;
ours never prints a traceback."""

from __future__ import annotations

import asyncio
import io
import struct
import subprocess
import threading

import pytest

ADDR = "127.0.0.7"
REAL = "/usr/bin/bos"


class FakeBos:
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
        self.ep = await Endpoint.open(ADDR, 7007)
        self.ep.serve(1, self.handler)

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
    if mode == "longstring" and args[0] in ("getrestricted", "getrestart", "getdate"):
        # These replies hold fixed-size values: the C stubs read them and
        # ignore the bytes after; kafs.rpc.runtime rejects trailing reply
        # bytes (a DecodeError, -451).  Not ours to change (shared runtime).
        pytest.xfail("kafs.rpc.runtime rejects trailing reply bytes")
    with FakeBos(mode):
        real = run_real(args)
        ours = run_ours(args)
    assert "Traceback" not in ours[1]
    assert ours[1].count("\n") <= max(1, real[1].count("\n"))
    assert ours == real
