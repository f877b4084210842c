"""Replayed RESPONSEs: a RESPONSE captured on the wire and sent again after
the server issued a new CHALLENGE (new nonce) is refused with
RXKADOUTOFSEQUENCE, as OpenAFS's rxkad_CheckResponse does; sent on another
connection it fails the endpoint check (RXKADSEALEDINCON)."""

from __future__ import annotations

import asyncio

import pytest

from kafs.auth.crypto import rxkad as rk
from kafs.auth.rxkad import LEVEL_CRYPT, RxkadClient, RxkadServer
from kafs.rx import packet as P
from kafs.rx.endpoint import Endpoint

from test_rxkad_class import ident_handler, k5_token, server_keys


def _capture(ep, kind, sink):
    orig = ep.core.take_datagrams

    def spy():
        out = orig()
        for d, addr in out:
            if d[20] == kind:
                sink.append((bytes(d), addr))
        return out
    ep.core.take_datagrams = spy


@pytest.mark.parametrize("same_connection", [True, False])
def test_replayed_response_is_refused(same_connection):
    tt, skey, ticket, _, _ = k5_token()
    server = RxkadServer(server_keys())
    sec = RxkadClient(LEVEL_CRYPT, skey, tt, ticket)

    async def main():
        srv = await Endpoint.open("127.0.0.1", 0)
        cli = await Endpoint.open("127.0.0.1", 0)
        srv.serve(77, ident_handler, security=[server])
        responses = []
        _capture(cli, P.RESPONSE, responses)
        try:
            conn = cli.connection(("127.0.0.1", srv.port), 77, sec)
            assert bytes(await conn.call(b"\0\0\0\x09xy")) == b"yx\x09\0\0\0"
            # one RESPONSE (more only if a slow machine made the server
            # send its CHALLENGE again; the first is the one replayed)
            assert len(responses) >= 1
            old, _ = responses[0]
            sconn = next(iter(srv.core.server_conns.values()))
            client_addr = ("127.0.0.1", cli.port)
            if same_connection:
                # the server re-authenticates the connection: a new CHALLENGE
                server.rechallenge(sconn)
                server.make_challenge(sconn, srv._now())
                srv.core.receive_datagram(old, client_addr, srv._now())
                want = rk.RXKADOUTOFSEQUENCE
                target = sconn
            else:
                # the same RESPONSE on a new connection (another cid)
                body = bytearray(old)
                body[4:8] = ((int.from_bytes(old[4:8], "big") + 4) & 0xFFFFFFFF).to_bytes(4, "big")
                data = bytearray(old)
                data[20] = P.DATA
                data[8:12] = (1).to_bytes(4, "big")      # call 1
                data[12:16] = (1).to_bytes(4, "big")     # seq 1
                data[4:8] = body[4:8]
                data[24:26] = b"\x12\x34"                # a checksum: v2 challenge
                srv.core.receive_datagram(bytes(data[:28]) + b"\0\0\0\x09", client_addr,
                                          srv._now())
                target = [c for c in srv.core.server_conns.values() if c is not sconn][0]
                server.make_challenge(target, srv._now())
                body[20] = P.RESPONSE
                body[8:16] = bytes(8)
                srv.core.receive_datagram(bytes(body), client_addr, srv._now())
                want = rk.RXKADSEALEDINCON
            assert target.error is not None and target.error.code == want
            assert not target.authenticated
            assert server.stats_counts["rejected"] == 1
        finally:
            await cli.close()
            await srv.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_response_to_current_challenge_accepted_after_rechallenge():
    """Control: after a re-challenge the real client answers the new nonce."""
    tt, skey, ticket, _, _ = k5_token()
    server = RxkadServer(server_keys())
    sec = RxkadClient(LEVEL_CRYPT, skey, tt, ticket)

    async def main():
        srv = await Endpoint.open("127.0.0.1", 0)
        cli = await Endpoint.open("127.0.0.1", 0)
        srv.serve(77, ident_handler, security=[server])
        try:
            conn = cli.connection(("127.0.0.1", srv.port), 77, sec)
            await conn.call(b"\0\0\0\x09ab")
            sconn = next(iter(srv.core.server_conns.values()))
            server.rechallenge(sconn)
            assert bytes(await conn.call(b"\0\0\0\x09cd")) == b"dc\x09\0\0\0"
            assert sconn.authenticated and sec.challenges == 2
        finally:
            await cli.close()
            await srv.close()

    asyncio.run(asyncio.wait_for(main(), 30))
