"""A tiny authoritative DNS responder on 127.0.0.1 for tests, built from
dnspython's own zone and message code (no network, no mock of OpenAFS)."""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.zone


class LocalDNSServer:
    """Serve ``zone_text`` (origin ``origin``) over UDP until ``close()``.

    ``queries`` records (name, type) of every question; ``glue`` adds the A
    records of SRV/AFSDB targets to the additional section.  ``servfail``
    names (lower-case text, trailing dot) get SERVFAIL; ``drop`` names are
    never answered (a timeout).
    """

    def __init__(self, zone_text: str, origin: str, *, glue: bool = False):
        self.zone = dns.zone.from_text(zone_text, origin=origin, relativize=False,
                                       check_origin=False)
        self.glue = glue
        self.queries: list[tuple[str, str]] = []
        self.servfail: set[str] = set()
        self.drop: set[str] = set()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def resolver(self, lifetime: float = 30.0) -> dns.resolver.Resolver:
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = ["127.0.0.1"]
        r.port = self.port
        r.lifetime = lifetime
        r.timeout = lifetime
        return r

    def _answer(self, q: dns.message.Message) -> dns.message.Message | None:
        resp = dns.message.make_response(q)
        resp.flags |= dns.flags.AA
        question = q.question[0]
        name, rdtype = question.name, question.rdtype
        key = name.to_text().lower()
        self.queries.append((key, dns.rdatatype.to_text(rdtype)))
        if key in self.drop:
            return None
        if key in self.servfail:
            resp.set_rcode(dns.rcode.SERVFAIL)
            return resp
        node = self.zone.get_node(name)
        if node is None:
            resp.set_rcode(dns.rcode.NXDOMAIN)
            return resp
        rds = node.get_rdataset(question.rdclass, rdtype)
        if rds is None:
            return resp                      # NOERROR, no data
        rrset = resp.find_rrset(resp.answer, name, question.rdclass, rdtype, create=True)
        rrset.update(rds)
        if self.glue and rdtype in (dns.rdatatype.SRV, dns.rdatatype.AFSDB):
            for rd in rds:
                target = rd.target if rdtype == dns.rdatatype.SRV else rd.hostname
                tnode = self.zone.get_node(target)
                a = tnode.get_rdataset(question.rdclass, dns.rdatatype.A) if tnode else None
                if a is not None:
                    g = resp.find_rrset(resp.additional, target, question.rdclass,
                                        dns.rdatatype.A, create=True)
                    g.update(a)
        return resp

    def _run(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                q = dns.message.from_wire(data)
                resp = self._answer(q)
            except Exception:          # noqa: BLE001 - a test server must not die
                continue
            if resp is not None:
                self.sock.sendto(resp.to_wire(), peer)

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()
