"""The basic overseer (bosserver) of one host as a Python API.

    from kafs.api import Session
    from kafs.api.bos import Bos
    async with await Session.open(auth=AuthSpec(noauth=True)) as s:
        b = Bos(s, "afs1.example.org")
        for name in await b.instances():
            st = await b.instance_status(name, long=True)

Reads: instances and their status, cell name and hosts, super-users,
keys, file dates, restart times, restricted mode, logs (streamed).
Writes: instances (create/delete, start/stop and temporary goals,
shutdown/startup/restart of all, the bosserver itself, wait), keys,
super-users, cell hosts, authentication, restricted mode, restart times,
install (streamed from bytes, a file or chunks) and uninstall, exec,
prune, and salvage (:func:`salvager_command` builds the command line,
:meth:`Bos.salvage` runs and watches it).

Failures raise :class:`kafs.errors.AFSError` (BZDOM ends every
enumeration and is not raised by the iterating helpers; the salvage
steps raise its subclasses :class:`SalvageStartError` and
:class:`SalvageWaitError`); undecodable replies raise
:class:`kafs.errors.DecodeError`; arguments bos refuses to send raise
:class:`TimeSyntaxError` or :class:`SalvageArgumentError` (both
ValueErrors).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import RXGEN_CC_UNMARSHAL, AFSError, DecodeError, KafsError

# the BZ com_err table (boserr.et)
BZNOTACTIVE = 39424
BZNOENT = 39425
BZBUSY = 39426
BZEXISTS = 39427
BZNOCREATE = 39428
BZDOM = 39429
BZACCESS = 39430
BZSYNTAX = 39431
BZIO = 39432
BZNET = 39433
BZBADTYPE = 39434
BZKEYINUSE = 39435
BZENCREQ = 39436

#: CreateBnode's notifier argument when there is none (bnode.h)
NONOTIFIER = "__NONOTIFIER__"
#: CreateBnode takes at most this many command lines
MAX_COMMANDS = 5

# Prune flags
PRUNE_OLD = 1
PRUNE_BAK = 2
PRUNE_CORE = 4
PRUNE_ALL = 0xFF

#: which restart time (Get/SetRestartTime)
RESTART_GENERAL = 1
RESTART_NEWBINARY = 2

# canonical (wire-format) paths the bosserver maps to its own
CANONICAL_BIN_DIR = "/usr/afs/bin"
SALVAGER = CANONICAL_BIN_DIR + "/salvager"
SALVAGESERVER = CANONICAL_BIN_DIR + "/salvageserver"
SALVAGE_LOG = "/usr/afs/logs/SalvageLog"
#: the instance ``bos salvage`` runs the salvager as
SALVAGE_INSTANCE = "salvage-tmp"

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

_PERIODIC_WORDS = {
    "sun": (1, 0), "mon": (1, 1), "tue": (1, 2), "wed": (1, 3), "thu": (1, 4),
    "fri": (1, 5), "sat": (1, 6), "sunday": (1, 0), "monday": (1, 1),
    "tuesday": (1, 2), "wednesday": (1, 3), "thursday": (1, 4), "thur": (1, 4),
    "friday": (1, 5), "saturday": (1, 6),
    "am": (2, 0), "pm": (2, 1), "a.m.": (2, 0), "p.m.": (2, 1),
}


class TimeSyntaxError(KafsError, ValueError):
    """A periodic time (``bos setrestart -time``) that does not parse."""


def _short(v: int) -> int:
    v &= 0xFFFF
    return v - 0x10000 if v & 0x8000 else v


def _parse_clock(t: RestartTime, text: str) -> None:
    """ParseTime (ktime.c): "h", "h:m", "h:m:s" (more fields are ignored);
    the values land in C shorts."""
    t.mask |= 7
    field = 0
    temp = 0
    for ch in text + "\0":
        if ch in ("\0", ":"):
            if field == 0:
                t.hour = _short(temp)
            elif field == 1:
                t.min = _short(temp)
            elif field == 2:
                t.sec = _short(temp)
            temp = 0
            field += 1
            continue
        if not ("0" <= ch <= "9"):
            raise TimeSyntaxError(text)
        temp = (temp * 10 + ord(ch) - 48) & 0xFFFFFFFF
    if t.hour >= 24 or t.min >= 60 or t.sec >= 60:
        raise TimeSyntaxError(text)


def parse_periodic(text: str) -> RestartTime:
    """ktime_ParsePeriodic: "now", "never", "[at|every] [day] [h[:m[:s]]] [am|pm]".
    Raises :class:`TimeSyntaxError`."""
    t = RestartTime(0, 0, 0, 0, 0)
    words = text.replace("\t", " ").replace("\n", " ").split(" ")
    for w in words:
        if not w:
            continue
        if len(w.encode("utf-8", "surrogateescape")) > 256:    # LocalParseLine's buffer
            raise TimeSyntaxError(text)
    for w in (w for w in words if w):
        if w == "now":
            t.mask |= 0x20
            return t
        if w == "never":
            t.mask |= 0x10
            return t
        if w in ("at", "every"):
            continue
        if "0" <= w[0] <= "9":
            _parse_clock(t, w)
            continue
        kind = _PERIODIC_WORDS.get(w)
        if kind is None:
            raise TimeSyntaxError(text)
        if kind[0] == 1:
            t.mask |= 8
            t.day = kind[1]
        elif kind[1] == 1:                      # pm
            if not t.mask & 1:
                raise TimeSyntaxError(text)
            if t.hour < 12:
                t.hour += 12
            elif t.hour != 12:
                raise TimeSyntaxError(text)
        else:                                   # am: 12 am is 0
            if t.hour > 12:
                raise TimeSyntaxError(text)
            if t.hour == 12:
                t.hour = 0
    return t


class SalvageArgumentError(KafsError, ValueError):
    """A salvager command line bos refuses to send; ``code`` is bos's
    return code for it (EINVAL, E2BIG)."""

    def __init__(self, code: int, message: str):
        self.code = code
        super().__init__(message)


class SalvageStartError(AFSError):
    """The bosserver would not create the salvager instance."""


class SalvageWaitError(AFSError):
    """Watching the salvager instance failed (other than its going away)."""


BOZO_BSSIZE = 256
EINVAL = 22
E2BIG = 7


def salvager_command(partition: str | None = None, volume: str | None = None, *,
                     dafs: bool = False, parallel: str | None = None,
                     tmpdir: str | None = None, orphans: str | None = None,
                     salvagedirs: bool = False) -> str:
    """The command line ``bos salvage`` has the bosserver run (DoSalvage):
    a partition (any form volutil_GetPartitionID reads, canonicalised to
    /vicepX) and/or a volume id string.  For one volume of a demand-attach
    server the salvageserver is asked (``-client``) and the extra options
    are not passed.  Raises :class:`SalvageArgumentError` with bos's text."""
    from .vldb import partition_id, partition_name
    part = ""
    if partition:
        n = partition_id(partition)
        if n < 0:
            raise SalvageArgumentError(EINVAL, "could not parse partition ID '%s'" % partition)
        part = partition_name(n)

    def fits(cmd: str, extra: int) -> None:
        if len(cmd.encode("utf-8", "surrogateescape")) + extra > BOZO_BSSIZE:
            raise SalvageArgumentError(E2BIG, "command line too big")

    def b(x: str) -> int:           # strlen: bytes
        return len(x.encode("utf-8", "surrogateescape"))

    volume = volume or ""
    if volume:
        base = SALVAGESERVER if dafs else SALVAGER
        fits(base, (9 if dafs else 1) + b(part) + 1 + b(volume) + 1)
        cmd = base + (" -client " if dafs else " ") + part + " " + volume
    else:
        fits(SALVAGER, 4 + b(part) + 1)
        cmd = SALVAGER + " -force " + part
    if not dafs or not volume:
        if parallel is not None:
            fits(cmd, 11 + b(parallel) + 1)
            cmd += " -parallel " + parallel
        if tmpdir is not None:
            fits(cmd, 9 + b(tmpdir) + 1)
            cmd += " -tmpdir " + tmpdir
        if orphans is not None:
            fits(cmd, 10 + b(orphans) + 1)
            cmd += " -orphans " + orphans
        if salvagedirs:
            fits(cmd, 14)
            cmd += " -salvagedirs"
    return cmd


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
        key = r.key.data.encode("utf-8", "surrogateescape") \
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

    async def log_chunks(self, name: str, *, strict: bool = True,
                         terminator: bool = False):
        """BOZO_GetLog: yield the log's bytes as they arrive, up to the
        NUL that ends it (yielded too with ``terminator``).  A stream that
        ends without the NUL raises AFSError(EIO) as bos reports it (just
        ends, without ``strict``); a server abort raises its code."""
        from ..rpc import bozo
        async with bozo.BOZO_GetLog(self.conn, name) as s:
            while True:
                chunk = await s.call.read(65536)
                if not chunk:
                    if strict:
                        raise AFSError(5, "log stream ended without its terminator")
                    break
                i = chunk.find(b"\0")
                if i >= 0:
                    if i or terminator:
                        yield chunk[:i + 1] if terminator else chunk[:i]
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

    # -- writes: instances -------------------------------------------------------
    async def create_instance(self, name: str, type: str, commands: list[str],
                              notifier: str | None = None) -> None:
        """BOZO_CreateBnode: ``type`` simple, cron, fs or dafs; at most
        :data:`MAX_COMMANDS` command lines (a cron instance's second one is
        its time); ``notifier`` a program run when the instance exits."""
        from ..rpc import bozo
        if len(commands) > MAX_COMMANDS:
            raise ValueError("at most %d command lines" % MAX_COMMANDS)
        p = list(commands) + [""] * (MAX_COMMANDS - len(commands))
        await bozo.BOZO_CreateBnode(self.conn, type, name, *p,
                                    NONOTIFIER if notifier is None else notifier)

    async def delete_instance(self, name: str) -> None:
        """BOZO_DeleteBnode (BZBUSY while it runs)."""
        from ..rpc import bozo
        await bozo.BOZO_DeleteBnode(self.conn, name)

    async def set_status(self, name: str, status: int) -> None:
        """BOZO_SetStatus: the goal, also written to BosConfig (bos start/stop)."""
        from ..rpc import bozo
        await bozo.BOZO_SetStatus(self.conn, name, status)

    async def set_temp_status(self, name: str, status: int) -> None:
        """BOZO_SetTStatus: the goal until the bosserver restarts (bos
        startup/shutdown -instance)."""
        from ..rpc import bozo
        await bozo.BOZO_SetTStatus(self.conn, name, status)

    async def start(self, name: str) -> None:
        await self.set_status(name, BSTAT_NORMAL)

    async def stop(self, name: str) -> None:
        await self.set_status(name, BSTAT_SHUTDOWN)

    async def shutdown_all(self) -> None:
        """BOZO_ShutdownAll: every instance stops (temporarily)."""
        from ..rpc import bozo
        await bozo.BOZO_ShutdownAll(self.conn)

    async def startup_all(self) -> None:
        """BOZO_StartupAll: every instance whose BosConfig goal is "run"."""
        from ..rpc import bozo
        await bozo.BOZO_StartupAll(self.conn)

    async def restart_all(self) -> None:
        """BOZO_RestartAll: stop everything, wait, start (returns when done)."""
        from ..rpc import bozo
        await bozo.BOZO_RestartAll(self.conn)

    async def restart(self, name: str) -> None:
        """BOZO_Restart of one instance."""
        from ..rpc import bozo
        await bozo.BOZO_Restart(self.conn, name)

    async def restart_bosserver(self) -> None:
        """BOZO_ReBozo: the bosserver stops its instances and runs itself anew."""
        from ..rpc import bozo
        await bozo.BOZO_ReBozo(self.conn)

    async def wait_all(self) -> None:
        """BOZO_WaitAll: until every instance that is stopping has stopped."""
        from ..rpc import bozo
        await bozo.BOZO_WaitAll(self.conn)

    async def is_dafs(self) -> bool:
        """bos.c's IsDAFS: a "dafs" instance that runs (or one without an
        "fs" instance) means a demand-attach file server."""
        try:
            if (await self.instance_info("dafs")).goal:
                return True
        except (AFSError, DecodeError):
            return False
        try:
            await self.instance_info("fs")
        except (AFSError, DecodeError):
            return True
        # an "fs" instance that runs: not DAFS; neither runs: cannot tell
        return False

    # -- writes: keys, authentication, restricted mode, restart times --------------
    async def add_key(self, kvno: int, key: bytes) -> None:
        """BOZO_AddKey: an 8-byte DES key (KeyFile) under ``kvno``; needs an
        encrypted connection (BZENCREQ) unless the server runs -noauth."""
        from ..rpc import bozo
        key = bytes(key)
        if len(key) > 8:
            raise ValueError("a DES key is 8 bytes")
        await bozo.BOZO_AddKey(self.conn, kvno,
                               bozo.bozo_key(key.rstrip(b"\0").decode("utf-8", "surrogateescape")))

    async def delete_key(self, kvno: int) -> None:
        """BOZO_DeleteKey of a KeyFile (rxkad) key."""
        from ..rpc import bozo
        await bozo.BOZO_DeleteKey(self.conn, kvno)

    async def set_auth_required(self, required: bool) -> None:
        """BOZO_SetNoAuthFlag: ``False`` makes every server of the host run
        without authentication (the NoAuth file)."""
        from ..rpc import bozo
        await bozo.BOZO_SetNoAuthFlag(self.conn, 0 if required else 1)

    async def set_restricted(self, mode: int) -> None:
        """BOZO_SetRestrictedMode (0 or 1; once on, only BosConfig turns it off)."""
        from ..rpc import bozo
        await bozo.BOZO_SetRestrictedMode(self.conn, mode)

    async def set_restart_time(self, which: int, t: RestartTime) -> None:
        """BOZO_SetRestartTime; ``which``: RESTART_GENERAL or RESTART_NEWBINARY."""
        from ..rpc import bozo
        await bozo.BOZO_SetRestartTime(self.conn, which, bozo.bozo_netKTime(
            t.mask, t.hour, t.min, t.sec, t.day))

    # -- writes: files and commands ---------------------------------------------------
    async def install(self, path: str, data, size: int, mode: int = 0,
                      mtime: int = 0) -> None:
        """BOZO_Install: ``size`` bytes of ``data`` become the server's ``path``
        (the old file is kept as .BAK/.OLD), with that mode and mtime.
        ``data``: bytes, a binary file object, or an (async) iterable of
        byte chunks, streamed as it is read.  An OSError reading it aborts
        the call with its errno and is raised as AFSError(errno)."""
        from ..rpc import bozo
        async with bozo.BOZO_Install(self.conn, path, size, mode, mtime) as s:
            try:
                async for chunk in _chunks(data):
                    await s.call.write(chunk)
            except OSError as e:
                await s.call.abort(e.errno or 5)
                raise AFSError(e.errno or 5) from None

    async def uninstall(self, path: str) -> None:
        """BOZO_UnInstall: the .BAK (else .OLD) version comes back."""
        from ..rpc import bozo
        await bozo.BOZO_UnInstall(self.conn, path)

    async def exec(self, command: str) -> None:
        """BOZO_Exec: the server runs ``command`` with system(3); a
        non-zero wait status comes back as AFSError(status)."""
        from ..rpc import bozo
        await bozo.BOZO_Exec(self.conn, command)

    async def prune(self, *, bak: bool = False, old: bool = False, core: bool = False,
                    all: bool = False) -> None:
        """BOZO_Prune: remove .BAK/.OLD binaries and core files."""
        from ..rpc import bozo
        flags = (PRUNE_BAK if bak else 0) | (PRUNE_OLD if old else 0) | \
            (PRUNE_CORE if core else 0) | (PRUNE_ALL if all else 0)
        await bozo.BOZO_Prune(self.conn, flags)

    # -- salvage ----------------------------------------------------------------------
    async def salvage(self, command: str, waiting=None, interval: float = 1.0) -> None:
        """Run a salvager command line (:func:`salvager_command`) as bos
        does: a one-shot cron instance ``salvage-tmp``, watched once a
        second until it has gone.  ``waiting(count)`` is called after each
        look.  Raises :class:`SalvageStartError` or :class:`SalvageWaitError`."""
        import asyncio
        try:
            await self.create_instance(SALVAGE_INSTANCE, "cron", [command, "now"])
        except AFSError as e:
            raise SalvageStartError(e.code) from None
        except DecodeError:
            raise SalvageStartError(RXGEN_CC_UNMARSHAL) from None
        count = 0
        while True:
            await asyncio.sleep(interval)
            try:
                await self.instance_info(SALVAGE_INSTANCE)
            except AFSError as e:
                if e.code == BZNOENT:
                    return
                raise SalvageWaitError(e.code) from None
            except DecodeError:
                raise SalvageWaitError(RXGEN_CC_UNMARSHAL) from None
            count += 1
            if waiting is not None:
                waiting(count)


async def _chunks(data, size: int = 65536):
    if isinstance(data, (bytes, bytearray, memoryview)):
        for i in range(0, len(data), size):
            yield bytes(data[i:i + size])
        return
    if hasattr(data, "read"):
        while True:
            chunk = data.read(size)
            if not chunk:
                return
            yield chunk
    if hasattr(data, "__aiter__"):
        async for chunk in data:
            yield chunk
        return
    for chunk in data:
        yield chunk


__all__ = ["Bos", "InstanceInfo", "InstanceStatus", "FileDates", "RestartTime",
           "KeyInfo", "BZDOM", "BZNOENT", "BZBUSY", "BZACCESS", "parse_periodic",
           "salvager_command", "TimeSyntaxError", "SalvageArgumentError",
           "SalvageStartError", "SalvageWaitError"]
