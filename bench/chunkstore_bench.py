#!/usr/bin/env python3
"""ChunkStore put/get throughput of 1 MiB chunks against plain files.

On the same disk (``DIR``, default a fresh temporary directory under
``/var/tmp``) and with the same data, times, interleaved round by round:

* plain write: open + write + close of one file per chunk (no fsync);
* ChunkStore.put (header, CRC-32, temporary file, mtime stamp, rename);
* plain read: open + read of each file;
* ChunkStore.get (header and CRC checks, mtime stamp);
* ChunkStore open of the cache just written (``SMALL`` extra 1-byte chunks
  make it a cache of ~10,000 chunks).

Prints MiB/s of each and our/plain ratios (best of ``ROUNDS``).  The page
cache holds the data in both cases, so this measures the per-chunk CPU
and system-call cost the store adds, not the disk.

    python bench/chunkstore_bench.py            # N=64 chunks, ROUNDS=5
    N=256 ROUNDS=3 DIR=/some/disk python bench/chunkstore_bench.py
"""

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from kafs.client.store import ChunkStore  # noqa: E402

N = int(os.environ.get("N", "64"))
ROUNDS = int(os.environ.get("ROUNDS", "5"))
SMALL = int(os.environ.get("SMALL", "10000"))
MIB = 1 << 20
KEY = ("bench.example", 536870912, 7, 1)


def plain_write(d, chunks):
    for i, c in enumerate(chunks):
        with open(os.path.join(d, str(i)), "wb") as f:
            f.write(c)


def plain_read(d, chunks):
    for i in range(len(chunks)):
        with open(os.path.join(d, str(i)), "rb") as f:
            if len(f.read()) != MIB:
                raise SystemExit("plain read came up short")


def store_put(s, chunks, dv):
    for i, c in enumerate(chunks):
        if not s.put(KEY, dv, i, c):
            raise SystemExit("put failed (disk full?)")


def store_get(s, chunks, dv):
    for i in range(len(chunks)):
        if s.get(KEY, dv, i) is None:
            raise SystemExit("get missed")


def timed(fn, *a):
    t = time.perf_counter()
    fn(*a)
    return time.perf_counter() - t


def main():
    base = os.environ.get("DIR") or tempfile.mkdtemp(prefix="chunkstore-bench.", dir="/var/tmp")
    chunks = [os.urandom(MIB) for _ in range(N)]
    plain = os.path.join(base, "plain")
    root = os.path.join(base, "cache")
    os.makedirs(plain, exist_ok=True)
    best = {k: float("inf") for k in ("plain write", "put", "plain read", "get", "open")}
    try:
        s = ChunkStore(root, 4 * N * MIB + SMALL * 200)
        for j in range(SMALL):
            s.put(("bench.example", 536870913, j, 1), 1, 0, b"x")
        for r in range(ROUNDS):
            best["plain write"] = min(best["plain write"], timed(plain_write, plain, chunks))
            best["put"] = min(best["put"], timed(store_put, s, chunks, r))
            best["plain read"] = min(best["plain read"], timed(plain_read, plain, chunks))
            best["get"] = min(best["get"], timed(store_get, s, chunks, r))
            s.invalidate(KEY, keep_dv=r)
            s.close()
            t = time.perf_counter()
            s = ChunkStore(root, 4 * N * MIB + SMALL * 200)
            best["open"] = min(best["open"], time.perf_counter() - t)
        chunks_at_open = s.stats()["chunks"]
        s.close()
    finally:
        if not os.environ.get("DIR"):
            shutil.rmtree(base, ignore_errors=True)
    rate = {k: N / v for k, v in best.items() if k != "open"}
    print(f"{N} chunks of 1 MiB, best of {ROUNDS} rounds, in {base}")
    for k in ("plain write", "put", "plain read", "get"):
        print(f"  {k:12s} {rate[k]:8.0f} MiB/s")
    print(f"  put / plain write: {rate['put'] / rate['plain write']:.2f}")
    print(f"  get / plain read:  {rate['get'] / rate['plain read']:.2f}")
    print(f"  open of a cache of {chunks_at_open} chunks: {best['open'] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
