"""rxkad bulk throughput over loopback: our server streams N MB to our client in
one split call, rxkad at clear/auth/crypt with the C fcrypt accelerator and
with pure Python, next to rxnull on the same path (same endpoints' defaults).

    python bench/rxkad_bulk.py [--mb 100] [--py-mb 4] [--levels crypt] [--profile]

The server runs in a child process (client and server each get a core).
Target: crypt with the accelerator at least half the rxnull rate.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from kafs.auth.crypto import fcrypt  # noqa: E402
from kafs.auth.keys import KEY_RXKAD_KRB5, ServerKey, ServerKeys  # noqa: E402
from kafs.auth.localauth import localauth_token  # noqa: E402
from kafs.auth.rxkad import LEVEL_NAMES, RxkadClient, RxkadServer, level_from_name  # noqa: E402
from kafs.rx.endpoint import Endpoint  # noqa: E402

CHUNK = 1 << 20
KEYS = ServerKeys([ServerKey(KEY_RXKAD_KRB5, 1, 18, hashlib.sha256(b"bench").digest())])


def _backend(name):
    return fcrypt.python_backend if name == "python" else fcrypt.load_c_backend()


def _server(port_q, backend):
    async def main():
        ep = await Endpoint.open("127.0.0.1", 0)
        data = os.urandom(CHUNK)

        async def handler(call):
            req = await call.read_all()
            n = int.from_bytes(req[4:12], "big")
            for _ in range(n // CHUNK):
                await call.write(data)
            await call.end_write()
        ep.serve(60, handler, security=[None, RxkadServer(KEYS, backend=_backend(backend))])
        port_q.put(ep.port)
        await asyncio.sleep(3600)
    asyncio.run(main())


async def _client(port, mb, sec):
    ep = await Endpoint.open("127.0.0.1", 0)
    conn = ep.connection(("127.0.0.1", port), 60, sec, dead_time=60)
    n = mb * CHUNK
    got = 0
    t0 = time.perf_counter()
    async with conn.new_call() as call:
        await call.write(b"\0\0\0\1" + n.to_bytes(8, "big"))
        while True:
            d = await call.read(1 << 20)
            if not d:
                break
            got += len(d)
    dt = time.perf_counter() - t0
    assert got == n, (got, n)
    await ep.close()
    return dt


def run_one(level, backend, mb, profile=False):
    q = mp.Queue()
    srv = mp.Process(target=_server, args=(q, backend or "c"), daemon=True)
    srv.start()
    port = q.get(timeout=10)
    sec = None
    if level is not None:
        tok = localauth_token(keys=KEYS)
        sec = RxkadClient(level, tok.session_key, tok.kvno, tok.ticket,
                          backend=_backend(backend))
    try:
        if profile:
            import cProfile
            import pstats
            pr = cProfile.Profile()
            pr.enable()
        dt = asyncio.run(_client(port, mb, sec))
        if profile:
            pr.disable()
            pstats.Stats(pr).sort_stats("tottime").print_stats(14)
    finally:
        srv.terminate()
        srv.join()
    return mb * CHUNK / dt / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--py-mb", type=int, default=4, help="MB for the pure-Python runs")
    ap.add_argument("--levels", default="clear,auth,crypt")
    ap.add_argument("--no-python", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile the crypt/C client")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of rxnull and of each C level, interleaved; best kept")
    a = ap.parse_args()
    have_c = fcrypt.load_c_backend() is not None
    levels = a.levels.split(",")
    best: dict = {}
    for _ in range(max(1, a.repeat)):
        # interleaved so that load from elsewhere hits every variant alike
        best[None] = max(best.get(None, 0.0), run_one(None, None, a.mb))
        if have_c:
            for name in levels:
                r = run_one(level_from_name(name), "c", a.mb)
                best[name] = max(best.get(name, 0.0), r)
    null = best[None]
    print(f"rxnull            : {null:7.1f} MB/s ({a.mb} MB, best of {a.repeat})")
    results = {}
    for name in levels:
        lvl = level_from_name(name)
        if have_c:
            r = best[name]
            if a.profile and name == "crypt":
                run_one(lvl, "c", a.mb, True)
            results[(name, "c")] = r
            print(f"rxkad {name:5s} C      : {r:7.1f} MB/s ({a.mb} MB)  {r / null:.2f} x rxnull")
        if not a.no_python:
            r = run_one(lvl, "python", a.py_mb)
            results[(name, "python")] = r
            print(f"rxkad {name:5s} Python : {r:7.1f} MB/s ({a.py_mb} MB)  {r / null:.2f} x rxnull")
    if ("crypt", "c") in results:
        ratio = results[("crypt", "c")] / null
        print(f"crypt(C)/rxnull = {ratio:.2f} (target >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'})")
    _ = LEVEL_NAMES


if __name__ == "__main__":
    main()
