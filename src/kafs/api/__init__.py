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

# Names are loaded on first use (PEP 562): a tool imports only the modules
# of the servers it talks to.
_EXPORTS = {
    "session": ("AuthSpec", "Session"),
    "vldb": ("VLDBEntry", "Site", "ServerAddrs", "list_volumes"),
    "volume": ("VolumeInfo", "VolumeXInfo", "PartitionInfo", "Transaction"),
    "pts": ("Pts", "PtsEntry"),
    "bos": ("Bos",),
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}
_WHERE.update({mod: None for mod in _EXPORTS})
__all__ = sorted(_WHERE)


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    mod = _WHERE[name]
    if mod is None:                       # a submodule itself: kafs.api.vldb
        value = importlib.import_module(f".{name}", __name__)
    else:
        value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value
