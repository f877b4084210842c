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

_PRINT_ERROR_SYMBOLS = (
    ("VSALVAGE", "Volume needs to be salvaged"),
    ("VNOVNODE", "Bad vnode number quoted"),
    ("VNOVOL", "Volume not attached, does not exist, or not on line"),
    ("VVOLEXISTS", "Volume already exists"),
    ("VNOSERVICE", "Volume is not in service"),
    ("VOFFLINE", "Volume is off line"),
    ("VONLINE", "Volume is already on line"),
    ("VDISKFULL", "Partition is full"),
    ("VOVERQUOTA", "Volume max quota exceeded"),
    ("VBUSY", "Volume temporarily unavailable"),
    ("VMOVED", "Volume has moved to another server"),
    ("VL_IDEXIST", "VLDB: volume Id exists in the vldb"),
    ("VL_IO", "VLDB: a read terminated too early"),
    ("VL_NAMEEXIST", "VLDB: volume entry exists in the vldb"),
    ("VL_CREATEFAIL", "VLDB: internal creation failure"),
    ("VL_NOENT", "VLDB: no such entry"),
    ("VL_EMPTY", "VLDB: vldb database is empty"),
    ("VL_ENTDELETED", "VLDB: entry is deleted (soft delete)"),
    ("VL_BADNAME", "VLDB: volume name is illegal"),
    ("VL_BADINDEX", "VLDB: index was out of range"),
    ("VL_BADVOLTYPE", "VLDB: bad volume type"),
    ("VL_BADSERVER", "VLDB: illegal server number (not within limits)"),
    ("VL_BADPARTITION", "VLDB: bad partition number"),
    ("VL_REPSFULL", "VLDB: run out of space for replication sites"),
    ("VL_NOREPSERVER", "VLDB: no such repsite server exists"),
    ("VL_DUPREPSERVER", "VLDB: replication site server already exists"),
    ("VL_RWNOTFOUND", "VLDB: parent r/w entry not found"),
    ("VL_BADREFCOUNT", "VLDB: illegal reference count number"),
    ("VL_SIZEEXCEEDED", "VLDB: vldb size for attributes exceeded"),
    ("VL_BADENTRY", "VLDB: bad incoming vldb entry"),
    ("VL_BADVOLIDBUMP", "VLDB: illegal max volid increment"),
    ("VL_IDALREADYHASHED", "VLDB: (RO/BACK) Id already hashed"),
    ("VL_ENTRYLOCKED", "VLDB: vldb entry is already locked"),
    ("VL_BADVOLOPER", "VLDB: bad volume operation code"),
    ("VL_BADRELLOCKTYPE", "VLDB: bad release lock type"),
    ("VL_RERELEASE", "VLDB: status report: last release was aborted"),
    ("VL_BADSERVERFLAG", "VLDB: invalid replication site server flag"),
    ("VL_PERM", "VLDB: no permission access for call"),
    ("VOLSERREAD_DUMPERROR", "VOLSER:  Problems encountered in reading the dump file !"),
    ("VOLSERDUMPERROR", "VOLSER: Problems encountered in doing the dump !"),
    ("VOLSERATTACH_ERROR", "VOLSER: Could not attach the volume"),
    ("VOLSERDETACH_ERROR", "VOLSER: Could not detach the volume"),
    ("VOLSERILLEGAL_PARTITION", "VOLSER: encountered illegal partition number"),
    ("VOLSERBAD_ACCESS", "VOLSER: permission denied, not a super user"),
    ("VOLSERVLDB_ERROR", "VOLSER: error detected in the VLDB"),
    ("VOLSERBADNAME", "VOLSER: error in volume name"),
    ("VOLSERVOLMOVED", "VOLSER: volume has moved"),
    ("VOLSERBADOP", "VOLSER: illegal operation"),
    ("VOLSERBADRELEASE", "VOLSER: release could not be completed"),
    ("VOLSERVOLBUSY", "VOLSER: volume is busy"),
    ("VOLSERNO_MEMORY", "VOLSER: volume server is out of memory"),
    ("VOLSERNOVOL", "VOLSER: no such volume - location specified incorrectly or volume does not exist"),
    ("VOLSERMULTIRWVOL", "VOLSER: multiple RW volumes with same ID, one of which should be deleted"),
    ("VOLSERFAILEDOP", "VOLSER: not all entries were successfully processed"),
)
_texts: dict[int, str] | None = None


def _print_error_texts() -> dict[int, str]:
    global _texts
    if _texts is None:
        from kafs.errors.tables import code_from_name
        _texts = {code_from_name(n): t for n, t in _PRINT_ERROR_SYMBOLS}
        _texts[-1] = "Possible communication failure"
    return _texts


def print_error(code: int, msg: str = "") -> str:
    """vsprocs.c ``PrintError(msg, code)``: the text it writes to stderr."""
    if code == 0:
        return msg
    t = _print_error_texts().get(code)
    if t is None:
        from kafs.errors.tables import TOOL_TABLES, error_message, table_name
        t = "%s: %s" % (table_name(code), error_message(code, TOOL_TABLES["vos"]))
    return msg + t + "\n"


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
