"""vos convertROtoRW, OpenAFS's and ours side by side: after the RW
volume is lost (zapped), the released RO becomes the RW."""

from __future__ import annotations

import re

import pytest

from ._pair import vos
from .conftest import assert_same, run_both

L = "-localauth"



def test_convert_ro_to_rw(pair, cell):
    h = cell.host
    p = pair("conv")
    p.setup("addsite", h, "a", "{v}")
    p.setup("release", "{v}")
    p.compare("convertROtoRW", h, "a", "{v}", L)               # RW exists: asks; EOF = no
    p.compare("convertROtoRW", h, "a", "{v}", L, input=b"n\n")
    for n in (p.o, p.k):                                       # lose the RW
        vid = re.search(r"RWrite: (\d+)", vos(cell, "listvldb", "-name", n).stdout).group(1)
        assert vos(cell, "zap", h, "a", vid).returncode == 0
    p.compare("convertROtoRW", h, "a", "{v}", L, "-force")
    ex = vos(cell, "examine", p.k).stdout
    assert " RW " in ex and "On-line" in ex
    p.compare("convertROtoRW", h, "a", "{v}", L, "-force")     # no RO any more


@pytest.mark.parametrize("args", [
    ("convertROtoRW", "afs1", "a", "kt.nosuch", L), ("convertROtoRW", "afs1", "q", "x", L),
    ("convertROtoRW", "nosuch.invalid", "a", "x", L),
])
def test_errors_identical(vos_cell, args):
    o, k = run_both(vos_cell, *args)
    assert_same(o, k, args)
