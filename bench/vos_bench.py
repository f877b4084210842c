"""vos benchmarks: kafs vs OpenAFS 1.8.9 on the test cell, in the same run.

1. ``vos listvldb`` on a cell with (at least) 10,000 VLDB entries: missing
   entries are created first as volumes ``bench.NNNNN`` with OpenAFS's
   ``vos create -localauth`` (idempotent; ~12 ms each, 8 in parallel).
2. per-invocation wall time of ``vos examine root.cell``: kafs, OpenAFS,
   and a bare ``python -c pass`` (the interpreter's own floor).

The commands compared run in turn (bench/_timing.py).  Prints a table with
best and median times and the ratio of the medians.  Never a test: nothing
here gates anything.

    .venv/bin/python bench/vos_bench.py [--entries 10000] [--runs 10] [--no-populate]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import interleaved  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
OURS = [PY, "-m", "kafs.cli.main", "vos"]
OAFS = ["/usr/bin/vos"]
HOST = os.environ.get("KAFS_TESTCELL_HOST", "127.1.0.1")


def env():
    e = dict(os.environ)
    e.pop("PYTHONDONTWRITEBYTECODE", None)     # a real install has its .pyc files
    e["PYTHONPATH"] = str(REPO / "src")
    return e


def run(cmd, check=True):
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if check and r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.decode().strip()}")
    return dt, r


def count_entries() -> set[str]:
    _, r = run(OAFS + ["listvldb", "-noauth", "-nosort"])
    return {l.strip() for l in r.stdout.decode().splitlines()
            if l and not l.startswith((" ", "VLDB entries", "Total entries"))}


def populate(target: int) -> None:
    names = count_entries()
    need = target - len(names)
    if need <= 0:
        print(f"VLDB has {len(names)} entries (>= {target})")
        return
    todo, i = [], 0
    while len(todo) < need:
        n = "bench.%05d" % i
        if n not in names:
            todo.append(n)
        i += 1
    print(f"creating {len(todo)} volumes (bench.NNNNN) to reach {target} entries ...",
          flush=True)
    t = time.perf_counter()

    def create(n):
        r = subprocess.run(OAFS + ["create", HOST, "a", n, "-localauth"], env=env(),
                           capture_output=True)
        if r.returncode and b"already exists" not in r.stderr:
            print(f"  {n}: {r.stderr.decode().strip()}", file=sys.stderr)

    with ThreadPoolExecutor(8) as ex:
        list(ex.map(create, todo))
    print(f"  done in {time.perf_counter() - t:.1f} s")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--no-populate", action="store_true")
    a = ap.parse_args(argv)
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "src" / "kafs")],
                   stdout=subprocess.DEVNULL)
    if not a.no_populate:
        populate(a.entries)
    n = len(count_entries())
    # same output?
    _, ro = run(OAFS + ["listvldb", "-noauth"])
    _, rk = run(OURS + ["listvldb", "-noauth"])
    same = ro.stdout == rk.stdout
    rows = []
    lv_runs = max(3, a.runs // 3)

    def pair(args, runs):
        r = interleaved({"o": OAFS + args, "k": OURS + args}, runs, env())
        return r["o"][:2], r["k"][:2]
    o, k = pair(["listvldb", "-noauth"], lv_runs)
    rows.append((f"listvldb ({n} entries)", o, k, None))
    oq, kq = pair(["listvldb", "-noauth", "-quiet"], lv_runs)
    rows.append((f"listvldb -quiet ({n})", oq, kq, None))
    r = interleaved({"p": [PY, "-c", "pass"], "o": OAFS + ["examine", "root.cell", "-noauth"],
                     "k": OURS + ["examine", "root.cell", "-noauth"]}, a.runs, env())
    rows.append(("examine root.cell", r["o"][:2], r["k"][:2], r["p"][:2]))
    o, k = pair(["listvol", HOST, "-noauth"], lv_runs)
    rows.append(("listvol (all volumes)", o, k, None))

    print(f"\nlistvldb output identical: {same}")
    print("%-28s %12s %12s %8s %14s" % ("wall time (best / median)", "OpenAFS", "kafs",
                                          "ratio", "python -c pass"))
    for name, o, k, p in rows:
        print("%-28s %5.0f/%5.0fms %5.0f/%5.0fms %7.1fx %14s" % (
            name, o[0] * 1e3, o[1] * 1e3, k[0] * 1e3, k[1] * 1e3, k[1] / o[1],
            "%5.0f/%5.0fms" % (p[0] * 1e3, p[1] * 1e3) if p else ""))


if __name__ == "__main__":
    main()
