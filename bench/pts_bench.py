"""pts benchmarks: ours against OpenAFS's pts in the same run.

    .venv/bin/python bench/pts_bench.py [--users 10000] [--runs 7]

1. ``pts listentries -localauth`` on a cell with (at least) --users PTS
   users; missing users ``buser00001``... are created first, idempotently,
   with OpenAFS's pts in one ``pts interactive -localauth`` process (50
   names a line).
2. Per-invocation wall time of ``pts examine admin -noauth``: OpenAFS,
   ours (console script and ``python -m kafs.cli.main``), and bare
   ``python -c pass``; our start-up share is the time beyond
   ``python -c pass``.

Needs root and the test cell (kafs-testcell up).  The commands compared
run in turn (bench/_timing.py); prints best and median times and the
ratio of the medians; never used as a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from _timing import interleaved

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(os.path.dirname(HERE), ".venv", "bin")
PY = os.path.join(VENV, "python")
REAL = "/usr/bin/pts"


def env():
    e = dict(os.environ, LC_ALL="C")
    # Bytecode caching on (this machine sets PYTHONDONTWRITEBYTECODE=1,
    # which would make every run of ours compile its modules again).
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    e["PATH"] = VENV + ":/usr/bin:/bin"
    return e


def run(argv, stdin=None):
    t = time.perf_counter()
    p = subprocess.run(argv, input=stdin, capture_output=True, env=env())
    return time.perf_counter() - t, p


def populate(n: int) -> None:
    t, p = run([REAL, "listentries", "-localauth"])
    have = sum(1 for line in p.stdout.splitlines()[1:] if line.strip())
    if have >= n:
        print("cell has %d users (>= %d), nothing to create" % (have, n))
        return
    need = n - have
    existing = {line.split()[0] for line in p.stdout.decode().splitlines()[1:] if line.strip()}
    names = []
    i = 0
    while len(names) < need:
        i += 1
        nm = "buser%05d" % i
        if nm not in existing:
            names.append(nm)
    lines = ["createuser -name " + " ".join(names[j:j + 50]) for j in range(0, len(names), 50)]
    t, p = run([REAL, "interactive", "-localauth"], ("\n".join(lines) + "\n").encode())
    print("created %d users in %.1f s (OpenAFS pts interactive)" % (len(names), t))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    populate(a.users)

    print("\n== pts listentries -localauth (best / median of %d, run in turn)" % a.runs)
    r = interleaved({"openafs": [REAL, "listentries", "-localauth"],
                     "kafs": [PY, "-m", "kafs.cli.main", "pts", "listentries", "-localauth"]},
                    a.runs, env())
    (ob, om, real_p), (kb, km, ours_p) = r["openafs"], r["kafs"]
    nl = len(real_p.stdout.splitlines()) - 1
    same = real_p.stdout == ours_p.stdout
    print("entries: %d  identical output: %s" % (nl, same))
    print("OpenAFS %.3f / %.3f s   kafs %.3f / %.3f s   ratio kafs/OpenAFS %.2f (medians)"
          % (ob, om, kb, km, km / om))

    print("\n== per invocation: pts examine admin -noauth (best / median of %d)" % a.runs)
    r = interleaved({"pass": [PY, "-c", "pass"],
                     "openafs": [REAL, "examine", "admin", "-noauth"],
                     "m": [PY, "-m", "kafs.cli.main", "pts", "examine", "admin", "-noauth"],
                     "script": [os.path.join(VENV, "pts"), "examine", "admin", "-noauth"],
                     "help": [PY, "-m", "kafs.cli.main", "pts", "help"]}, a.runs, env())
    base = r["pass"][1]
    o = r["openafs"][1]
    print("python -c pass            %.3f / %.3f s" % r["pass"][:2])
    print("OpenAFS pts               %.3f / %.3f s" % r["openafs"][:2])
    for name, label in (("m", "kafs python -m          "), ("script", "kafs console script     ")):
        b, m, _ = r[name]
        print("%s  %.3f / %.3f s   ratio %.1f   beyond python: %.3f s"
              % (label, b, m, m / o, m - base))
    print("kafs pts help (no RPC)    %.3f / %.3f s   beyond python: %.3f s"
          % (r["help"][0], r["help"][1], r["help"][1] - base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
