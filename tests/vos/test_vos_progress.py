"""Progress lines: on stderr only when stderr is a terminal (a pty here),
never otherwise, so that the compatible output stays byte-identical."""

from __future__ import annotations

import os
import pty
import select
import subprocess

from ._pair import env, vos
from .conftest import OURS

L = "-localauth"


def _run_pty(cell, *args, stdin=None):
    """Our vos with stderr on a pty: (stdout, what the terminal saw, status)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([*OURS, *args], env=env(cell), stdout=subprocess.PIPE,
                             stderr=slave, stdin=subprocess.DEVNULL if stdin is None else stdin)
        os.close(slave)
        seen = b""
        while True:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    d = os.read(master, 65536)
                except OSError:
                    d = b""
                if not d:
                    break
                seen += d
            elif p.poll() is not None:
                break
        out = p.stdout.read()
        return out, seen, p.wait()
    finally:
        os.close(master)



def test_dump_and_restore_progress(cell, pair, tmp_path):
    f = str(tmp_path / "d.dump")
    out, seen, rc = _run_pty(cell, "dump", "root.cell", "-file", f, L)
    assert rc == 0 and b"\rvos dump: " in seen and b"Dumped volume root.cell in file" in seen
    # the progress line is cleared before the message
    assert b"\r\x1b[KDumped volume" in seen
    p = pair("prog")
    out, seen, rc = _run_pty(cell, "restore", cell.host, "a", p.k, "-file", f, L,
                             "-overwrite", "full")
    assert rc == 0 and b"vos restore: " in seen and out.startswith(b"Restoring volume")
    # without a terminal: nothing of it
    r = subprocess.run([*OURS, "dump", "root.cell", "-file", f, L], env=env(cell),
                       capture_output=True)
    assert b"\r" not in r.stderr and b"\x1b" not in r.stderr


def test_move_copy_release_backupsys_progress(cell, pair):
    h = cell.host
    p = pair("progm")
    out, seen, rc = _run_pty(cell, "move", p.k, h, "a", h, "b", L)
    assert rc == 0 and b"vos move: " in seen and b"moved from" in out
    out, seen, rc = _run_pty(cell, "copy", p.k, h, "b", p.k + ".c", h, "a", L)
    try:
        assert rc == 0 and b"vos copy: " in seen and b"copied from" in out
    finally:
        vos(cell, "remove", "-id", p.k + ".c")
    vos(cell, "addsite", h, "b", p.k)
    out, seen, rc = _run_pty(cell, "release", p.k, L)
    assert rc == 0 and out == b"Released volume %s successfully\n" % p.k.encode()
    out, seen, rc = _run_pty(cell, "backupsys", "-prefix", p.k, L)
    assert rc == 0 and b"\rbackupsys: " in seen and b"Total volumes backed up: 1" in out
