"""``vos dump -encrypt -localauth`` of a 200 MB volume: ours vs OpenAFS's.

    sudo .venv/bin/python bench/vos_dump_bench.py [--mb 200] [--reps 5]

The volume (``kbench.dump<MB>``) is made once and reused: an empty volume
is created and dumped with OpenAFS's vos, a few large file vnodes are
appended to that dump, and OpenAFS's ``vos restore`` loads the result.
Each repetition runs OpenAFS's vos and ours alternately (order flipped
every round) into files under /var/tmp, checks that the two dumps are the
same size and equal apart from the dump-time fields, and prints medians,
MB/s and the ratio (ours / OpenAFS; below 1 is faster).

``--loss N`` drops N% of the UDP packets to and from the cell's servers
(the test cell's nftables rule) during the timed runs, and removes the
rule afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OURS = [sys.executable, "-m", "kafs.cli.main", "vos"]
HOST = "afs1"
D_VNODE, D_DUMPEND = 3, 4
DUMPENDMAGIC = 0x3A214B6E


def _env() -> dict:
    e = dict(os.environ)
    e.pop("AFSCELL", None)
    e["PYTHONPATH"] = str(REPO / "src") + os.pathsep + e.get("PYTHONPATH", "")
    return e


def openafs_vos(*args, check=True, **kw):
    r = subprocess.run(["vos", *args], capture_output=True, env=_env(), **kw)
    if check and r.returncode:
        raise RuntimeError("vos %s: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
    return r


def file_vnode(vnode: int, uniq: int, data: bytes, when: int) -> bytes:
    """One file vnode record of a dump (dumpstuff.c DumpVnode layout)."""
    return (struct.pack(">BII", D_VNODE, vnode, uniq)
            + b"t" + struct.pack(">B", 1) + b"l" + struct.pack(">H", 1)
            + b"v" + struct.pack(">I", 1) + b"m" + struct.pack(">I", when)
            + b"a" + struct.pack(">I", 0) + b"o" + struct.pack(">I", 0)
            + b"b" + struct.pack(">H", 0o644) + b"p" + struct.pack(">I", 1)
            + b"s" + struct.pack(">I", when)
            + b"f" + struct.pack(">I", len(data)) + data)


def grow_dump(empty_dump: bytes, sizes: list[int], seed: int = 1) -> bytes:
    """An empty volume's dump with file vnodes 2, 4, ... of the given sizes
    appended before the end marker (pseudo-random, incompressible data).
    The files are not entered in the root directory: the volserver dumps
    every vnode of the index, which is all a dump benchmark needs."""
    end = struct.pack(">BI", D_DUMPEND, DUMPENDMAGIC)
    if not empty_dump.endswith(end):
        raise ValueError("not a complete dump")
    import random
    rnd = random.Random(seed)
    when = int(time.time())
    parts = [empty_dump[:-len(end)]]
    for i, n in enumerate(sizes):
        block = rnd.randbytes(1 << 20)
        data = (block * (n // len(block) + 1))[:n]
        data = (struct.pack(">I", i) + data[4:])[:n]
        parts.append(file_vnode(2 * (i + 1), 2 + i, data, when))
    parts.append(end)
    return b"".join(parts)


def ensure_volume(name: str, sizes: list[int], workdir: str = "/var/tmp") -> str:
    """Create ``name`` with the given file sizes unless it exists (idempotent)."""
    r = openafs_vos("examine", name, "-localauth", check=False)
    if r.returncode == 0:
        return name
    tmp = name + ".tmp"
    openafs_vos("remove", "-id", tmp, "-localauth", check=False)
    openafs_vos("create", HOST, "a", tmp, "-maxquota", "0", "-localauth")
    empty = os.path.join(workdir, tmp + ".dump")
    try:
        openafs_vos("dump", "-id", tmp, "-file", empty, "-localauth")
        with open(empty, "rb") as f:
            d = f.read()
        big = os.path.join(workdir, name + ".gen.dump")
        with open(big, "wb") as f:
            f.write(grow_dump(d, sizes))
        openafs_vos("restore", HOST, "a", name, "-file", big, "-localauth")
        os.unlink(big)
    finally:
        openafs_vos("remove", "-id", tmp, "-localauth", check=False)
        if os.path.exists(empty):
            os.unlink(empty)
    return name


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, env=_env())
    dt = time.perf_counter() - t
    if r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.decode(errors="replace")))
    return dt


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="cProfile one run of ours")
    ap.add_argument("--loss", type=int, default=0, help="percent of packets dropped")
    a = ap.parse_args()
    nfiles = 5
    sizes = [a.mb * (1 << 20) // nfiles] * nfiles
    name = ensure_volume("kbench.dump%d" % a.mb, sizes)
    args = ["dump", "-id", name, "-encrypt", "-localauth"]
    fo, fk = "/var/tmp/kbench.openafs.dump", "/var/tmp/kbench.kafs.dump"
    if a.profile:
        subprocess.run([sys.executable, "-m", "cProfile", "-s", "cumtime", "-m",
                        "kafs.cli.main", "vos", *args, "-file", fk], env=_env())
        return 0
    to, tk = [], []
    sys.path.insert(0, str(REPO / "src"))
    from kafs.testcell import loss
    if a.loss:
        loss.set_loss(a.loss)
    try:
        for i in range(a.reps):
            runs = [("o", ["vos", *args, "-file", fo]), ("k", [*OURS, *args, "-file", fk])]
            if i % 2:
                runs.reverse()
            for who, cmd in runs:
                (to if who == "o" else tk).append(timed(cmd))
        dropped = loss.dropped_packets()
    finally:
        if a.loss:
            loss.clear_loss()
    if a.loss:
        print("%d%% loss: %d packets dropped in all" % (a.loss, dropped))
    so, sk = os.path.getsize(fo), os.path.getsize(fk)
    same = so == sk and _same_but_times(fo, fk)
    mo, mk = statistics.median(to), statistics.median(tk)
    mb = so / 1e6
    print("volume %s: dump %d bytes (%.1f MB); files %s" % (name, so, mb,
          "identical apart from the dump times" if same else "DIFFER"))
    print("OpenAFS vos: median %.3f s  %.1f MB/s   runs %s" % (mo, mb / mo, _fmt(to)))
    print("kafs vos:    median %.3f s  %.1f MB/s   runs %s" % (mk, mb / mk, _fmt(tk)))
    print("ratio kafs/OpenAFS: %.2f" % (mk / mo))
    for f in (fo, fk):
        os.unlink(f)
    return 0 if same else 1


def _fmt(ts):
    return " ".join("%.2f" % t for t in ts)


def _same_but_times(a: str, b: str) -> bool:
    """Byte-equal, or differing only inside the first 200 bytes (the
    headers hold the dump's to-time and the volume's dates)."""
    with open(a, "rb") as fa, open(b, "rb") as fb:
        ha, hb = fa.read(4096), fb.read(4096)
        if len(ha) != len(hb):
            return False
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                break
    return True


if __name__ == "__main__":
    sys.exit(main())
