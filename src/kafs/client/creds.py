"""Who is asking: per-uid identities and the tokens they use.

kAFS has no PAGs: the kernel looks for the caller's token ("afs@<cell>"
key) in the calling process's session keyring, so every local user's calls
carry that user's own token and nobody else's.  We do the same per uid:

* a token handed to the cache manager by the user (``aklog`` pushes it
  through the mount's control socket, as OpenAFS's aklog does with the
  SetToken pioctl; the socket's peer credentials say whose it is);
* otherwise the user's own token file (``$XDG_RUNTIME_DIR/kafs/tokens`` of
  that uid, i.e. ``/run/user/<uid>/kafs/tokens``, then
  ``~<user>/.kafs/tokens``), read only if that uid owns it and nobody else
  can read it;
* for the uid the cache manager itself runs as, its own token store
  (``kafs.auth.store``: keyring or file, as the tools use).

Without a token a uid's calls go unauthenticated (rxnull), as the
anonymous user.  One uid's token is never used for another uid's call:
each (uid, cell) has its own security object and so its own Rx
connections.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger("kafs.client.creds")

LEVEL_CLEAR = 0
LEVEL_AUTH = 1
LEVEL_CRYPT = 2


@dataclass(frozen=True, slots=True)
class Cred:
    """The caller of one operation."""

    uid: int
    gid: int = 0
    pid: int = 0

    @property
    def key(self) -> int:
        return self.uid


ROOT = Cred(0, 0)


def _user_token_files(uid: int) -> list[str]:
    paths = ["/run/user/%d/kafs/tokens" % uid]
    try:
        import pwd
        paths.append(os.path.join(pwd.getpwuid(uid).pw_dir, ".kafs", "tokens"))
    except (KeyError, ImportError):
        pass
    return paths


@dataclass
class _Entry:
    token: object
    security: object
    level: int


@dataclass
class TokenSource:
    """Tokens by (uid, cell), and the rxkad security objects made from them.

    ``level``: the rxkad level of authenticated file server calls (crypt,
    as OpenAFS 1.8's cache manager; ``fs setcrypt off`` sets clear).
    ``own_store``: read the daemon's own token store for its own uid.
    """

    level: int = LEVEL_CRYPT
    own_store: bool = True
    clock: Callable[[], float] = time.time
    pushed: dict = field(default_factory=dict)        # (uid, cell) -> token
    _sec: dict = field(default_factory=dict)          # (uid, cell) -> _Entry
    #: how long a token file's answer is believed (files are read at most
    #: this often per uid and cell, not at every call)
    file_ttl: float = 10.0
    _files: dict = field(default_factory=dict)        # (uid, cell) -> (until, token)
    #: a function(uid) -> list of token file paths; tests may replace it
    user_files: Callable[[int], list[str]] = _user_token_files

    # -- tokens ----------------------------------------------------------
    def set_token(self, uid: int, token) -> None:
        """A token the user gave us (the SetToken control request)."""
        self.pushed[(uid, token.cell.lower())] = token
        self._sec.pop((uid, token.cell.lower()), None)
        self._files.pop((uid, token.cell.lower()), None)

    def forget(self, uid: int, cell: str | None = None) -> list[str]:
        """Drop a uid's tokens (unlog): the pushed ones; a file store's
        tokens are the user's to remove.  Returns the cells dropped."""
        gone = []
        for k in list(self.pushed):
            if k[0] == uid and (cell is None or k[1] == cell.lower()):
                del self.pushed[k]
                gone.append(k[1])
        for d in (self._sec, self._files):
            for k in list(d):
                if k[0] == uid and (cell is None or k[1] == cell.lower()):
                    del d[k]
        return sorted(gone)

    def tokens_of(self, uid: int) -> list:
        """The tokens a uid's calls would use now (for ``tokens``)."""
        cells = {c for (u, c) in self.pushed if u == uid}
        out = []
        for c in sorted(cells):
            t = self.token(uid, c)
            if t is not None:
                out.append(t)
        return out

    def token(self, uid: int, cell: str):
        cell = cell.lower()
        now = self.clock()
        t = self.pushed.get((uid, cell))
        if t is not None:
            if not t.expired(now):
                return t
            del self.pushed[(uid, cell)]
        hit = self._files.get((uid, cell))
        if hit is not None and now < hit[0] and (hit[1] is None or not hit[1].expired(now)):
            return hit[1]
        t = self._stored_token(uid, cell, now)
        self._files[(uid, cell)] = (now + self.file_ttl, t)
        return t

    def _stored_token(self, uid: int, cell: str, now: float):
        if self.own_store and uid == os.geteuid():
            from ..auth import store
            try:
                return store.get_token(cell)
            except Exception as e:        # noqa: BLE001 - a broken store means no token
                log.warning("token store: %s", e)
                return None
        from ..auth.store import FileStore, StoreError
        for p in self.user_files(uid):
            if not os.path.exists(p):
                continue
            try:
                t = FileStore(p, owner=uid).get(cell, now)
            except (StoreError, OSError) as e:
                log.warning("uid %d: %s", uid, e)
                continue
            if t is not None:
                return t
        return None

    # -- security objects -------------------------------------------------
    def security(self, cred: Cred, cell: str):
        """The security object for this caller's calls to ``cell`` (None =
        rxnull).  The same token gives the same object, so Rx connections
        are shared between calls of one user and never across users."""
        key = (cred.uid, cell.lower())
        tok = self.token(cred.uid, cell)
        e = self._sec.get(key)
        if tok is None:
            self._sec.pop(key, None)
            return None
        if e is not None and e.token == tok and e.level == self.level:
            return e.security
        from ..auth.rxkad import RxkadClient, TokenExpired
        try:
            sec = RxkadClient.from_token(tok, self.level)
        except TokenExpired:
            return None
        self._sec[key] = _Entry(tok, sec, self.level)
        return sec

    def set_level(self, level: int) -> None:
        self.level = level
        self._sec.clear()
