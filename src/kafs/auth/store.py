"""The token store: one rxkad token per cell, for this user.

API (what the tools and the rxkad security class use)::

    get_token(cell) -> RxkadToken | None     # only unexpired tokens
    store_token(token)                        # replaces the cell's token
    forget(cell=None) -> list[str]            # one cell, or all; cells removed
    list_tokens(include_expired=False) -> list[RxkadToken]

Backends
--------
``keyring`` (default where the kernel key service works): a ``user`` key
named ``afs@<cell>`` in the session keyring (the user session keyring when
the process has no session keyring of its own -- see
:mod:`kafs.auth.keyring`), payload the XDR ``ktc_setTokenData`` of
:mod:`kafs.auth.token`, with the key's timeout set to the token's end so
the kernel drops it when it expires.  Reading also finds the kernel's own
``rxrpc`` keys ``afs@<cell>`` (kAFS tokens, same XDR when read), where the
kernel has that key type.  ``forget`` invalidates both kinds.

``file``: ``$KAFS_TOKEN_FILE``, else ``$XDG_RUNTIME_DIR/kafs/tokens`` (when
that directory exists and is ours), else ``~/.kafs/tokens``.  The directory
is created 0700 and the file 0600 (written to a temporary file created
0600, then renamed; updates are serialized with ``flock`` on
``<file>.lock``).  A token file that is not ours or that group/others can
access is ignored with a warning.  Format: the 8 bytes ``KAFSTOK1``, then
per cell a big-endian uint32 length and that many bytes of XDR
``ktc_setTokenData``.

``KAFS_TOKEN_STORE=file`` (or ``keyring``) forces a backend; ``auto``
(default) picks the keyring when usable, else the file.
"""

from __future__ import annotations

import errno
import logging
import os
import struct
import time
from pathlib import Path

from ..errors import DecodeError, KafsError
from .token import RxkadToken, decode_token_set

__all__ = ["get_token", "store_token", "forget", "list_tokens", "backend",
           "StoreError", "KeyringStore", "FileStore", "default_token_file",
           "ENV_STORE", "ENV_FILE"]

log = logging.getLogger("kafs.auth.store")

ENV_STORE = "KAFS_TOKEN_STORE"
ENV_FILE = "KAFS_TOKEN_FILE"
FILE_MAGIC = b"KAFSTOK1"
KEY_PREFIX = "afs@"
_MAX_RECORD = 1 << 16


class StoreError(KafsError):
    """The token store cannot be read or written."""


def _norm(cell: str) -> str:
    return cell.strip().lower()


def _best(tokens, include_expired: bool, now: float):
    """Per cell, the usable token with the latest end."""
    out: dict[str, RxkadToken] = {}
    for t in tokens:
        if not include_expired and t.expired(now):
            continue
        c = _norm(t.cell)
        old = out.get(c)
        if old is None or t.end > old.end:
            out[c] = t
    return [out[c] for c in sorted(out)]


# --------------------------------------------------------------------------
# Kernel keyring
# --------------------------------------------------------------------------

class KeyringStore:
    name = "keyring"
    TYPES = ("user", "rxrpc")

    def __init__(self):
        from . import keyring
        self.k = keyring

    def ring(self) -> int:
        return self.k.session_keyring()

    def where(self) -> str:
        return "session keyring %d" % self.ring()

    def _walk(self):
        """(serial, KeyInfo) of the afs@ keys reachable from the session keyring."""
        k = self.k
        seen = set()
        todo = [(self.ring(), 0)]
        while todo:
            ring, depth = todo.pop()
            if ring in seen:
                continue
            seen.add(ring)
            try:
                serials = k.keyring_keys(ring)
            except k.KeyringError:
                continue
            for s in serials:
                try:
                    info = k.describe(s)
                except k.KeyringError:
                    continue
                if info.type == "keyring":
                    if depth < 8:
                        todo.append((s, depth + 1))
                elif info.type in self.TYPES and info.description.startswith(KEY_PREFIX):
                    yield s, info

    def _read(self, serial: int, ktype: str):
        try:
            data = self.k.read(serial)
        except self.k.KeyringError as e:
            if e.errno not in (errno.EKEYEXPIRED, errno.EKEYREVOKED, errno.ENOKEY,
                               errno.EACCES, errno.EOPNOTSUPP):
                log.warning("cannot read key %d: %s", serial, e)
            return []
        try:
            return list(decode_token_set(data, "keyring:" + ktype).tokens)
        except DecodeError as e:
            log.debug("key %d (%s) is not a token: %s", serial, ktype, e)
            return []

    def _cell_keys(self, cell: str):
        out = []
        ring = self.ring()
        for ktype in self.TYPES:
            for desc in {KEY_PREFIX + cell, KEY_PREFIX + cell.upper()}:
                s = self.k.search(ring, ktype, desc)
                if s is not None and (s, ktype) not in out:
                    out.append((s, ktype))
        return out

    def get(self, cell: str, now: float):
        toks = []
        for s, ktype in self._cell_keys(cell):
            toks.extend(t for t in self._read(s, ktype) if _norm(t.cell) == cell)
        best = _best(toks, False, now)
        return best[0] if best else None

    def store(self, token: RxkadToken, now: float) -> None:
        ring = self.ring()
        cell = _norm(token.cell)
        s = self.k.add_key("user", KEY_PREFIX + cell, token.encode(), ring)
        self.k.set_timeout(s, max(1, int(token.end - now)))

    def list(self, include_expired: bool, now: float):
        toks = []
        for s, info in self._walk():
            toks.extend(self._read(s, info.type))
        return _best(toks, include_expired, now)

    def forget(self, cell: str | None):
        gone = set()
        for s, info in list(self._walk()):
            c = _norm(info.description[len(KEY_PREFIX):])
            if cell is not None and c != cell:
                continue
            try:
                self.k.invalidate(s)
                gone.add(c)
            except self.k.KeyringError as e:
                raise StoreError("cannot remove the token for %s: %s" % (c, e.strerror)) from None
        if cell is not None:
            for s, _ in self._cell_keys(cell):        # keys not found by the walk
                try:
                    self.k.invalidate(s)
                    gone.add(cell)
                except self.k.KeyringError:
                    pass
        return sorted(gone)


# --------------------------------------------------------------------------
# File
# --------------------------------------------------------------------------

def default_token_file(env=None) -> Path:
    env = os.environ if env is None else env
    p = env.get(ENV_FILE)
    if p:
        return Path(p)
    xdg = env.get("XDG_RUNTIME_DIR")
    if xdg:
        try:
            st = os.stat(xdg)
            if st.st_uid == os.geteuid() and os.path.isdir(xdg):
                return Path(xdg) / "kafs" / "tokens"
        except OSError:
            pass
    home = None
    try:
        import pwd
        home = pwd.getpwuid(os.geteuid()).pw_dir
    except (KeyError, ImportError):
        pass
    home = env.get("HOME") or home or "/"
    return Path(home) / ".kafs" / "tokens"


class FileStore:
    name = "file"

    def __init__(self, path: Path | str | None = None, *, owner: int | None = None):
        self.path = Path(path) if path else default_token_file()
        #: the uid the file must belong to (ours unless given: a cache
        #: manager reading a user's tokens on that user's behalf)
        self.owner = os.geteuid() if owner is None else owner

    def where(self) -> str:
        return str(self.path)

    # -- raw records ---------------------------------------------------------
    def _load(self) -> list[bytes]:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return []
        except OSError as e:
            raise StoreError("cannot open token file %s: %s" % (self.path, e.strerror)) from None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_uid != self.owner or st.st_mode & 0o077:
                raise StoreError("token file %s is not private to this user (mode %o); not used"
                                 % (self.path, st.st_mode & 0o777))
            data = f.read(16 << 20)
        if not data:
            return []
        if not data.startswith(FILE_MAGIC):
            raise StoreError("%s is not a kafs token file" % self.path)
        recs = []
        pos = len(FILE_MAGIC)
        while pos < len(data):
            if pos + 4 > len(data):
                raise StoreError("token file %s is truncated" % self.path)
            (n,) = struct.unpack_from(">I", data, pos)
            pos += 4
            if n > _MAX_RECORD or pos + n > len(data):
                raise StoreError("token file %s is damaged" % self.path)
            recs.append(data[pos:pos + n])
            pos += n
        return recs

    def _tokens(self) -> list[RxkadToken]:
        out = []
        for r in self._load():
            try:
                ts = decode_token_set(r, "file")
            except DecodeError as e:
                log.warning("skipping a damaged record in %s: %s", self.path, e)
                continue
            out.extend(ts.tokens)
        return out

    def _save(self, tokens: list[RxkadToken]) -> None:
        d = self.path.parent
        body = bytearray(FILE_MAGIC)
        for t in tokens:
            rec = t.encode()
            body += struct.pack(">I", len(rec)) + rec
        tmp = d / (".%s.%d.tmp" % (self.path.name, os.getpid()))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(body)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        finally:
            body[:] = b"\0" * len(body)
        os.close(fd)
        os.replace(tmp, self.path)

    def _locked(self):
        d = self.path.parent
        try:
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError("cannot create %s: %s" % (d, e.strerror)) from None
        st = os.stat(d)
        if st.st_uid != os.geteuid():
            raise StoreError("token directory %s is not ours" % d)
        if st.st_mode & 0o022:
            raise StoreError("token directory %s is writable by others" % d)
        return _FileLock(str(self.path) + ".lock")

    # -- store operations ---------------------------------------------------
    def get(self, cell: str, now: float):
        best = _best([t for t in self._tokens() if _norm(t.cell) == cell], False, now)
        return best[0] if best else None

    def store(self, token: RxkadToken, now: float) -> None:
        cell = _norm(token.cell)
        with self._locked():
            keep = [t for t in self._tokens() if _norm(t.cell) != cell]
            self._save(keep + [token])

    def list(self, include_expired: bool, now: float):
        return _best(self._tokens(), include_expired, now)

    def forget(self, cell: str | None):
        if not self.path.exists():
            return []
        with self._locked():
            toks = self._tokens()
            gone = sorted({_norm(t.cell) for t in toks
                           if cell is None or _norm(t.cell) == cell})
            keep = [t for t in toks if cell is not None and _norm(t.cell) != cell]
            if gone:
                self._save(keep)
        return gone


class _FileLock:
    def __init__(self, path: str):
        self.path = path
        self.fd = -1

    def __enter__(self):
        import fcntl
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


# --------------------------------------------------------------------------
# Choosing the backend; the public functions
# --------------------------------------------------------------------------

def backend(env=None):
    """The store to use: ``$KAFS_TOKEN_STORE`` (file | keyring | auto)."""
    env = os.environ if env is None else env
    want = (env.get(ENV_STORE) or "auto").strip().lower()
    if want == "file":
        return FileStore(default_token_file(env))
    if want == "keyring":
        from . import keyring
        if not keyring.available():
            raise StoreError("the kernel keyring is not usable here (%s=keyring)" % ENV_STORE)
        return KeyringStore()
    if want not in ("auto", ""):
        raise StoreError("%s must be file, keyring or auto, not %r" % (ENV_STORE, want))
    from . import keyring
    if keyring.available():
        return KeyringStore()
    return FileStore(default_token_file(env))


def _wrap(fn, *args):
    from .keyring import KeyringError
    try:
        return fn(*args)
    except KeyringError as e:
        raise StoreError("kernel keyring: %s" % e.strerror) from None
    except OSError as e:
        raise StoreError("token store: %s" % (e.strerror or e)) from None


def get_token(cell: str) -> RxkadToken | None:
    """The unexpired token for ``cell``, or None.  Never raises for an
    unusable store: that is logged and None returned."""
    try:
        return _wrap(lambda: backend().get(_norm(cell), time.time()))
    except StoreError as e:
        log.warning("%s", e)
        return None


def store_token(token: RxkadToken) -> None:
    """Store ``token`` for its cell, replacing the cell's previous token."""
    if not isinstance(token, RxkadToken):
        raise TypeError("store_token needs an RxkadToken")
    _wrap(lambda: backend().store(token, time.time()))


def forget(cell: str | None = None) -> list[str]:
    """Discard the token of ``cell`` (all tokens when None); returns the
    cells whose tokens were removed."""
    return _wrap(lambda: backend().forget(None if cell is None else _norm(cell)))


def list_tokens(include_expired: bool = False) -> list[RxkadToken]:
    """The stored tokens, one per cell, sorted by cell name; expired ones
    only with ``include_expired``."""
    return _wrap(lambda: backend().list(include_expired, time.time()))
