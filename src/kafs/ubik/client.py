"""The Ubik client: run an RPC against a replicated database server set.

Behaviour of OpenAFS 1.8.9's rxgen-generated ``ubik_<PROC>`` wrappers and
``ubik_ClientInit`` (protocol-notes section 5.2), as facts:

* the server list (at most 20) is put in a random rotated order once, so
  that clients spread over the servers;
* a call makes two passes over the list: pass 0 skips servers marked down,
  pass 1 tries every server;
* a negative code (Rx or rxgen: -1 dead, -3 timeout, -100 restarting,
  -45x...) marks the server down and moves on;
* UNOTSYNC (5377) means "this needs the sync site": remember that the
  procedure needs it, move on;  UNOQUORUM (5376): move on;
* anything else -- success, or an application / other ubik error -- marks
  the server up and ends the call with that result;
* when a call that needed the sync site succeeds, that server is remembered
  as the sync site and the next such call starts there;
* with every server failed the last code is the result (UNOSERVERS, 5389, if
  nothing was tried).

OpenAFS, with four or more servers, asks ``VOTE_GetSyncSite`` first; that
RPC never worked in 1.8 (see the notes), so we leave it out -- the
observable behaviour ("try the next server") is the same.

Additions of ours: a bound on the attempts of one call (the two passes make
at most ``2 * n`` plus the sync-site jumps; ``max_attempts`` may lower it),
an optional time limit per attempt (``attempt_timeout``, useful when the Rx
dead time is long) and an overall ``deadline`` per call.  A call that runs
out of either raises the last error.

The client knows nothing of the concrete Rx endpoint beyond
``endpoint.connection(addr, service_id=..., security=...)`` and what the
generated stubs do with the connection (``await stub(conn, *args)``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, NamedTuple

from kafs.errors import AFSError, CallDead, CallTimeout, DecodeError

if TYPE_CHECKING:
    import random

log = logging.getLogger("kafs.ubik")

__all__ = ["UbikClient", "Attempt", "UNOQUORUM", "UNOTSYNC", "UNOSERVERS",
           "MAXSERVERS", "SERVICE_IDS", "WRITE_PROCEDURES"]

UNOQUORUM = 5376
UNOTSYNC = 5377
UNOSERVERS = 5389
MAXSERVERS = 20
MAX_SYNC_CHASE = 3          # OpenAFS gives up jumping to the sync site after 3 jumps

#: Rx service ids of the Ubik database services
SERVICE_IDS = {"vlserver": 52, "ptserver": 73, "buserver": 22314}

#: procedures that change the database (they need the sync site)
WRITE_PROCEDURES = frozenset({
    "VL_CreateEntry", "VL_DeleteEntry", "VL_GetNewVolumeId", "VL_ReplaceEntry",
    "VL_UpdateEntry", "VL_SetLock", "VL_ReleaseLock", "VL_ChangeAddr",
    "VL_CreateEntryN", "VL_ReplaceEntryN", "VL_UpdateEntryByName",
    "VL_RegisterAddrs",
    "PR_INewEntry", "PR_NewEntry", "PR_Delete", "PR_AddToGroup",
    "PR_RemoveFromGroup", "PR_SetMax", "PR_ChangeEntry", "PR_SetFieldsEntry",
    "PR_UpdateEntry",
})


class Attempt(NamedTuple):
    """One try of one call: which server and what came of it."""

    addr: tuple[str, int]
    outcome: str            # "ok", "down", "notsync", "noquorum", "error"
    code: int = 0


def _stub_key(stub: Callable) -> tuple:
    return (getattr(stub, "__module__", None),
            getattr(stub, "__qualname__", None) or repr(stub))


def _stub_name(stub: Callable) -> str:
    return getattr(stub, "__name__", "") or ""


class UbikClient:
    """Choose among a Ubik server set for each call, as OpenAFS clients do.

    ``servers``: ``[(host, port), ...]`` (or objects with ``.addr``).
    ``service_id``: the Rx service (52 VL, 73 PT).
    ``security``: the security object for every connection (None = rxnull).
    ``endpoint``: anything with ``connection(addr, service_id=, security=)``.
    """

    def __init__(self, servers: Iterable, service_id: int, security: Any = None,
                 endpoint: Any = None, *, rotate: bool = True,
                 attempt_timeout: float | None = None,
                 deadline: float | None = None,
                 max_attempts: int | None = None,
                 rng: random.Random | None = None,
                 clock: Callable[[], float] = time.monotonic):
        addrs: list[tuple[str, int]] = []
        for s in servers:
            addr = getattr(s, "addr", s)
            addr = (str(addr[0]), int(addr[1]))
            if addr not in addrs:
                addrs.append(addr)
        if not addrs:
            raise ValueError("UbikClient needs at least one server")
        if len(addrs) > MAXSERVERS:
            log.warning("ubik: %d servers given, using the first %d", len(addrs), MAXSERVERS)
            addrs = addrs[:MAXSERVERS]
        if rotate and len(addrs) > 1:
            if rng is None:
                import random as rng
            k = rng.randrange(len(addrs))
            addrs = addrs[k:] + addrs[:k]
        if endpoint is None:
            raise ValueError("UbikClient needs an endpoint")
        self.servers: list[tuple[str, int]] = addrs
        self.service_id = service_id
        self._security = security
        self.endpoint = endpoint
        self.attempt_timeout = attempt_timeout
        self.deadline = deadline
        self.max_attempts = max_attempts
        self.clock = clock
        self._down = [False] * len(addrs)
        self._conns: list[Any] = [None] * len(addrs)
        self._sync_site: int | None = None
        self._needsync: set[tuple] = set()
        self.last_attempts: list[Attempt] = []

    # -- state visible to callers and tests --------------------------------
    @property
    def sync_site(self) -> tuple[str, int] | None:
        return self.servers[self._sync_site] if self._sync_site is not None else None

    @property
    def down(self) -> list[tuple[str, int]]:
        return [a for a, d in zip(self.servers, self._down) if d]

    def __repr__(self) -> str:      # never shows the security object
        return f"UbikClient({self.servers!r}, service_id={self.service_id})"

    # -- the call ---------------------------------------------------------------
    def _conn(self, i: int):
        c = self._conns[i]
        if c is None:
            c = self.endpoint.connection(self.servers[i], service_id=self.service_id,
                                         security=self._security)
            self._conns[i] = c
        return c

    async def _attempt(self, i: int, stub, args, kwargs, limit: float | None):
        conn = self._conn(i)
        coro: Awaitable = stub(conn, *args, **kwargs)
        if limit is None:
            return await coro
        try:
            return await asyncio.wait_for(coro, max(limit, 0.0))
        except asyncio.TimeoutError:
            raise CallTimeout(f"no answer from {self.servers[i][0]}:{self.servers[i][1]} "
                              f"within {limit:.3g}s") from None

    async def call(self, stub: Callable[..., Awaitable], *args,
                   write: bool | None = None, **kwargs):
        """``await stub(conn, *args, **kwargs)`` on a suitable server.

        ``write=True`` says the call needs the sync site; by default that is
        known for the database-changing VL_/PR_ procedures and learnt from
        UNOTSYNC answers.  Raises the last error when no server could do it.
        """
        key = _stub_key(stub)
        if write is None:
            write = _stub_name(stub) in WRITE_PROCEDURES
        needsync = bool(write) or key in self._needsync
        n = len(self.servers)
        limit_attempts = 2 * n + MAX_SYNC_CHASE
        if self.max_attempts is not None:
            limit_attempts = min(limit_attempts, self.max_attempts)
        end = self.clock() + self.deadline if self.deadline is not None else None
        attempts: list[Attempt] = []
        self.last_attempts = attempts
        last: BaseException = AFSError(UNOSERVERS)
        chase = 0
        result = None
        done = False
        i = 0

        for pass_ in (0, 1):
            i = 0
            while i < n:
                if needsync and self._sync_site is not None:
                    s, self._sync_site = self._sync_site, None   # reset if it works
                    if chase < MAX_SYNC_CHASE:
                        chase += 1
                        i = s
                if pass_ == 0 and self._down[i]:
                    i += 1
                    continue
                if len(attempts) >= limit_attempts:
                    break
                limit = self.attempt_timeout
                if end is not None:
                    left = end - self.clock()
                    if left <= 0:
                        break
                    limit = left if limit is None else min(limit, left)
                addr = self.servers[i]
                try:
                    result = await self._attempt(i, stub, args, kwargs, limit)
                except (AFSError, DecodeError, OSError) as e:
                    err, outcome = self._classify(e)
                    code = getattr(err, "code", 0)
                    attempts.append(Attempt(addr, outcome, code))
                    log.debug("ubik: %s on %s:%d -> %s (%d)", _stub_name(stub),
                              addr[0], addr[1], outcome, code)
                    if outcome == "down":
                        self._down[i] = True
                        self._conns[i] = None
                        last = err
                    elif outcome == "notsync":
                        needsync = True
                        last = err
                    elif outcome == "noquorum":
                        last = err
                    else:                       # an answer: the server is up
                        self._down[i] = False
                        last = err
                        done = True
                        break
                else:
                    attempts.append(Attempt(addr, "ok"))
                    log.debug("ubik: %s on %s:%d -> ok", _stub_name(stub), addr[0], addr[1])
                    self._down[i] = False
                    done = True
                    break
                i += 1
            if done:
                break
            if len(attempts) >= limit_attempts or (end is not None and self.clock() >= end):
                break

        if needsync:
            self._needsync.add(key)
            if done and attempts[-1].outcome == "ok":
                self._sync_site = i
        if done and attempts[-1].outcome == "ok":
            return result
        raise last

    @staticmethod
    def _classify(e: BaseException) -> tuple[BaseException, str]:
        if isinstance(e, DecodeError):
            # a reply we could not decode: the C stubs say RXGEN_CC_UNMARSHAL (-451)
            return e, "down"
        if isinstance(e, OSError):
            return CallDead(f"{type(e).__name__}: {e.strerror or e}"), "down"
        code = e.code  # type: ignore[attr-defined]
        if code < 0:
            return e, "down"
        if code == UNOTSYNC:
            return e, "notsync"
        if code == UNOQUORUM:
            return e, "noquorum"
        return e, "error"

    # -- conveniences ------------------------------------------------------------
    @classmethod
    def for_cell(cls, cell, service: str, endpoint: Any, security: Any = None, **kw):
        """A client for ``service`` ("vlserver"/"ptserver"/"buserver") of a
        :class:`kafs.cell.Cell`."""
        try:
            sid = SERVICE_IDS[service]
        except KeyError:
            raise ValueError(f"not a Ubik database service: {service!r}") from None
        return cls(cell.servers(service), sid, security, endpoint, **kw)
