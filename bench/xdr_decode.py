#!/usr/bin/env python3
"""Time decoding 10,000 nvldbentry (what `vos listvldb` does with a big VLDB).

Prints the best of several runs for: the bulk reply of VL_ListAttributesN2
(one iter_unpack pass over the array), decoding entry by entry with
nvldbentry.decode, and encoding.  No OpenAFS baseline here: OpenAFS's C
xdr_nvldbentry is not callable from Python; compare with `vos listvldb`
wall time on the test cell if needed.
"""

import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from kafs.rpc import vl  # noqa: E402
from kafs.xdr import Decoder, Encoder  # noqa: E402

N = int(os.environ.get("N", "10000"))


def make_reply(n):
    e = Encoder()
    e.int32(n)
    e.uint32(n)
    for i in range(n):
        ent = vl.nvldbentry(name=f"user.volume{i:06d}", nServers=3,
                            volumeId=[536870912 + 3 * i, 536870913 + 3 * i, 536870914 + 3 * i],
                            cloneId=0, flags=vl.VLF_RWEXISTS | vl.VLF_ROEXISTS)
        ent.serverNumber[:3] = [0x7F000001, 0x7F000002, 0x7F000003]
        ent.serverFlags[:3] = [vl.VLSF_RWVOL, vl.VLSF_ROVOL, vl.VLSF_ROVOL]
        ent.encode(e)
    e.int32(-1)
    return e.getvalue()


def best(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    reply = make_reply(N)
    assert len(reply) == 12 + 476 * N

    def bulk():
        d = Decoder(reply)
        r = vl._VL_ListAttributesN2_odec(d)
        d.done()
        assert len(r.blkentries) == N

    def one_by_one():
        d = Decoder(reply)
        d.int32()
        n = d.uint32()
        out = [vl.nvldbentry.decode(d) for _ in range(n)]
        d.int32()
        d.done()
        return out

    entries = one_by_one()

    def encode():
        e = Encoder()
        for ent in entries:
            ent.encode(e)

    tb = best(bulk)
    to = best(one_by_one)
    te = best(encode)
    print(f"decode {N} nvldbentry ({len(reply) / 1e6:.1f} MB), Python {sys.version.split()[0]}:")
    print(f"  bulk reply (iter_unpack)   {tb * 1e3:8.1f} ms  {tb / N * 1e6:6.2f} us/entry  {N / tb:10.0f} entries/s")
    print(f"  nvldbentry.decode loop     {to * 1e3:8.1f} ms  {to / N * 1e6:6.2f} us/entry  {N / to:10.0f} entries/s")
    print(f"  encode loop                {te * 1e3:8.1f} ms  {te / N * 1e6:6.2f} us/entry")


if __name__ == "__main__":
    main()
