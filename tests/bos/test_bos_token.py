"""bos with a real Kerberos token (kinit admin, our aklog, a private token
file): the calls are made as admin (a super-user) over rxkad crypt, which
listkeys and addkey need; without the token they are refused (fixture
``token_env``: tests/conftest.py).  The output is what OpenAFS's bos prints for the same operation with
-localauth (OpenAFS's bos cannot see our token store: no cache manager)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from _bos import H, RUN, bos, run_real

pytestmark = pytest.mark.cell


def ours(env, *args):
    p = subprocess.run([os.path.join(os.path.dirname(sys.executable), "bos"), *args],
                       env=env, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
    return p.stdout.decode(), p.stderr.decode(), p.returncode


def test_token(cell, token_env):
    name = "kbos-token-%s" % RUN
    try:
        assert ours(token_env, "create", H, name, "simple", "/bin/sleep 100000") == ("", "", 0)
        assert ours(token_env, "stop", H, name, "-wait") == ("", "", 0)
        assert ours(token_env, "listkeys", H) == run_real(cell, ["listkeys", H, "-localauth"])
        assert ours(token_env, "addkey", H, "-key", "tok", "-kvno", "231") == ("", "", 0)
        assert ours(token_env, "listkeys", H, "-showkey") == \
            run_real(cell, ["listkeys", H, "-showkey", "-localauth"])
        assert ours(token_env, "removekey", H, "231") == ("", "", 0)
        assert ours(token_env, "delete", H, name) == ("", "", 0)
        assert not bos(cell, "status", H, name, check=False).startswith("Instance")
    finally:
        bos(cell, "stop", H, name, "-wait", check=False)
        bos(cell, "delete", H, name, check=False)
        bos(cell, "removekey", H, "231", check=False)
    # without the token: what OpenAFS's bos (which never has one) prints
    e2 = dict(token_env)
    e2["KAFS_TOKEN_FILE"] = token_env["KAFS_TOKEN_FILE"] + ".none"
    for args in (["create", H, name, "simple", "/bin/true"], ["listkeys", H],
                 ["status", H, "nosuch"]):
        assert ours(e2, *args) == run_real(cell, args)
