import subprocess
import sys

from kafs.auth import select
from kafs.auth.crypto import rxkad


def test_levels_match_rxkad():
    assert (select.LEVEL_CLEAR, select.LEVEL_CRYPT) == (rxkad.LEVEL_CLEAR, rxkad.LEVEL_CRYPT)


def test_noauth_does_not_import_rxkad():
    code = ("import asyncio, sys\n"
            "from kafs.api.session import AuthSpec\n"
            "from kafs.auth.select import client_security\n"
            "print(asyncio.run(client_security('x', AuthSpec(noauth=True), 'vos')),\n"
            "      'kafs.auth.crypto.rxkad' in sys.modules)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stdout.split() == ["None", "False"]
