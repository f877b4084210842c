"""Bulk Rx throughput over loopback: our server streams N MB to our client in
one split call; printed next to the raw loopback UDP rate measured with plain
sockets and the same packet size.

    python bench/rx_bulk.py [--mb 200] [--window 255] [--jumbo 11]
    python bench/rx_bulk.py --default      # Endpoint.open() defaults, no overrides
    python bench/rx_bulk.py --profile --profile-server   # cProfile both sides

The server runs in a child process (so client and server each get a core).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from kafs.rx.endpoint import Endpoint  # noqa: E402

CHUNK = 1 << 20


def _cfg(window, jumbo):
    if window is None:
        return {}
    return dict(max_window=window, init_window=min(16, window), max_dgram_packets=jumbo,
                max_receive_size=16384)


def _server(port_q, mb, window, jumbo, profile=None, stats_q=None):
    async def main():
        ep = await Endpoint.open("127.0.0.1", 0, **_cfg(window, jumbo))
        data = os.urandom(CHUNK)

        async def handler(call):
            req = await call.read_all()
            n = int.from_bytes(req[4:12], "big")
            for _ in range(n // CHUNK):
                await call.write(data)
            await call.end_write()
            if stats_q is not None:
                await asyncio.sleep(0.2)
                stats_q.put(dict(ep.stats()))
        ep.serve(60, handler)
        port_q.put(ep.port)
        await asyncio.sleep(3600)
    if profile:
        import cProfile
        import signal
        pr = cProfile.Profile()

        def dump(*a):
            pr.disable()
            pr.dump_stats(profile)
            os._exit(0)
        signal.signal(signal.SIGTERM, dump)
        pr.enable()
    asyncio.run(main())


async def rx_client(port, mb, window, jumbo, profile=False):
    ep = await Endpoint.open("127.0.0.1", 0, **_cfg(window, jumbo))
    conn = ep.connection(("127.0.0.1", port), 60, dead_time=30)
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
    st = ep.stats()
    await ep.close()
    return dt, st


def _raw_sender(port, total, size, done):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    buf = b"x" * size
    n = total // size
    for i in range(n):
        while True:
            try:
                s.sendto(buf, ("127.0.0.1", port))
                break
            except BlockingIOError:
                pass
    for _ in range(50):
        s.sendto(b"END", ("127.0.0.1", port))
        time.sleep(0.01)


def raw_udp_rate(total, size):
    """Plain sockets, one sender process, one receiver draining recvfrom."""
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    r.bind(("127.0.0.1", 0))
    port = r.getsockname()[1]
    p = mp.Process(target=_raw_sender, args=(port, total, size, None))
    got = 0
    t0 = None
    p.start()
    r.settimeout(5)
    while True:
        try:
            d = r.recv(65536)
        except socket.timeout:
            break
        if t0 is None:
            t0 = time.perf_counter()
        if d == b"END":
            break
        got += len(d)
        t1 = time.perf_counter()
    p.join()
    r.close()
    return got / (t1 - t0) / 1e6, got / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--window", type=int, default=255)
    ap.add_argument("--jumbo", type=int, default=11)
    ap.add_argument("--default", action="store_true",
                    help="both endpoints with Endpoint.open() defaults")
    ap.add_argument("--profile", action="store_true", help="cProfile the client")
    ap.add_argument("--profile-server", action="store_true",
                    help="cProfile the server (printed after the run)")
    a = ap.parse_args()
    if a.default:
        from kafs.rx.core import Config
        dc = Config()
        a.window, a.jumbo = None, None
        desc = "default config: window %d, jumbo %d, max receive size %d" % (
            dc.max_window, dc.max_dgram_packets, dc.max_receive_size)
        njumbo = max(1, min(dc.max_dgram_packets, (dc.max_receive_size - 24) // 1416))
    else:
        desc = "window %d, jumbo %d" % (a.window, a.jumbo)
        njumbo = a.jumbo
    q = mp.Queue()
    sq = mp.Queue()
    sprof = "/tmp/rx_bulk_server.prof" if a.profile_server else None
    srv = mp.Process(target=_server, args=(q, a.mb, a.window, a.jumbo, sprof, sq), daemon=True)
    srv.start()
    port = q.get(timeout=10)
    if a.profile:
        import cProfile
        import pstats
        pr = cProfile.Profile()
        pr.enable()
    dt, st = asyncio.run(rx_client(port, a.mb, a.window, a.jumbo))
    if a.profile:
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(18)
    try:
        sst = sq.get(timeout=5)
    except Exception:
        sst = None
    srv.terminate()
    srv.join()
    if a.profile_server:
        import pstats
        print("---- server profile")
        pstats.Stats(sprof).sort_stats("tottime").print_stats(18)
    rate = a.mb * CHUNK / dt / 1e6
    # jumbo > 1: jumbograms of 1412-byte sub-packets; jumbo == 1: between our own
    # loopback peers the ACK trailer allows single 16384-byte packets instead
    dgram = 28 + njumbo * 1412 + (njumbo - 1) * 4 if njumbo > 1 else 16384
    raw, frac = raw_udp_rate(min(a.mb, 200) * CHUNK, dgram)
    print("rx bulk: %d MB in %.2f s = %.1f MB/s (%s, %d-byte datagrams)"
          % (a.mb, dt, rate, desc, dgram))
    print("raw loopback UDP, same datagram size: %.1f MB/s (%.0f%% delivered)" % (raw, frac * 100))
    print("ratio rx/raw: %.2f" % (rate / raw))
    dd = st["dataPacketsRead"]
    print("client: data datagrams read %d, acks sent %d (%.3f acks/datagram), dup %d"
          % (dd, st["ackPacketsSent"], st["ackPacketsSent"] / max(dd, 1), st["dupPacketsRead"]))
    if sst is not None:
        print("server: data datagrams sent %d, data packets sent %d, resent %d, acks read %d"
              % (sst["packetsSent_1"], sst["dataPacketsSent"], sst["dataPacketsReSent"],
                 sst["ackPacketsRead"]))


if __name__ == "__main__":
    main()
