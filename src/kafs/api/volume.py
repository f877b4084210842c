"""Volume server (volserver, port 7005) queries: partitions, volume headers,
transactions, sizes.

Every function takes an open :class:`kafs.api.Session` and the server as an
IPv4 address (host-order number or dotted quad), and returns plain
dataclasses::

    async with await Session.open() as s:
        parts = await volume.list_partitions(s, "127.1.0.1")   # [0] == /vicepa
        vols = await volume.list_volumes(s, "127.1.0.1", 0)    # [VolumeInfo]
        info = await volume.partition_info(s, "127.1.0.1", "/vicepa")

Failures raise :class:`kafs.errors.AFSError` (Rx and VOLSER codes) or
:class:`kafs.errors.DecodeError`.  Old-server fallbacks (RXGEN_OPCODE) are
those of OpenAFS's vos: XListPartitions -> ListPartitions, PartitionInfo64
-> PartitionInfo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .vldb import inet_ntoa, partition_name

__all__ = ["VolumeInfo", "VolumeXInfo", "PartitionInfo", "Transaction",
           "list_partitions", "partition_info", "list_volumes", "xlist_volumes",
           "list_one_volume", "xlist_one_volume", "monitor", "get_size",
           "VOK", "VBUSY", "ITOffline", "ITBusy", "ITReadOnly", "ITCreate",
           "ITCreateVolID", "trans_create_once", "end_trans", "set_flags", "set_info",
           "delete_trans_volume", "get_name", "clone", "get_size_trans"]

RXGEN_OPCODE = -455
VOK = 0x02
VBUSY = 110
ITOffline, ITBusy, ITReadOnly, ITCreate, ITCreateVolID = 0x1, 0x2, 0x8, 0x10, 0x20
VTDeleteOnSalvage, VTOutOfService, VTDeleted = 1, 2, 4
VOLMAXPARTS = 255
_TYPES = {0: "RW", 1: "RO", 2: "BK"}


def _addr(server) -> str:
    return server if isinstance(server, str) else inet_ntoa(server)


def _conn(s, server):
    return s.volser(_addr(server))


async def _call(s, server, stub, *args):
    return await stub(_conn(s, server), *args)


@dataclass(slots=True)
class VolumeInfo:
    """``volintInfo``: one volume header as ListVolumes/ListOneVolume give it."""

    name: str
    volid: int
    type: int               # 0 RW, 1 RO, 2 BK
    backup_id: int
    parent_id: int
    clone_id: int
    status: int             # 0 OK, VBUSY, else not attachable
    copy_date: int
    in_use: int
    needs_salvaged: int
    destroy_me: int
    creation_date: int
    access_date: int
    update_date: int
    backup_date: int
    day_use: int
    filecount: int
    maxquota: int
    size: int
    flags: int
    spare0: int             # minquota
    spare1: int             # weekUse
    spare2: int
    spare3: int

    @classmethod
    def from_wire(cls, v) -> "VolumeInfo":
        return cls(v.name, v.volid, v.type, v.backupID, v.parentID, v.cloneID,
                   v.status, v.copyDate, v.inUse, v.needsSalvaged, v.destroyMe,
                   v.creationDate, v.accessDate, v.updateDate, v.backupDate,
                   v.dayUse, v.filecount, v.maxquota, v.size, v.flags, v.spare0,
                   v.spare1, v.spare2, v.spare3)

    @property
    def type_name(self) -> str:
        return _TYPES.get(self.type, "?")

    @property
    def status_name(self) -> str:
        return "OK" if self.status == VOK else "BUSY" if self.status == VBUSY else "UNATTACHABLE"


@dataclass(slots=True)
class VolumeXInfo:
    """``volintXInfo``: the extended header with read/write statistics."""

    name: str
    volid: int
    type: int
    backup_id: int
    parent_id: int
    clone_id: int
    status: int
    copy_date: int
    in_use: int
    creation_date: int
    access_date: int
    update_date: int
    backup_date: int
    day_use: int
    filecount: int
    maxquota: int
    size: int
    stat_reads: list[int] = field(default_factory=list)      # same net, same net auth, diff net, diff net auth
    stat_writes: list[int] = field(default_factory=list)
    stat_file_same_author: list[int] = field(default_factory=list)   # 6 time ranges
    stat_file_diff_author: list[int] = field(default_factory=list)
    stat_dir_same_author: list[int] = field(default_factory=list)
    stat_dir_diff_author: list[int] = field(default_factory=list)

    @classmethod
    def from_wire(cls, v) -> "VolumeXInfo":
        return cls(v.name, v.volid, v.type, v.backupID, v.parentID, v.cloneID,
                   v.status, v.copyDate, v.inUse, v.creationDate, v.accessDate,
                   v.updateDate, v.backupDate, v.dayUse, v.filecount, v.maxquota,
                   v.size, list(v.stat_reads), list(v.stat_writes),
                   list(v.stat_fileSameAuthor), list(v.stat_fileDiffAuthor),
                   list(v.stat_dirSameAuthor), list(v.stat_dirDiffAuthor))

    @property
    def type_name(self) -> str:
        return _TYPES.get(self.type, "?")

    @property
    def status_name(self) -> str:
        return "OK" if self.status == VOK else "BUSY" if self.status == VBUSY else "UNATTACHABLE"


@dataclass(slots=True)
class PartitionInfo:
    """``diskPartition64``.  ``free`` and ``min_free`` in KB; vos prints
    ``min_free`` as the partition's total (an OpenAFS quirk kept)."""

    name: str
    device: str
    free: int
    min_free: int
    total_usable: int


@dataclass(slots=True)
class Transaction:
    """``transDebugInfo``: one active volserver transaction (vos status)."""

    tid: int
    time: int
    creation_time: int
    return_code: int
    volid: int
    partition: int
    iflags: int
    vflags: int
    tflags: int
    last_proc_name: str
    call_valid: int
    read_next: int
    transmit_next: int
    last_send_time: int
    last_receive_time: int

    @classmethod
    def from_wire(cls, t) -> "Transaction":
        return cls(t.tid, t.time, t.creationTime, t.returnCode, t.volid, t.partition,
                   t.iflags, t.vflags, t.tflags, t.lastProcName, t.callValid,
                   t.readNext, t.transmitNext, t.lastSendTime, t.lastReceiveTime)

    @property
    def attach_flags(self) -> list[str]:
        return [n for b, n in ((ITOffline, "offline"), (ITBusy, "busy"),
                               (ITReadOnly, "readonly"), (ITCreate, "create"),
                               (ITCreateVolID, "create volid")) if self.iflags & b]

    @property
    def volume_status(self) -> list[str]:
        return [n for b, n in ((VTDeleteOnSalvage, "deleteOnSalvage"),
                               (VTOutOfService, "outOfService"),
                               (VTDeleted, "deleted")) if self.vflags & b]


def _vs():
    from kafs.rpc import volser
    return volser


async def list_partitions(s, server) -> list[int]:
    """Partition numbers of the server (XListPartitions; ListPartitions on
    servers without it).  At most 255, as vos keeps."""
    vs = _vs()
    from kafs.errors import AFSError
    try:
        parts = await _call(s, server, vs.AFSVolXListPartitions)
    except AFSError as e:
        if e.code != RXGEN_OPCODE:
            raise
        p = await _call(s, server, vs.AFSVolListPartitions)
        return [x for x in p.partIds if x != -1]
    return list(parts[:VOLMAXPARTS])


async def partition_info(s, server, name: str | int) -> PartitionInfo:
    """PartitionInfo64 (PartitionInfo on old servers) for "/vicepa" or 0."""
    vs = _vs()
    from kafs.errors import AFSError
    if isinstance(name, int):
        name = partition_name(name)
    try:
        p = await _call(s, server, vs.AFSVolPartitionInfo64, name)
        return PartitionInfo(p.name, p.devName, p.free, p.minFree, p.totalUsable)
    except AFSError as e:
        if e.code != RXGEN_OPCODE:
            raise
    p = await _call(s, server, vs.AFSVolPartitionInfo, name)
    return PartitionInfo(p.name, p.devName, p.free, p.minFree, 0)


async def list_volumes(s, server, partition: int, full: bool = True) -> list[VolumeInfo]:
    """ListVolumes: every volume header of one partition (``full=False``:
    only ids, as ``vos listvol -fast``)."""
    vs = _vs()
    r = await _call(s, server, vs.AFSVolListVolumes, partition, 1 if full else 0)
    f = VolumeInfo.from_wire
    return [f(v) for v in r]


async def xlist_volumes(s, server, partition: int, full: bool = True) -> list[VolumeXInfo]:
    """XListVolumes: extended headers (with statistics) of one partition."""
    vs = _vs()
    r = await _call(s, server, vs.AFSVolXListVolumes, partition, 1 if full else 0)
    f = VolumeXInfo.from_wire
    return [f(v) for v in r]


async def list_one_volume(s, server, partition: int, volid: int) -> VolumeInfo:
    vs = _vs()
    r = await _call(s, server, vs.AFSVolListOneVolume, partition, volid & 0xFFFFFFFF)
    if not r:
        from kafs.errors import DecodeError
        raise DecodeError("ListOneVolume: empty reply")
    return VolumeInfo.from_wire(r[0])


async def xlist_one_volume(s, server, partition: int, volid: int) -> VolumeXInfo:
    vs = _vs()
    r = await _call(s, server, vs.AFSVolXListOneVolume, partition, volid & 0xFFFFFFFF)
    if not r:
        from kafs.errors import DecodeError
        raise DecodeError("XListOneVolume: empty reply")
    return VolumeXInfo.from_wire(r[0])


async def monitor(s, server) -> list[Transaction]:
    """Monitor: the server's active transactions (``vos status``)."""
    vs = _vs()
    r = await _call(s, server, vs.AFSVolMonitor)
    return [Transaction.from_wire(t) for t in r]


async def get_size(s, server, partition: int, volid: int, fromdate: int = 0) -> int:
    """The size of a dump of the volume (TransCreate ITBusy, GetSize,
    EndTrans), in bytes."""
    vs = _vs()
    conn = _conn(s, server)
    tid = await _call(s, server, vs.AFSVolTransCreate, volid & 0xFFFFFFFF, partition, ITBusy)
    try:
        r = await vs.AFSVolGetSize(conn, tid, fromdate)
    finally:
        rcode = await vs.AFSVolEndTrans(conn, tid)
    if rcode:
        from kafs.errors import RemoteAbort
        raise RemoteAbort(rcode)
    return r.dump_size


# --------------------------------------------------------------------------
# changes: create, delete, dump (vos create / remove / dump)
# --------------------------------------------------------------------------

VTDeleteOnSalvage_OutOfService = VTDeleteOnSalvage | VTOutOfService
VOLDUMPV2_OMITDIRS = 1
RWVOLTYPE, ROVOLTYPE, BACKVOLTYPE = 0, 1, 2
VOLSERVOLBUSY = 1492325133
#: Rx dead time of vos dump's connections (vos.c: rx_SetRxDeadTime(600))
DUMP_DEAD_TIME = 600.0


def new_volint_info(maxquota: int = -1):
    """``init_volintInfo``: a SetInfo argument that changes nothing but
    what is given (-1 in maxquota, dayUse, dates, flags, spares = keep)."""
    vs = _vs()
    v = vs.volintInfo()
    v.maxquota = maxquota
    v.dayUse = v.creationDate = v.updateDate = v.flags = -1
    v.spare0 = v.spare1 = v.spare2 = v.spare3 = -1
    return v


async def trans_create(conn, volid: int, partition: int, flags: int,
                       retries: int = 3) -> int:
    """AFSVolTransCreate with vsprocs.c's retry on VOLSERVOLBUSY (3 tries,
    1 and 2 s apart); returns the transaction id."""
    import asyncio
    from kafs.errors import AFSError
    vs = _vs()
    while True:
        try:
            return await vs.AFSVolTransCreate(
                conn, volid & 0xFFFFFFFF, partition, flags)
        except AFSError as e:
            retries -= 1
            if e.code != VOLSERVOLBUSY or retries <= 0:
                raise
            await asyncio.sleep(3 - retries)


async def create_volume_trans(conn, partition: int, name: str, volid: int = 0,
                              voltype: int = RWVOLTYPE, parent: int = 0,
                              retries: int = 3) -> tuple[int, int]:
    """AFSVolCreateVolume (retried on VOLSERVOLBUSY): (volume id, transaction)."""
    import asyncio
    from kafs.errors import AFSError
    vs = _vs()
    while True:
        try:
            r = await vs.AFSVolCreateVolume(
                conn, partition, name, voltype, parent, volid & 0xFFFFFFFF)
            return r.volid, r.trans
        except AFSError as e:
            retries -= 1
            if e.code != VOLSERVOLBUSY or retries <= 0:
                raise
            await asyncio.sleep(3 - retries)


async def create_volume(s, server, partition: int, name: str, *, maxquota: int = 5000,
                        volid: int = 0, roid: int | None = 0, bkid: int = 0) -> "object":
    """Create a RW volume and its VLDB entry the way ``vos create`` does
    (ids from VL_GetNewVolumeId unless given; CreateVolume, SetInfo quota,
    SetFlags 0 (online), VL_CreateEntryN, EndTrans).  ``roid=None``: no RO
    id in the entry.  Returns the new :class:`~kafs.api.vldb.VLDBEntry`."""
    from . import vldb
    vs = _vs()
    if not volid:
        volid = await vldb.get_new_volume_id(s)
        if roid == 0:
            roid = await vldb.get_new_volume_id(s)
        if not bkid:
            bkid = await vldb.get_new_volume_id(s)
    last = max(volid, roid or 0, bkid)
    if roid == 0:
        last += 1
        roid = last
    if not bkid:
        last += 1
        bkid = last
    conn = _conn(s, server)
    volid, tid = await create_volume_trans(conn, partition, name, volid)
    try:
        try:
            await vs.AFSVolSetInfo(conn, tid, new_volint_info(maxquota))
        except Exception:       # noqa: BLE001 - vos continues without the quota
            pass
        await vs.AFSVolSetFlags(conn, tid, 0)
        srv = server if isinstance(server, int) else vldb._aton(server)
        entry = vldb.VLDBEntry(name, volid, roid or 0, bkid, 0, vldb.VLF_RWEXISTS,
                               [vldb.Site(srv, partition, vldb.VLSF_RWVOL)], 1)
        try:
            await vldb.create_entry(s, entry)
        except BaseException:
            await vs.AFSVolDeleteVolume(conn, tid)
            raise
    finally:
        await vs.AFSVolEndTrans(conn, tid)
    return entry


async def delete_volume(s, server, partition: int, volid: int) -> None:
    """Delete one volume from a server (no VLDB change): TransCreate
    ITOffline, SetFlags DeleteOnSalvage|OutOfService, DeleteVolume, EndTrans."""
    vs = _vs()
    conn = _conn(s, server)
    tid = await trans_create(conn, volid, partition, ITOffline)
    try:
        await vs.AFSVolSetFlags(conn, tid, VTDeleteOnSalvage_OutOfService)
        await vs.AFSVolDeleteVolume(conn, tid)
    finally:
        rcode = await vs.AFSVolEndTrans(conn, tid)
    if rcode:
        from kafs.errors import RemoteAbort
        raise RemoteAbort(rcode)


async def receive_dump(conn, tid: int, sink, fromdate: int = 0, flags: int = 0,
                       chunk: int = 1 << 20) -> int:
    """Run AFSVolDump (AFSVolDumpV2 when ``flags``) on transaction ``tid``
    and hand the stream to ``sink(bytes)`` as it arrives; returns the number
    of bytes.  A server abort raises its code (AFSError) after the data
    that came before it went to the sink, as rx_EndCall reports it."""
    vs = _vs()
    if flags:
        sc = vs.AFSVolDumpV2(conn, tid, fromdate, flags)
    else:
        sc = vs.AFSVolDump(conn, tid, fromdate)
    total = 0
    async with sc as s:
        read = s.call.read
        while True:
            d = await read(chunk)
            if not d:
                break
            total += len(d)
            sink(d)
    return total


async def dump_volume(s, server, partition: int, volid: int, sink, *,
                      fromdate: int = 0, flags: int = 0) -> int:
    """Dump a volume (TransCreate ITBusy, Dump/DumpV2, EndTrans) into
    ``sink``: a callable taking bytes, or a binary file object.  Returns
    the dump's size in bytes."""
    vs = _vs()
    if not callable(sink):
        sink = sink.write
    conn = s.volser(_addr(server), dead_time=DUMP_DEAD_TIME)
    tid = await trans_create(conn, volid, partition, ITBusy)
    try:
        n = await receive_dump(conn, tid, sink, fromdate, flags)
    finally:
        rcode = await vs.AFSVolEndTrans(conn, tid)
    if rcode:
        from kafs.errors import RemoteAbort
        raise RemoteAbort(rcode)
    return n


# --------------------------------------------------------------------------
# single calls on an open transaction (the steps of vsprocs.c's procedures,
# for commands that print between them): each makes exactly one RPC on
# ``conn`` (``s.volser(...)``) and raises AFSError/DecodeError as the stub does
# --------------------------------------------------------------------------

async def trans_create_once(conn, volid: int, partition: int, flags: int) -> int:
    """AFSVolTransCreate, one try: the transaction id."""
    return await _vs().AFSVolTransCreate(conn, volid, partition, flags)


async def end_trans(conn, tid: int) -> int:
    """AFSVolEndTrans: the server's rcode."""
    return await _vs().AFSVolEndTrans(conn, tid)


async def set_flags(conn, tid: int, flags: int) -> None:
    """AFSVolSetFlags."""
    await _vs().AFSVolSetFlags(conn, tid, flags)


async def set_info(conn, tid: int, info) -> None:
    """AFSVolSetInfo (``info`` from :func:`new_volint_info`)."""
    await _vs().AFSVolSetInfo(conn, tid, info)


async def delete_trans_volume(conn, tid: int) -> None:
    """AFSVolDeleteVolume: delete the transaction's volume."""
    await _vs().AFSVolDeleteVolume(conn, tid)


async def get_name(conn, tid: int) -> str:
    """AFSVolGetName: the transaction's volume's name."""
    return await _vs().AFSVolGetName(conn, tid)


async def clone(conn, tid: int, purge: int, voltype: int, name: str, newid: int) -> int:
    """AFSVolClone: the clone's volume id."""
    return await _vs().AFSVolClone(conn, tid, purge, voltype, name, newid)


async def get_size_trans(conn, tid: int, fromdate: int = 0) -> int:
    """AFSVolGetSize on an open transaction: the dump size in bytes."""
    r = await _vs().AFSVolGetSize(conn, tid, fromdate)
    return r.dump_size
