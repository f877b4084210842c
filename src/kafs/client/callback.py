"""The cache manager's callback service (RXAFSCB, service 1).

A file server calls back to the address and port a client's requests came
from, on Rx service 1 with rxnull: before it runs a new client's first call
it asks who the client is (TellMeAboutYourself, or WhoAreYou on older
clients) and resets its callback state (InitCallBackState*); later it breaks
callbacks (CallBack) and probes the client (Probe, ProbeUuid).  A client that
does not answer is marked down and its calls stall for the file server's
50-second callback dead time, so every endpoint that talks to file servers
serves this.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..errors import AFSError
from ..rpc import afscbint
from ..rpc.runtime import afsUUID

CALLBACK_SERVICE_ID = 1
CLIENT_CAP_ERRORTRANS = 0x1
CB_MAX_INTERFACES = 32


def new_uuid() -> afsUUID:
    """A random (version 4) UUID in OpenAFS's afsUUID layout."""
    b = os.urandom(16)
    clock_hi = (b[8] & 0x3F) | 0x80
    return afsUUID(
        time_low=int.from_bytes(b[0:4], "big"),
        time_mid=int.from_bytes(b[4:6], "big"),
        time_hi_and_version=(int.from_bytes(b[6:8], "big") & 0x0FFF) | 0x4000,
        clock_seq_hi_and_reserved=clock_hi - 256 if clock_hi > 127 else clock_hi,
        clock_seq_low=b[9] - 256 if b[9] > 127 else b[9],
        node=b[10:16],
    )


@dataclass
class BrokenCallback:
    """One callback a file server broke: who broke it, and for which file."""

    server: tuple
    fid: tuple[int, int, int]          # (volume, vnode, unique)
    type: int                          # AFSCallBack.CallBackType (3 = dropped)


@dataclass
class CallbackService:
    """RXAFSCB implementation for the generated dispatcher.

    ``on_break(list[BrokenCallback])`` is called for every CallBack RPC and
    ``on_reset(server)`` for every InitCallBackState*; both run in the
    endpoint's event loop and must not block.
    """

    cell: str = ""
    uuid: afsUUID = field(default_factory=new_uuid)
    addresses: Iterable[str] = ()
    on_break: Callable[[list[BrokenCallback]], None] | None = None
    on_reset: Callable[[tuple], None] | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def install(self, endpoint) -> None:
        endpoint.serve(CALLBACK_SERVICE_ID, afscbint.make_RXAFSCB_dispatcher(self))

    def _count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def interface_addr(self) -> afscbint.interfaceAddr:
        ia = afscbint.interfaceAddr(uuid=self.uuid)
        addrs = [a for a in self.addresses
                 if ipaddress.ip_address(a).version == 4][:CB_MAX_INTERFACES]
        ia.numberOfInterfaces = len(addrs)
        for i, a in enumerate(addrs):
            # Signed 32-bit, host order, as the cache manager sends them.
            v = int(ipaddress.IPv4Address(a))
            ia.addr_in[i] = v - (1 << 32) if v >= 1 << 31 else v
            ia.subnetmask[i] = -256         # 255.255.255.0
            ia.mtu[i] = 1500
        return ia

    # -- RXAFSCB procedures ------------------------------------------------

    async def Probe(self, call):
        self._count("Probe")

    async def ProbeUuid(self, call, clientUuid):
        self._count("ProbeUuid")
        if clientUuid != self.uuid:
            raise AFSError(1)               # "not me": the server re-identifies us

    async def WhoAreYou(self, call):
        self._count("WhoAreYou")
        return self.interface_addr()

    async def TellMeAboutYourself(self, call):
        self._count("TellMeAboutYourself")
        return afscbint.RXAFSCB_TellMeAboutYourself_Result(
            addr=self.interface_addr(), capabilities=[CLIENT_CAP_ERRORTRANS])

    async def _reset(self, call, name):
        self._count(name)
        if self.on_reset:
            self.on_reset(call.peer)

    async def InitCallBackState(self, call):
        await self._reset(call, "InitCallBackState")

    async def InitCallBackState2(self, call):
        await self._reset(call, "InitCallBackState2")
        return self.interface_addr()

    async def InitCallBackState3(self, call, serverUuid):
        await self._reset(call, "InitCallBackState3")

    async def CallBack(self, call, Fids_Array, CallBacks_Array):
        self._count("CallBack")
        broken = []
        for i, f in enumerate(Fids_Array):
            cbtype = CallBacks_Array[i].CallBackType if i < len(CallBacks_Array) else 0
            broken.append(BrokenCallback(call.peer, (f.Volume, f.Vnode, f.Unique), cbtype))
        if self.on_break and broken:
            self.on_break(broken)

    async def GetLocalCell(self, call):
        self._count("GetLocalCell")
        return self.cell

    async def XStatsVersion(self, call):
        self._count("XStatsVersion")
        return 2                            # AFSCB_XSTAT_VERSION
