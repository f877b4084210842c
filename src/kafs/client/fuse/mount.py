"""``kafs-mount``: mount AFS (the dynamic /afs root, or one volume) with FUSE.

Usage::

    kafs-mount [-f] [-d] [-o OPT[,OPT...]] [SOURCE] MOUNTPOINT
    kafs-mount -u MOUNTPOINT

As mount(8)'s helper for type ``fuse.kafs-mount`` (fstab:
``kafs /afs fuse.kafs-mount _netdev,cache=/var/cache/kafs 0 0``) it is
called as ``kafs-mount SOURCE MOUNTPOINT -o OPTS``; ``SOURCE`` is ignored
unless it is ``CELL:VOLUME`` (mount that volume instead of the dynamic
root).  Without ``-f`` it becomes a daemon once the mount is made, and
exits 0 then (non-zero with one error line if mounting failed).

Options: ``cache=DIR`` (persistent cache; default /var/cache/kafs for root,
none for others), ``nocache``, ``cache_size=SIZE`` (default 1G),
``chunk_size=SIZE`` (1M), ``memcache=SIZE`` (64M), ``readahead=N`` chunks
(8), ``flush_size=SIZE`` (8M), ``cell=NAME`` (the local cell), ``root=VOLUME``
(mount one volume of the local cell), ``sysname=A:B``, ``crypt`` (default) /
``nocrypt`` (rxkad level of authenticated calls), ``attr_timeout=S``,
``entry_timeout=S``, ``dead_time=S`` (Rx), ``busy_timeout=S``,
``control=PATH`` (the control socket), ``log=FILE`` (daemon log),
``allow_other`` (default when root), and the usual mount options, which are
ignored (rw, suid, dev, exec, _netdev, defaults ...).

SIGTERM or SIGINT, or ``kafs-mount -u`` / ``fusermount3 -u``, unmounts:
dirty data is stored first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys

log = logging.getLogger("kafs.client.fuse")

IGNORED = {"rw", "ro", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "_netdev",
           "defaults", "auto", "noauto", "user", "users", "nouser", "async", "sync",
           "atime", "noatime", "relatime", "nofail"}


class UsageError(Exception):
    pass


def parse_size(s: str) -> int:
    s = s.strip().upper()
    mult = 1
    for suf, m in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)):
        if s.endswith(suf) or s.endswith(suf + "B"):
            s = s[: s.index(suf)]
            mult = m
            break
    try:
        v = int(float(s) * mult)
    except ValueError:
        raise UsageError("bad size %r" % s) from None
    if v < 0:
        raise UsageError("bad size %r" % s)
    return v


def parse_args(argv: list[str]) -> dict:
    opts: dict = {"foreground": False, "debug": False, "unmount": False}
    pos: list[str] = []
    raw: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-f", "--foreground"):
            opts["foreground"] = True
        elif a in ("-d", "--debug"):
            opts["debug"] = opts["foreground"] = True
        elif a in ("-u", "--unmount"):
            opts["unmount"] = True
        elif a == "-o":
            i += 1
            if i >= len(argv):
                raise UsageError("-o needs options")
            raw.extend(x for x in argv[i].split(",") if x)
        elif a.startswith("-o") and len(a) > 2:
            raw.extend(x for x in a[2:].split(",") if x)
        elif a in ("-h", "--help"):
            raise UsageError("help")
        elif a.startswith("-") and a != "-":
            raise UsageError("unknown switch %s" % a)
        else:
            pos.append(a)
        i += 1
    if not pos:
        raise UsageError("no mount point given")
    if len(pos) > 2:
        raise UsageError("too many arguments")
    opts["mountpoint"] = pos[-1]
    opts["source"] = pos[0] if len(pos) == 2 else None
    o: dict = {}
    for item in raw:
        k, _, v = item.partition("=")
        if k in IGNORED:
            continue
        o[k] = v if _ else True
    opts["o"] = o
    return opts


def _num(o, k, default, conv=float):
    if k not in o:
        return default
    try:
        return conv(o[k])
    except (TypeError, ValueError):
        raise UsageError("bad value for %s: %r" % (k, o[k])) from None


def build(opts: dict):
    """The CacheManager and operations the options describe."""
    from ..control import default_socket_path
    from ..creds import LEVEL_CLEAR, LEVEL_CRYPT, TokenSource
    from ..manager import CacheManager
    from .ops import AfsOperations
    o = dict(opts["o"])
    known = {"cache", "nocache", "cache_size", "chunk_size", "memcache", "readahead",
             "flush_size", "cell", "root", "sysname", "crypt", "nocrypt", "attr_timeout",
             "entry_timeout", "dead_time", "busy_timeout", "control", "log", "allow_other",
             "max_tasks", "fsname", "subtype"}
    bad = sorted(set(o) - known)
    if bad:
        raise UsageError("unknown option %s" % bad[0])
    cache = None if "nocache" in o else (o.get("cache") or
                                          ("/var/cache/kafs" if os.geteuid() == 0 else None))
    level = LEVEL_CLEAR if "nocrypt" in o else LEVEL_CRYPT
    sysnames = o["sysname"].split(":") if o.get("sysname") else None
    kw = {}
    if sysnames:
        kw["sysnames"] = sysnames
    cm = CacheManager(
        cache_dir=cache,
        cache_size=parse_size(o["cache_size"]) if "cache_size" in o else 1 << 30,
        chunk_size=parse_size(o["chunk_size"]) if "chunk_size" in o else 1 << 20,
        memory_cache=parse_size(o["memcache"]) if "memcache" in o else 64 << 20,
        readahead=_num(o, "readahead", 8, int),
        flush_size=parse_size(o["flush_size"]) if "flush_size" in o else 8 << 20,
        local_cell=o.get("cell") or None,
        tokens=TokenSource(level=level),
        dead_time=_num(o, "dead_time", 50.0),
        busy_timeout=_num(o, "busy_timeout", 300.0),
        **kw)
    if cm.chunk_size < 4096 or cm.chunk_size > 64 << 20:
        raise UsageError("chunk_size must be between 4K and 64M")
    root = None
    src = opts.get("source")
    if o.get("root"):
        root = (o.get("cell") or cm.local_cell, o["root"])
    elif src and ":" in src:
        c, v = src.split(":", 1)
        root = (c, v)
    if root is not None and not root[0]:
        raise UsageError("root= needs a cell (cell= or a local cell)")
    control = o.get("control") or default_socket_path(opts["mountpoint"])
    ops = AfsOperations(cm, root=root, attr_timeout=_num(o, "attr_timeout", 1.0),
                        entry_timeout=_num(o, "entry_timeout", 1.0), control_path=control)
    fuse_opts = {"fsname=" + (o.get("fsname") or "kafs"), "subtype=kafs"}
    if "allow_other" in o or os.geteuid() == 0:
        fuse_opts.add("allow_other")
    return cm, ops, control, fuse_opts, _num(o, "max_tasks", 64, int), o.get("log")


async def serve(cm, ops, control: str, mountpoint: str, fuse_opts, max_tasks: int,
                ready=None) -> None:
    import pyfuse3
    from ..control import ControlServer
    await cm.start()
    ctl = ControlServer(cm, control, ops)
    try:
        await ctl.start()
        pyfuse3.init(ops, mountpoint, fuse_opts)
    except BaseException:
        await ctl.close()
        await cm.close()
        raise
    ops.mounted = True
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    main = asyncio.ensure_future(pyfuse3.main(min_tasks=4, max_tasks=max_tasks))
    if ready is not None:
        ready()
    log.info("mounted %s", mountpoint)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({main, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        ops.mounted = False
        unmounted_by_kernel = main.done()
        if not main.done():
            pyfuse3.terminate()
            try:
                await asyncio.wait_for(main, 30)
            except (asyncio.TimeoutError, Exception):   # noqa: BLE001 - we are leaving
                main.cancel()
        waiter.cancel()
        await ctl.close()
        await cm.close()                  # stores dirty data
        try:
            pyfuse3.close(unmount=not unmounted_by_kernel)
        except Exception as e:           # noqa: BLE001
            log.debug("close: %s", e)
        log.info("unmounted %s", mountpoint)


def _setup_logging(debug: bool, logfile: str | None) -> None:
    h: logging.Handler
    if logfile:
        fd = os.open(logfile, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        h = logging.StreamHandler(os.fdopen(fd, "a", buffering=1))
    else:
        h = logging.StreamHandler(sys.stderr)
    h.setFormatter(logging.Formatter("%(asctime)s kafs-mount: %(message)s"))
    root = logging.getLogger("kafs")
    root.handlers[:] = [h]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False


def _unmount(mountpoint: str) -> int:
    for cmd in (["fusermount3", "-u", mountpoint], ["umount", mountpoint]):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
        except FileNotFoundError:
            continue
        if r.returncode == 0:
            return 0
        err = (r.stderr or r.stdout).strip().splitlines()
        msg = err[-1] if err else "failed"
    print("kafs-mount: cannot unmount %s: %s" % (mountpoint, msg), file=sys.stderr)
    return 1


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_args(argv)
        if opts["unmount"]:
            return _unmount(opts["mountpoint"])
        mp = opts["mountpoint"]
        if not os.path.isdir(mp):
            raise UsageError("%s is not a directory" % mp)
        cm, ops, control, fuse_opts, max_tasks, logfile = build(opts)
    except UsageError as e:
        if str(e) == "help":
            print(__doc__.split("\n\n", 1)[1].split("\nOptions")[0].strip())
            return 0
        print("kafs-mount: %s" % e, file=sys.stderr)
        return 2
    except Exception as e:            # noqa: BLE001 - one line, as every tool
        if os.environ.get("KAFS_DEBUG"):
            raise
        print("kafs-mount: %s" % e, file=sys.stderr)
        return 1
    import pyfuse3.asyncio
    pyfuse3.asyncio.enable()
    if opts["foreground"]:
        _setup_logging(opts["debug"], logfile)
        return _run(cm, ops, control, mp, fuse_opts, max_tasks, None)
    # daemon: the child mounts and tells the parent through a pipe
    r, w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(w)
        with os.fdopen(r, "rb") as f:
            msg = f.read().decode(errors="replace")
        if msg.startswith("ok"):
            return 0
        print("kafs-mount: %s" % (msg.strip() or "the daemon died before mounting"),
              file=sys.stderr)
        return 1
    os.close(r)
    os.setsid()
    if logfile is None:
        logfile = control[:-len(".sock")] + ".log" if control.endswith(".sock") else None
    try:
        if logfile:
            os.makedirs(os.path.dirname(logfile), exist_ok=True)
        _setup_logging(opts["debug"], logfile)
    except OSError:
        _setup_logging(opts["debug"], None)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    if logfile:
        os.dup2(devnull, 2)

    def ready():
        os.write(w, b"ok\n")
        os.close(w)

    try:
        rc = _run(cm, ops, control, mp, fuse_opts, max_tasks, ready)
    except BaseException as e:        # noqa: BLE001
        try:
            os.write(w, ("%s\n" % e).encode())
        except OSError:
            pass
        os._exit(1)
    os._exit(rc)


def _run(cm, ops, control, mp, fuse_opts, max_tasks, ready) -> int:
    try:
        asyncio.run(serve(cm, ops, control, mp, fuse_opts, max_tasks, ready))
    except KeyboardInterrupt:
        return 0
    except Exception as e:            # noqa: BLE001 - one line (the traceback with KAFS_DEBUG)
        if ready is not None or os.environ.get("KAFS_DEBUG"):
            raise
        print("kafs-mount: cannot mount %s: %s" % (mp, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
