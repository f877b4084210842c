"""Fixtures of the vos tests: the populated cell and a side-by-side runner.

``vos_cell`` makes sure the test cell holds (creating only what is missing,
with OpenAFS's own ``vos -localauth``):

* 300 volumes ``cvol.000`` .. ``cvol.299`` across the server's two
  partitions (:func:`cvol_partition`: about a third on /vicepb) with various
  quotas (``-maxquota`` 0, 1000, 5000, 20000, 123456 by index); volumes of an
  older cell that sit on the wrong partition are moved (``vos move``);
* backup volumes of every 10th (``cvol.000``, ``cvol.010`` ...);
* a released RO site for every 25th (``vos addsite`` + ``vos release``);
* an RO site added and never released on ``cvol.001`` ("Not released");
* a locked VLDB entry, ``cvol.299`` (``vos lock``).

Other tests' volumes (e.g. 2,000 ``sweep.NNNN``) are left alone; every
comparison runs both tools on the same cell state.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

N_VOLUMES = 300
QUOTAS = (0, 1000, 5000, 20000, 123456)
REPO = Path(__file__).resolve().parents[2]
OURS = [sys.executable, "-m", "kafs.cli.main", "vos"]


def cvol(i: int) -> str:
    return "cvol.%03d" % i


def cvol_partition(i: int) -> str:
    """"a" or "b".  Volumes with RO sites (every 25th, and cvol.001) stay on
    /vicepa with them: a read-write volume and its clones share one
    partition on a server."""
    return "b" if i % 3 == 1 and i % 25 != 0 and i != 1 else "a"


def _rw_partition(block: str) -> str | None:
    """The partition letter of the RW site in a listvldb block."""
    for line in block.splitlines():
        f = line.split()
        if len(f) >= 5 and f[0] == "server" and f[2] == "partition" and f[4] == "RW":
            return f[3][len("/vicep"):]
    return None


def _vldb_state(cell) -> dict[str, str]:
    """name -> its listvldb text block."""
    r = cell.tool("vos", "listvldb", "-noauth", "-nosort", timeout=300)
    blocks: dict[str, str] = {}
    cur = None
    for line in r.stdout.splitlines():
        if line and not line.startswith(" ") and not line.startswith("VLDB entries") \
                and not line.startswith("Total entries"):
            cur = line.strip()
            blocks[cur] = ""
        elif cur is not None:
            blocks[cur] += line + "\n"
    return blocks


def _vos(cell, *args):
    r = cell.tool("vos", *args, "-localauth", timeout=300)
    if r.returncode != 0 and "already" not in r.stderr:
        raise RuntimeError(f"vos {' '.join(args)}: {r.stderr.strip()}")
    return r


@pytest.fixture(scope="session")
def vos_cell(cell):
    state = _vldb_state(cell)
    missing = [i for i in range(N_VOLUMES) if cvol(i) not in state]

    def create(i):
        _vos(cell, "create", cell.host, cvol_partition(i), cvol(i), "-maxquota",
             str(QUOTAS[i % len(QUOTAS)]))

    with ThreadPoolExecutor(8) as ex:
        list(ex.map(create, missing))
    if missing:
        state = _vldb_state(cell)
    misplaced = [(i, p) for i in range(N_VOLUMES)
                 if (p := _rw_partition(state.get(cvol(i), ""))) not in (None, cvol_partition(i))]

    def move(ip):
        i, frm = ip
        _vos(cell, "move", "-id", cvol(i), "-fromserver", cell.host, "-frompartition", frm,
             "-toserver", cell.host, "-topartition", cvol_partition(i))

    with ThreadPoolExecutor(4) as ex:
        list(ex.map(move, misplaced))
    if misplaced:
        state = _vldb_state(cell)
    todo_bk = [i for i in range(0, N_VOLUMES, 10) if "Backup:" not in state.get(cvol(i), "")]
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda i: _vos(cell, "backup", cvol(i)), todo_bk))
    for i in range(0, N_VOLUMES, 25):
        blk = state.get(cvol(i), "")
        if "RO Site" not in blk:
            _vos(cell, "addsite", cell.host, "a", cvol(i))
        if "ROnly:" not in blk or "Not released" in blk:
            _vos(cell, "release", cvol(i))
    if "RO Site" not in state.get(cvol(1), ""):
        _vos(cell, "addsite", cell.host, "a", cvol(1))
    if "LOCKED" not in state.get(cvol(299), ""):
        _vos(cell, "lock", cvol(299))
    return cell


def run_both(cell, *args, env: dict | None = None, timeout: float = 300):
    """Run OpenAFS's vos and ours with the same arguments and environment;
    returns ((out, err, rc) of OpenAFS, (out, err, rc) of ours)."""
    e = cell.env()
    e.pop("AFSCELL", None)
    if env:
        e.update(env)
    e["PYTHONPATH"] = str(REPO / "src") + os.pathsep + e.get("PYTHONPATH", "")
    # argv[0] "vos" (what a user types): OpenAFS prints argv[0] in messages
    o = subprocess.run(["vos", *args], executable="/usr/bin/vos", env=e,
                       capture_output=True, timeout=timeout)
    k = subprocess.run([*OURS, *args], env=e, capture_output=True, timeout=timeout)
    return (o.stdout, o.stderr, o.returncode), (k.stdout, k.stderr, k.returncode)


def assert_same(o, k, args=()):
    """Exact comparison with a readable first difference."""
    if o == k:
        return
    import difflib
    for what, a, b in (("stdout", o[0], k[0]), ("stderr", o[1], k[1])):
        if a != b:
            d = "\n".join(list(difflib.unified_diff(
                a.decode(errors="replace").splitlines(),
                b.decode(errors="replace").splitlines(), "openafs", "kafs", lineterm=""))[:40])
            raise AssertionError(f"vos {' '.join(args)}: {what} differs\n{d}")
    raise AssertionError(f"vos {' '.join(args)}: exit status {o[2]} (OpenAFS) != {k[2]} (kafs)")


@pytest.fixture
def compare(vos_cell):
    """``compare(*args, env=None, normalise=None)`` runs both and asserts
    byte-identical stdout, stderr and exit status (``normalise(bytes)`` is
    applied to both stdouts first when given)."""
    def _cmp(*args, env=None, normalise=None):
        o, k = run_both(vos_cell, *args, env=env)
        if normalise is not None:
            o = (normalise(o[0]), o[1], o[2])
            k = (normalise(k[0]), k[1], k[2])
        assert_same(o, k, args)
        return o, k
    return _cmp


@pytest.fixture
def pair(cell):
    """``pair(tag, part="a", *create_args, create=True)``: a fresh
    :class:`tests.vos._pair.Pair` of volumes (created with OpenAFS's vos
    unless ``create=False``), removed again after the test."""
    from ._pair import Pair
    made = []

    def make(tag, part="a", *extra, create=True):
        p = Pair(cell, tag)
        if create:
            p.create(part, *extra)
        made.append(p)
        return p
    yield make
    for p in made:
        p.cleanup()
