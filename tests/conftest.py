"""Shared pytest fixtures: `cell`, and the token-store isolation every test
runs under; other fixtures belong in the test files that use them."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# No property test fails on wall-clock time: Hypothesis's 200 ms per-example
# deadline would, on a loaded machine.  A test's own @settings still applies
# on top of this profile.
settings.register_profile("kafs", deadline=None)
settings.load_profile("kafs")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture(scope="session", autouse=True)
def _isolated_token_store(tmp_path_factory):
    """Our tools look for tokens in the kernel keyring by default, and the
    keyring here is shared by every root process: a token left there by a
    developer's own aklog would make our tools authenticate where OpenAFS's
    (which cannot see it) run anonymously.  The suite therefore starts with
    an empty file store of its own; tests of the store set their own."""
    path = tmp_path_factory.mktemp("tokens") / "tokens"
    old = {k: os.environ.get(k) for k in ("KAFS_TOKEN_STORE", "KAFS_TOKEN_FILE")}
    os.environ["KAFS_TOKEN_STORE"] = "file"
    os.environ["KAFS_TOKEN_FILE"] = str(path)
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


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


@pytest.fixture
def token_env(cell, tmp_path):
    """An environment holding a real token of the cell's admin: kinit
    (admin keytab) into a private ccache, then our aklog into a private
    token file.  Our tools run with it authenticate with that token."""
    import subprocess
    import sys
    e = cell.env()
    e["KRB5CCNAME"] = "FILE:%s" % (tmp_path / "ccache")
    e["KAFS_TOKEN_STORE"] = "file"
    e["KAFS_TOKEN_FILE"] = str(tmp_path / "tok" / "tokens")
    e.pop("KAFS_DEBUG", None)
    r = subprocess.run(["kinit", "-k", "-t", cell.admin_keytab, cell.admin_principal],
                       env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([os.path.join(os.path.dirname(sys.executable), "aklog")], env=e,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return e
