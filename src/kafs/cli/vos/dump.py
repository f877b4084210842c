"""vos dump: stream a volume dump to a file or stdout (vos.c DumpVolumeCmd,
DumpFunction/ReceiveFile; vsprocs.c UV_DumpVolume, UV_DumpClonedVolume).

The dump travels on one split call (AFSVolDump, or AFSVolDumpV2 with the
OMITDIRS flag) on a volserver transaction; the bytes are written to the
file as they arrive.  Messages (all on stderr, as vos writes them) and
their order follow vsprocs.c; a file that was opened stays, partial, when
the dump fails (vos does not remove it).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from ._common import VosExit, diagnostics, error_code, print_error, run_async, session

RXGEN_OPCODE = -455
VOLSERBADOP = 1492325131
VOLDUMPV2_OMITDIRS = 1
ITBusy, ITOffline = 0x2, 0x1
VTDeleteOnSalvage, VTOutOfService = 1, 2
readonlyVolume = 1
DUMP_DEAD_TIME = 600.0
CHUNK = 1 << 20


@dataclass(repr=False)
class Dumped:
    spec: str
    volid: int = 0
    server: int = 0
    partition: int = 0
    file: str = ""
    fromdate: int = 0
    clone: bool = False
    size: int = 0
    code: int = 0
    _tids: list = field(default_factory=list)


_REP = None          # the command's reporter while a progress line may be up


def _err(text: str) -> None:
    if text:
        if _REP is not None:
            _REP.err(text)
            return
        sys.stderr.write(text)
        sys.stderr.flush()


class _Sink:
    """DumpFunction's output: the file (created, truncated) or stdout."""

    def __init__(self, filename: str, progress=None):
        self.filename = filename
        self.fd = -1
        self.size = 0
        self.progress = progress        # a Reporter showing progress, or None

    def open(self) -> int:
        """0, or VOLSERBADOP after vos's message."""
        if not self.filename:
            sys.stdout.flush()
            self.fd = 1
            return 0
        try:
            self.fd = os.open(self.filename, os.O_CREAT | os.O_RDWR, 0o666)
            os.ftruncate(self.fd, 0)
        except OSError as e:
            _err("Could not create file '%s': %s\n" % (self.filename, _strerror(e)))
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
            return VOLSERBADOP
        return 0

    def write(self, data) -> None:
        fd = self.fd
        n = os.write(fd, data)
        if n < len(data):
            mv = memoryview(data)
            while n < len(mv):
                n += os.write(fd, mv[n:])
        self.size += len(data)
        if self.progress is not None:
            self.progress.progress("vos dump", self.size, None)

    def close(self) -> int:
        if self.fd < 0 or self.fd == 1:
            self.fd = -1
            return 0
        try:
            os.close(self.fd)
        except OSError as e:
            self.fd = -1
            _err("Could not close dump file %s\n" % (self.filename or "STDIN"))
            return e.errno or -1
        self.fd = -1
        return 0


def _strerror(e: OSError) -> str:
    from kafs.errors.tables import TOOL_TABLES, error_message
    if e.errno:
        return error_message(e.errno, TOOL_TABLES["vos"])
    return str(e)


async def _dump_function(call, sink: _Sink) -> int:
    """DumpFunction + ReceiveFile: open the output, copy the call's stream
    into it until the stream ends (a call error also ends it: rx_Read
    returns 0 and the error shows in rx_EndCall); returns the code."""
    code = sink.open()
    if code:
        return code
    error = 0
    try:
        read = call.read
        write = sink.write
        while True:
            try:
                d = await read(CHUNK)
            except Exception:       # noqa: BLE001 - reported by _end_call
                break
            if not d:
                break
            try:
                write(d)
            except OSError as e:
                _err("File system write failed: %s\n" % _strerror(e))
                error = -1
                break
    finally:
        c = sink.close()
        if c and not error:
            error = c
    return error


async def _end_call(call) -> int:
    """rx_EndCall(call, 0): the call's error code, or 0."""
    from kafs.errors import AFSError
    try:
        await call.finish()
    except AFSError as e:
        return e.code
    except Exception:           # noqa: BLE001
        return -1
    return 0


def _start_request(tid: int, fromdate: int, flags: int) -> bytes:
    """The opcode and IN arguments of StartAFSVolDump / StartAFSVolDumpV2."""
    import struct
    if flags & VOLDUMPV2_OMITDIRS:
        return struct.pack(">IIII", 65538, tid & 0xFFFFFFFF, fromdate & 0xFFFFFFFF,
                           flags & 0xFFFFFFFF)
    return struct.pack(">III", 109, tid & 0xFFFFFFFF, fromdate & 0xFFFFFFFF)


async def _start_dump(call, tid, fromdate, flags) -> int:
    from kafs.errors import AFSError
    try:
        await call.write(_start_request(tid, fromdate, flags))
    except AFSError as e:
        return e.code
    return 0


def _i32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


async def _guard(fn, s, r, sink, flags, verbose) -> int:
    """Run ``fn``; if it fails in an unexpected way (a bug, ^C), end the
    transactions it opened (AFSVolMonitor finds them) before re-raising,
    so the volume is not left busy."""
    try:
        return await fn(s, r, sink, flags, verbose)
    except BaseException:
        try:
            await _end_leftover(s, r)
        except BaseException:       # noqa: BLE001 - the first error matters
            pass
        raise


async def _end_leftover(s, r) -> None:
    from kafs.api import volume
    conn = s.volser(volume._addr(r.server), dead_time=DUMP_DEAD_TIME)
    mine = getattr(r, "_tids", ())
    for t in mine:
        try:
            await volume.end_trans(conn, t)
        except Exception:           # noqa: BLE001
            pass


def _begin(s, r: Dumped, verbose: bool):
    """The start of UV_DumpVolume and UV_DumpClonedVolume: says (with
    -verbose) which dump it is; returns the -verbose printer and the
    volserver's connection."""
    from kafs.api import volume

    def vep(text):
        if verbose:
            _err(text)

    if not r.fromdate:
        vep("Full Dump ...\n")
    else:
        from ._fmt import ctime
        vep("Incremental Dump (as of %.24s)...\n" % ctime(r.fromdate))
    return vep, s.volser(volume._addr(r.server), dead_time=DUMP_DEAD_TIME)


async def _end_trans(conn, tid: int, vep, label: str, error: int) -> int:
    """The last EndTrans of UV_DumpVolume/UV_DumpClonedVolume (``label``:
    "volume N" or "cloned volume N"): returns ``error``, or this failure's
    code if there was none."""
    from kafs.api import volume
    from kafs.errors import AFSError, DecodeError
    vep("Ending transaction on %s..." % label)
    try:
        rcode = await volume.end_trans(conn, tid)
        code = 0
    except (AFSError, DecodeError) as e:
        code, rcode = error_code(e), 0
    if code or rcode:
        _err("Could not end transaction on the %s\n" % label)
        if not error:
            error = code or rcode
    vep(" done\n")
    return error


async def uv_dump_volume(s, r: Dumped, sink: _Sink, flags: int, verbose: bool) -> int:
    """vsprocs.c UV_DumpVolume."""
    return await _guard(_uv_dump_volume, s, r, sink, flags, verbose)


async def _uv_dump_volume(s, r: Dumped, sink: _Sink, flags: int, verbose: bool) -> int:
    from kafs.api import volume
    from kafs.errors import AFSError, DecodeError
    volid = r.volid
    vep, conn = _begin(s, r, verbose)
    error = 0
    tid = 0
    call = None
    vep("Starting transaction on volume %u..." % volid)
    try:
        tid = await volume.trans_create(conn, volid, r.partition, ITBusy)
        r._tids.append(tid)
    except (AFSError, DecodeError) as e:
        error = error_code(e)
        _err("\nCould not start transaction on the volume %u to be dumped\n" % volid
             + print_error(error, "   "))
    if not error:
        vep(" done\n")
        call = conn.new_call()
        vep("Starting volume dump on volume %u..." % volid)
        code = await _start_dump(call, tid, _i32(r.fromdate), flags)
        if code:
            error = code
            _err("\nCould not start the dump process \n" + print_error(code, "   "))
        else:
            vep(" done\n")
            vep("Dumping volume %u..." % volid)
            code = await _dump_function(call, sink)
            if code and code != RXGEN_OPCODE:
                error = code
                _err("\nError while dumping volume \n" + print_error(code, "   "))
            elif code:
                error = code
            else:
                vep(" done\n")
    if call is not None:
        code = await _end_call(call)
        if code and code != RXGEN_OPCODE:
            _err("Error in rx_EndCall\n")
        if code and not error:
            error = code
    if tid:
        error = await _end_trans(conn, tid, vep, "volume %u" % volid, error)
    if error != RXGEN_OPCODE:
        _err(print_error(error))
    return error


async def uv_dump_cloned_volume(s, r: Dumped, sink: _Sink, flags: int, verbose: bool) -> int:
    """vsprocs.c UV_DumpClonedVolume: clone (a new id from the VLDB),
    dump the clone, delete it."""
    return await _guard(_uv_dump_cloned_volume, s, r, sink, flags, verbose)


async def _uv_dump_cloned_volume(s, r: Dumped, sink: _Sink, flags: int, verbose: bool) -> int:
    from kafs.api import vldb, volume
    from kafs.errors import AFSError, DecodeError
    volid = r.volid
    vep, conn = _begin(s, r, verbose)
    error = 0
    fromtid = clonetid = 0
    clonevol = 0
    call = None

    class _X(Exception):
        pass

    def egoto(code, text):
        nonlocal error
        _err("\n" + text + print_error(code, "   "))
        error = code
        raise _X

    try:
        vep("Starting transaction on volume %u..." % volid)
        try:
            fromtid = await volume.trans_create(conn, volid, r.partition, ITBusy)
            r._tids.append(fromtid)
        except (AFSError, DecodeError) as e:
            egoto(error_code(e), "Could not start transaction on the volume %u to be dumped\n"
                  % volid)
        vep(" done\n")
        vep("Getting the name for volume %u ..." % volid)
        try:
            name = await volume.get_name(conn, fromtid)
        except (AFSError, DecodeError) as e:
            egoto(error_code(e), "Failed to get the name of the volume %u\n" % volid)
        vep(" done\n")
        vep("Allocating new volume id for clone of volume %u ..." % volid)
        try:
            clonevol = await vldb.get_new_volume_id(s)
        except (AFSError, DecodeError) as e:
            egoto(error_code(e), "Could not get an ID for the clone of volume %u from the VLDB\n"
                  % volid)
        vep(" done\n")
        vep("Cloning source volume %u to clone volume %u..." % (volid, clonevol))
        try:
            clonevol = await volume.clone(conn, fromtid, 0, readonlyVolume, name, clonevol)
        except (AFSError, DecodeError) as e:
            egoto(error_code(e), "Failed to clone the source volume %u\n" % volid)
        vep(" done\n")
        vep("Ending the transaction on the volume %u ..." % volid)
        t, fromtid = fromtid, 0
        try:
            code = await volume.end_trans(conn, t)
        except (AFSError, DecodeError) as e:
            code = error_code(e)
        if code:
            egoto(code, "Failed to end the transaction on the volume %u\n" % volid)
        vep(" done\n")
        vep("Starting transaction on the cloned volume %u ..." % clonevol)
        try:
            clonetid = await volume.trans_create(conn, clonevol, r.partition, ITOffline)
            r._tids.append(clonetid)
        except (AFSError, DecodeError) as e:
            egoto(error_code(e), "Failed to start a transaction on the cloned volume%u\n"
                  % clonevol)
        vep(" done\n")
        vep("Setting flags on cloned volume %u ..." % clonevol)
        try:
            await volume.set_flags(conn, clonetid, VTDeleteOnSalvage | VTOutOfService)
        except (AFSError, DecodeError) as e:
            egoto(error_code(e), "Could not set falgs on the cloned volume %u\n" % clonevol)
        vep(" done\n")
        call = conn.new_call()
        vep("Starting volume dump from cloned volume %u..." % clonevol)
        code = await _start_dump(call, clonetid, _i32(r.fromdate), flags)
        if code:
            egoto(code, "Could not start the dump process \n")
        vep(" done\n")
        vep("Dumping volume %u..." % volid)
        code = await _dump_function(call, sink)
        if code:
            egoto(code, "Error while dumping volume \n")
        vep(" done\n")
    except _X:
        pass
    vep("Deleting the cloned volume %u ..." % clonevol)
    try:
        await volume.delete_trans_volume(conn, clonetid)
        ok = True
    except (AFSError, DecodeError):
        ok = False
    if ok:
        vep(" done\n")
    else:
        _err("Failed to delete the cloned volume %u\n" % clonevol)
    if call is not None:
        code = await _end_call(call)
        if code:
            _err("Error in rx_EndCall\n")
            if not error:
                error = code
    if clonetid:
        error = await _end_trans(conn, clonetid, vep, "cloned volume %u" % clonevol, error)
    if fromtid:
        # vsprocs.c leaves a source transaction of an early failure to time
        # out (the volume stays busy meanwhile); end it, silently
        try:
            await volume.end_trans(conn, fromtid)
        except (AFSError, DecodeError):
            pass
    _err(print_error(error))
    return error


async def _run(args) -> Dumped:
    from kafs.api import vldb
    from kafs.errors import AFSError, DecodeError
    from .size import dump_target
    r = Dumped(args.id, clone=bool(args.clone))
    if getattr(args, "json", False) and not args.file:
        raise VosExit("vos dump: -json needs -file (the dump itself would go to stdout)\n", -1)
    async with await session(args) as s:
        try:
            volid = await vldb.volume_id(s, args.id)
            verr = 0
        except (AFSError, DecodeError) as e:
            volid, verr = 0, error_code(e)
        if volid == 0:
            if verr:
                raise VosExit(print_error(verr), -1)
            raise VosExit("vos: can't find volume '%s'\n" % args.id, -1)
        r.volid = volid
        await dump_target(s, args, r, volid)
        r.file = args.file or ""
        flags = VOLDUMPV2_OMITDIRS if args.omitdirs else 0
        verbose = bool(args.verbose)
        from ._common import reporter
        rep = reporter(args)
        shown = rep if rep.tty else None          # a progress line only on a terminal
        global _REP
        _REP = shown
        while True:
            sink = _Sink(r.file, shown)
            if args.clone:
                code = await uv_dump_cloned_volume(s, r, sink, flags, verbose)
            else:
                code = await uv_dump_volume(s, r, sink, flags, verbose)
            if code == RXGEN_OPCODE and args.omitdirs and flags:
                flags &= ~VOLDUMPV2_OMITDIRS
                continue
            break
        r.size = sink.size
        rep.progress_end()
        if code:
            _err(diagnostics("dump", code))
            r.code = code
            return r
        if r.file:
            _err("Dumped volume %s in file %s\n" % (args.id, r.file))
        else:
            _err("Dumped volume %s in stdout \n" % args.id)
    return r


def run(args):
    return run_async(_run, args)


def render(r: Dumped, args) -> None:
    return None


def to_json(r: Dumped):
    from ._common import inet_ntoa, partition_name
    return {"volume": r.spec, "id": r.volid, "server": inet_ntoa(r.server),
            "partition": partition_name(r.partition), "file": r.file or None,
            "from_date": r.fromdate, "clone": r.clone, "bytes": r.size,
            "code": r.code}


def exit_code(r: Dumped) -> int:
    return r.code
