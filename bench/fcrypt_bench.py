"""fcrypt PCBC throughput: pure Python vs the C accelerator.

    .venv/bin/python bench/fcrypt_bench.py [--size MB] [--seconds S]

Encrypts then decrypts a buffer (1 MB by default) with each available
backend and prints MB/s for encrypt, decrypt and the pair, plus the C/Python
ratio; also per-packet rxkad crypt-level seal+unseal of 1412-byte payloads
(one Rx DATA packet) through kafs.auth.crypto.rxkad.  Informational only:
nothing here gates CI.
"""

from __future__ import annotations

import argparse
import os
import time

from kafs.auth.crypto import fcrypt, rxkad


def _rate(fn, nbytes: int, seconds: float) -> float:
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n * nbytes / dt / 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=float, default=1.0, help="buffer size in MB (default 1)")
    ap.add_argument("--seconds", type=float, default=1.0, help="minimum time per figure")
    args = ap.parse_args(argv)
    size = int(args.size * 1_000_000) // 8 * 8
    key, iv = os.urandom(8), os.urandom(8)
    data = os.urandom(size)
    results = {}
    print(f"fcrypt PCBC on {size / 1e6:.1f} MB buffers (active backend: {fcrypt.BACKEND})")
    print(f"{'backend':8} {'encrypt':>10} {'decrypt':>10} {'enc+dec':>10}   MB/s")
    for name, be in fcrypt.backends().items():
        enc = be.pcbc_encrypt(key, iv, data)
        assert be.pcbc_decrypt(key, iv, enc) == data
        e = _rate(lambda: be.pcbc_encrypt(key, iv, data), size, args.seconds)
        d = _rate(lambda: be.pcbc_decrypt(key, iv, enc), size, args.seconds)
        both = _rate(lambda: be.pcbc_decrypt(key, iv, be.pcbc_encrypt(key, iv, data)),
                     size, args.seconds)
        results[name] = both
        print(f"{name:8} {e:10.2f} {d:10.2f} {both:10.2f}")
    if "c" in results:
        print(f"C / Python (enc+dec): {results['c'] / results['python']:.0f}x")
    else:
        print("C accelerator not built (pip install -e . with a C compiler)")

    payload = os.urandom(1412)
    print("\nrxkad crypt level, seal+unseal of one 1412-byte DATA payload:")
    for name, be in fcrypt.backends().items():
        cc = rxkad.ConnectionCrypto(key, 0x80001234, 0x100, rxkad.LEVEL_CRYPT, backend=be)

        def one():
            wire, ck = cc.seal(1, 0, 1, payload)
            cc.unseal(1, 0, 1, wire, ck)
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < args.seconds:
            one()
            n += 1
        dt = time.perf_counter() - t0
        print(f"{name:8} {n / dt:10.0f} packets/s  ({n * len(payload) / dt / 1e6:.2f} MB/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
