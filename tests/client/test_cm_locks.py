"""Advisory locks on the file server (SetLock / ExtendLock / ReleaseLock)
through the cache manager library, between two clients."""

from __future__ import annotations

import asyncio
import errno
import uuid

import pytest

from kafs.client.creds import Cred
from kafs.client.errmap import FSError

pytestmark = pytest.mark.cell
C = Cred(0)


def test_server_locks_between_two_clients(cell, cm_factory):
    name = ("lk-" + uuid.uuid4().hex[:8]).encode()

    async def main():
        async with cm_factory() as a, cm_factory() as b:
            ra = await a.volume_root(cell.cell, "root.cell", cred=C)
            fa = await a.create(ra, name, 0o644, C)
            rb = await b.volume_root(cell.cell, "root.cell", cred=C)
            fb = await b.lookup(rb, name, C)
            await a.set_lock(fa, True, C)                      # a holds a write lock
            with pytest.raises(FSError) as e:
                await b.set_lock(fb, False, C)                 # b cannot read-lock
            assert e.value.errno in (errno.EAGAIN, errno.EWOULDBLOCK)
            await a.extend_lock(fa, C)
            st = await a.validate(fa, C, force=True)
            assert st.lock_count == -1                        # a write lock, as the server says
            await a.release_lock(fa, C)
            await b.set_lock(fb, False, C)                     # now it can
            await a.set_lock(fa, False, C)                     # read locks share
            st = await b.validate(fb, C, force=True)
            assert st.lock_count == 2
            await a.release_lock(fa, C)
            await b.release_lock(fb, C)
            await a.unlink(ra, name, C)
    asyncio.run(main())
