"""Ubik: the client side of OpenAFS's replicated databases (VL, PT, BU).

>>> from kafs.cell import Cell
>>> from kafs.ubik import UbikClient
>>> from kafs.rpc import vl
>>> uc = UbikClient.for_cell(Cell(), "vlserver", endpoint)      # service 52
>>> entry = await uc.call(vl.VL_GetEntryByNameN, "root.cell")
>>> await uc.call(vl.VL_SetLock, volid, -1, 1)                    # goes to the sync site
"""

from .client import (MAXSERVERS, SERVICE_IDS, UNOQUORUM, UNOSERVERS, UNOTSYNC,
                     WRITE_PROCEDURES, Attempt, UbikClient)

__all__ = ["UbikClient", "Attempt", "UNOQUORUM", "UNOTSYNC", "UNOSERVERS",
           "MAXSERVERS", "SERVICE_IDS", "WRITE_PROCEDURES"]
