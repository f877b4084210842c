"""The basic overseer (bosserver) of one host as a Python API.

    from kafs.api import Session
    from kafs.api.bos import Bos
    async with await Session.open(auth=AuthSpec(noauth=True)) as s:
        b = Bos(s, "afs1.example.org")
        for name in await b.instances():
            st = await b.instance_status(name, long=True)

Failures raise :class:`kafs.errors.AFSError` (BZDOM ends every
enumeration and is not raised by the iterating helpers); undecodable
replies raise :class:`kafs.errors.DecodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import AFSError

BZNOENT = 39425
BZDOM = 39429
BZACCESS = 39430

BSTAT_SHUTDOWN = 0
BSTAT_NORMAL = 1
BSTAT_SHUTTINGDOWN = 2
BSTAT_STARTINGUP = 3
BOZO_HASCORE = 1
BOZO_ERRORSTOP = 2
BOZO_BADDIRACCESS = 4

STATUS_TEXT = {BSTAT_NORMAL: "running normally", BSTAT_SHUTDOWN: "shutdown",
               BSTAT_STARTINGUP: "starting up",
               BSTAT_SHUTTINGDOWN: "shutting down"}


@dataclass
class InstanceInfo:
    """BOZO_GetInstanceInfo: the bnode's type and bozo_status."""

    name: str
    type: str
    goal: int
    file_goal: int
    proc_start_time: int
    proc_starts: int
    last_any_exit: int
    last_error_exit: int
    error_code: int
    error_signal: int
    flags: int


@dataclass
class InstanceStatus:
    """What ``bos status [-long]`` shows of one instance."""

    info: InstanceInfo
    status: int | None = None            # BOZO_GetStatus (None: the call failed)
    description: str = ""
    status_error: int = 0
    error_name: str | None = None         # GetInstanceStrings' first string
    commands: list[str] = field(default_factory=list)
    notifier: str | None = None

    @property
    def status_text(self) -> str | None:
        return STATUS_TEXT.get(self.status) if self.status is not None else None


@dataclass
class FileDates:
    path: str
    time: int
    bak_time: int
    old_time: int


@dataclass
class RestartTime:
    """bozo_netKTime (ktime.h): mask KTIME_HOUR 1, MIN 2, SEC 4, DAY 8,
    TIME 0xf (hour|min|sec), NEVER 0x10, NOW 0x20."""

    mask: int
    hour: int
    min: int
    sec: int
    day: int

    def display(self) -> str:
        """ktime_DisplayString (src/util/ktime.c)."""
        if self.mask & 0x10:
            return "never"
        if self.mask & 0x20:
            return "now"
        s = "at"
        if self.mask & 8:
            s += " " + (_DAYS[self.day] if 0 <= self.day < 7 else "?")
        if self.mask & 1:
            if self.hour > 12:
                s += " %d" % (self.hour - 12)
            elif self.hour == 0:
                s += " 12"
            else:
                s += " %d" % self.hour
        if self.mask & 2:
            s += ":%02d" % self.min
        if (self.mask & 4) and self.sec != 0:
            s += ":%02d" % self.sec
        if self.mask & 1:
            s += " pm" if self.hour >= 12 else " am"
        return s


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass
class KeyInfo:
    kvno: int
    key: bytes
    checksum: int
    mod_sec: int
    mod_usec: int


class Bos:
    """Calls on the bosserver of ``host`` over the session's connection."""

    def __init__(self, session, host: str, conn=None):
        self.session = session
        self.host = host
        self.conn = conn if conn is not None else session.bos(host)

    # -- instances -------------------------------------------------------------
    async def instance_name(self, index: int) -> str:
        from ..rpc import bozo
        return await bozo.BOZO_EnumerateInstance(self.conn, index)

    async def instances(self) -> list[str]:
        out = []
        i = 0
        while True:
            try:
                out.append(await self.instance_name(i))
            except AFSError as e:
                if e.code == BZDOM:
                    return out
                raise
            i += 1

    async def instance_info(self, name: str) -> InstanceInfo:
        from ..rpc import bozo
        r = await bozo.BOZO_GetInstanceInfo(self.conn, name)
        s = r.status
        return InstanceInfo(name, r.type, s.goal, s.fileGoal, s.procStartTime,
                            s.procStarts, s.lastAnyExit, s.lastErrorExit,
                            s.errorCode, s.errorSignal, s.flags)

    async def status(self, name: str) -> tuple[int, str]:
        """BOZO_GetStatus: (BSTAT_* code, auxiliary description)."""
        from ..rpc import bozo
        r = await bozo.BOZO_GetStatus(self.conn, name)
        return r.intStat, r.statdescr

    async def instance_parm(self, name: str, index: int) -> str:
        from ..rpc import bozo
        return await bozo.BOZO_GetInstanceParm(self.conn, name, index)

    async def instance_strings(self, name: str) -> tuple[str, str, str, str]:
        from ..rpc import bozo
        r = await bozo.BOZO_GetInstanceStrings(self.conn, name)
        return r.errorName, r.spare1, r.spare2, r.spare3

    async def instance_status(self, name: str, long: bool = False) -> InstanceStatus:
        """Everything ``bos status`` shows for one instance, as DoStat asks
        for it.  GetInstanceInfo failing raises; the other calls' failures
        are recorded (status_error) or ignored, as bos does."""
        info = await self.instance_info(name)
        st = InstanceStatus(info)
        try:
            st.status, st.description = await self.status(name)
        except AFSError as e:
            st.status_error = e.code
        if not long:
            return st
        if info.last_error_exit:
            try:
                st.error_name = (await self.instance_strings(name))[0]
            except AFSError:
                pass
        i = 0
        while True:
            try:
                st.commands.append(await self.instance_parm(name, i))
            except AFSError:
                break
            i += 1
        try:
            st.notifier = await self.instance_parm(name, 999)
        except AFSError:
            pass
        return st

    # -- cell, users, keys -------------------------------------------------------
    async def cell_name(self) -> str:
        from ..rpc import bozo
        return await bozo.BOZO_GetCellName(self.conn)

    async def cell_host(self, index: int) -> str:
        from ..rpc import bozo
        return await bozo.BOZO_GetCellHost(self.conn, index)

    async def cell_hosts(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(await self.cell_host(len(out)))
            except AFSError as e:
                if e.code == BZDOM:
                    return out
                raise

    async def superuser(self, index: int) -> str:
        from ..rpc import bozo
        return await bozo.BOZO_ListSUsers(self.conn, index)

    async def superusers(self) -> list[str]:
        """ListSUsers until the server says 1 (its "end of list")."""
        out = []
        while True:
            try:
                out.append(await self.superuser(len(out)))
            except AFSError as e:
                if e.code == 1:
                    return out
                raise

    async def key(self, index: int) -> KeyInfo:
        from ..rpc import bozo
        r = await bozo.BOZO_ListKeys(self.conn, index)
        key = r.key.data.encode("latin-1", "surrogateescape") \
            if isinstance(r.key.data, str) else bytes(r.key.data)
        return KeyInfo(r.kvno, key.ljust(8, b"\0"), r.keyinfo.keyCheckSum,
                       r.keyinfo.mod_sec, r.keyinfo.mod_usec)

    async def keys(self) -> list[KeyInfo]:
        out = []
        while True:
            try:
                out.append(await self.key(len(out)))
            except AFSError as e:
                if e.code == BZDOM:
                    return out
                raise

    # -- files, times, modes ----------------------------------------------------
    async def dates(self, path: str) -> FileDates:
        from ..rpc import bozo
        r = await bozo.BOZO_GetDates(self.conn, path)
        return FileDates(path, r.newtime, r.baktime, r.oldtime)

    async def restart_time(self, which: int) -> RestartTime:
        """which: 1 general restart, 2 restart for new binaries."""
        from ..rpc import bozo
        t = await bozo.BOZO_GetRestartTime(self.conn, which)
        return RestartTime(t.mask, t.hour, t.min, t.sec, t.day)

    async def restricted(self) -> bool:
        from ..rpc import bozo
        return bool(await bozo.BOZO_GetRestrictedMode(self.conn))

    async def log_chunks(self, name: str):
        """BOZO_GetLog: yield the log's bytes as they arrive, up to the
        NUL that ends it.  A stream that ends without the NUL raises
        AFSError(EIO) as bos reports it; a server abort raises its code."""
        from ..rpc import bozo
        async with bozo.BOZO_GetLog(self.conn, name) as s:
            while True:
                chunk = await s.call.read(65536)
                if not chunk:
                    raise AFSError(5, "log stream ended without its terminator")
                i = chunk.find(b"\0")
                if i >= 0:
                    if i:
                        yield chunk[:i]
                    break
                yield chunk
            # bos ends the call right after the NUL; drain what is left
            await s.call.read_all()

    async def log(self, name: str) -> bytes:
        return b"".join([c async for c in self.log_chunks(name)])


    # -- writes: super-users, cell name and hosts --------------------------------
    async def add_superuser(self, name: str) -> None:
        """BOZO_AddSUser (EEXIST if the name is in UserList already)."""
        from ..rpc import bozo
        await bozo.BOZO_AddSUser(self.conn, name)

    async def delete_superuser(self, name: str) -> None:
        """BOZO_DeleteSUser (ENOENT if the name is not in UserList)."""
        from ..rpc import bozo
        await bozo.BOZO_DeleteSUser(self.conn, name)

    async def set_cell_name(self, name: str) -> None:
        """BOZO_SetCellName: rewrites the server's ThisCell and CellServDB."""
        from ..rpc import bozo
        await bozo.BOZO_SetCellName(self.conn, name)

    async def add_cell_host(self, name: str, clone: bool = False) -> None:
        """BOZO_AddCellHost; a clone is sent as ``[name]`` (as bos does)."""
        from ..rpc import bozo
        await bozo.BOZO_AddCellHost(self.conn, "[%s]" % name if clone else name)

    async def delete_cell_host(self, name: str) -> None:
        """BOZO_DeleteCellHost (BZNOENT if no host has that name)."""
        from ..rpc import bozo
        await bozo.BOZO_DeleteCellHost(self.conn, name)


__all__ = ["Bos", "InstanceInfo", "InstanceStatus", "FileDates", "RestartTime",
           "KeyInfo", "BZDOM", "BZNOENT"]
