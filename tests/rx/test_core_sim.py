"""The Rx core driven over a simulated network with a fake clock."""

import random

import pytest

from kafs import errors
from kafs.errors import CallDead, CallTimeout, RemoteAbort
from kafs.rx import packet as P
from kafs.rx.core import Config

from .netsim import ClientCall, EchoServer, Net

CLI = ("10.0.0.1", 7001)
SRV = ("10.0.0.2", 7003)
LCLI = ("127.0.0.1", 7001)
LSRV = ("127.0.0.1", 7003)


def setup(net, service=52, server_kw=None, cli=CLI, srv=SRV, **ckw):
    c = net.add(cli, **ckw)
    s = net.add(srv, **(server_kw or {}))
    s.add_service(service, None)
    app = EchoServer(s)
    net.apps.append(app)
    return c, s, app


def start(net, core, request, srv=SRV, service=52, **kw):
    cc = ClientCall(core, srv, service, request, net.now, **kw)
    net.apps.append(cc)
    return cc


def test_simple_call():
    net = Net(seed=1)
    c, s, app = setup(net)
    cc = start(net, c, b"\0\0\2\2hello")
    net.run_until(lambda: cc.finished)
    assert cc.result == b"olleh\2\2\0\0"
    # settle: the server sees its reply acked and frees the call
    net.run_until(lambda: all(k.done for k in s.all_calls()), max_time=5)
    assert net.now - 1000.0 < 1.0
    # one request DATA, one reply DATA, one final ACK
    assert s.stats["dataPacketsSent"] == 1 and c.stats["dataPacketsSent"] == 1


def test_epoch_cid_serial_rules():
    net = Net(seed=2)
    net.keep_log = True
    c, s, app = setup(net)
    assert c.epoch & 0x80000000 and not c.epoch & 0x40000000
    ccs = [start(net, c, b"%04d" % i) for i in range(9)]
    net.run_until(lambda: all(x.finished for x in ccs))
    conns = sorted(c.client_conns.values(), key=lambda k: k.cid)
    assert len(conns) == 3               # 4 channels each
    cids = [k.cid for k in conns]
    assert all(x & 3 == 0 for x in cids)
    assert cids[1] - cids[0] == 4 and cids[2] - cids[1] == 4
    for k in conns:
        serials = [h.serial for t, src, dst, h, n in net.log
                   if src == CLI and (h.cid & ~3) == k.cid]
        assert 0 not in serials and len(serials) == len(set(serials))
    # channel call numbers go up by one per call
    more = [start(net, c, b"x") for _ in range(4)]
    net.run_until(lambda: all(x.finished for x in more))
    assert sorted(x.call.number for x in more) == [2, 2, 2, 2]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_under_loss_reorder_dup(seed):
    net = Net(seed=seed, loss=0.10, dup=0.05, reorder=0.3)
    c, s, app = setup(net, cli=LCLI, srv=LSRV, max_dgram_packets=6)
    s.cfg.max_dgram_packets = 6
    rng = random.Random(seed)
    req = bytes(rng.getrandbits(8) for _ in range(40000))
    reply = bytes(rng.getrandbits(8) for _ in range(1 << 20))
    app.reply_fn = lambda r: reply if r == req else b"bad"
    cc = start(net, c, req, srv=LSRV)
    net.run_until(lambda: cc.finished, max_time=600)
    assert cc.result == reply
    assert app.requests == [req]
    sent = s.stats["dataPacketsSent"]
    resent = s.stats["dataPacketsReSent"]
    npk = (len(reply) + 1411) // 1412
    # bounded retransmission: every packet costs at most ~0.6 extra sends at 10 % loss
    assert resent <= 0.6 * npk, (resent, npk)
    assert sent <= 1.7 * npk
    assert c.stats["dataPacketsReSent"] <= 0.6 * ((len(req) + 1411) // 1412) + 10
    assert net.now - 1000 < 120


def test_dead_peer_gives_call_dead_within_dead_time():
    net = Net(seed=4)
    c = net.add(CLI)
    cc = start(net, c, b"\0\0\2\2", srv=("10.9.9.9", 7003), dead_time=12.0)
    t0 = net.now
    net.run_until(lambda: cc.finished)
    assert isinstance(cc.result, CallDead) and cc.result.code == -1
    assert 12.0 <= cc.end_time - t0 <= 12.0 + 1.0
    # keepalives and retransmissions were bounded
    assert c.stats["dataPacketsReSent"] <= 8
    assert c.stats["pingPacketsSent"] <= 8


def test_dead_peer_custom_dead_time():
    net = Net(seed=4)
    c = net.add(CLI)
    cc = start(net, c, b"x" * 5000, srv=("10.9.9.9", 7003), dead_time=90.0)
    t0 = net.now
    net.run_until(lambda: cc.finished)
    assert isinstance(cc.result, CallDead)
    assert cc.end_time - t0 <= 91.0


def test_peer_answers_pings_but_never_replies_idle_dead():
    net = Net(seed=5)
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"\0\0\2\2", idle_dead=30.0)
    t0 = net.now
    net.run_until(lambda: cc.finished)
    assert isinstance(cc.result, CallTimeout) and cc.result.code == -3
    assert 30.0 <= cc.end_time - t0 <= 31.0
    # the server saw the abort
    net.run_until(lambda: all(k.done for k in s.all_calls()), max_time=5)
    assert isinstance(app.calls[0][0].error, RemoteAbort)
    assert app.calls[0][0].error.code == errors.RX_CALL_TIMEOUT


def test_peer_answers_pings_hard_dead():
    net = Net(seed=5)
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"\0\0\2\2", hard_dead=100.0)
    t0 = net.now
    net.run_until(lambda: cc.finished)
    assert isinstance(cc.result, CallTimeout)
    assert 100.0 <= cc.end_time - t0 <= 101.0
    # while it waited it stayed alive by pings (well past the 12 s dead time)
    assert c.stats["pingPacketsSent"] >= 40


def test_no_timeouts_means_pings_keep_call_alive():
    net = Net(seed=6)
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"\0\0\2\2")
    net.run_until(lambda: net.now > 1500)
    assert not cc.finished
    app.hang = False
    app.calls[0][2] = True
    app.calls[0][0].write(b"late", net.now)
    app.calls[0][0].end_write(net.now)
    net.run_until(lambda: cc.finished)
    assert cc.result == b"late"


def test_server_abort_reaches_client():
    net = Net(seed=7)
    c, s, app = setup(net)
    app.abort_code = 17
    cc = start(net, c, b"\0\0\2\2")
    net.run_until(lambda: cc.finished)
    assert isinstance(cc.result, RemoteAbort) and cc.result.code == 17
    # client channel is free again and the next call works
    app.abort_code = None
    cc2 = start(net, c, b"ok")
    net.run_until(lambda: cc2.finished)
    assert cc2.result == b"ko"


def test_client_abort_reaches_server():
    net = Net(seed=8)
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"\0\0\2\2")
    net.run_until(lambda: len(app.requests) == 1)
    cc.call.abort(-6, net.now)
    net.run_until(lambda: app.calls[0][0].done, max_time=5)
    err = app.calls[0][0].error
    assert isinstance(err, RemoteAbort) and err.code == -6


def test_abort_is_never_answered_with_abort():
    net = Net(seed=8)
    c, s, app = setup(net)
    app.abort_code = 5
    cc = start(net, c, b"x")
    net.run_until(lambda: cc.finished)
    net.run_until(lambda: not net.q, max_time=5)
    assert c.stats["abortPacketsSent"] == 0
    assert s.stats["abortPacketsSent"] == 1


def test_connection_level_abort():
    net = Net(seed=9)
    c, s, app = setup(net)
    app.hang = True
    ccs = [start(net, c, b"%d" % i) for i in range(3)]
    net.run_until(lambda: len(app.requests) == 3)
    sconn = next(iter(s.server_conns.values()))
    s._abort_connection(sconn, 1234, net.now)
    net.run_until(lambda: all(x.finished for x in ccs), max_time=5)
    for x in ccs:
        assert isinstance(x.result, RemoteAbort) and x.result.code == 1234
    # the aborted connection is not reused
    app.hang = False
    cc = start(net, c, b"again")
    net.run_until(lambda: cc.finished)
    assert cc.result == b"niaga"
    assert cc.call.conn is not ccs[0].call.conn


def test_busy_then_success():
    """A new call on a channel whose previous call still executes gets BUSY."""
    net = Net(seed=10)
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"first")
    net.run_until(lambda: len(app.requests) == 1)
    # client gives up locally; its ABORT is lost
    net.drop_filter = lambda d, src, dst: (P.decode_header(d).type == P.ABORT and
                                           P.decode_header(d).call == 1)
    cc.call.abort(-6, net.now)
    cc2 = start(net, c, b"second")
    assert cc2.call.conn is cc.call.conn and cc2.call.channel == cc.call.channel
    net.run_until(lambda: s.stats["busyPacketsSent"] >= 1, max_time=5)
    app.hang = False
    net.run_until(lambda: cc2.finished, max_time=30)
    assert cc2.result == b"dnoces"
    assert cc2.call.busy_seen
    assert s.stats["busyPacketsSent"] >= 1
    assert isinstance(app.calls[0][0].error, CallDead)


def test_only_busy_times_out():
    net = Net(seed=11)
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"first")
    net.run_until(lambda: len(app.requests) == 1)
    net.drop_filter = lambda d, src, dst: P.decode_header(d).type == P.ABORT
    cc.call.abort(-6, net.now)
    # keep the old server call alive so every retry is answered with BUSY
    orig = s._receive_call

    def keep_busy(call, *a):
        return orig(call, *a)
    cc2 = start(net, c, b"second", idle_dead=20.0)
    # make the server refuse every new call: pretend it is always executing
    for conn in s.server_conns.values():
        conn.call_numbers[cc2.call.channel] = cc2.call.number   # current...
    s.stats.clear()
    net.drop_filter = lambda d, src, dst: (dst == SRV and P.decode_header(d).type == P.DATA
                                           and _busy(s, d, net))
    t0 = net.now
    net.run_until(lambda: cc2.finished, max_time=60)
    assert isinstance(cc2.result, CallTimeout)
    assert cc2.end_time - t0 <= 21.0
    assert cc2.call.busy_seen


def _busy(s, data, net):
    """Answer a DATA packet with BUSY from the server core instead of delivering it."""
    h = P.decode_header(data)
    conn = next(iter(s.server_conns.values()))
    s._send_packet(conn, h.cid & 3, h.call, 0, P.BUSY, 0, b"")
    return True


def test_ackall_completes_server_call():
    net = Net(seed=12)
    c, s, app = setup(net)
    # drop the client's final ACK, deliver an ACKALL instead
    net.drop_filter = lambda d, src, dst: src == CLI and P.decode_header(d).type == P.ACK
    cc = start(net, c, b"abc")
    net.run_until(lambda: cc.finished)
    scall = app.calls[0][0]
    assert not scall.done
    conn = cc.call.conn
    net.drop_filter = None
    c._send_packet(conn, cc.call.channel, cc.call.number, 0, P.ACKALL, P.CLIENT_INITIATED, b"")
    net.run_until(lambda: scall.done, max_time=1)
    assert scall.error is None


def test_lost_final_ack_is_repeated_by_dally():
    net = Net(seed=13)
    c, s, app = setup(net)
    n = {"x": 0}

    def drop_first_final_ack(d, src, dst):
        h = P.decode_header(d)
        if src == CLI and h.type == P.ACK and n["x"] == 0:
            n["x"] += 1
            return True
        return False
    net.drop_filter = drop_first_final_ack
    cc = start(net, c, b"abc")
    net.run_until(lambda: cc.finished)
    scall = app.calls[0][0]
    net.run_until(lambda: scall.done, max_time=10)
    assert scall.error is None
    # the server's retransmission or keep-alive ping was answered from dally
    assert s.stats["ackPacketsRead"] >= 1


def test_next_call_implicitly_acks_held_reply():
    net = Net(seed=14)
    c, s, app = setup(net)
    net.drop_filter = lambda d, src, dst: src == CLI and P.decode_header(d).type == P.ACK
    cc = start(net, c, b"abc")
    net.run_until(lambda: cc.finished)
    scall = app.calls[0][0]
    assert not scall.done
    cc2 = start(net, c, b"def")
    assert cc2.call.channel == cc.call.channel
    net.run_until(lambda: cc2.finished and scall.done, max_time=5)
    assert scall.error is None and cc2.result == b"fed"


def test_server_answers_ping_from_fileserver_reachability_check():
    """OpenAFS file servers ping the client before running a call."""
    net = Net(seed=15)
    net.keep_log = True
    c, s, app = setup(net)
    app.hang = True
    cc = start(net, c, b"x")
    net.run_until(lambda: len(app.requests) == 1)
    scall = app.calls[0][0]
    net.log.clear()
    s._send_ping(scall, net.now)
    net.run_until(lambda: any(src == CLI for t, src, dst, h, n in net.log), max_time=1)
    resp = [(h, n) for t, src, dst, h, n in net.log if src == CLI and h.type == P.ACK]
    assert resp, "client did not answer the ping"
    net.run_until(lambda: scall.conn.peer.srtt is not None, max_time=1)


def test_client_answers_ping_for_unknown_call_number():
    net = Net(seed=16)
    net.keep_log = True
    c, s, app = setup(net)
    cc = start(net, c, b"x")
    net.run_until(lambda: cc.finished)
    conn = cc.call.conn
    # a ping for a call number the client never used on channel 1
    d = P.encode_header(conn.epoch, conn.cid | 1, 7, 0, 99, P.ACK, P.REQUEST_ACK) + \
        P.encode_ack(P.AckBody(reason=P.ACK_PING, max_mtu=1444, if_mtu=1444, rwind=32,
                               max_packets=1))
    net.log.clear()
    c.receive_datagram(d, SRV, net.now)
    out = c.take_datagrams()
    assert len(out) == 1
    h = P.decode_header(out[0][0])
    a = P.decode_ack(out[0][0][28:])
    assert h.type == P.ACK and a.reason == P.ACK_PING_RESPONSE and a.serial == 99


def test_jumbograms_sent_and_received():
    net = Net(seed=17)
    net.keep_log = True
    c, s, app = setup(net, cli=LCLI, srv=LSRV, max_dgram_packets=6,
                      server_kw={"max_dgram_packets": 6})
    reply = bytes(range(256)) * 2000
    app.reply_fn = lambda r: reply
    cc = start(net, c, b"x" * 30000, srv=LSRV)
    net.run_until(lambda: cc.finished)
    assert cc.result == reply
    jumbos = [(h, n) for t, src, dst, h, n in net.log
              if h.type == P.DATA and h.flags & P.JUMBO_PACKET]
    assert any(src == LSRV for t, src, dst, h, n in net.log
               if h.type == P.DATA and h.flags & P.JUMBO_PACKET)
    assert any(src == LCLI for t, src, dst, h, n in net.log
               if h.type == P.DATA and h.flags & P.JUMBO_PACKET)
    assert max(n for h, n in jumbos) <= 28 + 6 * 1412 + 5 * 4
    # the client's ACK trailer advertised maxPackets 6
    acks = [h for t, src, dst, h, n in net.log if h.type == P.ACK and src == LCLI]
    assert acks


def test_no_jumbograms_to_peer_advertising_one():
    net = Net(seed=18)
    net.keep_log = True
    c, s, app = setup(net, cli=LCLI, srv=LSRV, max_dgram_packets=1,
                      server_kw={"max_dgram_packets": 6})
    reply = b"z" * 200000
    app.reply_fn = lambda r: reply
    cc = start(net, c, b"x", srv=LSRV)
    net.run_until(lambda: cc.finished)
    assert cc.result == reply
    assert not [h for t, src, dst, h, n in net.log
                if h.type == P.DATA and h.flags & P.JUMBO_PACKET]


def test_window_limits_in_flight():
    net = Net(seed=19)
    net.keep_log = True
    c, s, app = setup(net, max_window=32, server_kw={"max_window": 32})
    reply = b"q" * 300000
    app.reply_fn = lambda r: reply
    cc = start(net, c, b"x")
    net.run_until(lambda: cc.finished)
    assert cc.result == reply
    # never more than the max window beyond the first unacked packet
    seqs = [h.seq for t, src, dst, h, n in net.log if src == SRV and h.type == P.DATA]
    acks_first = 1
    assert max(seqs) == (len(reply) + 1415) // 1416 or max(seqs) >= 200


def test_rtt_measured_and_rto_backoff():
    net = Net(seed=20, delay=0.010)
    c, s, app = setup(net)
    for i in range(5):
        cc = start(net, c, b"ping%d" % i * 2000)
        net.run_until(lambda: cc.finished)
    peer = c.peers[SRV]
    assert peer.srtt is not None and 0.015 < peer.srtt < 0.05
    rto0 = peer.rto
    assert rto0 < 0.4
    # kill the network: RTO doubles on each expiry, capped
    net.drop_filter = lambda d, src, dst: True
    cc = start(net, c, b"lost", dead_time=60)
    net.run_until(lambda: cc.finished)
    assert isinstance(cc.result, CallDead)
    assert peer.rto > 4 * rto0 and peer.rto <= 60.0


def test_challenge_response_through_security_interface():
    from kafs.rx.security import SecurityClass

    class Toy(SecurityClass):
        index = 5
        name = "toy"

        def __init__(self):
            self.challenges = 0
            self.responses = 0

        def key(self):
            return (5,)

        def new_connection(self, conn, server):
            conn.sec = {"server": server}
            conn.authenticated = not server

        def make_challenge(self, conn, now):
            self.challenges += 1
            conn.sec["nonce"] = 41
            return b"\0\0\0\x29"

        def respond_to_challenge(self, conn, body):
            self.responses += 1
            n = int.from_bytes(body[:4], "big")
            return (n + 1).to_bytes(4, "big") + b"".join(
                x.to_bytes(4, "big") for x in conn.call_numbers_for_response())

        def verify_response(self, conn, body, now):
            if int.from_bytes(body[:4], "big") != conn.sec["nonce"] + 1:
                raise errors.AFSError(19270409)
            conn.authenticated = True

        def prepare_packet(self, conn, call_number, channel, seq, payload):
            return b"T" + bytes(payload), 0x1234

        def check_packet(self, conn, call_number, channel, seq, cksum, payload):
            if bytes(payload[:1]) != b"T":
                raise errors.AFSError(19270410)
            return payload[1:]

    net = Net(seed=21)
    c = net.add(CLI)
    s = net.add(SRV)
    toy_s, toy_c = Toy(), Toy()
    s.add_service(52, [toy_s])
    app = EchoServer(s)
    net.apps.append(app)
    cc = ClientCall(c, SRV, 52, b"secret", net.now)
    cc.call.conn.security  # rxnull by default: use toy instead
    net.apps.clear()
    c2 = net.add(("10.0.0.3", 1), seed=3)
    call = c2.start_call(SRV, 52, toy_c, net.now)
    call.write(b"hello" * 1000, net.now)
    call.end_write(net.now)

    class Cl(ClientCall):
        def __init__(self, call):
            self.call = call
            self.reply = bytearray()
            self.result = None
            self.end_time = None
    x = Cl(call)
    net.apps += [app, x]
    net.run_until(lambda: x.finished, max_time=30)
    assert x.result == (b"hello" * 1000)[::-1]
    assert toy_s.challenges >= 1 and toy_c.responses >= 1
    sconn = next(iter(s.server_conns.values()))
    assert sconn.authenticated
