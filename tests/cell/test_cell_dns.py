"""DNS lookups (SRV, AFSDB, RFC 2782 order, TTL cache) against a local
dnspython-built responder on 127.0.0.1."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from cell_dnsserver import LocalDNSServer
from kafs.cell import Cell, DNSLookup, clear_cache, rfc2782_order
from kafs.errors import ConfigError

ZONE = """\
$TTL 300
@                      IN SOA ns.example. host.example. 1 3600 600 86400 60
@                      IN NS  ns.example.
srv.example.           IN NS  ns.example.
_afs3-vlserver._udp.srv.example.  120 IN SRV 10 50 7003 db2.srv.example.
_afs3-vlserver._udp.srv.example.  120 IN SRV 5  0  7103 db1.srv.example.
_afs3-vlserver._udp.srv.example.  120 IN SRV 20 10 7003 db3.srv.example.
_afs3-prserver._udp.srv.example.  IN SRV 0 0 7012 db1.srv.example.
db1.srv.example.  60 IN A 192.0.2.1
db2.srv.example.  IN A 192.0.2.2
db3.srv.example.  IN A 192.0.2.3
db3.srv.example.  IN A 192.0.2.33
afsdb.example.    IN AFSDB 1 dbA.afsdb.example.
afsdb.example.    IN AFSDB 2 dce.afsdb.example.
afsdb.example.    IN AFSDB 1 dbB.afsdb.example.
dbA.afsdb.example. IN A 198.51.100.1
dbB.afsdb.example. IN A 198.51.100.2
dce.afsdb.example. IN A 198.51.100.9
_afs3-vlserver._udp.vlonly.example. IN SRV 0 0 7003 db1.srv.example.
_afs3-vlserver._udp.none.example. IN SRV 0 0 0 .
_afs3-vlserver._udp.broken.example. IN SRV 0 0 7003 nowhere.invalid.
"""


@pytest.fixture
def dnsd():
    clear_cache()
    s = LocalDNSServer(ZONE, "example.")
    yield s
    s.close()
    clear_cache()


@pytest.fixture
def emptydir(tmp_path):
    """An OpenAFS config dir with a ThisCell but no CellServDB."""
    (tmp_path / "ThisCell").write_text("srv.example\n")
    return tmp_path


def _cell(name, dnsd, confdir, **kw):
    return Cell(name, confdir=confdir, client_conf="", resolver=dnsd.resolver(), env={}, **kw)


def test_srv_priority_and_ports(dnsd, emptydir):
    c = _cell("srv.example", dnsd, emptydir)
    servers = c.servers("vlserver")
    addrs = [s.addr for s in servers]
    assert addrs[:2] == [("192.0.2.1", 7103), ("192.0.2.2", 7003)]
    assert sorted(addrs[2:]) == [("192.0.2.3", 7003), ("192.0.2.33", 7003)]
    assert {s.source for s in servers} == {"SRV"}
    assert servers[0].name == "db1.srv.example"
    assert c.ptservers() == [("192.0.2.1", 7012)]


def test_cache_honours_ttl(dnsd, emptydir):
    c = _cell("srv.example", dnsd, emptydir)
    c.vlservers()
    n = len(dnsd.queries)
    assert n > 0
    c.vlservers()
    _cell("srv.example", dnsd, emptydir).vlservers()      # a new Cell shares the cache
    assert len(dnsd.queries) == n


def test_lookup_ttl_is_minimum(dnsd):
    res = DNSLookup(dnsd.resolver()).lookup("srv.example", "vlserver", 7003)
    assert res.ttl == 60                        # db1's A record
    assert res.problems == ()


def test_cache_expires(dnsd):
    now = [1000.0]
    look = DNSLookup(dnsd.resolver(), clock=lambda: now[0])
    look.lookup("srv.example", "ptserver", 7002)
    n = len(dnsd.queries)
    look.lookup("srv.example", "ptserver", 7002)
    assert len(dnsd.queries) == n
    now[0] += 301
    look.lookup("srv.example", "ptserver", 7002)
    assert len(dnsd.queries) > n


def test_glue_is_used(emptydir):
    clear_cache()
    s = LocalDNSServer(ZONE, "example.", glue=True)
    try:
        res = DNSLookup(s.resolver()).lookup("srv.example", "vlserver", 7003)
        assert len(res.servers) == 4
        assert [q for q in s.queries if q[1] == "A"] == []
    finally:
        s.close()
        clear_cache()


def test_afsdb_fallback(dnsd, emptydir):
    c = _cell("afsdb.example", dnsd, emptydir)
    servers = c.servers("vlserver")
    assert sorted((s.addr, s.source, s.name) for s in servers) == [
        (("198.51.100.1", 7003), "AFSDB", "dbA.afsdb.example"),
        (("198.51.100.2", 7003), "AFSDB", "dbB.afsdb.example")]   # subtype 2 ignored
    assert sorted(c.ptservers()) == [("198.51.100.1", 7002), ("198.51.100.2", 7002)]
    assert ("_afs3-vlserver._udp.afsdb.example.", "SRV") in dnsd.queries


def test_prserver_falls_back_to_vlserver_srv(dnsd, emptydir):
    c = _cell("vlonly.example", dnsd, emptydir)
    assert c.vlservers() == [("192.0.2.1", 7003)]
    assert c.ptservers() == [("192.0.2.1", 7002)]


def test_not_found_messages(dnsd, emptydir):
    with pytest.raises(ConfigError) as ei:
        _cell("nosuch.example", dnsd, emptydir).vlservers()
    msg = str(ei.value)
    assert msg.startswith("no servers found for cell nosuch.example (")
    assert "no SRV or AFSDB records in the DNS" in msg
    with pytest.raises(ConfigError, match="no servers found for cell none.example"):
        _cell("none.example", dnsd, emptydir).vlservers()     # SRV target "."
    with pytest.raises(ConfigError, match="no servers found for cell broken.example"):
        _cell("broken.example", dnsd, emptydir).vlservers()   # target unresolvable


def test_servfail_and_timeout_are_config_errors(dnsd, emptydir):
    dnsd.servfail.add("_afs3-vlserver._udp.sf.example.")
    dnsd.drop.add("sf.example.")
    c = Cell("sf.example", confdir=emptydir, client_conf="", env={},
             resolver=dnsd.resolver(lifetime=0.5))
    with pytest.raises(ConfigError) as ei:
        c.vlservers()
    msg = str(ei.value)
    assert "no servers found for cell sf.example" in msg
    assert "DNS: " in msg
    assert "timed out" in msg or "no nameserver answered" in msg


def test_no_resolver_config(emptydir, monkeypatch):
    import dns.resolver

    def boom(*a, **k):
        raise dns.resolver.NoResolverConfiguration("no /etc/resolv.conf")
    monkeypatch.setattr(dns.resolver, "Resolver", boom)
    clear_cache()
    with pytest.raises(ConfigError, match="DNS: no resolver configuration"):
        Cell("x.example", confdir=emptydir, client_conf="", env={}).vlservers()


def test_config_wins_over_dns(dnsd, tmp_path):
    (tmp_path / "ThisCell").write_text("srv.example\n")
    (tmp_path / "CellServDB").write_text(">srv.example #c\n10.9.9.9 #conf\n")
    c = _cell(None, dnsd, tmp_path)
    assert c.vlservers() == [("10.9.9.9", 7003)]
    assert dnsd.queries == []


def test_dns_disabled(dnsd, emptydir):
    c = Cell("srv.example", confdir=emptydir, client_conf="", resolver=dnsd.resolver(),
             env={"KAFS_DNS": "off"})
    with pytest.raises(ConfigError, match="DNS lookups disabled"):
        c.vlservers()
    assert dnsd.queries == []


@dataclass
class R:
    name: str
    priority: int
    weight: int


def test_rfc2782_order_distribution():
    recs = [R("a", 1, 0), R("b", 0, 10), R("c", 0, 30), R("d", 0, 60), R("z", 5, 100)]
    rng = random.Random(1234)
    firsts: dict[str, int] = {}
    for _ in range(4000):
        order = rfc2782_order(recs, rng)
        assert [r.priority for r in order] == [0, 0, 0, 1, 5]
        firsts[order[0].name] = firsts.get(order[0].name, 0) + 1
    # weights 10:30:60 -> the first pick follows them roughly
    assert 250 < firsts["b"] < 550
    assert 1000 < firsts["c"] < 1400
    assert 2200 < firsts["d"] < 2600


def test_rfc2782_zero_weights():
    recs = [R("a", 0, 0), R("b", 0, 0)]
    assert sorted(r.name for r in rfc2782_order(recs, random.Random(0))) == ["a", "b"]
