"""Helper processes for the debug-tool tests: an Rx endpoint of ours that
serves a small echo service (for rxdebug) and, in some scenarios, a fake
Ubik VOTE service with crafted answers (for udebug's branches that a
one-server cell never reaches).

    python _servers.py <scenario>

prints ``<port>`` on a line once it serves, then runs until stdin closes.
Scenarios: ``plain`` (echo service 1 only), ``vote-sync``,
``vote-notsync``, ``vote-clone``, ``vote-old``, ``vote-older``,
``vote-sdebug-error``, ``vote-busy``.
"""

from __future__ import annotations

import asyncio
import sys
import time

from kafs.errors import AFSError
from kafs.rpc import ubik as U
from kafs.rx.endpoint import Endpoint


def hbo(a: str) -> int:
    b = bytes(int(x) for x in a.split("."))
    v = int.from_bytes(b, "big")
    return v - (1 << 32) if v & 0x80000000 else v


def make_debug(scenario: str, now: int) -> U.ubik_debug:
    d = U.ubik_debug()
    d.now = now
    d.interfaceAddr = [hbo("127.0.0.1"), hbo("10.1.2.3")] + [0] * 254
    d.localVersion = U.ubik_version(1700000000, 42)
    d.syncVersion = U.ubik_version(1700000000, 41)
    d.syncTid = U.ubik_tid(1700000000, 7)
    d.epochTime = 1700000000
    d.tidCounter = 99
    d.recoveryState = 0x1f
    if scenario in ("vote-sync", "vote-sdebug-error", "vote-busy"):
        d.amSyncSite = 1
        d.nServers = 3
        d.syncSiteUntil = now + 53
        d.lastYesHost = hbo("127.0.0.1")
        d.lastYesTime = now - 4
        d.lastYesState = 1
        d.lastYesClaim = now - 6
    else:
        d.amSyncSite = 0
        d.nServers = 3
        d.lastYesHost = -1 if scenario == "vote-clone" else hbo("127.0.0.9")
        d.lastYesTime = now - 12
        d.lastYesState = 0
        d.lastYesClaim = now - 13
        d.lowestHost = hbo("127.0.0.9")
        d.lowestTime = now - 100
        d.syncHost = hbo("127.0.0.9")
        d.syncTime = now - 99
    if scenario == "vote-busy":
        d.activeWrite = 1
        d.anyReadLocks = 1
        d.anyWriteLocks = 1
        d.currentTrans = 1
        d.writeTrans = 1
        d.lockedPages = 3
        d.writeLockedPages = 2
    if scenario == "vote-notsync":
        d.currentTrans = 1
        d.writeTrans = 0
        d.now = now - 15            # clock skew: "****clock may be bad"
    return d


def make_sdebug(i: int, now: int) -> U.ubik_sdebug:
    s = U.ubik_sdebug()
    s.addr = hbo("127.0.0.%d" % (10 + i))
    s.altAddr = ([hbo("192.168.0.%d" % (i + 1))] if i == 0 else []) + \
        [0] * (255 - (1 if i == 0 else 0))
    s.lastVoteTime = 0 if i == 1 else now - 3 - i
    s.lastBeaconSent = 0 if i == 1 else now - 2
    s.lastVote = 1 if i == 0 else 0
    s.remoteVersion = U.ubik_version(1700000000, 42 - i)
    s.currentDB = 1 if i == 0 else 0
    s.beaconSinceDown = 1
    s.up = 1 if i == 0 else 0
    return s


class Vote:
    def __init__(self, scenario):
        self.scenario = scenario

    def _now(self):
        return int(time.time())

    async def XDebug(self, call):
        if self.scenario in ("vote-old", "vote-older"):
            raise AFSError(-455)
        return self.debug(), (1 if self.scenario == "vote-clone" else 0)

    async def Debug(self, call):
        if self.scenario == "vote-older":
            raise AFSError(-455)
        return self.debug()

    async def DebugOld(self, call):
        d = self.debug()
        o = U.ubik_debug_old()
        for k in o.__slots__:
            setattr(o, k, getattr(d, k))
        return o

    def debug(self):
        return make_debug(self.scenario, self._now())

    async def XSDebug(self, call, which):
        if self.scenario in ("vote-old", "vote-older"):
            raise AFSError(-455)
        if self.scenario == "vote-sdebug-error" and which == 1:
            raise AFSError(-455)
        if which >= 3:
            raise AFSError(5389)            # UNOSERVERS: end of the list
        return make_sdebug(which, self._now()), (1 if which == 2 else 0)

    async def SDebug(self, call, which):
        if self.scenario == "vote-sdebug-error":
            raise AFSError(-77)
        if which >= 3:
            raise AFSError(5389)
        return make_sdebug(which, self._now())

    async def SDebugOld(self, call, which):
        if which >= 2:
            raise AFSError(5389)
        s = make_sdebug(which, self._now())
        o = U.ubik_sdebug_old()
        for k in o.__slots__:
            setattr(o, k, getattr(s, k))
        return o


async def main(scenario: str) -> None:
    # udebug takes its port as a C short: stay below 32768.
    import random
    for _ in range(200):
        try:
            ep = await Endpoint.open("127.0.0.1", random.randrange(20000, 32000))
            break
        except OSError:
            continue
    else:
        raise SystemExit("no free port")

    async def echo(call):
        data = await call.read_all()
        await call.write(data[:64])

    ep.serve(1, echo)
    if scenario.startswith("vote-"):
        ep.serve(U.VOTE_SERVICE_ID, U.make_VOTE_dispatcher(Vote(scenario)))
    print(ep.port, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await ep.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
