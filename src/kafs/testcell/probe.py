"""Does the file server serve a volume?  One RXAFS_FetchStatus of its root.

``vos examine`` says a volume is on-line from the volume server's side; a
demand-attach file server can still answer VBUSY for it (being salvaged
after an unclean shutdown, or still attaching after a start).  The test
cell is only healthy when the file server really serves root.cell.
"""

from __future__ import annotations

import asyncio


def fetch_status_code(host: str, port: int, volume_id: int, cell: str, timeout: float = 15) -> int | None:
    """0 when the file server returns the status of the volume's root
    directory, the abort code it answers otherwise, None when it does not
    answer within ``timeout`` seconds."""
    from ..client.callback import CallbackService
    from ..errors import AFSError, KafsError
    from ..rpc import afsint
    from ..rx.endpoint import Endpoint

    async def main() -> int:
        async with await Endpoint.open() as ep:
            CallbackService(cell=cell).install(ep)
            conn = ep.connection((host, port), afsint.RXAFS_SERVICE_ID)
            try:
                await afsint.RXAFS_FetchStatus(conn, afsint.AFSFid(volume_id, 1, 1))
            except AFSError as e:
                return e.code
            return 0

    try:
        return asyncio.run(asyncio.wait_for(main(), timeout))
    except (asyncio.TimeoutError, OSError, KafsError):      # no (usable) answer
        return None
