"""Receiving, an ack that drew no new data is repeated (core.REACK_MIN...).

A sender whose window is spent moves only on an ack.  When the one ack that
ended its burst is lost, OpenAFS's sender sits out its retransmission
timeout, and late acks inflate that timeout to seconds.  So the receiver
repeats its last ack -- reason DELAY, which a sender takes no RTT sample
from -- after max(REACK_MIN, srtt + 4 rttvar), doubling the wait while
nothing comes, up to REACK_MAX."""

from __future__ import annotations

import pytest

from kafs.rx import core as rxcore
from kafs.rx import packet as P

from .netsim import ClientCall, EchoServer, Net

CLI = ("10.0.0.1", 7001)
SRV = ("10.0.0.2", 7003)
SERVICE = 52


class PausingServer:
    """Reads the request, then writes its reply in ``chunks``, a list of
    (bytes, pause after them in seconds); the last chunk ends the reply.  (The
    simulation runs the app at events only, so a pause ends at the first
    event after it.)"""

    def __init__(self, core, chunks):
        self.core = core
        self.chunks = list(chunks)
        self.call = None
        self.resume_at = None

    def __call__(self, now):
        for c in self.core.take_new_calls():
            self.call = c
        c = self.call
        if c is None or c.done:
            return
        while c.read(1 << 20, now):
            pass
        if not c.rx_eof or not self.chunks:
            return
        if self.resume_at is not None and now < self.resume_at:
            return
        data, pause = self.chunks.pop(0)
        c.write(data, now)
        if self.chunks:
            self.resume_at = now + pause
        else:
            c.end_write(now)


class AckLog:
    """Records the client's ACK packets with their decoded bodies."""

    def __init__(self, net):
        self.acks = []
        self.net = net
        prev = net.drop_filter

        def spy(data, src, dst):
            if src == CLI:
                h = P.decode_header(data)
                if h.type == P.ACK:
                    self.acks.append((net.now, h.flags, P.decode_ack(data[P.HEADER_SIZE:])))
            return prev(data, src, dst) if prev is not None else False
        net.drop_filter = spy


def start(chunks, request=b"req", delay=0.0005, **ckw):
    net = Net(seed=7, loss=0.0, reorder=0.0, delay=delay)
    c = net.add(CLI, **ckw)
    s = net.add(SRV)
    s.add_service(SERVICE, None)
    app = PausingServer(s, chunks)
    net.apps.append(app)
    log = AckLog(net)
    cc = ClientCall(c, SRV, SERVICE, request, net.now)
    net.apps.append(cc)
    return net, c, app, cc, log


def repeat_runs(acks):
    """Runs of repeated acks: for each ack followed by DELAY acks with the same
    firstPacket (pings aside), (its time, the gaps from one ack to the next)."""
    runs, cur, prev_t, prev_first = [], None, None, None
    for t, fl, a in acks:
        if a.reason == P.ACK_PING:
            continue
        if a.reason == P.ACK_DELAY and a.first_packet == prev_first:
            if cur is None:
                cur = []
                runs.append((prev_t, cur))
            cur.append(t - prev_t)
        else:
            cur = None
        prev_t, prev_first = t, a.first_packet
    return runs


def test_silence_mid_reply_draws_backed_off_delay_acks_up_to_reack_max():
    chunks = [(b"a" * 100_000, 3.0), (b"b" * 100_000, 0.0)]
    net, c, app, cc, log = start(chunks)
    # up to just before the server's own keepalive ping (2 s into the pause)
    net.run_until(lambda: c.stats["reacksSent"] == 6)
    runs = repeat_runs(log.acks)
    assert len(runs) == 1, runs
    t0, gaps = runs[0]
    # the first wait is REACK_MIN (srtt is far below it), then it doubles
    assert abs(gaps[0] - rxcore.REACK_MIN) < 0.002, gaps
    for g0, g1 in zip(gaps, gaps[1:]):
        assert abs(g1 - 2 * g0) < 0.002, gaps
    # and stops before a wait would pass REACK_MAX
    assert gaps[-1] <= rxcore.REACK_MAX < 2 * gaps[-1], gaps
    assert len(gaps) == 6
    # repeats are not traffic: the keepalive ping stays due dead_time / 6
    # after the last ack that was not a repeat
    call = cc.call
    assert call.last_send == t0
    assert call._deadline_calc() <= t0 + call.dead_time / 6.0
    net.run_until(lambda: cc.finished)
    assert cc.result == b"a" * 100_000 + b"b" * 100_000
    assert c.stats["reacksSent"] == 6
    assert len(repeat_runs(log.acks)) == 1


def test_new_data_restarts_the_wait_at_reack_min():
    chunks = [(b"a" * 50_000, 2.0), (b"b" * 50_000, 2.0), (b"c" * 50_000, 0.0)]
    net, c, app, cc, log = start(chunks)
    net.run_until(lambda: cc.finished)
    runs = repeat_runs(log.acks)
    assert len(runs) == 2, runs
    assert runs[0][0] < runs[1][0]
    for t0, gaps in runs:
        assert abs(gaps[0] - rxcore.REACK_MIN) < 0.002, gaps
        assert len(gaps) == 6
    assert c.stats["reacksSent"] == 12


def test_no_repeats_without_a_silence_or_after_the_reply_is_complete():
    net, c, app, cc, log = start([(b"x" * 300_000, 0.0)])
    net.run_until(lambda: cc.finished)
    end = net.now + 5
    net.run_until(lambda: net.now >= end or not net.step(), max_time=10)
    assert c.stats["reacksSent"] == 0
    assert cc.result == b"x" * 300_000


def drain(call, now, buf):
    """Read what the call has into ``buf``."""
    while True:
        d = call.read(1 << 20, now)
        if not d:
            break
        buf.extend(d)


def unread_reply(reply, seed):
    """A call whose reply is ``reply`` and whose application reads nothing
    for 3 s: (net, client core, call)."""
    net = Net(seed=seed, reorder=0.0)
    c = net.add(CLI)
    s = net.add(SRV)
    s.add_service(SERVICE, None)
    net.apps.append(PausingServer(s, [(reply, 0.0)]))
    call = c.start_call(SRV, SERVICE, None, net.now, dead_time=60)
    call.write(b"req", net.now)
    call.end_write(net.now)
    end = net.now + 3
    net.run_until(lambda: net.now >= end, max_time=10)
    return net, c, call


def test_a_complete_reply_not_yet_read_is_not_repeated():
    """The whole reply is in (and acked); the application has not read it
    yet: nothing is missing, so nothing is repeated."""
    net, c, call = unread_reply(b"y" * 10_000, 4)
    assert call.rx_complete and not call.rx_eof and not call.done
    assert c.stats["reacksSent"] == 0
    assert call.read(1 << 20, net.now) == b"y" * 10_000


def test_full_window_waits_for_the_application_not_a_repeat():
    """The client reads nothing: the server fills the window and stops; the
    client has no room to offer, so it repeats nothing."""
    net, c, call = unread_reply(b"y" * 1_000_000, 5)
    # the window is full of data in order, waiting to be read
    assert c._rx_first(call) + call.rwind == call.rx_highest + 1
    assert call.rx_contig == call.rx_highest
    assert not call.rx_complete
    assert c.stats["reacksSent"] == 0
    # reading opens the window and the transfer finishes
    got = bytearray()

    net.apps.append(lambda now: drain(call, now, got))
    net.run_until(lambda: call.rx_eof)
    assert bytes(got) == b"y" * 1_000_000


def test_lost_acks_at_a_spent_window_are_recovered_by_the_repeat():
    """The window is 2 packets, so the server sends it whole each round trip
    and draws one ack.  One of those acks is lost: the server has its window
    spent and hears nothing.  The repeat comes REACK_MIN later and nothing is
    retransmitted."""
    net = Net(seed=11, reorder=0.0)
    c = net.add(CLI, init_window=2, max_window=2)
    s = net.add(SRV)
    s.add_service(SERVICE, None)
    reply = b"z" * 200_000
    app = PausingServer(s, [(reply, 0.0)])
    net.apps.append(app)
    dropped = []

    def drop_one(data, src, dst):
        if src == CLI and P.decode_header(data).type == P.ACK:
            a = P.decode_ack(data[P.HEADER_SIZE:])
            if a.reason != P.ACK_DELAY and a.first_packet >= 40 and not dropped:
                dropped.append((net.now, a.first_packet))
                return True
        return False
    net.drop_filter = drop_one
    log = AckLog(net)
    cc = ClientCall(c, SRV, SERVICE, b"req", net.now)
    net.apps.append(cc)
    net.run_until(lambda: cc.finished)
    assert cc.result == reply
    t_drop = dropped[0][0]
    first = dropped[0][1]
    after = [(t, a) for t, fl, a in log.acks if t > t_drop]
    t1, a1 = after[0]
    assert a1.reason == P.ACK_DELAY and a1.first_packet == first
    assert abs(t1 - t_drop - rxcore.REACK_MIN) < 0.002
    assert c.stats["reacksSent"] == 1
    assert s.stats["dataPacketsReSent"] == 0


def test_first_wait_from_the_quickest_reply_when_there_is_no_rtt_sample():
    """A one-packet request draws no ack, so no RTT sample: the first wait is
    3x the request-to-first-reply time (40 ms here, 20 ms each way)."""
    net, c, app, cc, log = start([(b"a" * 100_000, 3.0), (b"b" * 1000, 0.0)], delay=0.02)
    net.run_until(lambda: c.stats["reacksSent"] == 1)
    peer = c.peers[SRV]
    assert peer.srtt is None
    assert peer.reply_rtt == pytest.approx(0.04)
    runs = repeat_runs(log.acks)
    assert runs[0][1][0] == pytest.approx(3 * 0.04)
    net.run_until(lambda: cc.finished)
    assert cc.result == b"a" * 100_000 + b"b" * 1000


def test_first_wait_is_srtt_plus_4_rttvar_once_there_is_a_sample():
    """A 30 kB request is acked, which gives RTT samples; they decide."""
    net, c, app, cc, log = start([(b"a" * 100_000, 3.0), (b"b" * 1000, 0.0)],
                                 request=b"q" * 30_000, delay=0.02)
    net.run_until(lambda: c.stats["reacksSent"] == 1)
    peer = c.peers[SRV]
    assert peer.srtt is not None
    want = max(rxcore.REACK_MIN, peer.srtt + 4 * peer.rttvar)
    assert want > rxcore.REACK_MIN
    runs = repeat_runs(log.acks)
    assert runs[0][1][0] == pytest.approx(want)
    net.run_until(lambda: cc.finished)


class SlowReplyServer(EchoServer):
    """Replies ``delay`` seconds after the whole request arrived."""

    def __init__(self, core, delay):
        super().__init__(core, reply_fn=lambda r: b"ok")
        self.delay = delay
        self.complete_at = None

    def __call__(self, now):
        if self.calls and self.calls[0][0].rx_eof and self.complete_at is None:
            self.complete_at = now
        if self.complete_at is not None and now < self.complete_at + self.delay:
            for c in self.core.take_new_calls():
                self.calls.append([c, bytearray(), False])
            return
        super().__call__(now)


def test_server_repeats_during_a_pause_in_the_request_not_after_it():
    """Our server: a client pauses half-way through a 40 kB request, and the
    server repeats its ack (first wait REACK_UNKNOWN: it has no RTT sample
    of this client); once the request is whole it repeats nothing, though
    its reply waits 2 s."""
    net = Net(seed=9, reorder=0.0)
    c = net.add(CLI)
    s = net.add(SRV)
    s.add_service(SERVICE, None)
    app = SlowReplyServer(s, 2.0)
    net.apps.append(app)
    acks = []

    def spy(data, src, dst):
        if src == SRV and P.decode_header(data).type == P.ACK:
            acks.append((net.now, P.decode_ack(data[P.HEADER_SIZE:])))
        return False
    net.drop_filter = spy
    call = c.start_call(SRV, SERVICE, None, net.now)
    call.write(b"r" * 20_000, net.now)
    state = {"resume": net.now + 3.0, "done": False}
    got = bytearray()

    def client(now):
        if not state["done"] and now >= state["resume"]:
            call.write(b"s" * 20_000, now)
            call.end_write(now)
            state["done"] = True
        drain(call, now, got)
    net.apps.append(client)
    net.run_until(lambda: call.rx_eof)
    assert bytes(got) == b"ok" and app.requests == [b"r" * 20_000 + b"s" * 20_000]
    delay_acks = [t for t, a in acks if a.reason == P.ACK_DELAY]
    # 0.1, 0.2, 0.4, 0.8 s: four repeats in the client's pause, none after
    assert s.stats["reacksSent"] == 4
    assert all(t < app.complete_at for t in delay_acks)
    first = [t for t, a in acks if a.reason == P.ACK_DELAY][0]
    last_real = max(t for t, a in acks if t < first and a.reason != P.ACK_DELAY)
    assert first - last_real == pytest.approx(rxcore.REACK_UNKNOWN)


def test_a_hole_in_a_full_window_is_repeated():
    """One reply packet is lost and so is every ack telling of the hole:
    the window is full, but not with data the application can read, so
    the repeat (with its NACK) still goes out."""
    net = Net(seed=1, reorder=0.0)
    c = net.add(CLI, init_window=8, max_window=8)
    s = net.add(SRV)
    s.add_service(SERVICE, None)
    net.apps.append(EchoServer(s, reply_fn=lambda r: b"x" * 200_000))
    state = {"dropped": False}
    nack_repeats = []

    def drop(data, src, dst):
        h = P.decode_header(data)
        if src == SRV and h.type == P.DATA and h.seq == 41 and not state["dropped"]:
            state["dropped"] = True
            return True
        if src == CLI and h.type == P.ACK and state["dropped"]:
            a = P.decode_ack(data[P.HEADER_SIZE:])
            if a.first_packet == 41 and a.acks and 0 in a.acks:
                if a.reason == P.ACK_DELAY:
                    nack_repeats.append(a)
                else:
                    return True
        return False
    net.drop_filter = drop
    cc = ClientCall(c, SRV, SERVICE, b"req", net.now)
    net.apps.append(cc)
    net.run_until(lambda: cc.finished)
    assert cc.result == b"x" * 200_000
    assert nack_repeats and c.stats["reacksSent"] >= 1
