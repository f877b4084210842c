"""kAFS's ``/etc/kafs/client.conf``: defaults and the ``[cells]`` database.

What is taken from the profile (kafs-client's ``kafs-client.conf(5)``)::

    [defaults]
    thiscell = example.com
    sysname = amd64_linux26 @sys-fallback      # white-space separated list

    [cells]
    example.com = {
        description = "Example cell"
        use_dns = yes            # DNS results replace the configured servers
        show_cell = yes
        kerberos_realm = EXAMPLE.COM
        servers = {
            afsdb1.example.com = {
                type = vlserver                 # default; or ptserver
                address = 192.0.2.1             # [udp/]addr[:port], addr may be [v6]
                address = [2001:db8::1]:7003
                port = 7003                     # optional default port
            }
            udp/afsdb2.example.com:7013 = { }   # no address: the name is resolved
        }
    }
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field

from kafs.errors import ConfigError

from .profile import ProfileNode, profile_bool

log = logging.getLogger("kafs.cell")

__all__ = ["ConfServer", "ConfCell", "ClientConf", "parse_client_conf",
           "parse_address"]


@dataclass(frozen=True, slots=True)
class ConfServer:
    name: str
    type: str                      # "vlserver" or "ptserver"
    addresses: tuple[tuple[str, int | None], ...]   # (ip, port or None)
    port: int | None = None        # from "name:port" or "port = N"
    origin: str = ""


@dataclass(frozen=True, slots=True)
class ConfCell:
    name: str
    description: str | None = None
    use_dns: bool = False
    show_cell: bool = True
    kerberos_realm: str | None = None
    servers: tuple[ConfServer, ...] = ()
    origin: str = ""


@dataclass(slots=True)
class ClientConf:
    thiscell: str | None = None
    sysname: list[str] = field(default_factory=list)
    cells: dict[str, ConfCell] = field(default_factory=dict)    # lower(name) -> cell

    def lookup(self, name: str) -> ConfCell | None:
        return self.cells.get(name.lower())


def _port(text: str, where: str) -> int:
    try:
        port = int(text, 0)
    except ValueError:
        raise ConfigError(f"{where}: invalid port {text!r}") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{where}: port {port} out of range")
    return port


def parse_address(text: str, where: str) -> tuple[str, int | None]:
    """``[udp/]addr[:port]`` with ``addr`` IPv4, IPv6 or ``[IPv6]``."""
    v = text.strip()
    if v.startswith("udp/"):
        v = v[4:]
    elif v.startswith("tcp/"):
        raise ConfigError(f"{where}: only udp is supported, not {text!r}")
    port: int | None = None
    if v.startswith("["):
        end = v.find("]")
        if end < 0:
            raise ConfigError(f"{where}: invalid address {text!r}")
        rest = v[end + 1:]
        v = v[1:end]
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"{where}: invalid address {text!r}")
            port = _port(rest[1:], where)
        try:
            return str(ipaddress.IPv6Address(v)), port
        except ValueError:
            raise ConfigError(f"{where}: invalid address {text!r}") from None
    if v.count(":") == 1:
        v, p = v.split(":")
        port = _port(p, where)
    try:
        return str(ipaddress.ip_address(v)), port
    except ValueError:
        raise ConfigError(f"{where}: invalid address {text!r}") from None


def _server(node: ProfileNode) -> ConfServer | None:
    where = node.where
    name = node.name
    if name.startswith("udp/"):
        name = name[4:]
    elif name.startswith("tcp/"):
        log.warning("%s: server %s: only udp is supported; ignored", where, node.name)
        return None
    port: int | None = None
    if name.startswith("["):
        end = name.find("]")
        if end < 0:
            raise ConfigError(f"{where}: invalid server name {node.name!r}")
        rest = name[end + 1:]
        name = name[1:end]
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"{where}: invalid server name {node.name!r}")
            port = _port(rest[1:], where)
    elif name.count(":") == 1:
        name, p = name.split(":")
        port = _port(p, where)
    if not name:
        return None
    if node.string("port") is not None:
        port = _port(node.string("port") or "", node.strings("port")[-1].where)
    stype = (node.string("type") or "vlserver").strip()
    if stype not in ("vlserver", "ptserver"):
        log.warning("%s: server %s: unknown type %r; ignored", where, name, stype)
        return None
    addrs = tuple(parse_address(a.value or "", a.where) for a in node.strings("address"))
    return ConfServer(name, stype, addrs, port, where)


def parse_client_conf(root: ProfileNode) -> ClientConf:
    conf = ClientConf()
    defaults = root.list("defaults")
    if defaults is not None:
        tc = defaults.string("thiscell")
        if tc:
            conf.thiscell = tc.strip()
        for s in defaults.strings("sysname"):
            conf.sysname.extend((s.value or "").split())
    cells = root.list("cells")
    if cells is None:
        return conf
    for c in cells.lists():
        servers: list[ConfServer] = []
        slist = c.list("servers")
        if slist is not None:
            for s in slist.lists():
                srv = _server(s)
                if srv is not None:
                    servers.append(srv)
        cell = ConfCell(
            name=c.name,
            description=c.string("description"),
            use_dns=bool(profile_bool(c.string("use_dns"), False)),
            show_cell=bool(profile_bool(c.string("show_cell"), True)),
            kerberos_realm=c.string("kerberos_realm"),
            servers=tuple(servers),
            origin=c.where,
        )
        conf.cells[c.name.lower()] = cell
    return conf
