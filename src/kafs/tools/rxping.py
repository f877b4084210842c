"""kafs-rxping: one Rx call of ours to every server of a cell, printed readably.

A diagnostic that sits directly on the generated RPC modules (not on the
command layer): it proves that our Rx engine, XDR and interface definitions
talk to each kind of OpenAFS server, anonymously over rxnull.

    kafs-rxping [-cell NAME] [-volume root.cell] [-user admin]

Errors print one line on stderr and exit 1; KAFS_DEBUG=1 shows tracebacks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from ..errors import KafsError
from ..errors.tables import code_from_name

BZDOM = code_from_name("BZDOM")


def partition_name(pid: int) -> str:
    """Partition index -> /vicepXX (0 a, 25 z, 26 aa ... 255 iv)."""
    if pid < 26:
        return "/vicep" + chr(ord("a") + pid)
    return "/vicep" + chr(ord("a") + pid // 26 - 1) + chr(ord("a") + pid % 26)


def _ip(n: int) -> str:
    n &= 0xFFFFFFFF
    return ".".join(str((n >> s) & 0xFF) for s in (24, 16, 8, 0))


async def ping(cell_name: str | None, volume: str, user: str, out) -> int:
    from ..cell import Cell
    from ..client.busy import call_retrying_busy
    from ..client.callback import CallbackService
    from ..rpc import afsint, bozo, pr, vl, volser
    from ..rx.endpoint import Endpoint

    cell = Cell(cell_name)
    async with await Endpoint.open("0.0.0.0", 0) as ep:
        CallbackService(cell=cell.name).install(ep)
        vladdr = cell.vlservers()[0]
        print(f"cell {cell.name}: vlservers {cell.vlservers()}, ptservers {cell.ptservers()}",
              file=out)

        conn = ep.connection(vladdr, vl.VL_SERVICE_ID)
        e = await vl.VL_GetEntryByNameN(conn, volume)
        ids = ", ".join(f"{k} {v}" for k, v in zip(("RW", "RO", "BK"), e.volumeId) if v)
        print(f"vlserver {vladdr[0]}:{vladdr[1]}  VL_GetEntryByNameN({volume!r}) -> "
              f"{e.name}: {ids}; {e.nServers} site(s)", file=out)
        server = _ip(e.serverNumber[0])
        part = partition_name(e.serverPartition[0])
        for i in range(e.nServers):
            print(f"    site {i}: server {_ip(e.serverNumber[i])} partition "
                  f"{partition_name(e.serverPartition[i])} flags {e.serverFlags[i]:#x}", file=out)

        praddr = cell.ptservers()[0]
        conn = ep.connection(praddr, pr.PR_SERVICE_ID)
        names = [user, "system:administrators", "system:anyuser"]
        pids = await pr.PR_NameToID(conn, names)
        print(f"ptserver {praddr[0]}:{praddr[1]}  PR_NameToID -> "
              + ", ".join(f"{n} {i}" for n, i in zip(names, pids)), file=out)

        conn = ep.connection(cell.bosserver(server), bozo.BOZO_SERVICE_ID)
        bosname = await bozo.BOZO_GetCellName(conn)
        print(f"bosserver {server}:7007  BOZO_GetCellName -> {bosname}", file=out)
        i = 0
        while True:
            try:
                inst = await bozo.BOZO_EnumerateInstance(conn, i)
            except KafsError as err:
                if getattr(err, "code", None) == BZDOM:   # no more instances
                    break
                raise
            st = await bozo.BOZO_GetStatus(conn, inst)
            print(f"    instance {inst}: status {st.intStat} {st.statdescr!r}", file=out)
            i += 1

        conn = ep.connection(cell.volserver(server), volser.VOLSERVICE_ID)
        p = await volser.AFSVolListPartitions(conn)
        parts = [partition_name(x) for x in p.partIds if x >= 0]
        print(f"volserver {server}:7005  AFSVolListPartitions -> {' '.join(parts)}", file=out)

        conn = ep.connection(cell.fileserver(server), afsint.RXAFS_SERVICE_ID)
        fid = afsint.AFSFid(e.volumeId[0], 1, 1)
        r = await call_retrying_busy(lambda: afsint.RXAFS_FetchStatus(conn, fid))
        s = r.OutStatus
        kind = {1: "file", 2: "directory", 3: "symlink"}.get(s.FileType, s.FileType)
        print(f"fileserver {server}:7000  RXAFS_FetchStatus({fid.Volume}.1.1 on {part}) -> "
              f"{kind}, length {s.Length}, mode {s.UnixModeBits:o}, owner {s.Owner}, "
              f"data version {s.DataVersion}, anonymous access {s.AnonymousAccess:#x}",
              file=out)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="kafs-rxping", description=__doc__.splitlines()[0])
    ap.add_argument("-cell", default=None)
    ap.add_argument("-volume", default="root.cell")
    ap.add_argument("-user", default="admin")
    a = ap.parse_args(argv)
    try:
        return asyncio.run(ping(a.cell, a.volume, a.user, sys.stdout))
    except KeyboardInterrupt:
        return 130
    except (KafsError, OSError) as e:
        if os.environ.get("KAFS_DEBUG"):
            raise
        print(f"kafs-rxping: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
