"""-json shapes of the bos commands (docs/json.md, section "bos")."""

from __future__ import annotations

import io
import json

import pytest

pytestmark = pytest.mark.cell
H = "afs1.test.example"


def ours(*args):
    from kafs.cli.main import run_suite
    out, err = io.StringIO(), io.StringIO()
    rc = run_suite("bos", list(args) + ["-json"], prog="bos", out=out, err=err)
    return json.loads(out.getvalue()), err.getvalue(), rc


def test_status(cell):
    doc, _, rc = ours("status", H, "-long", "-noauth")
    assert rc == 0
    byname = {d["name"]: d for d in doc}
    assert byname["ptserver"]["status"] == "running normally"
    assert byname["ptserver"]["commands"][0].endswith("ptserver -rxbind")
    assert byname["dafs"]["auxiliary_status"] == "file server running"


def test_small_ones(cell):
    assert ours("listhosts", H, "-noauth")[0] == {"cell": cell.cell, "hosts": [H]}
    assert "admin" in ours("listusers", H, "-noauth")[0]["superusers"]
    assert ours("getrestricted", H, "-noauth")[0] == {"restricted": False}
    r = ours("getrestart", H, "-noauth")[0]
    assert r["server"] == H and r["newbinary"]["display"] == "at 5:00 am"
    d = ours("getdate", H, "nosuch", "-noauth")[0]
    assert d == [{"path": "/usr/afs/bin/nosuch", "time": None, "bak_time": None,
                  "old_time": None}]


def test_getlog(cell):
    doc, err, rc = ours("getlog", H, "BosLog", "-localauth")
    if "-localauth is not supported" in err:
        pytest.xfail("no -localauth")
    assert rc == 0 and doc["file"] == "BosLog" and "Listening on" in doc["log"]
