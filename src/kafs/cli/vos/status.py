"""vos status: a volume server's active transactions (vos.c VolserStatus)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._common import (VosExit, diagnostics, error_code, get_server, out, print_error,
                      run_async, session)
from . import _fmt


@dataclass(repr=False)
class Status:
    server: str
    transactions: list = field(default_factory=list)


async def _run(args) -> Status:
    from kafs.api import volume
    from kafs.errors import AFSError, DecodeError
    srv = get_server(args.server)
    if not srv:
        raise VosExit("vos: host '%s' not found in host table\n" % args.server, 1)
    async with await session(args) as s:
        try:
            ts = await volume.monitor(s, srv)
        except (AFSError, DecodeError) as e:
            code = error_code(e)
            raise VosExit("Could not access status information about the server\n"
                          + print_error(code) + diagnostics("status", code), 1)
    return Status(args.server, ts)


def run(args):
    return run_async(_run, args)


def render(r: Status, args) -> None:
    o = []
    if not r.transactions:
        o.append("No active transactions on %s\n" % r.server)
    else:
        o.append("Total transactions: %d\n" % len(r.transactions))
    for t in r.transactions:
        o.append("--------------------------------------\n")
        o.append("transaction: %u  created: %s" % (t.tid & 0xFFFFFFFF, _fmt.ctime(t.creation_time)))
        o.append("lastActiveTime: %s" % _fmt.ctime(t.time))
        if t.return_code:
            o.append("returnCode: %u\n" % (t.return_code & 0xFFFFFFFF))
        if t.iflags:
            o.append("attachFlags:  " + "".join(n + " " for n in t.attach_flags) + "\n")
        if t.vflags:
            o.append("volumeStatus: " + "".join(n + " " for n in t.volume_status) + "\n")
        if t.tflags:
            o.append("transactionFlags: delete\n")
        o.append("volume: %u  partition: %s  procedure: %s\n"
                 % (t.volid & 0xFFFFFFFF, _fmt.pname(t.partition), t.last_proc_name))
        if t.call_valid:
            o.append("packetRead: %u  lastReceiveTime: %s"
                     % (t.read_next & 0xFFFFFFFF, _fmt.ctime(t.last_receive_time)))
            o.append("packetSend: %u  lastSendTime: %s"
                     % (t.transmit_next & 0xFFFFFFFF, _fmt.ctime(t.last_send_time)))
        o.append("--------------------------------------\n")
        o.append("\n")
    out("".join(o))


def to_json(r: Status):
    ts = []
    for t in r.transactions:
        ts.append({
            "tid": t.tid, "created": t.creation_time, "last_active": t.time,
            "return_code": t.return_code, "volume": t.volid,
            "partition": _fmt.pname(t.partition), "procedure": t.last_proc_name,
            "attach_flags": t.attach_flags, "volume_status": t.volume_status,
            "delete": bool(t.tflags),
            "call": ({"packet_read": t.read_next, "last_receive_time": t.last_receive_time,
                      "packet_send": t.transmit_next, "last_send_time": t.last_send_time}
                     if t.call_valid else None),
        })
    return {"server": r.server, "transactions": ts}
