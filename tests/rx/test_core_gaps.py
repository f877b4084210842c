"""Fake-clock tests of the Rx core: BUSY restarts, callNumber-0 protocol
errors, ACKALL on connection destruction, clock jumps, ICMP unreachable,
and the receiver's ack policy."""

import heapq

from kafs import errors
from kafs.errors import CallDead, CallTimeout, LocalAbort, RemoteAbort
from kafs.rx import packet as P

from .netsim import ClientCall, EchoServer, Net

CLI = ("10.0.0.1", 7001)
SRV = ("10.0.0.2", 7003)
LCLI = ("127.0.0.1", 7001)
LSRV = ("127.0.0.1", 7003)


def setup(net, cli=CLI, srv=SRV, server_kw=None, **ckw):
    c = net.add(cli, **ckw)
    s = net.add(srv, **(server_kw or {}))
    s.add_service(52, None)
    app = EchoServer(s)
    net.apps.append(app)
    return c, s, app


def start(net, core, request, srv=SRV, **kw):
    cc = ClientCall(core, srv, 52, request, net.now, **kw)
    net.apps.append(cc)
    return cc


def inject(net, data, src, dst, delay=0.0005):
    net.n += 1
    heapq.heappush(net.q, (net.now + delay, net.n, data, src, dst))


# ------------------------------------------------------------------ BUSY

def test_busy_restarts_the_call_on_another_channel():
    net = Net(seed=21)
    net.keep_log = True
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"first")
    net.run_until(lambda: len(app.requests) == 1)
    # the server keeps executing the first call; the client gives up on it
    # and its ABORT is lost, so the server's channel stays busy
    app.calls[0][2] = True
    app.hang = False
    net.drop_filter = lambda d, src, dst: (P.decode_header(d).type == P.ABORT and
                                           P.decode_header(d).call == 1)
    cc.call.abort(-6, net.now)
    ch0 = cc.call.channel
    cc2 = start(net, c, b"second")
    assert cc2.call.channel == ch0          # nothing known yet: same channel
    t0 = net.now
    net.run_until(lambda: cc2.finished, max_time=30)
    assert cc2.result == b"dnoces"
    assert s.stats["busyPacketsSent"] == 1
    assert c.stats["busyRestarts"] == 1
    assert cc2.call.channel != ch0 and cc2.call.busy_seen
    # restarted at once: no wait for a retransmission timeout (>= 2 s)
    assert net.now - t0 < 0.1
    # the refused call number was aborted for the server's sake
    aborts = [h for t, src, dst, h, n in net.log
              if src == CLI and h.type == P.ABORT and (h.cid & 3) == ch0]
    assert aborts
    # new calls avoid the busy channel for a while (rx_NewCall's lastBusy)
    cc3 = start(net, c, b"third")
    assert cc3.call.channel != ch0
    net.run_until(lambda: cc3.finished, max_time=5)
    assert cc3.result == b"driht"


def test_busy_restarts_are_bounded_then_idle_dead():
    net = Net(seed=22)
    net.keep_log = True
    c = net.add(CLI)

    def busy_everything(d, src, dst):
        h = P.decode_header(d)
        if dst == SRV and h.type == P.DATA:
            inject(net, P.encode_header(h.epoch, h.cid, h.call, 0, 0, P.BUSY, 0, 0,
                                        h.security_index, 0, h.service), SRV, CLI)
        return dst == SRV
    net.drop_filter = busy_everything
    cc = start(net, c, b"x", idle_dead=20.0)
    t0 = net.now
    net.run_until(lambda: cc.finished, max_time=60)
    assert isinstance(cc.result, CallTimeout)
    assert cc.end_time - t0 <= 21.0
    assert c.stats["busyRestarts"] == c.cfg.busy_restarts == 3
    chans = {(h.cid, h.call) for t, src, dst, h, n in net.log
             if src == CLI and h.type == P.DATA}
    assert len(chans) == 4                   # first try + 3 restarts


def test_busy_after_the_server_answered_does_not_restart():
    net = Net(seed=23)
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"abc")
    net.run_until(lambda: len(app.requests) == 1)
    net.run_until(lambda: cc.call.peer_spoke, max_time=5)   # the server's ack
    conn = cc.call.conn
    inject(net, P.encode_header(conn.epoch, conn.cid | cc.call.channel, cc.call.number, 0, 0,
                                P.BUSY, 0, 0, 0, 0, 52), SRV, CLI)
    net.run_until(lambda: cc.call.busy_seen, max_time=1)
    assert c.stats["busyRestarts"] == 0 and not cc.call.done


# -------------------------------------------------- callNumber 0 packets

def _conn_packet(conn, ptype, flags=P.CLIENT_INITIATED, body=b""):
    return P.encode_header(conn.epoch, conn.cid, 0, 0, 1, ptype, flags, 0,
                           conn.security.index, 0, conn.service) + body


def test_call_number_zero_with_unexpected_type_aborts_the_connection():
    net = Net(seed=24)
    net.keep_log = True
    c, s, app = setup(net)
    app.hang = True
    ccs = [start(net, c, b"%d" % i) for i in range(2)]
    net.run_until(lambda: len(app.requests) == 2)
    conn = ccs[0].call.conn
    inject(net, _conn_packet(conn, P.ACKALL), CLI, SRV)
    net.run_until(lambda: all(x.finished for x in ccs), max_time=5)
    for x in ccs:
        assert isinstance(x.result, RemoteAbort) and x.result.code == errors.RX_PROTOCOL_ERROR
    for k in app.calls:
        assert isinstance(k[0].error, LocalAbort) and k[0].error.code == errors.RX_PROTOCOL_ERROR
    ab = [h for t, src, dst, h, n in net.log if src == SRV and h.type == P.ABORT]
    assert len(ab) == 1 and ab[0].call == 0
    # the client never answers the ABORT with an ABORT
    net.run_until(lambda: not net.q, max_time=5)
    assert not [h for t, src, dst, h, n in net.log if src == CLI and h.type == P.ABORT]


def test_call_number_zero_params_and_misdirected_challenge_are_ignored():
    net = Net(seed=25)
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"x")
    net.run_until(lambda: len(app.requests) == 1)
    conn = cc.call.conn
    for t in (9, 10, 11, P.CHALLENGE):
        inject(net, _conn_packet(conn, t), CLI, SRV)
    inject(net, _conn_packet(conn, P.RESPONSE, flags=0), SRV, CLI)
    net.run_until(lambda: not net.q, max_time=1)
    assert not cc.finished and not app.calls[0][0].done
    assert s.stats["abortPacketsSent"] == 0


def test_protocol_error_aborts_are_rate_limited_and_aborts_not_answered():
    net = Net(seed=26)
    c, s, app = setup(net, server_kw=dict(abort_rate=5.0))
    app.hang = True
    ccs = [start(net, c, b"%d" % i) for i in range(40)]       # 10 connections
    net.run_until(lambda: len(app.requests) == 40)
    conns = {x.call.conn for x in ccs}
    assert len(conns) == 10
    before = s.stats["abortPacketsSent"]
    for k in conns:
        s.receive_datagram(_conn_packet(k, P.DATA), CLI, net.now)
    assert not s.server_conns                     # every connection was aborted
    assert s.stats["abortPacketsSent"] - before <= 5
    # a connection-level ABORT is never answered with an ABORT
    k = next(iter(conns))
    n = s.stats["abortPacketsSent"]
    s.receive_datagram(_conn_packet(k, P.ABORT, body=P.encode_abort(-1)), CLI, net.now + 10)
    assert s.stats["abortPacketsSent"] == n


# ------------------------------------------------ ACKALL on destruction

def test_ackall_sent_when_client_connection_is_destroyed_with_ack_pending():
    net = Net(seed=27)
    net.keep_log = True
    c, s, app = setup(net)
    call = c.start_call(SRV, 52, None, net.now)
    call.write(b"hello", net.now)
    call.end_write(net.now)
    net.run_until(lambda: call.rx_complete)
    assert call.ack_at is not None            # the delayed final ack is pending
    scall = app.calls[0][0]
    assert not scall.done                     # server holds the reply until acked
    c.shutdown(net.now)
    out = c.take_datagrams()
    types = [P.decode_header(d).type for d, a in out]
    assert types == [P.ACKALL]
    assert isinstance(call.error, LocalAbort) and call.error.code == errors.RX_CALL_DEAD
    for d, a in out:
        s.receive_datagram(d, CLI, net.now)
    assert scall.done and scall.error is None
    assert not c.client_conns


def test_shutdown_sends_ack_for_incomplete_reply_and_nothing_when_idle():
    net = Net(seed=28)
    c, s, app = setup(net)
    cc = start(net, c, b"done")
    net.run_until(lambda: cc.finished)
    net.run_until(lambda: not net.q, max_time=2)
    c.shutdown(net.now)
    assert c.take_datagrams() == []


# ------------------------------------------------------------ clock jumps

def test_clock_moving_back_five_minutes_fails_calls_with_timeout():
    net = Net(seed=29)
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"x")
    net.run_until(lambda: len(app.requests) == 1)
    c.handle_timer(net.now - 200)             # small step back: tolerated
    assert not cc.call.done
    c.handle_timer(net.now - 400)
    assert isinstance(cc.call.error, CallTimeout)
    assert cc.call.error.code == errors.RX_CALL_TIMEOUT
    # the timer heap was rebuilt on the new clock
    d = c.next_deadline()
    assert d is None or d <= net.now - 400 + 20


def test_clock_moving_forward_five_minutes_fails_calls_with_timeout():
    net = Net(seed=30)
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"x")
    net.run_until(lambda: len(app.requests) == 1)
    c.handle_timer(net.now + 1000)
    assert isinstance(cc.call.error, CallTimeout)


# ------------------------------------------------------- ICMP unreachable

def test_peer_unreachable_fails_calls_at_once_with_call_dead():
    net = Net(seed=31)
    c = net.add(CLI)
    dead = ("10.9.9.9", 7003)
    cc = start(net, c, b"x", srv=dead)
    other = start(net, c, b"y", srv=("10.9.9.10", 7003))
    net.run_until(lambda: net.now > 1000.5)
    c.peer_unreachable(dead, net.now, "port unreachable")
    assert isinstance(cc.call.error, CallDead) and cc.call.error.code == errors.RX_CALL_DEAD
    assert not other.call.done
    # a call started after the error is not failed by it
    cc2 = start(net, c, b"z", srv=dead)
    net.run_until(lambda: net.now > 1001)
    assert not cc2.call.done
    c.peer_unreachable(("10.1.1.1", 1), net.now)          # unknown peer: ignored


# ------------------------------------------------------------ ack policy

def test_receiver_acks_once_per_jumbogram_and_per_batch():
    """Sub-packets of a jumbogram count one by one toward the every-second-
    packet ack, but one datagram draws at most one ack."""
    net = Net(seed=32, delay=0.0005, jitter=0.0)
    c, s, app = setup(net, cli=LCLI, srv=LSRV)
    reply = bytes(2_000_000)
    app.reply_fn = lambda r: reply
    cc = start(net, c, b"big", srv=LSRV)
    net.run_until(lambda: cc.finished, max_time=60)
    assert cc.result == reply
    dgrams = c.stats["dataPacketsRead"]
    assert s.stats["dataPacketsSent"] > 1.5 * dgrams          # jumbograms were used
    assert c.stats["ackPacketsSent"] <= dgrams + 2
    assert c.stats["ackPacketsSent"] >= dgrams // 2           # still acks every datagram or so


def test_batched_input_draws_one_ack():
    net = Net(seed=33)
    c, s, app = setup(net, cli=LCLI, srv=LSRV)
    app.hang = True
    call = c.start_call(LSRV, 52, None, net.now)
    call.write(b"req", net.now)
    call.end_write(net.now)
    net.run_until(lambda: len(app.requests) == 1)
    scall = app.calls[0][0]
    # the server writes 8 packets; deliver them to the client in one batch
    net.apps.remove(app)
    scall.write(bytes(1412 * 8 + 1), net.now)
    scall.end_write(net.now)
    out = s.take_datagrams()
    assert len(out) >= 2
    before = c.stats["ackPacketsSent"]
    for d, a in out:
        c.receive_datagram(d, LSRV, net.now)
    acks = [d for d, a in c.take_datagrams() if P.decode_header(d).type == P.ACK]
    assert len(acks) == 1 and c.stats["ackPacketsSent"] == before + 1
    # reading the data does not draw another ack (the window is wide open)
    call.read(1 << 20, net.now)
    assert not [d for d, a in c.take_datagrams() if P.decode_header(d).type == P.ACK]
