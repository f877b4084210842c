"""Choosing the client security class for a cell, as the tools' switches say.

``client_security(cell, auth, tool)`` returns the security object for Rx
connections (None = rxnull):

* ``-noauth``: rxnull.
* ``-localauth``: a ticket forged with the server's own key (not yet).
* otherwise: the stored token for the cell (not yet: no token store), and
  without one rxnull with ``auth.unauthenticated`` set, so the tool prints
  its warning.
"""

from __future__ import annotations

from ..errors import ConfigError


async def client_security(cell, auth, tool: str):
    if auth.noauth:
        return None
    if auth.localauth:
        raise ConfigError("-localauth is not supported by kafs yet")
    auth.unauthenticated = True
    return None
