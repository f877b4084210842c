"""-json shapes of the pts commands (docs/json.md, section "pts")."""

from __future__ import annotations

import io
import json

import pytest

pytestmark = pytest.mark.cell


def ours(*args):
    from kafs.cli.main import run_suite
    out, err = io.StringIO(), io.StringIO()
    rc = run_suite("pts", list(args) + ["-json"], prog="pts", out=out, err=err)
    return json.loads(out.getvalue()), err.getvalue(), rc


def test_examine(ptsdb):
    doc, _, rc = ours("examine", "admin", "grp21", "-noauth")
    assert rc == 0
    assert doc[0]["name"] == "admin" and doc[0]["group_quota"] is None
    assert doc[1]["owner_name"] == "user0021" and doc[1]["flags"] == "SOM--"


def test_listmax_membership_listowned(ptsdb):
    doc, _, _ = ours("listmax", "-noauth")
    assert doc["max_user_id"] > 500 and doc["max_group_id"] < 0
    doc, _, _ = ours("membership", "grp02", "user0001", "-noauth")
    assert doc[0]["members"] == ["grp46"] + ["user%04d" % i for i in range(11, 21)]
    assert "grp01" in doc[1]["groups"] and doc[1]["kind"] == "user"
    doc, _, _ = ours("listowned", "user0001", "admin", "-noauth")
    assert doc[0]["groups"] == ["grp45", "grp44", "grp43", "grp42", "grp41"] or \
        sorted(doc[0]["groups"]) == ["grp41", "grp42", "grp43", "grp44", "grp45"]
    assert doc[1]["error"]["message"] == "Permission denied"


def test_nested_membership(ptsdb):
    doc, _, rc = ours("membership", "grp47", "-supergroups", "-noauth")
    assert rc == 0 and doc[0]["supergroups"] == ["grp46"] and not doc[0]["expanded"]
    doc, _, rc = ours("membership", "user0461", "-expandgroups", "-localauth")
    assert rc == 0 and doc[0]["expanded"]
    assert sorted(doc[0]["groups"]) == ["grp02", "grp46", "grp47"]
    doc, _, rc = ours("membership", "grp46", "-expandgroups", "-noauth")
    assert doc[0]["members"] == ["user%04d" % i for i in range(451, 471)]


def test_listentries(ptsdb):
    doc, err, rc = ours("listentries", "-groups", "-localauth")
    if "-localauth is not supported" in err:
        pytest.xfail("no -localauth")
    assert rc == 0
    names = {e["name"] for e in doc}
    assert {"grp01", "grp50", "system:administrators"} <= names
    assert all(e["id"] < 0 for e in doc)
