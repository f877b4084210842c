"""Fixtures for the rxkad crypto tests: every test that takes ``backend``
runs once per fcrypt implementation (pure Python and the C accelerator).

The C accelerator missing is a skip on a developer machine and a failure
in CI (CI=true), where the build must have compiled it.
"""

from __future__ import annotations

import os

import pytest

from kafs.auth.crypto import fcrypt


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def c_backend_or_skip():
    mod = fcrypt.load_c_backend()
    if mod is None:
        msg = "the C accelerator kafs.auth._fcrypt is not built"
        if _in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return mod


@pytest.fixture(scope="session", params=["python", "c"])
def backend(request):
    if request.param == "python":
        return fcrypt.python_backend
    return c_backend_or_skip()


@pytest.fixture(scope="session")
def c_backend():
    return c_backend_or_skip()
