"""call_retrying_busy: busy answers are waited out, others are not."""

import asyncio

import pytest

from kafs.client.busy import VBUSY, VRESTARTING, VSALVAGING, call_retrying_busy
from kafs.errors import RemoteAbort


def _run(answers, **kw):
    """Feed the helper a scripted series of answers; return (result, calls, slept)."""
    calls, slept = [], []
    it = iter(answers)

    async def make_call():
        calls.append(1)
        a = next(it)
        if isinstance(a, int):
            raise RemoteAbort(a)
        return a

    async def sleep(t):
        slept.append(t)

    async def main():
        return await call_retrying_busy(make_call, sleep=sleep, **kw)
    return asyncio.run(main()), len(calls), slept


@pytest.mark.parametrize("code", [VBUSY, VSALVAGING, VRESTARTING])
def test_busy_codes_are_retried(code):
    r, n, slept = _run([code, code, "ok"], interval=0.5)
    assert (r, n, slept) == ("ok", 3, [0.5, 0.5])


def test_other_aborts_are_raised_at_once():
    with pytest.raises(RemoteAbort) as e:
        _run([103, "ok"])                         # VNOVOL
    assert e.value.code == 103


def test_the_wait_is_bounded():
    with pytest.raises(RemoteAbort) as e:
        _run([VBUSY] * 100, wait=3, interval=1)
    assert e.value.code == VBUSY


def test_bounded_wait_counts_sleeps():
    calls = []

    async def make_call():
        calls.append(1)
        raise RemoteAbort(VBUSY)

    async def sleep(t):
        pass

    with pytest.raises(RemoteAbort):
        asyncio.run(call_retrying_busy(make_call, wait=5, interval=1, sleep=sleep))
    assert len(calls) == 6                         # the first try plus 5 one-second waits
