"""Server keys (KeyFile, KeyFileExt, rxkad.keytab), OpenAFS's key choice for
-localauth, v4 -localauth tickets, Kerberos 5 ticket codecs and RFC 3961/3962
crypto."""

from __future__ import annotations

import os
import stat
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafs.auth import krb5ticket as k5
from kafs.auth.crypto import kdf
from kafs.auth.crypto.ticket import decode_ticket
from kafs.auth.keys import (KEY_RXKAD, KEY_RXKAD_KRB5, ServerKey, ServerKeys,
                            encode_keyfile, encode_keyfile_ext, parse_keyfile,
                            parse_keyfile_ext, parse_keytab, write_secret_file)
from kafs.auth.localauth import localauth_token
from kafs.errors import ConfigError

DES = bytes.fromhex("0102040810204080")


def test_keyfile_roundtrip_and_limits():
    b = encode_keyfile([(3, DES), (1, bytes(8))])
    ks = parse_keyfile(b)
    assert [(k.kvno, k.key) for k in ks] == [(1, bytes(8)), (3, DES)]
    with pytest.raises(ConfigError):
        parse_keyfile(b[:-1])
    with pytest.raises(ConfigError):
        parse_keyfile(struct.pack(">i", 9) + bytes(9 * 12))


def test_keyfile_ext_extra_metadata_skipped():
    rec = struct.pack(">iiiii", 20, 2, 7, 18, 0xABCD) + struct.pack(">i", 32) + bytes(range(32))
    ks = parse_keyfile_ext(struct.pack(">i", 1) + rec)
    assert ks == [ServerKey(KEY_RXKAD_KRB5, 7, 18, bytes(range(32)), "KeyFileExt")]
    with pytest.raises(ConfigError):
        parse_keyfile_ext(struct.pack(">i", 1) + rec[:-3])


def test_localauth_key_choice_follows_openafs():
    # the highest kvno wins, then the enctype preference 18, 17, 23, 16 within it
    ks = ServerKeys([ServerKey(2, 5, 18, bytes(32)), ServerKey(2, 6, 17, bytes(16)),
                     ServerKey(2, 6, 23, bytes(16)), ServerKey(0, 9, 0, DES)])
    k = ks.localauth_key()
    assert (k.type, k.kvno, k.subtype) == (2, 6, 17)
    # no usable enctype in the best kvno: the DES KeyFile key (kvno 999 skipped)
    ks = ServerKeys([ServerKey(2, 6, 99, bytes(16)), ServerKey(0, 999, 0, bytes(8)),
                     ServerKey(0, 4, 0, DES)])
    k = ks.localauth_key()
    assert (k.type, k.kvno) == (KEY_RXKAD, 4)
    assert ServerKeys().localauth_key() is None


def test_v4_localauth_ticket_like_openafs():
    ks = ServerKeys([ServerKey(KEY_RXKAD, 4, 0, DES)])
    tok = localauth_token(keys=ks)
    assert tok.kvno == 4 and tok.start == 0 and tok.end == 0xFFFFFFFF
    t = decode_ticket(tok.ticket, DES)
    assert (t.name, t.instance, t.cell, t.host, t.start, t.end) == ("afs", "", "", 0, 0,
                                                                      0xFFFFFFFF)
    assert t.session_key == tok.session_key and len(tok.ticket) == 32


def test_k5_localauth_ticket_contents():
    key = os.urandom(32)
    tok = localauth_token(keys=ServerKeys([ServerKey(KEY_RXKAD_KRB5, 2, 18, key)]))
    assert tok.kvno == kdf.TKT_TYPE_KERBEROS_V5_ENCPART_ONLY
    ed = k5.decode_encrypted_data(tok.ticket)
    assert (ed.etype, ed.kvno) == (18, 2)
    part = k5.decode_enc_ticket_part(k5.decrypt(18, key, 2, ed.cipher))
    assert part.cname == ("afs",) and part.crealm == "" and part.authtime == 0
    assert part.endtime == 0x7FFFFFFF and part.keytype == 1 and part.key == tok.session_key
    assert part.flag(k5.TKT_FLAG_TRANSITED_POLICY_CHECKED) and not part.flag(k5.TKT_FLAG_INVALID)
    assert kdf.derive_des_key(1, part.key) == tok.session_key


def test_load_dir_and_secret_file_mode(tmp_path):
    write_secret_file(str(tmp_path / "KeyFile"), encode_keyfile([(2, DES)]))
    write_secret_file(str(tmp_path / "KeyFileExt"),
                      encode_keyfile_ext([ServerKey(2, 3, 17, bytes(16))]))
    for n in ("KeyFile", "KeyFileExt"):
        assert stat.S_IMODE(os.stat(tmp_path / n).st_mode) == 0o600
    ks = ServerKeys.load(str(tmp_path))
    assert ks.des_key(2) == DES and ks.krb5_key(3, 17) == bytes(16)
    assert DES.hex() not in repr(ks.keys()) and repr(DES) not in repr(ks.keys())
    os.mkdir(tmp_path / "d")
    from kafs.auth.keys import read_secret_file
    with pytest.raises(ConfigError, match="not a regular file"):
        read_secret_file(str(tmp_path / "d"), "KeyFile")
    assert read_secret_file(str(tmp_path / "missing"), "KeyFile") is None


def _keytab_entry(princ_comps, realm, kvno, enctype, key, v2=True):
    o = ">" if v2 else "="
    body = struct.pack(o + "H", len(princ_comps) + (0 if v2 else 1))
    body += struct.pack(o + "H", len(realm)) + realm
    for c in princ_comps:
        body += struct.pack(o + "H", len(c)) + c
    if v2:
        body += struct.pack(o + "I", 1)
    body += struct.pack(o + "IB", 0, kvno & 0xFF) + struct.pack(o + "HH", enctype, len(key)) + key
    body += struct.pack(o + "I", kvno)
    return struct.pack(o + "i", len(body)) + body


def test_keytab_parse_and_load(tmp_path):
    kt = (b"\x05\x02" + _keytab_entry([b"afs", b"x.org"], b"X.ORG", 300, 18, bytes(32))
          + struct.pack(">i", -12) + bytes(12)
          + _keytab_entry([b"host", b"h"], b"X.ORG", 1, 17, bytes(16)))
    ents = parse_keytab(kt)
    assert [(p, v, e) for p, v, e, _ in ents] == [("afs/x.org@X.ORG", 300, 18),
                                                 ("host/h@X.ORG", 1, 17)]
    write_secret_file(str(tmp_path / "rxkad.keytab"), kt)
    assert len(ServerKeys.load(str(tmp_path))) == 0            # OpenAFS 1.8: not read
    ks = ServerKeys.load(str(tmp_path), keytab=True)
    assert ks.krb5_key(300, 18) == bytes(32) and ks.krb5_key(1, 17) is None


def test_real_service_keytab_matches_keyfileext(cell):
    ents = parse_keytab(open(cell.service_keytab, "rb").read())
    real = ServerKeys.load(cell.server_etc)
    for princ, kvno, enctype, key in ents:
        if enctype in (17, 18):
            assert princ == f"afs/{cell.cell}@{cell.realm}"
            assert real.krb5_key(kvno, enctype) == key


# ---------------------------------------------------------------- RFC 3961/3962

def test_nfold_rfc3961_vectors():
    assert k5.nfold(b"012345", 8).hex() == "be072631276b1955"
    assert k5.nfold(b"password", 7).hex() == "78a07b6caf85fa"
    assert k5.nfold(b"Rough Consensus, and Running Code", 8).hex() == "bb6ed30870b7f0e0"
    assert k5.nfold(b"kerberos", 16).hex() == "6b65726265726f737b9b5b2b93132b93"
    assert k5.nfold(b"kerberos", 21).hex() == "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4"


def test_aes_cts_known_answer():
    # RFC 3962 appendix B: AES-128 CBC-CTS, key "chicken teriyaki"
    key = b"chicken teriyaki"
    msg = bytes.fromhex("4920776f756c64206c696b652074686520")
    assert k5._cts_encrypt(key, msg).hex() == "c6353568f2bf8cb4d8a580362da7ff7f97"
    msg2 = bytes.fromhex("4920776f756c64206c696b65207468652047656e6572616c20476175277320")
    c2 = k5._cts_encrypt(key, msg2)
    assert c2.hex() == "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5"
    assert k5._cts_decrypt(key, c2) == msg2


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([17, 18]), st.binary(max_size=200), st.integers(0, 2**31))
def test_encrypt_roundtrip_and_tamper(etype, data, usage):
    key = bytes(range(32 if etype == 18 else 16))
    c = k5.encrypt(etype, key, usage, data)
    assert len(c) == 16 + len(data) + 12
    assert k5.decrypt(etype, key, usage, c) == data
    bad = bytearray(c)
    bad[len(bad) // 2] ^= 1
    with pytest.raises(k5.Krb5Error):
        k5.decrypt(etype, key, usage, bytes(bad))
    with pytest.raises(k5.Krb5Error):
        k5.decrypt(etype, key, usage + 1, c)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_der_decoders_only_raise_krb5error(data):
    for f in (k5.decode_ticket, k5.decode_encrypted_data, k5.decode_enc_ticket_part):
        try:
            f(data)
        except k5.Krb5Error:
            pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_key_parsers_only_raise_configerror(data):
    for f in (parse_keyfile, parse_keyfile_ext, parse_keytab):
        try:
            f(data)
        except ConfigError:
            pass
