"""Property tests: round trips for random keys and data, C == Python, and
decoders that only ever raise their documented errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from kafs.auth.crypto import fcrypt, rxkad
from kafs.auth.crypto.des import des_pcbc_decrypt, des_pcbc_encrypt
from kafs.auth.crypto.ticket import (
    Ticket, TicketError, decode_ticket, encode_ticket, parse_ticket,
)
from kafs.errors import AFSError, DecodeError

keys = st.binary(min_size=8, max_size=8)
u32 = st.integers(0, 0xFFFFFFFF)
PY = fcrypt.python_backend


@settings(max_examples=200, deadline=None)
@given(key=keys, block=keys)
def test_ecb_round_trip(backend, key, block):
    assert backend.ecb_decrypt(key, backend.ecb_encrypt(key, block)) == block


@settings(max_examples=200, deadline=None)
@given(key=keys, iv=keys, data=st.binary(max_size=300))
def test_pcbc_round_trip(backend, key, iv, data):
    enc = backend.pcbc_encrypt(key, iv, data)
    assert len(enc) == (len(data) + 7) // 8 * 8
    assert backend.pcbc_decrypt(key, iv, enc) == data + bytes(len(enc) - len(data))


@settings(max_examples=300, deadline=None)
@given(key=keys, iv=keys, data=st.binary(max_size=300), block=keys,
       call=u32, cid=u32, seq=u32)
def test_c_equals_python(c_backend, key, iv, data, block, call, cid, seq):
    assert c_backend.key_schedule(key) == PY.key_schedule(key)
    assert c_backend.ecb_encrypt(key, block) == PY.ecb_encrypt(key, block)
    assert c_backend.ecb_decrypt(key, block) == PY.ecb_decrypt(key, block)
    enc = PY.pcbc_encrypt(key, iv, data)
    assert c_backend.pcbc_encrypt(key, iv, data) == enc
    assert c_backend.pcbc_decrypt(key, iv, enc) == PY.pcbc_decrypt(key, iv, enc)
    # decrypting arbitrary (non-ciphertext) whole blocks agrees too
    junk = data[: len(data) // 8 * 8]
    assert c_backend.pcbc_decrypt(key, iv, junk) == PY.pcbc_decrypt(key, iv, junk)
    assert c_backend.header_checksum(key, iv, call, cid, seq) == \
        PY.header_checksum(key, iv, call, cid, seq)


@settings(max_examples=150, deadline=None)
@given(key=keys, level=st.sampled_from([0, 1, 2]), call=st.integers(1, 0x7FFFFFFF),
       seq=st.integers(1, 0x7FFFFFFF), data=st.binary(max_size=1500))
def test_seal_unseal_round_trip(backend, key, level, call, seq, data):
    wire = rxkad.seal_payload(level, key, call, seq, data, backend=backend)
    assert len(wire) == rxkad.sealed_length(level, len(data))
    assert rxkad.unseal_payload(level, key, call, seq, wire, backend=backend) == data


@settings(max_examples=150, deadline=None)
@given(key=keys, level=st.sampled_from([1, 2]), call=u32, seq=u32,
       wire=st.binary(max_size=64))
def test_unseal_garbage_only_rxkad_errors(key, level, call, seq, wire):
    try:
        rxkad.unseal_payload(level, key, call, seq, wire)
    except AFSError as e:
        assert e.code in (rxkad.RXKADSEALEDINCON, rxkad.RXKADDATALEN)


@settings(max_examples=100, deadline=None)
@given(key=keys, epoch=u32, cid=u32, calls=st.lists(st.integers(0, 0x7FFFFFFF), min_size=4, max_size=4),
       chal=u32, level=st.sampled_from([0, 1, 2]), kvno=u32,
       ticket=st.binary(min_size=32, max_size=200), v2=st.booleans())
def test_response_round_trip(backend, key, epoch, cid, calls, chal, level, kvno, ticket, v2):
    body = rxkad.make_response(key, epoch, cid, calls, chal, level, kvno, ticket,
                               v2=v2, backend=backend)
    resp = rxkad.parse_response(body, v2=v2)
    assert (resp.kvno, resp.ticket) == (kvno, ticket)
    got = rxkad.open_response(resp, key, epoch, cid, backend=backend)
    assert got.inc_challenge_id == (chal + 1) & 0xFFFFFFFF
    assert got.level == level
    assert got.call_numbers == (tuple(calls) if v2 else ())


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=120), v2=st.booleans(), key=keys)
def test_response_garbage_only_rxkad_errors(body, v2, key):
    try:
        resp = rxkad.parse_response(body, v2=v2)
        rxkad.open_response(resp, key, 1, 4)
    except AFSError as e:
        assert e.code in (rxkad.RXKADPACKETSHORT, rxkad.RXKADTICKETLEN,
                          rxkad.RXKADSEALEDINCON)


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=40))
def test_challenge_garbage(body):
    try:
        ch = rxkad.parse_challenge(body)
    except AFSError as e:
        assert e.code == rxkad.RXKADPACKETSHORT
    else:
        assert len(body) >= 8


@settings(max_examples=50, deadline=None)
@given(key=keys, iv=keys, data=st.binary(max_size=100))
def test_des_pcbc_round_trip(key, iv, data):
    enc = des_pcbc_encrypt(key, iv, data)
    assert des_pcbc_decrypt(key, iv, enc)[: len(data)] == data


names = st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=63)


@settings(max_examples=60, deadline=None)
@given(name=names.filter(bool), inst=names, cell=names, host=u32,
       session=keys, start=st.integers(0, 0x7FFFFFFF), life=st.integers(1, 2592000),
       never=st.booleans(), server_key=keys)
def test_ticket_round_trip(name, inst, cell, host, session, start, life, never, server_key):
    end = 0xFFFFFFFF if never else start + life
    t = Ticket(name, inst, cell, host, session, start, end)
    got = decode_ticket(encode_ticket(t, server_key), server_key)
    assert (got.name, got.instance, got.cell, got.host, got.session_key, got.start) == \
        (name, inst, cell, host, session, start)
    assert got.end >= end if not never else got.end == 0xFFFFFFFF


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200), key=keys)
def test_ticket_decode_arbitrary_bytes(data, key):
    try:
        decode_ticket(data, key)
    except TicketError as e:
        assert isinstance(e, DecodeError) and isinstance(e, AFSError)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(min_size=32, max_size=200).map(lambda b: b[: len(b) // 8 * 8]),
       key=keys)
def test_ticket_decode_right_length_garbage(data, key):
    try:
        decode_ticket(data, key)
    except DecodeError:
        pass


@settings(max_examples=300, deadline=None)
@given(plain=st.binary(max_size=120), tlen=st.integers(0, 200))
def test_ticket_parse_arbitrary_plaintext(plain, tlen):
    try:
        parse_ticket(plain, tlen)
    except DecodeError:
        pass


def test_ticket_parse_structured_garbage():
    # names at the 63-byte limit, missing terminators, short tails
    with pytest.raises(DecodeError):
        parse_ticket(b"\0" + b"a" * 64 + b"\0")
    with pytest.raises(DecodeError):
        parse_ticket(b"\0afs\0\0\0" + bytes(10))
    with pytest.raises(DecodeError):
        parse_ticket(b"")
