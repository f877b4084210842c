"""kafs.testcell: a real OpenAFS 1.8.9 cell and MIT KDC on loopback, for tests.

    from kafs.testcell import TestCell
    info = TestCell().up()        # idempotent: ~1 s when the cell is healthy
    info.host, info.ports["vlserver"], info.admin_keytab, info.bin("vos")

Command line: ``kafs-testcell up|down|status|env|purge|loss PERCENT|loss off``.
Stdlib only (it must run before anything else of kafs works).
"""

from .cell import CellInfo, TestCell, TestCellError, env_vars
from .loss import LossError

__all__ = ["CellInfo", "TestCell", "TestCellError", "LossError", "env_vars"]
