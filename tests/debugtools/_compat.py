"""Shared machinery of the rxdebug/udebug compatibility tests: running the
OpenAFS binary and ours side by side, a recording/replaying UDP proxy, and
the helper server processes of ``_servers.py``."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
OPENAFS_BIN = Path("/usr/bin")


def have_openafs(tool: str) -> bool:
    return (OPENAFS_BIN / tool).exists() and shutil.which(tool, path=str(OPENAFS_BIN)) is not None


def _env(ours: bool) -> dict:
    env = dict(os.environ)
    rest = [p for p in env.get("PATH", "").split(os.pathsep)
            if p and Path(p) != VENV_BIN and Path(p) != OPENAFS_BIN]
    first = [str(VENV_BIN)] if ours else [str(OPENAFS_BIN)]
    env["PATH"] = os.pathsep.join(first + rest + ([str(OPENAFS_BIN)] if ours else []))
    env.pop("KAFS_DEBUG", None)
    env["LC_ALL"] = "C"
    return env


def start(tool: str, args, ours: bool):
    """Start ``tool args`` (typed as the bare name, so argv[0] is ``tool``
    for both implementations)."""
    return subprocess.Popen([tool, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_env(ours),
                            stdin=subprocess.DEVNULL)


def finish(p, timeout=90):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out.decode("utf-8", "surrogateescape"), \
        err.decode("utf-8", "surrogateescape")


def run(tool: str, args, ours: bool, timeout=90):
    return finish(start(tool, args, ours), timeout)


def run_pair(tool: str, args, timeout=90):
    """Both implementations started at the same moment: (theirs, ours)."""
    a = start(tool, args, False)
    b = start(tool, args, True)
    return finish(a, timeout), finish(b, timeout)


def run_pair_same(tool: str, args, tries: int = 5, timeout=90, normalise=None):
    """run_pair until both agree, at most ``tries`` times; returns the
    last pair.  Used where the output holds the wall clock ("X secs ago",
    ctime() strings) or counters of a live server that other tests change
    between the two runs: two runs can only disagree when they straddle a
    second or a database write, so a few retries settle it; a real
    difference persists.

    On a loaded machine our start-up alone can take a second, and then
    every pair straddles one.  So if no pair agreed and ``normalise`` is
    given, a pair whose stdouts agree once both are passed through it (exit
    status and stderr exactly) is returned as (theirs, theirs): the
    caller's exact comparison then holds, and anything ``normalise`` keeps
    must still be identical."""
    pairs = []
    for _ in range(tries):
        pair = run_pair(tool, args, timeout)
        if pair[0] == pair[1]:
            return pair
        pairs.append(pair)
        time.sleep(0.3)
    if normalise is not None:
        for theirs, ours in pairs:
            norm = lambda r: (r[0], normalise(r[1]), r[2])  # noqa: E731
            if norm(ours) == norm(theirs):
                return theirs, theirs
    return pairs[-1]


_CTIME = re.compile(r"\b[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\b")
_SECS = re.compile(r"-?\d+ secs")


def normalise_times(text: str) -> str:
    """ctime() strings and "N secs" -> placeholders (udebug's wall-clock
    fields; see run_pair_same)."""
    return _SECS.sub("# secs", _CTIME.sub("<ctime>", text))


_DIGITS = re.compile(r"\d+")


def normalise_numbers(text: str) -> str:
    """Every run of digits -> ``#``.  Only for live rxdebug runs, whose
    counters (free packets, calls, threads...) change from one query to
    the next; the replay tests compare the same data byte for byte."""
    return _DIGITS.sub("#", text)


# --------------------------------------------------------------------------
# Recording proxy: OpenAFS's rxdebug talks to the real server through it
# (replies recorded by request), then ours gets the same replies.
# --------------------------------------------------------------------------

class DebugProxy:
    """A UDP relay for VERSION/DEBUG packets.

    In ``record`` mode each request is forwarded to ``target`` and the
    reply stored under (packet type, request body); in ``replay`` mode the
    stored reply is sent back (with the requester's call number), and
    requests never seen are dropped."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.up.bind(("127.0.0.1", 0))
        self.up.settimeout(2.0)
        self.store: dict = {}
        self.mode = "record"
        self.misses = 0
        self._stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _loop(self):
        while not self._stop:
            try:
                data, addr = self.sock.recvfrom(2048)
            except (socket.timeout, OSError):
                continue
            if len(data) < 28:
                continue
            key = (data[20], data[28:])
            callno = data[8:12]
            if self.mode == "record" and key not in self.store:
                # (a request seen before -- OpenAFS's rxdebug retrying after
                # a slow answer -- gets the first reply again: the recording
                # must be what OpenAFS printed)
                reply = self._forward(data)
                if reply is None:
                    continue
                self.store[key] = reply
            else:
                reply = self.store.get(key)
                if reply is None:
                    self.misses += 1
                    continue
            self.sock.sendto(reply[:8] + callno + reply[12:], addr)

    def _forward(self, data):
        want = data[8:12]
        self.up.sendto(data, self.target)
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            try:
                reply = self.up.recv(2048)
            except (socket.timeout, OSError):
                return None
            if reply[8:12] == want:
                return reply
        return None

    def close(self):
        self._stop = True
        self.thread.join(2)
        self.sock.close()
        self.up.close()


def proxied_pair(target, tool_args_fn):
    """Run OpenAFS's rxdebug through a recording proxy to ``target``, then
    ours against the recording.  ``tool_args_fn(port)`` gives the
    arguments.  Returns (theirs, ours, proxy misses)."""
    px = DebugProxy(target)
    try:
        theirs = run("rxdebug", tool_args_fn(px.port), False, timeout=600)
        px.mode = "replay"
        ours = run("rxdebug", tool_args_fn(px.port), True, timeout=600)
        return theirs, ours, px.misses
    finally:
        px.close()


# --------------------------------------------------------------------------
# Helper servers (our endpoint, fake VOTE services)
# --------------------------------------------------------------------------

class HelperServer:
    def __init__(self, scenario: str):
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_servers.py"), scenario],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=dict(os.environ, PYTHONPATH=str(HERE.parent.parent / "src")))
        line = self.proc.stdout.readline()
        if not line.strip():
            self.proc.kill()
            raise RuntimeError("helper server %s did not start" % scenario)
        self.port = int(line)

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(5)
        except Exception:  # noqa: BLE001
            self.proc.kill()
            self.proc.wait()


def rx_call(port: int, payload: bytes = b"hello") -> bytes:
    """One call to the helper's echo service (service 1), from a client
    endpoint of ours; leaves a server connection behind on the helper."""
    import asyncio
    from kafs.rx.endpoint import Endpoint

    async def go():
        ep = await Endpoint.open("127.0.0.1", 0)
        try:
            return await ep.call(("127.0.0.1", port), 1, None, payload)
        finally:
            await ep.close()
    return asyncio.run(go())


def free_udp_port() -> int:
    """A UDP port below 32768 (udebug reads ports as a C short) that
    nothing on 127.1.0.1 listens on right now."""
    import random
    for _ in range(200):
        p = random.randrange(20000, 32000)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.1.0.1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free UDP port")

