"""Endpoint behaviour on loopback: ICMP port unreachable (IP_RECVERR) fails
calls at once, a client's ABORT cancels the server handler, close() sends
the pending final ack."""

import asyncio
import socket
import sys
import time

import pytest

from kafs import errors
from kafs.errors import CallDead, RemoteAbort
from kafs.rx.endpoint import Endpoint

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="IP_RECVERR is Linux")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def _free_udp_port(host):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


@linux
@pytest.mark.parametrize("target", [("127.1.0.1", 7999), ("127.0.0.1", None)])
def test_call_to_port_with_nothing_listening_fails_fast(target):
    host, port = target
    if port is None:
        port = _free_udp_port(host)

    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        try:
            # a dead time far beyond the test's guard: only the ICMP error
            # can end this call in time ("unreachable", not "no packets")
            conn = ep.connection((host, port), 52, dead_time=600)
            with pytest.raises(CallDead) as ei:
                await conn.call(b"\0\0\2\2")
            assert ei.value.code == errors.RX_CALL_DEAD
            assert "unreachable" in str(ei.value)
            # the endpoint still works for others afterwards
            srv = await Endpoint.open("127.0.0.1", 0)

            async def echo(call):
                await call.write((await call.read_all())[::-1])
            srv.serve(52, echo)
            assert await ep.connection(("127.0.0.1", srv.port), 52).call(b"ab") == b"ba"
            await srv.close()
        finally:
            await ep.close()
    run(main())


def test_client_abort_cancels_the_server_handler():
    async def main():
        srv = await Endpoint.open("127.0.0.1", 0)
        cli = await Endpoint.open("127.0.0.1", 0)
        started = asyncio.Event()
        seen = []

        async def handler(call):
            await call.read_all()
            started.set()
            try:
                await asyncio.sleep(3600)       # would run on without a cancel
            except asyncio.CancelledError:
                seen.append(call.core_call.error)
                raise
        srv.serve(52, handler)
        call = cli.connection(("127.0.0.1", srv.port), 52).new_call()
        await call.write(b"\0\0\0\1")
        await call.end_write()
        await asyncio.wait_for(started.wait(), 30)
        await call.abort(4711)
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.01)
        assert seen and isinstance(seen[0], RemoteAbort) and seen[0].code == 4711
        await asyncio.sleep(0.05)
        assert not srv._tasks                   # the handler task is gone
        await cli.close()
        await srv.close()
    run(main())


def test_handler_that_aborts_its_own_call_is_not_cancelled():
    async def main():
        srv = await Endpoint.open("127.0.0.1", 0)
        cli = await Endpoint.open("127.0.0.1", 0)
        finished = []

        async def handler(call):
            await call.read_all()
            await call.abort(99)
            await asyncio.sleep(0.05)
            finished.append(True)
        srv.serve(52, handler)
        with pytest.raises(RemoteAbort):
            await cli.connection(("127.0.0.1", srv.port), 52).call(b"x")
        await asyncio.sleep(0.2)
        assert finished == [True]
        await cli.close()
        await srv.close()
    run(main())
