"""Sans-I/O Rx protocol core.

Plain objects, no sockets, no asyncio, no clock: every method that needs
the time takes ``now`` (float seconds, any monotonic origin).

The I/O layer:

* feeds datagrams with :meth:`Core.receive_datagram` ``(data, addr, now)``;
* sends what :meth:`Core.take_datagrams` returns (a list of ``(bytes, addr)``);
* arms one timer for :meth:`Core.next_deadline` and calls
  :meth:`Core.handle_timer` when it expires;
* after each of those, drains :attr:`Core.woken` (calls whose application
  visible state changed: data to read, room to write, finished, failed) and
  :attr:`Core.new_calls` (server calls to hand to a service handler) and
  :attr:`Core.debug_replies` (VERSION/DEBUG replies for our debug client).
"""

from __future__ import annotations

import heapq
import os
import struct
from collections import Counter, deque

from kafs import errors
from kafs.errors import AFSError, CallDead, CallTimeout, DecodeError, LocalAbort, RemoteAbort
from . import packet as P
from .security import rxnull

HEADER = P.HEADER
_hpack = HEADER.pack
_hunpack_from = HEADER.unpack_from
_U32 = struct.Struct("!I")
_I32 = struct.Struct("!i")

# call states (rxdebug numbering)
ST_PRECALL = 1
ST_ACTIVE = 2
ST_DALLY = 3
ST_HOLD = 4
ST_RESET = 5
# call modes
MODE_SENDING = 1
MODE_RECEIVING = 2
MODE_ERROR = 3
MODE_EOF = 4

CHALLENGE_INTERVAL = 2.0
CHALLENGE_MAX = 50
SOFT_ACK_DELAY = 0.1
LAST_ACK_DELAY = 0.4
MAX_RTO = 60.0
NACK_THRESHOLD = 3
CLOCK_JUMP = 300.0
BUSY_AVOID = 60.0        # a channel that answered BUSY is avoided this long
ACK_SPLIT = 2
SEAL_AHEAD_BATCH = 32    # packets a secured call seals per idle turn
# Receiving, an ack that drew no new data is sent again (reason DELAY, so the
# sender takes no RTT sample from it) after max(REACK_MIN, srtt + 4 rttvar),
# the wait doubling while nothing comes, until it passes REACK_MAX.  A sender
# that only moves on an ack (OpenAFS's, with its window spent) otherwise sits
# out its retransmission timeout -- which late acks inflate to seconds --
# whenever the one ack that ended its burst is lost.  Without an RTT sample
# (a client whose requests fit one packet never gets one) the first wait is
# 3x the quickest request-to-reply time seen from the peer, an upper bound of
# the RTT (srtt + 4 rttvar after one sample), else REACK_UNKNOWN.
REACK_MIN = 0.03
REACK_MAX = 1.0
REACK_UNKNOWN = 0.1


class Config:
    """Tunables of a core; the defaults follow OpenAFS 1.8.9."""

    def __init__(self, **kw):
        self.init_window = 16
        self.max_window = 128           # max send and receive window (<= 255); see docs/rx.md (OpenAFS: 32)
        self.dead_time = 12.0           # client default secondsUntilDead
        self.server_dead_time = 12.0
        self.server_idle_dead = 60.0
        self.max_receive_size = 5800    # advertised max packet we accept
        self.max_dgram_packets = 6      # jumbo sub-packets we accept (loopback: 11)
        self.send_jumbo = True          # form jumbograms when the peer allows
        self.loopback_mtu = P.MAX_PACKET_SIZE
        self.conn_idle_reap = 700.0
        self.peer_idle_reap = 60.0
        self.max_server_conns = 20000
        self.abort_rate = 20.0          # unsolicited ABORT/BUSY replies per second
        self.busy_restarts = 3          # client: restarts of a call refused with BUSY
        self.version_string = "kafs 0.1.0"
        for k, v in kw.items():
            if not hasattr(self, k):
                raise TypeError("unknown Rx config %r" % k)
            setattr(self, k, v)
        self.max_window = max(1, min(int(self.max_window), P.MAX_ACKS))
        self.init_window = max(1, min(int(self.init_window), self.max_window))


def _is_loopback(host) -> bool:
    from kafs._ip import is_loopback
    return is_loopback(host.split("%")[0])


class Peer:
    __slots__ = ("addr", "host", "port", "loopback", "srtt", "rttvar", "rto",
                 "n_rtt", "cwind", "ssthresh", "max_mtu", "if_mtu", "max_packets",
                 "n_dgram", "n_sent", "resends", "bytes_sent", "bytes_received",
                 "nconns", "idle_since", "congest_seq", "our_if_mtu", "our_dgram",
                 "seen_trailer", "neterrs", "last_neterr", "reply_rtt")

    def __init__(self, addr, cfg: Config, now):
        self.addr = addr
        self.host = addr[0]
        self.port = addr[1]
        self.loopback = _is_loopback(addr[0])
        self.srtt = None
        self.rttvar = 0.0
        self.rto = 2.0 if self.loopback else 3.0
        self.n_rtt = 0
        self.cwind = 4
        self.ssthresh = cfg.max_window
        self.max_mtu = P.OLD_MAX_PACKET_SIZE   # what we may send, total incl. header
        self.if_mtu = P.OLD_MAX_PACKET_SIZE
        self.max_packets = 1
        self.n_dgram = 1
        self.n_sent = 0
        self.resends = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self.nconns = 0
        self.idle_since = now
        self.congest_seq = 0
        self.seen_trailer = False
        self.neterrs = 0              # network (ICMP) errors reported for this peer
        self.last_neterr = None
        self.reply_rtt = None         # quickest request-to-first-reply time (REACK_UNKNOWN)
        if self.loopback:
            self.our_if_mtu = cfg.loopback_mtu
            self.our_dgram = cfg.max_dgram_packets
        else:
            self.our_if_mtu = P.OLD_MAX_PACKET_SIZE
            self.our_dgram = min(cfg.max_dgram_packets, 4)

    def rtt_sample(self, rtt: float):
        if rtt <= 0:
            rtt = 0.001
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:
            delta = rtt - self.srtt
            self.srtt += delta / 8
            self.rttvar += (abs(delta) - self.rttvar) / 4
        self.n_rtt += 1
        self.rto = max(self.srtt + 4 * self.rttvar, 0.020) + 0.200

    def dead_fudge(self) -> float:
        if self.srtt is None:
            return 0.0
        import math
        return float(math.ceil(self.srtt + 8 * self.rttvar))


class TxPkt:
    __slots__ = ("seq", "data", "flags", "cksum", "serial", "sent_at", "nsent", "acked", "raw")

    def __init__(self, seq, data, flags, cksum, raw=None):
        self.seq = seq
        self.data = data
        self.flags = flags
        self.cksum = cksum
        self.raw = raw               # payload before the security class (secured calls)
        self.serial = 0
        self.sent_at = 0.0
        self.nsent = 0
        self.acked = False


class _Timed:
    """Something with a deadline in the core's heap."""
    __slots__ = ()


class Call:
    """One Rx call (client or server side)."""

    def __init__(self, conn: "Connection", channel: int, number: int, now: float,
                 dead_time: float, idle_dead: float, hard_dead: float):
        core = conn.core
        self.core = core
        self.conn = conn
        self.channel = channel
        self.number = number
        self.is_client = conn.is_client
        self.state = ST_ACTIVE
        self.mode = MODE_SENDING if conn.is_client else MODE_RECEIVING
        self.error: AFSError | None = None
        self.error_sent = 0           # abort code we sent (server dally re-send)
        self.created = now
        self.dead_time = dead_time
        self.idle_dead = idle_dead
        self.hard_dead = hard_dead
        self.last_recv = now
        self.last_data_recv = now
        self.last_send = now
        self.held = False             # server: waiting for authentication
        self.held_pkts: list = []
        self.app_data = None          # free for the I/O layer
        self.busy_seen = False
        self.busy_restarts = 0
        self.peer_spoke = False       # anything but BUSY came back for this call
        self.neterr_gen = conn.peer.neterrs
        # --- transmit side
        self.tx_chunks: deque = deque()
        self.tx_pending = 0
        self.tx_ended = False
        self.tx_q: dict[int, TxPkt] = {}
        self.tx_next = 1              # next seq to create
        self.tx_sent = 1              # next seq never sent
        self.tx_first = 1             # lowest seq not hard-acked
        self.tx_soft_hi = 1
        self.tx_last_seq = 0
        self.tx_done = False          # every packet acked (or implied)
        self.tx_last_at = None        # first send of the last packet (None once resent)
        self.resend_q: set[int] = set()
        self.resend_at = None
        peer = conn.peer
        self.twind = core.cfg.init_window
        self.cwind = max(1, min(peer.cwind, core.cfg.max_window))
        self.ssthresh = peer.ssthresh
        self.n_dgram = peer.n_dgram
        self.nack_count = 0
        self.fast_recovery = False
        self.recovery_hi = 0
        self.ack_count = 0
        self.good_acks = 0
        self.last_ack_first = 0
        self.last_ack_prev = 0
        self.sent_serials: dict[int, float] = {}
        self.peer_slow_start = False
        self.want_write = False
        self.seal_at = None           # secured calls: seal packets ahead (idle work)
        # --- receive side
        self.rx_q: dict = {}
        self.rx_app = 1               # next seq the application reads (firstPacket)
        self.rx_off = 0
        self.rx_contig = 0            # highest seq with all before received
        self.rx_highest = 0
        self.rx_last = 0              # seq flagged LAST_PACKET, 0 unknown
        self.rx_complete = False
        self.rx_eof = False
        self.rwind = core.cfg.init_window
        self.n_soft = 0
        self.ack_at = None            # delayed ack deadline
        self.reack_at = None          # repeat the last ack if nothing comes (REACK_MIN)
        self.reack_gap = 0.0
        self.reack_hi = 0             # rx_highest when the re-ack was armed
        self.ack_serial = 0
        self.ack_prev = 0
        self.ack_reason = 0           # ack queued for the end of this input batch
        self.acked_first = 1          # firstPacket of the last ack we sent
        self.acked_rwind = self.rwind # rwind of the last ack we sent
        self.bytes_sent = 0
        self.bytes_received = 0
        # --- timer heap bookkeeping
        self._deadline = None
        self._woken = False
        self.done = False

    # ------------------------------------------------------------ helpers
    def __repr__(self):
        return "<Call %s cid=%#x ch=%d n=%d state=%d>" % (
            "client" if self.is_client else "server", self.conn.cid, self.channel,
            self.number, self.state)

    @property
    def peer_addr(self):
        return self.conn.peer.addr

    @property
    def finished(self) -> bool:
        return self.done

    def readable_bytes(self) -> int:
        """Bytes the application could read now (approximate, cheap)."""
        q = self.rx_q
        n = 0
        s = self.rx_app
        off = self.rx_off
        while s in q:
            n += len(q[s]) - off
            off = 0
            s += 1
        return n

    def tx_backlog(self) -> int:
        """Bytes written but not yet sent as packets."""
        return self.tx_pending

    # ---------------------------------------------------------- app ops
    def write(self, data, now):
        if self.error is not None:
            raise self.error
        if self.tx_ended:
            raise LocalAbort(errors.RX_PROTOCOL_ERROR, "write after end of write")
        if not self.is_client and self.mode == MODE_RECEIVING:
            self.mode = MODE_SENDING
            self._start_reply()
        if data:
            if not isinstance(data, bytes):
                data = bytes(data)
            self.tx_chunks.append(memoryview(data))
            self.tx_pending += len(data)
        self._push(now)
        self.core._schedule(self)

    def end_write(self, now):
        if self.error is not None:
            raise self.error
        if self.tx_ended:
            return
        if not self.is_client and self.mode == MODE_RECEIVING:
            self.mode = MODE_SENDING
            self._start_reply()
        self.tx_ended = True
        if self.is_client:
            self.mode = MODE_RECEIVING
        self._push(now)
        self.core._schedule(self)

    def read(self, n, now) -> bytes:
        """Up to n bytes that have arrived in order; b"" if none (check rx_eof/error)."""
        q = self.rx_q
        out = []
        got = 0
        s = self.rx_app
        off = self.rx_off
        while got < n:
            buf = q.get(s)
            if buf is None:
                break
            avail = len(buf) - off
            take = n - got
            if take >= avail:
                out.append(buf[off:] if off else buf)
                got += avail
                del q[s]
                s += 1
                off = 0
            else:
                out.append(buf[off:off + take])
                off += take
                got += take
        self.rx_app = s
        self.rx_off = off
        if s > 1 and self.rwind < self.core.cfg.max_window:
            self.rwind = self.core.cfg.max_window
        if self.rx_complete and s > self.rx_last:
            self.rx_eof = True
            if self.is_client:
                self.mode = MODE_EOF
        if not self.done and not self.rx_complete and self.rx_highest:
            # Tell the sender about the freed space only when the window it
            # was last given is (nearly) used up: otherwise the acks that
            # the packets still in flight draw carry the new firstPacket.
            af = self.acked_first
            w = self.acked_rwind
            if (self.rx_highest + 1 + (w >> 2) >= af + w
                    and self.core._rx_first(self) - af >= max(2, w >> 2)):
                self.core._send_ack(self, P.ACK_IDLE, 0, now)
        if len(out) == 1:
            return bytes(out[0])
        return b"".join(out)

    def abort(self, code, now, send=True):
        if self.done:
            return
        if send:
            self.core._send_abort_call(self, code)
            self.error_sent = code
        self._fail(LocalAbort(code), now)

    def end(self, now):
        """Client: the application is done with the call (reply consumed)."""
        if self.done:
            return
        if self.is_client:
            if self.rx_complete:
                # final ack at once (rx_EndCall with a delayed ack pending);
                # none when the last ack sent already covered the whole reply
                # (the reply's last packet asked for one)
                pending = (self.ack_at is not None or self.ack_reason
                           or self.acked_first <= self.rx_last)
                self.rx_app = self.rx_last + 1
                self.rx_q.clear()
                self.rx_eof = True
                if pending:
                    self.core._send_ack(self, P.ACK_DELAY, 0, now)
                self._finish(now)
            else:
                self.abort(errors.RX_USER_ABORT, now)
        else:
            if not self.tx_ended:
                self.end_write(now)

    # ------------------------------------------------------ internals
    def _start_reply(self):
        # server begins the reply: the request is implicitly acknowledged by it
        self.ack_at = None
        self.reack_at = None
        self.n_soft = 0
        self.ack_reason = 0

    def _fail(self, exc: AFSError, now):
        if self.done:
            return
        self.error = exc
        self.mode = MODE_ERROR
        self._finish(now)

    def _finish(self, now):
        """The call is over (successfully or not): free its resources."""
        if self.done:
            return
        self.done = True
        self.state = ST_DALLY
        self.tx_q.clear()
        self.tx_chunks.clear()
        self.resend_q.clear()
        self.sent_serials.clear()
        self.held_pkts = []
        self.resend_at = None
        self.ack_at = None
        self.reack_at = None
        peer = self.conn.peer
        peer.cwind = max(1, min(self.cwind, self.core.cfg.max_window))
        peer.ssthresh = self.ssthresh
        peer.n_dgram = self.n_dgram
        if self.error is None:
            self.core.stats["callsExecuted"] += 1
            if self.is_client:
                self.conn.busy_until[self.channel] = 0.0
        elif self.is_client and isinstance(self.error, CallTimeout):
            # probably still running on the server: avoid the channel a while
            self.conn.busy_until[self.channel] = now + BUSY_AVOID
        self.conn._call_finished(self, now)
        self.core._wake(self)

    def _deadline_calc(self):
        if self.done:
            return None
        d = self.last_recv + self.dead_time + self.conn.peer.dead_fudge()
        ka = self.last_send + self.dead_time / 6.0
        if ka < d:
            d = ka
        if self.resend_at is not None and self.resend_at < d:
            d = self.resend_at
        if self.ack_at is not None and self.ack_at < d:
            d = self.ack_at
        if self.reack_at is not None and self.reack_at < d:
            d = self.reack_at
        if self.seal_at is not None and self.seal_at < d:
            d = self.seal_at
        if self.idle_dead and self._waiting_for_peer():
            t = self.last_data_recv + self.idle_dead
            if t < d:
                d = t
        if self.hard_dead:
            t = self.created + self.hard_dead
            if t < d:
                d = t
        return d

    def _waiting_for_peer(self):
        if self.is_client:
            return self.tx_ended and not self.rx_complete
        return not self.rx_complete and not self.held

    def _on_timer(self, now):
        core = self.core
        if self.done:
            return
        if now >= self.last_recv + self.dead_time + self.conn.peer.dead_fudge():
            self._fail(CallDead("no packets from %s for %.0f s" % (
                self.conn.peer.host, now - self.last_recv)), now)
            return
        if self.hard_dead and now >= self.created + self.hard_dead:
            core._send_abort_call(self, errors.RX_CALL_TIMEOUT)
            self._fail(CallTimeout("hard dead time exceeded"), now)
            return
        if self.idle_dead and self._waiting_for_peer() and \
                now >= self.last_data_recv + self.idle_dead:
            core._send_abort_call(self, errors.RX_CALL_TIMEOUT)
            self._fail(CallTimeout("idle dead time exceeded"), now)
            return
        if self.resend_at is not None and now >= self.resend_at:
            self._rto(now)
        if self.ack_at is not None and now >= self.ack_at:
            self.ack_at = None
            core._send_ack(self, P.ACK_DELAY, 0, now)
        if self.reack_at is not None and now >= self.reack_at:
            self.reack_at = None
            if not self.ack_reason and not self.rx_complete and (
                    core._rx_first(self) + self.rwind > self.rx_highest + 1
                    or self.rx_highest > self.rx_contig):
                # (a window full of data the application has yet to read
                # waits for its read; one full because of a hole does not)
                core._send_ack(self, P.ACK_DELAY, 0, now,
                               reack=self.rx_highest == self.reack_hi)
        if self.seal_at is not None and now >= self.seal_at:
            self.seal_at = None
            self._seal_ahead(now)
        if now >= self.last_send + self.dead_time / 6.0:
            core._send_ping(self, now)

    # -- transmit
    def _payload_size(self):
        conn = self.conn
        peer = conn.peer
        overhead = conn.header_size + conn.trailer_size
        # a jumbogram sub-packet is exactly 1412 bytes on the wire; with a
        # security overhead (rxkad auth/crypt seal 1404/1396 bytes to 1408)
        # that cannot be met, so -- as in OpenAFS -- no jumbograms: packets
        # are then sized by the path MTU like for a peer without jumbograms
        if peer.max_packets > 1 and self.core.cfg.send_jumbo and not overhead:
            size = P.JUMBO_BUFFER_SIZE
        else:
            mtu = min(peer.max_mtu, peer.if_mtu, peer.our_if_mtu)
            size = mtu - P.HEADER_SIZE
        return size - overhead

    def _take(self, size):
        chunks = self.tx_chunks
        first = chunks[0]
        if len(first) > size:
            chunks[0] = first[size:]
            self.tx_pending -= size
            return first[:size]
        if len(first) == size:
            chunks.popleft()
            self.tx_pending -= size
            return first
        parts = []
        need = size
        while need and chunks:
            c = chunks[0]
            if len(c) <= need:
                parts.append(c)
                need -= len(c)
                chunks.popleft()
            else:
                parts.append(c[:need])
                chunks[0] = c[need:]
                need = 0
        self.tx_pending -= size - need
        return b"".join(parts)

    def _make_packets(self, upto):
        """Create packets until tx_next reaches ``upto`` or data runs out.

        A secured call's packets are prepared (sealed) here, in one batch:
        the security class sees the seq, call number and channel, which do
        not change when the packet is retransmitted (only the serial does,
        and it is written at transmit time).
        """
        if self.tx_last_seq:
            return
        size = self._payload_size()
        conn = self.conn
        sec = conn.security
        base = P.CLIENT_INITIATED if self.is_client else 0
        q = self.tx_q
        if sec.index == 0:
            while self.tx_next < upto:
                if self.tx_pending > size:
                    data = self._take(size)
                    fl = base
                elif self.tx_ended:
                    data = self._take(self.tx_pending) if self.tx_pending else b""
                    fl = base | P.LAST_PACKET
                else:
                    return
                seq = self.tx_next
                q[seq] = TxPkt(seq, data, fl, 0)
                self.tx_next = seq + 1
                if fl & P.LAST_PACKET:
                    self.tx_last_seq = seq
                    return
            return
        first = self.tx_next
        datas = []
        fl = base
        n = upto - first
        while len(datas) < n:
            if self.tx_pending > size:
                datas.append(self._take(size))
            elif self.tx_ended:
                datas.append(self._take(self.tx_pending) if self.tx_pending else b"")
                fl = base | P.LAST_PACKET
                break
            else:
                break
        if not datas:
            return
        pp = getattr(sec, "prepare_packets", None)
        if pp is not None:
            sealed = pp(conn, self.number, self.channel, first, datas)
        else:
            sealed = [sec.prepare_packet(conn, self.number, self.channel, first + i, d)
                      for i, d in enumerate(datas)]
        # a client keeps the plain payloads until the server acked something:
        # a BUSY restart on another channel re-prepares them
        keep = self.is_client and self.tx_first == 1
        last = len(datas) - 1
        for i, (data, ck) in enumerate(sealed):
            seq = first + i
            q[seq] = TxPkt(seq, data, fl if i == last else base, ck,
                           datas[i] if keep else None)
        self.tx_next = first + len(datas)
        if fl & P.LAST_PACKET:
            self.tx_last_seq = self.tx_next - 1

    def _want_seal_ahead(self):
        """A secured call with data for full packets beyond those made, and
        fewer than a window's worth made but not yet sent."""
        if self.tx_last_seq or self.conn.security.index == 0:
            return False
        if self.tx_next - self.tx_sent >= self.core.cfg.max_window:
            return False
        return self.tx_ended or self.tx_pending > self._payload_size()

    def _seal_ahead(self, now):
        """Seal packets beyond the send window (timer work at 'now', which the
        endpoint runs after sending what is due): when an ack opens the
        window, the packets go out at once instead of being encrypted then.
        Bounded per turn so that incoming acks are not held up."""
        if self.done or self.held or (self.is_client and self.rx_highest):
            return
        if not self._want_seal_ahead():
            return
        limit = self.tx_sent + self.core.cfg.max_window
        self._make_packets(min(limit, self.tx_next + SEAL_AHEAD_BATCH))
        if self._want_seal_ahead():
            self.seal_at = now
        if self.want_write and self.tx_pending < self.core.write_high_water(self):
            self.want_write = False
            self.core._wake(self)

    def _push(self, now):
        """Transmit what the windows allow."""
        if self.done or self.held:
            return
        if self.is_client and self.rx_highest:
            return   # reply started: request is implicitly acked
        win = self.cwind if self.cwind < self.twind else self.twind
        limit = self.tx_first + win
        if self.resend_q:
            seqs = sorted(s for s in self.resend_q if s < limit)
            self.resend_q.difference_update(seqs)
            pkts = [self.tx_q[s] for s in seqs if s in self.tx_q and not self.tx_q[s].acked]
            if pkts:
                self.core._send_data(self, pkts, now, True)
        if self.tx_next < limit:
            self._make_packets(limit)
        sent = self.tx_sent
        end = min(self.tx_next, limit)
        if sent < end:
            q = self.tx_q
            pkts = [q[s] for s in range(sent, end)]
            self.tx_sent = end
            self.core._send_data(self, pkts, now, False)
        if self.resend_at is None and self.tx_sent > self.tx_first:
            self.resend_at = now + self._rto_value()
        if self.seal_at is None and self.tx_pending and self._want_seal_ahead():
            self.seal_at = now
        # room to write more?
        if self.want_write and self.tx_pending < self.core.write_high_water(self):
            self.want_write = False
            self.core._wake(self)

    def _rto_value(self):
        rto = self.conn.peer.rto
        if self.is_client and self.tx_last_seq and self.tx_first == self.tx_last_seq:
            rto += 0.4
        return rto

    def _rto(self, now):
        self.resend_at = None
        if self.tx_first >= self.tx_sent:
            return
        peer = self.conn.peer
        n = 0
        for s in range(self.tx_first, self.tx_sent):
            p = self.tx_q.get(s)
            if p is not None and not p.acked:
                self.resend_q.add(s)
                n += 1
        if not n:
            self.resend_at = now + self._rto_value()
            return
        peer.rto = min(peer.rto * 2, MAX_RTO)
        self.ssthresh = max(4, min(self.cwind, self.twind)) // 2
        self.cwind = 1
        self.n_dgram = 1
        self.fast_recovery = True
        self.recovery_hi = self.tx_sent
        self.nack_count = 0
        self._push(now)
        if self.resend_at is None:
            self.resend_at = now + self._rto_value()

    def _all_acked(self, now):
        """Everything we sent is acknowledged (ACKALL, reply, or ack)."""
        self.tx_q.clear()
        self.resend_q.clear()
        self.tx_first = self.tx_next
        self.tx_sent = self.tx_next
        self.resend_at = None
        if self.tx_last_seq:
            self.tx_done = True
            if not self.is_client:
                self._finish(now)

    def _handle_ack(self, a: P.AckBody, hflags, now):
        core = self.core
        peer = self.conn.peer
        first = a.first_packet
        if first < self.last_ack_first:
            return
        if first == self.last_ack_first and a.previous_packet < self.last_ack_prev:
            return
        self.last_ack_first = first
        self.last_ack_prev = a.previous_packet
        if hflags & P.SLOW_START_OK:
            self.peer_slow_start = True
        # trailer
        if a.max_mtu is not None:
            core._apply_trailer(self, a)
        # RTT
        if a.reason != P.ACK_DELAY and a.serial:
            t = self.sent_serials.pop(a.serial, None)
            if t is not None:
                peer.rtt_sample(now - t)
                core._rtt_stat(now - t)
        if len(self.sent_serials) > 4 * P.MAX_ACKS:
            self.sent_serials.clear()
        if self.is_client and self.rx_highest:
            return   # request already implied acked by the reply
        q = self.tx_q
        newly = 0
        # hard acks
        if first > self.tx_first:
            top = min(first, self.tx_sent)
            for s in range(self.tx_first, top):
                p = q.pop(s, None)
                if p is not None and not p.acked:
                    newly += 1
            if top > self.tx_first:
                self.tx_first = top
            if self.resend_q:
                self.resend_q = {s for s in self.resend_q if s >= top}
            if self.tx_soft_hi < top:
                self.tx_soft_hi = top
        acks = a.acks
        nacked = False
        if acks:
            n = len(acks)
            z = acks.find(0)
            if z < 0:
                z = n
            # contiguous acked range [first, first+z)
            lo = self.tx_soft_hi if self.tx_soft_hi > first else first
            hi = first + z
            if hi > self.tx_sent:
                hi = self.tx_sent
            for s in range(lo, hi):
                p = q.get(s)
                if p is not None and not p.acked:
                    p.acked = True
                    newly += 1
            if hi > self.tx_soft_hi:
                self.tx_soft_hi = hi
            if z < n:
                # slow path: a NACK somewhere
                top_acked = -1
                for i in range(z, n):
                    s = first + i
                    if s >= self.tx_sent:
                        break
                    p = q.get(s)
                    if p is None:
                        continue
                    if acks[i]:
                        if not p.acked:
                            p.acked = True
                            newly += 1
                        top_acked = s
                    else:
                        p.acked = False
                if self.tx_soft_hi > first + z:
                    self.tx_soft_hi = first + z
                if top_acked > first + z:
                    nacked = True
                    self.nack_count += 1
                    if self.nack_count >= NACK_THRESHOLD and not self.fast_recovery:
                        self.ssthresh = max(4, min(self.cwind, self.twind)) // 2
                        self.cwind = self.ssthresh + 3
                        self.n_dgram = max(1, self.n_dgram // 2)
                        self.fast_recovery = True
                        self.recovery_hi = self.tx_sent
                        self.nack_count = 0
                        for i in range(z, top_acked - first):
                            if not acks[i]:
                                self.resend_q.add(first + i)
        if not nacked:
            self.nack_count = 0
        if self.fast_recovery and first >= self.recovery_hi:
            self.fast_recovery = False
            self.cwind = max(self.ssthresh, 1)
        # congestion window
        if newly:
            maxw = core.cfg.max_window
            if self.cwind < self.ssthresh:
                self.cwind = min(self.cwind + newly, maxw)
            else:
                self.ack_count += newly
                if self.ack_count >= self.cwind:
                    self.ack_count = 0
                    if self.cwind < maxw:
                        self.cwind += 1
            if not nacked:
                self.good_acks += 1
                if self.good_acks > 4 and self.n_dgram < peer.max_packets:
                    self.n_dgram += 1
                    self.good_acks = 0
            self.resend_at = None
        if self.tx_last_seq and self.tx_first > self.tx_last_seq:
            self._all_acked(now)
            if self.done:
                return
        self._push(now)
        if self.resend_at is None and self.tx_sent > self.tx_first:
            self.resend_at = now + self._rto_value()


class Connection:
    def __init__(self, core: "Core", peer: Peer, epoch, cid, service, security,
                 is_client, now):
        self.core = core
        self.peer = peer
        self.epoch = epoch
        self.cid = cid
        self.service = service
        self.security = security
        self.is_client = is_client
        self.channels: list[Call | None] = [None] * P.MAX_CALLS
        self.call_numbers = [0] * P.MAX_CALLS
        self.last_done = [(0, 0)] * P.MAX_CALLS   # client: (number, last seq)
        self.serial = 1
        self.error: AFSError | None = None
        self.last_used = now
        self.created = now
        self.sec = None
        self.authenticated = True
        self.challenge_sent = 0
        self.challenge_at = None
        self.using_pkt_cksum = False    # server: a packet with a checksum arrived
        self.packets_sent = 0
        self.packets_received = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self.busy_until = [0.0] * P.MAX_CALLS
        self.key = None
        self._deadline = None
        self._woken = False
        self.done = False
        peer.nconns += 1
        # per-connection security overhead; a class whose level is only known
        # after the handshake (rxkad server) updates these
        self.header_size = security.header_size
        self.trailer_size = security.trailer_size
        security.new_connection(self, not is_client)

    def __repr__(self):
        return "<Connection %s %s:%d cid=%#x svc=%d>" % (
            "client" if self.is_client else "server", self.peer.host, self.peer.port,
            self.cid, self.service)

    def next_serial(self, n=1):
        s = self.serial
        nxt = s + n
        if nxt > 0xffffffff:
            s = 1
            nxt = 1 + n
        self.serial = nxt
        return s

    def active_calls(self):
        return [c for c in self.channels if c is not None and not c.done]

    def free_channel(self):
        if self.error is not None or self.done:
            return None
        for i, c in enumerate(self.channels):
            if c is None or c.done:
                return i
        return None

    def call_numbers_for_response(self):
        """Call numbers a RESPONSE carries (a dallying channel reports n+1)."""
        out = []
        for i in range(P.MAX_CALLS):
            c = self.channels[i]
            n = self.call_numbers[i]
            if c is not None and c.done:
                n += 1
            out.append(n & 0xffffffff)
        return out

    def adopt_call_numbers(self, nums):
        """Server: take the client's call numbers from an authenticated RESPONSE."""
        for i, n in enumerate(list(nums)[:P.MAX_CALLS]):
            c = self.channels[i]
            if c is None or c.done:
                if n > self.call_numbers[i]:
                    self.call_numbers[i] = n - 1 if n > 0 else 0

    def _call_finished(self, call, now):
        self.last_used = now
        if self.is_client:
            if self.channels[call.channel] is call:
                self.channels[call.channel] = None
                self.last_done[call.channel] = (call.number, call.rx_last)
        self.core._conn_became_idle(self, now)

    def _deadline_calc(self):
        if self.done:
            return None
        if self.challenge_at is not None:
            return self.challenge_at
        return None

    def _on_timer(self, now):
        if self.challenge_at is not None and now >= self.challenge_at:
            if self.authenticated or not any(c is not None and c.held and not c.done
                                             for c in self.channels):
                self.challenge_at = None
            elif self.challenge_sent >= CHALLENGE_MAX:
                self.challenge_at = None
                for c in self.channels:
                    if c is not None and not c.done:
                        c._fail(CallTimeout("no RESPONSE to CHALLENGE"), now)
            else:
                self.core._send_challenge(self, now)


class _Reaper:
    __slots__ = ("core", "_deadline", "_woken", "done")

    def __init__(self, core):
        self.core = core
        self._deadline = None
        self._woken = False
        self.done = False

    def _deadline_calc(self):
        return self.core._reap_deadline

    def _on_timer(self, now):
        self.core._reap(now)


#: rxdebug counter names of packets read, by packet type (1..13)
_READ_KEYS = (None,) + tuple("packetsRead_%d" % t for t in range(1, 14))


class _UrandomBits:
    """``getrandbits`` from the kernel's random source, as
    ``random.SystemRandom`` gives it (without importing ``random``)."""

    @staticmethod
    def getrandbits(k: int) -> int:
        return int.from_bytes(os.urandom((k + 7) // 8), "big") >> (-k % 8)


class Core:
    """Endpoint state: peers, connections, calls, timers, statistics."""

    def __init__(self, cfg: Config | None = None, *, rng=None, epoch=None):
        self.cfg = cfg or Config()
        self.rng = rng or _UrandomBits()
        if epoch is None:
            epoch = self.rng.getrandbits(32)
        self.epoch = (epoch | 0x80000000) & ~0x40000000
        self.next_cid = (self.rng.getrandbits(30) << 2) & 0x7ffffffc or 4
        self.peers: dict = {}
        self.client_conns: dict[int, Connection] = {}
        self.server_conns: dict = {}
        self.shared: dict = {}        # (addr, service, seckey) -> [Connection]
        self.services: dict[int, dict[int, object]] = {}
        self.out: list = []
        self.woken: list = []
        self.new_calls: list = []
        self.debug_replies: list = []  # (header, body, addr)
        self.stats: Counter = Counter()
        self.rtt_total = 0.0
        self.rtt_min = None
        self.rtt_max = 0.0
        self._heap: list = []
        self._hseq = 0
        self._ackq: list = []         # calls with an ack queued for the batch end
        self._now = 0.0               # time of the latest input
        self._clock_hi = float("-inf")
        self._abort_tokens = self.cfg.abort_rate
        self._abort_time = None
        self._reaper = _Reaper(self)
        self._reap_deadline = None
        self.version_string = self.cfg.version_string

    # ---------------------------------------------------------- public
    def add_service(self, service_id: int, securities):
        table = {}
        for s in securities or [rxnull]:
            s = s if s is not None else rxnull
            table[s.index] = s
        self.services[service_id] = table

    def remove_service(self, service_id):
        self.services.pop(service_id, None)

    def take_datagrams(self):
        if self._ackq:
            self._flush_acks()
        out = self.out
        self.out = []
        return out

    def next_deadline(self):
        h = self._heap
        while h:
            d, _, obj = h[0]
            if obj._deadline != d or obj.done:
                heapq.heappop(h)
                continue
            return d
        return None

    def handle_timer(self, now):
        self._now = now
        self._clock_check(now)
        h = self._heap
        while h and h[0][0] <= now:
            d, _, obj = heapq.heappop(h)
            if obj._deadline != d or obj.done:
                continue
            obj._deadline = None
            try:
                if now - d > CLOCK_JUMP and isinstance(obj, Call):
                    # the timer is minutes late: the clock jumped forward (or the
                    # process was stopped); the call's state is meaningless now
                    self.stats["clockJumps"] += 1
                    obj.core._send_abort_call(obj, errors.RX_CALL_TIMEOUT)
                    obj._fail(CallTimeout("clock moved forward %.0f s" % (now - d)), now)
                    continue
                obj._on_timer(now)
            except Exception:       # never let a timer kill the endpoint
                self.stats["fatalErrors"] += 1
            if not obj.done:
                self._schedule(obj)

    def get_peer(self, addr, now) -> Peer:
        p = self.peers.get(addr)
        if p is None:
            p = self.peers[addr] = Peer(addr, self.cfg, now)
            self.stats["nPeerStructs"] += 1
        return p

    def new_client_connection(self, addr, service, security, now) -> Connection:
        security = security or rxnull
        peer = self.get_peer(addr, now)
        cid = self.next_cid
        self.next_cid = (cid + 4) & 0xfffffffc or 4
        while cid in self.client_conns:
            cid = self.next_cid
            self.next_cid = (cid + 4) & 0xfffffffc or 4
        conn = Connection(self, peer, self.epoch, cid, service, security, True, now)
        self.client_conns[cid] = conn
        self.stats["nClientConns"] += 1
        return conn

    def start_call(self, addr, service, security, now, *, dead_time=None,
                   idle_dead=0.0, hard_dead=0.0, conn: Connection | None = None) -> Call:
        """Start a client call, sharing connections keyed on (peer, service, security)."""
        security = security or rxnull
        if now > self._clock_hi:
            self._clock_hi = now
        if conn is None:
            conn, ch = self._pick_channel((addr, service, security.key()), addr, service,
                                          security, now)
        else:
            ch = conn.free_channel()
            if ch is None:
                raise LocalAbort(errors.RX_INVALID_OPERATION, "no free channel")
        number = (conn.call_numbers[ch] + 1) & 0xffffffff or 1
        conn.call_numbers[ch] = number
        dt = self.cfg.dead_time if dead_time is None else dead_time
        call = Call(conn, ch, number, now, dt, idle_dead, hard_dead)
        conn.channels[ch] = call
        conn.last_used = now
        self.stats["nCallStructs"] += 1
        self._schedule(call)
        self._arm_reaper(now)
        return call

    def _pick_channel(self, key, addr, service, security, now):
        """A free channel on a shared connection, avoiding channels that
        answered BUSY lately (rx_NewCall's lastBusy); a new connection when
        every free channel is marked busy or none is free."""
        lst = self.shared.setdefault(key, [])
        for c in lst:
            if c.done or c.error is not None:
                continue
            chans = c.channels
            busy = c.busy_until
            for i in range(P.MAX_CALLS):
                k = chans[i]
                if (k is None or k.done) and busy[i] <= now:
                    return c, i
        conn = self.new_client_connection(addr, service, security, now)
        conn.key = key
        lst.append(conn)
        return conn, 0

    def _restart_busy_call(self, call, now) -> bool:
        """Move a client call that the server refused with BUSY (it never
        accepted it: nothing but BUSY came back) to another channel."""
        old = call.conn
        if old.key is None or call.tx_first != 1:
            return False
        sec = old.security
        if sec.index != 0 and any(p.raw is None for p in call.tx_q.values()):
            return False
        old_ch = call.channel
        # the server may yet take a late copy of the refused call: abort it
        self._send_abort_call(call, errors.RX_CALL_DEAD)
        old.busy_until[old_ch] = now + BUSY_AVOID
        old.channels[old_ch] = None
        conn, ch = self._pick_channel(old.key, old.peer.addr, old.service, sec, now)
        number = (conn.call_numbers[ch] + 1) & 0xffffffff or 1
        conn.call_numbers[ch] = number
        conn.channels[ch] = call
        conn.last_used = now
        call.conn = conn
        call.channel = ch
        call.number = number
        call.busy_restarts += 1
        for p in call.tx_q.values():
            if sec.index != 0:
                p.data, p.cksum = sec.prepare_packet(conn, number, ch, p.seq, p.raw)
            p.nsent = 0
            p.serial = 0
            p.acked = False
        call.tx_sent = call.tx_first
        call.tx_soft_hi = call.tx_first
        call.resend_q.clear()
        call.resend_at = None
        call.sent_serials.clear()
        call.last_ack_first = 0
        call.last_ack_prev = 0
        self.stats["busyRestarts"] += 1
        call._push(now)
        self._schedule(call)
        self._arm_reaper(now)
        return True

    # ------------------------------------------------------ receiving
    def receive_datagram(self, data, addr, now):
        """Process one datagram.  Never raises."""
        self._now = now
        if now < self._clock_hi:
            self._clock_check(now)
        else:
            self._clock_hi = now
        try:
            self._receive(data, addr, now)
        except DecodeError:
            self.stats["bogusPacketOnRead"] += 1
        except Exception:
            self.stats["fatalErrors"] += 1
            if self.raise_internal:
                raise

    raise_internal = False   # tests set this to see internal errors

    def _receive(self, data, addr, now):
        n = len(data)
        if n < 28:
            raise DecodeError("short packet")
        (epoch, cid, callno, seq, serial, ptype, flags, ustat, secidx, cksum,
         service) = _hunpack_from(data, 0)
        st = self.stats
        if 1 <= ptype <= 13:
            st[_READ_KEYS[ptype]] += 1
        else:
            raise DecodeError("bad packet type")
        if ptype == P.DATA:
            st["dataPacketsRead"] += 1
            if flags & P.JUMBO_PACKET and n < 28 + P.JUMBO_BUFFER_SIZE + 4:
                raise DecodeError("truncated jumbogram")
        if ptype == P.VERSION or ptype == P.DEBUG:
            self._receive_debug(ptype, data, addr, flags, now)
            return
        if flags & P.CLIENT_INITIATED:
            conn = self._find_server_conn(epoch, cid, callno, seq, ptype, secidx,
                                          service, addr, now)
        else:
            if epoch != self.epoch:
                st["bogusHost"] += 1
                return
            conn = self.client_conns.get(cid & 0xfffffffc)
            if conn is not None and conn.peer.addr != addr:
                # replies must come from where we sent
                conn = None
        if conn is None:
            st["spuriousPacketsRead"] += 1
            return
        if secidx != conn.security.index:
            st["spuriousPacketsRead"] += 1
            return
        conn.packets_received += 1
        conn.bytes_received += n
        conn.peer.bytes_received += n
        conn.last_used = now
        if cksum and not conn.is_client:
            # OpenAFS RX_CONN_USING_PACKET_CKSUM: rxkad then sends v2 challenges
            conn.using_pkt_cksum = True
        ch = cid & 3
        if callno == 0:
            self._receive_conn_level(conn, ptype, data, now)
            return
        if conn.is_client:
            call = conn.channels[ch]
            if call is None or call.number != callno:
                self._client_dally(conn, ch, callno, ptype, flags, data, serial, now)
                return
        else:
            cur = conn.call_numbers[ch]
            call = conn.channels[ch]
            if callno < cur:
                st["spuriousPacketsRead"] += 1
                return
            if callno > cur or call is None:
                if ptype != P.DATA or seq < 1 or seq > 32:
                    st["spuriousPacketsRead"] += 1
                    return
                if call is not None and not call.done:
                    if call.tx_ended and call.mode == MODE_SENDING:
                        # next call implicitly acks the held reply
                        call._all_acked(now)
                        call._finish(now)
                    else:
                        self._send_busy(conn, ch, callno, now)
                        call._fail(CallDead("superseded by a new call"), now)
                        self.stats["nBusies"] += 1
                        return
                call = self._new_server_call(conn, ch, callno, now)
            elif call.done:
                if ptype == P.DATA and call.error_sent:
                    if self._abort_allowed(now):
                        self._send_abort_raw(conn, ch, callno, call.error_sent)
                else:
                    st["ignorePacketDally"] += 1
                return
            if call.held:
                if ptype == P.DATA and len(call.held_pkts) < call.rwind:
                    call.held_pkts.append((bytes(data), now))
                    call.last_recv = now
                if not conn.authenticated and conn.challenge_at is None:
                    self._send_challenge(conn, now)
                return
        self._receive_call(call, ptype, flags, seq, serial, cksum, data, now)

    def _receive_call(self, call, ptype, flags, seq, serial, cksum, data, now):
        call.last_recv = now
        if ptype != P.BUSY:
            call.peer_spoke = True
        if ptype == P.DATA:
            self._receive_data(call, flags, seq, serial, cksum, data, now)
        elif ptype == P.ACK:
            a = P.decode_ack(memoryview(data)[28:])
            self.stats["ackPacketsRead"] += 1
            if flags & P.REQUEST_ACK:
                # ping (or requested): answer with a PING_RESPONSE
                self._send_ack(call, P.ACK_PING_RESPONSE, serial, now, ping_reply=True)
            if not call.done:
                call._handle_ack(a, flags, now)
        elif ptype == P.ABORT:
            code = P.decode_abort(memoryview(data)[28:])
            call._fail(RemoteAbort(code), now)
            return
        elif ptype == P.BUSY:
            # the channel is still busy with an earlier call on the server;
            # 1.8.9 only counts it as liveness and avoids the channel for new
            # calls.  A call the server never took is moved to another channel
            # (bounded); after that BUSY keeps it alive until idle/hard dead.
            call.busy_seen = True
            call.conn.busy_until[call.channel] = now + BUSY_AVOID
            if (call.is_client and not call.peer_spoke and not call.done
                    and call.busy_restarts < self.cfg.busy_restarts):
                self._restart_busy_call(call, now)
        elif ptype == P.ACKALL:
            if not (call.is_client and call.rx_highest):
                call._all_acked(now)
            if call.done:
                return
            call._push(now)
        else:
            self.stats["spuriousPacketsRead"] += 1
        if not call.done:
            self._schedule(call)

    def _receive_data(self, call, flags, seq, serial, cksum, data, now):
        if call.done:
            return
        conn = call.conn
        sec = conn.security
        secure = sec.index != 0
        if not (flags & P.JUMBO_PACKET):
            items = ((seq, flags, memoryview(data)[28:], serial, cksum),)
        elif secure:
            items = [(h.seq, h.flags, pl, h.serial, h.cksum)
                     for h, pl in P.split_jumbo(data, 64)]
        else:
            # rxnull fast path: walk the jumbo headers without Header objects
            items = []
            mv = memoryview(data)
            off = 28
            end = len(data)
            s = seq
            fl = flags
            ser = serial
            while fl & P.JUMBO_PACKET:
                if end - off < 1416 or len(items) >= 63:
                    raise DecodeError("truncated jumbogram")
                items.append((s, fl, mv[off:off + 1412], ser, 0))
                off += 1412
                fl = data[off]
                off += 4
                s = (s + 1) & 0xffffffff
                ser = (ser + 1) & 0xffffffff
            items.append((s, fl, mv[off:], ser, 0))
        if call.is_client and not call.rx_highest:
            t = call.tx_last_at
            if t is not None:
                # request sent once, first reply packet: RTT + the server's work
                rt = call.conn.peer.reply_rtt
                if rt is None or now - t < rt:
                    call.conn.peer.reply_rtt = now - t
            if call.tx_q:
                # the first reply packet acknowledges the whole request
                call._all_acked(now)
        q = call.rx_q
        app = call.rx_app
        rwind = call.rwind
        wlimit = self._rx_first(call) + rwind
        req_ack = False
        dup = False
        oos = False
        got_new = 0
        last_serial = serial
        number = call.number
        channel = call.channel
        for s, fl, payload, ser, ck in items:
            if secure:
                try:
                    payload = sec.check_packet(conn, number, channel, s, ck, payload)
                except AFSError as e:
                    self._abort_connection(conn, e.code, now)
                    return
            if fl & P.REQUEST_ACK:
                req_ack = True
            if s < app or s in q:
                dup = True
                self.stats["dupPacketsRead"] += 1
                continue
            if s >= wlimit or s == 0:
                self.stats["spuriousPacketsRead"] += 1
                oos = True
                continue
            if fl & P.LAST_PACKET:
                if call.rx_last and call.rx_last != s:
                    self.stats["spuriousPacketsRead"] += 1
                    continue
                call.rx_last = s
            elif call.rx_last and s > call.rx_last:
                self.stats["spuriousPacketsRead"] += 1
                continue
            q[s] = payload
            got_new += 1
            call.bytes_received += len(payload)
            if s > call.rx_highest:
                if s > call.rx_highest + 1 and call.rx_highest >= call.rx_contig:
                    oos = True
                call.rx_highest = s
            elif s < call.rx_highest:
                oos = True
            last_serial = ser
        if got_new:
            c = call.rx_contig
            if c < app - 1:
                c = app - 1
            while (c + 1) in q:
                c += 1
            call.rx_contig = c
            call.last_data_recv = now
            call.ack_prev = call.rx_highest
            if call.rx_last and c >= call.rx_last and not call.rx_complete:
                call.rx_complete = True
                if not call.is_client:
                    call.mode = MODE_RECEIVING
            self._wake(call)
        call.n_soft += got_new
        # ack policy (rxi_ReceiveDataPacket): an ack when asked for, on a
        # duplicate or a gap, else every second packet (sub-packets of a
        # jumbogram count one by one), else after a delay.  The ack itself is
        # queued and sent by take_datagrams(), after the whole input batch:
        # one ack per call per batch, carrying the newest state.
        if req_ack:
            reason = P.ACK_REQUESTED
        elif dup:
            reason = P.ACK_DUPLICATE
        elif oos and call.rx_highest > call.rx_contig:
            reason = P.ACK_OUT_OF_SEQUENCE
        elif call.n_soft >= 2 and not call.rx_complete:
            reason = P.ACK_IDLE
        else:
            reason = 0
        if reason or call.ack_reason:
            self._queue_ack(call, reason or call.ack_reason, last_serial)
            if call.n_soft >= self._ack_split(call):
                # a long batch: let the sender refill the window meanwhile
                self._send_ack(call, call.ack_reason, last_serial, now)
        elif call.n_soft:
            delay = LAST_ACK_DELAY if (call.is_client and call.rx_complete) else SOFT_ACK_DELAY
            if call.ack_at is None:
                call.ack_at = now + delay
                self._schedule(call)

    def _ack_split(self, call):
        return max(2, call.acked_rwind // ACK_SPLIT)

    def _rx_first(self, call):
        """firstPacket we advertise: everything received in order is
        acknowledged at once (it sits in our buffer, the sender may drop
        it), up to one receive window beyond what the application read."""
        f = call.rx_contig + 1
        lim = call.rx_app + self.cfg.max_window
        return f if f < lim else lim

    def _queue_ack(self, call, reason, serial):
        cur = call.ack_reason
        if not cur:
            self._ackq.append(call)
            call.ack_reason = reason
        elif _ACK_PRIO[reason] > _ACK_PRIO[cur]:
            call.ack_reason = reason
        call.ack_serial = serial
        call.ack_at = None

    def _flush_acks(self):
        q = self._ackq
        self._ackq = []
        now = self._now
        for call in q:
            r = call.ack_reason
            if r:
                call.ack_reason = 0
                if not call.done:
                    self._send_ack(call, r, call.ack_serial, now)

    def _client_dally(self, conn, ch, callno, ptype, flags, data, serial, now):
        num, last = conn.last_done[ch]
        if callno == num and num:
            if ptype == P.DATA:
                # our final ack was lost: ack everything again (one reply per packet)
                self._send_raw_ack(conn, ch, callno, last + 1, P.ACK_DUPLICATE, serial)
                return
            if ptype == P.ACK and flags & P.REQUEST_ACK:
                self._send_raw_ack(conn, ch, callno, last + 1, P.ACK_PING_RESPONSE, serial)
                return
        elif ptype == P.ACK and flags & P.REQUEST_ACK and callno >= conn.call_numbers[ch]:
            # reachability ping for a call we have not started / know
            self._send_raw_ack(conn, ch, callno, 1, P.ACK_PING_RESPONSE, serial)
            return
        self.stats["spuriousPacketsRead"] += 1

    def _receive_conn_level(self, conn, ptype, data, now):
        body = memoryview(data)[28:]
        if ptype == P.ABORT:
            code = P.decode_abort(body)
            self._conn_aborted(conn, RemoteAbort(code), now)
        elif ptype == P.CHALLENGE and conn.is_client:
            if not conn.active_calls():
                return
            try:
                resp = conn.security.respond_to_challenge(conn, bytes(body))
            except AFSError as e:
                self._abort_connection(conn, e.code, now)
                return
            if resp is not None:
                self._send_packet(conn, 0, 0, 0, P.RESPONSE, P.CLIENT_INITIATED, resp)
        elif ptype == P.RESPONSE and not conn.is_client:
            if conn.authenticated:
                return
            try:
                conn.security.verify_response(conn, bytes(body), now)
            except AFSError as e:
                self._abort_connection(conn, e.code, now)
                return
            except DecodeError:
                self.stats["bogusPacketOnRead"] += 1
                return
            if conn.authenticated:
                conn.challenge_at = None
                self._release_held(conn, now)
        elif ptype in (P.CHALLENGE, P.RESPONSE) or 9 <= ptype <= 11:
            # a CHALLENGE to a server / RESPONSE to a client, or PARAMS: ignored
            self.stats["spuriousPacketsRead"] += 1
        else:
            # any other type with callNumber 0: the peer is broken.  Abort the
            # connection with RX_PROTOCOL_ERROR (the ABORT itself bounded by the
            # unsolicited-reply rate; an ABORT is never answered, see above)
            self.stats["spuriousPacketsRead"] += 1
            if self._abort_allowed(now):
                self._abort_connection(conn, errors.RX_PROTOCOL_ERROR, now)
            else:
                self._conn_aborted(conn, LocalAbort(errors.RX_PROTOCOL_ERROR), now)

    def _release_held(self, conn, now):
        for call in conn.channels:
            if call is None or call.done or not call.held:
                continue
            call.held = False
            pk = call.held_pkts
            call.held_pkts = []
            self.new_calls.append(call)
            for data, t in pk:
                h = _hunpack_from(data, 0)
                self._receive_call(call, h[5], h[6], h[3], h[4], h[9], data, now)

    def _find_server_conn(self, epoch, cid, callno, seq, ptype, secidx, service, addr, now):
        if epoch & 0x80000000:
            key = (epoch, cid & 0xfffffffc)
        else:
            key = (epoch, cid & 0xfffffffc, addr)
        conn = self.server_conns.get(key)
        if conn is not None:
            if conn.peer.addr != addr:
                if not (epoch & 0x80000000):
                    return None
                # NAT rebinding: follow the client
                conn.peer.nconns -= 1
                conn.peer = self.get_peer(addr, now)
                conn.peer.nconns += 1
            if conn.service != service:
                return None
            return conn
        if ptype != P.DATA or callno == 0 or seq < 1 or seq > 32:
            return None
        table = self.services.get(service)
        sec = table.get(secidx) if table is not None else None
        if sec is None:
            if self._abort_allowed(now):
                self._send_abort_to(addr, epoch, cid, callno, secidx, service,
                                    errors.RX_INVALID_OPERATION)
            return None
        if len(self.server_conns) >= self.cfg.max_server_conns:
            self.stats["fatalErrors"] += 1
            return None
        peer = self.get_peer(addr, now)
        conn = Connection(self, peer, epoch, cid & 0xfffffffc, service, sec, False, now)
        conn.key = key
        self.server_conns[key] = conn
        self.stats["nServerConns"] += 1
        self._arm_reaper(now)
        return conn

    def _new_server_call(self, conn, ch, callno, now):
        cfg = self.cfg
        call = Call(conn, ch, callno, now, cfg.server_dead_time, cfg.server_idle_dead, 0.0)
        conn.channels[ch] = call
        conn.call_numbers[ch] = callno
        self.stats["nCallStructs"] += 1
        self._schedule(call)
        if conn.authenticated:
            self.new_calls.append(call)
        else:
            call.held = True
            if conn.challenge_at is None:
                self._send_challenge(conn, now)
        return call

    def _conn_aborted(self, conn, exc, now):
        conn.error = exc
        for c in list(conn.channels):
            if c is not None and not c.done:
                c._fail(type(exc)(exc.code), now)
        self._destroy_conn(conn)

    def _abort_connection(self, conn, code, now):
        """We abort a whole connection (security failure...)."""
        self._send_packet(conn, 0, 0, 0, P.ABORT,
                          P.CLIENT_INITIATED if conn.is_client else 0,
                          P.encode_abort(code))
        self._conn_aborted(conn, LocalAbort(code), now)

    def _destroy_conn(self, conn):
        if conn.done:
            return
        if conn.is_client:
            self._flush_pending_acks(conn)
        conn.done = True
        if conn.is_client:
            if self.client_conns.get(conn.cid) is conn:
                del self.client_conns[conn.cid]
            lst = self.shared.get(conn.key)
            if lst is not None and conn in lst:
                lst.remove(conn)
                if not lst:
                    del self.shared[conn.key]
        else:
            if self.server_conns.get(conn.key) is conn:
                del self.server_conns[conn.key]
        conn.peer.nconns -= 1
        if conn.peer.nconns <= 0:
            conn.peer.idle_since = conn.last_used

    def _flush_pending_acks(self, conn):
        """rxi_DestroyConnection: a call with a delayed ack still pending gets
        it now (an ack while the reply is incomplete, else an ACKALL): no
        later call on the channel will acknowledge the reply."""
        for c in conn.channels:
            if c is None or c.done or (c.ack_at is None and not c.ack_reason):
                continue
            c.ack_at = None
            if c.rx_complete:
                self._send_packet(conn, c.channel, c.number, 0, P.ACKALL,
                                  P.CLIENT_INITIATED, b"")
                c.ack_reason = 0
            else:
                self._send_ack(c, P.ACK_DELAY, 0, self._now)

    def shutdown(self, now):
        """The endpoint is closing: destroy every client connection (sending
        pending final acks as ACKALL) and fail the calls still running."""
        self._now = now
        calls = self.all_calls()
        for conn in list(self.client_conns.values()):
            self._destroy_conn(conn)
        for c in calls:
            if not c.done:
                c._fail(LocalAbort(errors.RX_CALL_DEAD, "endpoint closed"), now)

    def all_calls_with_peer(self, peer):
        for conn in self.all_connections():
            if conn.peer is peer:
                for c in conn.channels:
                    if c is not None and not c.done:
                        yield c

    def peer_unreachable(self, addr, now, why="unreachable"):
        """The network reported a datagram to addr undeliverable (ICMP
        destination/port unreachable, seen through IP_RECVERR).  Like
        rxi_SetPeerDead + rxi_CheckPeerDead: every call to that peer that
        started before the error fails with RX_CALL_DEAD."""
        peer = self.peers.get(addr)
        if peer is None:
            return
        peer.neterrs += 1
        peer.last_neterr = why
        self.stats["peerNetErrors"] += 1
        for c in list(self.all_calls_with_peer(peer)):
            if c.neterr_gen < peer.neterrs:
                c._fail(CallDead("%s:%d %s" % (addr[0], addr[1], why)), now)

    def _clock_check(self, now):
        """A clock that moved back more than CLOCK_JUMP fails every call that
        saw traffic after the new 'now' with RX_CALL_TIMEOUT (rxi_CheckCall)."""
        hi = self._clock_hi
        if now >= hi:
            self._clock_hi = now
            return
        if hi - now <= CLOCK_JUMP:
            return
        self._clock_hi = now
        self.stats["clockJumps"] += 1
        for c in self.all_calls():
            if c.done:
                continue
            if max(c.last_send, c.last_recv) - now > CLOCK_JUMP:
                self._send_abort_call(c, errors.RX_CALL_TIMEOUT)
                c._fail(CallTimeout("clock moved back %.0f s" % (hi - now)), now)
        # every deadline was computed on the old clock: start afresh
        self._heap = []
        for conn in self.all_connections():
            conn.last_used = min(conn.last_used, now)
            if conn.challenge_at is not None:
                conn.challenge_at = now + CHALLENGE_INTERVAL
            conn._deadline = None
            self._schedule(conn)
            for c in conn.channels:
                if c is not None and not c.done:
                    c.last_recv = min(c.last_recv, now)
                    c.last_send = min(c.last_send, now)
                    c.last_data_recv = min(c.last_data_recv, now)
                    c.created = min(c.created, now)
                    c.resend_at = None if c.resend_at is None else now
                    c.ack_at = None if c.ack_at is None else now
                    c.reack_at = None if c.reack_at is None else now
                    c._deadline = None
                    self._schedule(c)
        for p in self.peers.values():
            p.idle_since = min(p.idle_since, now)
        self._abort_time = None
        self._reap_deadline = None
        self._reaper._deadline = None
        self._arm_reaper(now)

    def _conn_became_idle(self, conn, now):
        self._arm_reaper(now)

    # --------------------------------------------------------- debug
    def _receive_debug(self, ptype, data, addr, flags, now):
        if not (flags & P.CLIENT_INITIATED):
            # a reply to our own debug client (or a NAT ping): hand it up
            if len(self.debug_replies) < 1024:
                self.debug_replies.append((P.decode_header(data), bytes(data[28:]), addr))
            return
        from . import debug
        body = debug.answer(self, ptype, data, addr)
        if body is None:
            return
        h = P.decode_header(data)
        h.flags &= ~P.CLIENT_INITIATED
        h.serial = 0
        self._emit(h.encode() + body, addr, ptype)

    # ------------------------------------------------------- sending
    def _emit(self, datagram, addr, ptype):
        self.out.append((datagram, addr))
        self.stats["packetsSent_%d" % ptype] += 1

    def _send_packet(self, conn, ch, callno, seq, ptype, flags, body, serial=None):
        if serial is None:
            serial = conn.next_serial()
        d = _hpack(conn.epoch, conn.cid | ch, callno, seq, serial, ptype, flags, 0,
                   conn.security.index, 0, conn.service) + body
        conn.packets_sent += 1
        conn.bytes_sent += len(d)
        conn.peer.bytes_sent += len(d)
        self._emit(d, conn.peer.addr, ptype)
        return serial

    def _send_data(self, call, pkts, now, resend):
        conn = call.conn
        peer = conn.peer
        base = P.CLIENT_INITIATED if call.is_client else 0
        n = len(pkts)
        st = self.stats
        cwind = call.cwind
        epoch = conn.epoch
        cidch = conn.cid | call.channel
        number = call.number
        secidx = conn.security.index
        service = conn.service
        addr = peer.addr
        maxj = 1
        if not resend and self.cfg.send_jumbo and peer.max_packets > 1 and \
                not (conn.header_size or conn.trailer_size):
            # (a sealed auth packet can be 1412 bytes too, but only clear
            # packets go in jumbograms: see _payload_size)
            maxj = min(peer.max_packets, call.n_dgram, peer.our_dgram,
                       (peer.max_mtu - 24) // 1416)
        ss = call.sent_serials
        out = self.out
        i = 0
        nbytes = 0
        while i < n:
            # group for one datagram
            j = i + 1
            if maxj > 1:
                while (j < n and j - i < maxj and len(pkts[j - 1].data) == P.JUMBO_BUFFER_SIZE
                       and not (pkts[j - 1].flags & P.LAST_PACKET)):
                    j += 1
            group = pkts[i:j]
            serial = conn.next_serial(len(group))
            last_of_burst = (j == n)
            parts = []
            for k, p in enumerate(group):
                fl = p.flags | base
                if k < len(group) - 1:
                    fl |= P.JUMBO_PACKET | P.MORE_PACKETS
                elif not last_of_burst:
                    fl |= P.MORE_PACKETS
                else:
                    if resend or (not (fl & P.LAST_PACKET) and
                                  (cwind <= 2 or (not call.peer_slow_start and p.seq & 1))):
                        fl |= P.REQUEST_ACK
                s = serial + k
                p.serial = s
                if p.nsent:
                    st["dataPacketsReSent"] += 1
                    peer.resends += 1
                p.nsent += 1
                p.sent_at = now
                if p.flags & P.LAST_PACKET:
                    call.tx_last_at = now if p.nsent == 1 else None   # (Karn)
                if k == len(group) - 1:
                    ss[s] = now
                if k == 0:
                    parts.append(_hpack(epoch, cidch, number, p.seq, s, P.DATA, fl, 0,
                                        secidx, p.cksum, service))
                else:
                    parts.append(_U32.pack((fl << 24) | p.cksum))
                parts.append(p.data)
            d = b"".join(parts)
            out.append((d, addr))
            nbytes += len(d)
            st["packetsSent_1"] += 1
            st["dataPacketsSent"] += len(group)
            i = j
        conn.packets_sent += n
        conn.bytes_sent += nbytes
        peer.bytes_sent += nbytes
        peer.n_sent += n
        call.last_send = now
        conn.last_used = now

    def _ack_body(self, call, reason, serial):
        app = self._rx_first(call)
        hi = call.rx_highest
        nacks = hi - app + 1 if hi >= app else 0
        if nacks > P.MAX_ACKS:
            nacks = P.MAX_ACKS
        if nacks <= 0:
            acks = b""
        elif call.rx_contig >= app + nacks - 1:
            acks = b"\x01" * nacks
        else:
            q = call.rx_q
            acks = bytes(1 if (app + i) in q else 0 for i in range(nacks))
        peer = call.conn.peer
        maxmtu = min(self.cfg.max_receive_size, P.MAX_PACKET_SIZE)
        return (_ACKHEAD.pack(0, 0, app, call.ack_prev, serial, reason, nacks) + acks +
                _ACKTRAIL.pack(maxmtu, peer.our_if_mtu, call.rwind, peer.our_dgram))

    def _send_ack(self, call, reason, serial, now, ping_reply=False, reack=False):
        """``reack``: this repeats an ack that drew nothing (the wait before
        the next repeat doubles, and it does not count as traffic for the
        keepalive: only a ping proves the peer is there)."""
        conn = call.conn
        fl = P.SLOW_START_OK | (P.CLIENT_INITIATED if conn.is_client else 0)
        body = self._ack_body(call, reason, serial)
        self._send_packet(conn, call.channel, call.number, 0, P.ACK, fl, body)
        self.stats["ackPacketsSent"] += 1
        if reason != P.ACK_PING_RESPONSE:
            call.n_soft = 0
            call.ack_at = None
            call.ack_reason = 0
            call.acked_first = self._rx_first(call)
            call.acked_rwind = call.rwind
            self._arm_reack(call, now, reack)
        if reack:
            self.stats["reacksSent"] += 1
        else:
            call.last_send = now

    def _arm_reack(self, call, now, again):
        if call.done or call.rx_complete or not call.rx_highest or \
                (not call.is_client and call.mode != MODE_RECEIVING):
            call.reack_at = None
            return
        if again:
            gap = call.reack_gap * 2
        else:
            peer = call.conn.peer
            if peer.srtt is not None:
                gap = peer.srtt + 4 * peer.rttvar
            elif peer.reply_rtt is not None:
                gap = 3 * peer.reply_rtt
            else:
                gap = REACK_UNKNOWN
            if gap < REACK_MIN:
                gap = REACK_MIN
        if gap > REACK_MAX:
            call.reack_at = None
            return
        call.reack_gap = gap
        call.reack_hi = call.rx_highest
        call.reack_at = now + gap
        self._schedule(call)

    def _send_ping(self, call, now):
        conn = call.conn
        fl = P.SLOW_START_OK | P.REQUEST_ACK | (P.CLIENT_INITIATED if conn.is_client else 0)
        body = self._ack_body(call, P.ACK_PING, 0)
        s = self._send_packet(conn, call.channel, call.number, 0, P.ACK, fl, body)
        call.sent_serials[s] = now
        self.stats["ackPacketsSent"] += 1
        self.stats["pingPacketsSent"] += 1
        call.last_send = now

    def _send_raw_ack(self, conn, ch, callno, first, reason, serial):
        fl = P.SLOW_START_OK | (P.CLIENT_INITIATED if conn.is_client else 0)
        body = (_ACKHEAD.pack(0, 0, first, max(first - 1, 0), serial, reason, 0) +
                _ACKTRAIL.pack(min(self.cfg.max_receive_size, P.MAX_PACKET_SIZE),
                               conn.peer.our_if_mtu, self.cfg.max_window,
                               conn.peer.our_dgram))
        self._send_packet(conn, ch, callno, 0, P.ACK, fl, body)
        self.stats["ackPacketsSent"] += 1

    def _send_abort_call(self, call, code):
        conn = call.conn
        self._send_packet(conn, call.channel, call.number, 0, P.ABORT,
                          P.CLIENT_INITIATED if conn.is_client else 0,
                          P.encode_abort(code))
        self.stats["abortPacketsSent"] += 1

    def _send_abort_raw(self, conn, ch, callno, code):
        self._send_packet(conn, ch, callno, 0, P.ABORT,
                          P.CLIENT_INITIATED if conn.is_client else 0,
                          P.encode_abort(code))
        self.stats["abortPacketsSent"] += 1

    def _send_abort_to(self, addr, epoch, cid, callno, secidx, service, code):
        d = _hpack(epoch, cid, callno, 0, 1, P.ABORT, 0, 0, secidx, 0,
                   service) + P.encode_abort(code)
        self._emit(d, addr, P.ABORT)
        self.stats["abortPacketsSent"] += 1

    def _send_busy(self, conn, ch, callno, now):
        if not self._abort_allowed(now):
            return
        self._send_packet(conn, ch, callno, 0, P.BUSY, 0, b"")
        self.stats["busyPacketsSent"] += 1

    def _send_challenge(self, conn, now):
        body = conn.security.make_challenge(conn, now)
        conn.challenge_sent += 1
        conn.challenge_at = now + CHALLENGE_INTERVAL
        self._schedule(conn)
        if body is None:
            return
        self._send_packet(conn, 0, 0, 0, P.CHALLENGE, 0, body)

    def _abort_allowed(self, now):
        """Token bucket bounding unsolicited ABORT/BUSY replies."""
        rate = self.cfg.abort_rate
        if self._abort_time is None:
            self._abort_time = now
        self._abort_tokens = min(rate, self._abort_tokens + (now - self._abort_time) * rate)
        self._abort_time = now
        if self._abort_tokens >= 1:
            self._abort_tokens -= 1
            return True
        return False

    def _apply_trailer(self, call, a: P.AckBody):
        peer = call.conn.peer
        peer.seen_trailer = True
        m = min(max(a.max_mtu, P.MIN_PACKET_SIZE), P.MAX_PACKET_SIZE)
        peer.max_mtu = m
        if a.if_mtu is not None:
            peer.if_mtu = min(max(a.if_mtu, P.MIN_PACKET_SIZE), P.MAX_PACKET_SIZE)
        if a.rwind is not None:
            w = a.rwind or 1
            w = min(w, self.cfg.max_window)
            call.twind = w
            if call.ssthresh > w:
                call.ssthresh = w
        if a.max_packets is not None:
            mp = min(a.max_packets, peer.our_dgram, (m - 24) // 1416 if m > 1440 else 1)
            peer.max_packets = mp if mp > 1 else 1
        else:
            peer.max_packets = 1

    def _rtt_stat(self, rtt):
        self.stats["nRttSamples"] += 1
        self.rtt_total += rtt
        if self.rtt_min is None or rtt < self.rtt_min:
            self.rtt_min = rtt
        if rtt > self.rtt_max:
            self.rtt_max = rtt

    # ---------------------------------------------------- scheduling
    def _schedule(self, obj):
        d = obj._deadline_calc()
        if d is None:
            obj._deadline = None
            return
        cur = obj._deadline
        if cur is not None and cur <= d:
            return      # an earlier wake-up is already queued; it will re-arm
        obj._deadline = d
        self._hseq += 1
        heapq.heappush(self._heap, (d, self._hseq, obj))

    def _wake(self, call):
        if not call._woken:
            call._woken = True
            self.woken.append(call)

    def take_woken(self):
        w = self.woken
        self.woken = []
        for c in w:
            c._woken = False
        return w

    def take_new_calls(self):
        n = self.new_calls
        self.new_calls = []
        return n

    def write_high_water(self, call) -> int:
        return max(65536, 2 * self.cfg.max_window * P.JUMBO_BUFFER_SIZE)

    # ------------------------------------------------------- reaping
    def _arm_reaper(self, now):
        if self._reap_deadline is None:
            self._reap_deadline = now + 10.0
            self._schedule(self._reaper)

    def _reap(self, now):
        self._reap_deadline = None
        cfg = self.cfg
        for conn in list(self.client_conns.values()) + list(self.server_conns.values()):
            if conn.active_calls() or any(c is not None and c.held for c in conn.channels):
                continue
            if not conn.is_client:
                # drop finished server calls' state after a while
                pass
            if now - conn.last_used >= cfg.conn_idle_reap:
                self._destroy_conn(conn)
        for addr, peer in list(self.peers.items()):
            if peer.nconns <= 0 and now - peer.idle_since >= cfg.peer_idle_reap:
                del self.peers[addr]
        if self.client_conns or self.server_conns or self.peers:
            self._reap_deadline = now + 10.0
            self._schedule(self._reaper)

    # ---------------------------------------------------- inspection
    def all_connections(self):
        return list(self.client_conns.values()) + list(self.server_conns.values())

    def all_calls(self):
        out = []
        for conn in self.all_connections():
            for c in conn.channels:
                if c is not None:
                    out.append(c)
        return out


_ACKHEAD = struct.Struct("!HHIIIBB")
# which reason a queued ack keeps when several apply in one batch
_ACK_PRIO = {P.ACK_IDLE: 0, P.ACK_DELAY: 0, P.ACK_REQUESTED: 1, P.ACK_DUPLICATE: 2,
             P.ACK_EXCEEDS_WINDOW: 3, P.ACK_OUT_OF_SEQUENCE: 4}
_ACKTRAIL = struct.Struct("!3xIIII")
