"""Recovery from packet loss: kafs vs OpenAFS 1.8.9, same lossy path, same run.

``vos listvldb -noauth -quiet`` (10,000+ VLDB entries, about 20 calls of a
few hundred reply packets each from the real vlserver) with N% of the UDP
packets to and from the cell's servers dropped at random by the test cell's
nftables rule (``kafs-testcell loss N``).  The two tools run in turn
(as in bench/_timing.py); every run's output is checked against the loss-free
output, so a run that lost an entry or failed is reported, not timed as a
success.  The loss rule is removed at the end, whatever happens.

Random loss makes single runs vary by a factor of two or more: use several
runs and read the medians.  Never a test: nothing here gates anything.

    .venv/bin/python bench/loss_bench.py [--loss 5] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import run  # noqa: E402
from vos_bench import env  # noqa: E402  (our tools with their .pyc files, from src/)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from kafs.testcell import loss  # noqa: E402

PY = sys.executable
ARGS = ["listvldb", "-noauth", "-quiet"]
CMDS = {"OpenAFS": ["/usr/bin/vos"] + ARGS,
        "kafs": [PY, "-m", "kafs.cli.main", "vos"] + ARGS}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--loss", type=int, default=5, help="percent of packets dropped")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args(argv)
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "src" / "kafs")],
                   stdout=subprocess.DEVNULL)
    want = {}
    for name, argv_ in CMDS.items():        # also the warm-up run (page cache, .pyc)
        _, p = run(argv_, env())
        if p.returncode:
            raise SystemExit(f"{name}: {' '.join(argv_)} failed without loss: "
                             f"{p.stderr.decode().strip()}")
        want[name] = p.stdout
    loss.set_loss(a.loss)
    try:
        results = {name: [] for name in CMDS}
        for _ in range(a.runs):
            for name, argv_ in CMDS.items():  # in turn, as bench/_timing.py does
                t, p = run(argv_, env())
                ok = p.returncode == 0 and p.stdout == want[name]
                results[name].append((t, ok))
                print(f"  {name:8s} {t:7.2f} s{'' if ok else '  WRONG OUTPUT OR FAILED'}",
                      flush=True)
        dropped = loss.dropped_packets()
    finally:
        loss.clear_loss()
    print(f"\n{a.loss}% loss, {dropped} packets dropped in all; vos listvldb -noauth -quiet")
    print("%-10s %10s %10s %10s %6s" % ("", "best", "median", "worst", "ok"))
    med = {}
    for name, rs in results.items():
        ts = sorted(t for t, ok in rs)
        med[name] = ts[len(ts) // 2]
        print("%-10s %9.2fs %9.2fs %9.2fs %3d/%d" % (
            name, ts[0], med[name], ts[-1], sum(ok for t, ok in rs), len(rs)))
    print("ratio of medians kafs/OpenAFS: %.2f" % (med["kafs"] / med["OpenAFS"]))


if __name__ == "__main__":
    main()
