"""The long vos operations, ours against OpenAFS's in the same run:

    sudo .venv/bin/python bench/volops_bench.py [--mb 200] [--reps 3] [--only move,copy,...]

* ``move``: each tool moves its own copy of a ``--mb`` MB volume from
  /vicepa to /vicepb and back (each leg timed);
* ``copy``: each tool copies its volume to a new name on the other
  partition (the copy is removed, untimed, after each run);
* ``release``: a full release (``-force``) of each tool's volume to its RO
  site (one server: a clone beside the RW volume, see bench_release);
* ``restore``: ``-overwrite full`` of a ``--mb`` MB dump into each tool's
  own volume;
* ``backupsys``: ``-prefix cvol.`` (the 300 volumes of the vos tests'
  fixture, made here if missing), OpenAFS's and ours in turn.

The tools run alternately (the order flipped every round) so that a busy
spell of this 2-core machine falls on both alike; medians and the ratio
(ours / OpenAFS, below 1 is faster) are printed.  The volumes are made
once (``kbench.ops.o``/``kbench.ops.k``) and reused.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OURS = [sys.executable, "-m", "kafs.cli.main", "vos"]
HOST = "afs1"
L = "-localauth"


def _dump_bench():
    spec = importlib.util.spec_from_file_location("vos_dump_bench",
                                                  REPO / "bench" / "vos_dump_bench.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


db = _dump_bench()
_env = db._env


def vos(*args, check=True):
    return db.openafs_vos(*args, check=check)


def timed(cmd) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, env=_env())
    dt = time.perf_counter() - t
    if r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.decode(errors="replace")))
    return dt


def where(name: str) -> str:
    out = vos("listvldb", "-name", name, L).stdout.decode()
    for line in out.splitlines():
        if "RW Site" in line:
            return line.split("/vicep")[1][0]
    raise RuntimeError("no RW site for " + name)


def ensure_pair(mb: int) -> dict:
    """kbench.ops.o / .k with ``mb`` MB each (made from one generated dump)."""
    names = {"o": "kbench.ops.o", "k": "kbench.ops.k"}
    missing = [n for n in names.values() if vos("examine", n, L, check=False).returncode]
    if missing:
        src = db.ensure_volume("kbench.dump%d" % mb, [mb * (1 << 20) // 5] * 5)
        f = "/var/tmp/kbench.ops.dump"
        vos("dump", "-id", src, "-file", f, L)
        for n in missing:
            vos("restore", HOST, "a", n, "-file", f, L)
        os.unlink(f)
    return names


def alternate(reps: int, make_cmds, after=None) -> tuple[list, list]:
    """Run the two tools' commands in turn ``reps`` times."""
    to, tk = [], []
    for i in range(reps):
        order = ("o", "k") if i % 2 == 0 else ("k", "o")
        for who in order:
            cmd = make_cmds(who)
            (to if who == "o" else tk).append(timed(cmd))
            if after:
                after(who)
    return to, tk


def tool(who):
    return ["vos"] if who == "o" else list(OURS)


def report(what: str, to: list, tk: list, mb: float | None) -> None:
    mo, mk = statistics.median(to), statistics.median(tk)
    rate = lambda m: ("  %.1f MB/s" % (mb / m)) if mb else ""
    print("%-10s OpenAFS median %.2f s%s   kafs median %.2f s%s   ratio %.2f   "
          "(runs %s | %s)" % (what, mo, rate(mo), mk, rate(mk), mk / mo,
                              " ".join("%.2f" % t for t in to), " ".join("%.2f" % t for t in tk)))


def bench_move(names, reps, mb):
    def cmd(who):
        n = names[who]
        frm = where(n)
        to = "b" if frm == "a" else "a"
        return tool(who) + ["move", n, HOST, frm, HOST, to, L]
    report("move", *alternate(reps * 2, cmd), mb)


def bench_copy(names, reps, mb):
    def cmd(who):
        n = names[who]
        frm = where(n)
        return tool(who) + ["copy", n, HOST, frm, n + ".cp", HOST, "b" if frm == "a" else "a", L]

    def after(who):
        vos("remove", "-id", names[who] + ".cp", L)
    for n in names.values():
        vos("remove", "-id", n + ".cp", L, check=False)
    report("copy", *alternate(reps, cmd, after), mb)


def bench_release(names, reps, mb):
    """A full release (-force) to the RO site beside the RW volume: on one
    server the volserver keeps a volume's RW and RO copies on one
    partition, so the RO is a clone; a 200 MB release to two remote sites
    needs the multi-server cell."""
    for n in names.values():
        vos("unlock", n, L, check=False)
        for part in ("a", "b"):            # copies a failed release may have left
            if part != where(n):
                vos("zap", HOST, part, n + ".readonly", "-force", L, check=False)
        if "RO Site" not in vos("listvldb", "-name", n, L).stdout.decode():
            vos("addsite", HOST, where(n), n, L)
            vos("release", n, L)
    try:
        report("release", *alternate(reps, lambda who: tool(who) + [
            "release", names[who], "-force", L]), None)
    finally:
        for n in names.values():
            vos("remove", "-id", n + ".readonly", L, check=False)


def bench_restore(names, reps, mb):
    src = db.ensure_volume("kbench.dump%d" % mb, [mb * (1 << 20) // 5] * 5)
    f = "/var/tmp/kbench.restore.dump"
    vos("dump", "-id", src, "-file", f, L)
    try:
        report("restore", *alternate(reps, lambda who: tool(who) + [
            "restore", HOST, "a", names[who] + ".rs", "-file", f, "-overwrite", "full", L]),
            os.path.getsize(f) / 1e6)
    finally:
        os.unlink(f)
        for n in names.values():
            vos("remove", "-id", n + ".rs", L, check=False)


def bench_backupsys(reps):
    have = vos("listvldb", "-name", "cvol.299", L, check=False).returncode == 0
    if not have:
        for i in range(300):
            vos("create", HOST, "a", "cvol.%03d" % i, L, check=False)
    report("backupsys", *alternate(reps, lambda who: tool(who) + [
        "backupsys", "-prefix", "cvol.", L]), None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="move,copy,release,restore,backupsys")
    a = ap.parse_args()
    only = a.only.split(",")
    names = ensure_pair(a.mb) if set(only) - {"backupsys"} else {}
    if "move" in only:
        bench_move(names, a.reps, a.mb)
    if "copy" in only:
        bench_copy(names, a.reps, a.mb)
    if "release" in only:
        bench_release(names, a.reps, a.mb)
    if "restore" in only:
        bench_restore(names, a.reps, a.mb)
    if "backupsys" in only:
        bench_backupsys(a.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
