"""Permissions through the mount: ACL denials are EACCES, and each local
uid's calls carry that uid's own token and no other's."""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from pathlib import Path

import pytest

from .conftest import KafsMount, run_as

pytestmark = pytest.mark.cell

ADMIN_ONLY = "1\n0\nsystem:administrators\t127\n"
PROBE = r"""
import os, sys, errno
op, path = sys.argv[1], sys.argv[2]
try:
    if op == "list":
        print(sorted(os.listdir(path)))
    elif op == "read":
        print(open(path, "rb").read().decode())
    elif op == "create":
        with open(path, "wb") as f:
            f.write(b"by %d" % os.getuid())
        print("owner", os.stat(path).st_uid)
except OSError as e:
    print("ERR", errno.errorcode[e.errno])
"""


@pytest.fixture
def pmount(cell):
    base = Path("/tmp/kafs-perm-" + uuid.uuid4().hex[:8])     # reachable by other uids
    base.mkdir(mode=0o755)
    os.chmod(base, 0o755)
    m = KafsMount(cell, base).start()
    try:
        yield m
    finally:
        m.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_acl_denial_and_tokens_per_uid(pmount, admin_token, workvol):
    m = pmount
    m.push_token(admin_token)                  # root's calls: the cell's admin
    d = m.scratch("p-")
    try:
        os.setxattr(d, "afs.acl", ADMIN_ONLY.encode())
        assert os.getxattr(d, "afs.acl").decode() == ADMIN_ONLY
        f = os.path.join(d, "secret")
        with open(f, "wb") as fh:
            fh.write(b"top secret")
        assert os.stat(f).st_uid == admin_token.viceid     # stored as admin (AFS id 1)
        # another uid without a token is anonymous: denied, as EACCES
        assert run_as(4321, PROBE, "list", d).stdout.strip() == "ERR EACCES"
        assert run_as(4321, PROBE, "read", f).stdout.strip() == "ERR EACCES"
        assert run_as(4321, PROBE, "create", os.path.join(d, "x")).stdout.strip() == \
            "ERR EACCES"
        # the uid that has the token reads; the other still cannot
        m.push_token(admin_token, uid=4322)
        assert run_as(4322, PROBE, "read", f).stdout.strip() == "top secret"
        assert run_as(4321, PROBE, "read", f).stdout.strip() == "ERR EACCES"
        # and files made by the anonymous uid in an open directory are anonymous's
        pub = m.scratch("q-")
        out = run_as(4321, PROBE, "create", os.path.join(pub, "anon")).stdout.strip()
        assert out == "owner 32766"                    # system:anyuser's id
        out = run_as(4322, PROBE, "create", os.path.join(pub, "adm")).stdout.strip()
        assert out == "owner 1"
        # unlog: that uid is anonymous again
        r = m.control_request("unlog", uid=4322)
        assert r["ok"] and r["cells"] == ["test.example"]
        assert run_as(4322, PROBE, "read", f).stdout.strip() == "ERR EACCES"
        shutil.rmtree(pub)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_read_only_volume_and_dynamic_root_refuse_writes(pmount):
    m = pmount
    with pytest.raises(OSError) as e:
        os.mkdir(os.path.join(m.path, "newcell"))
    assert e.value.errno in (errno.EPERM, errno.EACCES, errno.EROFS)
    assert sorted(x for x in os.listdir(m.path) if "test.example" in x) == \
        [".test.example", "test.example"]
    assert os.readlink(os.path.join(m.path, "@cell")) == "test.example"


def test_missing_and_unknown(pmount):
    m = pmount
    with pytest.raises(FileNotFoundError):
        os.stat(os.path.join(m.cell_dir(), "no-such-file-here"))
    with pytest.raises(FileNotFoundError):
        os.stat(os.path.join(m.path, "no.such.cell"))
    # the mount goes on serving
    assert os.path.isdir(m.cell_dir())
