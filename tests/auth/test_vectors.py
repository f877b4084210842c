"""Every verified vector of protocol-notes section 2.10, for both fcrypt
backends (vectors produced with OpenAFS 1.8.9's libafsrpc.a)."""

from __future__ import annotations

import pytest

from kafs.auth.crypto import rxkad
from kafs.auth.crypto.kdf import derive_des_key
from kafs.auth.crypto.ticket import (
    Ticket, assemble_ticket, decode_ticket, encode_ticket, life_to_time,
    time_to_life,
)

KEY = bytes.fromhex("0123456789abcdef")
EPOCH = 0x80001234
CID = 0x00ABCD05                       # channel 1


def test_round_keys(backend):
    expect = ("38957377 a26712ae 01144ce2 bb802289 57377004 712ae6ee 44ce255c 022899c4 "
              "77004513 ae6ee008 e255cddc 899c4ab9 04513389 ee008a26 5cddc011 c4ab9bb8")
    assert tuple(backend.key_schedule(KEY)) == tuple(int(w, 16) for w in expect.split())


@pytest.mark.parametrize("plain, cipher", [
    ("0000000000000000", "dc69de4dd4bf1926"),
    ("0123456789abcdef", "6199e98a7625c49f"),
])
def test_ecb(backend, plain, cipher):
    assert backend.ecb_encrypt(KEY, bytes.fromhex(plain)).hex() == cipher
    assert backend.ecb_decrypt(KEY, bytes.fromhex(cipher)).hex() == plain


def test_pcbc(backend):
    expect = "678ff1396eb24d56ce0580004f1274dd9b8906993623076d"
    out = backend.pcbc_encrypt(KEY, KEY, bytes(range(20)))
    assert out.hex() == expect
    assert backend.pcbc_decrypt(KEY, KEY, out) == bytes(range(20)) + bytes(4)


def test_pre_seq_and_header_checksum(backend):
    pre_seq = rxkad.compute_pre_seq(KEY, EPOCH, CID, backend=backend)
    assert pre_seq.hex() == "46d8876289f3f285"
    assert rxkad.packet_checksum(KEY, pre_seq, 1, CID, 1, backend=backend) == 0x7032
    assert backend.header_checksum(KEY, pre_seq, 1, CID, 1) == 0x7032
    cc = rxkad.ConnectionCrypto(KEY, EPOCH, CID, rxkad.LEVEL_CLEAR, backend=backend)
    assert cc.pre_seq == pre_seq
    assert cc.checksum(1, 1, 1) == 0x7032


@pytest.mark.parametrize("level, wire", [
    (rxkad.LEVEL_CLEAR, b"hello".hex()),
    (rxkad.LEVEL_AUTH, "8ddd2a07896583556f"),
    (rxkad.LEVEL_CRYPT, "fe7a14d669d938bbe88ed6d592889c2c"),
])
def test_packet_payload(backend, level, wire):
    assert rxkad.seal_payload(level, KEY, 1, 1, b"hello", backend=backend).hex() == wire
    assert rxkad.unseal_payload(level, KEY, 1, 1, bytes.fromhex(wire), backend=backend) == b"hello"
    cc = rxkad.ConnectionCrypto(KEY, EPOCH, CID, level, backend=backend)
    assert cc.seal(1, 1, 1, b"hello") == (bytes.fromhex(wire), 0x7032)
    assert cc.unseal(1, 1, 1, bytes.fromhex(wire), 0x7032) == b"hello"


RESPONSE56 = ("0000000200000000b418163033a8c720f68d85092006d90534174ae737354f51"
              "9e38ccae30cbd0630d48b59b6bb8489a000003e700000020")


def test_v2_response(backend):
    ticket = bytes(32)
    body = rxkad.make_response(KEY, EPOCH, CID, [0, 1, 0, 0], 0x12345678,
                               rxkad.LEVEL_CRYPT, 999, ticket, backend=backend)
    assert body[:56].hex() == RESPONSE56
    assert body[56:] == ticket
    resp = rxkad.parse_response(body)
    assert (resp.kvno, resp.ticket) == (999, ticket)
    got = rxkad.open_response(resp, KEY, EPOCH, CID, backend=backend)
    assert got == rxkad.ResponseContents(0x12345679, 2, (0, 1, 0, 0))
    # the checksum over the plaintext response (checksum field zeroed)
    plain = body[:8] + backend.pcbc_decrypt(KEY, KEY, body[8:48]) + body[48:56]
    assert plain[16:20].hex() == "8b3a1eab"
    assert rxkad.response_checksum(plain) == 0x8B3A1EAB


def test_v2_response_via_challenge(backend):
    chal = rxkad.make_challenge(0x12345678, rxkad.LEVEL_CLEAR)
    body = rxkad.respond_to_challenge(chal, KEY, EPOCH, CID, [0, 1, 0, 0],
                                      rxkad.LEVEL_CRYPT, 999, bytes(32), backend=backend)
    assert body[:56].hex() == RESPONSE56


SERVER_KEY = bytes.fromhex("0102040810204080")
SESSION = bytes.fromhex("1032547698badcfe")


def test_ticket_localauth_style():
    t = Ticket("afs", "", "", 0, SESSION, 0, 0xFFFFFFFF, "afs", "")
    plain = assemble_ticket(t)
    assert plain == bytes.fromhex("00616673000000000000001032547698badcfeff000000006166730000")
    assert len(plain) == 29
    sealed = encode_ticket(t, SERVER_KEY)
    assert sealed.hex() == ("c79134657db48f0f5bac8f9f346646236b7090d0fb09187a"
                            "d11bcbbe9c814992")
    assert decode_ticket(sealed, SERVER_KEY) == t


def test_ticket_user():
    t = Ticket("admin", "", "EXAMPLE.COM", 0x0A000001, SESSION, 1700000000,
               1700000000 + 36000, "afs", "")
    assert time_to_life(t.start, t.end) == 0x78
    sealed = encode_ticket(t, SERVER_KEY)
    assert len(sealed) == 48
    assert sealed.hex() == ("15d5e40869f50eff8e8cbb1200d7a52a20b7553973bb3730"
                            "a2aef22d82de43363cc77cd6d53f2f74a19e5b985a7cbc12")
    assert decode_ticket(sealed, SERVER_KEY) == t


@pytest.mark.parametrize("enctype, key, out", [
    (18, bytes(range(32)), "b60db5e30b266b16"),
    (17, bytes(range(16)), "07838c58c11c64ab"),
    (1, KEY, KEY.hex()),
    (3, KEY, KEY.hex()),
])
def test_kdf(enctype, key, out):
    assert derive_des_key(enctype, key).hex() == out


def test_lifetimes():
    assert life_to_time(0, 0x80) == 38400
    assert life_to_time(0, 0xBF) == 2592000
    assert time_to_life(0, 36000) == 0x78
    assert time_to_life(0, 86400) == 0x8D
