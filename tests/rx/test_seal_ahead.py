"""Secured calls seal DATA packets ahead of the send window (idle work), in
batches through ``prepare_packets``; retransmissions carry the same sealed
bytes and checksum with a new serial.  Fake clock, real rxkad classes."""

import hashlib

import pytest

from kafs.auth.crypto import fcrypt
from kafs.auth.keys import KEY_RXKAD_KRB5, ServerKey, ServerKeys
from kafs.auth.localauth import localauth_token
from kafs.auth.rxkad import LEVEL_AUTH, LEVEL_CLEAR, LEVEL_CRYPT, RxkadClient, RxkadServer
from kafs.rx import packet as P

from .netsim import EchoServer, Net

CLI = ("10.0.0.1", 7001)
SRV = ("10.0.0.2", 7003)
KEYS = ServerKeys([ServerKey(KEY_RXKAD_KRB5, 1, 18, hashlib.sha256(b"sim").digest())])
BACKENDS = list(fcrypt.backends().values())


class _Client:
    def __init__(self, core, sec, request, now):
        self.call = core.start_call(SRV, 52, sec, now, dead_time=60)
        self.call.write(request, now)
        self.call.end_write(now)
        self.reply = bytearray()
        self.result = None

    def __call__(self, now):
        c = self.call
        if self.result is not None:
            return
        while True:
            d = c.read(1 << 20, now)
            if not d:
                break
            self.reply += d
        if c.error is not None:
            self.result = c.error
        elif c.rx_eof:
            c.end(now)
            self.result = bytes(self.reply)


def _run(level, backend, reply, loss=0.0, seed=3):
    net = Net(seed=seed, loss=loss)
    net.keep_log = True
    c = net.add(CLI)
    s = net.add(SRV)
    s.add_service(52, [None, None, RxkadServer(KEYS, backend=backend)])
    app = EchoServer(s, reply_fn=lambda req: reply)
    net.apps.append(app)
    tok = localauth_token(keys=KEYS)
    sec = RxkadClient(level, tok.session_key, tok.kvno, tok.ticket, backend=backend)
    cl = _Client(c, sec, b"req", net.now)
    net.apps.append(cl)
    # watch the server call: packets made beyond those sent
    ahead = [0]

    def watch(now):
        for ent in app.calls:
            call = ent[0]
            ahead[0] = max(ahead[0], call.tx_next - call.tx_sent)
    net.apps.append(watch)
    datagrams = []
    orig = s.take_datagrams

    def spy():
        out = orig()
        datagrams.extend(d for d, _ in out)
        return out
    s.take_datagrams = spy
    net.run_until(lambda: cl.result is not None, max_time=600)
    return cl.result, ahead[0], datagrams


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.__name__.rsplit(".", 1)[-1])
@pytest.mark.parametrize("level", [LEVEL_CLEAR, LEVEL_AUTH, LEVEL_CRYPT])
def test_sealed_ahead_and_retransmitted_unchanged(level, backend):
    reply = bytes(range(256)) * 1200          # 300 KB: > 200 packets
    result, ahead, datagrams = _run(level, backend, reply, loss=0.05)
    assert result == reply
    assert ahead > 0                          # packets sealed before the window opened
    seen: dict = {}
    resent = 0
    for d in datagrams:
        h = P.decode_header(d)
        if h.type != P.DATA or h.flags & P.JUMBO_PACKET:
            continue
        body = d[P.HEADER_SIZE:]
        prev = seen.get(h.seq)
        if prev is None:
            seen[h.seq] = (h.serial, h.cksum, body)
            continue
        resent += 1
        assert prev[0] != h.serial            # a new serial per transmission
        assert prev[1:] == (h.cksum, body)    # same checksum and sealed bytes
    assert resent > 0


def test_prepare_packets_matches_prepare_packet():
    tok = localauth_token(keys=KEYS)

    class Conn:
        epoch, cid = 0x12345678, 0x40000004
    for backend in BACKENDS:
        for level in (LEVEL_CLEAR, LEVEL_AUTH, LEVEL_CRYPT):
            sec = RxkadClient(level, tok.session_key, tok.kvno, tok.ticket, backend=backend)
            a, b = Conn(), Conn()
            sec.new_connection(a, False)
            sec.new_connection(b, False)
            payloads = [bytes([i]) * n for i, n in enumerate((1396, 1396, 5, 0, 1396, 17, 1))]
            many = sec.prepare_packets(a, 7, 2, 100, payloads)
            one = [sec.prepare_packet(b, 7, 2, 100 + i, p) for i, p in enumerate(payloads)]
            assert many == one
            assert sec.stats(a)["bytes_sent"] == sec.stats(b)["bytes_sent"]
            assert sec.stats(a)["packets_sent"] == len(payloads)
