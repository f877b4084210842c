"""Debugging queries: Rx VERSION/DEBUG packets (what rxdebug asks) and the
Ubik voting status (what udebug asks), as typed results.

Rx debug queries (:class:`RxDebugClient`) behave like OpenAFS 1.8.9's
``MakeDebugCall``: one UDP socket bound to an ephemeral port, a request
header with epoch 999, cid 0 and a per-process call number starting at
101; a reply is any datagram carrying that call number; the request is
sent up to 5 times, waiting 1, 2, 4, 8 and 16 seconds (31 s in all) before
giving up.  Replies shorter than the record are zero-padded, longer ones
cut, as the C client's ``memcpy`` into a zeroed struct does.

The Ubik query (:func:`ubik_debug`) makes the rxnull calls udebug makes on
service 50: ``VOTE_XDebug``, falling back to ``VOTE_Debug`` and, if that
is an unknown opcode, ``VOTE_DebugOld``; then per-server records with
``VOTE_XSDebug`` (``SDebug``/``SDebugOld`` fallback) until the server
answers a positive code.

Addresses are kept as 4-byte network-order ``bytes`` (``host4``) because
that is what both the wire records and OpenAFS's comparisons use.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from dataclasses import dataclass, field

from ..rx import packet as P

__all__ = [
    "resolve_host", "inet_ntoa", "RxDebugClient", "RxDebugStats", "RxConn",
    "RxPeer", "supported_values", "UbikServerInfo", "UbikDebugInfo",
    "ubik_debug",
    "SERVER_DEBUG_SEC_STATS", "SERVER_DEBUG_ALL_CONN", "SERVER_DEBUG_RX_STATS",
    "SERVER_DEBUG_WAITER_CNT", "SERVER_DEBUG_IDLE_THREADS",
    "SERVER_DEBUG_NEW_PACKETS", "SERVER_DEBUG_ALL_PEER",
    "SERVER_DEBUG_WAITED_CNT", "SERVER_DEBUG_PACKETS_CNT",
]

# --------------------------------------------------------------------------
# Host names and addresses (hostutil_GetHostByName, afs_inet_ntoa_r)
# --------------------------------------------------------------------------


def resolve_host(name: str) -> bytes | None:
    """The address OpenAFS's ``hostutil_GetHostByName`` gives for ``name``
    (4 bytes, network order), or None when it finds none.

    A name starting with a digit and made of digits and at most three dots
    is parsed by hand: each part is taken modulo 256 and missing parts are
    zero (``127.1`` is 127.1.0.0, not inet_aton's 127.0.0.1).  Anything
    else goes to the resolver (``gethostbyname``).
    """
    if name[:1].isdigit() and name[:1].isascii():
        dots = 0
        numeric = True
        for ch in name:
            if ch == ".":
                if dots >= 3:
                    numeric = False
                    break
                dots += 1
            elif not ("0" <= ch <= "9"):
                numeric = False
                break
        if numeric:
            parts = [0, 0, 0, 0]
            i = 0
            val = 0
            for ch in name:
                if ch == ".":
                    parts[i] = val & 0xff
                    i += 1
                    val = 0
                else:
                    val = val * 10 + ord(ch) - 48
            parts[i] = val & 0xff
            return bytes(parts)
    if not name or "\0" in name:
        return None
    try:
        addr = socket.gethostbyname(name)
    except (OSError, UnicodeError, ValueError):
        return None
    return socket.inet_aton(addr)


def inet_ntoa(host4: bytes) -> str:
    """Dotted quad of a 4-byte network-order address."""
    return "%d.%d.%d.%d" % tuple(host4[:4])


def host4_from_hbo(v: int) -> bytes:
    """4 bytes (network order) of an address held in host byte order (how
    XDR hands Ubik's addresses over)."""
    return struct.pack("!I", v & 0xffffffff)


# --------------------------------------------------------------------------
# Rx debug packets
# --------------------------------------------------------------------------

# What a server's debug version letter allows (rx.h RX_SERVER_DEBUG_*).
SERVER_DEBUG_SEC_STATS = 0x1
SERVER_DEBUG_ALL_CONN = 0x2
SERVER_DEBUG_RX_STATS = 0x4
SERVER_DEBUG_WAITER_CNT = 0x8
SERVER_DEBUG_IDLE_THREADS = 0x10
SERVER_DEBUG_NEW_PACKETS = 0x40
SERVER_DEBUG_ALL_PEER = 0x80
SERVER_DEBUG_WAITED_CNT = 0x100
SERVER_DEBUG_PACKETS_CNT = 0x200

_BY_VERSION = (
    ("L", SERVER_DEBUG_SEC_STATS), ("M", SERVER_DEBUG_ALL_CONN),
    ("M", SERVER_DEBUG_RX_STATS), ("N", SERVER_DEBUG_WAITER_CNT),
    ("O", SERVER_DEBUG_IDLE_THREADS), ("P", SERVER_DEBUG_NEW_PACKETS),
    ("Q", SERVER_DEBUG_ALL_PEER), ("R", SERVER_DEBUG_WAITED_CNT),
    ("S", SERVER_DEBUG_PACKETS_CNT),
)


def supported_values(version: int) -> int:
    """The RX_SERVER_DEBUG_* bits of a debug version letter (a signed
    char, as the C client compares it)."""
    bits = 0
    for letter, bit in _BY_VERSION:
        if version >= ord(letter):
            bits |= bit
    return bits


def _s8(v: int) -> int:
    v &= 0xff
    return v - 256 if v & 0x80 else v


def _s16(v: int) -> int:
    v &= 0xffff
    return v - 65536 if v & 0x8000 else v


def _s32(v: int) -> int:
    v &= 0xffffffff
    return v - (1 << 32) if v & 0x80000000 else v


@dataclass
class RxDebugStats:
    """GETSTATS (``rx_debugStats``); ``version`` is the letter's code (a
    signed char) and ``supported`` the RX_SERVER_DEBUG_* bits it implies."""
    free_packets: int
    packet_reclaims: int
    calls_executed: int
    waiting_for_packets: int
    used_fds: int
    version: int
    n_waiting: int
    idle_threads: int
    n_waited: int
    n_packets: int
    supported: int


@dataclass
class RxConn:
    """One ``rx_debugConn`` record.  ``host`` is a dotted quad; ``host4``
    and ``port`` as on the wire (network order bytes; port as a number)."""
    host: str
    port: int
    cid: int
    epoch: int
    serial: int
    error: int
    flags: int
    type: int                   # 0 client, 1 server
    security_index: int
    nat_mtu: int
    call_numbers: list[int]
    call_state: list[int]
    call_mode: list[int]
    call_flags: list[int]
    call_other: list[int]
    sec_type: int
    sec_level: int
    sec_flags: int
    sec_expires: int
    sec_packets_received: int
    sec_packets_sent: int
    sec_bytes_received: int
    sec_bytes_sent: int
    host4: bytes = field(default=b"", repr=False)


@dataclass
class RxPeer:
    """One ``rx_debugPeer`` record (the C client zeroes ``timeout``)."""
    host: str
    port: int
    if_mtu: int
    nat_mtu: int
    max_mtu: int
    n_sent: int
    resends: int
    bytes_sent: tuple[int, int]
    bytes_received: tuple[int, int]
    rtt: int
    rtt_dev: int
    in_packet_skew: int
    out_packet_skew: int
    cwind: int
    mtu: int
    n_dgram_packets: int
    if_dgram_packets: int
    max_dgram_packets: int
    host4: bytes = field(default=b"", repr=False)


class RxDebugClient:
    """A socket for VERSION/DEBUG queries, with MakeDebugCall's timing.

    Every query returns the reply body (at most ``size`` bytes) or None
    when the server never answered.  ``waits`` is the per-send wait
    schedule; the default is OpenAFS's (1, 2, 4, 8, 16 s)."""

    WAITS = (1.0, 2.0, 4.0, 8.0, 16.0)

    def __init__(self, waits=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("0.0.0.0", 0))
        self.counter = 100
        self.waits = tuple(waits) if waits is not None else self.WAITS
        #: errno left by the last failed query (rxdebug prints it)
        self.errno = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def query(self, host4: bytes, port: int, ptype: int, body: bytes,
              size: int) -> bytes | None:
        self.counter += 1
        counter = self.counter & 0xffffffff
        hdr = P.encode_header(999, 0, counter, 0, 0, ptype,
                              P.CLIENT_INITIATED | P.LAST_PACKET)
        dest = (inet_ntoa(host4), port)
        for wait in self.waits:
            try:
                self.sock.sendto(hdr + body, dest)
            except OSError as e:        # the C client ignores sendto errors
                self.errno = e.errno or 0
            wake = time.monotonic() + wait
            while True:
                left = wake - time.monotonic()
                if left <= 0:
                    break
                try:
                    r, _, _ = select.select([self.sock], [], [], left)
                except InterruptedError:
                    continue
                if not r:
                    break
                try:
                    data = self.sock.recv(1500)
                except OSError as e:
                    # ICMP errors surface here; C's select loop gives up
                    # waiting for this send and goes on with the next one.
                    self.errno = e.errno or 0
                    break
                if len(data) >= P.HEADER_SIZE and \
                        struct.unpack_from("!I", data, 8)[0] == counter:
                    return data[P.HEADER_SIZE:P.HEADER_SIZE + size]
        return None

    # -- typed queries ------------------------------------------------------

    def version(self, host4: bytes, port: int) -> str | None:
        """VERSION: the server's version string (at most 63 bytes, up to
        its first NUL, bytes decoded as UTF-8 with surrogateescape)."""
        raw = self.query(host4, port, P.VERSION, b"\0", 64)
        if raw is None:
            return None
        raw = raw[:63].split(b"\0", 1)[0]
        return raw.decode("utf-8", "surrogateescape")

    def debug(self, host4: bytes, port: int, typ: int, index: int,
              size: int) -> bytes | None:
        return self.query(host4, port, P.DEBUG,
                          P.encode_debug_request(typ, index & 0xffffffff), size)

    def stats(self, host4: bytes, port: int) -> RxDebugStats | None:
        raw = self.debug(host4, port, P.DEBUGI_GETSTATS, 0, 56)
        if raw is None:
            return None
        s = P.DebugStats.decode(raw.ljust(56, b"\0"))
        version = _s8(s.version)
        return RxDebugStats(
            s.n_free_packets, s.packet_reclaims, s.calls_executed,
            _s8(s.waiting_for_packets), _s8(s.used_fds), version,
            s.n_waiting, s.idle_threads, s.n_waited, s.n_packets,
            supported_values(version))

    def rxstats(self, host4: bytes, port: int) -> tuple[int, dict] | None:
        """RXSTATS: ``(reply length, {field: value})`` (values signed int32,
        missing ones zero)."""
        raw = self.debug(host4, port, P.DEBUGI_RXSTATS, 0, P.RXSTATS_SIZE)
        if raw is None:
            return None
        return len(raw), P.decode_rxstats(raw.ljust(P.RXSTATS_SIZE, b"\0"))

    def conn(self, host4: bytes, port: int, index: int,
             all_conns: bool) -> RxConn | None:
        typ = P.DEBUGI_GETALLCONN if all_conns else P.DEBUGI_GETCONN
        raw = self.debug(host4, port, typ, index, P.DebugConn.SIZE)
        if raw is None:
            return None
        c = P.DebugConn.decode(raw.ljust(P.DebugConn.SIZE, b"\0"))
        return RxConn(
            host=inet_ntoa(c.host), port=c.port, cid=c.cid, epoch=c.epoch,
            serial=_s32(c.serial), error=_s32(c.error), flags=_s8(c.flags),
            type=_s8(c.type), security_index=_s8(c.security_index),
            nat_mtu=_s32(c.nat_mtu),
            call_numbers=[_s32(x) for x in c.call_numbers],
            call_state=[_s8(x) for x in c.call_state],
            call_mode=[_s8(x) for x in c.call_mode],
            call_flags=[_s8(x) for x in c.call_flags],
            call_other=[_s8(x) for x in c.call_other],
            sec_type=_s8(c.sec_type), sec_level=_s8(c.sec_level),
            sec_flags=_s32(c.sec_flags), sec_expires=c.sec_expires,
            sec_packets_received=c.sec_packets_received,
            sec_packets_sent=c.sec_packets_sent,
            sec_bytes_received=c.sec_bytes_received,
            sec_bytes_sent=c.sec_bytes_sent, host4=bytes(c.host))

    def peer(self, host4: bytes, port: int, index: int) -> RxPeer | None:
        raw = self.debug(host4, port, P.DEBUGI_GETPEER, index, P.DebugPeer.SIZE)
        if raw is None:
            return None
        p = P.DebugPeer.decode(raw.ljust(P.DebugPeer.SIZE, b"\0"))
        return RxPeer(
            host=inet_ntoa(p.host), port=p.port, if_mtu=p.if_mtu,
            nat_mtu=p.nat_mtu, max_mtu=p.max_mtu, n_sent=_s32(p.n_sent),
            resends=_s32(p.resends), bytes_sent=tuple(p.bytes_sent),
            bytes_received=tuple(p.bytes_received), rtt=_s32(p.rtt),
            rtt_dev=_s32(p.rtt_dev), in_packet_skew=_s32(p.in_packet_skew),
            out_packet_skew=_s32(p.out_packet_skew), cwind=p.cwind,
            mtu=p.mtu, n_dgram_packets=p.n_dgram_packets,
            if_dgram_packets=p.if_dgram_packets,
            max_dgram_packets=p.max_dgram_packets, host4=bytes(p.host))


# --------------------------------------------------------------------------
# Ubik voting status (udebug)
# --------------------------------------------------------------------------

RXGEN_OPCODE = -455
RXGEN_CC_UNMARSHAL = -450
VOTE_SERVICE_ID = 50

#: OpenAFS Rx's default connection dead time (rx_connDeadTime).
RX_DEAD_TIME = 12.0


@dataclass
class UbikServerInfo:
    """One per-server record (``ubik_sdebug``) and its clone flag."""
    addr: int                   # host byte order, as XDR delivers it
    last_vote_time: int
    last_beacon_sent: int
    last_vote: int
    remote_version: tuple[int, int]
    current_db: int
    beacon_since_down: int
    up: int
    alt_addr: list[int]
    is_clone: int


@dataclass
class UbikDebugInfo:
    """What udebug learns from one server.

    ``code`` is non-zero when the main query failed (the other fields are
    then empty).  ``old_server``: only VOTE_DebugOld worked (no interface
    addresses).  ``local_now`` is the client's clock right after the main
    query (udebug's ``time(0)``).  ``servers`` holds the per-server
    records fetched; ``sdebug_code`` the negative code that ended that
    list early, if any."""
    code: int = 0
    old_server: bool = False
    is_clone: int = 0
    local_now: int = 0
    db: dict = field(default_factory=dict)
    servers: list[UbikServerInfo] = field(default_factory=list)
    sdebug_code: int = 0
    asked_servers: bool = False


def _db_dict(db) -> dict:
    d = {}
    for k in ("now", "lastYesTime", "lastYesHost", "lastYesState",
              "lastYesClaim", "lowestHost", "lowestTime", "syncHost",
              "syncTime", "amSyncSite", "syncSiteUntil", "nServers",
              "lockedPages", "writeLockedPages", "activeWrite", "tidCounter",
              "anyReadLocks", "anyWriteLocks", "recoveryState",
              "currentTrans", "writeTrans", "epochTime"):
        d[k] = getattr(db, k)
    d["syncVersion"] = (db.syncVersion.epoch, db.syncVersion.counter)
    d["syncTid"] = (db.syncTid.epoch, db.syncTid.counter)
    d["localVersion"] = (db.localVersion.epoch, db.localVersion.counter)
    d["interfaceAddr"] = list(getattr(db, "interfaceAddr", None) or [])
    return d


async def _code_of(aw):
    """Run one VOTE_ call: ``(0, result)`` or ``(code, None)``."""
    from ..errors import AFSError, DecodeError
    try:
        return 0, await aw
    except AFSError as e:
        return e.code, None
    except DecodeError:
        return RXGEN_CC_UNMARSHAL, None


async def ubik_debug(host4: bytes, port: int, long: bool = False, *,
                     endpoint=None, dead_time: float = RX_DEAD_TIME) -> UbikDebugInfo:
    """udebug's queries to the Ubik server at ``host4``:``port``."""
    from ..rpc import ubik as U
    from ..rx.endpoint import Endpoint

    info = UbikDebugInfo()
    own = endpoint is None
    ep = endpoint or await Endpoint.open("0.0.0.0", 0)
    try:
        conn = ep.connection((inet_ntoa(host4), port), VOTE_SERVICE_ID, None,
                             dead_time=dead_time)
        code, r = await _code_of(U.VOTE_XDebug(conn))
        if code == 0:
            db, info.is_clone = r.db, r.isClone
        else:
            code, db = await _code_of(U.VOTE_Debug(conn))
            if code == RXGEN_OPCODE:
                info.old_server = True
                code, db = await _code_of(U.VOTE_DebugOld(conn))
        info.local_now = int(time.time())
        if code:
            info.code = code
            return info
        info.db = _db_dict(db)
        if long or db.amSyncSite:
            info.asked_servers = True
            i = 0
            while True:
                code, r = await _code_of(U.VOTE_XSDebug(conn, i))
                clone = 0
                if code == 0:
                    sd, clone = r.db, r.isClone
                elif code < 0:
                    if info.old_server:
                        code, sd = await _code_of(U.VOTE_SDebugOld(conn, i))
                    else:
                        code, sd = await _code_of(U.VOTE_SDebug(conn, i))
                if code > 0:
                    break
                if code < 0:
                    info.sdebug_code = code
                    break
                info.servers.append(UbikServerInfo(
                    sd.addr, sd.lastVoteTime, sd.lastBeaconSent, sd.lastVote,
                    (sd.remoteVersion.epoch, sd.remoteVersion.counter),
                    sd.currentDB, sd.beaconSinceDown, sd.up,
                    list(getattr(sd, "altAddr", None) or []), clone))
                i += 1
        return info
    finally:
        if own:
            await ep.close()


def ubik_debug_sync(host4: bytes, port: int, long: bool = False) -> UbikDebugInfo:
    """:func:`ubik_debug` for callers without an event loop."""
    import asyncio
    return asyncio.run(ubik_debug(host4, port, long))

