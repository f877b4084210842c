"""Fixtures of the token tests: an isolated token store per test.

The keyring backend works in a new session keyring of the test's own
(joined by one subprocess through ``keyctl_join_session_keyring`` and
inherited by what it runs), so nothing lands in the shared user session
keyring that other tools and tests of this machine read.
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
    """Name for a new named session keyring that one test subprocess joins
    (``preexec_fn=join(name)``); the tools it starts inherit it.  The
    pytest process itself never joins it, and the subprocess invalidates
    it before it ends."""
    if not _keyring_ok():
        pytest.skip("kernel keyring not usable here")
    return "kafs-test-" + secrets.token_hex(6)


def join(name: str):
    def pre():
        from kafs.auth import keyring
        keyring.join_session_keyring(name)
    return pre
