"""File servers as the cache manager sees them: ranks, up/down, connections.

One table per cache manager, keyed by address (a file server is one
address here: the VLDB's nvldbentry names each site by its primary
address).  Ranks follow OpenAFS's defaults (``afsi_SetServerIPRank``):
5000 for an address of this machine, 20000 on a local subnet, 30000 on a
local network, 40000 elsewhere, plus a small random part so that equal
servers share the load; ``fs setserverprefs`` overrides them.  Lower is
preferred.

A server that fails a call (no answer, ICMP unreachable) is marked down
for ``down_time`` seconds; while it is down the other sites are tried
first, and when every site of a volume is down they are all tried again
(the mark is a hint, not a verdict).  ``fs checkservers`` probes them.
"""

from __future__ import annotations

import ipaddress
import random
import socket
from dataclasses import dataclass, field

FS_PORT = 7000
FS_SERVICE = 1

RANK_LOCAL = 5000
RANK_SUBNET = 20000
RANK_NET = 30000
RANK_OTHER = 40000


def _local_networks() -> list[ipaddress.IPv4Interface]:
    """This machine's IPv4 interfaces (address/prefix), from the routing
    view the kernel gives a UDP socket and from the host's own names."""
    out: list[ipaddress.IPv4Interface] = [ipaddress.IPv4Interface("127.0.0.0/8")]
    try:
        import fcntl
        import struct
        names = [n for _, n in socket.if_nameindex()]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for n in names:
                req = struct.pack("256s", n.encode()[:15])
                try:
                    a = fcntl.ioctl(s.fileno(), 0x8915, req)[20:24]      # SIOCGIFADDR
                    m = fcntl.ioctl(s.fileno(), 0x891B, req)[20:24]      # SIOCGIFNETMASK
                except OSError:
                    continue
                out.append(ipaddress.IPv4Interface("%s/%s" % (socket.inet_ntoa(a),
                                                              socket.inet_ntoa(m))))
        finally:
            s.close()
    except (OSError, ImportError):
        pass
    return out


def default_rank(addr: str, nets=None, rng=random) -> int:
    try:
        a = ipaddress.IPv4Address(addr)
    except ValueError:
        return RANK_OTHER + rng.randrange(15)
    nets = _local_networks() if nets is None else nets
    base = RANK_OTHER
    for n in nets:
        if a == n.ip or (n.network.prefixlen == 8 and a in n.network and a.is_loopback):
            base = min(base, RANK_LOCAL)
        elif a in n.network:
            base = min(base, RANK_SUBNET)
        elif a in ipaddress.IPv4Network("%s/16" % n.ip, strict=False):
            base = min(base, RANK_NET)
    return base + rng.randrange(15)


@dataclass(eq=False)
class FileServer:
    """One file server (by address)."""

    addr: str
    port: int = FS_PORT
    rank: int = RANK_OTHER
    rank_set: bool = False            # by fs setserverprefs
    down_until: float = 0.0
    failures: int = 0
    #: bumped when the server tells us to forget its callbacks
    #: (InitCallBackState*): every callback it gave before is void
    epoch: int = 0
    capabilities: int | None = None
    cells: set = field(default_factory=set)
    _conns: dict = field(default_factory=dict)

    @property
    def address(self) -> tuple[str, int]:
        return (self.addr, self.port)

    def is_down(self, now: float) -> bool:
        return now < self.down_until

    def mark_down(self, now: float, down_time: float) -> None:
        self.failures += 1
        self.down_until = now + down_time

    def mark_up(self) -> None:
        self.down_until = 0.0
        self.failures = 0

    def connection(self, endpoint, security, dead_time: float, idle_dead: float = 0.0):
        key = (id(security), dead_time, idle_dead)
        c = self._conns.get(key)
        if c is None or c.endpoint is not endpoint:
            c = endpoint.connection(self.address, FS_SERVICE, security, dead_time=dead_time,
                                    idle_dead=idle_dead)
            # the security object is kept alive by the connection; its id
            # stays unique while it is in the key
            self._conns[key] = c
        return c

    def forget_connections(self) -> None:
        self._conns.clear()


class ServerTable:
    """Every file server this cache manager has heard of."""

    def __init__(self, *, down_time: float = 60.0, rng=None):
        self.down_time = down_time
        self._rng = rng or random.Random()
        self._nets = None
        self.servers: dict[str, FileServer] = {}

    def get(self, addr: str, port: int = FS_PORT, cell: str | None = None) -> FileServer:
        s = self.servers.get(addr)
        if s is None:
            if self._nets is None:
                self._nets = _local_networks()
            s = FileServer(addr, port, rank=default_rank(addr, self._nets, self._rng))
            self.servers[addr] = s
        if cell:
            s.cells.add(cell)
        return s

    def by_peer(self, host: str) -> FileServer | None:
        return self.servers.get(host)

    def set_rank(self, addr: str, rank: int) -> FileServer:
        s = self.get(addr)
        s.rank = max(0, min(int(rank), 65534))
        s.rank_set = True
        return s

    def order(self, servers, now: float) -> list[FileServer]:
        """Servers in the order to try them: up ones by rank, then the ones
        marked down (by rank), so a volume whose every site is down is still
        tried."""
        up = sorted((s for s in servers if not s.is_down(now)), key=lambda s: s.rank)
        down = sorted((s for s in servers if s.is_down(now)), key=lambda s: s.rank)
        return up + down
