"""Every bos subcommand this change added, against what GetConn and the
first call can meet: a host that does not resolve, one where nothing
answers (127.0.0.1: ICMP, -1), an unknown -cell, no token, -noauth.
OpenAFS 1.8.9's bos and ours on the same arguments; nothing changes on
the server (every call is refused or never made)."""

from __future__ import annotations

import pytest

from _bos import H, same

pytestmark = pytest.mark.cell

COMMANDS = [
    ["addkey", "-key", "k", "-kvno", "240"], ["removekey", "240"],
    ["create", "kbos-never", "simple", "/bin/true"], ["delete", "kbos-never"],
    ["start", "kbos-never"], ["stop", "kbos-never", "-wait"],
    ["startup", "kbos-never"], ["shutdown", "kbos-never"], ["restart", "kbos-never"],
    ["exec", "true"], ["install", "/etc/hostname", "-dir", "/nonexistent"],
    ["uninstall", "kbos-never", "-dir", "/nonexistent"], ["prune", "-core"],
    ["setauth", "on"], ["setrestart", "-time", "never", "-newbinary"],
    ["setrestricted", "0"], ["salvage", "-partition", "a", "-volume", "1", "-forceDAFS"],
    ["listkeys"],
]

WHERE = [("127.0.0.1", ["-localauth"]), ("nosuch.host.invalid", ["-localauth"]),
         (H, ["-cell", "nosuch.invalid"]), (H, []), (H, ["-noauth"]),
         (H, ["-noauth", "-cell", "nosuch.invalid"])]


@pytest.mark.parametrize("where", WHERE, ids=lambda w: " ".join([w[0]] + w[1]))
@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c[0])
def test_conn(cell, cmd, where):
    host, extra = where
    same(cell, [cmd[0], host, *cmd[1:], *extra])
