"""Volume location: what the VLDB says, cached, and the sites to use.

A :class:`VolumeRecord` is one VLDB entry (a RW volume with its RO and
backup clones, and their sites).  A :class:`Volume` is one volume id (the
RW, an RO or a backup), with the servers that serve it in the order to try
them.  Records are looked up by name or by id through the cell's VL
servers (Ubik: server rotation and failover are the Ubik client's), cached
for ``ttl`` seconds, and looked up again at once when a file server says
the volume is not (or no longer) there: VNOVOL, VMOVED, VOFFLINE...

Sites: the RW volume is on the site flagged RW, a backup clone on the same
server as the RW; RO clones on every site flagged RO that is not marked
"do not use" (a release in progress).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..errors import AFSError, RemoteAbort
from .types import BACKVOL, ROVOL, RWVOL

VLF_RWEXISTS = 0x1000
VLF_ROEXISTS = 0x2000
VLF_BACKEXISTS = 0x4000
VLSF_ROVOL = 0x02
VLSF_RWVOL = 0x04
VLSF_DONTUSE = 0x20
NMAXNSERVERS = 13

VL_NOENT = 363524          # "no such entry"

VL_TABLE_BASE = 363520

SUFFIXES = ((".readonly", ROVOL), (".backup", BACKVOL))


def split_volume_name(name: str) -> tuple[str, int | None]:
    """("root.cell", None) for "root.cell"; ("x", ROVOL) for "x.readonly"."""
    for suffix, t in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], t
    return name, None


def _inet_ntoa(a: int) -> str:
    a &= 0xFFFFFFFF
    return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)


@dataclass
class Site:
    addr: str
    partition: int
    flags: int


@dataclass
class VolumeRecord:
    name: str
    ids: dict                     # RWVOL/ROVOL/BACKVOL -> volume id
    flags: int
    sites: list
    fetched: float = 0.0

    @classmethod
    def from_nvldbentry(cls, e, now: float) -> "VolumeRecord":
        n = max(0, min(e.nServers, NMAXNSERVERS))
        sites = [Site(_inet_ntoa(e.serverNumber[i]), e.serverPartition[i], e.serverFlags[i])
                 for i in range(n)]
        ids = {}
        for t, bit in ((RWVOL, VLF_RWEXISTS), (ROVOL, VLF_ROEXISTS), (BACKVOL, VLF_BACKEXISTS)):
            if e.flags & bit and e.volumeId[t]:
                ids[t] = e.volumeId[t] & 0xFFFFFFFF
        return cls(e.name, ids, e.flags, sites, now)

    def has(self, vtype: int) -> bool:
        return vtype in self.ids

    def type_of(self, vid: int) -> int | None:
        for t, v in self.ids.items():
            if v == vid:
                return t
        return None

    def site_addrs(self, vtype: int) -> list[str]:
        if vtype == ROVOL:
            return [s.addr for s in self.sites
                    if s.flags & VLSF_ROVOL and not s.flags & VLSF_DONTUSE]
        return [s.addr for s in self.sites if s.flags & VLSF_RWVOL]


@dataclass(eq=False)
class Volume:
    """One volume id of a cell, and where it is served."""

    cell: str
    vid: int
    vtype: int
    record: VolumeRecord
    #: bumped by a volume-wide callback break (a fid with vnode 0): every
    #: callback on the volume's vnodes is void
    epoch: int = 0
    #: sites a file server said do not have it (until the next lookup)
    gone: set = field(default_factory=set)
    #: the server whose callback on this volume is held (RO/backup
    #: volumes get one callback for the whole volume)
    offline_message: str = ""

    @property
    def name(self) -> str:
        """The name as written (``x``, ``x.readonly``, ``x.backup``)."""
        base = self.record.name
        return base + {ROVOL: ".readonly", BACKVOL: ".backup"}.get(self.vtype, "")

    @property
    def read_only(self) -> bool:
        return self.vtype != RWVOL

    def site_addrs(self) -> list[str]:
        return [a for a in self.record.site_addrs(self.vtype) if a not in self.gone]


class VolumeTable:
    """The volume records of one cell, looked up through its VL servers."""

    def __init__(self, cell: str, vl, *, ttl: float = 600.0, clock=time.monotonic):
        self.cell = cell
        self.vl = vl                      # a UbikClient for the VL service
        self.ttl = ttl
        self.clock = clock
        self._by_name: dict[str, VolumeRecord] = {}
        self._volumes: dict[int, Volume] = {}
        self.lookups = 0

    def _install(self, rec: VolumeRecord) -> VolumeRecord:
        old = self._by_name.get(rec.name)
        self._by_name[rec.name] = rec
        for t, vid in rec.ids.items():
            v = self._volumes.get(vid)
            if v is None:
                self._volumes[vid] = Volume(self.cell, vid, t, rec)
            else:
                v.record = rec
                v.vtype = t
                v.gone.clear()
        if old is not None:
            for vid in set(old.ids.values()) - set(rec.ids.values()):
                self._volumes.pop(vid, None)
        return rec

    def _fresh(self, rec: VolumeRecord | None) -> bool:
        return rec is not None and self.clock() - rec.fetched < self.ttl

    async def record_by_name(self, name: str, *, refresh: bool = False) -> VolumeRecord:
        rec = self._by_name.get(name)
        if not refresh and self._fresh(rec):
            return rec
        from ..rpc import vl
        self.lookups += 1
        e = await self.vl.call(vl.VL_GetEntryByNameN, name)
        return self._install(VolumeRecord.from_nvldbentry(e, self.clock()))

    async def record_by_id(self, vid: int, *, refresh: bool = False) -> VolumeRecord:
        v = self._volumes.get(vid)
        if not refresh and v is not None and self._fresh(v.record):
            return v.record
        from ..rpc import vl
        self.lookups += 1
        e = await self.vl.call(vl.VL_GetEntryByIDN, vid, -1)
        return self._install(VolumeRecord.from_nvldbentry(e, self.clock()))

    async def volume(self, name: str, vtype: int | None = None, *,
                     refresh: bool = False) -> Volume:
        """The volume ``name`` (which may carry a .readonly/.backup suffix)
        of type ``vtype`` (default: the suffix's, else RW).  A name of
        digits is a volume id."""
        base, suffix_type = split_volume_name(name)
        if base.isdigit():
            rec = await self.record_by_id(int(base), refresh=refresh)
            if vtype is None and suffix_type is None:
                vid = int(base)
                t = rec.type_of(vid)
                return self._volumes[vid] if t is not None else self._missing(name)
        else:
            rec = await self.record_by_name(base, refresh=refresh)
        t = suffix_type if suffix_type is not None else (RWVOL if vtype is None else vtype)
        if t not in rec.ids:
            return self._missing(name)
        return self._volumes[rec.ids[t]]

    def _missing(self, name: str):
        raise AFSError(VL_NOENT, "no such volume: %s" % name)

    async def by_id(self, vid: int, *, refresh: bool = False) -> Volume:
        rec = await self.record_by_id(vid, refresh=refresh)
        if rec.type_of(vid) is None:
            self._missing(str(vid))
        return self._volumes[vid]

    def cached(self, vid: int) -> Volume | None:
        return self._volumes.get(vid)

    def cached_volumes(self) -> list[Volume]:
        return list(self._volumes.values())

    async def refresh(self, vol: Volume) -> Volume:
        """Look the volume up again (a site said it is not there)."""
        try:
            await self.record_by_id(vol.vid, refresh=True)
        except RemoteAbort as e:
            if e.code == VL_NOENT:
                self._volumes.pop(vol.vid, None)
            raise
        return self._volumes.get(vol.vid, vol)

    def flush(self) -> None:
        """Forget every record (fs checkvolumes): the next use looks up."""
        for rec in self._by_name.values():
            rec.fetched = 0.0
