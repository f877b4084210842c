"""A fake server for the bad-reply tests: our Rx endpoint serving one
service in a thread of its own.  A subclass defines ``async handler(call)``."""

from __future__ import annotations

import asyncio
import threading


class FakeServer:
    def __init__(self, addr: str, port: int, service: int):
        self.addr, self.port, self.service = addr, port, service
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.t = threading.Thread(target=self._main, daemon=True)

    def _main(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self):
        from kafs.rx.endpoint import Endpoint
        self.ep = await Endpoint.open(self.addr, self.port)
        self.ep.serve(self.service, self.handler)

    async def handler(self, call):
        raise NotImplementedError

    def __enter__(self):
        self.t.start()
        assert self.ready.wait(60), "fake server did not start"
        return self

    def __exit__(self, *a):
        async def stop():
            await self.ep.close()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.t.join(10)
