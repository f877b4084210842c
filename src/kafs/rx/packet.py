"""Rx packet codecs: the 28-byte header, ACK/ABORT/BUSY bodies, jumbograms,
VERSION and DEBUG bodies.

Pure functions and tiny classes; no I/O.  Every decoder raises
:class:`kafs.errors.DecodeError` on bad input and nothing else.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from kafs.errors import DecodeError

# --- sizes (protocol-notes 1.1) ----------------------------------------
HEADER_SIZE = 28
MIN_PACKET_SIZE = 520
OLD_MAX_PACKET_SIZE = 1444
MAX_PACKET_SIZE = 16384
JUMBO_BUFFER_SIZE = 1412
JUMBO_HEADER_SIZE = 4
MAX_ACKS = 255
MAX_DGRAM_PACKETS = 6
MAX_CALLS = 4

# --- packet types (1.3) -------------------------------------------------
DATA = 1
ACK = 2
BUSY = 3
ABORT = 4
ACKALL = 5
CHALLENGE = 6
RESPONSE = 7
DEBUG = 8
PARAMS = 9
VERSION = 13
N_PACKET_TYPES = 13

TYPE_NAMES = {
    DATA: "data", ACK: "ack", BUSY: "busy", ABORT: "abort", ACKALL: "ackall",
    CHALLENGE: "challenge", RESPONSE: "response", DEBUG: "debug",
    PARAMS: "params", 10: "unused", 11: "unused", 12: "unused", VERSION: "version",
}

# --- flags (1.4) --------------------------------------------------------
CLIENT_INITIATED = 0x01
REQUEST_ACK = 0x02
LAST_PACKET = 0x04
MORE_PACKETS = 0x08
JUMBO_PACKET = 0x20
SLOW_START_OK = 0x20

# --- ACK reasons (1.7) --------------------------------------------------
ACK_REQUESTED = 1
ACK_DUPLICATE = 2
ACK_OUT_OF_SEQUENCE = 3
ACK_EXCEEDS_WINDOW = 4
ACK_NOSPACE = 5
ACK_PING = 6
ACK_PING_RESPONSE = 7
ACK_DELAY = 8
ACK_IDLE = 9

ACK_TYPE_NACK = 0
ACK_TYPE_ACK = 1

HEADER = struct.Struct("!IIIIIBBBBHH")
_U32 = struct.Struct("!I")
_I32 = struct.Struct("!i")
_ACK_HEAD = struct.Struct("!HHIIIBB")   # 18 bytes
_TRAILER = struct.Struct("!IIII")


class Header:
    """A decoded Rx header.  Mutable on purpose (the core rewrites fields)."""

    __slots__ = ("epoch", "cid", "call", "seq", "serial", "type", "flags",
                 "user_status", "security_index", "cksum", "service")

    def __init__(self, epoch=0, cid=0, call=0, seq=0, serial=0, type=0, flags=0,
                 user_status=0, security_index=0, cksum=0, service=0):
        self.epoch = epoch
        self.cid = cid
        self.call = call
        self.seq = seq
        self.serial = serial
        self.type = type
        self.flags = flags
        self.user_status = user_status
        self.security_index = security_index
        self.cksum = cksum
        self.service = service

    def encode(self) -> bytes:
        return HEADER.pack(self.epoch, self.cid, self.call, self.seq, self.serial,
                           self.type, self.flags, self.user_status,
                           self.security_index, self.cksum, self.service)

    def copy(self) -> "Header":
        return Header(self.epoch, self.cid, self.call, self.seq, self.serial,
                      self.type, self.flags, self.user_status,
                      self.security_index, self.cksum, self.service)

    def __eq__(self, other):
        return isinstance(other, Header) and all(
            getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __repr__(self):
        return ("Header(epoch=%#x, cid=%#x, call=%d, seq=%d, serial=%d, type=%s, "
                "flags=%#x, sec=%d, service=%d)" % (
                    self.epoch, self.cid, self.call, self.seq, self.serial,
                    TYPE_NAMES.get(self.type, self.type), self.flags,
                    self.security_index, self.service))


def decode_header(data) -> Header:
    if len(data) < HEADER_SIZE:
        raise DecodeError("short Rx packet (%d bytes)" % len(data))
    return Header(*HEADER.unpack_from(data, 0))


def encode_header(epoch, cid, call, seq, serial, type, flags, user_status=0,
                  security_index=0, cksum=0, service=0) -> bytes:
    return HEADER.pack(epoch, cid, call, seq, serial, type, flags, user_status,
                       security_index, cksum, service)


# --- ACK ----------------------------------------------------------------

class AckBody(NamedTuple):
    """An ACK packet's body (a record: decode_ack builds it whole)."""

    first_packet: int = 0
    previous_packet: int = 0
    serial: int = 0
    reason: int = 0
    acks: bytes = b""
    buffer_space: int = 0
    max_skew: int = 0
    # trailer words; None when absent
    max_mtu: int | None = None
    if_mtu: int | None = None
    rwind: int | None = None
    max_packets: int | None = None

    @property
    def trailer_words(self) -> int:
        n = 0
        for v in (self.max_mtu, self.if_mtu, self.rwind, self.max_packets):
            if v is None:
                break
            n += 1
        return n


def encode_ack(a: AckBody) -> bytes:
    n = len(a.acks)
    if n > MAX_ACKS:
        raise ValueError("too many acks")
    out = _ACK_HEAD.pack(a.buffer_space, a.max_skew, a.first_packet,
                         a.previous_packet, a.serial, a.reason, n) + bytes(a.acks) + b"\0\0\0"
    words = []
    for v in (a.max_mtu, a.if_mtu, a.rwind, a.max_packets):
        if v is None:
            break
        words.append(_U32.pack(v & 0xffffffff))
    return out + b"".join(words)


def decode_ack(body) -> AckBody:
    blen = len(body)
    if blen < 18:
        raise DecodeError("short ACK body (%d bytes)" % blen)
    bs, skew, first, prev, serial, reason, n = _ACK_HEAD.unpack_from(body, 0)
    if blen < 18 + n:
        raise DecodeError("ACK body truncated: nAcks %d, %d bytes" % (n, blen))
    acks = bytes(body[18:18 + n])
    # trailer: 3 pad bytes then up to four unaligned words (max_mtu, if_mtu,
    # rwind, max_packets); the absent ones stay None
    off = 18 + n + 3
    words = []
    while len(words) < 4 and off + 4 <= blen:
        words.append(_U32.unpack_from(body, off)[0])
        off += 4
    return AckBody(first, prev, serial, reason, acks, bs, skew, *words)


# --- ABORT / BUSY -------------------------------------------------------

def encode_abort(code: int) -> bytes:
    return _I32.pack(code)


def decode_abort(body) -> int:
    if len(body) < 4:
        raise DecodeError("short ABORT body")
    return _I32.unpack_from(body, 0)[0]


# --- jumbograms (1.8) ---------------------------------------------------

def split_jumbo(data, max_subpackets: int = 64):
    """Split a datagram into [(Header, payload memoryview), ...].

    Sub-packets after the first get their header rebuilt from the first
    one: seq+1, serial+1, userStatus 0, flags and checksum from the 4-byte
    jumbo header.  A datagram that is not a jumbogram gives one item.
    """
    h = decode_header(data)
    mv = memoryview(data)
    out = []
    off = HEADER_SIZE
    end = len(data)
    if h.type != DATA or not (h.flags & JUMBO_PACKET):
        return [(h, mv[off:])]
    while h.flags & JUMBO_PACKET:
        if len(out) + 1 >= max_subpackets:
            raise DecodeError("too many jumbogram sub-packets")
        if end - off < JUMBO_BUFFER_SIZE + JUMBO_HEADER_SIZE:
            raise DecodeError("truncated jumbogram")
        out.append((h, mv[off:off + JUMBO_BUFFER_SIZE]))
        off += JUMBO_BUFFER_SIZE
        w = _U32.unpack_from(data, off)[0]
        off += JUMBO_HEADER_SIZE
        h = Header(h.epoch, h.cid, h.call, (h.seq + 1) & 0xffffffff,
                   (h.serial + 1) & 0xffffffff, h.type, w >> 24, 0,
                   h.security_index, w & 0xffff, h.service)
    out.append((h, mv[off:]))
    return out


def build_jumbo(h: Header, payloads, flags_list, cksums=None) -> bytes:
    """Build one datagram from consecutive packets.

    ``h`` is the first sub-packet's header (its flags are replaced by
    flags_list[0]); every payload but the last must be exactly 1412 bytes.
    JUMBO_PACKET is set on every sub-packet but the last.
    """
    n = len(payloads)
    if n == 0 or n != len(flags_list):
        raise ValueError("bad jumbogram")
    parts = []
    for i, p in enumerate(payloads):
        fl = flags_list[i] & ~JUMBO_PACKET
        ck = cksums[i] if cksums else 0
        if i < n - 1:
            if len(p) != JUMBO_BUFFER_SIZE:
                raise ValueError("jumbogram sub-packet must be 1412 bytes")
            fl |= JUMBO_PACKET
        if i == 0:
            parts.append(HEADER.pack(h.epoch, h.cid, h.call, h.seq, h.serial,
                                     h.type, fl, h.user_status,
                                     h.security_index, ck, h.service))
        else:
            parts.append(_U32.pack((fl << 24) | (ck & 0xffff)))
        parts.append(p)
    return b"".join(parts)


# --- VERSION (1.11) ------------------------------------------------------

VERSION_BODY_SIZE = 65


def encode_version_reply(text: str) -> bytes:
    b = text.encode("ascii", "replace")[:VERSION_BODY_SIZE - 1]
    return b + b"\0" * (VERSION_BODY_SIZE - len(b))


def decode_version_reply(body) -> str:
    b = bytes(body[:VERSION_BODY_SIZE])
    return b.split(b"\0", 1)[0].decode("ascii", "replace")


# --- DEBUG (1.12) -------------------------------------------------------

DEBUGI_GETSTATS = 1
DEBUGI_GETCONN = 2
DEBUGI_GETALLCONN = 3
DEBUGI_RXSTATS = 4
DEBUGI_GETPEER = 5
DEBUGI_BADTYPE = -8
DEBUGI_VERSION = ord("S")

_DEBUG_REQ = struct.Struct("!ii")


def encode_debug_request(type: int, index: int) -> bytes:
    return _DEBUG_REQ.pack(type, index)


def decode_debug_request(body) -> tuple[int, int]:
    if len(body) < 8:
        raise DecodeError("short DEBUG request")
    return _DEBUG_REQ.unpack_from(body, 0)


_DEBUG_TYPES = ("DebugStats", "DebugConn", "DebugPeer")


def __getattr__(name):
    if name in _DEBUG_TYPES:                 # kafs.rx.debugrec, loaded on first use
        from . import debugrec
        return getattr(debugrec, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _clamp16s(v):
    return max(-32768, min(32767, v))


RXSTATS_FIELDS = (
    ["packetRequests", "receivePktAllocFailures", "sendPktAllocFailures",
     "specialPktAllocFailures", "socketGreedy", "bogusPacketOnRead", "bogusHost",
     "noPacketOnRead", "noPacketBuffersOnRead", "selects", "sendSelects"]
    + ["packetsRead_%d" % i for i in range(1, 14)]
    + ["dataPacketsRead", "ackPacketsRead", "dupPacketsRead", "spuriousPacketsRead"]
    + ["packetsSent_%d" % i for i in range(1, 14)]
    + ["ackPacketsSent", "pingPacketsSent", "abortPacketsSent", "busyPacketsSent",
       "dataPacketsSent", "dataPacketsReSent", "dataPacketsPushed",
       "ignoreAckedPacket", "totalRtt_sec", "totalRtt_usec", "minRtt_sec",
       "minRtt_usec", "maxRtt_sec", "maxRtt_usec", "nRttSamples", "nServerConns",
       "nClientConns", "nPeerStructs", "nCallStructs", "nFreeCallStructs",
       "netSendFailures", "fatalErrors", "ignorePacketDally",
       "receiveCbufPktAllocFailures", "sendCbufPktAllocFailures", "nBusies",
       "spare1", "spare2", "spare3", "spare4"]
)
assert len(RXSTATS_FIELDS) == 71
RXSTATS_SIZE = 284
_RXSTATS = struct.Struct("!71i")


def encode_rxstats(values: dict) -> bytes:
    return _RXSTATS.pack(*(_clamp32s(values.get(k, 0)) for k in RXSTATS_FIELDS))


def decode_rxstats(body) -> dict:
    if len(body) < RXSTATS_SIZE:
        raise DecodeError("short rx_statistics (%d bytes)" % len(body))
    return dict(zip(RXSTATS_FIELDS, _RXSTATS.unpack_from(body, 0)))


def _clamp32s(v):
    v = int(v) & 0xffffffff
    return v - (1 << 32) if v & 0x80000000 else v
