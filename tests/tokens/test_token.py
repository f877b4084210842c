"""RxkadToken, its XDR form, the file and keyring stores (no cell needed)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings, strategies as st

from kafs.auth import store
from kafs.auth.token import RxkadToken, decode_token_set, encode_token_set, token_from_krb5
from kafs.errors import DecodeError

KEY = bytes.fromhex("0123456789abcdef")
TICKET = bytes(range(200))


def tok(cell="test.example", end_in=3600, viceid=1, **kw):
    now = int(time.time())
    t = RxkadToken(cell=cell, viceid=0, kvno=256, session_key=KEY, start=now,
                   end=now + end_in, ticket=TICKET, primary=False, **kw)
    return t.with_viceid(viceid)


def test_repr_hides_secrets():
    t = tok()
    for text in (repr(t), str(t), "%s" % (t,), "%r" % ([t],)):
        assert KEY.hex() not in text and repr(KEY) not in text
        assert TICKET.hex()[:16] not in text and repr(TICKET)[:20] not in text
        assert "hidden" in text and "test.example" in text


def test_contract_fields():
    t = RxkadToken(cell="c", viceid=5, kvno=256, session_key=KEY, start=1, end=2,
                   ticket=b"x" * 40, primary=True)
    assert (t.cell, t.viceid, t.kvno, t.session_key, t.start, t.end, t.ticket, t.primary) == \
        ("c", 5, 256, KEY, 1, 2, b"x" * 40, True)
    with pytest.raises(ValueError):
        RxkadToken(cell="c", viceid=5, kvno=256, session_key=b"short", start=1, end=2,
                   ticket=b"", primary=True)


def test_viceid_parity_like_openafs():
    t = RxkadToken(cell="c", viceid=0, kvno=256, session_key=KEY, start=1000, end=2000,
                   ticket=TICKET, primary=False)
    a = t.with_viceid(7)
    assert (a.end - a.start) & 1 == 1 and a.start == 1001 and a.client_name == "AFS ID 7"
    assert a.has_afs_id
    b = a.with_viceid(0)
    assert (b.end - b.start) & 1 == 0 and b.client_name == "Unix UID 0"
    assert a.with_viceid(9).start == a.start          # already odd


def test_xdr_round_trip_and_layout():
    t = tok()
    data = t.encode()
    # flags, cell string, count, one opaque holding type 2 + token_rxkad
    assert data[:4] == b"\0\0\0\0"
    assert data[4:8] == (12).to_bytes(4, "big") and data[8:20] == b"test.example"
    assert data[20:24] == (1).to_bytes(4, "big")
    inner = data[28:]
    assert inner[:4] == (2).to_bytes(4, "big")
    assert inner[12:20] == KEY                  # opaque key[8]: no length word
    back = RxkadToken.decode(data)
    assert back == t
    ts = decode_token_set(encode_token_set("x", [t, t], 1))
    assert ts.flags == 1 and len(ts.tokens) == 2 and ts.cell == "x"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decoder_never_crashes(b):
    try:
        decode_token_set(b)
    except DecodeError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(-2**31, 2**31 - 1), st.binary(max_size=300))
def test_round_trip_property(start, viceid, ticket):
    t = RxkadToken(cell="c.example", viceid=viceid, kvno=256, session_key=KEY, start=start,
                   end=start + 10, ticket=ticket, primary=True)
    assert RxkadToken.decode(t.encode()) == t


def test_token_from_krb5_aes():
    # rxkad-kdf vector (protocol-notes 2.10): AES-256 key 00..1f -> b60db5e30b266b16
    t = token_from_krb5("TEST.example", TICKET, 18, bytes(range(32)), 1000, 2000, viceid=3)
    assert t.session_key == bytes.fromhex("b60db5e30b266b16")
    assert t.kvno == 256 and t.ticket == TICKET and t.cell == "test.example"
    assert t.viceid == 3 and (t.end - t.start) % 2 == 1
    d = token_from_krb5("c", TICKET, 3, KEY, 1000, 2000)
    assert d.session_key == KEY and d.viceid == 0 and (d.end - d.start) % 2 == 0


# -- file backend --------------------------------------------------------------

def test_file_store(file_store):
    t = tok()
    assert store.get_token("test.example") is None
    store.store_token(t)
    assert file_store.exists()
    assert stat.S_IMODE(file_store.stat().st_mode) == 0o600
    assert stat.S_IMODE(file_store.parent.stat().st_mode) == 0o700
    assert store.get_token("TEST.EXAMPLE") == t
    t2 = tok(cell="other.example", viceid=0)
    store.store_token(t2)
    assert [x.cell for x in store.list_tokens()] == ["other.example", "test.example"]
    raw = file_store.read_bytes()
    assert raw.startswith(b"KAFSTOK1")
    assert store.forget("test.example") == ["test.example"]
    assert store.get_token("test.example") is None
    assert store.get_token("other.example") == t2
    assert store.forget() == ["other.example"]
    assert store.list_tokens() == []


def test_file_store_expired_never_returned(file_store):
    t = tok(end_in=-10)
    store.store_token(t)
    assert store.get_token("test.example") is None
    assert store.list_tokens() == []
    assert store.list_tokens(include_expired=True) == [t]
    soon = tok(end_in=3600)
    store.store_token(soon)
    assert store.get_token("test.example") == soon
    # the moment it ends, it is gone (explicit clocks: no race with a second
    # boundary, no sleep)
    b = store.backend()
    assert b.get("test.example", soon.end - 1) == soon
    assert b.get("test.example", soon.end) is None
    assert b.list(False, soon.end) == [] and b.list(True, soon.end) == [soon]


def test_file_store_refuses_open_permissions(file_store, caplog):
    store.store_token(tok())
    os.chmod(file_store, 0o644)
    assert store.get_token("test.example") is None
    assert "not private" in caplog.text
    with pytest.raises(store.StoreError):
        store.list_tokens()


def test_file_store_umask_does_not_matter(file_store):
    old = os.umask(0)
    try:
        store.store_token(tok())
    finally:
        os.umask(old)
    assert stat.S_IMODE(file_store.stat().st_mode) == 0o600


def test_backend_choice(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFS_TOKEN_STORE", "file")
    monkeypatch.setenv("KAFS_TOKEN_FILE", str(tmp_path / "t"))
    assert store.backend().name == "file"
    monkeypatch.setenv("KAFS_TOKEN_STORE", "bogus")
    with pytest.raises(store.StoreError):
        store.backend()
    monkeypatch.delenv("KAFS_TOKEN_FILE")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert store.default_token_file() == tmp_path / "kafs" / "tokens"


# -- keyring backend (in a private named session keyring, in a subprocess) -------

_KEYRING_SCRIPT = r"""
import sys, time
from kafs.auth import store, keyring
from kafs.auth.token import RxkadToken
KEY = bytes.fromhex("0123456789abcdef")
now = int(time.time())
t = RxkadToken(cell="test.example", viceid=0, kvno=256, session_key=KEY, start=now,
               end=now + 3600, ticket=bytes(range(200)), primary=False).with_viceid(1)
assert store.backend().name == "keyring"
assert store.get_token("test.example") is None
store.store_token(t)
ring = keyring.session_keyring()
s = keyring.search(ring, "user", "afs@test.example")
assert s is not None, "no key"
info = keyring.describe(s)
assert info.type == "user" and info.description == "afs@test.example", info
assert store.get_token("test.example") == t
assert [x.cell for x in store.list_tokens()] == ["test.example"]
short = RxkadToken(cell="short.example", viceid=0, kvno=256, session_key=KEY, start=now,
                   end=now + 1, ticket=b"t" * 40, primary=False)
store.store_token(short)
time.sleep(2.2)
assert store.get_token("short.example") is None      # kernel timeout / end check
assert store.forget("test.example") == ["test.example"]
assert store.get_token("test.example") is None
assert keyring.search(ring, "user", "afs@test.example") is None
print("OK", ring)
keyring.invalidate(ring)
"""


def test_keyring_store(keyring_session):
    from .conftest import join
    env = dict(os.environ, KAFS_TOKEN_STORE="keyring")
    r = subprocess.run([sys.executable, "-c", _KEYRING_SCRIPT], env=env, capture_output=True,
                       text=True, timeout=60, preexec_fn=join(keyring_session))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("OK")
