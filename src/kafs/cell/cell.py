"""``Cell``: where a cell's servers are, from configuration and the DNS.

Where configuration comes from (first match wins)
--------------------------------------------------

OpenAFS client directory (``ThisCell``, ``CellServDB``, ``CellAlias``):

1. the ``confdir=`` argument;
2. ``$KAFS_CONF_DIR`` (ours);
3. ``/etc/openafs`` (Debian's client directory).  If it has no ``ThisCell``
   or no CellServDB, then -- like OpenAFS's ``afsconf_Open`` -- the
   directory named by ``$AFSCONF``, or by the first line of
   ``~/.AFSCONF`` or ``/.AFSCONF``, is used instead when it exists.

With ``localauth=True`` the server directory is used instead: the
``server_confdir=`` argument, ``$KAFS_SERVER_CONF_DIR``, or
``/etc/openafs/server`` (what OpenAFS's ``-localauth`` reads).

kAFS's client configuration (profile format, see :mod:`.clientconf`): the
``client_conf=`` argument, ``$KAFS_CLIENT_CONF``, or
``/etc/kafs/client.conf``; an empty string disables it.

The local cell: the ``name`` argument; else ``$AFSCELL`` (like OpenAFS,
which then prints "Note: Operation is performed on cell X" --
:attr:`Cell.from_env` tells the caller to do so); else ``ThisCell``; else
``thiscell`` in client.conf's ``[defaults]``.

A cell's database servers
-------------------------

1. the ``servers=`` argument (vlserver/ptserver hosts, for tests and -server
   style overrides);
2. CellServDB (cell names compare case-insensitively, may be abbreviated
   unambiguously, and CellAlias applies) -- configuration wins over the DNS,
   as in OpenAFS;
3. client.conf's ``[cells]`` (a cell with ``use_dns = yes`` asks the DNS
   first, as kafs-client does; ptservers are the servers of ``type =
   ptserver``, or, when none is typed so, the vlserver hosts on port 7002);
4. the DNS: SRV ``_afs3-vlserver._udp.<cell>`` / ``_afs3-prserver._udp``,
   then AFSDB (see :mod:`.dns`).  ``$KAFS_DNS=off`` or ``dns=False``
   disables it.

Nothing found raises :class:`~kafs.errors.ConfigError` ("no servers found
for cell X (...)").  Parsed files are cached per process and re-read when
they change (mtime/size/inode); DNS answers are cached for their TTL.

OpenAFS additionally resolves the ``#hostname`` of every client CellServDB
line and prefers the addresses it resolves to.  We use the address written
in the file (what the file says, no DNS wait); see docs/cell-and-ubik.md.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Callable, Iterable, NamedTuple

from kafs._ip import ip_literal
from kafs.errors import ConfigError

from .cellservdb import CellServDB, read_cellservdb, read_thiscell

# client.conf (and its profile parser) and DNS are loaded when they are
# needed: a tool on a machine with a CellServDB and no client.conf should
# not pay for importing them at start-up.
if TYPE_CHECKING:
    from .clientconf import ClientConf, ConfCell

log = logging.getLogger("kafs.cell")

__all__ = ["Cell", "Server", "SERVICE_PORTS", "clear_cache", "local_cell_name",
           "DEFAULT_CLIENT_DIR", "DEFAULT_SERVER_DIR", "DEFAULT_CLIENT_CONF"]

DEFAULT_CLIENT_DIR = "/etc/openafs"
DEFAULT_SERVER_DIR = "/etc/openafs/server"
DEFAULT_CLIENT_CONF = "/etc/kafs/client.conf"

#: well-known UDP ports (OpenAFS's afsconf service table, plus budb)
SERVICE_PORTS = {
    "fileserver": 7000,
    "callback": 7001,
    "ptserver": 7002,
    "vlserver": 7003,
    "kaserver": 7004,
    "volserver": 7005,
    "errors": 7006,
    "bosserver": 7007,
    "update": 7008,
    "rmtsys": 7009,
    "buserver": 7021,
}
_ALIASES = {"afs": "fileserver", "afscb": "callback", "afsprot": "ptserver",
            "afsvldb": "vlserver", "afskauth": "kaserver", "afsvol": "volserver",
            "afserror": "errors", "afsnanny": "bosserver", "afsupdate": "update",
            "afsrmtsys": "rmtsys", "prserver": "ptserver", "bos": "bosserver",
            "budb": "buserver"}


def _service(name: str) -> str:
    s = _ALIASES.get(name, name)
    if s not in SERVICE_PORTS:
        raise ConfigError(f"unknown service {name!r}")
    return s


class Server(NamedTuple):
    """A server address, with where it came from."""

    host: str                 # IP address literal
    port: int
    name: str | None = None   # host name (CellServDB comment, SRV target...)
    clone: bool = False       # CellServDB [a.b.c.d]: never sync site
    source: str = ""          # "argument", "CellServDB", "client.conf", "SRV", "AFSDB", "resolver"

    @property
    def addr(self) -> tuple[str, int]:
        return (self.host, self.port)


# -- per-process caches ------------------------------------------------------

_lock = threading.RLock()
_file_cache: dict[tuple[str, str], tuple[tuple, object]] = {}
_server_cache: dict[tuple, tuple[float, tuple[Server, ...]]] = {}
_host_cache: dict[str, str] = {}


def clear_cache() -> None:
    """Forget every cached file, DNS answer and lookup (tests, SIGHUP...)."""
    with _lock:
        _file_cache.clear()
        _server_cache.clear()
        _host_cache.clear()
    dns = sys.modules.get(__package__ + ".dns")
    if dns is not None:
        dns.clear_dns_cache()


def _stamp(paths: Iterable[str]) -> tuple:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((p, st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append((p, None))
    return tuple(out)


def _cached(kind: str, key: str, stamp_paths: list[str], load: Callable[[], object]):
    stamp = _stamp(stamp_paths)
    with _lock:
        hit = _file_cache.get((kind, key))
        if hit is not None and hit[0] == stamp:
            return hit[1]
    value = load()
    with _lock:
        _file_cache[(kind, key)] = (stamp, value)
    return value


def _load_cellservdb(confdir: str) -> CellServDB | None:
    paths = [os.path.join(confdir, n) for n in ("CellServDB", "CellServDB.local",
                                                "CellServDB.dist", "CellAlias")]
    return _cached("cellservdb", confdir, paths, lambda: read_cellservdb(confdir))


def _load_thiscell(confdir: str) -> str | None:
    return _cached("thiscell", confdir, [os.path.join(confdir, "ThisCell")],
                   lambda: read_thiscell(confdir))


def _load_client_conf(path: str) -> ClientConf | None:
    def load():
        if not os.path.exists(path):
            return None
        from .clientconf import parse_client_conf
        from .profile import read_profile
        root = read_profile(path)
        return parse_client_conf(root) if root is not None else None
    # includes are not stamped: a change in an included file alone is seen
    # after clear_cache() or a new process.
    return _cached("clientconf", path, [path], load)


def _has_openafs_config(d: str) -> bool:
    return os.path.exists(os.path.join(d, "ThisCell")) and any(
        os.path.exists(os.path.join(d, n))
        for n in ("CellServDB", "CellServDB.local", "CellServDB.dist"))


def _afsconf_fallback(env) -> str | None:
    """``$AFSCONF``, else the first line of ``~/.AFSCONF`` or ``/.AFSCONF``."""
    if env.get("AFSCONF"):
        return env["AFSCONF"]
    candidates = []
    if env.get("HOME"):
        candidates.append(os.path.join(env["HOME"], ".AFSCONF"))
    candidates.append("/.AFSCONF")
    for c in candidates:
        try:
            with open(c, encoding="utf-8", errors="surrogateescape") as f:
                first = f.read().split("\n", 1)[0].strip()
        except OSError:
            continue
        if first:
            return first
    return None


def _confdir(confdir=None, *, localauth: bool = False, env=None) -> str:
    env = os.environ if env is None else env
    if confdir is not None:
        return os.fspath(confdir)
    if localauth:
        return env.get("KAFS_SERVER_CONF_DIR") or DEFAULT_SERVER_DIR
    if env.get("KAFS_CONF_DIR"):
        return env["KAFS_CONF_DIR"]
    d = DEFAULT_CLIENT_DIR
    if not _has_openafs_config(d):
        alt = _afsconf_fallback(env)
        if alt is not None and _has_openafs_config(alt):
            return alt
    return d


def resolve_confdir(confdir=None, *, localauth: bool = False, env=None):
    """The OpenAFS configuration directory these rules select, as a
    :class:`pathlib.Path` (a :class:`Cell` keeps it as ``str`` in
    ``.confdir``: pathlib costs a short command milliseconds to import)."""
    from pathlib import Path
    return Path(_confdir(confdir, localauth=localauth, env=env))


def _client_conf_path(client_conf, env) -> str | None:
    if client_conf is not None:
        return os.fspath(client_conf) or None
    v = env.get("KAFS_CLIENT_CONF")
    if v is not None:
        return v or None
    return DEFAULT_CLIENT_CONF


def local_cell_name(confdir=None, *, localauth: bool = False, client_conf=None,
                    env=None) -> tuple[str, str]:
    """(cell name, where it came from) for the local cell."""
    env = os.environ if env is None else env
    if env.get("AFSCELL"):
        return env["AFSCELL"].strip().lower(), "AFSCELL"
    d = _confdir(confdir, localauth=localauth, env=env)
    name = _load_thiscell(d)
    if name:
        return name.lower(), os.path.join(d, "ThisCell")
    cc_path = _client_conf_path(client_conf, env)
    if cc_path:
        cc = _load_client_conf(cc_path)
        if cc is not None and cc.thiscell:
            return cc.thiscell.lower(), cc_path
    where = os.path.join(d, "ThisCell")
    if cc_path:
        where += f" or 'thiscell' in {cc_path}"
    raise ConfigError(f"cannot determine the local cell: no {where}; "
                      f"set AFSCELL or give a cell name")


def resolve_host(host: str) -> str:
    """An IP address for ``host`` (a literal is returned as it is)."""
    h = host.strip()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    lit = ip_literal(h)
    if lit is not None:
        return lit
    with _lock:
        hit = _host_cache.get(h.lower())
    if hit:
        return hit
    try:
        infos = socket.getaddrinfo(h, None, socket.AF_INET, socket.SOCK_DGRAM)
    except (OSError, UnicodeError):
        infos = []
    if not infos:
        try:
            infos = socket.getaddrinfo(h, None, socket.AF_INET6, socket.SOCK_DGRAM)
        except (OSError, UnicodeError):
            infos = []
    if not infos:
        raise ConfigError(f"can't find address for host '{host}'")
    addr = infos[0][4][0]
    with _lock:
        _host_cache[h.lower()] = addr
    return addr


class Cell:
    """An AFS cell: its name and where its servers are.

    >>> cell = Cell()                  # the local cell (AFSCELL / ThisCell)
    >>> cell.vlservers()               # [('127.1.0.1', 7003)]
    >>> cell.ptservers()               # [('127.1.0.1', 7002)]
    >>> cell.bosserver("afs1")         # ('127.1.0.1', 7007)
    >>> cell.servers("vlserver")       # [Server(host=..., port=7003, source='CellServDB'...)]
    """

    def __init__(self, name: str | None = None, *, confdir=None,
                 localauth: bool = False, client_conf=None,
                 servers: Iterable | None = None, dns: bool | None = None,
                 resolver=None, env=None):
        self._env = dict(os.environ if env is None else env)
        self.localauth = localauth
        self.confdir = _confdir(confdir, localauth=localauth, env=self._env)
        self._client_conf_path = _client_conf_path(client_conf, self._env)
        if name is None:
            name, origin = local_cell_name(self.confdir, localauth=localauth,
                                           client_conf=self._client_conf_path
                                           if self._client_conf_path else "",
                                           env=self._env)
            self.from_env = origin == "AFSCELL"
            self.name_source = origin
        else:
            if not str(name).strip():
                raise ConfigError("empty cell name")
            name = str(name).strip().lower()
            self.from_env = False
            self.name_source = "argument"
        self.requested_name = name
        self._explicit = self._explicit_servers(servers) if servers is not None else None
        if dns is None:
            dns = self._env.get("KAFS_DNS", "").strip().lower() not in (
                "0", "off", "no", "false", "n", "f")
        self.dns_enabled = dns
        self._resolver = resolver
        self._dns = None                  # a DNSLookup, made on first use
        self._resolver_key = id(resolver) if resolver is not None else None

    # -- configuration sources --------------------------------------------
    def _explicit_servers(self, servers: Iterable) -> tuple[Server, ...]:
        out = []
        for s in servers:
            if isinstance(s, Server):
                out.append(s)
                continue
            if isinstance(s, str):
                host, port = s, None
            else:
                host, port = s[0], (s[1] if len(s) > 1 else None)
            out.append(Server(resolve_host(host), int(port) if port else 0,
                              host if not _is_ip(host) else None, False, "argument"))
        if not out:
            raise ConfigError("empty server list")
        return tuple(out)

    @property
    def cellservdb(self) -> CellServDB | None:
        return _load_cellservdb(self.confdir)

    @property
    def client_conf(self) -> ClientConf | None:
        if not self._client_conf_path:
            return None
        return _load_client_conf(self._client_conf_path)

    def _csdb_entry(self):
        db = self.cellservdb
        return db.lookup(self.requested_name) if db is not None else None

    def _conf_cell(self) -> ConfCell | None:
        cc = self.client_conf
        return cc.lookup(self.requested_name) if cc is not None else None

    @property
    def name(self) -> str:
        """The cell's full name (CellServDB abbreviations/aliases expanded)."""
        e = self._csdb_entry()
        if e is not None:
            return e.name.lower()
        c = self._conf_cell()
        if c is not None:
            return c.name.lower()
        return self.requested_name

    @property
    def linked_cell(self) -> str | None:
        e = self._csdb_entry()
        return e.linked_cell if e is not None else None

    @property
    def description(self) -> str | None:
        e = self._csdb_entry()
        if e is not None and e.comment:
            return e.comment
        c = self._conf_cell()
        return c.description if c is not None else None

    @property
    def realm(self) -> str:
        """Kerberos realm: client.conf's kerberos_realm, else the upper-cased name."""
        c = self._conf_cell()
        if c is not None and c.kerberos_realm:
            return c.kerberos_realm
        return self.name.upper()

    # -- server lists -------------------------------------------------------
    def servers(self, service: str = "vlserver") -> list[Server]:
        """Database servers of ``service`` ("vlserver", "ptserver", "buserver"...)."""
        service = _service(service)
        port = SERVICE_PORTS[service]
        if self._explicit is not None:
            return [Server(s.host, s.port or port, s.name, s.clone, s.source)
                    for s in self._explicit]
        key = (str(self.confdir), self._client_conf_path, self.requested_name,
               service, self.dns_enabled, self._resolver_key)
        now = time.monotonic()
        with _lock:
            hit = _server_cache.get(key)
        # file-based results are re-derived every time (cheap: parse cache),
        # DNS-based ones are kept for their TTL
        if hit is not None and hit[0] > now:
            return list(hit[1])
        found, ttl, notes = self._find(service, port)
        if not found:
            detail = "; ".join(notes) if notes else "no configuration and no DNS"
            raise ConfigError(f"no servers found for cell {self.requested_name} ({detail})")
        if ttl is not None:
            with _lock:
                _server_cache[key] = (now + ttl, tuple(found))
        return list(found)

    def _find(self, service: str, port: int):
        notes: list[str] = []
        e = self._csdb_entry()
        db = self.cellservdb
        if e is not None:
            return [Server(h.address, port, h.hostname, h.clone, "CellServDB")
                    for h in e.hosts], None, notes
        if db is not None:
            notes.append(f"not in {', '.join(db.files)}")
        else:
            notes.append(f"no CellServDB in {self.confdir}")

        c = self._conf_cell()
        if c is not None and c.use_dns and self.dns_enabled:
            got = self._from_dns(service, port, notes)
            if got:
                return got[0], got[1], notes
        if c is not None:
            conf = self._from_conf(c, service, port)
            if conf:
                return conf, None, notes
            notes.append(f"no {service}s in {c.origin}")
        elif self._client_conf_path:
            notes.append(f"not in {self._client_conf_path}")

        if self.dns_enabled and not (c is not None and c.use_dns):
            got = self._from_dns(service, port, notes)
            if got:
                return got[0], got[1], notes
        elif not self.dns_enabled:
            notes.append("DNS lookups disabled")
        return [], None, notes

    def _from_dns(self, service: str, port: int, notes: list[str]):
        if self._dns is None:
            from .dns import DNSLookup
            self._dns = DNSLookup(self._resolver)
        res = self._dns.lookup(self.requested_name, service, port)
        if not res.servers:
            if res.problems:
                notes.append("DNS: " + "; ".join(res.problems))
            else:
                notes.append("no SRV or AFSDB records in the DNS")
            return None
        return [Server(s.host, s.port, s.name, False, s.source)
                for s in res.servers], res.ttl

    def _from_conf(self, c: ConfCell, service: str, port: int) -> list[Server]:
        if service in ("vlserver", "ptserver"):
            chosen = [s for s in c.servers if s.type == service]
            if not chosen and service == "ptserver":
                chosen = [s for s in c.servers if s.type == "vlserver"]
                force = True
            else:
                force = False
        else:
            chosen = [s for s in c.servers if s.type == "vlserver"]
            force = True
        out: list[Server] = []
        for s in chosen:
            sport = port if force else (s.port or port)
            if s.addresses:
                for a, p in s.addresses:
                    out.append(Server(a, port if force else (p or sport), s.name,
                                      False, "client.conf"))
            else:
                try:
                    out.append(Server(resolve_host(s.name), sport, s.name, False,
                                      "client.conf"))
                except ConfigError:
                    log.warning("%s: cannot resolve server %s; skipped", s.origin, s.name)
        return out

    def vlservers(self) -> list[tuple[str, int]]:
        """``[(host, port), ...]`` of the VL servers (port 7003 by default)."""
        return [s.addr for s in self.servers("vlserver")]

    def ptservers(self) -> list[tuple[str, int]]:
        """``[(host, port), ...]`` of the protection servers (port 7002 by default)."""
        return [s.addr for s in self.servers("ptserver")]

    def dbservers(self, service: str) -> list[tuple[str, int]]:
        return [s.addr for s in self.servers(service)]

    # -- single servers named by the user ------------------------------------
    def server(self, host: str, service: str) -> tuple[str, int]:
        """``(ip, port)`` of ``service`` on ``host`` (a name or an address)."""
        return (resolve_host(host), SERVICE_PORTS[_service(service)])

    def bosserver(self, host: str) -> tuple[str, int]:
        return self.server(host, "bosserver")

    def volserver(self, host: str) -> tuple[str, int]:
        return self.server(host, "volserver")

    def fileserver(self, host: str) -> tuple[str, int]:
        return self.server(host, "fileserver")

    def __repr__(self) -> str:
        return f"Cell({self.requested_name!r})"


def _is_ip(s: str) -> bool:
    return ip_literal(s.strip("[]")) is not None
