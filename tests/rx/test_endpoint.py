"""The asyncio endpoint over loopback (IPv4 and IPv6): our server, our client."""

import asyncio
import hashlib
import socket

import pytest

from kafs import errors
from kafs.errors import AFSError, CallDead, DecodeError, RemoteAbort
from kafs.rx import packet as P
from kafs.rx.endpoint import Endpoint


def _has_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


HOSTS = ["127.0.0.1"] + (["::1"] if _has_ipv6() else [])


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def _pair(host, **kw):
    srv = await Endpoint.open(host, 0, **kw)
    cli = await Endpoint.open(host, 0, **kw)
    return srv, cli


async def echo_handler(call):
    req = await call.read_all()
    op = int.from_bytes(req[:4], "big")
    if op == 1:          # stream n bytes of a pattern
        n = int.from_bytes(req[4:12], "big")
        chunk = bytes(range(256)) * 256
        left = n
        while left:
            k = min(left, len(chunk))
            await call.write(chunk[:k])
            left -= k
    elif op == 2:        # abort with a code
        raise AFSError(int.from_bytes(req[4:8], "big", signed=True))
    elif op == 3:        # blow up
        raise RuntimeError("boom")
    elif op == 4:        # trickle forever
        while True:
            await asyncio.sleep(0.01)
            await call.write(b"t" * 100)
    else:
        await call.write(req[::-1])


@pytest.mark.parametrize("host", HOSTS)
def test_simple_and_concurrent_calls(host):
    async def main():
        srv, cli = await _pair(host)
        srv.serve(52, echo_handler)
        conn = cli.connection((host, srv.port), 52)
        assert await conn.call(b"\0\0\0\0abc") == b"cba\0\0\0\0"
        reqs = [b"\0\0\0\0" + b"%05d" % i * (1 + i * 37) for i in range(40)]
        got = await asyncio.gather(*[conn.call(r) for r in reqs])
        assert got == [r[::-1] for r in reqs]
        conns = cli.connections()
        assert len(conns) >= 10          # 40 concurrent calls, 4 channels each
        assert all(c.side == "client" for c in conns)
        assert all(c.cid & 3 == 0 for c in conns)
        assert {c.side for c in srv.connections()} == {"server"}
        assert cli.peers() and srv.calls()
        await cli.close()
        await srv.close()
    run(main())


@pytest.mark.parametrize("host", HOSTS)
def test_10mb_streamed_reply(host):
    async def main():
        srv, cli = await _pair(host)
        srv.serve(52, echo_handler)
        conn = cli.connection((host, srv.port), 52)
        n = 10 * 1024 * 1024
        h = hashlib.sha256()
        got = 0
        async with conn.new_call() as call:
            await call.write((1).to_bytes(4, "big") + n.to_bytes(8, "big"))
            while True:
                d = await call.read(100000)
                if not d:
                    break
                h.update(d)
                got += len(d)
        assert got == n
        chunk = bytes(range(256)) * 256
        ref = hashlib.sha256(chunk * (n // len(chunk))).hexdigest()
        assert h.hexdigest() == ref
        await cli.close()
        await srv.close()
    run(main())


def test_streaming_request_and_read_exact():
    async def main():
        srv, cli = await _pair("127.0.0.1")
        seen = {}

        async def handler(call):
            hdr = await call.read_exact(8)
            n = int.from_bytes(hdr[4:], "big")
            body = await call.read_exact(n)
            seen["n"] = len(body)
            seen["peer"] = call.peer
            seen["svc"] = call.service_id
            await call.write(hashlib.md5(body).digest())
            await call.end_write()
        srv.serve(77, handler)
        conn = cli.connection(("127.0.0.1", srv.port), 77)
        data = bytes(range(200)) * 5000
        async with conn.new_call() as call:
            await call.write(b"\0\0\0\5" + len(data).to_bytes(4, "big"))
            for i in range(0, len(data), 7777):
                await call.write(data[i:i + 7777])
            await call.end_write()
            await call.end_write()   # idempotent
            assert await call.read_exact(16) == hashlib.md5(data).digest()
            with pytest.raises(DecodeError):
                await call.read_exact(1)
        assert seen["n"] == len(data) and seen["svc"] == 77
        assert seen["peer"] == ("127.0.0.1", cli.port)
        await cli.close()
        await srv.close()
    run(main())


def test_abort_propagation_both_ways():
    async def main():
        srv, cli = await _pair("127.0.0.1")
        server_errors = []

        async def handler(call):
            try:
                await echo_handler(call)
            except BaseException as e:
                server_errors.append((e, call.core_call.error))
                raise
        srv.serve(52, handler)
        conn = cli.connection(("127.0.0.1", srv.port), 52)
        with pytest.raises(RemoteAbort) as ei:
            await conn.call(b"\0\0\0\2" + (-455).to_bytes(4, "big", signed=True))
        assert ei.value.code == -455
        with pytest.raises(RemoteAbort) as ei:
            await conn.call(b"\0\0\0\3")
        assert ei.value.code == errors.RX_USER_ABORT
        # client aborts a call the server is still running
        call = conn.new_call()
        await call.write(b"\0\0\0\4")
        await call.end_write()
        for _ in range(100):
            if srv.calls() and any(c.state == "active" for c in srv.calls()):
                break
            await asyncio.sleep(0.01)
        await call.abort(1234)
        for _ in range(200):
            if len(server_errors) >= 3:
                break
            await asyncio.sleep(0.01)
        # the client's ABORT cancels the handler task; the call carries the code
        assert server_errors and isinstance(server_errors[-1][0], asyncio.CancelledError)
        assert isinstance(server_errors[-1][1], RemoteAbort)
        assert server_errors[-1][1].code == 1234
        # exception inside the block aborts with the AFSError's code
        with pytest.raises(AFSError):
            async with conn.new_call() as call:
                await call.write(b"\0\0\0\4")
                await call.end_write()
                raise AFSError(4321)
        # the connection still works
        assert await conn.call(b"\0\0\0\0xy") == b"yx\0\0\0\0"
        await cli.close()
        await srv.close()
    run(main())


def test_unknown_service_is_aborted():
    async def main():
        srv, cli = await _pair("127.0.0.1")
        srv.serve(52, echo_handler)
        conn = cli.connection(("127.0.0.1", srv.port), 99)
        with pytest.raises(RemoteAbort) as ei:
            await conn.call(b"\0\0\0\0")
        assert ei.value.code == errors.RX_INVALID_OPERATION
        await cli.close()
        await srv.close()
    run(main())


def test_dead_server_raises_call_dead():
    async def main():
        cli = await Endpoint.open("127.0.0.1", 0)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))          # a black hole
        conn = cli.connection(s.getsockname(), 52, dead_time=1.5)
        with pytest.raises(CallDead):
            await conn.call(b"\0\0\0\0")
        s.close()
        await cli.close()
    run(main())


def test_version_and_debug_queries_against_ourselves():
    async def main():
        srv, cli = await _pair("127.0.0.1")
        srv.serve(52, echo_handler)
        conn = cli.connection(("127.0.0.1", srv.port), 52)
        await conn.call(b"\0\0\0\0abc")
        addr = ("127.0.0.1", srv.port)
        assert await cli.rx_version(addr) == "kafs 0.1.0"
        st = P.DebugStats.decode(await cli.rx_debug(addr, P.DEBUGI_GETSTATS))
        assert st.version == ord("S")
        c0 = P.DebugConn.decode(await cli.rx_debug(addr, P.DEBUGI_GETALLCONN, 0))
        assert c0.type == 1 and c0.port == cli.port
        assert c0.host == socket.inet_aton("127.0.0.1")
        end = P.DebugConn.decode(await cli.rx_debug(addr, P.DEBUGI_GETALLCONN, 5))
        assert end.cid == 0xffffffff
        p0 = P.DebugPeer.decode(await cli.rx_debug(addr, P.DEBUGI_GETPEER, 0))
        assert p0.port == cli.port
        assert P.DebugPeer.decode(await cli.rx_debug(addr, P.DEBUGI_GETPEER, 9)).host == \
            b"\xff\xff\xff\xff"
        stats = P.decode_rxstats(await cli.rx_debug(addr, P.DEBUGI_RXSTATS))
        assert stats["dataPacketsRead"] >= 1 and stats["packetsRead_1"] >= 1
        bad = await cli.rx_debug(addr, 99)
        assert bad == b"\xff\xff\xff\xf8" * 2
        await cli.close()
        await srv.close()
    run(main())


def test_hostile_datagrams_do_not_break_the_endpoint():
    import random

    async def main():
        srv, cli = await _pair("127.0.0.1")
        srv.serve(52, echo_handler)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rng = random.Random(5)
        target = ("127.0.0.1", srv.port)
        for i in range(3000):
            n = rng.choice([0, 1, 27, 28, 29, 40, 100, 1500])
            d = bytearray(rng.getrandbits(8) for _ in range(n))
            if n >= 28 and i % 2:
                d[20] = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 13])
                d[21] |= 1
            s.sendto(bytes(d), target)
            if i % 200 == 0:
                await asyncio.sleep(0)
        await asyncio.sleep(0.2)
        conn = cli.connection(target, 52)
        assert await conn.call(b"\0\0\0\0ok") == b"ko\0\0\0\0"
        st = srv.stats()
        assert st["fatalErrors"] == 0
        # replies to garbage are bounded (rate-limited aborts)
        assert st["abortPacketsSent"] <= 100
        s.close()
        await cli.close()
        await srv.close()
    run(main())
