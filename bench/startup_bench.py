"""Start-up and per-invocation time of the tools, against OpenAFS's.

    eval "$(kafs-testcell env)"; python bench/startup_bench.py [-n 21] [--before SRC]

Runs each command ``-n`` times (median wall and CPU), with bytecode writing
allowed and with PYTHONDONTWRITEBYTECODE=1.  ``--before SRC`` also runs an
older tree (``git archive <rev> src | tar -x -C DIR`` gives DIR/src),
interleaved with the current one.  Prints ratios to OpenAFS's vos/pts/bos
measured in the same run.  Never part of the tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)
CMDS = [
    ("vos", ["examine", "root.cell", "-noauth"]),
    ("pts", ["examine", "admin", "-noauth"]),
    ("bos", ["status", os.environ.get("KAFS_TESTCELL_HOST", "afs1"), "-noauth"]),
    ("vos", ["help"]),
]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _one(argv, env) -> tuple[float, float]:
    c, t = _cpu(), time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, _cpu() - c


def _env(src: str | None, dwb: bool) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if src:
        env["PYTHONPATH"] = src
    if dwb:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=21)
    ap.add_argument("--before", help="src directory of an older tree")
    a = ap.parse_args()
    trees = [("now", None)] + ([("before", a.before)] if a.before else [])
    for dwb in (False, True):
        print(f"PYTHONDONTWRITEBYTECODE={'1' if dwb else 'unset'}, median of {a.n}")
        for tool, args in CMDS + [("python", ["-c", "pass"])]:
            argv = [sys.executable] + ([os.path.join(BIN, tool)] if tool != "python" else []) + args
            res = {name: ([], []) for name, _ in trees}
            for name, src in trees:
                subprocess.run(argv, env=_env(src, False), capture_output=True)   # write bytecode
            for i in range(a.n):
                for name, src in (trees if i % 2 else trees[::-1]):
                    w, c = _one(argv, _env(src, dwb))
                    res[name][0].append(w)
                    res[name][1].append(c)
            ref, cw = "", None
            c_tool = shutil.which(tool, path="/usr/bin:/usr/sbin")
            if tool != "python" and args != ["help"] and c_tool:
                ws = [_one([c_tool] + args, _env(None, dwb))[0] for _ in range(a.n)]
                cw = statistics.median(ws) * 1e3
                ref = f"  OpenAFS {cw:6.1f} ms"
            line = " ".join(args)
            for name, _ in trees:
                w, c = (statistics.median(x) * 1e3 for x in res[name])
                ratio = f" (x{w / cw:.0f})" if cw else ""
                print(f"  {name:6s} {tool} {line:28s} wall {w:6.1f} ms  cpu {c:6.1f} ms{ref}{ratio}")
        print()


if __name__ == "__main__":
    main()
