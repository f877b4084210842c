"""Our mount and OpenAFS's own client on the same files: what OpenAFS's
afsio writes we read bit-exact through the mount, and what we write
through the mount OpenAFS's afsio reads bit-exact (a tree of 1,000 small
files and a 300 MB file each way).

OpenAFS's afsio cannot create files on 1.8.9 (its BreakUpPath bug), so the
files it writes are made empty through our mount first, then overwritten
with ``afsio write -force``.  It also corrupts what it writes past 64 MiB
(the file server receives a file longer than the input, different from
byte 64 MiB + 1 on); so a file it writes is compared bit for bit up to
64 MiB, and a 300 MB one with what OpenAFS's own ``afsio read`` returns.
"""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

pytestmark = pytest.mark.cell


def _afsio(cell, *args, data=None, timeout=600):
    # (afsio exits 0 even on errors: its stderr says)
    r = subprocess.run(["afsio", *args], executable=cell.bin("afsio"), env=cell.env(),
                       input=data, capture_output=True, timeout=timeout)
    assert r.returncode == 0 and not r.stderr, r.stderr
    return r


def _afs_path(mount, path):
    return "/afs/" + os.path.relpath(path, mount.path)


def test_openafs_writes_tree_we_read(cell, mount, workdir):
    files = {}
    for i in range(1000):
        d = os.path.join(workdir, "d%02d" % (i % 10))
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, "f%04d" % i)
        open(p, "wb").close()
        files[p] = os.urandom(i % 200 + 1)
    for p, data in files.items():
        _afsio(cell, "write", "-file", _afs_path(mount, p), "-force", data=data)
    for p, data in files.items():
        with open(p, "rb") as f:
            assert f.read() == data, p


def test_we_write_tree_openafs_reads(cell, mount, workdir):
    files = {}
    for i in range(1000):
        d = os.path.join(workdir, "d%02d" % (i % 10))
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, "f%04d" % i)
        data = os.urandom(i % 200 + 1)
        with open(p, "wb") as f:
            f.write(data)
        files[p] = data
    for p, data in files.items():
        assert _afsio(cell, "read", "-file", _afs_path(mount, p)).stdout == data, p


def test_300mb_both_ways(cell, mount, workdir, tmp_path):
    src = tmp_path / "src"
    subprocess.run(["dd", "if=/dev/urandom", "of=%s" % src, "bs=1M", "count=300"], check=True,
                   capture_output=True)
    with open(src, "rb") as f:
        data = f.read(64 << 20)                    # what afsio writes right
    h = hashlib.md5()
    with open(src, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    md5 = h.hexdigest()
    # OpenAFS writes 64 MiB (the most it writes right), we read it bit for bit
    a = os.path.join(workdir, "from-openafs")
    open(a, "wb").close()
    part = tmp_path / "src64"
    part.write_bytes(data)
    with open(part, "rb") as f:           # (from a pipe its writes of this size fail)
        r = subprocess.run(["afsio", "write", "-file", _afs_path(mount, a), "-force"],
                           executable=cell.bin("afsio"), env=cell.env(), stdin=f,
                           capture_output=True, timeout=900)
    assert r.returncode == 0 and not r.stderr, r.stderr
    with open(a, "rb") as f:
        assert f.read() == data
    # OpenAFS writes 300 MB: we read exactly what its own afsio reads back
    a3 = os.path.join(workdir, "from-openafs-300")
    open(a3, "wb").close()
    with open(src, "rb") as f:
        r = subprocess.run(["afsio", "write", "-file", _afs_path(mount, a3), "-force", "-md5"],
                           executable=cell.bin("afsio"), env=cell.env(), stdin=f,
                           capture_output=True, timeout=900)
    assert md5.encode() in r.stdout + r.stderr, r.stdout + r.stderr
    r = subprocess.run(["afsio", "read", "-file", _afs_path(mount, a3), "-md5"],
                       executable=cell.bin("afsio"), env=cell.env(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=900)
    theirs = r.stderr.split()[0].decode()          # "<md5>  <name>"
    h = hashlib.md5()
    with open(a3, "rb") as f:
        head = f.read(64 << 20)
        h.update(head)
        while chunk := f.read(8 << 20):
            h.update(chunk)
    assert h.hexdigest() == theirs
    assert head == data
    # we write, OpenAFS reads
    b = os.path.join(workdir, "from-kafs")
    subprocess.run(["cp", str(src), b], check=True, timeout=900)
    r = subprocess.run(["afsio", "read", "-file", _afs_path(mount, b), "-md5"],
                       executable=cell.bin("afsio"), env=cell.env(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=900)
    assert r.returncode == 0 and md5.encode() in r.stderr, r.stderr
