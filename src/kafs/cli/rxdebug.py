"""rxdebug: probe an Rx server with VERSION and DEBUG packets, printing
exactly what OpenAFS 1.8.9's ``rxdebug`` prints.

Behaviour taken from OpenAFS (facts, not code):

* host: ``hostutil_GetHostByName`` (see :func:`kafs.api.debug.resolve_host`);
  not found: ``rxdebug: host X not found in host table`` on stdout, exit 1.
* ports (``-port``, ``-onlyport``): digits are taken modulo 65536, else a
  service name from /etc/services; a value that ends up as 65535 is
  rejected like an unknown name (the C code mistakes it for its -1 error
  value): ``rxdebug: can't resolve port name X`` on stdout, exit 1.
* ``-onlyauth``: clear, auth, crypt, null/none/noauth*/unauth*; anything
  else: ``Unknown authentication level: X`` on stderr, exit 1.
* each query waits 1+2+4+8+16 s for an answer; no answer to VERSION:
  ``get version call failed with code -1, errno N``, to GETSTATS:
  ``getstats call failed with code -1``, to RXSTATS ``rxstats call failed
  with code -1`` (all exit 1); to GETCONN/GETPEER a line and the list ends.
* parse errors and ``-help`` exit 0 (the C main ignores cmd_Dispatch's code).

``-json`` (kafs extension) prints the gathered data as one JSON document.
"""

from __future__ import annotations

import socket
import sys
import time
from dataclasses import dataclass, field

from kafs.api.debug import (
    RxConn, RxDebugClient, RxDebugStats, RxPeer, SERVER_DEBUG_ALL_CONN,
    SERVER_DEBUG_ALL_PEER, SERVER_DEBUG_IDLE_THREADS, SERVER_DEBUG_PACKETS_CNT,
    SERVER_DEBUG_RX_STATS, SERVER_DEBUG_SEC_STATS, SERVER_DEBUG_WAITED_CNT,
    SERVER_DEBUG_WAITER_CNT, inet_ntoa, resolve_host,
)
from kafs.cli.cmd import CMD_EXCESSPARMS, Suite

# --------------------------------------------------------------------------
# The tool: a Suite without subcommands, and its entry point
# --------------------------------------------------------------------------


class ToolSuite(Suite):
    """A single-command tool whose ``main`` ends with ``exit(0)`` after
    ``cmd_Dispatch``: parse errors exit 0; the command itself exits with
    its own status (rxdebug/udebug call ``exit(1)`` on their errors)."""

    __slots__ = ()

    def exit_status(self, code: int) -> int:
        if code >= CMD_EXCESSPARMS:
            return 0
        return code & 0xff


def load_tool(name: str) -> ToolSuite:
    from kafs.cli.suites import AFS_VERSION, JSON_PARAM
    mod = __import__("kafs.cli.suites." + name, fromlist=["COMMANDS"])
    return ToolSuite(name, mod.COMMANDS, AFS_VERSION, "code", single=True,
                     extra_params=(JSON_PARAM,))


def tool_main(name: str, argv: list[str] | None = None,
              prog: str | None = None, out=None, err=None) -> int:
    """Run the tool ``name`` (rxdebug, udebug) and return its exit status."""
    from kafs.cli import main as M
    if argv is None:
        M._setup_streams()
        argv = sys.argv[1:]
        prog = prog or M.prog_name(sys.argv[0], name)
    prog = prog or name
    runner = M.Runner(load_tool(name), prog, out=out, err=err)
    try:
        status = runner.main([prog] + list(argv))
    except KeyboardInterrupt:
        if M._debug():
            raise
        return 130
    except BrokenPipeError:
        status = 1
    return M._exit(status)


def main() -> int:
    return tool_main("rxdebug")


# --------------------------------------------------------------------------
# Argument conversions, as rxdebug.c does them
# --------------------------------------------------------------------------

def port_number(text: str) -> int | None:
    """rxdebug's PortNumber: decimal digits only, modulo 65536."""
    total = 0
    for ch in text:
        if not "0" <= ch <= "9":
            return None
        total = (total * 10 + ord(ch) - 48) & 0xffff
    return total


def port_name(text: str) -> int | None:
    try:
        return socket.getservbyname(text)
    except (OSError, UnicodeError, ValueError):
        return None


def resolve_port(text: str) -> int | None:
    """A port number from a number or a service name, or None.  65535
    counts as a failure (``htons(65535)`` is the C code's -1)."""
    p = port_number(text)
    if p is None or p == 0xffff:
        p = port_name(text)
    if p is None or p == 0xffff:
        return None
    return p


AUTH_NAMES = ("unauthenticated", "rxkad_clear", "rxkad_auth", "rxkad_crypt")


def auth_level(text: str) -> int | None:
    if text == "clear":
        return 0
    if text == "auth":
        return 1
    if text == "crypt":
        return 2
    if text in ("null", "none") or text.startswith(("noauth", "unauth")):
        return -1
    return None


# --------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------

@dataclass
class RxDebugResult:
    """What one rxdebug run found, in the order it prints it.

    ``fatal`` is a message printed before any query (``(stream, text)``);
    ``status`` the exit status.  Connections and peers are those left
    after the client-side filters."""
    host: str = ""
    port: int = 0
    status: int = 0
    fatal: tuple[str, str] | None = None
    version: str | None = None
    version_failed: tuple[int, int] | None = None       # (code, errno)
    stats: RxDebugStats | None = None
    stats_failed: int | None = None
    rxstats_wanted: bool = False
    rxstats_unsupported: bool = False
    rxstats_size: int | None = None
    rxstats: dict | None = None
    rxstats_failed: int | None = None
    show_conns: bool = False
    all_conns_unsupported: bool = False
    only_server: bool = False
    only_client: bool = False
    only_auth: int | None = None
    only_host: str | None = None
    only_port: int | None = None
    conns: list[RxConn] = field(default_factory=list)
    conn_times: list[int] = field(default_factory=list)
    conns_failed: int | None = None
    nodally: bool = False
    dally_skipped: int = 0
    show_peers: bool = False
    long: bool = False
    peers: list[RxPeer] = field(default_factory=list)
    peers_failed: int | None = None


def run(args) -> RxDebugResult:
    return probe(args)


def probe(args, client: RxDebugClient | None = None) -> RxDebugResult:
    r = RxDebugResult()
    r.nodally = bool(args.nodally)
    allconns = bool(args.allconnections)
    r.long = bool(args.long)

    only_port = None
    if args.onlyport is not None:
        only_port = resolve_port(args.onlyport)
        if only_port is None:
            return _fatal(r, "rxdebug: can't resolve port name %s\n" % args.onlyport)
    only_host4 = None
    if args.onlyhost is not None:
        only_host4 = resolve_host(args.onlyhost)
        if only_host4 is None:
            return _fatal(r, "rxdebug: host %s not found in host table\n"
                          % args.onlyhost)
        if only_host4 == b"\xff\xff\xff\xff":      # the C code's "not set"
            only_host4 = None
    only_auth = None
    if args.onlyauth is not None:
        only_auth = auth_level(args.onlyauth)
        if only_auth is None:
            return _fatal(r, "Unknown authentication level: %s\n" % args.onlyauth,
                          "stderr")
    host4 = resolve_host(args.servers)
    if host4 is None:
        return _fatal(r, "rxdebug: host %s not found in host table\n" % args.servers)
    if args.port is None:
        port = 7000
    else:
        port = resolve_port(args.port)
        if port is None:
            return _fatal(r, "rxdebug: can't resolve port name %s\n" % args.port)
    r.host = inet_ntoa(host4)
    r.port = port

    own = client is None
    client = client or RxDebugClient()
    try:
        if args.version:
            v = client.version(host4, port)
            if v is None:
                r.version_failed = (-1, client.errno)
                r.status = 1
            else:
                r.version = v
            return r
        st = client.stats(host4, port)
        if st is None:
            r.stats_failed = -1
            r.status = 1
            return r
        r.stats = st
        sup = st.supported
        if args.rxstats:
            r.rxstats_wanted = True
            if not sup & SERVER_DEBUG_RX_STATS:
                r.rxstats_unsupported = True
            else:
                got = client.rxstats(host4, port)
                if got is None:
                    r.rxstats_failed = -1
                    r.status = 1
                    return r
                size, values = got
                if size != 284 and values["packetRequests"] == -8:
                    r.rxstats_unsupported = True   # RX_DEBUGI_BADTYPE
                else:
                    r.rxstats_size = size
                    r.rxstats = values
        if not args.noconns:
            r.show_conns = True
            r.all_conns_unsupported = allconns and not sup & SERVER_DEBUG_ALL_CONN
            r.only_server = bool(args.onlyserver)
            r.only_client = bool(args.onlyclient)
            r.only_auth = only_auth
            r.only_host = inet_ntoa(only_host4) if only_host4 else None
            r.only_port = only_port
            index = 0
            while True:
                c = client.conn(host4, port, index, allconns)
                if c is None:
                    r.conns_failed = -1
                    break
                index += 1
                if c.cid == 0xffffffff:
                    break
                if r.nodally and all(s in (0, 3) for s in c.call_state):
                    r.dally_skipped += 1
                    continue
                if only_host4 is not None and c.host4 != only_host4:
                    continue
                if only_port is not None and c.port != only_port:
                    continue
                if r.only_server and c.type != 1:
                    continue
                if r.only_client and c.type != 0:
                    continue
                if only_auth is not None:
                    if only_auth == -1:
                        if c.security_index != 0:
                            continue
                    else:
                        if c.security_index != 2:
                            continue
                        if sup & SERVER_DEBUG_SEC_STATS and c.sec_type == 3 \
                                and c.sec_level != only_auth:
                            continue
                r.conns.append(c)
                r.conn_times.append(int(time.time()))
        if args.peers and sup & SERVER_DEBUG_ALL_PEER:
            r.show_peers = True
            index = 0
            while True:
                p = client.peer(host4, port, index)
                if p is None:
                    r.peers_failed = -1
                    break
                index += 1
                if p.host4 == b"\xff\xff\xff\xff":
                    break
                if only_host4 is not None and p.host4 != only_host4:
                    continue
                if only_port is not None and p.port != only_port:
                    continue
                r.peers.append(p)
        return r
    finally:
        if own:
            client.close()


def _fatal(r: RxDebugResult, text: str, stream: str = "stdout") -> RxDebugResult:
    r.fatal = (stream, text)
    r.status = 1
    return r


def exit_code(r: RxDebugResult) -> int:
    return r.status


# --------------------------------------------------------------------------
# Text output (OpenAFS's printf formats)
# --------------------------------------------------------------------------

PACKET_TYPES = ("data", "ack", "busy", "abort", "ackall", "challenge",
                "response", "debug", "params", "unused", "unused", "unused",
                "version")

_CONN_FLAGS = ((1, " MAKECALL_WAITING"), (2, " DESTROYED"), (4, " pktCksum"),
               (8, " knowWindow"), (16, " reset"), (32, " busy"),
               (64, " attachWait"))
_CALL_FLAGS = ((1, " reader_wait"), (2, " window_alloc"), (4, " window_send"),
               (8, " wait_packets"), (16, " waiting_for_process"),
               (32, " receive_done"), (64, " call_cleared"))
_STATES = {1: "precall, ", 2: "active, ", 3: "dally, ", 4: "hold, ",
           5: "reset, "}
_MODES = {1: "sending", 2: "receiving", 3: "error", 4: "eof"}


def _u32(v: int) -> int:
    return v & 0xffffffff


def _cfloat(sec: int, usec: int) -> float:
    return sec + usec / 1e6


def format_rxstats(s: dict, free_packets: int, version: int) -> str:
    """rx_PrintTheseStats."""
    u = lambda k: _u32(s[k])  # noqa: E731
    o = ["rx stats: free packets %d, allocs %d, " % (free_packets,
                                                      s["packetRequests"])]
    if version >= ord("P"):
        o.append("alloc-failures(rcv %u/%u,send %u/%u,ack %u)\n" % (
            u("receivePktAllocFailures"), u("receiveCbufPktAllocFailures"),
            u("sendPktAllocFailures"), u("sendCbufPktAllocFailures"),
            u("specialPktAllocFailures")))
    else:
        o.append("alloc-failures(rcv %u,send %u,ack %u)\n" % (
            u("receivePktAllocFailures"), u("sendPktAllocFailures"),
            u("specialPktAllocFailures")))
    o.append("   greedy %u, bogusReads %u (last from host %x), noPackets %u, "
             "noBuffers %u, selects %u, sendSelects %u\n" % (
                 u("socketGreedy"), u("bogusPacketOnRead"), u("bogusHost"),
                 u("noPacketOnRead"), u("noPacketBuffersOnRead"), u("selects"),
                 u("sendSelects")))
    o.append("   packets read: ")
    for i, name in enumerate(PACKET_TYPES):
        o.append("%s %u " % (name, u("packetsRead_%d" % (i + 1))))
    o.append("\n")
    o.append("   other read counters: data %u, ack %u, dup %u spurious %u "
             "dally %u\n" % (u("dataPacketsRead"), u("ackPacketsRead"),
                             u("dupPacketsRead"), u("spuriousPacketsRead"),
                             u("ignorePacketDally")))
    o.append("   packets sent: ")
    for i, name in enumerate(PACKET_TYPES):
        o.append("%s %u " % (name, u("packetsSent_%d" % (i + 1))))
    o.append("\n")
    o.append("   other send counters: ack %u, data %u (not resends), "
             "resends %u, pushed %u, acked&ignored %u\n" % (
                 u("ackPacketsSent"), u("dataPacketsSent"),
                 u("dataPacketsReSent"), u("dataPacketsPushed"),
                 u("ignoreAckedPacket")))
    o.append("   \t(these should be small) sendFailed %u, fatalErrors %u\n"
             % (u("netSendFailures"), _u32(s["fatalErrors"])))
    n = s["nRttSamples"]
    if n:
        total = _cfloat(s["totalRtt_sec"], s["totalRtt_usec"])
        o.append("   Average rtt is %0.3f, with %d samples\n" % (total / n, n))
        o.append("   Minimum rtt is %0.3f, maximum is %0.3f\n" % (
            _cfloat(s["minRtt_sec"], s["minRtt_usec"]),
            _cfloat(s["maxRtt_sec"], s["maxRtt_usec"])))
    o.append("   %d server connections, %d client connections, %d peer structs, "
             "%d call structs, %d free call structs\n" % (
                 s["nServerConns"], s["nClientConns"], s["nPeerStructs"],
                 s["nCallStructs"], s["nFreeCallStructs"]))
    return "".join(o)


def format_conn(c: RxConn, with_sec_stats: bool, now: int) -> str:
    o = ["Connection from host %s, port %u, " % (c.host, c.port)]
    if c.epoch:
        o.append("Cuid %x/%x" % (_u32(c.epoch), _u32(c.cid)))
    else:
        o.append("cid %x" % _u32(c.cid))
    if c.error:
        o.append(", error %d" % c.error)
    o.append("\n  serial %d, " % c.serial)
    o.append(" natMTU %d, " % c.nat_mtu)
    if c.flags:
        o.append("flags")
        for bit, text in _CONN_FLAGS:
            if c.flags & bit:
                o.append(text)
        o.append(", ")
    o.append("security index %d, " % c.security_index)
    o.append("client conn\n" if c.type == 0 else "server conn\n")
    if with_sec_stats:
        t = c.sec_type
        if t == 0:
            if c.security_index == 2:
                o.append("  no GetStats procedure for security object\n")
        elif t == 1:
            o.append("  rxnull level=%d, flags=%d\n" % (c.sec_level, c.sec_flags))
        elif t == 2:
            o.append("  rxvab level=%d, flags=%d\n" % (c.sec_level, c.sec_flags))
        elif t == 3:
            level = {0: "clear", 1: "auth", 2: "crypt"}.get(c.sec_level, "unknown")
            flags = c.sec_flags & 0xff
            if flags & 0x80:
                flags -= 256                  # C: char flags = ...
            o.append("  rxkad: level %s" % level)
            if flags:
                o.append(", flags")
            if flags & 1:
                o.append(" unalloc")
            if flags & 2:
                o.append(" authenticated")
            if flags & 4:
                o.append(" expired")
            if flags & 8:
                o.append(" pktCksum")
            if c.sec_expires:
                o.append(", expires in %.1f hours"
                         % ((_u32(c.sec_expires) - now) / 3600.0))
            if not flags & 1:
                o.append("\n  Received %u bytes in %u packets\n" % (
                    c.sec_bytes_received, c.sec_packets_received))
                o.append("  Sent %u bytes in %u packets\n" % (
                    c.sec_bytes_sent, c.sec_packets_sent))
            else:
                o.append("\n")
        else:
            o.append("  unknown\n")
    for j in range(4):
        o.append("    call %d: # %d, state " % (j, c.call_numbers[j]))
        st = c.call_state[j]
        if st == 0:
            o.append("not initialized\n")
            continue
        o.append(_STATES.get(st, ""))
        o.append("mode: ")
        o.append(_MODES.get(c.call_mode[j], "unknown"))
        if c.call_flags[j]:
            o.append(", flags:")
            for bit, text in _CALL_FLAGS:
                if c.call_flags[j] & bit:
                    o.append(text)
        if c.call_other[j] & 1:
            o.append(", has_input_packets")
        if c.call_other[j] & 2:
            o.append(", has_output_packets")
        o.append("\n")
    return "".join(o)


def format_peer(p: RxPeer, long: bool) -> str:
    o = ["Peer at host %s, port %u\n" % (p.host, p.port),
         "\tifMTU %u\tnatMTU %u\tmaxMTU %u\n" % (p.if_mtu, p.nat_mtu, p.max_mtu),
         "\tpackets sent %u\tpacket resends %u\n" % (_u32(p.n_sent),
                                                     _u32(p.resends)),
         "\tbytes sent high %u low %u\n" % p.bytes_sent,
         "\tbytes received high %u low %u\n" % p.bytes_received,
         "\trtt %u msec, rtt_dev %u msec\n" % (_u32(p.rtt >> 3),
                                              _u32(p.rtt_dev >> 2)),
         # rx_GetServerPeers zeroes the timeout before rxdebug prints it
         "\ttimeout %u.%03u sec\n" % (0, 0)]
    if long:
        o.append("\tin/out packet skew: %d/%d\n" % (p.in_packet_skew,
                                                    p.out_packet_skew))
        o.append("\tcongestion window %d, MTU %d\n" % (p.cwind, p.mtu))
        o.append("\tcurrent/if/max jumbogram size: %d/%d/%d\n" % (
            p.n_dgram_packets, p.if_dgram_packets, p.max_dgram_packets))
    return "".join(o)


def format_result(r: RxDebugResult) -> tuple[str, str]:
    """``(stdout, stderr)`` text of a result."""
    out: list[str] = []
    err: list[str] = []
    if r.fatal is not None:
        (err if r.fatal[0] == "stderr" else out).append(r.fatal[1])
        return "".join(out), "".join(err)
    out.append("Trying %s (port %d):\n" % (r.host, r.port))
    if r.version_failed is not None:
        out.append("get version call failed with code %d, errno %d\n"
                   % r.version_failed)
    if r.version is not None:
        out.append("AFS version: %s\n" % r.version)
    if r.stats_failed is not None:
        out.append("getstats call failed with code %d\n" % r.stats_failed)
    st = r.stats
    if st is None:
        return "".join(out), "".join(err)
    sup = st.supported
    if sup & SERVER_DEBUG_PACKETS_CNT:
        out.append("Free packets: %d/%d, packet reclaims: %d, calls: %d, "
                   "used FDs: %d\n" % (st.free_packets, st.n_packets,
                                       st.packet_reclaims, st.calls_executed,
                                       st.used_fds))
    else:
        out.append("Free packets: %d, packet reclaims: %d, calls: %d, "
                   "used FDs: %d\n" % (st.free_packets, st.packet_reclaims,
                                       st.calls_executed, st.used_fds))
    if not st.waiting_for_packets:
        out.append("not ")
    out.append("waiting for packets.\n")
    if sup & SERVER_DEBUG_WAITER_CNT:
        out.append("%d calls waiting for a thread\n" % st.n_waiting)
    if sup & SERVER_DEBUG_IDLE_THREADS:
        out.append("%d threads are idle\n" % st.idle_threads)
    if sup & SERVER_DEBUG_WAITED_CNT:
        out.append("%d calls have waited for a thread\n" % st.n_waited)
    if r.rxstats_wanted:
        if r.rxstats_unsupported:
            err.append("WARNING: Server doesn't support retrieval of Rx "
                       "statistics\n")
        elif r.rxstats_failed is not None:
            out.append("rxstats call failed with code %d\n" % r.rxstats_failed)
            return "".join(out), "".join(err)
        elif r.rxstats is not None:
            if r.rxstats_size != 284:
                out.append("WARNING: returned Rx statistics of unexpected size "
                           "(got %d)\n" % r.rxstats_size)
            out.append(format_rxstats(r.rxstats, st.free_packets, st.version))
    if r.show_conns:
        if r.all_conns_unsupported:
            err.append("WARNING: Server doesn't support retrieval of all "
                       "connections,\n         getting only interesting "
                       "instead.\n")
        if r.only_server:
            out.append("Showing only server connections\n")
        if r.only_client:
            out.append("Showing only client connections\n")
        if r.only_auth is not None:
            out.append("Showing only %s connections\n"
                       % AUTH_NAMES[r.only_auth + 1])
        if r.only_host is not None:
            out.append("Showing only connections from host %s\n" % r.only_host)
        if r.only_port is not None:
            out.append("Showing only connections on port %u\n" % r.only_port)
        with_sec = bool(sup & SERVER_DEBUG_SEC_STATS)
        for c, t in zip(r.conns, r.conn_times):
            out.append(format_conn(c, with_sec, t))
        if r.conns_failed is not None:
            out.append("getconn call failed with code %d\n" % r.conns_failed)
        else:
            out.append("Done.\n")
        if r.nodally:
            out.append("Skipped %d dallying connections.\n" % r.dally_skipped)
    if r.show_peers:
        for p in r.peers:
            out.append(format_peer(p, r.long))
        if r.peers_failed is not None:
            out.append("getpeer call failed with code %d\n" % r.peers_failed)
        else:
            out.append("Done.\n")
    return "".join(out), "".join(err)


def render(r: RxDebugResult, args) -> None:
    out, err = format_result(r)
    if out:
        sys.stdout.write(out)
        sys.stdout.flush()
    if err:
        sys.stderr.write(err)
        sys.stderr.flush()


def to_json(r: RxDebugResult) -> dict:
    """The -json document: see docs/json.md, section udebug/rxdebug."""
    from kafs.cli.render import to_jsonable

    def conn(c: RxConn) -> dict:
        d = to_jsonable(c)
        d.pop("host4", None)
        return d

    def peer(p: RxPeer) -> dict:
        d = to_jsonable(p)
        d.pop("host4", None)
        return d

    doc: dict = {"host": r.host or None, "port": r.port or None,
                 "status": r.status}
    if r.fatal is not None:
        doc["error"] = r.fatal[1].rstrip("\n")
        return doc
    if r.version_failed is not None:
        doc["error"] = "get version call failed with code %d" % r.version_failed[0]
    if r.version is not None:
        doc["version"] = r.version
    if r.stats_failed is not None:
        doc["error"] = "getstats call failed with code %d" % r.stats_failed
    if r.stats is not None:
        d = to_jsonable(r.stats)
        d["version"] = chr(r.stats.version & 0xff)
        doc["stats"] = d
    if r.rxstats_wanted:
        if r.rxstats_failed is not None:
            doc["error"] = "rxstats call failed with code %d" % r.rxstats_failed
        doc["rxstats"] = dict(r.rxstats) if r.rxstats is not None else None
    if r.show_conns:
        doc["connections"] = [conn(c) for c in r.conns]
        if r.conns_failed is not None:
            doc["connections_error"] = r.conns_failed
        if r.nodally:
            doc["dallying_skipped"] = r.dally_skipped
    if r.show_peers:
        doc["peers"] = [peer(p) for p in r.peers]
        if r.peers_failed is not None:
            doc["peers_error"] = r.peers_failed
    return doc


if __name__ == "__main__":
    sys.exit(main())
