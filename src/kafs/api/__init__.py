"""The Python API the command suites are written on.

    import asyncio
    from kafs.api import Session
    async def main():
        async with await Session.open() as s:          # local cell, anonymous
            ...

Layering: ``kafs.api`` uses ``kafs.cell``, ``kafs.ubik``, ``kafs.rpc``,
``kafs.auth`` and ``kafs.rx``; the command modules (``kafs.cli``) use only
``kafs.api`` (and ``kafs.errors``).  Results are plain dataclasses.
Modules: ``session`` (endpoint, cell, security, connections); ``vldb``,
``volume`` (VLDB and volume server); ``pts``; ``bos``.
"""

from .session import AuthSpec, Session

__all__ = ["AuthSpec", "Session"]
