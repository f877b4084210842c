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
``volume`` (VLDB and volume server); ``volops`` (what vos does to volumes:
move, copy, release, backup, clone, restore, sites, locks... with OpenAFS's
transaction handling and messages); ``volsync`` (syncvldb/syncserv);
``pts``; ``bos``.
"""

# Names are loaded on first use (PEP 562): a tool imports only the modules
# of the servers it talks to.
from kafs._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, globals(), {
    "session": ("AuthSpec", "Session"),
    "vldb": ("VLDBEntry", "Site", "ServerAddrs", "list_volumes"),
    "volume": ("VolumeInfo", "VolumeXInfo", "PartitionInfo", "Transaction"),
    "pts": ("Pts", "PtsEntry"),
    "bos": ("Bos",),
}, submodules=True)
