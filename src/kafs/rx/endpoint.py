"""The asyncio Rx endpoint: one UDP socket per process driving a :class:`Core`.

See docs/internals.md for the call interface.  The socket is read with a
drain loop from ``loop.add_reader`` (not a DatagramProtocol), all timers of
the core are driven by one ``loop.call_at`` handle.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import TYPE_CHECKING

from kafs import errors
from kafs._ip import ip_literal
from kafs.errors import AFSError, CallTimeout, DecodeError, LocalAbort, RemoteAbort
from . import packet as P
from .core import Config, Core
from .security import rxnull

if TYPE_CHECKING:
    from .info import CallInfo, ConnInfo, PeerInfo

log = logging.getLogger("kafs.rx")

RECV_SIZE = 65536

# Linux: ICMP errors for datagrams of an unconnected socket are queued on its
# error queue when IP_RECVERR / IPV6_RECVERR is set (as OpenAFS 1.8 does).
_IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
_IPV6_RECVERR = getattr(socket, "IPV6_RECVERR", 25)
_MSG_ERRQUEUE = getattr(socket, "MSG_ERRQUEUE", 0x2000)
_EE = struct.Struct("=IBBBBII")        # struct sock_extended_err
_SO_EE_ORIGIN_ICMP = 2
_SO_EE_ORIGIN_ICMP6 = 3
# ICMP destination unreachable codes that mean "nobody will answer"
# (rxi_ProcessNetError): net, host, port unreachable, net/host prohibited
_ICMP_UNREACH = {0: "network unreachable", 1: "host unreachable",
                 3: "port unreachable", 9: "network prohibited", 10: "host prohibited"}
_ICMP6_UNREACH = {0: "no route", 1: "administratively prohibited",
                  3: "address unreachable", 4: "port unreachable"}


def _norm_addr(addr):
    host = addr[0]
    if host.startswith("::ffff:") and "." in host:
        host = host[7:]
    return (host, addr[1])


def _peer_ended(err) -> bool:
    """An error that did not come from our own handler: peer abort, dead
    peer, timeout, endpoint shutdown."""
    return isinstance(err, RemoteAbort) or type(err) is not LocalAbort or \
        err.code == errors.RX_CALL_DEAD


# ---------------------------------------------------------------- tables

_INFO_TYPES = ("CallInfo", "ConnInfo", "PeerInfo")


def __getattr__(name):
    if name in _INFO_TYPES:                  # kafs.rx.info, loaded on first use
        from . import info
        return getattr(info, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_STATES = {1: "precall", 2: "active", 3: "dally", 4: "hold", 5: "reset"}


# ------------------------------------------------------------------ calls

class RxCall:
    """The application's view of one call (both sides)."""

    def __init__(self, ep: "Endpoint", core_call):
        self._ep = ep
        self._c = core_call
        self._waiter = None
        self._task = None             # server: the handler's task
        core_call.app_data = self

    # -- properties used by servers
    @property
    def peer(self):
        return self._c.conn.peer.addr

    @property
    def service_id(self):
        return self._c.conn.service

    @property
    def security(self):
        return self._c.conn.security

    @property
    def connection(self):
        return self._c.conn

    @property
    def core_call(self):
        return self._c

    # -- waiting
    def _wake(self):
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def _wait(self):
        loop = self._ep._loop
        self._waiter = loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _check(self):
        e = self._c.error
        if e is not None:
            if isinstance(e, (errors.CallDead, errors.CallTimeout)):
                raise type(e)(e.detail)
            raise type(e)(e.code, e.detail)

    # -- I/O
    async def write(self, data):
        c = self._c
        self._check()
        ep = self._ep
        c.write(data, ep._now())
        ep._kick()
        hw = ep.core.write_high_water(c)
        while c.tx_pending > hw:
            c.want_write = True
            await self._wait()
            self._check()

    async def end_write(self):
        c = self._c
        if c.tx_ended:
            return
        self._check()
        c.end_write(self._ep._now())
        self._ep._kick()

    async def read(self, n: int = 65536) -> bytes:
        c = self._c
        ep = self._ep
        if c.is_client and not c.tx_ended:
            await self.end_write()
        while True:
            self._check()
            data = c.read(n, ep._now())
            if data:
                ep._kick()
                return data
            if c.rx_eof or (c.rx_complete and c.rx_app > c.rx_last):
                c.rx_eof = True
                return b""
            await self._wait()

    async def read_exact(self, n: int) -> bytes:
        parts = []
        need = n
        while need:
            d = await self.read(need)
            if not d:
                raise DecodeError("short reply: wanted %d bytes, stream ended after %d"
                                  % (n, n - need))
            parts.append(d)
            need -= len(d)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def read_all(self) -> bytes:
        parts = []
        while True:
            d = await self.read(1 << 20)
            if not d:
                return b"".join(parts)
            parts.append(d)

    async def abort(self, code: int = errors.RX_USER_ABORT):
        c = self._c
        if not c.done:
            c.abort(code, self._ep._now())
            self._ep._kick()

    async def finish(self):
        """Client: wait for the end of the reply, then end the call."""
        c = self._c
        if not c.done:
            if c.is_client:
                await self.end_write()
                while not (c.rx_complete or c.done):
                    # discard unread reply data
                    d = c.read(1 << 20, self._ep._now())
                    if d:
                        continue
                    await self._wait()
                self._check()
            c.end(self._ep._now())
            self._ep._kick()
        self._check()

    # -- context manager
    async def __aenter__(self):
        return self

    async def __aexit__(self, et, ev, tb):
        if et is None:
            await self.finish()
            return False
        c = self._c
        if not c.done:
            code = ev.code if isinstance(ev, AFSError) else errors.RX_USER_ABORT
            c.abort(code, self._ep._now())
            self._ep._kick()
        return False


class ClientConnection:
    """What ``ep.connection()`` returns: a (peer, service, security) binding.

    Calls share underlying Rx connections (4 channels each) in the core.
    """

    def __init__(self, ep, addr, service_id, security, dead_time, idle_dead, hard_dead):
        self.endpoint = ep
        self.addr = addr
        self.service_id = service_id
        self.security = security or rxnull
        self.dead_time = dead_time
        self.idle_dead = idle_dead
        self.hard_dead = hard_dead

    def __repr__(self):
        return "<ClientConnection %s:%d service %d sec %d>" % (
            self.addr[0], self.addr[1], self.service_id, self.security.index)

    def new_call(self) -> RxCall:
        ep = self.endpoint
        ep._check_open()
        c = ep.core.start_call(self.addr, self.service_id, self.security, ep._now(),
                               dead_time=self.dead_time, idle_dead=self.idle_dead,
                               hard_dead=self.hard_dead)
        ep._kick()
        return RxCall(ep, c)

    async def call(self, request) -> bytes:
        call = self.new_call()
        try:
            await call.write(request)
            await call.end_write()
            ep = self.endpoint
            if ep._kicked:
                # send the request in this turn rather than the loop's next:
                # a caller that starts a call and goes on computing (pipelined
                # paging) has the server working meanwhile
                ep._process()
            data = await call.read_all()
            await call.finish()
            return data
        except BaseException as e:
            c = call._c
            if not c.done:
                code = e.code if isinstance(e, AFSError) else errors.RX_USER_ABORT
                c.abort(code, self.endpoint._now())
                self.endpoint._kick()
            raise


# --------------------------------------------------------------- endpoint

class Endpoint:
    def __init__(self, sock, loop, core: Core):
        self.sock = sock
        self.family = sock.family
        self._loop = loop
        self.core = core
        self._handlers = {}
        self._timer = None
        self._timer_when = None
        self._kicked = False
        self._sendq = []
        self._writer = False
        self._closed = False
        self._closing = False
        self._tasks = set()
        self._debug_callno = 0
        self._debug_waiters = {}
        self._recverr = False
        self.address = _norm_addr(sock.getsockname())

    @classmethod
    async def open(cls, host: str = "0.0.0.0", port: int = 0, *, config: Config | None = None,
                   rng=None, **cfg) -> "Endpoint":
        loop = asyncio.get_running_loop()
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            if fam == socket.AF_INET6:
                try:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                except OSError:
                    pass
            for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
                except OSError:
                    pass
            recverr = False
            if hasattr(socket, "SO_BINDTODEVICE"):      # Linux
                try:
                    if fam == socket.AF_INET6:
                        sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
                    sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)
                    recverr = True
                except OSError:
                    pass
            sock.bind((host, port))
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        core = Core(config or Config(**cfg), rng=rng)
        ep = cls(sock, loop, core)
        ep._recverr = recverr
        loop.add_reader(sock.fileno(), ep._on_readable)
        return ep

    @property
    def port(self) -> int:
        return self.address[1]

    # -------------------------------------------------------- public API
    def connection(self, addr, service_id: int, security=None, *, dead_time: float | None = None,
                   idle_dead: float = 0.0, hard_dead: float = 0.0) -> ClientConnection:
        addr = self._resolve(addr)
        return ClientConnection(self, addr, service_id, security,
                                self.core.cfg.dead_time if dead_time is None else dead_time,
                                idle_dead, hard_dead)

    async def call(self, addr, service_id, security, request) -> bytes:
        return await self.connection(addr, service_id, security).call(request)

    def serve(self, service_id: int, handler, security=None):
        self.core.add_service(service_id, security or [rxnull])
        self._handlers[service_id] = handler

    def unserve(self, service_id):
        self.core.remove_service(service_id)
        self._handlers.pop(service_id, None)

    def calls(self) -> list[CallInfo]:
        from .info import CallInfo
        now = self._now()
        out = []
        for c in self.core.all_calls():
            conn = c.conn
            out.append(CallInfo(
                "client" if c.is_client else "server", conn.peer.addr, conn.service,
                conn.epoch, conn.cid, c.channel, c.number,
                "error" if c.error is not None else ("done" if c.done else _STATES.get(c.state, "?")),
                conn.security.index, c.tx_next - 1, c.tx_first - 1, c.rx_app - 1, c.rx_last,
                c.error.code if c.error is not None else 0, now - c.created))
        return out

    def connections(self) -> list[ConnInfo]:
        from .info import ConnInfo
        now = self._now()
        return [ConnInfo("client" if k.is_client else "server", k.peer.addr, k.service,
                         k.epoch, k.cid, k.security.index, bool(k.authenticated),
                         tuple(k.call_numbers), len(k.active_calls()), k.serial,
                         k.packets_sent, k.packets_received,
                         k.error.code if k.error is not None else 0, now - k.last_used)
                for k in self.core.all_connections()]

    def peers(self) -> list[PeerInfo]:
        from .info import PeerInfo
        return [PeerInfo(p.addr, (p.srtt or 0) * 1000, p.rttvar * 1000, p.rto * 1000,
                         p.cwind, p.max_mtu, p.if_mtu, p.max_packets, p.nconns,
                         p.n_sent, p.resends, p.bytes_sent, p.bytes_received)
                for p in self.core.peers.values()]

    def stats(self) -> dict:
        from .debug import rxstats_values
        return rxstats_values(self.core)

    async def close(self):
        if self._closed or self._closing:
            return
        self._closing = True
        for t in list(self._tasks):
            t.cancel()
        self._loop.remove_reader(self.sock.fileno())
        if self._writer:
            self._loop.remove_writer(self.sock.fileno())
        if self._timer is not None:
            self._timer.cancel()
        now = self._now()
        live = [c for c in self.core.all_calls() if not c.done]
        self.core.shutdown(now)
        out = self.core.take_datagrams()
        if out and not self._sendq:
            self._send_now(out)       # final acks (ACKALL); best effort
        for c in live:
            if c.app_data is not None:
                c.app_data._wake()
        self._closed = True
        self.sock.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *a):
        await self.close()

    # ------------------------------------------------ debug/version client
    async def rx_version(self, addr, timeout: float = 5.0) -> str:
        h, body = await self._debug_query(addr, P.VERSION, b"\0", timeout)
        return P.decode_version_reply(body)

    async def rx_debug(self, addr, type: int, index: int = 0, timeout: float = 5.0) -> bytes:
        h, body = await self._debug_query(addr, P.DEBUG,
                                          P.encode_debug_request(type, index), timeout)
        return body

    async def _debug_query(self, addr, ptype, body, timeout):
        addr = self._resolve(addr)
        self._debug_callno = (self._debug_callno + 1) & 0x7fffffff or 1
        callno = self._debug_callno
        fut = self._loop.create_future()
        self._debug_waiters[callno] = fut
        d = P.encode_header(999, 0, callno, 0, 0, ptype,
                            P.CLIENT_INITIATED | P.LAST_PACKET) + body
        try:
            delay = 1.0
            end = self._loop.time() + timeout
            while True:
                self._send_now([(d, addr)])
                left = end - self._loop.time()
                if left <= 0:
                    raise CallTimeout("no reply to %s query" % P.TYPE_NAMES[ptype])
                try:
                    return await asyncio.wait_for(asyncio.shield(fut), min(delay, left))
                except asyncio.TimeoutError:
                    delay *= 2
        finally:
            self._debug_waiters.pop(callno, None)

    # ------------------------------------------------------------ internals
    def _check_open(self):
        if self._closed or self._closing:
            raise LocalAbort(errors.RX_CALL_DEAD, "endpoint closed")

    def _resolve(self, addr):
        host, port = addr[0], int(addr[1])
        ip = ip_literal(host)
        if ip is None:
            fam = self.family
            info = socket.getaddrinfo(host, port, fam if fam == socket.AF_INET else 0,
                                      socket.SOCK_DGRAM)
            host = info[0][4][0]
            ip = ip_literal(host)
            if ip is None:
                raise OSError("no address for %s" % host)
        if self.family == socket.AF_INET and ":" in ip:
            raise OSError("IPv6 peer %s on an IPv4 endpoint" % host)
        return (ip, port)

    def _sock_addr(self, addr):
        if self.family == socket.AF_INET6 and "." in addr[0]:
            return ("::ffff:" + addr[0], addr[1])
        return addr

    def _now(self):
        return self._loop.time()

    def _on_readable(self):
        core = self.core
        recv = self.sock.recvfrom
        now = self._loop.time()
        rd = core.receive_datagram
        v6 = self.family == socket.AF_INET6
        n = 0
        while n < 2000:
            try:
                data, addr = recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                if n == 0 and self._recverr:
                    # woken with nothing to read: EPOLLERR from the error queue
                    self._read_errqueue(now)
                break
            except OSError:
                # an ICMP error surfaces here once (ECONNREFUSED...); the
                # details, with the address, wait on the error queue
                core.stats["noPacketOnRead"] += 1
                if self._recverr:
                    self._read_errqueue(now)
                n += 1
                continue
            n += 1
            if v6:
                addr = _norm_addr(addr)
            rd(data, addr, now)
        self._process()

    def _read_errqueue(self, now):
        """Drain the socket error queue (IP_RECVERR): ICMP unreachable for a
        datagram we sent fails the calls to that peer (rxi_ProcessNetError)."""
        sock = self.sock
        for _ in range(256):
            try:
                _, anc, flags, addr = sock.recvmsg(0, 512, _MSG_ERRQUEUE | socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            for level, typ, cdata in anc:
                if len(cdata) < _EE.size:
                    continue
                errno_, origin, itype, code, _pad, _info, _data = _EE.unpack_from(cdata, 0)
                why = None
                if level == socket.IPPROTO_IP and typ == _IP_RECVERR and \
                        origin == _SO_EE_ORIGIN_ICMP and itype == 3:
                    why = _ICMP_UNREACH.get(code)
                elif level == socket.IPPROTO_IPV6 and typ == _IPV6_RECVERR and \
                        origin == _SO_EE_ORIGIN_ICMP6 and itype == 1:
                    why = _ICMP6_UNREACH.get(code)
                if why is not None and addr:
                    self.core.peer_unreachable(_norm_addr(addr[:2]), now, why)

    def _kick(self):
        if not self._kicked:
            self._kicked = True
            self._loop.call_soon(self._process)

    def _process(self):
        self._kicked = False
        core = self.core
        out = core.take_datagrams()
        if out:
            self._send_now(out)
        if core.woken:
            for c in core.take_woken():
                a = c.app_data
                if a is not None:
                    a._wake()
                    t = a._task
                    if t is not None and c.done and c.error is not None and \
                            not t.done() and _peer_ended(c.error):
                        # the client aborted (or died): stop the handler
                        t.cancel()
        if core.new_calls:
            for c in core.take_new_calls():
                self._start_handler(c)
        if core.debug_replies:
            reps = core.debug_replies
            core.debug_replies = []
            for h, body, addr in reps:
                f = self._debug_waiters.get(h.call)
                if f is not None and not f.done():
                    f.set_result((h, body))
        self._arm_timer()

    def _send_now(self, out):
        if self._closed:
            return
        if self._sendq:
            self._sendq.extend(out)
            return
        send = self.sock.sendto
        v6 = self.family == socket.AF_INET6
        i = 0
        n = len(out)
        while i < n:
            d, addr = out[i]
            try:
                send(d, self._sock_addr(addr) if v6 else addr)
            except (BlockingIOError, InterruptedError):
                self._sendq = list(out[i:])
                if not self._writer:
                    self._writer = True
                    self._loop.add_writer(self.sock.fileno(), self._on_writable)
                return
            except OSError:
                self.core.stats["netSendFailures"] += 1
            i += 1

    def _on_writable(self):
        q = self._sendq
        self._sendq = []
        self._loop.remove_writer(self.sock.fileno())
        self._writer = False
        self._send_now(q)

    def _arm_timer(self):
        d = self.core.next_deadline()
        if d == self._timer_when:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_when = d
        if d is not None and not self._closed:
            self._timer = self._loop.call_at(d, self._on_timer)

    def _on_timer(self):
        self._timer = None
        self._timer_when = None
        self.core.handle_timer(self._loop.time())
        self._process()

    def _start_handler(self, core_call):
        handler = self._handlers.get(core_call.conn.service)
        call = RxCall(self, core_call)
        if handler is None:
            core_call.abort(errors.RX_INVALID_OPERATION, self._now())
            self._kick()
            return
        t = self._loop.create_task(self._run_handler(handler, call))
        call._task = t
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def _run_handler(self, handler, call: RxCall):
        c = call._c
        try:
            await handler(call)
            if not c.done and not c.tx_ended:
                c.end_write(self._now())
                self._kick()
        except AFSError as e:
            if not c.done:
                c.abort(e.code, self._now())
                self._kick()
        except asyncio.CancelledError:
            if not c.done:
                c.abort(errors.RX_USER_ABORT, self._now())
                self._kick()
            raise
        except Exception:
            log.exception("Rx service %d handler failed", c.conn.service)
            if not c.done:
                c.abort(errors.RX_USER_ABORT, self._now())
                self._kick()
