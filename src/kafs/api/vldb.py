"""The Volume Location Database: entries, lookups, listings, server addresses.

Every function takes an open :class:`kafs.api.Session` first and returns
plain dataclasses::

    async with await Session.open() as s:
        e = await vldb.get_entry(s, "root.cell")        # name, id, .readonly, .backup
        everything = await vldb.list_entries(s)         # VL_ListAttributesN2, paged
        servers = await vldb.list_servers(s)            # GetAddrs + GetAddrsU (UUIDs)

or, for one-liners, :func:`list_volumes` opens (and closes) a session itself:
``asyncio.run(kafs.api.list_volumes())``.

Failures raise :class:`kafs.errors.AFSError` (``.code`` is the VL/Rx code,
e.g. VL_NOENT 363524) or :class:`kafs.errors.DecodeError` for a reply that
does not decode.

Addresses are IPv4 numbers in host byte order (``Site.server``) with a
dotted-quad ``Site.addr``; :func:`host_name` turns one into a name the way
OpenAFS's ``hostutil_GetNameByINet`` does, :func:`server_address` turns a
user's host argument into an address the way vos's ``GetServer`` does.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

__all__ = [
    "Site", "VLDBEntry", "ServerAddrs", "VLOP_NAMES",
    "get_entry", "get_entry_by_id", "volume_id", "list_entries", "entries_pages",
    "list_volumes",
    "get_addrs", "get_addrs_u", "list_servers",
    "server_address", "server_address_noresolve", "host_name", "inet_ntoa",
    "partition_name", "partition_id", "uuid_to_string", "uuid_from_string",
    "RWVOL", "ROVOL", "BACKVOL",
]

RWVOL, ROVOL, BACKVOL = 0, 1, 2

VLF_RWEXISTS = 0x1000
VLF_ROEXISTS = 0x2000
VLF_BACKEXISTS = 0x4000
VLSF_NEWREPSITE = 0x01
VLSF_ROVOL = 0x02
VLSF_RWVOL = 0x04
VLSF_BACKVOL = 0x08
VLSF_UUID = 0x10
VLSF_DONTUSE = 0x20
VLSF_RWREPLICA = 0x40
VLOP_ALLOPERS = 0x1F0
#: lock operation bits -> name, in the order vos prints them
VLOP_NAMES = ((0x10, "move"), (0x20, "release"), (0x40, "backup"),
              (0x80, "delete"), (0x100, "dump"))

VLLIST_SERVER = 1
VLLIST_PARTITION = 2
VLLIST_FLAG = 0x10
VLADDR_IPADDR = 1
VLADDR_INDEX = 2
VLADDR_UUID = 4

RXGEN_OPCODE = -455
VOLMAXPARTS = 255
NMAXNSERVERS = 13


# --------------------------------------------------------------------------
# small conversions (OpenAFS's own rules)
# --------------------------------------------------------------------------

def inet_ntoa(addr: int) -> str:
    """Dotted quad of a host-order IPv4 number."""
    addr &= 0xFFFFFFFF
    return "%d.%d.%d.%d" % (addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255)


def _aton(s: str) -> int:
    return struct.unpack("!I", socket.inet_aton(s))[0]


_names: dict[int, str] = {}


def host_name(addr: int) -> str:
    """``hostutil_GetNameByINet``: the host's name by reverse lookup, else
    the dotted quad.  Cached per process."""
    addr &= 0xFFFFFFFF
    n = _names.get(addr)
    if n is None:
        ip = inet_ntoa(addr)
        try:
            # bytes: a str argument makes socket load the idna codec (~2 ms)
            n = socket.gethostbyaddr(ip.encode())[0]
        except (OSError, UnicodeError):
            n = ip
        if len(n) >= 256:
            n = ip
        _names[addr] = n
    return n


def _is_loopback(addr: int) -> bool:
    # rx_IsLoopbackAddr: 127.0.x.x only (the test cell lives on 127.1.0.1)
    return (addr & 0xFFFF0000) == 0x7F000000


def server_address_noresolve(name: str) -> int:
    """vos's ``GetServerNoresolve``: ``sscanf("%d.%d.%d.%d")``; 0 if not."""
    parts = []
    rest = name
    for i in range(4):
        j = 0
        while j < len(rest) and rest[j] in " \t\n\v\f\r":
            j += 1
        k = j
        if k < len(rest) and rest[k] in "+-":
            k += 1
        d0 = k
        while k < len(rest) and rest[k].isdigit() and rest[k].isascii():
            k += 1
        if k == d0:
            return 0
        parts.append(int(rest[j:k]))
        rest = rest[k:]
        if i < 3:
            if not rest.startswith("."):
                return 0
            rest = rest[1:]
    b1, b2, b3, b4 = (p & 0xFFFFFFFF for p in parts)
    return ((b1 << 24) | (b2 << 16) | (b3 << 8) | b4) & 0xFFFFFFFF


def _host_arg(name: str):
    """An ASCII host name as bytes: socket encodes a str with the idna
    codec, which costs a command ~2 ms to import; other names stay str."""
    return name.encode() if name.isascii() else name


def server_address(name: str) -> int:
    """vos's ``GetServer``: a dotted quad or a host name -> a non-loopback
    IPv4 address (host order); 0 when there is none."""
    addr = server_address_noresolve(name)
    if addr:
        return 0 if _is_loopback(addr) else addr
    try:
        addrs = socket.gethostbyname_ex(_host_arg(name))[2]
    except (OSError, UnicodeError):
        return 0
    for a in addrs:
        n = _aton(a)
        if not _is_loopback(n):
            return n
    try:
        addrs = socket.gethostbyname_ex(socket.gethostname())[2]
    except (OSError, UnicodeError):
        return 0
    for a in addrs:
        n = _aton(a)
        if not _is_loopback(n):
            return n
    return 0


def partition_name(part: int) -> str:
    """``MapPartIdIntoName``: 0 -> /vicepa, 26 -> /vicepaa ...; "" when out of range."""
    if part < 26:
        return "/vicep" + chr((part + ord("a")) & 0xFF) if part >= 0 else "/vicep?"
    if part < VOLMAXPARTS:
        p = part - 26
        return "/vicep" + chr(ord("a") + p // 26) + chr(ord("a") + p % 26)
    return ""


def partition_id(name: str) -> int:
    """``volutil_GetPartitionID``: "a", "vicepa", "/vicepa", "0" -> 0; -1 if bad."""
    if not name:
        return -1
    if "0" <= name[0] <= "9":
        i = 0
        while i < len(name) and "0" <= name[i] <= "9":
            i += 1
        v = int(name[:i])
        if v > 0x7FFFFFFF:       # atoi overflow: strtol clamps, (int) truncates
            return -1
        return v if v < VOLMAXPARTS else -1
    if len(name.encode()) <= 2:
        ascii_ = name
    elif name.startswith("/vicep"):
        ascii_ = name[6:]
        if len(ascii_.encode()) > 2:
            return -1
    elif name.startswith("vicep"):
        ascii_ = name[5:]
        if len(ascii_.encode()) > 2:
            return -1
    else:
        return -1
    if len(ascii_) == 0:
        return -1
    if len(ascii_) == 1:
        c = ascii_[0]
        return ord(c) - ord("a") if "a" <= c <= "z" else -1
    a, b = ascii_[0], ascii_[1]
    if not ("a" <= a <= "z") or not ("a" <= b <= "z"):
        return -1
    t = (ord(a) - ord("a")) * 26 + (ord(b) - ord("a")) + 26
    return -1 if t >= VOLMAXPARTS else t


def uuid_to_string(u) -> str:
    """``afsUUID_to_string``."""
    node = (bytes(x & 0xFF for x in u.node) + bytes(6))[:6]
    return "%08x-%04x-%04x-%02x-%02x-%s" % (
        u.time_low & 0xFFFFFFFF, u.time_mid & 0xFFFF, u.time_hi_and_version & 0xFFFF,
        u.clock_seq_hi_and_reserved & 0xFF, u.clock_seq_low & 0xFF, node.hex())


def _scan_hex(s: str, i: int, width: int):
    """One sscanf "%0<width>x": (value, next index) or None."""
    while i < len(s) and s[i] in " \t\n\v\f\r":
        i += 1
    end = min(len(s), i + width)
    j = i
    neg = False
    if j < end and s[j] in "+-":
        neg = s[j] == "-"
        j += 1
    if j + 1 < end and s[j] == "0" and s[j + 1] in "xX" and j + 2 < end and \
            s[j + 2] in "0123456789abcdefABCDEF":
        j += 2
    k = j
    while k < end and s[k] in "0123456789abcdefABCDEF":
        k += 1
    if k == j:
        return None
    v = int(s[j:k], 16)
    return ((-v if neg else v) & 0xFFFFFFFF), k


def uuid_from_string(s: str):
    """``afsUUID_from_string``: sscanf "%08x-%04x-%04x-%02x-%02x-" then six
    "%02x"; None unless all 11 fields convert."""
    from kafs.rpc.runtime import afsUUID
    fields = []
    i = 0
    for n, (width, sep) in enumerate(((8, "-"), (4, "-"), (4, "-"), (2, "-"), (2, "-"),
                                      (2, ""), (2, ""), (2, ""), (2, ""), (2, ""), (2, ""))):
        r = _scan_hex(s, i, width)
        if r is None:
            return None
        v, i = r
        fields.append(v)
        if sep:
            if i >= len(s) or s[i] != sep:
                return None
            i += 1
    sc = lambda v: (v & 0xFF) - 256 if v & 0x80 else v & 0xFF      # C chars
    return afsUUID(fields[0], fields[1] & 0xFFFF, fields[2] & 0xFFFF, sc(fields[3]),
                   sc(fields[4]), bytes(v & 0xFF for v in fields[5:11]))


# --------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------

@dataclass(slots=True)
class Site:
    """One site of a VLDB entry."""

    server: int             # IPv4 address, host byte order
    partition: int          # 0 = /vicepa
    flags: int              # VLSF_* bits

    @property
    def addr(self) -> str:
        return inet_ntoa(self.server)

    @property
    def partition_name(self) -> str:
        return partition_name(self.partition)

    @property
    def type(self) -> str:
        """"RW" for the read-write site, else "RO" (as vos labels them)."""
        return "RW" if self.flags & VLSF_RWVOL else "RO"

    def to_json(self) -> dict:
        return {"server": self.addr, "partition": self.partition_name,
                "type": self.type, "flags": self.flags,
                "not_released": bool(self.flags & VLSF_DONTUSE),
                "new_release": bool(self.flags & VLSF_NEWREPSITE)}


@dataclass(slots=True)
class VLDBEntry:
    """A VLDB entry (``nvldbentry``) in plain form."""

    name: str
    rw_id: int
    ro_id: int
    bk_id: int
    clone_id: int
    flags: int              # VLF_* existence bits | VLOP_* lock bits
    sites: list[Site] = field(default_factory=list)
    n_servers: int = 0      # as the server sent it (sites is clamped to 0..13)

    @classmethod
    def from_nvldbentry(cls, e) -> "VLDBEntry":
        n = e.nServers
        k = max(0, min(n, NMAXNSERVERS))
        sn, sp, sf = e.serverNumber, e.serverPartition, e.serverFlags
        sites = [Site(a & 0xFFFFFFFF, p, f) for a, p, f in zip(sn[:k], sp[:k], sf[:k])]
        v = e.volumeId
        return cls(e.name, v[0], v[1], v[2], e.cloneId, e.flags, sites, n)

    @property
    def locked(self) -> bool:
        return bool(self.flags & VLOP_ALLOPERS)

    @property
    def lock_operations(self) -> list[str]:
        return [n for bit, n in VLOP_NAMES if self.flags & bit]

    @property
    def has_rw(self) -> bool:
        return bool(self.flags & VLF_RWEXISTS)

    @property
    def has_ro(self) -> bool:
        return bool(self.flags & VLF_ROEXISTS)

    @property
    def has_bk(self) -> bool:
        return bool(self.flags & VLF_BACKEXISTS)

    def volume_ids(self) -> tuple[int, int, int]:
        return (self.rw_id, self.ro_id, self.bk_id)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "rw_id": self.rw_id if self.has_rw else None,
            "ro_id": self.ro_id if self.has_ro else None,
            "bk_id": self.bk_id if self.has_bk else None,
            "clone_id": self.clone_id if (self.clone_id and self.has_ro) else None,
            "flags": self.flags,
            "locked": self.lock_operations if self.locked else [],
            "sites": [s.to_json() for s in self.sites],
        }


@dataclass(slots=True)
class ServerAddrs:
    """One file server registered in the VLDB (GetAddrsU)."""

    uuid: str               # afsUUID_to_string form
    unique: int
    addrs: list[int]        # IPv4 numbers, host order

    def to_json(self) -> dict:
        return {"uuid": self.uuid, "unique": self.unique,
                "addrs": [inet_ntoa(a) for a in self.addrs]}


# --------------------------------------------------------------------------
# lookups
# --------------------------------------------------------------------------

def _vl():
    from kafs.rpc import vl
    return vl


async def get_entry(s, name: str | int) -> VLDBEntry:
    """VL_GetEntryByNameN: the vlserver takes a name, a name with
    ``.readonly``/``.backup``, or a number."""
    vl = _vl()
    e = await s.vl.call(vl.VL_GetEntryByNameN, str(name))
    return VLDBEntry.from_nvldbentry(e)


async def get_entry_by_id(s, volid: int, voltype: int = -1) -> VLDBEntry:
    """VL_GetEntryByIDN (voltype -1: any of RW/RO/BK)."""
    vl = _vl()
    e = await s.vl.call(vl.VL_GetEntryByIDN, volid & 0xFFFFFFFF, voltype)
    return VLDBEntry.from_nvldbentry(e)


def _extract_name(name: str) -> str:
    """``vsu_ExtractName`` (names are cut to 32 bytes first)."""
    sname = name.encode("utf-8", "surrogateescape")[:32].decode("utf-8", "surrogateescape")
    if sname.endswith(".readonly"):
        return sname[:-9]
    if sname.endswith(".backup"):
        return sname[:-7]
    return name.encode("utf-8", "surrogateescape")[:32].decode("utf-8", "surrogateescape")


def numeric_volume_id(spec: str) -> int | None:
    """The number vsu_GetVolumeID takes literally (``strtoul`` into a
    32-bit result, UINT_MAX excluded), or None if it is looked up by name."""
    if not spec or not ("0" <= spec[0] <= "9"):
        return None
    if not spec.isdigit() or not spec.isascii():
        return None
    v = int(spec)
    if v > 0xFFFFFFFFFFFFFFFF:
        v = 0xFFFFFFFFFFFFFFFF
    v &= 0xFFFFFFFF
    if v == 0xFFFFFFFF:
        return None
    return v


async def volume_id(s, spec: str) -> int:
    """``vsu_GetVolumeID``: a number is taken as is; a name (with its
    ``.readonly``/``.backup`` suffix choosing the id) is looked up in the
    VLDB.  Raises AFSError with the VL code if the lookup fails."""
    v = numeric_volume_id(spec)
    if v is not None:
        return v
    e = await get_entry(s, _extract_name(spec))
    if len(spec) >= 9 and spec.endswith(".readonly"):
        return e.ro_id
    if len(spec) >= 7 and spec.endswith(".backup"):
        return e.bk_id
    return e.rw_id


# --------------------------------------------------------------------------
# listings
# --------------------------------------------------------------------------

def _list_attrs(server, partition, locked):
    vl = _vl()
    attrs = vl.VldbListByAttributes()
    if server is not None:
        attrs.server = _int32(server)
        attrs.Mask |= VLLIST_SERVER
    if partition is not None:
        attrs.partition = partition
        attrs.Mask |= VLLIST_PARTITION
    if locked:
        attrs.Mask |= VLLIST_FLAG
        attrs.flag = VLOP_ALLOPERS
    return attrs


def _reply_rows(data, with_next: bool) -> int:
    """How many entries of a VL_ListAttributesN2 (``with_next``) or
    VL_ListAttributesN reply to take: nentries, a counted array of
    nvldbentry, [nextstartindex].  As the generated decoder: a reply too
    short for that raises DecodeError, bytes after it are ignored."""
    from kafs.errors import DecodeError
    tail = 4 if with_next else 0
    ln = len(data)
    if ln < 8 + tail:
        raise DecodeError("short reply")
    count = int.from_bytes(data[4:8], "big")
    if ln < 8 + count * _vl().nvldbentry._ST.size + tail:
        raise DecodeError("VL_ListAttributes reply: %d entries do not fit in %d bytes"
                          % (count, ln))
    return max(0, min(int.from_bytes(data[0:4], "big", signed=True), count))


def _entries_from_reply(data, with_next: bool) -> list[VLDBEntry]:
    """The entries of a VL_ListAttributesN2/N reply, decoded straight from
    the wire into VLDBEntry (no nvldbentry objects in between)."""
    n = _reply_rows(data, with_next)
    st = _vl().nvldbentry._ST      # name[65] as ints, nServers, 3 x 13 ints, 3 ids, ...
    out: list[VLDBEntry] = []
    add = out.append
    mk, site = VLDBEntry, Site
    for t in st.iter_unpack(memoryview(data)[8:8 + n * st.size]):
        name = t[0][3::4]
        i = name.find(0)
        if i >= 0:
            name = name[:i]
        ns = t[1]
        k = ns if 0 <= ns <= NMAXNSERVERS else (0 if ns < 0 else NMAXNSERVERS)
        if k == 1:
            sites = [site(t[2] & 0xFFFFFFFF, t[15], t[28])]
        else:
            sites = [site(t[2 + j] & 0xFFFFFFFF, t[15 + j], t[28 + j]) for j in range(k)]
        add(mk(name.decode("utf-8", "surrogateescape"), t[41], t[42], t[43], t[44], t[45],
               sites, ns))
    return out


async def entries_pages(s, *, server: int | None = None, partition: int | None = None,
                        locked: bool = False, pattern: str = ""):
    """Like :func:`list_entries`, one page (one VL_ListAttributesN2 call) at
    a time, as an async iterator of lists of VLDBEntry in server order.
    The call for the next page is made while the caller handles this one
    (:func:`kafs.api.session.pipelined_pages`); use it with
    ``contextlib.aclosing`` if you may stop early."""
    vl = _vl()
    from kafs.errors import AFSError, DecodeError
    from .session import checked_raw, pipelined_pages
    attrs = _list_attrs(server, partition, locked)
    list_n2 = checked_raw(vl.VL_ListAttributesN2.rpc.raw, lambda d: _reply_rows(d, True))
    list_n1 = checked_raw(vl.VL_ListAttributesN.rpc.raw, lambda d: _reply_rows(d, False))
    call = s.vl.call

    async def fetch(index):
        try:
            return await call(list_n2, attrs, pattern, index), True
        except AFSError as e:
            if e.code != RXGEN_OPCODE:
                raise
        return await call(list_n1, attrs), False       # an old server: all at once

    size = vl.nvldbentry._ST.size

    def next_index(reply):
        data, paged = reply
        if not paged:
            return -1
        at = 8 + int.from_bytes(data[4:8], "big") * size      # after the entries
        return int.from_bytes(data[at:at + 4], "big", signed=True)

    def stuck():
        return DecodeError("VL_ListAttributesN2: next index does not advance")

    pages = pipelined_pages(fetch, next_index, stuck=stuck, max_pages=1_000_000)
    try:
        async for data, with_next in pages:
            yield _entries_from_reply(data, with_next)
    finally:
        await pages.aclose()


async def list_entries(s, *, server: int | None = None, partition: int | None = None,
                       locked: bool = False, pattern: str = "",
                       on_page=None) -> list[VLDBEntry]:
    """Every VLDB entry matching the attributes (VL_ListAttributesN2 with
    paging, falling back to VL_ListAttributesN on old servers), in server
    order.  ``server``: host-order address; ``partition``: number;
    ``locked``: only entries with a lock bit.  ``on_page(entries)`` is
    called per page if given."""
    out: list[VLDBEntry] = []
    pages = entries_pages(s, server=server, partition=partition, locked=locked,
                          pattern=pattern)
    try:
        async for page in pages:
            if on_page is not None:
                on_page(page)
            out.extend(page)
    finally:
        await pages.aclose()
    return out


def _int32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


async def list_volumes(cell: str | None = None, *, server: str | None = None,
                       partition: str | int | None = None, locked: bool = False,
                       auth=None, confdir=None) -> list[VLDBEntry]:
    """One line for scripts: every VLDB entry of ``cell`` (default: the local
    cell), sorted by name::

        entries = asyncio.run(kafs.api.list_volumes())
    """
    from .session import AuthSpec, Session
    auth = auth or AuthSpec(noauth=True)
    async with await Session.open(cell, auth=auth, confdir=confdir) as s:
        srv = None
        if server is not None:
            srv = server_address(server)
            if not srv:
                from kafs.errors import ConfigError
                raise ConfigError(f"server '{server}' not found in host table")
        part = None
        if partition is not None:
            part = partition if isinstance(partition, int) else partition_id(partition)
            if part < 0:
                from kafs.errors import ConfigError
                raise ConfigError(f"could not interpret partition name '{partition}'")
        out = await list_entries(s, server=srv, partition=part, locked=locked)
    out.sort(key=lambda e: e.name.encode("utf-8", "surrogateescape"))
    return out


# --------------------------------------------------------------------------
# file server addresses
# --------------------------------------------------------------------------

async def get_addrs(s) -> tuple[int, list[int]]:
    """VL_GetAddrs: (number of registered servers, address list).  An
    address with top byte 0xff is a multi-homed server's index."""
    vl = _vl()
    r = await s.vl.call(vl.VL_GetAddrs, 0, 0)
    return r.nentries, list(r.blkaddrs)


async def get_addrs_u(s, *, index: int | None = None, uuid=None,
                      ipaddr: int | None = None) -> ServerAddrs:
    """VL_GetAddrsU by index (1-based), by UUID (an afsUUID or its string)
    or by one of the server's addresses."""
    vl = _vl()
    a = vl.ListAddrByAttributes()
    if uuid is not None:
        if isinstance(uuid, str):
            u = uuid_from_string(uuid)
            if u is None:
                raise ValueError(f"invalid UUID '{uuid}'")
            uuid = u
        a.Mask = VLADDR_UUID
        a.uuid = uuid
    elif ipaddr is not None:
        a.Mask = VLADDR_IPADDR
        a.ipaddr = ipaddr & 0xFFFFFFFF
    else:
        a.Mask = VLADDR_INDEX
        a.index = index or 0
    r = await s.vl.call(vl.VL_GetAddrsU, a)
    n = max(0, min(r.nentries, len(r.blkaddrs)))
    return ServerAddrs(uuid_to_string(r.uuidp1), r.uniquifier,
                       [x & 0xFFFFFFFF for x in r.blkaddrs[:n]])


async def list_servers(s, *, uuid=None, host: int | None = None) -> list[ServerAddrs]:
    """The file servers registered in the VLDB, as ``vos listaddrs`` walks
    them (GetAddrs for the count, then GetAddrsU by index until
    VL_INDEXERANGE).  With ``uuid`` or ``host`` just that server."""
    from kafs.errors import AFSError
    from kafs.errors.tables import code_from_name
    noent = code_from_name("VL_NOENT")
    indexerange = code_from_name("VL_INDEXERANGE")
    nentries, _ = await get_addrs(s)
    out: list[ServerAddrs] = []
    i = 1
    while nentries > 0:
        try:
            if uuid is not None:
                sa = await get_addrs_u(s, uuid=uuid)
            elif host is not None:
                sa = await get_addrs_u(s, ipaddr=host)
            else:
                sa = await get_addrs_u(s, index=i)
        except AFSError as e:
            if e.code == noent and uuid is None and host is None:
                i += 1
                if i > 100000:
                    break
                continue
            if e.code == indexerange:
                break
            raise
        out.append(sa)
        nentries -= 1
        i += 1
        if uuid is not None or host is not None:
            break
    return out


# --------------------------------------------------------------------------
# changes (vos create / remove): new ids, entries, locks
# --------------------------------------------------------------------------

VLOP_DELETE = 0x80
VLOP_DUMP = 0x100
LOCKREL_TIMESTAMP = 1
LOCKREL_OPCODE = 2
LOCKREL_AFSID = 4
LOCKREL_ALL = LOCKREL_OPCODE | LOCKREL_AFSID | LOCKREL_TIMESTAMP


def to_nvldbentry(e: VLDBEntry):
    """The wire form of an entry (``nvldbentry``), as vsprocs.c's
    MapNetworkToHost leaves it: the named fields, everything else zero."""
    vl = _vl()
    n = vl.nvldbentry()
    n.name = e.name
    n.nServers = len(e.sites)
    for i, st in enumerate(e.sites[:NMAXNSERVERS]):
        n.serverNumber[i] = _int32(st.server)
        n.serverPartition[i] = st.partition
        n.serverFlags[i] = st.flags
    n.volumeId = [e.rw_id & 0xFFFFFFFF, e.ro_id & 0xFFFFFFFF, e.bk_id & 0xFFFFFFFF]
    n.cloneId = e.clone_id & 0xFFFFFFFF
    n.flags = _int32(e.flags)
    return n


async def get_new_volume_id(s, bump: int = 1) -> int:
    """VL_GetNewVolumeId: reserve ``bump`` ids, return the first."""
    vl = _vl()
    return await s.vl.call(vl.VL_GetNewVolumeId, bump)


async def create_entry(s, entry: VLDBEntry) -> None:
    """VL_CreateEntryN."""
    vl = _vl()
    await s.vl.call(vl.VL_CreateEntryN, to_nvldbentry(entry))


async def replace_entry(s, volid: int, voltype: int, entry: VLDBEntry,
                        release: int = LOCKREL_ALL) -> None:
    """VL_ReplaceEntryN (``release``: the LOCKREL_* bits to clear)."""
    vl = _vl()
    await s.vl.call(vl.VL_ReplaceEntryN, volid & 0xFFFFFFFF, voltype,
                    to_nvldbentry(entry), release)


async def delete_entry(s, volid: int, voltype: int = -1) -> None:
    """VL_DeleteEntry."""
    vl = _vl()
    await s.vl.call(vl.VL_DeleteEntry, volid & 0xFFFFFFFF, voltype)


async def set_lock(s, volid: int, voltype: int, operation: int) -> None:
    """VL_SetLock (``operation``: VLOP_DELETE, VLOP_DUMP ...)."""
    vl = _vl()
    await s.vl.call(vl.VL_SetLock, volid & 0xFFFFFFFF, voltype, operation)


async def release_lock(s, volid: int, voltype: int = -1,
                       release: int = LOCKREL_ALL) -> None:
    """VL_ReleaseLock."""
    vl = _vl()
    await s.vl.call(vl.VL_ReleaseLock, volid & 0xFFFFFFFF, voltype, release)


async def same_server(s, vldb_addr: int, addr: int) -> bool:
    """``VLDB_IsSameAddrs``: the two addresses belong to one file server
    (equal, or both registered for the same server in the VLDB)."""
    from kafs.errors import AFSError
    from kafs.errors.tables import code_from_name
    if (vldb_addr & 0xFFFFFFFF) == (addr & 0xFFFFFFFF):
        return True
    try:
        sa = await get_addrs_u(s, ipaddr=addr)
    except AFSError as e:
        if e.code == code_from_name("VL_NOENT"):
            return False
        raise
    return (vldb_addr & 0xFFFFFFFF) in sa.addrs


async def change_addr(s, ip1: int, ip2: int) -> None:
    """VL_ChangeAddr: replace address ``ip1`` by ``ip2`` (host order);
    ip1 0xffffffff removes the server that has ``ip2``."""
    vl = _vl()
    await s.vl.call(vl.VL_ChangeAddr, ip1 & 0xFFFFFFFF, ip2 & 0xFFFFFFFF)


async def register_addrs(s, uuid, addrs: list[int]) -> None:
    """VL_RegisterAddrs: the address list of the file server ``uuid``
    (an afsUUID or its string form)."""
    vl = _vl()
    if isinstance(uuid, str):
        u = uuid_from_string(uuid)
        if u is None:
            raise ValueError(f"invalid UUID '{uuid}'")
        uuid = u
    await s.vl.call(vl.VL_RegisterAddrs, uuid, 0, [a & 0xFFFFFFFF for a in addrs])
