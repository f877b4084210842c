"""Packet codecs: round trips, known layouts, and hypothesis on every decoder."""

import random
import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafs.errors import DecodeError
from kafs.rx import packet as P
from kafs.rx.core import Config, Core

# ------------------------------------------------------------- layouts


def test_header_layout():
    h = P.Header(0x80000001, 0x1234, 7, 3, 99, P.DATA, P.CLIENT_INITIATED | P.LAST_PACKET,
                 0, 2, 0xbeef, 52)
    b = h.encode()
    assert len(b) == 28
    assert b == bytes.fromhex("80000001 00001234 00000007 00000003 00000063"
                              "01 05 00 02 beef 0034".replace(" ", ""))
    assert P.decode_header(b) == h
    with pytest.raises(DecodeError):
        P.decode_header(b[:27])


@pytest.mark.parametrize("words", [0, 1, 2, 3, 4])
def test_ack_trailer_variants(words):
    vals = [5800, 1444, 32, 4][:words]
    a = P.AckBody(first_packet=3, previous_packet=9, serial=77, reason=P.ACK_IDLE,
                  acks=bytes([1, 0, 1]),
                  **dict(zip(("max_mtu", "if_mtu", "rwind", "max_packets"), vals)))
    b = P.encode_ack(a)
    assert len(b) == 18 + 3 + 3 + 4 * words
    d = P.decode_ack(b)
    assert d == a and d.trailer_words == words


def test_ack_trailer_is_unaligned():
    a = P.AckBody(first_packet=1, acks=b"\x01", max_mtu=0x11223344, if_mtu=1, rwind=2,
                  max_packets=3)
    b = P.encode_ack(a)
    # 18 head + 1 ack + 3 pad: maxMTU starts at offset 22
    assert b[22:26] == b"\x11\x22\x33\x44"


def test_abort_body():
    assert P.encode_abort(-455) == struct.pack("!i", -455)
    assert P.decode_abort(b"\xff\xff\xfe\x39") == -455
    with pytest.raises(DecodeError):
        P.decode_abort(b"\0\0")


def test_jumbogram_round_trip():
    h = P.Header(0x80000000, 8, 1, 5, 100, P.DATA, 0, 0, 0, 0, 52)
    payloads = [bytes([i]) * 1412 for i in range(3)] + [b"tail"]
    flags = [P.CLIENT_INITIATED] * 3 + [P.CLIENT_INITIATED | P.LAST_PACKET]
    d = P.build_jumbo(h, payloads, flags, [1, 2, 3, 4])
    assert len(d) == 28 + 3 * 1416 + 4
    subs = P.split_jumbo(d)
    assert [bytes(p) for _, p in subs] == payloads
    assert [s.seq for s, _ in subs] == [5, 6, 7, 8]
    assert [s.serial for s, _ in subs] == [100, 101, 102, 103]
    assert [s.cksum for s, _ in subs] == [1, 2, 3, 4]
    assert [s.flags & ~P.JUMBO_PACKET for s, _ in subs] == flags
    assert all(s.flags & P.JUMBO_PACKET for s, _ in subs[:-1])
    with pytest.raises(DecodeError):
        P.split_jumbo(d[:28 + 1000])
    with pytest.raises(ValueError):
        P.build_jumbo(h, [b"short", b"x"], [0, 0])


def test_debug_layouts():
    assert len(P.DebugStats().encode()) == 56
    assert P.DebugStats().encode()[14] == ord("S")
    c = P.DebugConn(host=b"\x7f\0\0\1", cid=0x40, serial=5, call_numbers=(1, 2, 3, 4),
                    port=7000, type=1, security_index=2, epoch=0x80001234, nat_mtu=1444,
                    call_state=(2, 0, 0, 0), call_mode=(1, 0, 0, 0), sec_type=3,
                    sec_level=2, sec_flags=2, sec_bytes_sent=9)
    b = c.encode()
    assert len(b) == 176
    assert b[32:34] == (7000).to_bytes(2, "big") and b[35] == 1 and b[36] == 2
    assert b[40] == 2 and b[44] == 1 and b[56] == 3 and b[57] == 2
    assert b[132:136] == (0x80001234).to_bytes(4, "big")
    assert P.DebugConn.decode(b) == c
    assert P.DebugConn.decode(P.DebugConn.end_marker()).cid == 0xffffffff
    p = P.DebugPeer(host=b"\x7f\0\0\1", port=7001, if_mtu=1444, rtt=80, n_sent=3,
                    max_dgram_packets=4, bytes_sent=(0, 1000))
    b = p.encode()
    assert len(b) == 132
    assert b[4:6] == (7001).to_bytes(2, "big") and b[40:44] == (3).to_bytes(4, "big")
    assert b[64:66] == (4).to_bytes(2, "big") and b[76:84] == (1000).to_bytes(8, "big")
    assert P.DebugPeer.decode(b) == p
    r = P.encode_rxstats({"dataPacketsRead": 5, "nBusies": 2})
    assert len(r) == 284
    d = P.decode_rxstats(r)
    assert d["dataPacketsRead"] == 5 and d["nBusies"] == 2
    assert P.encode_version_reply("kafs 0.1.0")[:11] == b"kafs 0.1.0\0"
    assert len(P.encode_version_reply("x" * 100)) == 65
    assert P.decode_version_reply(P.encode_version_reply("kafs")) == "kafs"

# ---------------------------------------------------- property tests


def _only_decode_error(fn, data):
    try:
        fn(data)
    except DecodeError:
        pass


@given(st.binary(max_size=400))
def test_decode_header_fuzz(data):
    _only_decode_error(P.decode_header, data)


@given(st.binary(max_size=600))
def test_decode_ack_fuzz(data):
    try:
        a = P.decode_ack(data)
    except DecodeError:
        return
    assert len(a.acks) <= len(data)


@given(st.binary(max_size=100))
def test_decode_abort_fuzz(data):
    _only_decode_error(P.decode_abort, data)


@given(st.binary(max_size=12000))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_split_jumbo_fuzz(data):
    try:
        subs = P.split_jumbo(data)
    except DecodeError:
        return
    # never more sub-packets than the datagram can hold, never copies
    assert len(subs) <= max(1, len(data) // 1416 + 1)
    assert sum(len(p) for _, p in subs) <= len(data)


@given(st.integers(0, 0x3f), st.binary(max_size=2000))
def test_split_jumbo_fuzz_with_jumbo_flag(flags, tail):
    h = P.encode_header(1, 2, 3, 4, 5, P.DATA, flags | P.JUMBO_PACKET)
    _only_decode_error(P.split_jumbo, h + tail)


@given(st.binary(max_size=400))
def test_debug_decoders_fuzz(data):
    for fn in (P.DebugStats.decode, P.DebugConn.decode, P.DebugPeer.decode,
               P.decode_rxstats, P.decode_debug_request):
        _only_decode_error(fn, data)
    P.decode_version_reply(data)


# --- the core's receive path: arbitrary datagrams are dropped, never raise

def _core_with_service():
    c = Core(Config(), rng=random.Random(1))
    c.raise_internal = True
    c.add_service(52, None)
    return c


_CORE = _core_with_service()


def _header_then(data_types=(1, 2, 3, 4, 5, 6, 7, 8, 13)):
    return st.builds(
        lambda epoch, cid, call, seq, serial, t, fl, sec, svc, body: P.encode_header(
            epoch, cid, call, seq, serial, t, fl, 0, sec, 0, svc) + body,
        st.sampled_from([0x80000001, 0x12345678, _CORE.epoch]),
        st.sampled_from([0, 4, 5, 8, 0xfffffffc]), st.integers(0, 40),
        st.integers(0, 40), st.integers(0, 2 ** 32 - 1),
        st.sampled_from(data_types), st.integers(0, 255), st.sampled_from([0, 2]),
        st.sampled_from([52, 1, 0]), st.binary(max_size=3000))


@given(st.lists(st.one_of(st.binary(max_size=200), _header_then()), max_size=30),
       st.floats(0, 1e6))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_core_receive_never_raises(datagrams, t0):
    core = _core_with_service()
    now = t0
    for d in datagrams:
        core.receive_datagram(d, ("127.0.0.1", 7001), now)
        now += 0.01
        core.handle_timer(now)
    out = core.take_datagrams()
    # bounded replies: at most a couple of packets per datagram received
    assert len(out) <= 2 * len(datagrams) + 5
    assert core.stats["fatalErrors"] == 0
    # and time passing lets every call that was created die or finish
    core.take_new_calls()
    for _ in range(200):
        d = core.next_deadline()
        if d is None:
            break
        core.handle_timer(d)
        core.take_datagrams()
    assert all(c.done for c in core.all_calls())


def test_core_memory_bounded_for_hostile_flood():
    """A flood of jumbo DATA on one call keeps at most the receive window."""
    core = _core_with_service()
    tracemalloc.start()
    base = tracemalloc.take_snapshot()
    for i in range(5000):
        seq = 1 + (i * 7919) % 100000
        d = P.encode_header(0x80000001, 8, 1, seq, i + 1, P.DATA, P.CLIENT_INITIATED,
                            0, 0, 0, 52) + b"x" * 1400
        core.receive_datagram(d, ("127.0.0.1", 7001), 1.0 + i * 1e-4)
        core.take_datagrams()
    snap = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in snap.compare_to(base, "filename"))
    assert grown < 2_000_000
    call = core.all_calls()[0]
    assert len(call.rx_q) <= core.cfg.max_window
