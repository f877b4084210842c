"""Wall-time measurement shared by the benchmarks: the commands compared are
run in turn (A B C, A B C, ...) rather than one after the other, so that a
busy spell of this 2-core machine falls on all of them alike."""

from __future__ import annotations

import statistics
import subprocess
import time


def run(argv, env, stdin=None):
    """(seconds, CompletedProcess) of one run, output captured."""
    t = time.perf_counter()
    p = subprocess.run(argv, input=stdin, capture_output=True, env=env)
    return time.perf_counter() - t, p


def interleaved(cmds: dict, runs: int, env) -> dict:
    """{name: (best, median, last CompletedProcess)} for each argv of
    ``cmds``, after one warm-up run each (page cache, .pyc files)."""
    times: dict = {name: [] for name in cmds}
    last: dict = {}
    for name, argv in cmds.items():
        run(argv, env)
    for _ in range(runs):
        for name, argv in cmds.items():
            t, last[name] = run(argv, env)
            times[name].append(t)
    return {name: (min(ts), statistics.median(ts), last[name]) for name, ts in times.items()}
