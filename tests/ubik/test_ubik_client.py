"""Server choice, rotation and retry rules of kafs.ubik.UbikClient.

The connections here are test doubles of the call interface only
(``FakeEndpoint``/``FakeConn``): scripted per server address, so the rules
of protocol-notes section 5.2 can be checked attempt by attempt.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from kafs.errors import AFSError, CallDead, CallTimeout, DecodeError, RemoteAbort
from kafs.ubik import UNOQUORUM, UNOSERVERS, UNOTSYNC, UbikClient

A, B, C, D = (("10.0.0.1", 7003), ("10.0.0.2", 7003), ("10.0.0.3", 7003), ("10.0.0.4", 7003))
VL_NOENT = 363524

HANG = object()


class FakeConn:
    """Test double for an Rx connection: records its calls."""

    def __init__(self, ep, addr, service_id, security):
        self.ep, self.addr, self.service_id, self.security = ep, addr, service_id, security


class FakeEndpoint:
    """Test double for ``Endpoint.connection``; ``script[addr]`` says what each call does:
    a value to return, an exception to raise, HANG, or a list of those consumed in order."""

    def __init__(self, script):
        self.script = dict(script)
        self.made = []
        self.calls = []

    def connection(self, addr, *, service_id, security):
        c = FakeConn(self, tuple(addr), service_id, security)
        self.made.append(c)
        return c

    async def run(self, conn, *args):
        self.calls.append(conn.addr)
        what = self.script[conn.addr]
        if isinstance(what, list):
            what = what.pop(0) if len(what) > 1 else what[0]
        if what is HANG:
            await asyncio.sleep(3600)
        if isinstance(what, BaseException):
            raise what
        return what


async def VL_GetEntryByNameN(conn, name):
    """A read stub shaped like the generated ones."""
    return await conn.ep.run(conn, name)


async def VL_SetLock(conn, volid):
    """A write stub (name in WRITE_PROCEDURES)."""
    return await conn.ep.run(conn, volid)


async def PR_Other(conn):
    return await conn.ep.run(conn)


def run(coro):
    return asyncio.run(coro)


def uc_for(script, servers=None, **kw):
    ep = FakeEndpoint(script)
    kw.setdefault("rotate", False)
    return UbikClient(servers or list(script), 52, "SECRET-SECURITY-OBJECT", ep, **kw), ep


def outcomes(uc):
    return [(a.addr, a.outcome) for a in uc.last_attempts]


# -- construction ---------------------------------------------------------------

def test_rotation_is_a_random_rotation():
    servers = [A, B, C, D]
    seen = set()
    for seed in range(40):
        uc = UbikClient(servers, 52, None, FakeEndpoint({}), rng=random.Random(seed))
        j = (len(servers) - uc.servers.index(A)) % len(servers)
        assert uc.servers == servers[j:] + servers[:j]
        seen.add(j)
    assert seen == {0, 1, 2, 3}
    assert UbikClient(servers, 52, None, FakeEndpoint({}), rotate=False).servers == servers


def test_construction_rules():
    ep = FakeEndpoint({})
    assert UbikClient([A, A, B], 52, None, ep, rotate=False).servers == [A, B]
    many = [(f"10.1.0.{i}", 7003) for i in range(25)]
    assert len(UbikClient(many, 52, None, ep).servers) == 20
    with pytest.raises(ValueError):
        UbikClient([], 52, None, ep)
    with pytest.raises(ValueError):
        UbikClient([A], 52, None, None)

    class S:
        addr = ("10.0.0.9", 7002)
    assert UbikClient([S()], 73, None, ep).servers == [("10.0.0.9", 7002)]


def test_connections_get_service_and_security_and_repr_hides_security():
    uc, ep = uc_for({A: "entry"})
    assert run(uc.call(VL_GetEntryByNameN, "root.cell")) == "entry"
    assert run(uc.call(VL_GetEntryByNameN, "root.cell")) == "entry"
    assert len(ep.made) == 1                    # reused
    assert ep.made[0].service_id == 52
    assert ep.made[0].security == "SECRET-SECURITY-OBJECT"
    assert "SECRET" not in repr(uc)


# -- rotation on communication failure ---------------------------------------

def test_dead_server_is_skipped_next_time():
    uc, ep = uc_for({A: CallDead(), B: "ok"})
    assert run(uc.call(VL_GetEntryByNameN, "x")) == "ok"
    assert outcomes(uc) == [(A, "down"), (B, "ok")]
    assert uc.down == [A]
    assert run(uc.call(VL_GetEntryByNameN, "x")) == "ok"
    assert outcomes(uc) == [(B, "ok")]          # pass 0 skips the down server


@pytest.mark.parametrize("exc", [CallDead(), CallTimeout(), RemoteAbort(-100),
                                 RemoteAbort(-455), DecodeError("short reply"),
                                 ConnectionRefusedError(111, "Connection refused")])
def test_negative_codes_and_transport_errors_rotate(exc):
    uc, ep = uc_for({A: exc, B: "ok"})
    assert run(uc.call(VL_GetEntryByNameN, "x")) == "ok"
    assert outcomes(uc)[0] == (A, "down")


def test_all_dead_two_passes_then_last_error():
    uc, ep = uc_for({A: CallDead("a"), B: CallTimeout("b")})
    with pytest.raises(CallTimeout):
        run(uc.call(VL_GetEntryByNameN, "x"))
    assert outcomes(uc) == [(A, "down"), (B, "down"), (A, "down"), (B, "down")]
    # both now down: pass 0 tries nothing, pass 1 tries both
    with pytest.raises(CallTimeout):
        run(uc.call(VL_GetEntryByNameN, "x"))
    assert outcomes(uc) == [(A, "down"), (B, "down")]


def test_down_server_comes_back_in_pass_1():
    uc, ep = uc_for({A: CallDead(), B: CallDead()})
    with pytest.raises(CallDead):
        run(uc.call(VL_GetEntryByNameN, "x"))
    ep.script[A] = "back"
    assert run(uc.call(VL_GetEntryByNameN, "x")) == "back"
    assert outcomes(uc) == [(A, "ok")]           # pass 1 found A up again
    assert uc.down == [B]


def test_os_error_becomes_call_dead():
    uc, ep = uc_for({A: OSError(101, "Network is unreachable")})
    with pytest.raises(CallDead) as ei:
        run(uc.call(VL_GetEntryByNameN, "x"))
    assert "Network is unreachable" in str(ei.value)


def test_connection_is_remade_after_failure():
    uc, ep = uc_for({A: CallDead(), B: CallDead()})
    with pytest.raises(CallDead):
        run(uc.call(VL_GetEntryByNameN, "x"))
    n = len(ep.made)
    ep.script[A] = "ok"
    run(uc.call(VL_GetEntryByNameN, "x"))
    assert len(ep.made) == n + 1


# -- answers that end the call ------------------------------------------------------

def test_application_error_is_final_and_marks_up():
    uc, ep = uc_for({A: RemoteAbort(VL_NOENT), B: "never"})
    with pytest.raises(RemoteAbort) as ei:
        run(uc.call(VL_GetEntryByNameN, "nosuchvolume"))
    assert ei.value.code == VL_NOENT
    assert outcomes(uc) == [(A, "error")]
    assert uc.down == []


def test_other_ubik_error_is_final():
    uc, ep = uc_for({A: RemoteAbort(5385), B: "never"})     # UBADHOST
    with pytest.raises(RemoteAbort):
        run(uc.call(VL_GetEntryByNameN, "x"))
    assert len(uc.last_attempts) == 1


# -- UNOQUORUM / UNOTSYNC / sync site ------------------------------------------

def test_noquorum_moves_on_without_marking_down():
    uc, ep = uc_for({A: RemoteAbort(UNOQUORUM), B: RemoteAbort(UNOQUORUM)})
    with pytest.raises(RemoteAbort) as ei:
        run(uc.call(VL_GetEntryByNameN, "x"))
    assert ei.value.code == UNOQUORUM
    assert outcomes(uc) == [(A, "noquorum"), (B, "noquorum")] * 2
    assert uc.down == []


def test_notsync_learns_the_procedure_and_the_sync_site():
    uc, ep = uc_for({A: RemoteAbort(UNOTSYNC), B: RemoteAbort(UNOTSYNC), C: "written"})
    assert run(uc.call(PR_Other)) == "written"
    assert outcomes(uc) == [(A, "notsync"), (B, "notsync"), (C, "ok")]
    assert uc.sync_site == C
    # the same procedure now goes straight to the sync site
    assert run(uc.call(PR_Other)) == "written"
    assert outcomes(uc) == [(C, "ok")]
    # a read still starts at the head of the list
    ep.script[A] = "read"
    assert run(uc.call(VL_GetEntryByNameN, "x")) == "read"
    assert outcomes(uc) == [(A, "ok")]


def test_known_write_procedure_remembers_sync_site_on_first_success():
    uc, ep = uc_for({A: RemoteAbort(UNOTSYNC), B: "locked", C: "never"})
    assert run(uc.call(VL_SetLock, 536870912)) == "locked"
    assert uc.sync_site == B
    assert run(uc.call(VL_SetLock, 536870912)) == "locked"
    assert outcomes(uc) == [(B, "ok")]


def test_write_option():
    uc, ep = uc_for({A: "ok", B: "ok"})
    run(uc.call(PR_Other, write=True))
    assert uc.sync_site == A
    uc2, _ = uc_for({A: "ok"})
    run(uc2.call(VL_SetLock, 1, write=False))
    assert uc2.sync_site is None


def test_sync_site_failure_falls_back_and_moves():
    uc, ep = uc_for({A: RemoteAbort(UNOTSYNC), B: RemoteAbort(UNOTSYNC), C: "ok"})
    run(uc.call(VL_SetLock, 1))
    assert uc.sync_site == C
    # the sync site dies and B takes over
    ep.script.update({C: CallDead(), B: "ok-from-b"})
    assert run(uc.call(VL_SetLock, 1)) == "ok-from-b"
    # jump to C (dead), then past the end in pass 0; pass 1: A notsync, B ok
    assert outcomes(uc) == [(C, "down"), (A, "notsync"), (B, "ok")]
    assert uc.sync_site == B


def test_failed_write_forgets_sync_site():
    uc, ep = uc_for({A: "ok"})
    run(uc.call(VL_SetLock, 1))
    assert uc.sync_site == A
    ep.script[A] = RemoteAbort(VL_NOENT)
    with pytest.raises(RemoteAbort):
        run(uc.call(VL_SetLock, 1))
    assert uc.sync_site is None


# -- bounds --------------------------------------------------------------------------

def test_attempts_are_bounded():
    servers = [(f"10.2.0.{i}", 7003) for i in range(1, 6)]
    uc, ep = uc_for({s: RemoteAbort(UNOTSYNC) for s in servers})
    with pytest.raises(RemoteAbort):
        run(uc.call(VL_SetLock, 1))
    assert len(uc.last_attempts) == 2 * len(servers)
    uc2, _ = uc_for({s: CallDead() for s in servers}, max_attempts=3)
    with pytest.raises(CallDead):
        run(uc2.call(VL_GetEntryByNameN, "x"))
    assert len(uc2.last_attempts) == 3


def test_no_attempt_at_all_is_unoservers():
    uc, ep = uc_for({A: "ok"}, max_attempts=0)
    with pytest.raises(AFSError) as ei:
        run(uc.call(VL_GetEntryByNameN, "x"))
    assert ei.value.code == UNOSERVERS
    assert ei.value.message == "no servers appear to be up"


def test_attempt_timeout_rotates():
    uc, ep = uc_for({A: HANG, B: "ok"}, attempt_timeout=0.05)
    assert run(uc.call(VL_GetEntryByNameN, "x")) == "ok"
    assert [(a.addr, a.outcome, a.code) for a in uc.last_attempts] == [
        (A, "down", -3), (B, "ok", 0)]


def test_deadline_bounds_the_whole_call():
    """The deadline runs on the client's clock (a fake one here, so a slow
    machine changes nothing): each attempt that hangs uses up its limit, and
    the last one gets only what is left of the deadline."""
    now = [0.0]
    uc, ep = uc_for({A: HANG, B: HANG, C: HANG}, deadline=0.15, attempt_timeout=0.1,
                    clock=lambda: now[0])
    limits = []
    real_attempt = uc._attempt

    async def attempt(i, stub, args, kwargs, limit):
        limits.append(limit)
        now[0] += limit                 # the attempt hangs for its whole limit
        return await real_attempt(i, stub, args, kwargs, limit)
    uc._attempt = attempt
    with pytest.raises(CallTimeout):
        run(uc.call(VL_GetEntryByNameN, "x"))
    assert limits == [0.1, pytest.approx(0.05)]  # 0.1 s, then the 0.05 s left
    assert [(a.addr, a.outcome) for a in uc.last_attempts] == [(A, "down"), (B, "down")]


def test_cancellation_propagates():
    uc, ep = uc_for({A: HANG})

    async def go():
        t = asyncio.ensure_future(uc.call(VL_GetEntryByNameN, "x"))
        await asyncio.sleep(0.01)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
    run(go())


def test_for_cell():
    class FakeCell:
        def servers(self, service):
            assert service == "ptserver"
            return [type("S", (), {"addr": ("10.0.0.5", 7002)})()]
    uc = UbikClient.for_cell(FakeCell(), "ptserver", FakeEndpoint({}))
    assert uc.service_id == 73 and uc.servers == [("10.0.0.5", 7002)]
    with pytest.raises(ValueError):
        UbikClient.for_cell(FakeCell(), "fileserver", FakeEndpoint({}))
