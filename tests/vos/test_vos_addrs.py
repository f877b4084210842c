"""vos setaddrs, changeaddr, remaddrs on made-up file server entries
(each tool its own UUID and loopback addresses nobody serves), OpenAFS's
and ours side by side; listaddrs shows the same effect."""

from __future__ import annotations

import pytest

from ._pair import run
from .conftest import assert_same, run_both

L = "-localauth"
UUIDS = {"openafs": "00abcdef-0000-11ee-91-aa-010000000001",
         "kafs": "00abcdef-0000-11ee-91-aa-010000000002"}
ADDRS = {"openafs": ("127.1.7.1", "127.1.7.2", "127.1.7.3"),
         "kafs": ("127.1.8.1", "127.1.8.2", "127.1.8.3")}


def _norm(t, prog):
    def m(b):
        b = b.replace(UUIDS[prog].encode(), b"<UUID>")
        for i, a in enumerate(ADDRS[prog]):
            b = b.replace(a.encode(), b"<A%d>" % i)
        return b
    return (m(t[0]), m(t[1]), t[2])


def _both(cell, *args):
    out = {}
    for prog in ("openafs", "kafs"):
        a = [x.format(u=UUIDS[prog], a0=ADDRS[prog][0], a1=ADDRS[prog][1], a2=ADDRS[prog][2])
             for x in args]
        out[prog] = _norm(run(cell, prog, *a), prog)
    assert_same(out["openafs"], out["kafs"], args)
    return out


@pytest.fixture
def fake_servers(cell):
    def clean():
        for prog in UUIDS:
            run(cell, "openafs", "remaddrs", UUIDS[prog], L)
    clean()
    yield
    clean()


def test_setaddrs_changeaddr_remaddrs(cell, fake_servers):
    _both(cell, "setaddrs", "{u}", "-host", "{a0}", "{a1}", L, "-verbose", "-noresolve")
    o = _both(cell, "listaddrs", "-uuid", "{u}", "-printuuid", "-noresolve", L)
    assert b"<A0>" in o["kafs"][0] and b"<A1>" in o["kafs"][0]
    _both(cell, "changeaddr", "{a0}", "{a2}", L)           # multi-homed: refused
    _both(cell, "changeaddr", "{a0}", "{a2}", "-force", L)
    _both(cell, "listaddrs", "-uuid", "{u}", "-noresolve", L)
    _both(cell, "changeaddr", "{a0}", "-remove", L)        # no longer there
    _both(cell, "remaddrs", "{u}", L, "-verbose", "-noresolve")
    _both(cell, "remaddrs", "{u}", L)                      # gone


@pytest.mark.parametrize("args", [
    ("changeaddr", "127.1.9.1", L), ("changeaddr", "127.1.9.1", "127.1.9.2", "-remove", L),
    ("changeaddr", "nosuch.invalid", "-remove", L),
    ("changeaddr", "127.1.9.1", "-remove", "-noresolve", L),
    ("changeaddr", "127.1.9.1", "127.1.9.2", "-noauth"),
    ("setaddrs", "not-a-uuid", "-host", "127.1.9.1", L),
    ("setaddrs", "00abcdef-0000-11ee-91-aa-010000000009", "-host", "nosuch.invalid", L),
    ("setaddrs", "00abcdef-0000-11ee-91-aa-010000000009", "-host", "127.1.0.1", L),
    ("remaddrs", "not-a-uuid", L), ("remaddrs", "00abcdef-0000-11ee-91-aa-010000000009", L),
])
def test_errors_identical(vos_cell, args):
    o, k = run_both(vos_cell, *args)
    assert_same(o, k, args)


@pytest.mark.parametrize("uuid", [
    "00abcdef-0000-11ee-91-aa-01-00-00-00-00-01",   # sscanf reads "-0" as a number
    "00abcdef-0000-11ee-91-aa-0100000000", "x", "1-2-3-4-5-6", " 1-2-3-4-5-060708090a0b",
])
def test_odd_uuids_identical(vos_cell, uuid):
    args = ("remaddrs", uuid, L)
    o, k = run_both(vos_cell, *args)
    assert_same(o, k, args)
