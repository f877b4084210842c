"""Unit tests of the rxkad helpers beyond the vectors: error paths, old
challenge/response forms, checksum rules, DES, KDF and ticket time checks."""

from __future__ import annotations

import os

import pytest

from kafs.auth.crypto import fcrypt, rxkad
from kafs.auth.crypto.des import (
    des_decrypt_block, des_encrypt_block, is_weak_key, set_odd_parity,
)
from kafs.auth.crypto.kdf import (
    TKT_TYPE_KERBEROS_V5, compress_parity_bits, derive_des_key, rxkad_k5_token,
    rxkad_kdf,
)
from kafs.auth.crypto.ticket import (
    NEVERDATE, Ticket, TicketError, check_times, decode_ticket, encode_ticket,
    time_to_life,
)
from kafs.errors import AFSError, DecodeError

KEY = bytes.fromhex("0123456789abcdef")
EPOCH, CID = 0x80001234, 0x00ABCD05


def test_active_backend_and_env(monkeypatch):
    assert fcrypt.BACKEND in ("c", "python")
    assert "python" in fcrypt.backends()
    if os.environ.get("KAFS_NO_C", "") not in ("", "0"):
        assert fcrypt.BACKEND == "python"


def test_bad_sizes(backend):
    with pytest.raises(ValueError):
        backend.ecb_encrypt(b"short", bytes(8))
    with pytest.raises(ValueError):
        backend.ecb_encrypt(KEY, bytes(7))
    with pytest.raises(ValueError):
        backend.pcbc_decrypt(KEY, KEY, bytes(9))
    with pytest.raises(ValueError):
        backend.pcbc_encrypt(KEY, bytes(4), bytes(8))
    assert backend.pcbc_encrypt(KEY, KEY, b"") == b""
    assert backend.pcbc_decrypt(KEY, KEY, b"") == b""


def test_buffers_accepted(backend):
    data = bytes(range(40))
    want = backend.pcbc_encrypt(KEY, KEY, data)
    assert backend.pcbc_encrypt(KEY, KEY, bytearray(data)) == want
    assert backend.pcbc_encrypt(KEY, KEY, memoryview(data)) == want


def test_header_checksum_never_zero(backend):
    # search a small space for an input whose raw checksum would be 0
    pre = bytes(8)
    seen = {backend.header_checksum(KEY, pre, c, 0, s) for c in range(1, 40) for s in range(1, 40)}
    assert 0 not in seen


def test_unseal_errors(backend):
    wire = rxkad.seal_payload(2, KEY, 1, 1, b"hello", backend=backend)
    with pytest.raises(AFSError) as ei:
        rxkad.unseal_payload(2, KEY, 1, 2, wire, backend=backend)    # wrong seq
    assert ei.value.code == rxkad.RXKADSEALEDINCON
    with pytest.raises(AFSError) as ei:
        rxkad.unseal_payload(2, KEY, 1, 1, wire[:-1], backend=backend)
    assert ei.value.code == rxkad.RXKADSEALEDINCON
    with pytest.raises(AFSError) as ei:
        rxkad.unseal_payload(1, KEY, 1, 1, b"1234567", backend=backend)
    assert ei.value.code == rxkad.RXKADSEALEDINCON
    # a sealed length larger than the packet
    forged = backend.ecb_encrypt(KEY, bytes.fromhex("0000" "0010") + b"abcd")
    with pytest.raises(AFSError) as ei:
        rxkad.unseal_payload(1, KEY, 1, 1, forged, backend=backend)
    assert ei.value.code == rxkad.RXKADDATALEN


def test_auth_long_payload_only_first_block_encrypted(backend):
    data = bytes(range(100))
    wire = rxkad.seal_payload(1, KEY, 7, 9, data, backend=backend)
    assert len(wire) == 104 and wire[8:] == data[4:]


def test_connection_checksum_rules(backend):
    cc = rxkad.ConnectionCrypto(KEY, EPOCH, CID, rxkad.LEVEL_CRYPT, backend=backend)
    wire, ck = cc.seal(5, 1, 3, b"data")
    # checksum 0 accepted while none has been seen (old peers)
    assert cc.unseal(5, 1, 3, wire, 0) == b"data"
    assert cc.unseal(5, 1, 3, wire, ck) == b"data"
    with pytest.raises(AFSError) as ei:
        cc.unseal(5, 1, 3, wire, 0)            # now checked
    assert ei.value.code == rxkad.RXKADSEALEDINCON
    with pytest.raises(AFSError):
        cc.unseal(5, 2, 3, wire, ck)           # other channel
    assert cc.header_size == 8


def test_old_challenge_and_response(backend):
    chal = rxkad.make_challenge(41, 1, v2=False)
    assert len(chal) == 8
    assert rxkad.parse_challenge(chal) == rxkad.Challenge(0, 41, 1)
    body = rxkad.respond_to_challenge(chal, KEY, EPOCH, CID, [0] * 4, 2, 7,
                                      bytes(32), backend=backend)
    assert len(body) == 16 + 32
    resp = rxkad.parse_response(body, v2=False)
    assert rxkad.open_response(resp, KEY, EPOCH, CID, backend=backend) == \
        rxkad.ResponseContents(42, 2, ())
    with pytest.raises(AFSError) as ei:
        rxkad.parse_response(body + b"x", v2=False)
    assert ei.value.code == rxkad.RXKADPACKETSHORT


def test_challenge_level_refused():
    chal = rxkad.make_challenge(1, 2)
    with pytest.raises(AFSError) as ei:
        rxkad.respond_to_challenge(chal, KEY, EPOCH, CID, [0] * 4, 0, 7, bytes(32))
    assert ei.value.code == rxkad.RXKADLEVELFAIL
    with pytest.raises(AFSError) as ei:
        rxkad.parse_challenge(bytes(12))
    assert ei.value.code == rxkad.RXKADPACKETSHORT


def test_response_checks(backend):
    body = rxkad.make_response(KEY, EPOCH, CID, [0, 1, 0, 0], 5, 2, 999, bytes(32),
                               backend=backend)
    resp = rxkad.parse_response(body)
    with pytest.raises(AFSError) as ei:
        rxkad.open_response(resp, KEY, EPOCH + 1, CID, backend=backend)
    assert ei.value.code == rxkad.RXKADSEALEDINCON
    # the channel bits of cid do not matter
    rxkad.open_response(resp, KEY, EPOCH, CID & ~3, backend=backend)
    bad = body[:20] + bytes([body[20] ^ 1]) + body[21:]
    with pytest.raises(AFSError) as ei:
        rxkad.open_response(rxkad.parse_response(bad), KEY, EPOCH, CID, backend=backend)
    assert ei.value.code == rxkad.RXKADSEALEDINCON
    with pytest.raises(AFSError) as ei:
        rxkad.parse_response(body[:56] + bytes(10))
    assert ei.value.code == rxkad.RXKADPACKETSHORT
    short_ticket = rxkad.make_response(KEY, EPOCH, CID, [0] * 4, 5, 2, 1, bytes(8))
    with pytest.raises(AFSError) as ei:
        rxkad.parse_response(short_ticket)
    assert ei.value.code == rxkad.RXKADTICKETLEN


def test_des_known_answer():
    k = bytes.fromhex("133457799bbcdff1")
    assert des_encrypt_block(k, bytes.fromhex("0123456789abcdef")).hex() == "85e813540f0ab405"
    assert des_decrypt_block(k, bytes.fromhex("85e813540f0ab405")).hex() == "0123456789abcdef"
    # parity bits are ignored
    assert des_encrypt_block(bytes(b ^ 1 for b in k), bytes(8)) == des_encrypt_block(k, bytes(8))


def test_parity_and_weak_keys():
    assert set_odd_parity(bytes(8)) == bytes.fromhex("0101010101010101")
    assert is_weak_key(bytes(8))
    assert is_weak_key(bytes.fromhex("fe01fe01fe01fe01"))
    assert not is_weak_key(KEY)


def test_kdf_details():
    assert compress_parity_bits(bytes.fromhex("00000000000000fe")) == bytes.fromhex("01010101010101")
    assert len(compress_parity_bits(bytes(24))) == 21
    k = derive_des_key(16, bytes(range(24)))
    assert k == rxkad_kdf(compress_parity_bits(bytes(range(24))))
    assert set_odd_parity(k) == k
    for bad in (0, 4, 6, 8, 15, -1):
        with pytest.raises(ValueError):
            derive_des_key(bad, bytes(16))
    with pytest.raises(ValueError):
        derive_des_key(1, bytes(16))
    with pytest.raises(ValueError):
        derive_des_key(23, bytes(6))
    tok = rxkad_k5_token(b"\x61\x03abc", 18, bytes(range(32)), 10, 20)
    assert tok.kvno == TKT_TYPE_KERBEROS_V5
    assert tok.session_key.hex() == "b60db5e30b266b16"


def test_ticket_limits():
    sk = bytes(range(1, 9))
    t = Ticket("a" * 63, "i" * 63, "c" * 63, 1, KEY, 100, 200)
    assert decode_ticket(encode_ticket(t, sk), sk).name == "a" * 63
    for bad in (Ticket("a" * 64, "", "", 0, KEY, 0, 100),
                Ticket("", "", "", 0, KEY, 0, 100),
                Ticket("a", "", "", 0, KEY, 0, 100 + 31 * 86400),
                Ticket("a\0b", "", "", 0, KEY, 0, 100),
                Ticket("a", "", "", 0, b"short", 0, 100)):
        with pytest.raises(TicketError):
            encode_ticket(bad, sk)
    for n in (0, 24, 33, 12008):
        with pytest.raises(DecodeError) as ei:
            decode_ticket(bytes(n), sk)
        assert ei.value.code == rxkad.RXKADBADTICKET


def test_ticket_56_byte_quirk():
    sk = bytes(range(1, 9))
    from kafs.auth.crypto.des import des_pcbc_encrypt
    from kafs.auth.crypto.ticket import assemble_ticket
    t = Ticket("afs", "", "", 0, KEY, 0, NEVERDATE)
    plain = assemble_ticket(t)
    assert decode_ticket(des_pcbc_encrypt(sk, sk, plain + bytes(56 - len(plain))), sk) == t
    with pytest.raises(TicketError):
        decode_ticket(des_pcbc_encrypt(sk, sk, plain + bytes(48 - len(plain))), sk)


def test_time_to_life_rounding():
    assert time_to_life(0, 1) == 1
    assert time_to_life(0, 300) == 1
    assert time_to_life(0, 301) == 2
    assert time_to_life(0, 38400) == 0x80
    assert time_to_life(0, 38401) == 0x81
    assert time_to_life(0, 0) == 0
    assert time_to_life(0, NEVERDATE) == 0xFF


@pytest.mark.parametrize("start, end, now, want", [
    (100, 100, 100, -2),
    (0, NEVERDATE, 10**9, 1),
    (1000, 2000, 1500, 2),
    (1000, 2000, 2000 + 900, 2),
    (1000, 2000, 2000 + 901, -1),
    (10**6, 10**6 + 100, 10**6 - 901, 0),
    (10**6, 10**6 + 100, 10**6 - 900, 2),
    (1000, 1000 + 31 * 86400, 2000, -2),
    (1000, 2000, 1000 + 31 * 86400 + 1, -2),
])
def test_check_times(start, end, now, want):
    assert check_times(start, end, now) == want


@pytest.mark.parametrize("value, want_python", [("1", True), ("0", False), ("", False)])
def test_kafs_no_c_env(value, want_python):
    import subprocess
    import sys
    env = dict(os.environ, KAFS_NO_C=value)
    out = subprocess.run(
        [sys.executable, "-c", "from kafs.auth.crypto import fcrypt; print(fcrypt.BACKEND)"],
        env=env, capture_output=True, text=True, check=True).stdout.strip()
    if want_python:
        assert out == "python"
    else:
        assert out == ("c" if fcrypt.load_c_backend() else "python")


def test_ints_are_not_keys(backend):
    with pytest.raises(TypeError):
        backend.ecb_encrypt(8, bytes(8))
    with pytest.raises(TypeError):
        backend.pcbc_encrypt(KEY, KEY, 16)


def test_whole_packet_seal_unseal_same_on_both_backends():
    """ConnectionCrypto with the C backend seals/unseals each packet in one
    call (rxkad_seal/rxkad_unseal, crypt: interleaved PCBC chains); the
    pure-Python backend goes step by step: same bytes, same errors."""
    import random

    from kafs.auth.crypto import rxkad as rk
    from kafs.errors import AFSError

    bes = fcrypt.backends()
    if "c" not in bes:
        pytest.skip("C accelerator not built")
    rng = random.Random(5)
    key = bytes(rng.getrandbits(8) for _ in range(8))

    def outcome(cc, *a):
        try:
            return cc.unseal(*a)
        except AFSError as e:
            return e.code
    for level in (0, 1, 2):
        c = rk.ConnectionCrypto(key, 99, 0x20000008, level, backend=bes["c"])
        p = rk.ConnectionCrypto(key, 99, 0x20000008, level, backend=bes["python"])
        for _ in range(40):
            lens = [rng.choice((0, 1, 3, 4, 7, 8, 9, 16, 100, 1396, rng.randrange(3000)))
                    for _ in range(rng.randrange(1, 8))]
            pls = [bytes(rng.getrandbits(8) for _ in range(n)) for n in lens]
            call, ch, seq = rng.getrandbits(31), rng.randrange(4), rng.getrandbits(30)
            sealed = c.seal_many(call, ch, seq, pls)
            assert sealed == [p.seal(call, ch, seq + i, x) for i, x in enumerate(pls)]
            for i, (w, ck) in enumerate(sealed):
                for args in ((call, ch, seq + i, w, ck), (call, ch, seq + i, memoryview(w), ck),
                             (call, ch, seq + i + 1, w, ck), (call, ch ^ 1, seq + i, w, ck),
                             (call, ch, seq + i, w[:-1], ck), (call, ch, seq + i, w[:5], ck),
                             (call, ch, seq + i + 1, w, 0)):
                    assert outcome(c, *args) == outcome(p, *args)
        c.checksum_seen = p.checksum_seen = True
        assert outcome(c, 1, 0, 1, b"x" * 16, 0) == outcome(p, 1, 0, 1, b"x" * 16, 0)
    # a sealed length beyond the packet: RXKADDATALEN from both
    for be in bes.values():
        cc = rk.ConnectionCrypto(key, 99, 0x20000008, 2, backend=be)
        word = ((5 ^ 3) & 0xFFFF) << 16 | 2000
        wire = be.pcbc_encrypt(key, key, word.to_bytes(4, "big") + bytes(4) + bytes(16))
        assert outcome(cc, 3, 0, 5, wire, 0) == rk.RXKADDATALEN


def test_default_connection_crypto_uses_the_whole_packet_functions_of_the_active_backend():
    """Without a backend argument a connection takes the active fcrypt
    backend: with the C accelerator, its one-call rxkad_seal/rxkad_unseal
    (fcrypt re-exports them); with the Python backend, none."""
    from kafs.auth.crypto import rxkad as rk
    cc = rk.ConnectionCrypto(KEY, EPOCH, CID, rk.LEVEL_CRYPT)
    if fcrypt.BACKEND == "c":
        c = fcrypt.load_c_backend()
        assert cc._seal is c.rxkad_seal and cc._unseal is c.rxkad_unseal
    else:
        assert cc._seal is None and cc._unseal is None
    wire, ck = cc.seal(7, 1, 3, b"payload")
    assert cc.unseal(7, 1, 3, wire, ck) == b"payload"


def test_localauth_ticket_type_is_kdf_s():
    from kafs.auth import localauth
    from kafs.auth.crypto import kdf
    assert localauth.TKT_TYPE_ENCPART_ONLY == kdf.TKT_TYPE_KERBEROS_V5_ENCPART_ONLY
