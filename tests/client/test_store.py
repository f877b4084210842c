"""kafs.client.store: the persistent chunk cache.

Unit tests of each promise (hits and misses, data-version isolation,
invalidation, LRU eviction, persistence across a restart, the size bound,
modes), a Hypothesis state machine against a model with the same LRU,
corruption of every kind a disk or a person can do, write failures (a
monkeypatched ENOSPC, and a real one from RLIMIT_FSIZE), threads, and a
crash test: child processes killed by SIGKILL at random moments and at
every step inside ``put``, after which each chunk reads back exact or not
at all.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from collections import OrderedDict

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kafs.client import store as store_mod
from kafs.client.store import ChunkStore, footprint, header_size
from kafs.errors import ConfigError

from ._store_workload import CS, data_for, random_op

K1 = ("test.example", 536870912, 1, 1)
K2 = ("test.example", 536870912, 2, 7)
K3 = ("other.cell", 536870915, 1, 1)


def chunk_files(root):
    out = []
    for dirpath, _, files in os.walk(root):
        out += [os.path.join(dirpath, f) for f in files
                if f not in (store_mod.MARKER, store_mod.LOCKFILE)]
    return out


def disk_bytes(root):
    return sum(os.path.getsize(f) for f in chunk_files(root))


@pytest.fixture
def root(tmp_path):
    return tmp_path / "cache"


@pytest.fixture
def s(root):
    st_ = ChunkStore(root, 1 << 20, CS)
    yield st_
    st_.close()


# -- the basics ----------------------------------------------------------------------

def test_put_get_has_and_counts(s):
    d = data_for((K1, 5, 0), CS)
    assert s.get(K1, 5, 0) is None and not s.has(K1, 5, 0)
    assert s.put(K1, 5, 0, d)
    assert s.has(K1, 5, 0)
    assert s.get(K1, 5, 0) == d
    assert s.put(K1, 5, 1, b"tail")           # a short last chunk
    assert s.get(K1, 5, 1) == b"tail"
    assert s.put(K1, 5, 2, b"")               # and an empty one, if asked
    assert s.get(K1, 5, 2) == b""
    st_ = s.stats()
    assert st_ == dict(bytes=footprint(K1, CS) + footprint(K1, 4) + footprint(K1, 0),
                       chunks=3, hits=3, misses=1, stores=3, evictions=0, errors=0,
                       write_errors=0, max_bytes=1 << 20, chunk_size=CS)
    assert footprint(K1, 10) == header_size(K1[0]) + 10


def test_data_versions_and_keys_are_isolated(s):
    s.put(K1, 5, 0, b"five")
    s.put(K1, 6, 0, b"six")
    s.put(K2, 5, 0, b"other file")
    s.put(K3, 5, 0, b"other cell")
    assert s.get(K1, 5, 0) == b"five"
    assert s.get(K1, 6, 0) == b"six"
    assert s.get(K1, 7, 0) is None
    assert s.get(K1, 5, 1) is None
    assert s.get(K2, 5, 0) == b"other file"
    assert s.get(K3, 5, 0) == b"other cell"
    assert s.get(("test.example", 536870912, 1, 2), 5, 0) is None   # another uniquifier
    # a 64-bit data version
    s.put(K1, 2**64 - 1, 3, b"big dv")
    assert s.get(K1, 2**64 - 1, 3) == b"big dv"


def test_replacing_a_chunk(s):
    s.put(K1, 1, 0, b"a" * 100)
    s.put(K1, 1, 0, b"b" * 10)
    assert s.get(K1, 1, 0) == b"b" * 10
    assert s.stats()["bytes"] == footprint(K1, 10) == disk_bytes(s.root)


def test_bad_arguments_raise(s):
    with pytest.raises(ValueError):
        s.put(K1, 1, 0, b"x" * (CS + 1))
    for key in [("c", -1, 1, 1), ("c", 1, 2**32, 1), ("", 1, 1, 1), ("c", 1, 1),
                ["c", 1, 1, 1], ("x" * 101, 1, 1, 1)]:
        with pytest.raises(ValueError):
            s.get(key, 1, 0)
    for dv, index in [(-1, 0), (2**64, 0), (1, -1), (1, 2**63)]:
        with pytest.raises(ValueError):
            s.put(K1, dv, index, b"")
    with pytest.raises(TypeError):
        s.put(K1, 1, 0, "text")
    assert s.stats()["chunks"] == 0


def test_invalidate_and_keep_dv(s):
    for dv in (1, 2, 3):
        for i in range(3):
            s.put(K1, dv, i, b"%d.%d" % (dv, i))
    s.put(K2, 1, 0, b"k2")
    s.invalidate(K1, keep_dv=3)
    assert [s.has(K1, dv, 0) for dv in (1, 2, 3)] == [False, False, True]
    assert s.get(K1, 3, 2) == b"3.2"
    s.invalidate(K1)
    assert not any(s.has(K1, dv, i) for dv in (1, 2, 3) for i in range(3))
    assert s.get(K2, 1, 0) == b"k2"
    s.invalidate(("nothing.here", 1, 1, 1))
    assert s.stats()["chunks"] == 1 and len(chunk_files(s.root)) == 1


def test_drop_volume_and_clear(s):
    other_vol = ("test.example", 536870913, 1, 1)
    s.put(K1, 1, 0, b"a")
    s.put(K2, 1, 0, b"b")
    s.put(other_vol, 1, 0, b"c")
    s.put(K3, 1, 0, b"d")
    s.drop_volume("test.example", 536870912)
    assert not s.has(K1, 1, 0) and not s.has(K2, 1, 0)
    assert s.get(other_vol, 1, 0) == b"c" and s.get(K3, 1, 0) == b"d"
    s.drop_volume("other.cell", 536870912)    # same number, other cell: untouched
    assert s.get(K3, 1, 0) == b"d"
    s.clear()
    assert s.stats()["chunks"] == 0 and s.stats()["bytes"] == 0
    assert chunk_files(s.root) == []
    assert s.put(K1, 1, 0, b"again") and s.get(K1, 1, 0) == b"again"


# -- the bound and the LRU -------------------------------------------------------------

def test_eviction_is_least_recently_used_first(root):
    size = footprint(K1, 1000)
    s = ChunkStore(root, 5 * size, CS)
    for i in range(5):
        assert s.put(K1, 1, i, bytes(1000))
    s.get(K1, 1, 0)                           # 0 and 2 are used again: 1 is oldest
    s.get(K1, 1, 2)
    s.has(K1, 1, 1)                           # has() is not a use
    s.put(K1, 1, 5, bytes(1000))
    assert [s.has(K1, 1, i) for i in range(6)] == [True, False, True, True, True, True]
    s.put(K1, 1, 6, bytes(1000))              # then 3
    s.put(K1, 1, 7, bytes(2000))              # needs two: 4 and 0
    assert sorted(i for i in range(8) if s.has(K1, 1, i)) == [2, 5, 6, 7]
    assert s.stats()["evictions"] == 4
    assert s.stats()["bytes"] == disk_bytes(root) <= 5 * size
    s.close()


def test_a_chunk_larger_than_the_cache_is_refused(root):
    s = ChunkStore(root, footprint(K1, 100), CS)
    assert s.put(K1, 1, 0, bytes(100))
    assert not s.put(K1, 1, 1, bytes(101))
    assert s.get(K1, 1, 0) == bytes(100)      # and nothing was evicted for it
    s.close()
    s = ChunkStore(root, 0, CS)               # a cache of nothing: the old chunk goes
    assert s.stats()["chunks"] == 0 and not s.put(K1, 1, 0, b"")
    s.close()


def test_restart_keeps_chunks_and_their_order(root):
    size = footprint(K1, 500)
    s = ChunkStore(root, 4 * size, CS)
    for i in range(4):
        s.put(K1, 9, i, bytes([i]) * 500)
    s.get(K1, 9, 0)
    s.get(K1, 9, 1)                           # LRU order now 2, 3, 0, 1
    before = s.stats()
    s.close()
    s = ChunkStore(root, 4 * size, CS)
    assert s.stats()["chunks"] == 4 and s.stats()["bytes"] == before["bytes"]
    assert s.get(K1, 9, 3) == bytes([3]) * 500    # now 2, 0, 1, 3
    s.put(K1, 9, 4, bytes(500))               # evicts 2
    s.put(K1, 9, 5, bytes(500))               # evicts 0
    assert sorted(i for i in range(6) if s.has(K1, 9, i)) == [1, 3, 4, 5]
    s.close()
    s = ChunkStore(root, 2 * size, CS)        # a smaller bound: evicted at open, oldest first
    assert sorted(i for i in range(6) if s.has(K1, 9, i)) == [4, 5]
    assert s.stats()["bytes"] == disk_bytes(root)
    s.close()


def test_modes(root):
    old = os.umask(0)
    try:
        s = ChunkStore(root, 1 << 20, CS)
        s.put(K1, 1, 0, b"secret")
        s.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    for dirpath, dirs, files in os.walk(root):
        for d in dirs:
            assert stat.S_IMODE(os.stat(os.path.join(dirpath, d)).st_mode) == 0o700
        for f in files:
            assert stat.S_IMODE(os.stat(os.path.join(dirpath, f)).st_mode) == 0o600
    os.chmod(root, 0o755)                     # an existing cache is made private again
    ChunkStore(root, 1 << 20, CS).close()
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700


def test_stale_temporaries_are_removed_at_open(root):
    s = ChunkStore(root, 1 << 20, CS)
    s.put(K1, 1, 0, b"kept")
    d = os.path.dirname(s._path(K1, 1, 0))
    s.close()
    for n in (".tmp.deadbeef", ".tmp.0123456789abcdef"):
        with open(os.path.join(d, n), "wb") as f:
            f.write(b"half a chunk")
    s = ChunkStore(root, 1 << 20, CS)
    assert sorted(os.listdir(d)) == [os.path.basename(s._path(K1, 1, 0))]
    assert s.get(K1, 1, 0) == b"kept"
    s.close()


def test_a_crash_while_the_marker_was_written(root):
    root.mkdir()
    (root / (store_mod.MARKER + ".tmp.0badf00d")).write_bytes(b"kafs chu")
    ChunkStore(root, 1 << 20).close()
    assert sorted(os.listdir(root)) == [store_mod.MARKER, store_mod.LOCKFILE]


def test_a_directory_that_is_not_a_cache(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(ConfigError, match="not empty and is not a chunk cache"):
        ChunkStore(tmp_path / "mine", 1 << 20)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError):
        ChunkStore(tmp_path / "file", 1 << 20)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / store_mod.MARKER).write_bytes(b"kafs chunk cache 99\n")
    with pytest.raises(ConfigError, match="unknown cache format"):
        ChunkStore(tmp_path / "other", 1 << 20)


def test_one_store_at_a_time(root):
    s = ChunkStore(root, 1 << 20, CS)
    with pytest.raises(ConfigError, match="in use"):
        ChunkStore(root, 1 << 20, CS)
    s.close()
    with pytest.raises(ValueError, match="closed"):
        s.get(K1, 1, 0)
    with pytest.raises(ValueError, match="closed"):
        s.put(K1, 1, 0, b"")
    with ChunkStore(root, 1 << 20, CS) as again:
        assert again.stats()["chunks"] == 0


def test_open_reads_no_chunk(root, monkeypatch):
    """10,000 chunks: open lists and stats them, and opens none."""
    s = ChunkStore(root, 1 << 30, CS)
    keys = [("test.example", 536870912 + v, n, 1) for v in range(4) for n in range(250)]
    for k in keys:
        for i in range(10):
            assert s.put(k, 3, i, b"%d" % i)
    s.close()
    opened = []
    real_open = os.open

    def counting_open(path, *a, **kw):
        opened.append(os.fspath(path))
        return real_open(path, *a, **kw)
    monkeypatch.setattr(os, "open", counting_open)
    s = ChunkStore(root, 1 << 30, CS)
    monkeypatch.undo()
    assert s.stats()["chunks"] == 10_000
    assert [os.path.basename(p) for p in opened] == [store_mod.LOCKFILE]
    assert s.get(keys[1234 % len(keys)], 3, 7) == b"7"
    s.close()


# -- corruption ----------------------------------------------------------------------

def _corrupt_and_get(root, fn):
    s = ChunkStore(root, 1 << 20, CS)
    d = data_for((K1, 1, 0), 3000)
    s.put(K1, 1, 0, d)
    s.put(K2, 1, 0, data_for((K2, 1, 0), 2000))
    path = s._path(K1, 1, 0)
    fn(s, path)
    got = s.get(K1, 1, 0)
    st_ = s.stats()
    exists = os.path.exists(path)
    # the other chunk is intact, unless it was the one moved
    other = s.get(K2, 1, 0)
    assert other is None if fn is _other_keys_file else other == data_for((K2, 1, 0), 2000)
    assert s.stats()["bytes"] == disk_bytes(root)
    s.close()
    return got, st_, exists


def _flip(offset):
    def fn(s, path):
        with open(path, "r+b") as f:
            f.seek(offset if offset >= 0 else os.path.getsize(path) + offset)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0x40]))
    return fn


def _truncate(n):
    def fn(s, path):
        os.truncate(path, n if n >= 0 else os.path.getsize(path) + n)
    return fn


def _other_keys_file(s, path):
    os.replace(s._path(K2, 1, 0), path)       # K2's chunk under K1's name


def _copy_other(s, path):
    with open(s._path(K2, 1, 0), "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data)


def _append(s, path):
    with open(path, "ab") as f:
        f.write(b"more")


def _garbage(s, path):
    with open(path, "wb") as f:
        f.write(os.urandom(3100))


def _removed(s, path):
    os.unlink(path)


@pytest.mark.parametrize("how", {
    "data byte": _flip(-1), "first data byte": _flip(header_size(K1[0])),
    "magic": _flip(0), "header dv": _flip(26), "header crc": _flip(header_size(K1[0]) - 1),
    "truncated data": _truncate(-1), "truncated to header": _truncate(header_size(K1[0])),
    "truncated header": _truncate(20), "empty": _truncate(0),
    "another key's chunk renamed here": _other_keys_file,
    "another key's chunk copied here": _copy_other,
    "bytes appended": _append, "garbage": _garbage,
}.items(), ids=lambda x: x[0])
def test_corrupt_chunks_are_misses_and_removed(root, how, caplog):
    caplog.set_level(logging.WARNING, logger="kafs.client.store")
    got, st_, exists = _corrupt_and_get(root, how[1])
    assert got is None
    assert st_["errors"] == 1 and st_["misses"] == 1 and st_["hits"] == 0
    assert not exists
    assert st_["chunks"] == 1
    assert len(caplog.records) == 1 and "bad chunk" in caplog.records[0].getMessage()
    assert caplog.records[0].exc_info is None


def test_a_chunk_removed_behind_its_back(root):
    got, st_, _ = _corrupt_and_get(root, _removed)
    assert got is None and st_["chunks"] == 1 and st_["errors"] == 1


def test_torn_files_found_at_open(root):
    s = ChunkStore(root, 1 << 20, CS)
    s.put(K1, 1, 0, b"good")
    s.put(K1, 1, 1, b"torn")
    path = s._path(K1, 1, 1)
    s.close()
    os.truncate(path, 5)
    s = ChunkStore(root, 1 << 20, CS)
    assert s.stats()["errors"] == 1 and s.stats()["chunks"] == 1
    assert not os.path.exists(path)
    assert s.get(K1, 1, 0) == b"good"
    s.close()


def test_foreign_names_in_the_cache_are_left_alone(root):
    s = ChunkStore(root, 1 << 20, CS)
    s.put(K1, 1, 0, b"x")
    d = os.path.dirname(s._path(K1, 1, 0))
    s.close()
    for n in ("README", "00000001.00000001.0000000000000001.00",  # not our spelling
              "00000001.00000001.1.0"):
        with open(os.path.join(d, n), "w") as f:
            f.write("not a chunk")
    s = ChunkStore(root, 1 << 20, CS)
    assert s.stats()["chunks"] == 1
    assert s.get(K1, 1, 0) == b"x"
    s.close()


def test_chunks_of_a_larger_chunk_size_are_dropped_at_open(root):
    s = ChunkStore(root, 1 << 20, CS)
    s.put(K1, 1, 0, bytes(CS))
    s.put(K1, 1, 1, bytes(100))
    s.close()
    s = ChunkStore(root, 1 << 20, 1000)
    assert not s.has(K1, 1, 0) and s.get(K1, 1, 1) == bytes(100)
    assert s.stats()["errors"] == 0
    s.close()


# -- write failures -------------------------------------------------------------------

def test_enospc_put_returns_false_and_logs_one_line(s, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="kafs.client.store")
    assert s.put(K1, 1, 0, b"before")
    real = os.writev

    def full(fd, bufs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "writev", full)
    for i in range(1, 5):
        assert s.put(K1, 1, i, b"during") is False
    monkeypatch.setattr(os, "writev", real)
    assert len(caplog.records) == 1              # one line for the run of failures
    rec = caplog.records[0]
    assert "No space left on device" in rec.getMessage() and rec.exc_info is None
    assert "\n" not in rec.getMessage()
    st_ = s.stats()
    assert st_["write_errors"] == 4 and st_["chunks"] == 1 and st_["stores"] == 1
    assert st_["bytes"] == disk_bytes(s.root)
    assert not [f for f in chunk_files(s.root) if ".tmp." in f]
    assert s.get(K1, 1, 0) == b"before"
    assert s.put(K1, 1, 1, b"after") and s.get(K1, 1, 1) == b"after"
    # a new failure after a success is logged again
    monkeypatch.setattr(os, "writev", full)
    assert not s.put(K1, 1, 2, b"x")
    assert len(caplog.records) == 2


@pytest.mark.parametrize("what", ["rename", "open", "utime"])
def test_other_write_errors(s, monkeypatch, what, caplog):
    caplog.set_level(logging.WARNING, logger="kafs.client.store")
    real = getattr(os, what)

    def failing(*a, **kw):
        if what == "open" and not (a[1] & os.O_CREAT):
            return real(*a, **kw)
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    monkeypatch.setattr(os, what, failing)
    assert s.put(K1, 1, 0, b"x") is False
    monkeypatch.setattr(os, what, real)
    assert s.stats()["chunks"] == 0 and s.stats()["bytes"] == 0
    assert chunk_files(s.root) == []
    assert len(caplog.records) == 1


def test_short_writes_continue(s, monkeypatch):
    real = os.writev

    def dribble(fd, bufs):
        first = bytes(bufs[0])[:7]
        return real(fd, [first])
    monkeypatch.setattr(os, "writev", dribble)
    d = data_for((K1, 1, 0), 100)
    assert s.put(K1, 1, 0, d)
    monkeypatch.setattr(os, "writev", real)
    assert s.get(K1, 1, 0) == d


FSIZE_CHILD = textwrap.dedent("""
    import os, resource, signal, sys, logging
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(message)s")
    from kafs.client.store import ChunkStore
    s = ChunkStore(sys.argv[1], 1 << 20, 4096)
    assert s.put(("c", 1, 1, 1), 1, 0, b"small")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
    print(s.put(("c", 1, 1, 1), 1, 1, bytes(3000)))     # a real write error: EFBIG
    print(s.put(("c", 1, 1, 1), 1, 2, b"fits"))
    print(s.get(("c", 1, 1, 1), 1, 0), s.get(("c", 1, 1, 1), 1, 1))
    print(s.stats()["write_errors"], s.stats()["bytes"])
""")


def test_a_real_write_error_file_size_limit(root):
    r = subprocess.run([sys.executable, "-c", FSIZE_CHILD, str(root)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:3] == ["False", "True", "b'small' None"]
    assert lines[3].split()[0] == "1"
    assert r.stderr.strip().splitlines() == [
        f"chunk cache {root}: cannot store a chunk: File too large"]
    s = ChunkStore(root, 1 << 20, 4096)
    assert s.get(("c", 1, 1, 1), 1, 2) == b"fits" and not s.has(("c", 1, 1, 1), 1, 1)
    assert s.stats()["bytes"] == disk_bytes(root)
    s.close()


TMPFS_CHILD = textwrap.dedent("""
    import json, logging, os, sys
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(message)s")
    from kafs.client.store import ChunkStore
    s = ChunkStore(sys.argv[1], 100 << 20, 65536)
    k = ("c", 1, 1, 1)
    results = [s.put(k, 1, i, bytes([i]) * 65536) for i in range(12)]
    print(json.dumps(results))
    stored = [i for i, ok in enumerate(results) if ok]
    print(all(s.get(k, 1, i) == bytes([i]) * 65536 for i in stored))
    print(sorted(f for f in os.listdir(os.path.dirname(s._path(k, 1, 0))) if ".tmp." in f))
    s.invalidate(k)
    print(s.put(k, 2, 0, b"room again"), s.get(k, 2, 0))
    print(s.stats()["write_errors"], s.stats()["bytes"])
""")


def test_a_real_full_disk_tiny_tmpfs(tmp_path):
    """A 256 KiB tmpfs, mounted in a mount namespace of the child's own."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        msg = "mounting a tmpfs needs root and unshare(1)"
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = (f"mount -t tmpfs -o size=256k tmpfs {mnt} && "
              f"exec {sys.executable} -c \"$0\" {mnt}/cache")
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                        TMPFS_CHILD], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    results = json.loads(lines[0])
    assert results[0] and not results[-1]     # some fit, then the disk was full
    assert results.index(False) == results.count(True)   # and nothing after fit again
    assert lines[1:3] == ["True", "[]"]
    assert lines[3] == "True b'room again'"
    assert int(lines[4].split()[0]) == results.count(False)
    assert r.stderr.strip().splitlines() == [
        f"chunk cache {mnt}/cache: cannot store a chunk: No space left on device"]
    assert not os.listdir(mnt)                # the mount was the child's alone


# -- threads --------------------------------------------------------------------------

def test_threads(root):
    s = ChunkStore(root, 40 * footprint(K1, CS), CS)
    keys = [K1, K2, K3]
    errors = []

    def worker(seed):
        rnd = random.Random(seed)
        try:
            for _ in range(300):
                random_op(s, rnd, keys, 3, 20, 0.5)
        except BaseException as e:            # noqa: BLE001 - reported below
            errors.append(e)
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    st_ = s.stats()
    assert st_["errors"] == 0 and st_["bytes"] == disk_bytes(root) <= s.max_bytes
    assert st_["chunks"] == len(chunk_files(root))
    s.close()


# -- the model -------------------------------------------------------------------------

MODEL_CS = 64
KEYS = [("a.cell", 1, 1, 1), ("a.cell", 1, 2, 1), ("a.cell", 2, 1, 1), ("bb.cell", 1, 1, 1)]


class StoreModel(RuleBasedStateMachine):
    """The store against an OrderedDict with the same LRU and byte bound."""

    def __init__(self):
        super().__init__()
        import tempfile
        self.tmp = tempfile.TemporaryDirectory()
        self.max = 6 * footprint(KEYS[0], MODEL_CS)
        self.s = ChunkStore(self.tmp.name + "/c", self.max, MODEL_CS)
        self.model: OrderedDict = OrderedDict()

    def teardown(self):
        self.s.close()
        self.tmp.cleanup()

    def _total(self):
        return sum(footprint(ck[0], len(d)) for ck, d in self.model.items())

    @rule(k=st.sampled_from(KEYS), dv=st.integers(0, 2), index=st.integers(0, 3),
          data=st.binary(max_size=MODEL_CS))
    def put(self, k, dv, index, data):
        ck = (k, dv, index)
        self.model.pop(ck, None)
        size = footprint(k, len(data))
        ok = size <= self.max
        if ok:
            while self._total() + size > self.max:
                self.model.popitem(last=False)
            self.model[ck] = data
        assert self.s.put(k, dv, index, data) is ok

    @rule(k=st.sampled_from(KEYS), dv=st.integers(0, 2), index=st.integers(0, 3))
    def get(self, k, dv, index):
        ck = (k, dv, index)
        want = self.model.get(ck)
        if want is not None:
            self.model.move_to_end(ck)
        assert self.s.get(k, dv, index) == want

    @rule(k=st.sampled_from(KEYS), dv=st.integers(0, 2), index=st.integers(0, 3))
    def has(self, k, dv, index):
        assert self.s.has(k, dv, index) == ((k, dv, index) in self.model)

    @rule(k=st.sampled_from(KEYS), keep=st.one_of(st.none(), st.integers(0, 2)))
    def invalidate(self, k, keep):
        for ck in [ck for ck in self.model if ck[0] == k and ck[1] != keep]:
            del self.model[ck]
        self.s.invalidate(k, keep_dv=keep)

    @rule(cell=st.sampled_from(["a.cell", "bb.cell"]), volume=st.integers(1, 2))
    def drop_volume(self, cell, volume):
        for ck in [ck for ck in self.model if ck[0][:2] == (cell, volume)]:
            del self.model[ck]
        self.s.drop_volume(cell, volume)

    @precondition(lambda self: len(self.model) > 4)
    @rule()
    def clear(self):
        self.model.clear()
        self.s.clear()

    @rule()
    def reopen(self):
        self.s.close()
        self.s = ChunkStore(self.tmp.name + "/c", self.max, MODEL_CS)

    @invariant()
    def accounts(self):
        st_ = self.s.stats()
        assert st_["chunks"] == len(self.model)
        assert st_["bytes"] == self._total() <= self.max
        assert st_["errors"] == 0


TestStoreModel = StoreModel.TestCase
TestStoreModel.settings = settings(max_examples=60, stateful_step_count=40)


# -- crashes ----------------------------------------------------------------------------

CRASH_CHILD = textwrap.dedent("""
    import os, random, signal, sys
    from kafs.client.store import ChunkStore
    from _store_workload import CS, random_op
    root, seed, kill_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if kill_at >= 0:
        # die at the kill_at-th step of the store's system calls, a write
        # cut short half way
        steps = [0]
        def step():
            steps[0] += 1
            if steps[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        for name in ("open", "rename", "utime", "close", "unlink", "fsync"):
            real = getattr(os, name)
            def wrapped(*a, _real=real, **kw):
                step()
                r = _real(*a, **kw)
                step()
                return r
            setattr(os, name, wrapped)
        real_writev = os.writev
        def writev(fd, bufs):
            step()
            data = b"".join(bytes(b) for b in bufs)
            if steps[0] + 1 == kill_at:
                os.write(fd, data[:len(data) // 2])
            return real_writev(fd, bufs)
        os.writev = writev
    s = ChunkStore(root, 30 * (CS + 64), CS, fsync=bool(seed % 2))
    rnd = random.Random(seed)
    keys = [("test.example", 536870912, v, 1) for v in range(5)]
    print("ready", flush=True)
    while True:
        random_op(s, rnd, keys, 4, 12, 0.7)
""")


CHILD_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    [os.path.dirname(os.path.abspath(__file__))] + sys.path)}


def _check_after_crash(root):
    s = ChunkStore(root, 30 * (CS + 64), CS)
    try:
        keys = [("test.example", 536870912, v, 1) for v in range(5)]
        served = 0
        for k in keys:
            for dv in range(4):
                for i in range(12):
                    got = s.get(k, dv, i)
                    assert got is None or got == data_for((k, dv, i)), (k, dv, i)
                    served += got is not None
        st_ = s.stats()
        assert st_["bytes"] == disk_bytes(root) <= s.max_bytes
        assert not [f for f in chunk_files(root) if ".tmp." in f]
        return served, st_["errors"]
    finally:
        s.close()


def test_sigkill_at_random_moments(root):
    rnd = random.Random(1234)
    served = 0
    for rnd_i in range(6):
        p = subprocess.Popen([sys.executable, "-c", CRASH_CHILD, str(root), str(rnd_i), "-1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=CHILD_ENV)
        assert p.stdout.readline() == b"ready\n", p.stderr.read()
        try:
            p.wait(timeout=rnd.uniform(0.05, 0.6))
        except subprocess.TimeoutExpired:
            pass
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert p.returncode == -signal.SIGKILL, p.stderr.read()
        p.stdout.close()
        p.stderr.close()
        n, _ = _check_after_crash(root)
        served += n
    assert served > 0                         # the rounds did store things


def test_sigkill_at_every_step_of_put(root):
    """The child dies at its n-th system call for n = 1, 2, ... (a write
    cut in half first): after each death every chunk is exact or absent."""
    for kill_at in range(1, 40):
        r = subprocess.run([sys.executable, "-c", CRASH_CHILD, str(root), str(kill_at % 3),
                            str(kill_at * 7)], capture_output=True, timeout=60,
                           env=CHILD_ENV)
        assert r.returncode == -signal.SIGKILL, r.stderr
        _check_after_crash(root)
