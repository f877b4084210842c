"""The rows of an endpoint's call, connection and peer tables
(:meth:`kafs.rx.endpoint.Endpoint.calls`, ``connections``, ``peers``): the
analogue of /proc/net/rxrpc_calls and rxrpc_conns.  Loaded when a table is
first asked for, not at every tool's start-up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CallInfo:
    side: str            # "client" / "server"
    peer: tuple
    service_id: int
    epoch: int
    cid: int
    channel: int
    call_number: int
    state: str
    security_index: int
    tx_seq: int
    tx_acked: int
    rx_seq: int
    rx_last: int
    error: int
    age: float


@dataclass
class ConnInfo:
    side: str
    peer: tuple
    service_id: int
    epoch: int
    cid: int
    security_index: int
    authenticated: bool
    call_numbers: tuple
    active_calls: int
    serial: int
    packets_sent: int
    packets_received: int
    error: int
    idle: float


@dataclass
class PeerInfo:
    peer: tuple
    srtt_ms: float
    rttvar_ms: float
    rto_ms: float
    cwind: int
    max_mtu: int
    if_mtu: int
    max_packets: int
    connections: int
    packets_sent: int
    resends: int
    bytes_sent: int
    bytes_received: int
