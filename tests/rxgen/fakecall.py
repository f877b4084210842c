"""An in-memory stand-in for the Rx call interface of docs/internals.md.

Only a test double for the contract generated code relies on
(conn.call, conn.new_call, call.read_exact/read/read_all/write/end_write/
abort); integration with the real endpoint and OpenAFS is tested elsewhere.
"""

from __future__ import annotations

import asyncio

from kafs.errors import AFSError, DecodeError, RemoteAbort, RX_USER_ABORT


class _Pipe:
    def __init__(self):
        self.buf = bytearray()
        self.closed = False
        self.error: BaseException | None = None
        self.cond = asyncio.Condition()

    async def feed(self, data: bytes):
        async with self.cond:
            self.buf += data
            self.cond.notify_all()

    async def close(self, error=None):
        async with self.cond:
            self.closed = True
            if error is not None and self.error is None:
                self.error = error
            self.cond.notify_all()

    async def wait_for(self, n: int | None):
        async with self.cond:
            await self.cond.wait_for(
                lambda: self.error is not None or self.closed or (n is not None and len(self.buf) >= n))
            if self.error is not None and (n is None or len(self.buf) < n):
                raise self.error


class FakeCall:
    def __init__(self, inp: _Pipe, out: _Pipe, client: bool, peer=("127.0.0.1", 7000)):
        self._client = client  # on the client side the first read implies end_write
        self._in = inp
        self._out = out
        self.peer = peer
        self.service_id = 1
        self.security = None
        self.written = bytearray()

    async def write(self, data: bytes):
        if self._out.closed:
            raise RuntimeError("write after end_write")
        self.written += data
        await self._out.feed(bytes(data))

    async def end_write(self):
        if not self._out.closed:
            await self._out.close()

    async def read_exact(self, n: int) -> bytes:
        if self._client:
            await self.end_write()
        await self._in.wait_for(n)
        if len(self._in.buf) < n:
            raise DecodeError("short reply")
        data = bytes(self._in.buf[:n])
        del self._in.buf[:n]
        return data

    async def read(self, n: int) -> bytes:
        if self._client:
            await self.end_write()
        await self._in.wait_for(1)
        data = bytes(self._in.buf[:n])
        del self._in.buf[:n]
        return data

    async def read_all(self) -> bytes:
        if self._client:
            await self.end_write()
        await self._in.wait_for(None)
        data = bytes(self._in.buf)
        self._in.buf.clear()
        return data

    async def abort(self, code: int):
        await self._out.close(RemoteAbort(code))
        await self._in.close(AFSError(code))


class _NewCall:
    def __init__(self, conn: "FakeConn"):
        self.conn = conn

    async def __aenter__(self) -> FakeCall:
        c2s, s2c = _Pipe(), _Pipe()
        self.client = FakeCall(s2c, c2s, True)
        self.server = FakeCall(c2s, s2c, False)
        self.task = asyncio.ensure_future(self._serve())
        return self.client

    async def _serve(self):
        try:
            await self.conn.handler(self.server)
            await self.server.end_write()
        except AFSError as e:
            self.conn.aborts.append(e.code)
            await self.server._out.close(RemoteAbort(e.code))
        except Exception as e:
            self.conn.errors.append(e)
            self.conn.aborts.append(RX_USER_ABORT)
            await self.server._out.close(RemoteAbort(RX_USER_ABORT))
            raise

    async def __aexit__(self, et, ev, tb):
        if et is not None:
            code = ev.code if isinstance(ev, AFSError) else RX_USER_ABORT
            await self.client.abort(code)
            try:
                await self.task
            except Exception:
                pass
            return False
        await self.client.end_write()
        await self.client._in.wait_for(None)  # the reply must be complete
        await self.task
        return False


class FakeConn:
    """conn.call / conn.new_call served in memory by a dispatcher ``handler``."""

    def __init__(self, handler):
        self.handler = handler
        self.aborts: list[int] = []
        self.errors: list[BaseException] = []
        self.requests: list[bytes] = []

    def new_call(self) -> _NewCall:
        return _NewCall(self)

    async def call(self, request: bytes) -> bytes:
        self.requests.append(bytes(request))
        async with self.new_call() as call:
            await call.write(request)
            return await call.read_all()


class CannedConn:
    """conn.call returning a fixed reply (to test client-side decoding)."""

    def __init__(self, reply: bytes):
        self.reply = reply
        self.requests: list[bytes] = []

    async def call(self, request: bytes) -> bytes:
        self.requests.append(bytes(request))
        return self.reply
