"""Fixtures of the file client tests: real mounts of our FUSE client on the
real test cell, tokens from the real KDC, and a private directory in
root.cell for each test.

``KafsMount`` runs ``kafs-mount -f`` (``python -m kafs.client.fuse.mount``)
as a child process on a temporary directory, waits for the mount, and
always unmounts at the end (lazily if it must: a FUSE mount left behind
would break later runs).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MOUNT = [sys.executable, "-m", "kafs.client.fuse.mount"]


def _mounted(path: str) -> bool:
    """In the mount table (a dead FUSE mount is, though stat fails on it)."""
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == real for line in f)


def _unmount(path: str) -> None:
    for args in (["fusermount3", "-u", path], ["fusermount3", "-u", "-z", path]):
        if not _mounted(path):
            return
        subprocess.run(args, capture_output=True, timeout=30)
        for _ in range(50):
            if not _mounted(path):
                return
            time.sleep(0.1)


class KafsMount:
    """One mount of ours."""

    __test__ = False

    def __init__(self, cell, base: Path, *, options: str = "", env=None, name="afs"):
        self.cell = cell
        self.base = base
        self.path = str(base / name)
        self.cache = str(base / (name + "-cache"))
        self.control = str(base / (name + ".sock"))
        self.log = str(base / (name + ".log"))
        self.options = options
        self.env = env
        self.proc = None
        os.makedirs(self.path, exist_ok=True)

    def start(self, options: str | None = None, *, timeout: float = 60) -> "KafsMount":
        opts = ["cache=" + self.cache, "control=" + self.control, "dead_time=20"]
        extra = self.options if options is None else options
        if extra:
            opts.append(extra)
        e = self.cell.env(self.env)
        e["PYTHONPATH"] = str(REPO / "src") + os.pathsep + e.get("PYTHONPATH", "")
        e["KAFS_DNS"] = "off"
        e.pop("AFSCELL", None)
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([*MOUNT, "-f", "-o", ",".join(opts), self.path], env=e,
                                     stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
        logf.close()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if os.path.ismount(self.path) and os.path.exists(self.control):
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("kafs-mount exited %s: %s" % (self.proc.returncode,
                                                                 self.log_text()[-2000:]))
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("kafs-mount did not mount in %d s" % timeout)

    def log_text(self) -> str:
        try:
            return Path(self.log).read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> int | None:
        """Unmount cleanly (SIGTERM: dirty data is stored first)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        _unmount(self.path)
        rc = self.proc.returncode if self.proc is not None else None
        self.proc = None
        return rc

    def kill(self) -> None:
        """A crash: SIGKILL, then the kernel's mount is taken down."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None
        _unmount(self.path)

    def restart(self, options: str | None = None) -> "KafsMount":
        self.stop()
        return self.start(options)

    def control_request(self, op: str, uid: int | None = None, **kw) -> dict:
        """A control socket request, as root or (in a child) as ``uid``."""
        line = json.dumps({"op": op, **kw}).encode() + b"\n"
        if uid is None:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(120)
                s.connect(self.control)
                s.sendall(line)
                return json.loads(_readline(s))
        code = ("import socket,sys,os\n"
                "s=socket.socket(socket.AF_UNIX);s.settimeout(120);s.connect(sys.argv[1])\n"
                "s.sendall(sys.stdin.buffer.read())\nb=b''\n"
                "while not b.endswith(b'\\n'):\n"
                "    c=s.recv(65536)\n    if not c: break\n    b+=c\n"
                "sys.stdout.buffer.write(b)\n")
        r = subprocess.run([sys.executable, "-c", code, self.control], input=line,
                           capture_output=True, timeout=180, preexec_fn=as_user(uid))
        return json.loads(r.stdout)

    def stats(self) -> dict:
        return self.control_request("cachestats")

    def push_token(self, token, uid: int | None = None) -> None:
        from kafs.auth.token import encode_token_set
        blob = base64.b64encode(encode_token_set(token.cell, [token])).decode()
        r = self.control_request("settoken", uid=uid, token=blob)
        assert r["ok"], r

    def cell_dir(self) -> str:
        return os.path.join(self.path, self.cell.cell)

    def scratch(self, prefix: str = "t-") -> str:
        """A new directory in the client tests' volume (needs ``workvol``)."""
        d = os.path.join(self.cell_dir(), WORKVOL, prefix + uuid.uuid4().hex[:10])
        os.mkdir(d)
        return d


def _readline(s) -> bytes:
    b = b""
    while not b.endswith(b"\n"):
        c = s.recv(65536)
        if not c:
            break
        b += c
    return b


def as_user(uid: int, gid: int | None = None):
    def pre():
        os.setgroups([])
        os.setgid(uid if gid is None else gid)
        os.setuid(uid)
    return pre


def run_as(uid: int, code: str, *args, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run Python ``code`` as ``uid`` (for per-user access checks)."""
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=as_user(uid))


@pytest.fixture(scope="session")
def admin_token(cell, tmp_path_factory):
    """A real token of the cell's admin (kinit with the keytab, our aklog)."""
    d = tmp_path_factory.mktemp("admintok")
    e = cell.env()
    e["KRB5CCNAME"] = "FILE:%s" % (d / "ccache")
    e["KAFS_TOKEN_STORE"] = "file"
    e["KAFS_TOKEN_FILE"] = str(d / "tokens")
    e["PYTHONPATH"] = str(REPO / "src")
    r = subprocess.run(["kinit", "-k", "-t", cell.admin_keytab, cell.admin_principal],
                       env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "kafs.cli.aklog"], env=e, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    from kafs.auth.store import FileStore
    tok = FileStore(d / "tokens").get("test.example", time.time())
    assert tok is not None and tok.viceid == 1
    return tok


@pytest.fixture(scope="session")
def mount(cell, tmp_path_factory):
    """One mount of the dynamic root for the session (with a cache)."""
    m = KafsMount(cell, tmp_path_factory.mktemp("mnt"))
    m.start()
    try:
        yield m
    finally:
        m.stop()


WORKVOL = "kafs.clienttests"


@pytest.fixture(scope="session")
def workvol(cell, admin_token):
    """A volume of the client tests' own, without a quota, mounted in
    root.cell as ``kafs.clienttests`` with system:anyuser rlidwk: their files
    never fill root.cell.  Made idempotently (a reused cell keeps it)."""
    import asyncio

    from kafs.client.creds import Cred, TokenSource
    from kafs.client.errmap import FSError
    from kafs.client.manager import CacheManager
    from kafs.client.mountpoint import MountPoint
    r = cell.tool("vos", "examine", WORKVOL, "-localauth", timeout=120)
    if r.returncode != 0:
        r = cell.tool("vos", "create", cell.host, "a", WORKVOL, "-maxquota", "0",
                      "-localauth", timeout=300)
        assert r.returncode == 0, r.stderr
    acl = b"2\n0\nsystem:administrators\t127\nsystem:anyuser\t63\n"

    async def setup():
        ts = TokenSource(own_store=False, user_files=lambda uid: [])
        ts.set_token(0, admin_token)
        async with CacheManager(tokens=ts, dns=False) as cm:
            c = Cred(0)
            root = await cm.volume_root(cell.cell, "root.cell", cred=c)
            try:
                mp = await cm.lookup(root, WORKVOL.encode(), c)
            except FSError:
                mp = await cm.mkmount(root, WORKVOL.encode(), MountPoint("#", None, WORKVOL), c)
            top = await cm.cross(mp, c)
            if (await cm.fetch_acl(top, c)).rstrip(b"\0") != acl:
                await cm.store_acl(top, acl, c)
    asyncio.run(setup())
    return WORKVOL


@pytest.fixture
def workdir(mount, workvol):
    """A fresh directory of this test's own in the client tests' volume,
    through the mount (anonymous: the volume gives system:anyuser rlidwk)."""
    d = os.path.join(mount.cell_dir(), workvol, "t-" + uuid.uuid4().hex[:10])
    os.mkdir(d)
    yield d
    subprocess.run(["rm", "-rf", d], capture_output=True, timeout=300)


@pytest.fixture
def cm_factory(cell):
    """Make in-process cache managers (a second client on the cell)."""
    import asyncio  # noqa: F401

    from kafs.client.manager import CacheManager

    def make(**kw):
        kw.setdefault("dns", False)
        return CacheManager(**kw)
    return make
