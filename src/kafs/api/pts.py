"""The protection database (ptserver) as a Python API.

    from kafs.api import Session
    from kafs.api.pts import Pts
    async with await Session.open() as s:
        pts = Pts(s)
        e = await pts.examine(await pts.id_of("admin"))
        print(e.name, e.id, e.owner_name, e.flags_string)

Every call goes through the session's Ubik client for the ptserver
(``s.pt``).  Failures raise :class:`kafs.errors.AFSError` with the server's
(or Rx's) code; an undecodable reply raises :class:`kafs.errors.DecodeError`
(the C library reports that as RXGEN_CC_UNMARSHAL, -451).

The semantics follow OpenAFS 1.8.9's ``libprot`` (``ptuser.c``): names
are lower-cased (ASCII) before lookup, names of 64 bytes or more fail with
PRNAMETOOLONG, an unknown name maps to ANONYMOUSID (32766) and an unknown
id to its decimal string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator

from ..errors import AFSError

ANONYMOUSID = 32766
ANYUSERID = -101
AUTHUSERID = -102
SYSADMINID = -204
SYSADMIN = "system:administrators"
PRUSERS = 0x1
PRGROUPS = 0x2
PR_MAXNAMELEN = 64
PR_MAXENTRIES = 500         # entries in a full PR_ListEntries page (ptprocs.c)
PRGRP = 0x2
PR_SF_ALLBITS = 0xff
PR_SF_NGROUPS = 0x80000000
PR_SF_NUSERS = 0x40000000

# com_err codes of the PT table (base 267264)
PRNOENT = 267268
PRPERM = 267269
PRBADARG = 267273
PRINTERNAL = 267281
PRNAMETOOLONG = 267282
RXGEN_OPCODE = -455

_FLAGS_UP = "SOMA "
_FLAGS_DN = "s mar"
_FLAGS_SHIFT = (2, 1, 2, 2, 1)


def flags_string(flags: int) -> str:
    """The five-letter privacy flags as ``pts examine`` prints them
    (``S----``, ``S-M--``, ...), from the low 8 bits of the entry's flags."""
    out = [""] * 5
    for j in range(4, -1, -1):
        s = _FLAGS_SHIFT[j]
        new = flags & (1 if s == 1 else 3)
        if new == 0:
            c = "-"
        elif new == 1:
            c = _FLAGS_DN[j]
            if c == " ":
                c = _FLAGS_UP[j]
        elif new == 2:
            c = _FLAGS_UP[j]
        else:
            c = "X"
        out[j] = c
        flags >>= s
    return "".join(out)


def lower(name: str) -> str:
    """``stolower``: ASCII upper case to lower case, nothing else."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in name)


def check_length(name: str) -> None:
    """Raise PRNAMETOOLONG for a name that does not fit a ``prname``."""
    b = name.encode("utf-8", "surrogateescape")
    if len(b.split(b"\0", 1)[0]) >= PR_MAXNAMELEN:
        raise AFSError(PRNAMETOOLONG)


@dataclass
class PtsEntry:
    """One protection database entry (PR_ListEntry's prcheckentry)."""

    name: str
    id: int
    owner: int
    creator: int
    flags: int            # the privacy flags (low 8 bits) plus PRGRP etc.
    ngroups: int          # group creation quota
    nusers: int
    count: int            # membership count
    owner_name: str | None = None
    creator_name: str | None = None

    @property
    def is_group(self) -> bool:
        return self.id < 0

    @property
    def flags_string(self) -> str:
        return flags_string(self.flags)


@dataclass
class ListedEntry:
    """One entry of PR_ListEntries (ids only, no names of owner/creator)."""

    name: str
    id: int
    owner: int
    creator: int
    flags: int
    ngroups: int
    nusers: int
    count: int


@dataclass
class IdList:
    """Names with their ids plus the server's "over" flag (the list was cut
    at the server's limit)."""

    ids: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    over: bool = False


def _entry(e) -> PtsEntry:
    return PtsEntry(e.name, e.id, e.owner, e.creator, e.flags, e.ngroups,
                    e.nusers, e.count)


_LISTED_MAX = 500000        # OPENAFS_MAXPRLIST: the most entries a reply may carry


def _listed_rows(data) -> int:
    """The number of entries of a PR_ListEntries reply (a counted array of
    prlistentries, then nextstartindex).  As the generated decoder: a
    reply too short for that raises DecodeError, bytes after it are
    ignored."""
    from ..errors import DecodeError
    from ..rpc import pr
    ln = len(data)
    if ln < 8:
        raise DecodeError("short reply")
    n = int.from_bytes(data[0:4], "big")
    if n > _LISTED_MAX:
        raise DecodeError("PR_ListEntries reply: %d entries, more than %d" % (n, _LISTED_MAX))
    if ln < 8 + n * pr.prlistentries._ST.size:
        raise DecodeError("PR_ListEntries reply: %d entries do not fit in %d bytes" % (n, ln))
    return n


def _next_index(data) -> int:
    from ..rpc import pr
    at = 4 + int.from_bytes(data[0:4], "big") * pr.prlistentries._ST.size   # after the entries
    return int.from_bytes(data[at:at + 4], "big", signed=True)


def _listed_from_reply(data) -> list[ListedEntry]:
    """The entries of a PR_ListEntries reply, straight from the wire (no
    prlistentries objects in between).  A name that fills its 64 bytes
    raises PRNAMETOOLONG, as libprot's check does."""
    from ..rpc import pr
    n = _listed_rows(data)
    st = pr.prlistentries._ST       # flags id owner creator ngroups nusers count reserved[5] name[64]
    out: list[ListedEntry] = []
    add = out.append
    mk = ListedEntry
    for t in st.iter_unpack(memoryview(data)[4:4 + n * st.size]):
        name = t[12][3::4]
        i = name.find(0)
        if i >= 0:
            name = name[:i]
        elif len(name) >= PR_MAXNAMELEN:
            raise AFSError(PRNAMETOOLONG)
        add(mk(name.decode("utf-8", "surrogateescape"), t[1], t[2], t[3], t[0], t[4], t[5],
               t[6]))
    return out


def _entry_id(e: ListedEntry) -> int:
    return e.id


class Pts:
    """Calls on the ptserver of a :class:`kafs.api.Session`'s cell."""

    def __init__(self, session):
        self.session = session

    @property
    def _pt(self):
        return self.session.pt

    async def _call(self, stub, *args):
        from ..rpc import pr  # noqa: F401 - imported lazily with the stubs
        return await self._pt.call(stub, *args)

    # -- names and ids -------------------------------------------------------
    async def name_to_id(self, names: list[str], always: bool = False) -> list[int]:
        """PR_NameToID; names are lower-cased; unknown ones give ANONYMOUSID.
        An empty list makes no call unless ``always`` (libprot calls)."""
        from ..rpc import pr
        low = []
        for n in names:
            check_length(n)
            low.append(lower(n))
        if not low and not always:
            return []
        return list(await self._call(pr.PR_NameToID, low))

    async def id_to_name(self, ids: list[int], always: bool = False) -> list[str]:
        """PR_IDToName; an unknown id comes back as its decimal string.
        An empty list makes no call unless ``always``."""
        from ..rpc import pr
        if not ids and not always:
            return []
        names = list(await self._call(pr.PR_IDToName, list(ids)))
        for n in names:
            check_length(n)
        return names

    async def id_of(self, name: str) -> int:
        """The id of one name; PRNOENT if there is no such entry."""
        (i,) = await self.name_to_id([name]) or [ANONYMOUSID]
        if i == ANONYMOUSID and lower(name) != "anonymous":
            raise AFSError(PRNOENT)
        return i

    async def name_of(self, id: int) -> str:
        return (await self.id_to_name([id]))[0]

    # -- entries ---------------------------------------------------------------
    async def entry(self, id: int) -> PtsEntry:
        """PR_ListEntry (no name lookups)."""
        from ..rpc import pr
        e = _entry(await self._call(pr.PR_ListEntry, id))
        check_length(e.name)
        return e

    async def examine(self, id: int) -> PtsEntry:
        """PR_ListEntry plus the names of owner and creator."""
        e = await self.entry(id)
        e.owner_name, e.creator_name = await self.id_to_name([e.owner, e.creator])
        return e

    async def is_member_of(self, user: str | int, group: str | int) -> bool:
        """PR_IsAMemberOf; names are looked up first (like pr_IsAMemberOf)."""
        from ..rpc import pr
        ids = []
        names = [x for x in (user, group) if isinstance(x, str)]
        looked = await self.name_to_id(names) if names else []
        it = iter(looked)
        for x in (user, group):
            ids.append(next(it) if isinstance(x, str) else x)
        return bool(await self._call(pr.PR_IsAMemberOf, ids[0], ids[1]))

    async def entries_pages(self, users: bool = True, groups: bool = False, *,
                            ahead: int = 4) -> AsyncIterator[list[ListedEntry]]:
        """PR_ListEntries, page by page.  The index is a database slot and a
        full page spans at least PR_MAXENTRIES slots, so up to ``ahead``
        pages are asked for at once (:func:`kafs.api.session.strided_pages`:
        the server works on them in parallel, entries come in database order,
        each once); ``ahead=1`` makes one call at a time.  Use it with
        ``contextlib.aclosing`` if you may stop early."""
        from ..rpc import pr
        from .session import checked_raw, strided_pages
        flag = (PRUSERS if users else 0) | (PRGROUPS if groups else 0)
        stub = checked_raw(pr.PR_ListEntries.rpc.raw, _listed_rows)
        call = self._pt.call

        def stuck():
            return AFSError(PRINTERNAL, "ListEntries did not advance")

        pages = strided_pages(lambda start: call(stub, flag, start), _next_index,
                              _listed_from_reply, _entry_id, page_size=PR_MAXENTRIES,
                              ahead=ahead, stuck=stuck)
        try:
            async for page in pages:
                yield page
        finally:
            await pages.aclose()

    async def list_entries(self, users: bool = True, groups: bool = False
                           ) -> list[ListedEntry]:
        out: list[ListedEntry] = []
        async for page in self.entries_pages(users, groups):
            out.extend(page)
        return out

    async def list_max(self) -> tuple[int, int]:
        """(max user id, max group id)."""
        from ..rpc import pr
        r = await self._call(pr.PR_ListMax)
        return r.uid, r.gid

    # -- membership --------------------------------------------------------------
    async def members(self, id: int) -> IdList:
        """PR_ListElements: a group's members, or the groups a user is in."""
        from ..rpc import pr
        r = await self._call(pr.PR_ListElements, id)
        ids = list(r.elist)
        return IdList(ids, await self.id_to_name(ids, always=True), bool(r.over))

    async def supergroups(self, id: int) -> IdList:
        """PR_ListSuperGroups (RXGEN_OPCODE from servers without supergroups)."""
        from ..rpc import pr
        r = await self._call(pr.PR_ListSuperGroups, id)
        ids = list(r.elist)
        return IdList(ids, await self.id_to_name(ids, always=True), bool(r.over))

    async def expanded_members(self, id: int, warn=None) -> IdList:
        """pr_IDListExpandedMembers: members of a group and of its member
        groups, recursively (or a user's groups and their supergroups).
        ``warn(gid)`` is called for every list the server cut short."""
        from ..rpc import pr
        seen: dict[int, None] = {}
        stack = [id]
        first = True
        while stack:
            gid = stack.pop()
            if first or id < 0:
                first = False
                r = await self._call(pr.PR_ListElements, gid)
                elist, over = r.elist, r.over
            else:
                try:
                    r = await self._call(pr.PR_ListSuperGroups, gid)
                    elist, over = r.elist, r.over
                except AFSError as e:
                    if e.code != RXGEN_OPCODE:
                        raise
                    elist, over = [], 0
            if over and warn:
                warn(gid)
            for m in elist:
                if m not in seen:
                    seen[m] = None
                    if m < 0:
                        stack.append(m)
        want_groups = id >= 0
        ids = [m for m in _hash_order(seen) if (m < 0) == want_groups]
        if not ids:
            return IdList()
        return IdList(ids, await self.id_to_name(ids))

    async def owned_pages(self, id: int, warn=None) -> AsyncIterator[IdList]:
        """PR_ListOwned with its continuation cursor: the groups owned by
        ``id`` (0: orphaned groups), one RPC at a time.  ``warn(id)`` is
        called when an old server says only "more" (cursor 1)."""
        from ..rpc import pr
        more = 0
        while True:
            r = await self._call(pr.PR_ListOwned, id, more)
            more = r.lastp
            if more == 1:
                if warn:
                    warn(id)
                more = 0
            ids = list(r.elist)
            yield IdList(ids, await self.id_to_name(ids, always=True))
            if not more:
                break

    async def owned(self, id: int) -> IdList:
        out = IdList()
        async for page in self.owned_pages(id):
            out.ids += page.ids
            out.names += page.names
        return out

    async def cps(self, id: int) -> IdList:
        """PR_GetCPS: the current protection subgroup of an id."""
        from ..rpc import pr
        r = await self._call(pr.PR_GetCPS, id)
        ids = list(r.elist)
        return IdList(ids, await self.id_to_name(ids, always=True), bool(r.over))


    # -- writes (libprot's pr_CreateUser ... pr_SetFieldsEntry) ------------------
    async def create_user(self, name: str, id: int = 0) -> int:
        """pr_CreateUser: PR_INewEntry with an id, else PR_NewEntry; the
        name is lower-cased.  Returns the new user's id."""
        from ..rpc import pr
        check_length(name)
        name = lower(name)
        if id:
            await self._call(pr.PR_INewEntry, name, id, 0)
            return id
        return await self._call(pr.PR_NewEntry, name, 0, 0)

    async def create_group(self, name: str, owner: str | None = None, id: int = 0) -> int:
        """pr_CreateGroup: the owner name is looked up first (PRNOENT if
        unknown).  Returns the new group's id."""
        from ..rpc import pr
        check_length(name)
        name = lower(name)
        oid = 0
        if owner is not None:
            oid = await self.sname_to_id(owner)
            if oid == ANONYMOUSID:
                raise AFSError(PRNOENT)
        if id:
            await self._call(pr.PR_INewEntry, name, id, oid)
            return id
        return await self._call(pr.PR_NewEntry, name, PRGRP, oid)

    async def sname_to_id(self, name: str) -> int:
        """pr_SNameToId: one name (lower-cased); ANONYMOUSID if unknown."""
        from ..rpc import pr
        check_length(name)
        r = list(await self._call(pr.PR_NameToID, [lower(name)]))
        if not r:
            raise AFSError(PRINTERNAL)
        return r[0]

    async def delete(self, id: int) -> None:
        """pr_DeleteByID."""
        from ..rpc import pr
        await self._call(pr.PR_Delete, id)

    async def _two_ids(self, user: str, group: str) -> tuple[int, int]:
        check_length(user)
        check_length(group)
        ids = await self.name_to_id([user, group])
        if len(ids) != 2:
            raise AFSError(PRINTERNAL)
        if ANONYMOUSID in ids:
            raise AFSError(PRNOENT)
        return ids[0], ids[1]

    async def add_to_group(self, user: str, group: str) -> None:
        """pr_AddToGroup: both names looked up in one PR_NameToID."""
        from ..rpc import pr
        uid, gid = await self._two_ids(user, group)
        await self._call(pr.PR_AddToGroup, uid, gid)

    async def remove_from_group(self, user: str, group: str) -> None:
        """pr_RemoveUserFromGroup."""
        from ..rpc import pr
        uid, gid = await self._two_ids(user, group)
        await self._call(pr.PR_RemoveFromGroup, uid, gid)

    async def change_entry(self, oldname: str, newname: str = "", newid: int = 0,
                           newowner: str = "") -> None:
        """pr_ChangeEntry: rename (``newname``), change owner (``newowner``)
        or id of the entry ``oldname``; empty values mean "unchanged"."""
        id = await self.sname_to_id(oldname)
        if id == ANONYMOUSID:
            raise AFSError(PRNOENT)
        oid = 0
        if newowner:
            oid = await self.sname_to_id(newowner)
            if oid == ANONYMOUSID:
                raise AFSError(PRNOENT)
        await self.change_entry_id(id, newname, oid, newid)

    async def change_entry_id(self, id: int, newname: str = "", oid: int = 0,
                              newid: int = 0) -> None:
        """PR_ChangeEntry on ids (0 / "" = unchanged)."""
        from ..rpc import pr
        await self._call(pr.PR_ChangeEntry, id, newname, oid, newid)

    async def set_max(self, id: int, group: bool = False) -> None:
        """pr_SetMaxUserId / pr_SetMaxGroupId."""
        from ..rpc import pr
        await self._call(pr.PR_SetMax, id, PRGRP if group else 0)

    async def set_fields(self, id: int, mask: int, flags: int = 0, ngroups: int = 0,
                         nusers: int = 0) -> None:
        """pr_SetFieldsEntry (mask: PR_SF_ALLBITS for the privacy flags,
        PR_SF_NGROUPS for the group quota, PR_SF_NUSERS)."""
        from ..rpc import pr
        def s32(v):
            v &= 0xFFFFFFFF
            return v - (1 << 32) if v & 0x80000000 else v
        await self._call(pr.PR_SetFieldsEntry, id, s32(mask), s32(flags), s32(ngroups),
                         s32(nusers), 0, 0)


_ID_HASH_SIZE = 1024


def _hash_order(ids) -> list[int]:
    """The order ptuser.c's CreateIdList walks its id hash: by bucket
    (abs(id) % 1024), newest first within a bucket."""
    buckets: dict[int, list[int]] = {}
    for i in ids:
        buckets.setdefault(abs(i) % _ID_HASH_SIZE, []).insert(0, i)
    out: list[int] = []
    for b in sorted(buckets):
        out.extend(buckets[b])
    return out


__all__ = ["Pts", "PtsEntry", "ListedEntry", "IdList", "flags_string",
           "ANONYMOUSID", "SYSADMINID", "PRUSERS", "PRGROUPS"]
