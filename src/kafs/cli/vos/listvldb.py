"""vos listvldb: list VLDB entries (vos.c ListVLDB / VolumeInfoCmd)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._common import (VosExit, error_code, finish, get_server, out, partition_id,
                      print_error, run_async, session)
from . import _fmt


@dataclass(repr=False)
class Listing:
    name: str | None = None
    server: str | None = None
    partition: str | None = None
    locked_only: bool = False
    quiet: bool = False
    entries: list = field(default_factory=list)
    header: str | None = None
    error: VosExit | None = None
    count: int = 0                  # entries listed
    text: str | None = None         # their text, made while listing (not with -json)


async def _run(args) -> Listing:
    from kafs.api import vldb
    from kafs.errors import AFSError, DecodeError
    r = Listing(locked_only=bool(args.locked), quiet=bool(args.quiet))
    if args.name is not None:
        if args.locked:
            raise VosExit("vos: illegal use of '-locked' switch, need to specify "
                          "server and/or partition\n", 1)
        r.name = args.name
        async with await session(args) as s:
            try:
                r.entries = [await vldb.get_entry(s, args.name)]
            except (AFSError, DecodeError) as e:
                raise VosExit(print_error(error_code(e)), 1)
        return r
    srv = None
    if args.server is not None:
        srv = get_server(args.server)
        if not srv:
            raise VosExit("vos: server '%s' not found in host table\n" % args.server, 1)
        r.server = args.server
    part = None
    if args.partition is not None:
        part = partition_id(args.partition)
        if part < 0:
            raise VosExit("vos: could not interpret partition name '%s'\n" % args.partition, 1)
        r.partition = _fmt.pname(part)
    if not args.quiet:
        r.header = "VLDB entries for %s %s%s%s %s\n" % (
            "server" if args.server is not None else "all",
            args.server if args.server is not None else "servers",
            " partition " if args.partition is not None else "",
            _fmt.pname(part if part is not None else 0) if args.partition is not None else "",
            "which are locked:" if args.locked else "")
    # Text is made page by page while the next page is on its way; -json
    # keeps the entries.
    text = not args.json
    noresolve = bool(args.noresolve)
    sort = not args.nosort
    entries: list = []
    texts: list = []
    keys: list = []
    async with await session(args) as s:
        pages = vldb.entries_pages(s, server=srv, partition=part, locked=bool(args.locked))
        try:
            async for page in pages:
                if text:
                    texts += _fmt.enumerate_entries(page, noresolve)
                    if sort:
                        keys += [e.name.encode("utf-8", "surrogateescape") for e in page]
                    r.count += len(page)
                else:
                    entries += page
        except (AFSError, DecodeError) as e:
            r.error = VosExit("Could not access the VLDB for attributes\n"
                              + print_error(error_code(e)), 1)
            return r
        finally:
            await pages.aclose()
    if text:
        if sort:
            order = sorted(range(len(keys)), key=keys.__getitem__)
            texts = [texts[i] for i in order]
        r.text = "".join(texts)
    else:
        if sort:
            entries.sort(key=lambda e: e.name.encode("utf-8", "surrogateescape"))
        r.entries = entries
        r.count = len(entries)
    return r


def run(args):
    return run_async(_run, args)


def render(r: Listing, args) -> None:
    noresolve = bool(args.noresolve)
    if r.name is not None:
        e = r.entries[0]
        out(_fmt.enumerate_entry(e, noresolve) + _fmt.print_locked(e.flags))
        return
    if r.header:
        out(r.header)
    if r.error:
        return
    out(r.text)                     # made while listing (render is not used with -json)
    if not r.quiet:
        out("\nTotal entries: %u\n" % r.count)


def to_json(r: Listing):
    return {
        "name": r.name,
        "server": r.server,
        "partition": r.partition,
        "locked_only": r.locked_only,
        "entries": [e.to_json() for e in r.entries],
        "total": len(r.entries),
    }


def exit_code(r: Listing) -> int:
    if r.error:
        finish(r.error)
    return 0
