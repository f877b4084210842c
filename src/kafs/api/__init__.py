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
from . import vldb, volume
from .vldb import VLDBEntry, Site, ServerAddrs, list_volumes
from .volume import VolumeInfo, VolumeXInfo, PartitionInfo, Transaction
__all__ += ["vldb", "volume", "VLDBEntry", "Site", "ServerAddrs", "list_volumes",
            "VolumeInfo", "VolumeXInfo", "PartitionInfo", "Transaction"]
from .pts import Pts, PtsEntry  # noqa: E402
from .bos import Bos  # noqa: E402
__all__ += ["Pts", "PtsEntry", "Bos"]
