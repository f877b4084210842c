"""Waiting out a busy volume, as a cache manager does.

A file server answers "try again" while a volume cannot be served for a
moment: VBUSY (110) while it is being attached, moved or demand-salvaged,
VSALVAGING (113) on a demand-attach server, VRESTARTING (-100) while the
server is still attaching its volumes after a start.  OpenAFS's cache
manager sleeps and retries these ("waiting for busy volume"); anything else
is an answer.  :func:`call_retrying_busy` does the same, within a bounded
total wait.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, TypeVar

from ..errors import RemoteAbort

VBUSY = 110
VSALVAGING = 113
VRESTARTING = -100
BUSY_CODES = frozenset({VBUSY, VSALVAGING, VRESTARTING})

T = TypeVar("T")


async def call_retrying_busy(make_call: Callable[[], Awaitable[T]], *, wait: float = 60.0,
                             interval: float = 1.0,
                             sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """Run ``make_call()`` until it gives something other than a busy abort.

    ``make_call`` builds a new call each time (a coroutine can be awaited
    once).  After ``wait`` seconds of busy answers the last one is raised.
    """
    waited = 0.0
    while True:
        try:
            return await make_call()
        except RemoteAbort as e:
            if e.code not in BUSY_CODES or waited >= wait:
                raise
        await sleep(interval)
        waited += interval
