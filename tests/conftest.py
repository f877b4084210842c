"""Shared pytest fixtures.  Only `cell` lives here; other fixtures belong in
the test files that use them."""

from __future__ import annotations

import os

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def cell():
    """The real OpenAFS test cell, brought up once per run.

    Returns a ``kafs.testcell.CellInfo``.  In CI (CI=true) a cell that cannot
    start fails the tests; elsewhere they are skipped with the reason.  Any
    loss rule left over from an interrupted run is removed first, and the
    loss rule is always removed at the end.
    """
    from kafs.testcell import TestCell

    tc = TestCell()
    try:
        if os.geteuid() != 0:
            raise RuntimeError("the test cell needs root")
        tc.clear_loss()
        info = tc.up()
    except Exception as e:  # noqa: BLE001 - reported as a failure or skip
        msg = f"the OpenAFS test cell could not start: {e}"
        if _in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    yield info
    try:
        tc.clear_loss()
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"could not remove the loss rule: {e}", pytrace=False)
