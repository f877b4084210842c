"""Shared pieces of the vos subcommands: the session, OpenAFS's error
texts (``PrintError``, ``PrintDiagnostics``), exits with exact statuses,
host and partition arguments, fast text output."""

from __future__ import annotations

import os
import sys

from kafs.api.vldb import (host_name, inet_ntoa, partition_id, partition_name,  # noqa: F401
                           server_address, server_address_noresolve)

ENOENT = 2
ENODEV = 19
EACCES = 13
EXDEV = 18

def print_error(code: int, msg: str = "") -> str:
    """vsprocs.c ``PrintError(msg, code)``: the text it writes to stderr."""
    from kafs.api.volops import print_error as pe
    return pe(code, msg)


def diagnostics(command: str, code: int) -> str:
    """vos.c ``PrintDiagnostics``."""
    if code == EACCES:
        return ("You are not authorized to perform the 'vos %s' command (%d)\n"
                % (command, code))
    if code == EXDEV:
        return ("Error in vos %s command.\n"
                "Clone volume is not in the same partition as the read-write volume.\n"
                % command)
    return "Error in vos %s command.\n" % command + print_error(code)


def error_code(exc: BaseException) -> int:
    """The code the C stubs would have returned for this failure."""
    from kafs.errors import AFSError, DecodeError
    if isinstance(exc, AFSError):
        return exc.code
    if isinstance(exc, DecodeError):
        return -451             # RXGEN_CC_UNMARSHAL
    if isinstance(exc, OSError):
        return -1
    raise exc


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------

def out(text: str) -> None:
    sys.stdout.write(text)


def err(text: str) -> None:
    """stderr, after flushing what stdout has (C's stdout to a pipe is
    block-buffered, so interleaving across the two streams is not part of
    the contract; each stream's content is)."""
    sys.stderr.write(text)
    sys.stderr.flush()


class VosExit(Exception):
    """End the command: ``stderr`` text, then exit with exactly ``status``
    (vos.c's ``exit(1)``/``exit(-1)``, or the proc's return code mapped by
    main: non-zero -> 255)."""

    def __init__(self, stderr: str = "", status: int = 1, stdout: str = ""):
        super().__init__(stderr)
        self.stderr = stderr
        self.status = status
        self.stdout = stdout


def finish(exc: VosExit):
    if exc.stdout:
        out(exc.stdout)
    sys.stdout.flush()
    if exc.stderr:
        err(exc.stderr)
    raise SystemExit(exc.status & 0xFF)


# --------------------------------------------------------------------------
# the session
# --------------------------------------------------------------------------

async def session(args):
    """An open :class:`kafs.api.Session` for the cell and security that the
    before hook chose."""
    from kafs.api.session import Session
    st = args.state.get("vos") or {}
    s = await Session.open(st.get("cell"), auth=st.get("auth"), tool="vos")
    t = os.environ.get("KAFS_VOS_VL_ATTEMPT_TIMEOUT")
    if t:
        try:
            s.vl.attempt_timeout = float(t)
        except ValueError:
            pass
    return s


def get_server(name: str) -> int:
    """vos's GetServer."""
    return server_address(name)


def server_label(addr: int, noresolve: bool = False) -> str:
    return inet_ntoa(addr) if noresolve else host_name(addr)


def run_async(fn, args):
    """``asyncio.run(fn(args))``; a :class:`VosExit` raised inside ends the
    process with its texts and status (after the event loop is closed)."""
    import asyncio
    try:
        return asyncio.run(fn(args))
    except VosExit as e:
        finish(e)


# --------------------------------------------------------------------------
# the write commands: a live reporter, outcomes, common argument steps
# --------------------------------------------------------------------------

def reporter(args):
    """A :class:`kafs.api.volops.Reporter` that writes vos's messages as
    they come (stdout text is left out with -json), shows progress on
    stderr when it is a terminal."""
    from kafs.api.volops import Reporter

    class CliReporter(Reporter):
        def __init__(self):
            super().__init__(bool(args.verbose), bool(args.noresolve))
            self.json = bool(args.json)
            try:
                self.tty = os.isatty(2)
            except (OSError, ValueError):
                self.tty = False
            self._shown = False
            self._last = 0.0

        def out(self, text):
            self._clear()
            if not self.json:
                sys.stdout.write(text)
                sys.stdout.flush()

        def err(self, text):
            if text:
                self._clear()
                sys.stdout.flush()
                sys.stderr.write(text)
                sys.stderr.flush()

        def entry(self, e):
            from . import _fmt
            from kafs.api.volops import _store
            self.out(_fmt.enumerate_entry(_store(e), self.noresolve))

        def progress(self, what, done, total):
            if not self.tty:
                return
            import time
            now = time.monotonic()
            if now - self._last < 0.2 and (not total or done < total):
                return
            self._last = now
            if total:
                pct = min(100, done * 100 // max(total, 1))
                line = "%s: %s of %s (%d%%)" % (what, _size(done), _size(total), pct)
            else:
                line = "%s: %s" % (what, _size(done))
            sys.stderr.write("\r" + line[:200] + "\x1b[K")
            sys.stderr.flush()
            self._shown = True

        def progress_end(self):
            self._clear()

        def _clear(self):
            if self._shown:
                self._shown = False
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()

    return CliReporter()


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 10240 or unit == "GB":
            return "%d %s" % (n, unit)
        n //= 1024
    return str(n)


class Outcome:
    """Base of the write commands' results: ``code`` (what the C proc
    returns: non-zero makes vos exit 255) and ``status`` (an explicit
    ``exit(n)`` of vos.c, which wins)."""

    code: int = 0
    status: int | None = None


def outcome_exit(r) -> int:
    """exit_code() of the write commands."""
    if r.status is not None:
        sys.stdout.flush()
        raise SystemExit(r.status & 0xFF)
    return r.code


async def volume_id(s, spec: str) -> tuple[int, int]:
    """vsu_GetVolumeID: (id, VL error); id 0 when it cannot be had."""
    from kafs.api import vldb
    from kafs.errors import AFSError, DecodeError
    try:
        return await vldb.volume_id(s, spec), 0
    except (AFSError, DecodeError) as e:
        return 0, error_code(e)


def extract_name(spec: str) -> str:
    """vsu_ExtractName."""
    from kafs.api.vldb import _extract_name
    return _extract_name(spec)


def valid_name(name: str) -> bool:
    from kafs.api.volops import name_valid
    return name_valid(name)


def name_ok(name: str) -> bool:
    """vos.c VolNameOK: not ending in .readonly/.backup."""
    return not (name.endswith(".readonly") or name.endswith(".backup"))


def is_numeric(s: str) -> bool:
    return all("0" <= c <= "9" for c in s)


class Done(Outcome):
    """The result of a write command: ``info`` (what -json prints, with
    "ok" and "code" added), ``code``/``status`` as :class:`Outcome`."""

    def __init__(self, **info):
        self.info = info
        self.code = 0
        self.status = None

    def fail(self, code: int = 0, status: int | None = None) -> "Done":
        self.code = code
        self.status = status
        return self

    def to_json(self) -> dict:
        ok = self.code == 0 and not self.status
        return {**self.info, "ok": ok, "code": self.code if self.code else (
            self.status or 0)}


def done_json(r: Done):
    return r.to_json()


async def find_volume(s, r, spec: str, missing: str = "vos: can't find volume '%s'\n") -> int:
    """vsu_GetVolumeID with vos.c's usual reaction: the VL error through
    PrintError, else ``missing``; 0 then."""
    volid, err = await volume_id(s, spec)
    if not volid:
        r.err(print_error(err) if err else (missing % spec if "%s" in missing else missing))
    return volid


async def partition_ok(s, r, server: int, part: int, spec: str,
                       missing: str = "vos : partition %s does not exist on the server\n") -> bool:
    """vos.c IsPartValid with its callers' messages."""
    from .create import part_valid
    ok, code = await part_valid(s, r, server, part)
    if not ok:
        r.err(print_error(code) if code else missing % spec)
    return ok


def parse_partition(r, spec: str) -> int:
    p = partition_id(spec)
    if p < 0:
        r.err("vos: could not interpret partition name '%s'\n" % spec)
    return p


def parse_server(r, spec: str, what: str = "server") -> int:
    a = get_server(spec)
    if not a:
        r.err("vos: %s '%s' not found in host table\n" % (what, spec))
    return a


def diag(r, command: str, code: int) -> None:
    r.err(diagnostics(command, code))


async def get_volume_info(s, r, volid: int):
    """vos.c GetVolumeInfo: (code, server, partition, voltype, entry),
    with its messages; code -1 for "not found in the entry"."""
    from kafs.api import vldb, volops
    e, code = await volops._c(vldb.get_entry_by_id(s, volid, -1))
    if code:
        r.err("Could not fetch the entry for volume %u from VLDB \n" % volid)
        r.err(print_error(code))
        return code, 0, 0, 0, None
    if volid == e.ro_id:
        for st in e.sites:
            if st.flags & vldb.VLSF_ROVOL and not st.flags & vldb.VLSF_DONTUSE:
                return 0, st.server, st.partition, vldb.ROVOL, e
        r.err("RO volume is not found in VLDB entry for volume %u\n" % volid)
        return -1, 0, 0, 0, e
    i = next((j for j, st in enumerate(e.sites) if st.flags & vldb.VLSF_RWVOL), -1)
    if i == -1:
        r.err("RW Volume is not found in VLDB entry for volume %u\n" % volid)
        return -1, 0, 0, 0, e
    st = e.sites[i]
    if volid == e.rw_id:
        return 0, st.server, st.partition, vldb.RWVOL, e
    if volid == e.bk_id:
        return 0, st.server, st.partition, vldb.BACKVOL, e
    r.err("unexpected volume type for volume %u\n" % volid)
    return -1, 0, 0, 0, e


async def interruptible(r, aw):
    """Await ``aw`` with vsprocs.c's control-C handling of move/copy: the
    first SIGINT prints a warning, the second interrupts the operation,
    whose recovery then runs."""
    import asyncio
    import signal
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(aw)
    hits = 0

    def on_sigint():
        nonlocal hits
        hits += 1
        if hits == 1:
            r.out("\nSIGINT handler: vos move operation in progress\n"
                  "WARNING: may leave AFS storage and metadata in indeterminate state\n"
                  "enter second control-c to exit\n")
        else:
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError, ValueError):
        pass
    try:
        return await task
    finally:
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (NotImplementedError, RuntimeError, ValueError):
            pass


async def space_check(s, r, fromserver: int, frompart: int, volid: int, toserver: int,
                      topart: int, verb: str, existing_kb: int | None = None):
    """vos.c's check before move/copy/shadow: the target partition's free
    space against the volume's size.  Returns (size KB, None) or
    (0, exit status) after the message."""
    from kafs.api import volops
    pname = partition_name(topart)
    p, code = await volops.uv_partition_info(s, r, toserver, pname)
    if code:
        r.err("vos: cannot access partition %s\n" % pname)
        return 0, 1
    v, code = await volops.uv_list_one(s, r, fromserver, frompart, volid)
    if code:
        r.err("vos:cannot access volume %u\n" % volid)
        return 0, 1
    size = v.size
    if existing_kb is not None:
        size = size - existing_kb if existing_kb < size else 0
    if p.free <= size:
        r.err("vos: no space on target partition %s to %s volume %u\n" % (pname, verb, volid))
        return 0, 1
    return v.size, None


async def checked_partition(s, r, server: int, spec: str, check: bool = True):
    """A partition argument parsed and (``check``) known to the server:
    (number, None), or (number, "partition"/"invalid") after vos's message."""
    part = parse_partition(r, spec)
    if part < 0:
        return part, "partition"
    if check and not await partition_ok(s, r, server, part, spec):
        return part, "invalid"
    return part, None


async def locate(s, r, server_spec: str, part_spec: str, check: bool = True):
    """A server and partition argument pair: (server, partition, None), or
    with the failed step ("server", "partition", "invalid") third."""
    server = parse_server(r, server_spec)
    if not server:
        return 0, -1, "server"
    part, failed = await checked_partition(s, r, server, part_spec, check)
    return server, part, failed
