"""Finding a cell's database servers in the DNS (SRV, then AFSDB).

What OpenAFS 1.8.9's ``afsconf_LookupServer``/``afsconf_GetAfsdbInfo`` do,
as facts:

* query ``_<iana>._udp.<cell>`` for SRV records (iana names
  ``afs3-vlserver``, ``afs3-prserver``...), then ``<cell>`` for AFSDB records
  of subtype 1 (AFS database server), which carry no port: the service's
  default port is used;
* if nothing is found for ``afs3-prserver`` (or the kaserver), the lookup is
  repeated for ``afs3-vlserver`` with the port forced to the service's;
* at most 8 servers (``MAXHOSTSPERCELL``); IPv4 addresses only;
* the results live as long as the smallest TTL seen.

OpenAFS keeps SRV records in answer order and ignores the weight; we order
them as RFC 2782 asks: ascending priority, weighted random within one
priority (weight-0 records first in the running sum), and a target of ``.``
means "no such service here".

Every DNS answer (and every negative answer, for :data:`NEGATIVE_TTL`
seconds) is cached per process, keyed by the resolver's nameservers.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from dataclasses import dataclass

from kafs.errors import ConfigError


class _LazyDNS:
    """dnspython, imported on first use: it costs ~75 ms at start-up, and a
    cell found in CellServDB (the common case for every tool) needs no DNS."""

    def __getattr__(self, name):
        global dns
        import dns.exception    # noqa: F401  (binds the package locally)
        import dns.name         # noqa: F401
        import dns.rdatatype    # noqa: F401
        import dns.resolver     # noqa: F401  (`global dns`: now the real package)
        return getattr(dns, name)


dns = _LazyDNS()

log = logging.getLogger("kafs.cell")

__all__ = ["DNSServer", "DNSLookupResult", "DNSLookup", "rfc2782_order",
           "IANA_NAMES", "NEGATIVE_TTL", "clear_dns_cache"]

MAXHOSTSPERCELL = 8
NEGATIVE_TTL = 60.0            # how long "no such record" is believed
DEFAULT_LIFETIME = 10.0        # seconds for one query, all nameservers/retries included

IANA_NAMES = {
    "fileserver": "afs3-fileserver",
    "callback": "afs3-callback",
    "ptserver": "afs3-prserver",
    "vlserver": "afs3-vlserver",
    "kaserver": "afs3-kaserver",
    "volserver": "afs3-volserver",
    "errors": "afs3-errors",
    "bosserver": "afs3-bos",
    "update": "afs3-update",
    "rmtsys": "afs3-rmtsys",
}


@dataclass(frozen=True, slots=True)
class DNSServer:
    host: str          # IPv4 address
    port: int
    name: str          # the SRV target / AFSDB hostname
    source: str        # "SRV" or "AFSDB"
    priority: int = 0
    weight: int = 0


@dataclass(frozen=True, slots=True)
class DNSLookupResult:
    servers: tuple[DNSServer, ...]
    ttl: float                      # seconds the result may be used
    problems: tuple[str, ...] = ()  # DNS failures met on the way (for messages)


class _Failure(Exception):
    """A DNS failure that is not a negative answer (timeout, SERVFAIL...)."""


_cache: dict[tuple, tuple[float, object]] = {}
_cache_lock = threading.Lock()


def clear_dns_cache() -> None:
    with _cache_lock:
        _cache.clear()


def rfc2782_order(records, rng: random.Random | None = None) -> list:
    """Order records with ``.priority``/``.weight`` as RFC 2782 selects them."""
    rng = rng or random
    out: list = []
    for prio in sorted({r.priority for r in records}):
        group = [r for r in records if r.priority == prio]
        # weight-0 entries go first so that they have a (small) chance too
        group.sort(key=lambda r: r.weight != 0)
        while group:
            total = sum(r.weight for r in group)
            pick = rng.randint(0, total) if total else 0
            running = 0
            for i, r in enumerate(group):
                running += r.weight
                if running >= pick:
                    out.append(group.pop(i))
                    break
    return out


class DNSLookup:
    """SRV/AFSDB lookups through a dnspython resolver, cached per process."""

    def __init__(self, resolver: dns.resolver.Resolver | None = None, *,
                 lifetime: float | None = None,
                 rng: random.Random | None = None,
                 clock=time.monotonic):
        self._resolver = resolver
        # None: the resolver's own lifetime when one is given, else ours
        self.lifetime = lifetime if lifetime is not None or resolver is not None \
            else DEFAULT_LIFETIME
        self.rng = rng
        self.clock = clock

    # -- plumbing -----------------------------------------------------------
    @property
    def resolver(self) -> dns.resolver.Resolver:
        if self._resolver is None:
            try:
                self._resolver = dns.resolver.Resolver()
            except dns.resolver.NoResolverConfiguration as e:
                raise _Failure(f"no resolver configuration ({e})") from None
            except OSError as e:
                raise _Failure(f"cannot read resolver configuration: {e}") from None
        return self._resolver

    def _key(self) -> tuple:
        r = self.resolver
        return (tuple(r.nameservers), getattr(r, "port", 53))

    def _query(self, qname: str, rdtype: str):
        """Answer (rrset, additional section, ttl) or None for a negative answer."""
        key = self._key() + (qname.lower(), rdtype)
        now = self.clock()
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            ans = self.resolver.resolve(qname, rdtype, search=False,
                                        lifetime=self.lifetime,
                                        raise_on_no_answer=True)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            value = None
            ttl = NEGATIVE_TTL
        except dns.resolver.NoNameservers as e:
            raise _Failure(f"{qname} {rdtype}: no nameserver answered ({_short(e)})") from None
        except dns.exception.Timeout:
            raise _Failure(f"{qname} {rdtype}: timed out") from None
        except dns.exception.DNSException as e:
            raise _Failure(f"{qname} {rdtype}: {_short(e)}") from None
        except OSError as e:
            raise _Failure(f"{qname} {rdtype}: {e.strerror or e}") from None
        else:
            rrset = ans.rrset
            ttl = float(rrset.ttl) if rrset is not None else NEGATIVE_TTL
            additional = list(ans.response.additional) if ans.response else []
            value = (list(rrset) if rrset is not None else [], additional, ttl)
            if rrset is None:
                value = None
        with _cache_lock:
            _cache[key] = (now + ttl, value)
        return value

    def _addresses(self, host: str, additional) -> tuple[list[str], float | None]:
        """IPv4 addresses of ``host``: glue, then an A query, then the system."""
        target = dns.name.from_text(host)
        glue = []
        ttl = None
        for rrset in additional:
            if rrset.name == target and rrset.rdtype == dns.rdatatype.A:
                glue.extend(r.address for r in rrset)
                ttl = float(rrset.ttl)
        if glue:
            return glue, ttl
        try:
            got = self._query(target.to_text(), "A")
        except _Failure:
            got = None
        if got:
            return [r.address for r in got[0]], got[2]
        try:
            infos = socket.getaddrinfo(host.rstrip("."), None, socket.AF_INET,
                                       socket.SOCK_DGRAM)
        except (OSError, UnicodeError):
            return [], None
        out: list[str] = []
        for info in infos:
            a = info[4][0]
            if a not in out:
                out.append(a)
        return out, None

    # -- lookups ------------------------------------------------------------
    def _srv(self, cell: str, iana: str, port_override: int | None,
             problems: list[str]):
        qname = f"_{iana}._udp.{cell}."
        try:
            got = self._query(qname, "SRV")
        except _Failure as e:
            problems.append(str(e))
            return None
        if not got:
            return None
        records, additional, ttl = got
        live = [r for r in records if r.target != dns.name.root]
        servers: list[DNSServer] = []
        for r in rfc2782_order(live, self.rng):
            name = r.target.to_text()
            addrs, attl = self._addresses(name, additional)
            if attl is not None:
                ttl = min(ttl, attl)
            for a in addrs:
                if len(servers) < MAXHOSTSPERCELL and all(s.host != a for s in servers):
                    servers.append(DNSServer(a, port_override or r.port,
                                             name.rstrip("."), "SRV",
                                             r.priority, r.weight))
        if not servers:
            if records and not live:
                log.info("%s: SRV says the service is not available", qname)
            return None
        return DNSLookupResult(tuple(servers), ttl)

    def _afsdb(self, cell: str, port: int, problems: list[str]):
        qname = f"{cell}."
        try:
            got = self._query(qname, "AFSDB")
        except _Failure as e:
            problems.append(str(e))
            return None
        if not got:
            return None
        records, additional, ttl = got
        servers: list[DNSServer] = []
        for r in records:
            if r.subtype != 1:
                continue
            name = r.hostname.to_text()
            addrs, attl = self._addresses(name, additional)
            if attl is not None:
                ttl = min(ttl, attl)
            for a in addrs[:1]:     # OpenAFS takes gethostbyname's first address
                if len(servers) < MAXHOSTSPERCELL and all(s.host != a for s in servers):
                    servers.append(DNSServer(a, port, name.rstrip("."), "AFSDB"))
        if not servers:
            return None
        return DNSLookupResult(tuple(servers), ttl)

    def lookup(self, cell: str, service: str, port: int) -> DNSLookupResult:
        """Servers for ``service`` ("vlserver", "ptserver"...) of ``cell``.

        Returns a result with no servers (and the problems met) when nothing
        was found; never raises for DNS trouble.
        """
        cell = cell.rstrip(".").lower()
        iana = IANA_NAMES.get(service)
        if iana is None:
            raise ConfigError(f"no DNS service name for {service!r}")
        problems: list[str] = []
        try:
            res = self._srv(cell, iana, None, problems) \
                or self._afsdb(cell, port, problems)
            if res is None and service in ("ptserver", "kaserver"):
                res = self._srv(cell, IANA_NAMES["vlserver"], port, problems)
        except _Failure as e:              # resolver construction
            problems.append(str(e))
            res = None
        except (ValueError, dns.exception.DNSException) as e:   # e.g. a bad name
            problems.append(f"{cell}: {_short(e)}")
            res = None
        if res is None:
            return DNSLookupResult((), NEGATIVE_TTL, tuple(problems))
        return DNSLookupResult(res.servers, res.ttl, tuple(problems))


def _short(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]
