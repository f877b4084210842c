"""rxkad against the real OpenAFS 1.8.9 cell with the real security classes.

* A Kerberos 5 service ticket from the test cell's MIT KDC (``kinit admin``),
  turned into an rxkad-k5 token, authenticates :class:`RxkadClient` to the
  vlserver/ptserver/bosserver at clear, auth and crypt with both fcrypt
  backends.
* ``-localauth`` tickets forged from /etc/openafs/server (KeyFileExt
  rxkad_krb5 keys) are accepted as the super-user by VL, PR and BOZO at
  every level; a scratch pts user is created and deleted with them.
* A wrong key gives the same error as our server; our server accepts the
  KDC's real tickets with the cell's own keys.
* ``client_security`` picks the level each tool uses.
"""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess
import sys
import time
import types

import pytest

from kafs.auth.crypto import kdf
from kafs.auth.crypto import rxkad as rk
from kafs.auth.keys import KEY_RXKAD_KRB5, ServerKey, ServerKeys
from kafs.auth.localauth import localauth_security, localauth_token
from kafs.auth.rxkad import (LEVEL_AUTH, LEVEL_CLEAR, LEVEL_CRYPT, RxkadClient,
                             RxkadServer, identity_of)
from kafs.errors import AFSError
from kafs.errors.tables import code_from_name, error_message
from kafs.rpc import bozo, pr, vl
from kafs.rx.endpoint import Endpoint

pytestmark = pytest.mark.cell

LEVELS = [LEVEL_CLEAR, LEVEL_AUTH, LEVEL_CRYPT]
NO_SUCH_VOLUME = 0x7FFFFFF3


def _read_ccache(path: str, service: str):
    """(enctype, key, DER ticket, start, end) for ``service`` from an MIT FILE ccache (v4)."""
    b = open(path, "rb").read()
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(b):
            raise EOFError
        out = b[pos:pos + n]
        pos += n
        return out

    def u16():
        return struct.unpack(">H", take(2))[0]

    def u32():
        return struct.unpack(">I", take(4))[0]

    def data():
        return take(u32())

    def principal():
        u32()                                   # name type
        n = u32()
        realm = data()
        comps = [data() for _ in range(n)]
        return b"/".join(comps) + b"@" + realm

    assert u16() == 0x0504
    take(u16())                                 # header tags
    principal()                                 # default principal
    while pos < len(b):
        principal()
        server = principal()
        enctype = u16()
        key = data()
        authtime, starttime, endtime, _renew = struct.unpack(">IIII", take(16))
        take(1 + 4)                             # is_skey, flags
        for _ in range(u32()):                  # addresses
            u16()
            data()
        for _ in range(u32()):                  # authdata
            u16()
            data()
        ticket = data()
        data()                                  # second ticket
        if server.decode() == service:
            return enctype, key, ticket, starttime or authtime, endtime
    raise LookupError(service)


@pytest.fixture(scope="module")
def token(cell, tmp_path_factory):
    cc = str(tmp_path_factory.mktemp("krb") / "ccache")
    env = cell.env()
    env["KRB5CCNAME"] = "FILE:" + cc
    service = f"afs/{cell.cell}@{cell.realm}"
    subprocess.run(["kinit", "-k", "-t", cell.admin_keytab, cell.admin_principal],
                   env=env, check=True, capture_output=True, timeout=60)
    subprocess.run(["kvno", service], env=env, check=True, capture_output=True, timeout=60)
    enctype, key, ticket, start, end = _read_ccache(cc, service)
    t = kdf.rxkad_k5_token(ticket, enctype, key, start, end)
    return t


def _xdr_string(s: bytes) -> bytes:
    return len(s).to_bytes(4, "big") + s + b"\0" * (-len(s) % 4)


def run(coro, t=120):
    return asyncio.run(asyncio.wait_for(coro, t))


@pytest.mark.parametrize("level", LEVELS)
def test_vlserver_accepts_kerberos_token(cell, token, backend, level):
    sec = RxkadClient(level, token.session_key, token.kvno, token.ticket,
                      start=token.start, end=token.end, backend=backend)

    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        try:
            conn = ep.connection((cell.host, cell.ports["vlserver"]), 52, sec, dead_time=30)
            assert await conn.call((514).to_bytes(4, "big")) == b""          # VL_Probe
            req = (519).to_bytes(4, "big") + _xdr_string(b"root.cell")      # GetEntryByNameN
            replies = await asyncio.gather(*[conn.call(req) for _ in range(8)])
            for r in replies:
                assert len(r) == 476
                assert bytes(r[i + 3] for i in range(0, 36, 4)) == b"root.cell"
            # a request spanning several DATA packets
            assert await conn.call((514).to_bytes(4, "big") + os.urandom(20000)) == b""
            # admin is in UserList: a super-user call gets past the check
            with pytest.raises(AFSError) as ei:
                await vl.VL_SetLock(conn, NO_SUCH_VOLUME, 0, 0x10)
            assert ei.value.code == code_from_name("VL_NOENT")
            st = sec.stats(next(iter(ep.core.client_conns.values())))
            assert st["type"] == 3 and st["level"] == level and st["flags"] & 8
        finally:
            await ep.close()

    run(main())
    assert sec.challenges >= 1


def test_vlserver_rejects_wrong_session_key(cell, token):
    bad = bytes(b ^ 0x10 for b in token.session_key)
    sec = RxkadClient(LEVEL_CRYPT, bad, token.kvno, token.ticket)

    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        try:
            conn = ep.connection((cell.host, cell.ports["vlserver"]), 52, sec, dead_time=15)
            with pytest.raises(AFSError) as ei:
                await conn.call((514).to_bytes(4, "big"))
            return ei.value.code
        finally:
            await ep.close()

    assert run(main(), 60) == rk.RXKADSEALEDINCON


async def _superuser_calls(cell, sec):
    """VL, PR and BOZO calls that only a super-user gets past (codes)."""
    ep = await Endpoint.open("0.0.0.0", 0)
    out = {}
    try:
        v = ep.connection((cell.host, cell.ports["vlserver"]), 52, sec, dead_time=20)
        p = ep.connection((cell.host, cell.ports["ptserver"]), 73, sec, dead_time=20)
        b = ep.connection((cell.host, 7007), 1, sec, dead_time=20)
        for name, coro in (("vl", vl.VL_SetLock(v, NO_SUCH_VOLUME, 0, 0x10)),
                           ("pr", pr.PR_WhereIsIt(p, 1)),
                           ("bozo", bozo.BOZO_ListKeys(b, 0))):
            try:
                await coro
                out[name] = 0
            except AFSError as e:
                out[name] = e.code
    finally:
        await ep.close()
    return out


@pytest.mark.parametrize("level", LEVELS)
def test_localauth_is_superuser_at_every_level(cell, level):
    sec = localauth_security(level, cell.server_etc if hasattr(cell, "server_etc")
                             else "/etc/openafs/server")
    assert sec is not None and sec.kvno == kdf.TKT_TYPE_KERBEROS_V5_ENCPART_ONLY
    got = run(_superuser_calls(cell, sec))
    # VL_SetLock passed the super-user check and then found no volume; the
    # empty KeyFile has no key 0 (BZDOM) -- without rights: VL_PERM, BZACCESS
    assert got == {"vl": code_from_name("VL_NOENT"), "pr": 0, "bozo": code_from_name("BZDOM")}
    assert sec.challenges >= 3


def test_noauth_is_not_superuser(cell):
    got = run(_superuser_calls(cell, None))
    assert got["vl"] == code_from_name("VL_PERM")
    assert got["bozo"] == code_from_name("BZACCESS")


def test_localauth_pts_newentry_and_delete(cell):
    sec = localauth_security(LEVEL_CRYPT)                 # pts -localauth: crypt
    name = f"kafs-rxkad-{os.getpid()}-{int(time.time()) % 100000}"

    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        try:
            p = ep.connection((cell.host, cell.ports["ptserver"]), 73, sec, dead_time=20)
            uid = await pr.PR_NewEntry(p, name, 0, 0)
            try:
                assert await pr.PR_NameToID(p, [name]) == [uid]
            finally:
                await pr.PR_Delete(p, uid)
            assert await pr.PR_NameToID(p, [name]) == [32766]      # ANONYMOUSID: gone
            # and without rights the same creation is refused
            n = ep.connection((cell.host, cell.ports["ptserver"]), 73, None, dead_time=20)
            with pytest.raises(AFSError) as ei:
                await pr.PR_NewEntry(n, name, 0, 0)
            assert ei.value.code == code_from_name("PRPERM")
        finally:
            await ep.close()

    run(main())


def test_wrong_key_same_error_from_openafs_and_from_us(cell):
    """A -localauth ticket sealed with a wrong key (right kvno and enctype):
    the real vlserver and our server both answer RXKADBADTICKET; an unknown
    kvno gives RXKADUNKNOWNKEY from both."""
    real = ServerKeys.load()
    k = real.localauth_key()
    codes = {}
    for what, kvno in (("badkey", k.kvno), ("unknown", k.kvno + 40)):
        fake = ServerKeys([ServerKey(KEY_RXKAD_KRB5, kvno, k.subtype, os.urandom(len(k.key)))])
        tok = localauth_token(keys=fake)
        sec = RxkadClient(LEVEL_CLEAR, tok.session_key, tok.kvno, tok.ticket)

        async def main():
            srv = await Endpoint.open("127.0.0.1", 0)
            ep = await Endpoint.open("0.0.0.0", 0)
            srv.serve(52, _probe_handler, security=[None, RxkadServer(real)])
            out = []
            try:
                for addr in ((cell.host, cell.ports["vlserver"]), ("127.0.0.1", srv.port)):
                    conn = ep.connection(addr, 52, sec, dead_time=15)
                    with pytest.raises(AFSError) as ei:
                        await conn.call((514).to_bytes(4, "big"))
                    out.append((ei.value.code, str(ei.value)))
            finally:
                await ep.close()
                await srv.close()
            return out
        theirs, ours = run(main())
        assert theirs == ours
        codes[what] = theirs[0]
    assert codes == {"badkey": rk.RXKADBADTICKET, "unknown": rk.RXKADUNKNOWNKEY}
    assert error_message(rk.RXKADBADTICKET) == "security object was passed a bad ticket"


async def _probe_handler(call):
    await call.read_all()
    ident = identity_of(call)
    await call.write(repr((ident.name, ident.instance, ident.cell, ident.level)).encode())


@pytest.mark.parametrize("level", LEVELS)
def test_our_server_accepts_kdc_ticket_with_cell_keys(cell, token, level):
    server = RxkadServer(ServerKeys.load())
    sec = RxkadClient(level, token.session_key, token.kvno, token.ticket)

    async def main():
        srv = await Endpoint.open("127.0.0.1", 0)
        ep = await Endpoint.open("127.0.0.1", 0)
        srv.serve(52, _probe_handler, security=[None, server])
        try:
            conn = ep.connection(("127.0.0.1", srv.port), 52, sec)
            return eval(bytes(await conn.call(os.urandom(3000))).decode())
        finally:
            await ep.close()
            await srv.close()
    assert run(main()) == ("admin", "", cell.realm, level)


# ---------------------------------------------------------------- select.py

class _Auth:
    def __init__(self, **kw):
        self.noauth = kw.get("noauth", False)
        self.localauth = kw.get("localauth", False)
        self.encrypt = kw.get("encrypt", False)
        self.unauthenticated = False


@pytest.mark.parametrize("tool,encrypt,level", [
    ("vos", False, LEVEL_CLEAR), ("vos", True, LEVEL_CRYPT),
    ("pts", False, LEVEL_CRYPT), ("pts", True, LEVEL_CRYPT),
    ("bos", False, LEVEL_CRYPT), ("bos listusers", False, LEVEL_CLEAR),
    ("bos status", False, LEVEL_CLEAR), ("bos:addkey", False, LEVEL_CRYPT),
])
def test_select_localauth_levels(cell, tool, encrypt, level):
    from kafs.auth.select import client_security
    from kafs.cell import Cell
    c = Cell(cell.cell, localauth=True)
    auth = _Auth(localauth=True, encrypt=encrypt)
    sec = asyncio.run(client_security(c, auth, tool))
    assert isinstance(sec, RxkadClient) and sec.level == level and not auth.unauthenticated
    assert sec.kvno == kdf.TKT_TYPE_KERBEROS_V5_ENCPART_ONLY
    got = run(_superuser_calls(cell, sec))
    assert got["pr"] == 0 and got["vl"] == code_from_name("VL_NOENT")


def test_select_localauth_without_keys(tmp_path):
    from kafs.auth.select import AFSCONF_NOTFOUND, client_security
    cellobj = types.SimpleNamespace(name="test.example", confdir=tmp_path)
    auth = _Auth(localauth=True)
    assert asyncio.run(client_security(cellobj, auth, "vos")) is None
    assert auth.unauthenticated
    with pytest.raises(AFSError) as ei:
        asyncio.run(client_security(cellobj, _Auth(localauth=True), "bos"))
    assert ei.value.code == AFSCONF_NOTFOUND
    a = _Auth(localauth=True)
    assert asyncio.run(client_security(cellobj, a, "bos status")) is None and a.unauthenticated


def test_select_token_path(cell, token, monkeypatch):
    from kafs.auth import select
    from kafs.auth.token import RxkadToken
    tok = RxkadToken(cell=cell.cell, viceid=1, kvno=token.kvno, session_key=token.session_key,
                     start=token.start, end=token.end, ticket=token.ticket, primary=True)
    fake = types.SimpleNamespace(get_token=lambda c: tok if c == cell.cell else None)
    import kafs.auth
    monkeypatch.setitem(sys.modules, "kafs.auth.store", fake)
    monkeypatch.setattr(kafs.auth, "store", fake, raising=False)
    c = types.SimpleNamespace(name=cell.cell, confdir="/nonexistent")
    a = _Auth()
    sec = asyncio.run(select.client_security(c, a, "vos"))
    assert sec.level == LEVEL_CLEAR and sec.viceid == 1 and not a.unauthenticated
    sec2 = asyncio.run(select.client_security(c, _Auth(encrypt=True), "pts"))
    assert sec2.level == LEVEL_CRYPT
    got = run(_superuser_calls(cell, sec2))
    assert got["vl"] == code_from_name("VL_NOENT") and got["bozo"] == code_from_name("BZDOM")
    a = _Auth()
    other = types.SimpleNamespace(name="other.example", confdir="/nonexistent")
    assert asyncio.run(select.client_security(other, a, "vos")) is None and a.unauthenticated
    assert asyncio.run(select.client_security(c, _Auth(noauth=True), "vos")) is None
