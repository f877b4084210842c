"""VERSION and DEBUG packets (rxdebug): answering them from a core's state.

``answer(core, ptype, datagram, addr)`` returns the reply body (or None to
stay silent).  No I/O here; the endpoint has the client side
(``Endpoint.rx_version`` / ``Endpoint.rx_debug``).
"""

from __future__ import annotations

import ipaddress
import socket
import struct

from . import packet as P

_SEC_NULL = 1


def _host_bytes(host: str) -> bytes:
    """4-byte network-order address (IPv6 peers: the mapped v4 or zeros)."""
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return b"\0\0\0\0"
    if ip.version == 4:
        return ip.packed
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.packed
    return ip.packed[-4:]


def _debug_stats(core) -> bytes:
    calls = core.all_calls()
    return P.DebugStats(
        n_free_packets=0, packet_reclaims=0,
        calls_executed=core.stats["callsExecuted"],
        waiting_for_packets=0, used_fds=1, version=P.DEBUGI_VERSION,
        n_waiting=sum(1 for c in calls if c.held and not c.done),
        idle_threads=0, n_waited=0,
        n_packets=0).encode()


def _conn_record(conn) -> bytes:
    nums = []
    states = []
    modes = []
    flags = []
    other = []
    for i in range(P.MAX_CALLS):
        c = conn.channels[i]
        nums.append(conn.call_numbers[i] & 0xffffffff)
        if c is None:
            states.append(0)
            modes.append(0)
            flags.append(0)
            other.append(0)
        else:
            states.append(c.state if not (c.done and c.state == 2) else 3)
            modes.append(c.mode)
            flags.append(0)
            other.append((2 if c.rx_q else 0) | (4 if c.tx_q else 0))
    sec = conn.security
    try:
        st = sec.stats(conn) or {}
    except Exception:
        st = {}
    r = P.DebugConn(
        host=_host_bytes(conn.peer.host), cid=conn.cid, serial=conn.serial,
        call_numbers=tuple(nums),
        error=conn.error.code if conn.error is not None else 0,
        port=conn.peer.port & 0xffff,
        flags=0, type=0 if conn.is_client else 1,
        security_index=sec.index & 0xff,
        call_state=tuple(states), call_mode=tuple(modes),
        call_flags=tuple(flags), call_other=tuple(other),
        sec_type=st.get("type", 0) & 0xff, sec_level=st.get("level", 0) & 0xff,
        sec_flags=st.get("flags", 0), sec_expires=st.get("expires", 0) & 0xffffffff,
        sec_packets_received=conn.packets_received & 0xffffffff,
        sec_packets_sent=conn.packets_sent & 0xffffffff,
        sec_bytes_received=conn.bytes_received & 0xffffffff,
        sec_bytes_sent=conn.bytes_sent & 0xffffffff,
        epoch=conn.epoch, nat_mtu=conn.peer.max_mtu)
    return r.encode()


def _peer_record(peer) -> bytes:
    rtt_ms = int((peer.srtt or 0) * 1000)
    return P.DebugPeer(
        host=_host_bytes(peer.host), port=peer.port, if_mtu=peer.our_if_mtu,
        idle_when=0, ref_count=peer.nconns, burst_size=0, burst=0,
        rtt=rtt_ms * 8, rtt_dev=int(peer.rttvar * 1000) * 4,
        timeout=(int(peer.rto), int((peer.rto % 1) * 1e6)),
        n_sent=peer.n_sent & 0x7fffffff, resends=peer.resends & 0x7fffffff,
        nat_mtu=peer.if_mtu, max_mtu=peer.max_mtu,
        max_dgram_packets=peer.max_packets, if_dgram_packets=peer.our_dgram,
        mtu=min(peer.max_mtu, peer.if_mtu), cwind=peer.cwind,
        n_dgram_packets=peer.n_dgram, congest_seq=peer.congest_seq,
        bytes_sent=(peer.bytes_sent >> 32, peer.bytes_sent),
        bytes_received=(peer.bytes_received >> 32, peer.bytes_received)).encode()


def rxstats_values(core) -> dict:
    v = {k: 0 for k in P.RXSTATS_FIELDS}
    v.update(core.stats)
    v["nClientConns"] = len(core.client_conns)
    v["nServerConns"] = len(core.server_conns)
    v["nPeerStructs"] = len(core.peers)
    v["nCallStructs"] = len(core.all_calls())
    tot = core.rtt_total
    v["totalRtt_sec"] = int(tot)
    v["totalRtt_usec"] = int((tot % 1) * 1e6)
    mn = core.rtt_min or 0.0
    v["minRtt_sec"] = int(mn)
    v["minRtt_usec"] = int((mn % 1) * 1e6)
    v["maxRtt_sec"] = int(core.rtt_max)
    v["maxRtt_usec"] = int((core.rtt_max % 1) * 1e6)
    return v


def answer(core, ptype, data, addr):
    if ptype == P.VERSION:
        return P.encode_version_reply(core.version_string)
    try:
        typ, index = P.decode_debug_request(memoryview(data)[P.HEADER_SIZE:])
    except Exception:
        return None
    if typ == P.DEBUGI_GETSTATS:
        return _debug_stats(core)
    if typ in (P.DEBUGI_GETCONN, P.DEBUGI_GETALLCONN):
        conns = core.all_connections()
        if typ == P.DEBUGI_GETCONN:
            conns = [c for c in conns if c.active_calls() or c.error is not None]
        if 0 <= index < len(conns):
            return _conn_record(conns[index])
        return P.DebugConn.end_marker()
    if typ == P.DEBUGI_RXSTATS:
        return P.encode_rxstats(rxstats_values(core))
    if typ == P.DEBUGI_GETPEER:
        peers = list(core.peers.values())
        if 0 <= index < len(peers):
            return _peer_record(peers[index])
        return P.DebugPeer.end_marker()
    return struct.pack("!ii", P.DEBUGI_BADTYPE, P.DEBUGI_BADTYPE)
