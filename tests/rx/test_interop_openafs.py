"""Our Rx against the real OpenAFS 1.8.9 cell, and OpenAFS's rxdebug against us.

Requests are hand-encoded (the generated stubs live elsewhere).
"""

import asyncio
import shutil
import subprocess
import time

import pytest

from kafs import errors
from kafs.errors import RemoteAbort
from kafs.rx import packet as P
from kafs.rx.endpoint import Endpoint

pytestmark = pytest.mark.cell


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def xdr_string(s: bytes) -> bytes:
    return len(s).to_bytes(4, "big") + s + b"\0" * (-len(s) % 4)


def nvldb_name(reply: bytes) -> bytes:
    # nvldbentry.name is char[65], one XDR int per char
    return bytes(reply[i + 3] for i in range(0, 260, 4)).split(b"\0")[0]


def test_vl_probe_and_get_entry(cell):
    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        conn = ep.connection((cell.host, cell.ports["vlserver"]), 52)
        assert await conn.call((514).to_bytes(4, "big")) == b""
        r = await conn.call((519).to_bytes(4, "big") + xdr_string(b"root.cell"))
        assert len(r) == 476 and nvldb_name(r) == b"root.cell"
        # many concurrent calls: several connections, every channel
        rs = await asyncio.gather(*[
            conn.call((519).to_bytes(4, "big") + xdr_string(b"root.cell")) for _ in range(40)])
        assert all(nvldb_name(x) == b"root.cell" for x in rs)
        assert len([c for c in ep.connections() if c.side == "client"]) >= 10
        # unknown opcode: rxgen answers RXGEN_OPCODE
        with pytest.raises(RemoteAbort) as ei:
            await conn.call((9999).to_bytes(4, "big"))
        assert ei.value.code == errors.RXGEN_OPCODE
        # no entry: VL_NOENT (363524) as the call's abort code
        with pytest.raises(RemoteAbort) as ei:
            await conn.call((519).to_bytes(4, "big") + xdr_string(b"no.such.volume"))
        assert ei.value.code == 363524
        st = ep.stats()
        assert st["fatalErrors"] == 0
        await ep.close()
    run(main())


def test_streaming_interface_against_vlserver(cell):
    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        conn = ep.connection((cell.host, cell.ports["vlserver"]), 52, dead_time=90)
        async with conn.new_call() as call:
            await call.write((519).to_bytes(4, "big"))
            await call.write(xdr_string(b"root.cell"))
            name = await call.read_exact(260)
            rest = await call.read_all()
        assert nvldb_name(name) == b"root.cell" and len(rest) == 476 - 260
        await ep.close()
    run(main())


def test_multi_packet_request_to_openafs(cell):
    """A 20 kB request (15 DATA packets): OpenAFS acks it and rejects the
    over-long name with RXGEN_SS_UNMARSHAL; the connection stays usable."""
    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        conn = ep.connection((cell.host, cell.ports["vlserver"]), 52)
        with pytest.raises(RemoteAbort) as ei:
            await conn.call((519).to_bytes(4, "big") + xdr_string(b"v" * 20000))
        assert ei.value.code == errors.RXGEN_SS_UNMARSHAL
        r = await conn.call((519).to_bytes(4, "big") + xdr_string(b"root.cell"))
        assert nvldb_name(r) == b"root.cell"
        # the vlserver's ACK trailer told us its limits
        peer = [p for p in ep.peers() if p.peer[0] == cell.host][0]
        assert peer.max_mtu >= 1444
        await ep.close()
    run(main())


def test_wrong_service_is_rejected_by_openafs(cell):
    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        conn = ep.connection((cell.host, cell.ports["vlserver"]), 99, dead_time=6)
        with pytest.raises((RemoteAbort, errors.CallDead)):
            await conn.call((514).to_bytes(4, "big"))
        await ep.close()
    run(main())


def test_fileserver_calls_back_into_our_server_side(cell):
    """RXAFS_GetTime: before answering a new client the file server calls it
    back on the same socket (RXAFSCB service 1: TellMeAboutYourself, WhoAreYou,
    then InitCallBackState), so this exercises our server side against an
    OpenAFS Rx client, and the reachability ping."""
    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        ops = []

        async def cb(call):
            req = await call.read_all()
            op = int.from_bytes(req[:4], "big")
            ops.append(op)
            if op in (205, 206):      # InitCallBackState, Probe: empty reply
                return
            raise errors.AFSError(errors.RXGEN_OPCODE)
        ep.serve(1, cb)
        conn = ep.connection((cell.host, cell.ports["fileserver"]), 1)
        r = await conn.call((153).to_bytes(4, "big"))      # RXAFS_GetTime
        assert len(r) == 8
        secs = int.from_bytes(r[:4], "big")
        assert abs(secs - time.time()) < 300
        assert 205 in ops
        r = await conn.call((153).to_bytes(4, "big"))
        assert len(r) == 8
        await ep.close()
    run(main())


def test_our_debug_client_reads_openafs(cell):
    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        addr = (cell.host, cell.ports["vlserver"])
        v = await ep.rx_version(addr)
        assert "1.8.9" in v or "openafs" in v.lower()
        st = P.DebugStats.decode(await ep.rx_debug(addr, P.DEBUGI_GETSTATS))
        assert st.version >= ord("Q")
        stats = P.decode_rxstats(await ep.rx_debug(addr, P.DEBUGI_RXSTATS))
        assert stats["packetsRead_1"] > 0
        await ep.close()
    run(main())


def _rxdebug():
    for p in ("/usr/sbin/rxdebug", "/usr/bin/rxdebug"):
        if shutil.which(p):
            return p
    pytest.skip("OpenAFS rxdebug not installed")


def test_openafs_rxdebug_reads_us(cell):
    rxdebug = _rxdebug()

    async def main():
        srv = await Endpoint.open("127.0.0.1", 0)
        gate = asyncio.Event()

        async def handler(call):
            await call.read_all()
            await gate.wait()
            await call.write(b"done")
        srv.serve(52, handler)
        cli = await Endpoint.open("127.0.0.1", 0)
        conn = cli.connection(("127.0.0.1", srv.port), 52)
        pending = asyncio.ensure_future(conn.call(b"\0\0\0\1"))
        for _ in range(3000):           # until the server call is running
            if any(c.state == "active" for c in srv.calls()):
                break
            await asyncio.sleep(0.01)

        async def rxd(*args):
            p = await asyncio.create_subprocess_exec(
                rxdebug, "127.0.0.1", str(srv.port), *args,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out, _ = await p.communicate()
            return p.returncode, out.decode()
        rc, out = await rxd("-version")
        assert rc == 0 and "AFS version: kafs 0.1.0" in out
        rc, out = await rxd()
        assert rc == 0
        assert "Connection from host 127.0.0.1, port %d" % cli.port in out
        assert "server conn" in out and "state active" in out and "Done." in out
        rc, out = await rxd("-noconns", "-peers")
        assert rc == 0
        assert "Peer at host 127.0.0.1, port %d" % cli.port in out and "Done." in out
        rc, out = await rxd("-noconns", "-rxstats")
        assert rc == 0 and "1 server connections" in out
        gate.set()
        assert await pending == b"done"
        await cli.close()
        await srv.close()
    run(main())
