"""kafs-testcell: run the project's OpenAFS test cell.

    kafs-testcell up        install (if needed), create, start, repair; fast when healthy
    kafs-testcell status    summary; exit 0 when healthy, 1 otherwise
    kafs-testcell env       shell export lines (eval "$(kafs-testcell env)")
    kafs-testcell down      stop everything it started (state kept)
    kafs-testcell purge     down + delete all cell and realm state (packages kept)
    kafs-testcell loss N    drop N% of UDP packets to/from the servers (nftables)
    kafs-testcell loss off  remove the loss rule

Errors print one line on stderr (a traceback only with KAFS_DEBUG=1).
"""

from __future__ import annotations

import os
import shlex
import sys

from . import debian
from .cell import TestCell, TestCellError, env_vars
from .loss import LossError

USAGE = __doc__.split("\n\n")[1]


def _main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    cmd, args = argv[0], argv[1:]
    cell = TestCell()
    if cmd == "up" and not args:
        info = cell.up()
        print(f"cell {info.cell} is up: servers on {info.host}, realm {info.realm}, "
              f"admin keytab {info.admin_keytab}")
        print(f'use: eval "$(kafs-testcell env)"; bos status {info.host} -localauth')
        return 0
    if cmd == "down" and not args:
        cell.down()
        return 0
    if cmd == "purge" and not args:
        cell.purge()
        return 0
    if cmd == "status" and not args:
        ok, text = cell.status_text()
        print(text)
        return 0 if ok else 1
    if cmd == "env" and not args:
        for k, v in env_vars(cell.info()).items():
            print(f"export {k}={shlex.quote(v)}")
        return 0
    if cmd == "loss" and len(args) == 1:
        if args[0] in ("off", "0", "clear"):
            cell.clear_loss()
            print("loss: off")
        else:
            try:
                pct = int(args[0].rstrip("%"))
            except ValueError:
                raise LossError(f"loss: expected a percentage or 'off', not {args[0]!r}") from None
            cell.set_loss(pct)
            print(f"loss: {pct}% of UDP packets to/from {cell.info().host}")
        return 0
    print(f"kafs-testcell: bad command {' '.join(argv)!r}\n{USAGE}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("kafs-testcell: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - one line for the operator, traceback on request
        if os.environ.get("KAFS_DEBUG") == "1":
            raise
        msg = str(e).strip().replace("\n", " ") or type(e).__name__
        if not isinstance(e, (TestCellError, LossError, debian.InstallError)):
            msg = f"{type(e).__name__}: {msg}"
        print(f"kafs-testcell: error: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
