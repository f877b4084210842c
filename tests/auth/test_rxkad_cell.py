"""rxkad against the real OpenAFS 1.8.9 vlserver: a Kerberos 5 service
ticket from the test cell's MIT KDC, turned into an rxkad-k5 token with our
KDF, authenticates our RESPONSE, and DATA packets flow at clear, auth and
crypt level (checksums, sealing, PCBC) with both fcrypt backends.

The security class here is a minimal test-only client; the real one lives
in kafs.rx.security.
"""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess

import pytest

from kafs.auth.crypto import kdf, rxkad
from kafs.rx.endpoint import Endpoint
from kafs.rx.security import SecurityClass

pytestmark = pytest.mark.cell


def _read_ccache(path: str, service: str):
    """(enctype, key, DER ticket) for ``service`` from an MIT FILE ccache (v4)."""
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
        take(16 + 1 + 4)                        # 4 times, is_skey, flags
        for _ in range(u32()):                  # addresses
            u16()
            data()
        for _ in range(u32()):                  # authdata
            u16()
            data()
        ticket = data()
        data()                                  # second ticket
        if server.decode() == service:
            return enctype, key, ticket
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
    enctype, key, ticket = _read_ccache(cc, service)
    return kdf.rxkad_k5_token(ticket, enctype, key, 0, 0)


class _TestRxkadClient(SecurityClass):
    index = 2
    name = "rxkad"
    debug_type = 3

    def __init__(self, level, tok, backend):
        self.level = level
        self.tok = tok
        self.backend = backend
        self.header_size = self.trailer_size = rxkad.HEADER_SIZE[level]
        self.challenges = 0

    def key(self):
        return (2, self.level, self.tok.session_key, self.tok.ticket, id(self))

    def new_connection(self, conn, server):
        conn.sec = rxkad.ConnectionCrypto(self.tok.session_key, conn.epoch, conn.cid,
                                          self.level, backend=self.backend)
        conn.authenticated = True

    def prepare_packet(self, conn, call_number, channel, seq, payload):
        return conn.sec.seal(call_number, channel, seq, payload)

    def check_packet(self, conn, header, payload):
        return conn.sec.unseal(header.call, header.cid & 3, header.seq, payload, header.cksum)

    def respond_to_challenge(self, conn, body):
        self.challenges += 1
        return rxkad.respond_to_challenge(
            body, self.tok.session_key, conn.epoch, conn.cid,
            conn.call_numbers_for_response(), self.level, self.tok.kvno,
            self.tok.ticket, backend=self.backend)


def _xdr_string(s: bytes) -> bytes:
    return len(s).to_bytes(4, "big") + s + b"\0" * (-len(s) % 4)


@pytest.mark.parametrize("level", [rxkad.LEVEL_CLEAR, rxkad.LEVEL_AUTH, rxkad.LEVEL_CRYPT])
def test_vlserver_accepts_our_rxkad(cell, token, backend, level):
    sec = _TestRxkadClient(level, token, backend)

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
            # a request spanning several DATA packets (the server checks and
            # unseals every one; trailing bytes after VL_Probe are ignored)
            assert await conn.call((514).to_bytes(4, "big") + os.urandom(20000)) == b""
        finally:
            await ep.close()

    asyncio.run(asyncio.wait_for(main(), 120))
    assert sec.challenges >= 1


def test_vlserver_rejects_wrong_session_key(cell, token):
    from dataclasses import replace

    from kafs.errors import AFSError
    bad = replace(token, session_key=bytes(b ^ 0x10 for b in token.session_key))
    sec = _TestRxkadClient(rxkad.LEVEL_CRYPT, bad, None)

    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        try:
            conn = ep.connection((cell.host, cell.ports["vlserver"]), 52, sec, dead_time=15)
            with pytest.raises(AFSError) as ei:
                await conn.call((514).to_bytes(4, "big"))
            return ei.value.code
        finally:
            await ep.close()

    code = asyncio.run(asyncio.wait_for(main(), 60))
    assert code == rxkad.RXKADSEALEDINCON
