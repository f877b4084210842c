"""udebug: the Ubik voting and database status of one server, printed
exactly as OpenAFS 1.8.9's ``udebug`` prints it.

Behaviour taken from OpenAFS (facts, not code):

* host as rxdebug (:func:`kafs.api.debug.resolve_host`); not found:
  ``udebug: host X not found in host table`` on stdout, exit 1.
* ``-port``: digits (the value as a C short: 32768-65535 count as
  failures), else a service name from /etc/services, else a prefix of
  vlserver (7003), ptserver (7002), kaserver (7004) or buserver (7021);
  else ``udebug: can't resolve port name X`` on stdout, exit 1.  Without
  ``-port`` the port is 3000 (a historical default).
* the queries: see :func:`kafs.api.debug.ubik_debug`; a failure prints
  ``return code N from VOTE_Debug`` and exits 0 (every path but the two
  argument errors exits 0).
* times: the server's ``now`` and the local clock (read right after the
  main query) are printed with ctime(); "N secs ago" are server-relative
  differences, the "(at ...)" times are local now minus them.

``-json`` (kafs extension) prints the gathered data as one JSON document.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass, field

from kafs.api.debug import UbikDebugInfo, host4_from_hbo, inet_ntoa, resolve_host

MAXSKEW = 10


def main() -> int:
    from kafs.cli.rxdebug import tool_main
    return tool_main("udebug")


def _short(v: int) -> int:
    v &= 0xffff
    return v - 65536 if v & 0x8000 else v


def resolve_port(text: str) -> int | None:
    """udebug's PortNumber/PortName, or None."""
    total = 0
    port = None
    for ch in text:
        if not "0" <= ch <= "9":
            port = -1
            break
        total = (total * 10 + ord(ch) - 48) & 0xffffffff
    if port is None:
        port = _short(total)
    if port < 0:
        port = -1
        try:
            port = _short(socket.getservbyname(text))
        except (OSError, UnicodeError, ValueError):
            n = len(text)
            for name, num in (("vlserver", 7003), ("ptserver", 7002),
                              ("kaserver", 7004), ("buserver", 7021)):
                if n <= len(name) and name.startswith(text):
                    port = num
                    break
    if port < 0:
        return None
    return port


@dataclass
class UdebugResult:
    host: str = ""
    port: int = 0
    status: int = 0
    fatal: str | None = None
    info: UbikDebugInfo = field(default_factory=UbikDebugInfo)


async def run(args) -> UdebugResult:
    from kafs.api.debug import ubik_debug
    r = UdebugResult()
    host4 = resolve_host(args.server)
    if host4 is None:
        r.fatal = "udebug: host %s not found in host table\n" % args.server
        r.status = 1
        return r
    if args.port is None:
        port = 3000
    else:
        port = resolve_port(args.port)
        if port is None:
            r.fatal = "udebug: can't resolve port name %s\n" % args.port
            r.status = 1
            return r
    r.host = inet_ntoa(host4)
    r.port = port
    r.info = await ubik_debug(host4, port, bool(args.long))
    return r


def exit_code(r: UdebugResult) -> int:
    return r.status


def _ip(hbo: int) -> str:
    return inet_ntoa(host4_from_hbo(hbo))


def _i32(v: int) -> int:
    v &= 0xffffffff
    return v - (1 << 32) if v & 0x80000000 else v


def format_result(r: UdebugResult) -> str:
    from kafs.cli.render import ctime
    if r.fatal is not None:
        return r.fatal
    info = r.info
    if info.code:
        return "return code %d from VOTE_Debug\n" % info.code
    d = dict(info.db)
    now = info.local_now
    o = []
    if not info.old_server:
        o.append("Host's addresses are: ")
        for a in d["interfaceAddr"][:256]:
            if not a:
                break
            o.append("%s " % _ip(a))
        o.append("\n")
    o.append("Host's %s time is %s\n" % (r.host, ctime(d["now"])))
    diff = now - d["now"]
    o.append("Local time is %s (time differential %d secs)\n"
             % (ctime(now), _i32(diff)))
    if abs(_i32(diff)) >= MAXSKEW:
        o.append("****clock may be bad\n")
    if d["amSyncSite"] and d["nServers"] == 1:
        # Ubik skips voting with one server; udebug fakes these fields.
        d["lastYesHost"] = _i32(int.from_bytes(
            socket.inet_aton(r.host), "big"))
        d["lastYesTime"] = d["now"]
        d["lastYesState"] = 1
        d["lastYesClaim"] = d["now"]
        d["syncVersion"] = d["localVersion"]
    if d["lastYesHost"] & 0xffffffff == 0xffffffff:
        o.append("Last yes vote not cast yet \n")
    else:
        diff = d["now"] - d["lastYesTime"]
        o.append("Last yes vote for %s was %d secs ago (%ssync site); \n" % (
            _ip(d["lastYesHost"]), _i32(diff),
            "" if d["lastYesState"] else "not "))
        diff = d["now"] - d["lastYesClaim"]
        o.append("Last vote started %d secs ago (at %s)\n"
                 % (_i32(diff), ctime(now - diff)))
    o.append("Local db version is %d.%d\n" % d["localVersion"])
    if d["amSyncSite"]:
        n = d["nServers"]
        plural = "s" if n > 1 else ""
        if d["syncSiteUntil"] == 0x7fffffff:
            o.append("I am sync site forever (%d server%s)\n" % (n, plural))
        else:
            diff = d["syncSiteUntil"] - d["now"]
            o.append("I am sync site until %d secs from now (at %s) "
                     "(%d server%s)\n" % (_i32(diff), ctime(now + diff), n,
                                           plural))
        o.append("Recovery state %x\n" % (d["recoveryState"] & 0xffffffff))
    else:
        if info.is_clone:
            o.append("I am a clone and never can become sync site\n")
        else:
            o.append("I am not sync site\n")
        o.append("Lowest host %s was set %d secs ago\n"
                 % (_ip(d["lowestHost"]), _i32(d["now"] - d["lowestTime"])))
        o.append("Sync host %s was set %d secs ago\n"
                 % (_ip(d["syncHost"]), _i32(d["now"] - d["syncTime"])))
    if d["activeWrite"]:
        o.append("I am currently managing write trans %d.%d\n"
                 % (d["epochTime"], d["tidCounter"]))
    else:
        o.append("The last trans I handled was %d.%d\n"
                 % (d["epochTime"], d["tidCounter"]))
    o.append("Sync site's db version is %d.%d\n" % d["syncVersion"])
    o.append("%d locked pages, %d of them for write\n"
             % (d["lockedPages"], d["writeLockedPages"]))
    if d["anyReadLocks"]:
        o.append("There are read locks held\n")
    if d["anyWriteLocks"]:
        o.append("There are write locks held\n")
    if d["currentTrans"]:
        if d["writeTrans"]:
            o.append("There is an active write transaction\n")
        else:
            o.append("There is at least one active read transaction\n")
        o.append("Transaction tid is %d.%d\n" % d["syncTid"])
    if d["epochTime"]:
        diff = d["now"] - d["epochTime"]
        o.append("Last time a new db version was labelled was:\n\t %d secs ago "
                 "(at %s)\n" % (_i32(diff), ctime(now - diff)))
    for s in info.servers:
        o.append("\nServer (%s" % _ip(s.addr))
        for a in s.alt_addr[:255]:
            if not a:
                break
            o.append(" %s" % _ip(a))
        o.append("): (db %d.%d)" % s.remote_version)
        if s.is_clone:
            o.append("    is only a clone!")
        o.append("\n")
        if s.last_vote_time == 0:
            o.append("    last vote never rcvd \n")
        else:
            diff = d["now"] - s.last_vote_time
            o.append("    last vote rcvd %d secs ago (at %s),\n"
                     % (_i32(diff), ctime(now - diff)))
        if s.last_beacon_sent == 0:
            o.append("    last beacon never sent \n")
        else:
            diff = d["now"] - s.last_beacon_sent
            o.append("    last beacon sent %d secs ago (at %s), last vote was "
                     "%s\n" % (_i32(diff), ctime(now - diff),
                               "yes" if s.last_vote else "no"))
        o.append("    dbcurrent=%d, up=%d beaconSince=%d\n"
                 % (s.current_db, s.up, s.beacon_since_down))
    if info.sdebug_code:
        o.append("error code %d from VOTE_SDebug\n" % info.sdebug_code)
    return "".join(o)


def render(r: UdebugResult, args) -> None:
    sys.stdout.write(format_result(r))
    sys.stdout.flush()


def to_json(r: UdebugResult) -> dict:
    """The -json document: see docs/json.md, section udebug/rxdebug."""
    from kafs.cli.render import to_jsonable
    doc: dict = {"host": r.host or None, "port": r.port or None,
                 "status": r.status}
    if r.fatal is not None:
        doc["error"] = r.fatal.rstrip("\n")
        return doc
    info = r.info
    if info.code:
        doc["error"] = "return code %d from VOTE_Debug" % info.code
        doc["code"] = info.code
        return doc
    db = dict(info.db)
    addrs = []
    for a in db.pop("interfaceAddr", []):
        if not a:
            break
        addrs.append(_ip(a))
    for k in ("lastYesHost", "lowestHost", "syncHost"):
        v = db[k]
        db[k] = None if v & 0xffffffff == 0xffffffff else _ip(v)
    for k in ("syncVersion", "syncTid", "localVersion"):
        db[k] = "%d.%d" % db[k]
    doc.update({
        "old_server": info.old_server,
        "is_clone": bool(info.is_clone),
        "local_time": info.local_now,
        "time_differential": info.local_now - db["now"],
        "interface_addresses": addrs if not info.old_server else None,
        "debug": db,
    })
    if info.asked_servers:
        servers = []
        for s in info.servers:
            d = to_jsonable(s)
            d["addr"] = _ip(s.addr)
            alts = []
            for a in s.alt_addr:
                if not a:
                    break
                alts.append(_ip(a))
            d["alt_addr"] = alts
            d["remote_version"] = "%d.%d" % s.remote_version
            d["is_clone"] = bool(s.is_clone)
            servers.append(d)
        doc["servers"] = servers
        if info.sdebug_code:
            doc["servers_error"] = info.sdebug_code
    return doc


if __name__ == "__main__":
    sys.exit(main())
