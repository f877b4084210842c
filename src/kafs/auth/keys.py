"""Server keys: KeyFile, KeyFileExt and rxkad.keytab (OpenAFS ``src/auth/keys.c``).

The server configuration directory (``/etc/openafs/server`` on Debian,
``/usr/afs/etc`` in the Transarc layout) holds the cell's service keys:

* ``KeyFile``: DES keys for rxkad (type 0): ``int32 nkeys`` then nkeys x
  ``{int32 kvno, 8-byte key}``, big-endian, at most 8 keys.
* ``KeyFileExt``: typed keys: ``int32 nkeys`` then unaligned records
  ``{int32 metaLen (>= 16), int32 type, int32 kvno, int32 subType,
  [metaLen - 16 bytes skipped], int32 keyLen, key}``.  Type 0 rxkad (DES),
  1 rxgk, 2 rxkad_krb5 (subType = Kerberos enctype).
* ``rxkad.keytab``: an MIT keytab with the ``afs/cell`` keys of the 1.6-era
  rxkad-k5 patch.  OpenAFS 1.8 servers and ``-localauth`` do not read it
  (``akeyconvert`` copies it into KeyFileExt); :meth:`ServerKeys.load` reads
  it only when asked (``keytab=True``), and then KeyFileExt wins.

Key choice follows OpenAFS 1.8.9:

* by kvno and type (``afsconf_GetKeyByTypes``): :meth:`ServerKeys.get`;
* the "latest" key of a type (``pickBestKvno``): the highest kvno of that
  type, skipping kvno 999 for rxkad (a bcrypt marker), and only then the
  wanted subtype *within that kvno*;
* ``-localauth`` (``GenericAuth``): the latest rxkad_krb5 kvno with the
  first enctype of 18, 17, 23, 16 it holds; otherwise the latest KeyFile
  DES key: :meth:`ServerKeys.localauth_key`.

Key bytes never appear in ``repr``/``str``, logs or exceptions.  Files are
read as regular files of bounded size; files we write are created 0600.
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass, field

from ..errors import ConfigError

__all__ = [
    "KEY_RXKAD", "KEY_RXGK", "KEY_RXKAD_KRB5", "ServerKey", "ServerKeys",
    "parse_keyfile", "parse_keyfile_ext", "parse_keytab", "encode_keyfile",
    "encode_keyfile_ext", "write_secret_file", "read_secret_file", "WatchedServerKeys",
    "LOCALAUTH_ENCTYPES",
]

KEY_RXKAD = 0
KEY_RXGK = 1
KEY_RXKAD_KRB5 = 2
_TYPE_NAMES = {KEY_RXKAD: "rxkad", KEY_RXGK: "rxgk", KEY_RXKAD_KRB5: "rxkad_krb5"}

#: enctype preference of ``-localauth`` with rxkad_krb5 keys (authcon.c)
LOCALAUTH_ENCTYPES = (18, 17, 23, 16)
#: kvno OpenAFS's "latest rxkad key" choice skips
_BCRYPT_KVNO = 999
MAX_KEYFILE_KEYS = 8
_MAX_FILE = 1 << 20


@dataclass(frozen=True, slots=True)
class ServerKey:
    """One server key; ``subtype`` is the Kerberos enctype for rxkad_krb5."""

    type: int
    kvno: int
    subtype: int
    key: bytes = field(repr=False, compare=True)
    source: str = ""

    def __repr__(self) -> str:
        t = _TYPE_NAMES.get(self.type, str(self.type))
        sub = f" enctype={self.subtype}" if self.type == KEY_RXKAD_KRB5 else ""
        src = f" from {self.source}" if self.source else ""
        return f"<ServerKey {t} kvno={self.kvno}{sub} ({len(self.key)} bytes){src}>"

    __str__ = __repr__


def read_secret_file(path: str, what: str) -> bytes | None:
    """Contents of a key file, or None if it does not exist.

    Refuses anything but a regular file and files over 1 MiB.  The error
    text names the file, never its contents.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ConfigError(f"cannot open {what} {path}: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{what} {path} is not a regular file")
        if st.st_size > _MAX_FILE:
            raise ConfigError(f"{what} {path} is too large ({st.st_size} bytes)")
        chunks = []
        total = 0
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            total += len(b)
            if total > _MAX_FILE:
                raise ConfigError(f"{what} {path} is too large")
            chunks.append(b)
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_secret_file(path: str, data: bytes) -> None:
    """Write ``data`` atomically to ``path`` with mode 0600."""
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, path)


# ---------------------------------------------------------------- parsers

def _u32(buf: bytes, pos: int, what: str) -> tuple[int, int]:
    if pos + 4 > len(buf):
        raise ConfigError(f"{what}: truncated")
    return struct.unpack_from(">I", buf, pos)[0], pos + 4


def _s32(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v


def parse_keyfile(buf: bytes, source: str = "KeyFile") -> list[ServerKey]:
    """The DES keys of a KeyFile (type rxkad, subtype 0)."""
    n, pos = _u32(buf, 0, source)
    n = _s32(n)
    if n < 0 or n > MAX_KEYFILE_KEYS:
        raise ConfigError(f"{source}: bad key count {n}")
    out = []
    for _ in range(n):
        kvno, pos = _u32(buf, pos, source)
        if pos + 8 > len(buf):
            raise ConfigError(f"{source}: truncated")
        out.append(ServerKey(KEY_RXKAD, _s32(kvno), 0, bytes(buf[pos:pos + 8]), source))
        pos += 8
    return out


def parse_keyfile_ext(buf: bytes, source: str = "KeyFileExt") -> list[ServerKey]:
    """The typed keys of a KeyFileExt."""
    n, pos = _u32(buf, 0, source)
    n = _s32(n)
    if n < 0 or n > 10000:
        raise ConfigError(f"{source}: bad key count {n}")
    out = []
    for _ in range(n):
        meta, pos = _u32(buf, pos, source)
        if meta < 16 or meta > 4096:
            raise ConfigError(f"{source}: bad record length {meta}")
        ktype, pos = _u32(buf, pos, source)
        kvno, pos = _u32(buf, pos, source)
        sub, pos = _u32(buf, pos, source)
        pos += meta - 16
        klen, pos = _u32(buf, pos, source)
        if klen > 4096 or pos + klen > len(buf):
            raise ConfigError(f"{source}: truncated key")
        out.append(ServerKey(_s32(ktype), _s32(kvno), _s32(sub),
                             bytes(buf[pos:pos + klen]), source))
        pos += klen
    return out


def parse_keytab(buf: bytes, source: str = "keytab") -> list[tuple[str, int, int, bytes]]:
    """The entries of an MIT keytab (versions 0x0501 and 0x0502):
    ``(principal, kvno, enctype, key)``; deleted entries (holes) are skipped."""
    if len(buf) < 2 or buf[0] != 5 or buf[1] not in (1, 2):
        raise ConfigError(f"{source}: not an MIT keytab")
    v2 = buf[1] == 2
    order = ">" if v2 else "="
    pos = 2
    out = []
    n = len(buf)
    while pos + 4 <= n:
        size = struct.unpack_from(order + "i", buf, pos)[0]
        pos += 4
        if size == 0:
            break
        if size < 0:
            pos += -size
            continue
        end = pos + size
        if end > n:
            raise ConfigError(f"{source}: truncated entry")
        e = buf[pos:end]
        pos = end
        try:
            p = 0
            (ncomp,) = struct.unpack_from(order + "H", e, p)
            p += 2
            if not v2:
                ncomp -= 1

            def counted(p):
                (ln,) = struct.unpack_from(order + "H", e, p)
                if p + 2 + ln > len(e):
                    raise ConfigError(f"{source}: bad entry")
                return e[p + 2:p + 2 + ln].decode("utf-8", "surrogateescape"), p + 2 + ln
            realm, p = counted(p)
            comps = []
            for _ in range(ncomp):
                c, p = counted(p)
                comps.append(c)
            if v2:
                p += 4                           # name type
            p += 4                               # timestamp
            vno = e[p]
            p += 1
            enctype, klen = struct.unpack_from(order + "HH", e, p)
            p += 4
            if p + klen > len(e):
                raise ConfigError(f"{source}: bad entry")
            key = bytes(e[p:p + klen])
            p += klen
            if p + 4 <= len(e):
                v32 = struct.unpack_from(order + "I", e, p)[0]
                if v32:
                    vno = v32
        except (struct.error, IndexError):
            raise ConfigError(f"{source}: bad entry") from None
        out.append(("/".join(comps) + "@" + realm, vno, enctype, key))
    return out


def encode_keyfile(keys: list[tuple[int, bytes]]) -> bytes:
    """A KeyFile holding ``[(kvno, 8-byte key)]``."""
    if len(keys) > MAX_KEYFILE_KEYS:
        raise ValueError("a KeyFile holds at most 8 keys")
    out = [struct.pack(">i", len(keys))]
    for kvno, key in sorted(keys):
        if len(key) != 8:
            raise ValueError("KeyFile keys are 8 bytes")
        out.append(struct.pack(">i", kvno) + bytes(key))
    return b"".join(out)


def encode_keyfile_ext(keys: list[ServerKey]) -> bytes:
    """A KeyFileExt holding ``keys`` (records with metaLen 16)."""
    out = [struct.pack(">i", len(keys))]
    for k in keys:
        out.append(struct.pack(">iiiii", 16, k.type, k.kvno, k.subtype, len(k.key)) + k.key)
    return b"".join(out)


# ---------------------------------------------------------------- the set

class ServerKeys:
    """The keys of a server configuration directory."""

    def __init__(self, keys: list[ServerKey] | None = None, confdir: str | None = None):
        self.confdir = confdir
        self._keys: list[ServerKey] = []
        for k in keys or []:
            self.add(k)

    def __repr__(self) -> str:
        return f"<ServerKeys {self.confdir or '(memory)'}: {len(self._keys)} keys>"

    __str__ = __repr__

    @classmethod
    def load(cls, confdir: str = "/etc/openafs/server", *, keytab: bool = False,
             keytab_principal: str | None = None) -> "ServerKeys":
        """Read KeyFile and KeyFileExt (and rxkad.keytab if ``keytab``).

        Missing files are no keys; malformed ones raise ConfigError.
        """
        ks = cls(confdir=confdir)
        b = read_secret_file(os.path.join(confdir, "KeyFile"), "KeyFile")
        if b is not None:
            for k in parse_keyfile(b):
                ks.add(k)
        b = read_secret_file(os.path.join(confdir, "KeyFileExt"), "KeyFileExt")
        if b is not None:
            for k in parse_keyfile_ext(b):
                ks.add(k)
        if keytab:
            b = read_secret_file(os.path.join(confdir, "rxkad.keytab"), "rxkad.keytab")
            if b is not None:
                for princ, kvno, enctype, key in parse_keytab(b, "rxkad.keytab"):
                    if keytab_principal and princ != keytab_principal:
                        continue
                    if not princ.startswith("afs/") and not princ.startswith("afs@"):
                        continue
                    if ks.get(KEY_RXKAD_KRB5, kvno, enctype) is None:
                        ks.add(ServerKey(KEY_RXKAD_KRB5, kvno, enctype, key, "rxkad.keytab"))
        return ks

    def add(self, key: ServerKey) -> None:
        """Add a key; one of the same (type, kvno, subtype) is replaced."""
        self._keys = [k for k in self._keys
                      if (k.type, k.kvno, k.subtype) != (key.type, key.kvno, key.subtype)]
        self._keys.append(key)

    def __len__(self) -> int:
        return len(self._keys)

    def keys(self) -> list[ServerKey]:
        return sorted(self._keys, key=lambda k: (k.type, k.kvno, k.subtype))

    def get(self, ktype: int, kvno: int, subtype: int = 0) -> ServerKey | None:
        """``afsconf_GetKeyByTypes``: the key of exactly that type/kvno/subtype."""
        for k in self._keys:
            if k.type == ktype and k.kvno == kvno and k.subtype == subtype:
                return k
        return None

    def des_key(self, kvno: int) -> bytes | None:
        """``afsconf_GetKey``: the rxkad DES key with that kvno."""
        k = self.get(KEY_RXKAD, kvno, 0)
        return k.key if k is not None else None

    def krb5_key(self, kvno: int, enctype: int) -> bytes | None:
        """The rxkad_krb5 key for (kvno, enctype)."""
        k = self.get(KEY_RXKAD_KRB5, kvno, enctype)
        return k.key if k is not None else None

    def best_kvno(self, ktype: int) -> int | None:
        """``pickBestKvno``: the highest kvno of a type (999 skipped for rxkad)."""
        kvnos = sorted({k.kvno for k in self._keys if k.type == ktype})
        while kvnos and ktype == KEY_RXKAD and kvnos[-1] == _BCRYPT_KVNO:
            kvnos.pop()
        return kvnos[-1] if kvnos else None

    def latest(self, ktype: int, subtype: int = 0) -> ServerKey | None:
        """``afsconf_GetLatestKeyByTypes``: subtype within the best kvno."""
        kvno = self.best_kvno(ktype)
        if kvno is None:
            return None
        return self.get(ktype, kvno, subtype)

    def localauth_key(self) -> ServerKey | None:
        """The key ``-localauth`` uses (``GenericAuth``), or None (rxnull)."""
        for et in LOCALAUTH_ENCTYPES:
            k = self.latest(KEY_RXKAD_KRB5, et)
            if k is not None:
                return k
        return self.latest(KEY_RXKAD, 0)


class WatchedServerKeys(ServerKeys):
    """The keys of a configuration directory, re-read when its key files
    change -- as an OpenAFS server notices a new KeyFile or KeyFileExt
    (``asetkey add``) without a restart.

    Every use of the keys (any :class:`ServerKeys` method) looks at the
    files' size, mtime and inode at most once per ``interval`` seconds
    (``clock`` gives seconds; a test passes its own).  A file that no
    longer parses keeps the keys read before, so a half written KeyFile
    never leaves a server without keys; the error is kept in
    ``last_error``.
    """

    FILES = ("KeyFile", "KeyFileExt", "rxkad.keytab")

    def __init__(self, confdir: str = "/etc/openafs/server", *, keytab: bool = False,
                 keytab_principal: str | None = None, interval: float = 1.0, clock=None):
        import time
        self._list: list[ServerKey] = []
        self._load_args = {"keytab": keytab, "keytab_principal": keytab_principal}
        self.interval = interval
        self._clock = clock or time.monotonic
        self._next_check = float("-inf")
        self._signature = None
        self.last_error: str | None = None
        self.reloads = 0
        super().__init__(confdir=confdir)
        self.refresh()

    @property
    def _keys(self) -> list[ServerKey]:
        if self._clock() >= self._next_check:
            self.refresh()
        return self._list

    @_keys.setter
    def _keys(self, keys: list[ServerKey]) -> None:
        self._list = keys

    def _stat_signature(self):
        sig = []
        for name in self.FILES:
            try:
                st = os.stat(os.path.join(self.confdir, name))
            except OSError:
                sig.append(None)
            else:
                sig.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(sig)

    def refresh(self) -> bool:
        """Re-read the files if they changed; True if the keys were replaced."""
        self._next_check = self._clock() + self.interval
        sig = self._stat_signature()
        if sig == self._signature:
            return False
        try:
            fresh = ServerKeys.load(self.confdir, **self._load_args)
        except ConfigError as e:
            self.last_error = str(e)
            return False
        self._signature = sig
        self._list = fresh._keys
        self.last_error = None
        self.reloads += 1
        return True
