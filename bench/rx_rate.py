"""Calls per second of a tiny RPC: VL_Probe (opcode 514, no arguments, empty
reply) to the test cell's vlserver (127.1.0.1:7003, service 52), with 1 and
32 concurrent callers.  ``--self`` runs the same against our own server.

    python bench/rx_rate.py [--seconds 3] [--self]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from kafs.rx.endpoint import Endpoint  # noqa: E402

VL_PROBE = (514).to_bytes(4, "big")


async def rate(conn, concurrency, seconds):
    n = 0
    end = time.perf_counter() + seconds

    async def worker():
        nonlocal n
        while time.perf_counter() < end:
            await conn.call(VL_PROBE)
            n += 1
    t0 = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return n / (time.perf_counter() - t0)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--self", action="store_true", help="probe our own server instead")
    ap.add_argument("--addr", default="127.1.0.1:7003")
    a = ap.parse_args()
    ep = await Endpoint.open("0.0.0.0", 0)
    if a.self:
        srv = await Endpoint.open("127.0.0.1", 0)

        async def probe(call):
            await call.read_all()
        srv.serve(52, probe)
        addr = ("127.0.0.1", srv.port)
        what = "our own server"
    else:
        host, port = a.addr.rsplit(":", 1)
        addr = (host, int(port))
        what = "OpenAFS vlserver %s" % a.addr
    conn = ep.connection(addr, 52)
    await conn.call(VL_PROBE)
    for c in (1, 32):
        r = await rate(conn, c, a.seconds)
        print("VL_Probe to %s, %2d concurrent: %.0f calls/s" % (what, c, r))
    await ep.close()


if __name__ == "__main__":
    asyncio.run(main())
