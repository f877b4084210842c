"""Our Rx + generated stubs against the real OpenAFS 1.8.9 test cell, over
rxnull; every answer is checked against what OpenAFS's own tools say about
the same cell."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import pytest

from kafs.client.busy import call_retrying_busy
from kafs.client.callback import CallbackService
from kafs.errors import RemoteAbort
from kafs.errors.tables import code_from_name
from kafs.rpc import afsint, bozo, pr, vl, volser
from kafs.rx.endpoint import Endpoint
from kafs.tools.rxping import partition_name

pytestmark = pytest.mark.cell


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def vos_examine_rw(cell, name):
    out = cell.tool("vos", "examine", name, "-localauth").stdout
    m = re.search(r"RWrite: (\d+)", out)
    assert m, out
    return int(m.group(1))


def test_vl_get_entry_by_name_matches_vos_examine(cell):
    async def main():
        async with await Endpoint.open() as ep:
            conn = ep.connection((cell.host, vl.VL_PORT), vl.VL_SERVICE_ID)
            return await vl.VL_GetEntryByNameN(conn, "root.cell")
    e = run(main())
    assert e.name == "root.cell"
    assert e.volumeId[0] == vos_examine_rw(cell, "root.cell")
    assert e.flags & 0x1000                               # VLF_RWEXISTS
    assert e.nServers == 1
    assert partition_name(e.serverPartition[0]) == "/vicepa"
    assert e.serverNumber[0] == 0x7F010001                # 127.1.0.1


def test_vl_no_such_volume_is_a_typed_abort(cell):
    async def main():
        async with await Endpoint.open() as ep:
            conn = ep.connection((cell.host, vl.VL_PORT), vl.VL_SERVICE_ID)
            await vl.VL_GetEntryByNameN(conn, "no.such.volume.here")
    with pytest.raises(RemoteAbort) as ei:
        run(main())
    assert ei.value.code == code_from_name("VL_NOENT")
    assert ei.value.table == "vl"                         # as translate_et names it
    assert ei.value.message == "No such entry"


def test_pr_name_to_id_matches_pts_examine(cell):
    out = cell.tool("pts", "examine", "admin", "-localauth").stdout
    admin_id = int(re.search(r"id: (-?\d+)", out).group(1))

    async def main():
        async with await Endpoint.open() as ep:
            conn = ep.connection((cell.host, pr.PR_PORT), pr.PR_SERVICE_ID)
            return await pr.PR_NameToID(conn, ["admin", "system:anyuser",
                                               "system:administrators", "nosuchuser"])
    ids = run(main())
    assert ids == [admin_id, -101, -204, 32766]          # 32766 = ANONYMOUSID: not found


def test_bozo_get_status_matches_bos_status(cell):
    out = cell.tool("bos", "status", cell.host, "-localauth").stdout
    expected = re.findall(r"Instance (\S+), currently running normally", out)
    assert expected, out

    async def main():
        async with await Endpoint.open() as ep:
            conn = ep.connection((cell.host, bozo.BOZO_PORT), bozo.BOZO_SERVICE_ID)
            names, i = [], 0
            while True:
                try:
                    names.append(await bozo.BOZO_EnumerateInstance(conn, i))
                except RemoteAbort as e:
                    assert e.code == code_from_name("BZDOM")
                    break
                i += 1
            return {n: await bozo.BOZO_GetStatus(conn, n) for n in names}
    st = run(main())
    assert sorted(st) == sorted(n.rstrip(",") for n in expected)
    assert all(s.intStat == 1 for s in st.values())       # BSTAT_NORMAL


def test_volser_list_partitions_matches_vos_listpart(cell):
    out = cell.tool("vos", "listpart", cell.host, "-localauth").stdout
    expected = re.findall(r"(/vicep\w+)", out)

    async def main():
        async with await Endpoint.open() as ep:
            conn = ep.connection((cell.host, volser.AFSVOL_PORT), volser.VOLSERVICE_ID)
            return (await volser.AFSVolListPartitions(conn),
                    await volser.AFSVolXListPartitions(conn))
    p, xp = run(main())
    assert [partition_name(x) for x in p.partIds if x >= 0] == expected
    assert [partition_name(x) for x in xp] == expected


def test_rxafs_fetch_status_on_root_cell_with_callbacks_served(cell):
    rw = vos_examine_rw(cell, "root.cell")
    svc = CallbackService(cell=cell.cell)

    async def main():
        async with await Endpoint.open() as ep:
            svc.install(ep)
            conn = ep.connection((cell.host, afsint.RXAFS_PORT), afsint.RXAFS_SERVICE_ID)
            fid = afsint.AFSFid(rw, 1, 1)
            # a volume being demand-salvaged answers VBUSY: waited out as a
            # cache manager does
            r1 = await call_retrying_busy(lambda: afsint.RXAFS_FetchStatus(conn, fid))
            r2 = await afsint.RXAFS_FetchStatus(conn, fid)
            return r1, r2
    r1, r2 = run(main())
    st = r1.OutStatus
    assert st.FileType == 2                               # the volume root is a directory
    assert st.errorCode == 0
    assert st.Length > 0 and st.DataVersion >= 1
    assert r1.CallBack.CallBackType in (1, 2, 3)           # a callback was promised
    assert r2.OutStatus.DataVersion == st.DataVersion
    # The file server identified us through our RXAFSCB service first.
    assert svc.counts.get("TellMeAboutYourself", 0) >= 1
    assert sum(v for k, v in svc.counts.items() if k.startswith("InitCallBackState")) >= 1


def test_openafs_rxdebug_reads_our_callback_service(cell):
    """OpenAFS's rxdebug inspects an endpoint of ours that serves RXAFSCB and
    has just been called back by the real file server."""
    rw = vos_examine_rw(cell, "root.cell")
    rxdebug = cell.bin("rxdebug")

    async def main():
        async with await Endpoint.open("127.0.0.1", 0) as ep:
            CallbackService(cell=cell.cell).install(ep)
            conn = ep.connection((cell.host, afsint.RXAFS_PORT), afsint.RXAFS_SERVICE_ID)
            await afsint.RXAFS_FetchStatus(conn, afsint.AFSFid(rw, 1, 1))
            port = str(ep.port)
            loop = asyncio.get_running_loop()

            def rxd(*args):
                return subprocess.run([rxdebug, "127.0.0.1", port, *args],
                                      capture_output=True, text=True, timeout=60)
            v = await loop.run_in_executor(None, rxd, "-version")
            peers = await loop.run_in_executor(None, rxd, "-noconns", "-peers")
            conns = await loop.run_in_executor(None, rxd, "-allconnections")
            return v, peers, conns
    v, peers, conns = run(main())
    assert v.returncode == 0, v.stderr
    assert "AFS version: kafs" in v.stdout
    assert peers.returncode == 0, peers.stderr
    assert "Peer at host 127.1.0.1, port 7000" in peers.stdout
    # Our client connection to the file server and the file server's
    # callback connection to our service 1 are both listed.
    assert conns.returncode == 0, conns.stderr
    assert re.search(r"Connection from host 127\.1\.0\.1, port 7000,[^\n]*\n[^\n]*client conn", conns.stdout), conns.stdout
    assert re.search(r"Connection from host 127\.1\.0\.1, port 7000,[^\n]*\n[^\n]*server conn", conns.stdout), conns.stdout


def test_kafs_rxping_reaches_every_server(cell):
    r = subprocess.run([sys.executable, "-m", "kafs.tools.rxping"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for word in ("vlserver", "ptserver", "bosserver", "volserver", "fileserver"):
        assert f"\n{word} " in "\n" + r.stdout, r.stdout
    assert "RXAFS_FetchStatus" in r.stdout and "-> directory" in r.stdout
