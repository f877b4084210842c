"""The FUSE mount against OpenAFS's afsd.fuse, in the same run, on the test
cell: sequential write and read of a large file, a cached re-read (against
the local disk), ``ls -l`` of a 10,000-entry directory, and unpacking a
tarball of a few thousand small files.

    python bench/mount_bench.py [--mb 200] [--entries 10000] [--files 3000] [--runs 3]

Needs root and the test cell (``kafs-testcell up``).  Both clients are
anonymous (rxnull) unless --crypt, which gives ours the admin's token at
rxkad crypt level (afsd.fuse cannot authenticate).  Each measurement runs
the clients in turn (ours, theirs, ours, theirs ...); best and median of
--runs are printed, with the ratio of the medians (ours / theirs: below 1
is faster).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def sh(*args, **kw):
    kw.setdefault("check", True)
    return subprocess.run(list(args), **kw)


def drop_caches():
    """Drop the kernel's page cache so a read goes to the file system."""
    try:
        sh("sync")
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        pass


class Ours:
    name = "kafs"

    def __init__(self, base: Path, crypt: bool):
        self.base = base
        self.mnt = base / "kafs"
        self.cache = base / "kafs-cache"
        self.crypt = crypt
        self.proc = None

    def start(self):
        self.mnt.mkdir(exist_ok=True)
        e = dict(os.environ, PYTHONPATH=str(REPO / "src"), KAFS_DNS="off")
        opts = "cache=%s,cache_size=2G,control=%s" % (self.cache, self.base / "kafs.sock")
        self.proc = subprocess.Popen([sys.executable, "-m", "kafs.client.fuse.mount", "-f", "-o",
                                      opts, str(self.mnt)], env=e,
                                     stdout=subprocess.DEVNULL, stderr=open(self.base / "kafs.log", "ab"))
        for _ in range(300):
            if os.path.ismount(self.mnt) and (self.base / "kafs.sock").exists():
                break
            time.sleep(0.1)
        if self.crypt:
            from kafs.testcell import TestCell
            tok = admin_token(TestCell().info())
            import base64
            import json
            import socket

            from kafs.auth.token import encode_token_set
            s = socket.socket(socket.AF_UNIX)
            s.connect(str(self.base / "kafs.sock"))
            s.sendall(json.dumps({"op": "settoken", "token": base64.b64encode(
                encode_token_set(tok.cell, [tok])).decode()}).encode() + b"\n")
            s.recv(4096)
            s.close()
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(60)
        sh("fusermount3", "-u", "-z", str(self.mnt), check=False, capture_output=True)

    def root(self) -> Path:
        return self.mnt / "test.example"


class Theirs:
    name = "afsd.fuse"

    def __init__(self, base: Path):
        self.base = base
        self.mnt = base / "openafs"
        self.cache = base / "openafs-cache"

    def start(self):
        self.mnt.mkdir(exist_ok=True)
        self.cache.mkdir(exist_ok=True)
        sh("/usr/sbin/afsd.fuse", "-mountdir", str(self.mnt), "-cachedir", str(self.cache),
           "-blocks", str(2 << 20), "-files", "50000", "-stat", "20000", "-nosettime",
           "-dynroot", stdin=subprocess.DEVNULL, capture_output=True)
        for _ in range(300):
            if os.path.ismount(self.mnt) and (self.mnt / "test.example").exists():
                break
            time.sleep(0.1)
        return self

    def stop(self):
        sh("umount", "-l", str(self.mnt), check=False, capture_output=True)

    def root(self) -> Path:
        return self.mnt / "test.example"


def admin_token(info):
    d = Path(tempfile.mkdtemp())
    e = dict(os.environ, KRB5_CONFIG=info.krb5_config, KRB5CCNAME="FILE:%s" % (d / "cc"),
             KAFS_TOKEN_STORE="file", KAFS_TOKEN_FILE=str(d / "tok"), PYTHONPATH=str(REPO / "src"))
    sh("kinit", "-k", "-t", info.admin_keytab, info.admin_principal, env=e)
    sh(sys.executable, "-m", "kafs.cli.aklog", env=e)
    from kafs.auth.store import FileStore
    tok = FileStore(d / "tok").get("test.example", time.time())
    shutil.rmtree(d)
    return tok


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def report(title, results: dict, unit_mb: float | None = None):
    names = list(results)
    line = [title]
    meds = {}
    for n in names:
        ts = results[n]
        best, med = min(ts), statistics.median(ts)
        meds[n] = med
        if unit_mb:
            line.append("%s %.2f / %.2f s (%.0f MB/s)" % (n, best, med, unit_mb / med))
        else:
            line.append("%s %.3f / %.3f s" % (n, best, med))
    if len(names) >= 2:
        line.append("ratio %.2f" % (meds[names[0]] / meds[names[1]]))
    print("  ".join(line), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--crypt", action="store_true")
    a = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="kafs-bench-"))
    src = base / "src"
    sh("dd", "if=/dev/urandom", "of=%s" % src, "bs=1M", "count=%d" % a.mb, capture_output=True)
    clients = [Ours(base, a.crypt).start(), Theirs(base).start()]
    tag = uuid.uuid4().hex[:6]
    work = {c.name: c.root() / ("bench-%s-%s" % (c.name.replace(".", ""), tag)) for c in clients}
    try:
        for c in clients:
            work[c.name].mkdir()
        res_w, res_r, res_c = {}, {}, {}
        for i in range(a.runs):
            for c in clients:
                dst = work[c.name] / ("big%d" % i)
                res_w.setdefault(c.name, []).append(timed(lambda: sh("cp", str(src), str(dst))))
            drop_caches()
            for c in clients:
                dst = work[c.name] / ("big%d" % i)
                res_r.setdefault(c.name, []).append(
                    timed(lambda: sh("cat", str(dst), stdout=subprocess.DEVNULL)))
        report("write %d MB" % a.mb, res_w, a.mb)
        report("read %d MB (page cache dropped)" % a.mb, res_r, a.mb)
        # a cached re-read: our persistent cache / afsd.fuse's cache, page cache dropped
        local = base / "local-copy"
        shutil.copy(src, local)
        for i in range(a.runs):
            drop_caches()
            for c in clients:
                dst = work[c.name] / "big0"
                res_c.setdefault(c.name, []).append(
                    timed(lambda: sh("cat", str(dst), stdout=subprocess.DEVNULL)))
            drop_caches()
            res_c.setdefault("local disk", []).append(
                timed(lambda: sh("cat", str(local), stdout=subprocess.DEVNULL)))
        report("cached re-read %d MB" % a.mb, res_c, a.mb)
        # ls -l of a big directory (made through each client)
        res_l = {}
        for c in clients:
            d = work[c.name] / "many"
            d.mkdir()
            for k in range(a.entries):
                (d / ("f%05d" % k)).write_bytes(b"")
        for i in range(a.runs):
            for c in clients:
                d = work[c.name] / "many"
                res_l.setdefault(c.name, []).append(
                    timed(lambda: sh("ls", "-l", str(d), stdout=subprocess.DEVNULL)))
        report("ls -l of %d entries" % a.entries, res_l)
        # unpack a tarball of many small files
        tree = base / "tree"
        for k in range(a.files):
            p = tree / ("d%02d" % (k % 50)) / ("f%05d.c" % k)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(os.urandom(k % 4000 + 100))
        tarball = base / "tree.tar"
        sh("tar", "-C", str(base), "-cf", str(tarball), "tree")
        res_t = {}
        for i in range(a.runs):
            for c in clients:
                d = work[c.name] / ("untar%d" % i)
                d.mkdir()
                res_t.setdefault(c.name, []).append(
                    timed(lambda: sh("tar", "--no-same-owner", "-C", str(d), "-xf", str(tarball))))
        report("untar %d files" % a.files, res_t)
    finally:
        for c in clients:
            sh("rm", "-rf", str(work[c.name]), check=False, capture_output=True)
        for c in clients:
            c.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
