"""Lazy re-exports for packages (PEP 562 module ``__getattr__``).

A package that re-exports names of its submodules imports each submodule
only when one of its names is first used, so a tool that needs one part of
a package does not pay for importing the rest at start-up::

    from kafs._lazy import lazy_exports
    __all__, __getattr__ = lazy_exports(__name__, globals(), {
        "cell": ("Cell", "Server"),          # submodule -> names it exports
    })
"""

from __future__ import annotations

import importlib


def lazy_exports(package: str, namespace: dict, exports: dict[str, tuple[str, ...]], *,
                 submodules: bool = False):
    """Returns ``(__all__, __getattr__)`` for ``package``.  A value, once
    loaded, is stored in ``namespace`` (the package's globals), so later
    lookups do not come back here.  With ``submodules`` the submodule names
    themselves (``kafs.api.vldb``) are attributes too."""
    where: dict[str, str | None] = {name: mod for mod, names in exports.items()
                                    for name in names}
    if submodules:
        where.update({mod: None for mod in exports})

    def __getattr__(name):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        mod = where[name]
        if mod is None:
            value = importlib.import_module(f".{name}", package)
        else:
            value = getattr(importlib.import_module(f".{mod}", package), name)
        namespace[name] = value
        return value

    return sorted(where), __getattr__
