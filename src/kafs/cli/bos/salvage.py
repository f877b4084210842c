"""bos salvage: SalvageCmd / DoSalvage (bos.c).

A whole server (-all) or one partition: the file server instance ("fs",
or "dafs" for a demand-attach server) is stopped first if it runs, the
salvager runs as a one-shot cron instance, and the file server is
started again.  One volume (-partition and -volume): the file server
keeps running (a demand-attach one is asked through its salvageserver).
With -showlog or -file the SalvageLog follows, as bos copies it: with
the NUL that ends it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from kafs.cli import CommandError
from kafs.cli.bos import connect, em, error_code, out, run_async, say

EINVAL = 22
ENOENT = 2
AFSCONF_NOTFOUND = 70354689
CLIENT_ETC = "/etc/openafs/"          # AFSDIR_CLIENT_ETC_DIRPATH as OpenAFS prints it
SERVER_ETC = "/etc/openafs/server"    # AFSDIR_SERVER_ETC_DIRPATH


@dataclass
class Salvage:
    service: str = "fs"
    dafs: bool = False
    partition: str | None = None
    volume: str | None = None
    command: str | None = None
    stopped: bool = False           # bos stopped the file server for it
    restarted: bool = False
    completed: bool = False
    log: str | None = None
    code: int = 0
    steps: list = field(default_factory=list)


def _partition_ok(text: str) -> bool:
    from kafs.api.vldb import partition_id
    return partition_id(text) >= 0


async def _volume_id(args, spec: str):
    """vsu_ClientInit (no authentication) and vsu_GetVolumeID: (id or
    None, init code)."""
    from kafs.api.session import AuthSpec, Session
    from kafs.api.vldb import numeric_volume_id, volume_id
    from kafs.cell import Cell
    from kafs.errors import AFSError, ConfigError
    try:
        cell = Cell(args.cell, localauth=bool(args.localauth))
        cell.servers("vlserver")
    except ConfigError:
        # ugen_ClientInitFlags's words, with its name for the directory
        confdir = SERVER_ETC if args.localauth else CLIENT_ETC
        name = args.cell
        if name is None:
            try:
                name = Cell(None, localauth=bool(args.localauth)).name
            except ConfigError:
                name = ""
        say(args, "%s: can't find cell %s's hosts in %s/CellServDB\n"
            % (os.path.basename(args.prog), name, confdir))
        return None, AFSCONF_NOTFOUND
    n = numeric_volume_id(spec)
    if n is not None:
        return n, 0
    try:
        async with await Session.open(cell, auth=AuthSpec(noauth=True), tool="bos") as s:
            return await volume_id(s, spec), 0
    except (AFSError, ConfigError, OSError):
        return 0, 0


async def _stop_fs(args, c, res, o, failed_text):
    """GetServerGoal, then stop the file server instance if it should run:
    None to go on, else the code to return."""
    try:
        goal = (await c.bos.instance_info(res.service)).goal
    except Exception as x:          # noqa: BLE001
        say(args, "bos: failed to get instance info for '%s' (%s)\n"
            % (res.service, em(error_code(x))))
        goal = 1
    if not goal:
        return None
    if o is not None:
        o.write("bos: shutting down '%s'.\n" % res.service)
    try:
        await c.bos.set_temp_status(res.service, 0)
    except Exception as x:          # noqa: BLE001
        code = error_code(x)
        say(args, failed_text % (res.service, em(code)))
        return code
    res.stopped = True
    try:
        await c.bos.wait_all()
    except Exception:               # noqa: BLE001
        say(args, "bos: failed to wait for file server shutdown, continuing.\n")
    return None


async def _restart_fs(args, c, res, o, text, fail, fail_out) -> int:
    if o is not None:
        o.write(text % res.service)
    try:
        await c.bos.set_temp_status(res.service, 1)
    except Exception as x:          # noqa: BLE001
        code = error_code(x)
        msg = fail % (res.service, em(code))
        if fail_out:
            if o is not None:
                o.write(msg)
        else:
            say(args, msg)
        return code
    res.restarted = True
    return 0


async def _whole(args, c, res, o, partition, dodirs, stop_fail, restarting,
                 restart_fail_on_stdout) -> Salvage:
    """A whole server or partition: the file server stopped around it."""
    code = await _stop_fs(args, c, res, o, stop_fail)
    if code:
        res.code = code
        return res
    if o is not None:
        o.write("Starting salvage.\n")
    res.code = await _do_salvage(args, c, res, o, partition, None, dodirs)
    if res.stopped:
        code = await _restart_fs(args, c, res, o, restarting,
                                 "bos: failed to restart '%s' (%s)\n", restart_fail_on_stdout)
        if code:
            res.code = code
    return res


async def _do_salvage(args, c, res, o, partition, volume, dodirs) -> int:
    """DoSalvage: 0 or the code to return."""
    from kafs.api.bos import (SALVAGE_LOG, SalvageArgumentError, SalvageStartError,
                              SalvageWaitError, salvager_command)
    if partition:
        from kafs.api.vldb import partition_id, partition_name
        res.partition = partition_name(partition_id(partition)) \
            if partition_id(partition) >= 0 else partition
    if partition and not _partition_ok(partition):
        say(args, "bos: could not parse partition ID '%s'\n" % partition)
        return EINVAL
    outfile = None
    if args.file:
        try:
            outfile = open(args.file, "wb")
        except OSError:
            say(args, "bos: can't open specified SalvageLog file '%s'\n" % args.file)
            return ENOENT
    try:
        res.command = salvager_command(partition, volume, dafs=res.dafs,
                                       parallel=args.parallel, tmpdir=args.tmpdir,
                                       orphans=args.orphans, salvagedirs=dodirs)
    except SalvageArgumentError as e:
        say(args, "bos: %s\n" % e)
        if outfile is not None:
            outfile.close()
        return e.code
    try:
        def waiting(count):
            if count % 5 == 0 and o is not None:
                o.write("bos: waiting for salvage to complete.\n")
                o.flush()
        try:
            await c.bos.salvage(res.command, waiting)
        except SalvageStartError as e:
            say(args, "bos: failed to start 'salvager' (%s)\n" % em(e.code))
            return e.code
        except SalvageWaitError as e:
            say(args, "bos: salvage failed (%s)\n" % em(e.code))
            return e.code
        res.completed = True
        if o is not None:
            o.write("bos: salvage completed\n")
        if not (args.file or args.showlog):
            return 0
        dest = outfile
        log = []
        if dest is not None:
            dest.write(b"SalvageLog:\n")
        elif o is not None:
            o.write("SalvageLog:\n")
        try:
            async for chunk in c.bos.log_chunks(SALVAGE_LOG, strict=False, terminator=True):
                log.append(chunk)
                if dest is not None:
                    dest.write(chunk)
                elif o is not None:
                    o.write(chunk.decode("utf-8", "surrogateescape"))
        except Exception as x:      # noqa: BLE001
            return error_code(x)
        res.log = b"".join(log).rstrip(b"\0").decode("utf-8", "surrogateescape")
        return 0
    finally:
        if outfile is not None:
            outfile.close()


async def _salvage(args, c, o) -> Salvage:
    res = Salvage()
    if await c.bos.is_dafs():
        res.dafs, res.service = True, "dafs"
    if not args.partition and args.volume:
        raise CommandError("bos: must specify partition to salvage individual volume.", -1)
    if args.showlog and args.file:
        # on stdout, as bos prints it (stderr with -json)
        (o.write if o is not None else lambda t: say(args, t))(
            "bos: can not specify both -file and -showlog.\n")
        res.code = -1
        return res
    if args.all and (args.partition or args.volume):
        raise CommandError("bos: can not specify -all with other flags.", -1)
    if res.dafs and not args.forceDAFS:
        say(args, "This is a demand attach fileserver.  Are you sure you want to proceed "
            "with a manual salvage?\n")
        raise CommandError("must specify -forceDAFS flag in order to proceed.", EINVAL)
    dodirs = False
    if args.salvagedirs:
        if not args.all:
            raise CommandError(" -salvagedirs only possible with -all.", EINVAL)
        dodirs = True
    if args.all:
        # bos's two branches differ in their words (quotes, stdout/stderr)
        return await _whole(args, c, res, o, None, dodirs, "bos: failed to stop '%s' (%s)\n",
                            "bos: restarting %s.\n", False)
    if not args.volume:
        if not args.partition:
            raise CommandError("bos: must specify -all switch to salvage all partitions.", -1)
        if not _partition_ok(args.partition):
            raise CommandError("bos: can't interpret %s as partition ID." % args.partition, -1)
        return await _whole(args, c, res, o, args.partition, False,
                            "bos: can't stop '%s' (%s)\n", "bos: restarting '%s'.\n", True)
    vid, init = await _volume_id(args, args.volume)
    if init:
        say(args, "bos: can't initialize volume system client (code %d), trying anyway.\n"
            % init)
        tname = args.volume.encode("utf-8", "surrogateescape")[:255].decode(
            "utf-8", "surrogateescape")
    else:
        if not vid:
            raise CommandError("bos: can't interpret %s as volume name or ID" % args.volume, -1)
        tname = "%u" % vid
    res.volume = tname
    if not _partition_ok(args.partition):
        raise CommandError("bos: can't interpret %s as partition ID." % args.partition, -1)
    if o is not None:
        o.write("Starting salvage.\n")
    res.code = await _do_salvage(args, c, res, o, args.partition, tname, False)
    return res


async def _run(args):
    o = None if args.json else out(args)
    c = await connect(args, encrypt=True)
    try:
        return await _salvage(args, c, o)
    finally:
        await c.session.close()


def run(args):
    return run_async(_run(args))


def render(res, args):
    pass


def to_json(res):
    return {"service": res.service, "dafs": res.dafs, "partition": res.partition,
            "volume": res.volume, "command": res.command, "stopped": res.stopped,
            "restarted": res.restarted, "completed": res.completed, "log": res.log,
            "code": res.code}


def exit_code(res):
    return res.code
