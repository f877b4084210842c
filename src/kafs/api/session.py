"""A Session: one cell, one security choice, one Rx endpoint, and the
connections of a command (or a script) to that cell's servers.

The endpoint belongs to the running event loop, so a Session is opened and
closed inside one ``asyncio.run``.  Connections are made lazily and shared:
the VL and PT database servers go through Ubik clients (server choice,
failover, sync site); bosserver, volserver and fileserver connections are
per host.  Once it talks to a file server, the session also serves the
cache manager's callback service (RXAFSCB) on its endpoint, because a file
server calls back every client before it answers its first call.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ..cell import Cell
from ..errors import ConfigError

#: Rx dead time of vos's connections (protocol-notes section 1.9)
VOS_DEAD_TIME = 90.0
#: Rx dead time of ubik database connections used by our tools
UBIK_DEAD_TIME = 50.0


@dataclass
class AuthSpec:
    """How to authenticate, as the tools' -noauth/-localauth/-encrypt say.

    ``noauth``: rxnull, never look for a token.  ``localauth``: use the
    server's own keys (KeyFileExt...) to forge a ticket.  Otherwise the
    stored token for the cell is used, and without one the call runs
    unauthenticated with a warning.  ``encrypt``: rxkad crypt level instead
    of the tool's default.
    """

    noauth: bool = False
    localauth: bool = False
    encrypt: bool = False
    #: set by Session.open: True when a token was wanted but none could be
    #: had, so calls run unauthenticated.  Each tool prints its own warning
    #: for this, as OpenAFS's do ("vos: Could not get afs tokens, running
    #: unauthenticated.", "bos: running unauthenticated", libprot's two lines).
    unauthenticated: bool = False


class Session:
    """Use :meth:`open`; ``async with`` closes it."""

    def __init__(self, cell: Cell, endpoint, security, auth: AuthSpec, owns_endpoint: bool):
        self.cell = cell
        self.endpoint = endpoint
        self.security = security          # None == rxnull
        self.auth = auth
        self._owns_endpoint = owns_endpoint
        self._ubik: dict[str, Any] = {}
        self._conns: dict[tuple, Any] = {}
        self.callbacks = None

    @classmethod
    async def open(cls, cell: str | Cell | None = None, *, auth: AuthSpec | None = None,
                   confdir=None, endpoint=None, tool: str = "kafs") -> "Session":
        """Resolve the cell, choose the security class, open the endpoint.

        ``tool`` is the program name the auth layer may need for its
        messages ("vos", "pts", "bos").  Raises ConfigError for a cell that
        cannot be resolved and AFSError for authentication that fails.
        """
        auth = auth or AuthSpec()
        if not isinstance(cell, Cell):
            cell = Cell(cell, confdir=confdir, localauth=auth.localauth)
        from ..auth.select import client_security
        security = await client_security(cell, auth, tool)
        owns = endpoint is None
        if endpoint is None:
            from ..rx.endpoint import Endpoint
            endpoint = await Endpoint.open("0.0.0.0", 0)
        return cls(cell, endpoint, security, auth, owns)

    async def close(self) -> None:
        if self._owns_endpoint and self.endpoint is not None:
            await self.endpoint.close()
        self.endpoint = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    # -- database servers (Ubik) -------------------------------------------
    def ubik(self, service: str):
        """The Ubik client for "vlserver" or "ptserver" of this cell."""
        uc = self._ubik.get(service)
        if uc is None:
            from ..ubik import UbikClient
            servers = self.cell.servers(service)
            if not servers:
                raise ConfigError(f"no {service} found for cell {self.cell.name}")
            uc = UbikClient(servers, {"vlserver": 52, "ptserver": 73}[service],
                            self.security, _DeadTime(self.endpoint, UBIK_DEAD_TIME))
            self._ubik[service] = uc
        return uc

    @property
    def vl(self):
        return self.ubik("vlserver")

    @property
    def pt(self):
        return self.ubik("ptserver")

    # -- per-host servers --------------------------------------------------
    def connection(self, addr: tuple[str, int], service_id: int, *,
                   dead_time: float | None = None, security: Any = "session"):
        """A shared connection to one server (bosserver, volserver, fileserver)."""
        sec = self.security if security == "session" else security
        key = (addr, service_id, id(sec), dead_time)
        c = self._conns.get(key)
        if c is None:
            kw = {"dead_time": dead_time} if dead_time else {}
            c = self.endpoint.connection(addr, service_id, sec, **kw)
            self._conns[key] = c
        return c

    def bos(self, host: str):
        return self.connection(self.cell.bosserver(host), 1)

    def volser(self, host: str, dead_time: float = VOS_DEAD_TIME):
        return self.connection(self.cell.volserver(host), 4, dead_time=dead_time)

    def fileserver(self, host: str):
        """A file server connection; the first one starts our callback service
        (RXAFSCB on this endpoint), which the file server calls before it
        answers a new client.  Other tools never pay for importing it."""
        if self.callbacks is None:
            from ..client.callback import CallbackService
            self.callbacks = CallbackService(cell=self.cell.name)
            self.callbacks.install(self.endpoint)
        return self.connection(self.cell.fileserver(host), 1)


def checked_raw(raw, check):
    """``raw`` (an undecoded stub, :class:`kafs.rpc.runtime.Rpc`) that runs
    ``check(reply)`` inside the call, so that inside a Ubik call a server
    whose reply does not decode counts as failed and the next one is
    tried, as with the decoding stub."""
    @functools.wraps(raw)
    async def stub(conn, *args):
        data = await raw(conn, *args)
        check(data)
        return data

    return stub


async def pipelined_pages(fetch, next_index, *, start: int = 0, stuck=None,
                          max_pages: int | None = None):
    """Page through a listing RPC, one call ahead of the caller.

    ``fetch(index)`` makes the call for the page starting at ``index`` and
    returns its reply (typically the undecoded bytes, see
    :class:`kafs.rpc.runtime.Rpc`); ``next_index(reply)`` reads the index of
    the next page from it, -1 after the last page.  The replies are yielded
    in order, and the call for the next page is started before the current
    reply is yielded, so the server prepares it while the caller decodes and
    prints this one.  Only one call is ever in flight, as with plain paging.

    A next index that does not advance would make the listing loop for ever:
    the current reply is still yielded, then ``stuck()`` (an exception) is
    raised; likewise after ``max_pages`` pages.  An error of a call is
    raised where that page would have been yielded, after every earlier
    page.  Closing the generator early (use ``contextlib.aclosing``)
    cancels the call in flight, which aborts it.
    """
    from asyncio import ensure_future, sleep, wait
    index = start
    pages = 0
    task = ensure_future(fetch(index))
    try:
        while True:
            reply = await task
            task = None
            pages += 1
            nxt = next_index(reply)
            advances = nxt == -1 or (nxt > index and (max_pages is None or pages < max_pages))
            if nxt != -1 and advances:
                task = ensure_future(fetch(nxt))
                await sleep(0)          # one turn: the task starts and sends its request
            yield reply
            if not advances:
                raise stuck() if stuck is not None else RuntimeError(
                    "listing: next index %d does not advance past %d" % (nxt, index))
            if nxt == -1:
                return
            index = nxt
    finally:
        if task is not None:
            task.cancel()
            await wait((task,))
            if not task.cancelled():
                task.exception()        # retrieved: an abandoned page's error is moot


_END = float("inf")


async def strided_pages(fetch, next_index, decode, key, *, page_size: int = 0,
                        ahead: int = 3, stuck=None, max_pages: int | None = None):
    """Page through a listing whose index counts fixed-size database slots,
    several calls at once.

    For listings like PR_ListEntries: the page starting at slot ``s`` holds
    the matching entries of slots ``s..next-1``, and a page that is not the
    last holds as many entries as the server's page size, each in a slot of
    its own, so it spans at least that many slots.  With that size ``n``
    (``page_size``, or else learnt from the first page), the pages from
    slots 0, n, 2n... are asked for, up to ``ahead`` calls in flight: they
    cover the database without gaps, and the server (and Rx) work on them
    in parallel.  Where a page's slots overlap the slots already covered,
    the entries already yielded are dropped from it, found by ``key``; a
    page wholly inside the covered slots is dropped.  Should a server's
    pages span fewer slots than that, the gap is asked for before going on,
    so nothing is missed either way.

    ``fetch(index)`` returns a reply, ``next_index(reply)`` its next index
    (-1 after the last page), ``decode(reply)`` its list of entries.  The
    entries are yielded in database order, one list per page that adds
    any.  A page whose next index does not advance is yielded, then
    ``stuck()`` raised (likewise after ``max_pages`` pages that added
    slots), as with :func:`pipelined_pages`.  An error raises where that
    page would have been yielded, after every earlier page; the error of a
    call the sequential listing would not have made (one starting inside
    the covered slots, or beyond the end) costs only a call from the
    covered end instead.  Closing the generator early cancels every call in
    flight; so does the last page.

    Each call is its own server transaction, as with one-at-a-time paging:
    an entry created or deleted during the listing may or may not appear,
    and none appears twice.
    """
    from asyncio import ensure_future, sleep, wait
    from collections import deque

    stride = page_size
    covered = 0                          # slots 0..covered-1 are listed
    recent: deque = deque()              # [end slot, entries, keys] of pages that may overlap
    queue: deque = deque()               # (start slot, task), in slot order
    in_flight: set = set()               # calls not yet answered (nor given up)
    issue_at = 0
    pages = 0
    stopping = False
    most = max(ahead, 1)
    last_start = _END                    # a page from here reached the end

    def landed(task, start):
        nonlocal last_start
        in_flight.discard(task)
        if not task.cancelled() and task.exception() is None and start < last_start \
                and next_index(task.result()) == -1:
            # nothing matches beyond this page: calls for later slots are moot
            last_start = start
            drop([t for s, t in queue if s > start])
            queue_keep(start)
        top_up()                         # a call ended: start the next one now

    def queue_keep(limit):
        kept = [(s, t) for s, t in queue if s <= limit]
        queue.clear()
        queue.extend(kept)

    def issue(start, front=False):
        task = ensure_future(fetch(start))
        in_flight.add(task)
        task.add_done_callback(lambda t, start=start: landed(t, start))
        if front:
            queue.appendleft((start, task))
        else:
            queue.append((start, task))

    def top_up():
        # up to ``ahead`` calls in flight; pages that arrived ahead of the
        # one the caller waits for are held, at most 2 * ahead of them
        nonlocal issue_at
        if stopping or covered == _END:
            return
        if stride <= 0:                  # page size unknown (or 0): one call at a time
            if not queue:
                issue(covered)
            return
        if issue_at < covered:
            issue_at = covered
        while len(in_flight) < most and len(queue) < 2 * most and \
                (issue_at <= last_start or issue_at == covered):
            issue(issue_at)
            issue_at += stride

    def drop(tasks):
        for t in tasks:
            t.cancel()
            in_flight.discard(t)
            dropped.append(t)

    dropped: list = []                   # cancelled calls, awaited at the end
    try:
        top_up()
        while queue:
            await sleep(0)               # new calls start and send their requests
            start, task = queue[0]
            if start > covered:          # a page spanned fewer slots: fill the gap
                issue(covered, front=True)
                continue
            try:                         # (the head stays queued while awaited)
                reply = await task
            except Exception:
                if start == covered:
                    raise
                queue.popleft()
                issue(covered, front=True)   # a call the sequential listing
                continue                     # would not have made: ask again
            finally:
                in_flight.discard(task)      # its done callback may not have run yet
            queue.popleft()
            nxt = next_index(reply)
            end = _END if nxt == -1 else nxt
            entries = None
            bad = nxt != -1 and nxt <= start
            if end > covered or bad:
                entries = decode(reply)
                if nxt != -1 and (len(entries) < stride or stride <= 0):
                    # the server's pages are this small: re-plan the calls
                    # beyond this page (one at a time if it had no entries)
                    stride = len(entries)
                    lim = max(end, covered)
                    drop([t for s, t in queue if s > lim])
                    queue_keep(lim)
                    issue_at = queue[-1][0] + max(stride, 1) if queue else lim
                    last_start = _END    # learnt from a call that may be gone now
                while recent and recent[0][0] <= start:
                    recent.popleft()
                if start < covered:      # drop what the earlier pages listed
                    seen = set()
                    for r in recent:
                        if r[2] is None:
                            r[2] = {key(e) for e in r[1]}
                        seen |= r[2]
                    entries = [e for e in entries if key(e) not in seen]
                if end > covered:
                    pages += 1
                    covered = end
                    if nxt != -1:        # its keys are made only if a later page overlaps
                        recent.append([end, entries, None])
                if max_pages is not None and pages >= max_pages and nxt != -1:
                    bad = True
            if nxt == -1:                # the end: nothing more to ask for
                stopping = True
                drop([t for _, t in queue])
                queue.clear()
            elif not bad:
                top_up()
            if entries:
                yield entries
            if bad:
                raise stuck() if stuck is not None else RuntimeError(
                    "listing: next index %d does not advance past %d" % (nxt, start))
            if nxt == -1:
                return
            if not queue:
                top_up()
    finally:
        stopping = True
        live = [t for _, t in queue]
        for t in live:
            t.cancel()
        live += dropped
        if live:
            await wait(live)
            for t in live:
                if not t.cancelled():
                    t.exception()        # retrieved: an abandoned page's error is moot


class _DeadTime:
    """An endpoint view whose connections carry a given Rx dead time."""

    def __init__(self, endpoint, dead_time: float):
        self._ep = endpoint
        self._dead = dead_time

    def connection(self, addr, service_id, security=None, **kw):
        kw.setdefault("dead_time", self._dead)
        return self._ep.connection(addr, service_id, security, **kw)
