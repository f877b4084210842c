"""bos addkey: AddKey (bos.c) -- a DES key made from -key (or a prompted
one) with the AFS string-to-key, or the string itself for kvno 999,
given to the server with BOZO_AddKey.  The key is never printed."""

from __future__ import annotations

from kafs.cli import CommandError
from kafs.cli.bos import connect, em, run_async, say
from kafs.cli.bos._write import Done, attempt, render  # noqa: F401

BUFSIZ = 8192


def atoi(text: str) -> int:
    """C atoi on a 64-bit long: blanks, sign, digits; clamped, then cut to int."""
    s = text.lstrip(" \t\n\v\f\r")
    neg = s[:1] == "-"
    if s[:1] in ("-", "+"):
        s = s[1:]
    n = 0
    for ch in s:
        if not ("0" <= ch <= "9"):
            break
        n = n * 10 + ord(ch) - 48
    n = -n if neg else n
    n = max(-(1 << 63), min((1 << 63) - 1, n)) & 0xFFFFFFFF
    return n - (1 << 32) if n & 0x80000000 else n


def read_key(args, prompt: str) -> bytes | None:
    """UI_UTIL_read_pw_string: prompt on stderr, read one line from the
    terminal (echo off), else from stdin; None at end of input or for a
    line longer than the buffer.  A stdin given to the runner (tests)
    is used instead of the terminal."""
    import os
    say(args, prompt)
    runner = getattr(args, "session", None)
    tty = None
    if runner is None or runner.stdin is None:
        try:
            tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
        except OSError:
            tty = None
    try:
        if tty is not None:
            line = _read_tty(tty)
        else:
            src = runner._stdin() if runner is not None else None
            line = _read_line(src)
    finally:
        if tty is not None:
            os.close(tty)
    say(args, "\n")
    if line is None or len(line) >= BUFSIZ:
        return None
    return line


def _read_line(src) -> bytes | None:
    if src is None:
        return None
    out = bytearray()
    while True:
        c = src.read(1)
        if not c:
            return None         # EOF before the newline
        if c == b"\n":
            return bytes(out)
        out += c


def _read_tty(fd: int) -> bytes | None:
    import os
    import termios
    old = None
    try:
        old = termios.tcgetattr(fd)
        new = list(old)
        new[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSANOW, new)
    except termios.error:
        old = None
    try:
        out = bytearray()
        while True:
            c = os.read(fd, 1)
            if not c:
                return None
            if c == b"\n":
                return bytes(out)
            out += c
    finally:
        if old is not None:
            termios.tcsetattr(fd, termios.TCSANOW, old)


def realm_for(cell: str | None) -> str:
    """ka_StringToKey's realm: the local cell, or the -cell given (upper
    case) if the client configuration knows it (then its name), all in
    lower case; an unknown cell is taken as given, in upper case."""
    from kafs.cell import Cell
    from kafs.errors import ConfigError
    try:
        if cell is None:
            return Cell(None).name.lower()
        db = Cell(cell.lower(), dns=False).cellservdb
        e = db.lookup(cell.lower()) if db is not None else None
        return e.name.lower() if e is not None else cell.upper()
    except ConfigError:
        return cell.upper() if cell is not None else ""


async def _run(args):
    c = await connect(args, encrypt=True)
    try:
        if args.key is not None:
            buf = args.key.encode("utf-8", "surrogateescape")
            if len(buf) >= BUFSIZ:
                raise CommandError("Key data too long for buffer", 1)
        else:
            buf = read_key(args, "input key: ")
            if not buf:
                raise CommandError("Bad key: ", 1)
            ver = read_key(args, "Retype input key: ")
            if not ver:
                raise CommandError("Bad key: ", 1)
            if ver != buf:
                raise CommandError("\nInput key mismatch", 1)
        kvno = atoi(args.kvno)
        if kvno == 999:
            key = buf.split(b"\0", 1)[0][:8]          # strcpy into the key
        else:
            from kafs.auth.crypto.afs_s2k import string_to_key
            key = string_to_key(buf.split(b"\0", 1)[0], realm_for(args.cell))
        res = Done()
        code = await attempt(res, {"kvno": kvno}, c.bos.add_key(kvno, key))
        if code:
            raise CommandError("bos: failed to set key %d (%s)" % (kvno, em(code)), 1)
        return res
    finally:
        await c.session.close()


def run(args):
    return run_async(_run(args))


def to_json(res):
    return res.items[0]
