"""Fixtures of the token tests: an isolated token store per test.

The keyring backend works in a named session keyring of the test's own
(joined by every subprocess through ``keyctl_join_session_keyring``), so
nothing lands in the shared user session keyring that other tools and
tests of this machine read.
"""

from __future__ import annotations

import os
import secrets

import pytest


@pytest.fixture
def file_store(tmp_path, monkeypatch):
    path = tmp_path / "tok" / "tokens"
    monkeypatch.setenv("KAFS_TOKEN_STORE", "file")
    monkeypatch.setenv("KAFS_TOKEN_FILE", str(path))
    return path


def _keyring_ok() -> bool:
    from kafs.auth import keyring
    return keyring.available()


@pytest.fixture
def keyring_session():
    """Name of a fresh named session keyring; the test joins it in
    subprocesses (``preexec``) -- the pytest process itself never joins."""
    if not _keyring_ok():
        pytest.skip("kernel keyring not usable here")
    name = "kafs-test-" + secrets.token_hex(6)
    yield name
    # remove the keyring (and the keys in it) created by the subprocesses
    import subprocess
    subprocess.run(["sh", "-c", "keyctl session %s keyctl invalidate @s" % name],
                   capture_output=True, timeout=30)


def join(name: str):
    def pre():
        from kafs.auth import keyring
        keyring.join_session_keyring(name)
    return pre
