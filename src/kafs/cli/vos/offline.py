"""vos offline: take a volume off line (or busy) for a while (vos.c
volOffline, vsprocs.c UV_SetVolume)."""

from __future__ import annotations

from ._common import done_json as to_json, outcome_exit as exit_code, run_async  # noqa: F401
from .online import set_state


async def _run(args):
    return await set_state(args, False)


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
