"""Fixtures of the bos tests that change the bosserver: scratch instances
(one per tool, removed afterwards) and a cell that is healthy again after
a test that stops or restarts its real servers."""

from __future__ import annotations

import pytest

from _bos import RUN, bos, wait_healthy

@pytest.fixture
def healthy(cell):
    """For tests that stop or restart the cell's servers: afterwards every
    instance runs again (``bos startup``) and the cell is healthy."""
    yield cell
    bos(cell, "startup", "afs1.test.example", check=False)
    wait_healthy()


def _remove_instance(cell, name: str) -> None:
    from _bos import H
    if bos(cell, "status", H, name, check=False).startswith("Instance"):
        bos(cell, "stop", H, name, "-wait", check=False)
        bos(cell, "delete", H, name, check=False)


@pytest.fixture
def scratch(cell, request):
    """``scratch(side, n=0)``: the name of a scratch instance of this test
    for "real" or "ours"; every name handed out is stopped and deleted
    (with OpenAFS's bos) when the test ends."""
    names = []
    tag = request.node.name.split("[")[0].replace("test_", "")[:20]

    def name(side: str, n: int = 0) -> str:
        s = "kbos-%s-%s-%s-%d" % (tag, side, RUN, n)
        names.append(s)
        return s
    yield name
    for n in set(names):
        _remove_instance(cell, n)
