"""The records of Rx debug packets (what ``rxdebug`` asks for): statistics,
connections and peers, with their wire encodings.

Only rxdebug and our endpoint's debug service use them, so
:mod:`kafs.rx.packet` makes them available (``packet.DebugStats`` ...) by
importing this module on first use, not at every tool's start-up.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import DecodeError
from .packet import DEBUGI_VERSION, _clamp16s


@dataclass(slots=True)
class DebugStats:
    n_free_packets: int = 0
    packet_reclaims: int = 0
    calls_executed: int = 0
    waiting_for_packets: int = 0
    used_fds: int = 0
    version: int = DEBUGI_VERSION
    n_waiting: int = 0
    idle_threads: int = 0
    n_waited: int = 0
    n_packets: int = 0

    SIZE = 56
    _S = struct.Struct("!iiiBBBBiiii24x")

    def encode(self) -> bytes:
        return self._S.pack(self.n_free_packets, self.packet_reclaims,
                            self.calls_executed, self.waiting_for_packets & 0xff,
                            self.used_fds & 0xff, self.version & 0xff, 0,
                            self.n_waiting, self.idle_threads, self.n_waited,
                            self.n_packets)

    @classmethod
    def decode(cls, body) -> "DebugStats":
        if len(body) < 16:
            raise DecodeError("short rx_debugStats")
        body = bytes(body[:56]).ljust(56, b"\0")
        (nf, pr, ce, wfp, ufd, ver, _sp, nw, it, nwd, np_) = cls._S.unpack(body)
        return cls(nf, pr, ce, wfp, ufd, ver, nw, it, nwd, np_)


@dataclass(slots=True)
class DebugConn:
    host: bytes = b"\0\0\0\0"        # 4 bytes, network order
    cid: int = 0
    serial: int = 0
    call_numbers: tuple = (0, 0, 0, 0)
    error: int = 0
    port: int = 0
    flags: int = 0
    type: int = 0                     # 0 client, 1 server
    security_index: int = 0
    call_state: tuple = (0, 0, 0, 0)
    call_mode: tuple = (0, 0, 0, 0)
    call_flags: tuple = (0, 0, 0, 0)
    call_other: tuple = (0, 0, 0, 0)
    sec_type: int = 0
    sec_level: int = 0
    sec_flags: int = 0
    sec_expires: int = 0
    sec_packets_received: int = 0
    sec_packets_sent: int = 0
    sec_bytes_received: int = 0
    sec_bytes_sent: int = 0
    epoch: int = 0
    nat_mtu: int = 0

    SIZE = 176
    _S = struct.Struct("!4sI I 4I i H B B B 3x 4B 4B 4B 4B"
                       " B B 10x i I I I I I 8x 32x"
                       " I I 36x")
    END_CID = 0xffffffff

    def encode(self) -> bytes:
        return self._S.pack(self.host, self.cid, self.serial, *self.call_numbers,
                            self.error, self.port, self.flags, self.type,
                            self.security_index, *self.call_state, *self.call_mode,
                            *self.call_flags, *self.call_other, self.sec_type,
                            self.sec_level, self.sec_flags, self.sec_expires,
                            self.sec_packets_received, self.sec_packets_sent,
                            self.sec_bytes_received, self.sec_bytes_sent,
                            self.epoch, self.nat_mtu)

    @classmethod
    def decode(cls, body) -> "DebugConn":
        if len(body) < cls.SIZE:
            raise DecodeError("short rx_debugConn (%d bytes)" % len(body))
        v = cls._S.unpack_from(body, 0)
        return cls(v[0], v[1], v[2], tuple(v[3:7]), v[7], v[8], v[9], v[10], v[11],
                   tuple(v[12:16]), tuple(v[16:20]), tuple(v[20:24]),
                   tuple(v[24:28]), v[28], v[29], v[30], v[31], v[32], v[33],
                   v[34], v[35], v[36], v[37])

    @classmethod
    def end_marker(cls) -> bytes:
        return cls(cid=cls.END_CID).encode()


@dataclass(slots=True)
class DebugPeer:
    host: bytes = b"\0\0\0\0"
    port: int = 0
    if_mtu: int = 0
    idle_when: int = 0
    ref_count: int = 0
    burst_size: int = 0
    burst: int = 0
    burst_wait: tuple = (0, 0)
    rtt: int = 0
    rtt_dev: int = 0
    timeout: tuple = (0, 0)
    n_sent: int = 0
    resends: int = 0
    in_packet_skew: int = 0
    out_packet_skew: int = 0
    rate_flag: int = 0
    nat_mtu: int = 0
    max_mtu: int = 0
    max_dgram_packets: int = 0
    if_dgram_packets: int = 0
    mtu: int = 0
    cwind: int = 0
    n_dgram_packets: int = 0
    congest_seq: int = 0
    bytes_sent: tuple = (0, 0)
    bytes_received: tuple = (0, 0)

    SIZE = 132
    _S = struct.Struct("!4s H H I h B B 2i i i 2i i i i i i"
                       " H H H H H H H H 2I 2I 40x")
    END_HOST = b"\xff\xff\xff\xff"

    def encode(self) -> bytes:
        return self._S.pack(self.host, self.port & 0xffff, self.if_mtu & 0xffff,
                            self.idle_when, _clamp16s(self.ref_count),
                            self.burst_size & 0xff, self.burst & 0xff,
                            *self.burst_wait, self.rtt, self.rtt_dev, *self.timeout,
                            self.n_sent, self.resends, self.in_packet_skew,
                            self.out_packet_skew, self.rate_flag,
                            self.nat_mtu & 0xffff, self.max_mtu & 0xffff,
                            self.max_dgram_packets & 0xffff,
                            self.if_dgram_packets & 0xffff, self.mtu & 0xffff,
                            self.cwind & 0xffff, self.n_dgram_packets & 0xffff,
                            self.congest_seq & 0xffff,
                            *(x & 0xffffffff for x in self.bytes_sent),
                            *(x & 0xffffffff for x in self.bytes_received))

    @classmethod
    def decode(cls, body) -> "DebugPeer":
        if len(body) < cls.SIZE:
            raise DecodeError("short rx_debugPeer (%d bytes)" % len(body))
        v = cls._S.unpack_from(body, 0)
        return cls(v[0], v[1], v[2], v[3], v[4], v[5], v[6], (v[7], v[8]), v[9],
                   v[10], (v[11], v[12]), v[13], v[14], v[15], v[16], v[17], v[18],
                   v[19], v[20], v[21], v[22], v[23], v[24], v[25], (v[26], v[27]),
                   (v[28], v[29]))

    @classmethod
    def end_marker(cls) -> bytes:
        return cls(host=cls.END_HOST).encode()
