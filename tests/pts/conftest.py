"""The protection database the pts tests compare on.

``ptsdb`` (session scope) makes sure the test cell's ptserver holds:

* users ``user0001`` ... ``user0500``;
* groups ``grp01`` ... ``grp50``: grp01-grp20 owned by admin, grp21-grp40
  owned by users (grpNN by user00NN, so user0021.. own one group each, and
  user0001 owns grp41-grp45 too), grp46-grp50 owned by other groups (grp46
  by grp01, ...);
* members: grpNN holds user(10*NN-9) ... user(10*NN); grp01 also every
  user up to user0050; user0002 is in system:administrators;
* privacy flags ``SOM--`` on user0001-user0050 and on every group, so that
  membership and listowned can be compared without tokens;
* nested membership (supergroups): grp41-grp45 are members of grp01; grp46
  is in grp02 and grp47 in grp46 (two levels); grp48 is in grp03 and grp04.

Everything is created with OpenAFS's own pts (``-localauth``) in one
``pts interactive`` process.  A final marker user (``ptsfixturedone``)
tells a later run that nothing is missing: the check is one examine.  The
nesting has its own marker (``ptsnestingdone``): a database made before it
existed gets just that part.
"""

from __future__ import annotations

import pytest

NUSERS = 500
NGROUPS = 50
MARKER = "ptsfixturedone"
NEST_MARKER = "ptsnestingdone"
# (member group, group it is added to)
NESTING = [*(("grp%02d" % n, "grp01") for n in range(41, 46)),
           ("grp46", "grp02"), ("grp47", "grp46"), ("grp48", "grp03"), ("grp48", "grp04")]


def users():
    return ["user%04d" % i for i in range(1, NUSERS + 1)]


def groups():
    return ["grp%02d" % i for i in range(1, NGROUPS + 1)]


def group_owner(n: int) -> str:
    if n <= 20:
        return "admin"
    if n <= 40:
        return "user%04d" % n
    if n <= 45:
        return "user0001"
    return "grp%02d" % (n - 45)


def script() -> str:
    lines = []
    us = users()
    for i in range(0, len(us), 50):
        lines.append("createuser -name " + " ".join(us[i:i + 50]))
    for n in range(1, NGROUPS + 1):
        lines.append("creategroup -name grp%02d -owner %s" % (n, group_owner(n)))
    for n in range(1, NGROUPS + 1):
        members = ["user%04d" % i for i in range(10 * n - 9, 10 * n + 1)]
        lines.append("adduser -user %s -group grp%02d" % (" ".join(members), n))
    lines.append("adduser -user " + " ".join("user%04d" % i for i in range(11, 51))
                 + " -group grp01")
    lines.append("adduser -user user0002 -group system:administrators")
    lines.append("setfields -nameorid " + " ".join(us[:50]) + " -access SOM--")
    lines.append("setfields -nameorid " + " ".join(groups()) + " -access SOM--")
    lines.append("createuser -name " + MARKER)
    return "\n".join(lines) + "\n"


def nesting_script() -> str:
    lines = ["adduser -user %s -group %s" % pair for pair in NESTING]
    lines.append("createuser -name " + NEST_MARKER)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def ptsdb(cell):
    r = cell.tool("pts", "examine", MARKER, "-localauth")
    if r.returncode != 0:
        p = cell.tool("pts", "interactive", "-localauth", input=script(), timeout=600)
        r = cell.tool("pts", "examine", MARKER, "-localauth")
        assert r.returncode == 0, (p.stdout, p.stderr[-2000:], r.stderr)
    r = cell.tool("pts", "examine", NEST_MARKER, "-localauth")
    if r.returncode != 0:
        p = cell.tool("pts", "interactive", "-localauth", input=nesting_script(), timeout=120)
        r = cell.tool("pts", "examine", NEST_MARKER, "-localauth")
        assert r.returncode == 0, (p.stdout, p.stderr[-2000:], r.stderr)
    return cell
