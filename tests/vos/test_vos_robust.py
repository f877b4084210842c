"""Failover, bad configuration and bad servers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading

import pytest

from .conftest import OURS, REPO, assert_same, run_both

DEAD = "127.1.0.77"          # nothing answers (the kernel sends ICMP port unreachable)
JUNK = "127.1.0.2"           # our own junk-serving endpoint


def _confdir(tmp_path, cell, lines):
    d = tmp_path / "conf"
    d.mkdir()
    (d / "ThisCell").write_text(cell.cell + "\n")
    (d / "CellServDB").write_text(">%s #test\n" % cell.cell + "".join(l + "\n" for l in lines))
    return d


@pytest.mark.parametrize("args", [("listvldb", "-name", "root.cell"),
                                  ("examine", "cvol.000"),
                                  ("listvldb", "-server", "afs1", "-quiet")])
def test_failover_dead_vlserver_first(vos_cell, tmp_path, args):
    d = _confdir(tmp_path, vos_cell, [f"{DEAD} #dead.test.example",
                                      f"{vos_cell.host} #afs1.test.example"])
    # several runs: the server order is randomly rotated, as in OpenAFS
    for _ in range(4):
        o, k = run_both(vos_cell, *args, "-config", str(d), timeout=60)
        assert o[2] == 0
        assert_same(o, k, args)


def test_failover_attempts_are_bounded(vos_cell, tmp_path):
    """Through the API: the dead server costs one attempt, then Ubik moves on."""
    from kafs.api import AuthSpec, Session, vldb
    from kafs.cell import Cell
    d = _confdir(tmp_path, vos_cell, [f"{DEAD} #dead", f"{vos_cell.host} #afs1"])

    async def main():
        cell = Cell(vos_cell.cell, confdir=str(d))
        async with await Session.open(cell, auth=AuthSpec(noauth=True)) as s:
            for _ in range(4):
                e = await vldb.get_entry(s, "root.cell")
                assert e.name == "root.cell"
                assert len(s.vl.last_attempts) <= 2
                assert s.vl.last_attempts[-1].outcome == "ok"
    asyncio.run(main())


def test_all_vlservers_dead(vos_cell, tmp_path):
    d = _confdir(tmp_path, vos_cell, [f"{DEAD} #dead"])
    o, k = run_both(vos_cell, "listvldb", "-name", "root.cell", "-config", str(d), timeout=60)
    assert_same(o, k)


@pytest.mark.parametrize("text", [
    "\x00\xff garbage\n>>>\n1.2.3\n>test.example\nnot-an-ip #x\n",
    ">test.example\n1.2.3.4 #x\n300.1.1.1 #y\n",
    ">test.example\n1.2.3.4\n",
    "1.2.3.4 #x\n>test.example\n",
    ">other.cell\n127.1.0.1 #afs1\n",
    "",
])
def test_garbled_cellservdb(vos_cell, tmp_path, text):
    d = tmp_path / "conf"
    d.mkdir()
    (d / "ThisCell").write_text("test.example\n")
    (d / "CellServDB").write_bytes(text.encode("latin-1"))
    o, k = run_both(vos_cell, "listvldb", "-config", str(d))
    assert_same(o, k)


def test_unreachable_volserver_is_quick(vos_cell):
    """A server where nothing listens: -1 ("Possible communication failure")
    without waiting for the Rx dead time (vos: 90 s)."""
    o, k = run_both(vos_cell, "listpart", DEAD, timeout=30)
    assert_same(o, k)
    o, k = run_both(vos_cell, "listvol", DEAD, timeout=30)
    assert_same(o, k)


# --------------------------------------------------------------------------
# our own endpoint serving junk (not a stand-in for OpenAFS: a broken server)
# --------------------------------------------------------------------------

class JunkServer:
    """Serves VL (7003) and VOLSER (7005) on JUNK: every call is answered
    with ``reply`` bytes, or aborted with ``abort`` code."""

    def __init__(self, reply=b"\x00\x00\x00\x07junk", abort=None):
        self.reply, self.abort = reply, abort
        self.loop = asyncio.new_event_loop()
        self.eps = []
        self.ready = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)

    async def _handler(self, call):
        await call.read_all()
        if self.abort is not None:
            from kafs.errors import AFSError
            raise AFSError(self.abort)
        await call.write(self.reply)
        await call.end_write()

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def start():
            from kafs.rx.endpoint import Endpoint
            for port, svc in ((7003, 52), (7005, 4)):
                ep = await Endpoint.open(JUNK, port)
                ep.serve(svc, self._handler)
                self.eps.append(ep)
        self.loop.run_until_complete(start())
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self):
        self.t.start()
        assert self.ready.wait(60)
        return self

    def __exit__(self, *exc):
        async def stop():
            for ep in self.eps:
                await ep.close()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.t.join(10)


def _ours(cell, *args, confdir=None):
    env = cell.env()
    env["PYTHONPATH"] = str(REPO / "src")
    if confdir:
        args = (*args, "-config", str(confdir))
    return subprocess.run([*OURS, *args], env=env, capture_output=True, timeout=60)


def _clean_failure(r):
    err = r.stderr.decode()
    assert r.returncode != 0
    assert "Traceback" not in err and "internal error" not in err
    assert all(len(l) < 200 for l in err.splitlines())
    return err


@pytest.mark.parametrize("reply", [b"", b"\x00\x00\x00\x05abc", b"\xff" * 3000])
def test_malformed_volserver_reply(vos_cell, reply):
    with JunkServer(reply=reply):
        for args in (("listpart", JUNK), ("listvol", JUNK, "a"), ("partinfo", JUNK),
                     ("status", JUNK)):
            err = _clean_failure(_ours(vos_cell, *args, "-noauth"))
            assert "Error in vos" in err or "Could not" in err, err


def test_malformed_vlserver_reply(vos_cell, tmp_path):
    d = _confdir(tmp_path, vos_cell, [f"{JUNK} #junk"])
    with JunkServer(reply=b"\x00\x00\x00\x01"):
        err = _clean_failure(_ours(vos_cell, "listvldb", "-noauth", confdir=d))
        assert err.startswith("Could not access the VLDB for attributes\n"), err
        err = _clean_failure(_ours(vos_cell, "examine", "root.cell", "-noauth", confdir=d))
        err = _clean_failure(_ours(vos_cell, "listaddrs", "-noauth", confdir=d))
        assert err.startswith("vos: could not list the server addresses\n"), err


@pytest.mark.parametrize("code", [123456789, 363524, 1492325135, 5, -455])
def test_unknown_and_known_abort_codes(vos_cell, tmp_path, code):
    from kafs.cli.vos._common import print_error
    d = _confdir(tmp_path, vos_cell, [f"{JUNK} #junk"])
    with JunkServer(abort=code):
        r = _ours(vos_cell, "listvldb", "-name", "x", "-noauth", confdir=d)
        err = _clean_failure(r)
        assert err == print_error(code), err
        r = _ours(vos_cell, "listpart", JUNK, "-noauth")
        err = _clean_failure(r)
        assert err.startswith("Could not fetch the list of partitions from the server\n"
                              + print_error(code)), err


def test_decode_garbage_through_the_api():
    """Undecodable bytes are a DecodeError, never another exception."""
    from kafs.errors import DecodeError
    from kafs.rpc import vl
    from kafs.xdr import Decoder
    for dec in (vl._VL_ListAttributesN2_odec, vl._VL_GetAddrs_odec, vl._VL_GetAddrsU_odec):
        for junk in (b"", b"\x00\x00\x00\x02", b"\x7f\xff\xff\xff" * 3, b"\x00" * 7):
            with pytest.raises(DecodeError):
                dec(Decoder(junk))
