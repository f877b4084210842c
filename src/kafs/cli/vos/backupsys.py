"""vos backupsys: back up every volume matching prefixes/expressions, on
a server and/or partition (vos.c BackSys).  A prefix starting with "^"
is a POSIX basic regular expression (regcomp without REG_EXTENDED), as
in OpenAFS: the C library's regcomp/regexec do the matching (through
ctypes), so the syntax and the error texts are the system's; without a
usable C library the expression is translated to Python's syntax."""

from __future__ import annotations

import re
import time

from ._common import (Done, done_json as to_json, get_server, outcome_exit as exit_code,  # noqa: F401
                      partition_id, partition_name, print_error, reporter, run_async, session)
from ._fmt import ctime

# glibc's regerror texts
_E_BRACK = "Unmatched [, [^, [:, [., or [="
_E_PAREN = "Unmatched ( or \\("
_E_RPAREN = "Unmatched ) or \\)"
_E_BRACE = "Unmatched \\{"
_E_ESCAPE = "Trailing backslash"
_E_BADBR = "Invalid content of \\{\\}"


def bre(pattern: str):
    """A POSIX basic regular expression as a compiled Python pattern, or
    the regerror text of why it does not compile."""
    out = []
    i, n = 0, len(pattern)
    depth = 0
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return _E_ESCAPE
            d = pattern[i + 1]
            i += 2
            if d == "(":
                depth += 1
                out.append("(")
            elif d == ")":
                if depth == 0:
                    return _E_RPAREN
                depth -= 1
                out.append(")")
            elif d == "{":
                j = pattern.find("\\}", i)
                if j < 0:
                    return _E_BRACE
                body = pattern[i:j]
                if not re.fullmatch(r"\d+(,\d*)?", body):
                    return _E_BADBR
                out.append("{" + body + "}")
                i = j + 2
            elif d.isdigit():
                out.append("\\" + d)
            else:
                out.append(re.escape(d))
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                if pattern.startswith(("[:", "[.", "[="), j):
                    k = pattern.find(pattern[j + 1] + "]", j + 2)
                    if k < 0:
                        return _E_BRACK
                    j = k + 2
                else:
                    j += 1
            if j >= n:
                return _E_BRACK
            body = pattern[i + 1:j]
            neg = body.startswith("^")
            if neg:
                body = body[1:]
            body = body.replace("\\", "\\\\")
            if body.startswith("]"):
                body = "\\]" + body[1:]
            body = body.replace("[:alpha:]", "a-zA-Z").replace("[:digit:]", "0-9") \
                .replace("[:alnum:]", "a-zA-Z0-9").replace("[:upper:]", "A-Z") \
                .replace("[:lower:]", "a-z").replace("[:space:]", " \\t\\n\\r\\f\\v")
            out.append("[" + ("^" if neg else "") + body + "]")
            i = j + 1
        elif c == "*":
            prev = out[-1] if out else None
            out.append("\\*" if prev in (None, "^", "(") else "*")
            i += 1
        elif c == "^":
            out.append("^" if i == 0 or out[-1:] == ["("] else "\\^")
            i += 1
        elif c == "$":
            out.append("$" if i == n - 1 or pattern.startswith("\\)", i + 1) else "\\$")
            i += 1
        elif c == ".":
            out.append(".")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    if depth:
        return _E_PAREN
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:
        return "Invalid regular expression"


class _PosixRegex:
    """regcomp(REG_NOSUB) / regexec / regerror of the C library."""

    _libc = None

    @classmethod
    def compile(cls, pattern: str):
        """A matcher, or the regerror text; None if there is no libc."""
        import ctypes
        if cls._libc is None:
            try:
                lib = ctypes.CDLL(None)
                lib.regcomp, lib.regexec, lib.regerror, lib.regfree  # noqa: B018
            except (OSError, AttributeError):
                cls._libc = False
            else:
                cls._libc = lib
        if not cls._libc:
            return None
        lib = cls._libc
        buf = ctypes.create_string_buffer(512)        # > sizeof(regex_t)
        REG_NOSUB = 8
        code = lib.regcomp(buf, pattern.encode("utf-8", "surrogateescape"), REG_NOSUB)
        if code:
            msg = ctypes.create_string_buffer(256)
            lib.regerror(code, buf, msg, 256)
            return msg.value.decode("utf-8", "replace")
        m = cls()
        m._buf = buf
        return m

    def search(self, name: str):
        r = self._libc.regexec(self._buf, name.encode("utf-8", "surrogateescape"), 0, None, 0)
        return True if r == 0 else None


def compile_expression(pattern: str):
    c = _PosixRegex.compile(pattern)
    return bre(pattern) if c is None else c


def _matches(pat: str, name: str, compiled: dict) -> bool:
    if pat.startswith("^"):
        return compiled[pat].search(name) is not None
    return name.startswith(pat)


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    prefixes = args.prefix or []
    xprefixes = args.xprefix or []
    exclude = bool(args.exclude)
    dry = bool(args.dryrun)
    d = Done(backed_up=[], failed=[], would_back_up=[], server=args.server, partition=None)
    server = 0
    part = 0
    if args.server is not None:
        server = get_server(args.server)
        if not server:
            r.err("vos: server '%s' not found in host table\n" % args.server)
            return d.fail(status=1)
    if args.partition is not None:
        part = partition_id(args.partition)
        if part < 0:
            r.err("vos: could not interpret partition name '%s'\n" % args.partition)
            return d.fail(status=1)
        d.info["partition"] = partition_name(part)
    compiled = {}
    for label, pats in (("-prefix", prefixes), ("-xprefix", xprefixes)):
        for p in pats:
            if p.startswith("^"):
                c = compile_expression(p)
                if isinstance(c, str):
                    r.err("Unrecognizable %s regular expression: '%s': %s\n" % (label, p, c))
                    return d.fail(status=1)
                compiled[p] = c
    async with await session(args) as s:
        entries, code = await volops._c(vldb.list_entries(
            s, server=server if args.server is not None else None,
            partition=part if args.partition is not None else None))
        if code:
            r.err("Could not access the VLDB for attributes\n")
            r.err(print_error(code))
            return d.fail(code, status=1)
        if args.server is not None or args.partition is not None or r.verbose:
            line = "Would have backed up volumes" if dry else "Backing up volumes"
            if args.server is not None:
                line += " on server %s" % args.server
            elif args.partition is not None:
                line += " for all servers"
            if args.partition is not None:
                line += " partition %s" % partition_name(part)
            if prefixes or xprefixes:
                pats = prefixes or xprefixes
                ex = exclude if prefixes else not exclude
                kind = lambda p: "expression" if p.startswith("^") else "prefix"
                line += " which %smatch %s '%s'" % ("do not " if ex else "", kind(pats[0]), pats[0])
                for p in pats[1:]:
                    line += " %sor %s '%s'" % ("n" if ex else "", kind(p), p)
            if prefixes and xprefixes:
                kind = lambda p: "expression" if p.startswith("^") else "prefix"
                line += " %swhich match %s '%s'" % (
                    "adding those " if exclude else "removing those ", kind(xprefixes[0]),
                    xprefixes[0])
                for p in xprefixes[1:]:
                    line += " or %s '%s'" % (kind(p), p)
            line += " .. "
            if r.verbose:
                line += "\n"
            r.out(line)
        back = fail = 0
        total = len(entries)
        for j, e in enumerate(entries):
            r.progress("backupsys", j, total)
            name = e.name
            match = any(_matches(p, name, compiled) for p in prefixes) if prefixes else True
            if match and xprefixes and any(_matches(p, name, compiled) for p in xprefixes):
                match = False
            if exclude:
                match = not match
            if not match:
                continue
            if dry:
                r.out("     %s\n" % name)
                d.info["would_back_up"].append(name)
                continue
            if not e.flags & vldb.VLF_RWEXISTS:
                if r.verbose:
                    r.out("Omitting to backup %s since RW volume does not exist \n" % name)
                    r.out("\n")
                continue
            st = next((x for x in e.sites if x.flags & vldb.VLSF_RWVOL), None)
            if st is None:
                r.out("could not backup %s, invalid VLDB entry\n" % name)
                fail += 1
                d.info["failed"].append(name)
                continue
            same = False
            if server:
                same, err = await volops.is_same_addrs(s, server, st.server)
                if err:
                    r.err("Failed to get info about server's %d address(es) from vlserver "
                          "(err=%d); aborting call!\n" % (volops.net_int(server), err))
                    fail += 1
                    d.info["failed"].append(name)
                    continue
            if (server and not same) or (part and part != st.partition):
                if r.verbose:
                    r.out("Omitting to backup %s since the RW is in a different location\n"
                          % name)
                continue
            if r.verbose:
                r.out("Creating backup volume for %s on %s" % (name, ctime(int(time.time()))))
            try:
                await volops.backup_volume(s, r, st.server, st.partition, e.rw_id)
                back += 1
                d.info["backed_up"].append(name)
            except volops.VolOpError:
                r.out("Could not backup %s\n" % name)
                fail += 1
                d.info["failed"].append(name)
            if r.verbose:
                r.out("\n")
        r.progress_end()
    r.out("done\n")
    r.out("Total volumes backed up: %u; failed to backup: %u\n" % (back, fail))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
