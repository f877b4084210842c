"""kafs: the kAFS system in userspace Python.

Layers (each knows only those below it): cli -> api -> client/ubik/cell ->
rpc (generated from .xg) -> xdr/rxgen -> auth -> rx -> errors.
"""

__version__ = "0.1.0"
