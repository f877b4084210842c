"""Entry points of the kafs command-line tools.

``bos``, ``vos``, ``pts`` and ``fs`` behave like the OpenAFS 1.8.9 tools of
the same names; ``afs <suite> <subcommand> ...`` reaches the same code, and
``afs completion bash`` prints a bash completion script.
``python -m kafs.cli.main <suite> ...`` works too.

Dispatch of one command line (what ``cmd_Dispatch`` and the tool's
``main`` do in C):

1. :class:`kafs.cli.cmd.Parser` parses it; ``help``/``apropos``/``-help``
   and parse errors are handled there, with OpenAFS's texts.
2. The suite's *before* hook runs, if the package ``kafs.cli.<suite>``
   defines ``before(args)`` (like ``cmd_SetBeforeProc``: not for help and
   apropos, but for every other command including ``version``); a non-zero
   return ends the command with that code.  ``after(args)`` likewise.
3. ``version`` prints the version; any other command is handed to its
   implementation, ``kafs.cli.<suite>.<command>`` (or ``Command.impl``),
   imported only now.  A missing implementation prints one line and fails.
4. The command's code becomes the exit status by the tool's rule (vos:
   255 on failure, pts: 1, bos and fs: the code truncated to 8 bits).

No traceback is ever printed unless the environment has ``KAFS_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys

from kafs.cli.cmd import Parser, CMD_TOOBIG, CMD_TOOMANY

__all__ = ["main", "bos", "vos", "pts", "fs", "afs", "run_suite", "Args",
           "register"]

#: Overrides of the implementing module per (suite, command): tests and
#: plug-ins call :func:`register`.
_REGISTRY: dict[tuple[str, str], object] = {}


def register(suite: str, command: str, impl) -> None:
    """Make ``impl`` (a module, a module name, or ``"module:function"``)
    the implementation of ``suite command``."""
    _REGISTRY[(suite, command)] = impl


def _debug() -> bool:
    return os.environ.get("KAFS_DEBUG", "") not in ("", "0")


# --------------------------------------------------------------------------
# Parsed arguments as the implementations see them
# --------------------------------------------------------------------------

class Args:
    """The parsed command line of one subcommand.

    Parameters are attributes named after the switch without its dash
    (``-force-reclone`` -> ``force_reclone``, ``-if`` -> ``if_``): flags are
    ``True``/``False``, single values a ``str`` or ``None``, lists a
    ``list[str]`` or ``None``.  ``args["-cell"]`` works too, and
    ``args.given("-cell")`` tells whether a switch was on the line.

    Also: ``prog`` (the program name as messages print it), ``suite``,
    ``command`` (the real command name), ``invoked_as`` (name or alias as
    typed, after abbreviation), ``json`` (``-json`` given), ``state`` (a
    dict that lives as long as the process: ``pts interactive`` keeps its
    connection there), ``session`` (the runner, for the interactive
    built-ins).
    """

    def __init__(self, prog, suite, command, invoked_as, params, values,
                 state, session=None):
        d = self.__dict__
        d["prog"] = prog
        d["suite"] = suite
        d["command"] = command
        d["invoked_as"] = invoked_as
        d["state"] = state
        d["session"] = session
        d["_values"] = values
        d["_params"] = {}
        for p in params:
            d["_params"][p.key] = p
        d["json"] = bool(values.get("-json"))

    def __getattr__(self, key):
        p = self._params.get(key)
        if p is None:
            raise AttributeError(key)
        v = self._values.get(p.name)
        if v is None and p.type == 1:
            return False
        return v

    def __setattr__(self, key, value):
        raise AttributeError("Args is read-only")

    def __getitem__(self, switch: str):
        key = switch.lstrip("-").replace("-", "_")
        for p in self._params.values():
            if p.name == switch:
                return getattr(self, p.key)
        return getattr(self, key)

    def given(self, switch: str) -> bool:
        return switch in self._values

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self._params}

    def __repr__(self) -> str:
        return "Args(%s %s, %r)" % (self.suite, self.command, self._values)


# --------------------------------------------------------------------------
# Running one suite
# --------------------------------------------------------------------------

class _NotFound(Exception):
    pass


class Runner:
    """One process worth of a suite: the parser, the suite-wide state, the
    ``pts interactive`` source stack."""

    def __init__(self, suite, prog: str, out=None, err=None, stdin=None):
        self.suite = suite
        self.prog = prog
        self.out = out
        self.err = err
        self.stdin = stdin
        self.parser = Parser(suite, out=out, err=err)
        self.state: dict = {}
        self.hooks = None
        # pts interactive (pts.c: source, finished, the source stack)
        self.source = None
        self.finished = True
        self.stack: list = []

    # -- output ---------------------------------------------------------

    def _out(self):
        return self.out or sys.stdout

    def _err(self):
        return self.err or sys.stderr

    def say(self, text: str) -> None:
        e = self._err()
        e.write(text)
        e.flush()

    # -- hooks and implementations ----------------------------------------

    def _hooks(self):
        if self.hooks is None:
            self.hooks = False
            name = "kafs.cli." + self.suite.name
            try:
                self.hooks = __import__(name, fromlist=["_"])
            except ModuleNotFoundError as e:
                if e.name not in ("kafs.cli." + self.suite.name,):
                    raise
        return self.hooks or None

    def _resolve(self, command):
        impl = _REGISTRY.get((self.suite.name, command.name))
        if impl is None:
            impl = command.impl or "kafs.cli.%s.%s" % (self.suite.name,
                                                       command.name)
        if not isinstance(impl, str):
            return impl
        modname, _, func = impl.partition(":")
        try:
            mod = __import__(modname, fromlist=["_"])
        except ModuleNotFoundError as e:
            # Only "this module does not exist" means "not implemented";
            # a missing import inside an existing module is a bug to report.
            parts = modname.split(".")
            prefixes = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
            if e.name in prefixes:
                raise _NotFound(modname) from None
            raise
        if func:
            return getattr(mod, func)
        return mod

    def run_command(self, res) -> int:
        """The ``run`` callback of :meth:`Parser.dispatch`: everything that
        is not help/apropos."""
        ts = res.syntax
        command = ts.command
        params = command.params + self.suite.extra_params if command else ()
        args = Args(res.prog, self.suite.name,
                    command.name if command else ts.name, ts.name, params,
                    res.values, self.state, self)
        hooks = self._hooks()
        before = getattr(hooks, "before", None) if hooks else None
        if before is not None:
            code = before(args)
            if code:
                return code
        try:
            if command is None:                     # version, -version, ...
                code = self.parser.run_builtin(ts)
            else:
                code = self._run_impl(command, args)
        finally:
            after = getattr(hooks, "after", None) if hooks else None
            if after is not None:
                after(args)
        return code

    def _run_impl(self, command, args) -> int:
        try:
            impl = self._resolve(command)
        except _NotFound:
            self.say("%s %s: not implemented yet in kafs\n"
                     % (args.prog, command.name))
            return 1
        if callable(impl) and not hasattr(impl, "run"):
            code = impl(args)                     # framework built-in
            return code or 0
        result = impl.run(args)
        if hasattr(result, "__await__"):
            import asyncio
            result = asyncio.run(_await(result))
        if args.json:
            to_json = getattr(impl, "to_json", None)
            from kafs.cli.render import write_json
            write_json(to_json(result) if to_json else result, self._out())
        else:
            render = getattr(impl, "render", None)
            if render is not None:
                render(result, args)
            elif isinstance(result, str):
                self._out().write(result)
        exit_code = getattr(impl, "exit_code", None)
        return (exit_code(result) if exit_code else 0) or 0

    # -- one command line -------------------------------------------------

    def dispatch(self, argv: list[str]) -> int:
        """cmd_Dispatch with kafs's error handling around it."""
        try:
            return self.parser.dispatch(argv, self.run_command)
        except Exception as exc:        # noqa: BLE001 - the one catch-all
            return self._failed(exc, argv)

    def _failed(self, exc: BaseException, argv) -> int:
        from kafs.cli import CommandError
        if isinstance(exc, CommandError):
            if exc.message is not None:
                self.say(exc.message.rstrip("\n") + "\n")
            return exc.code or 1
        if isinstance(exc, BrokenPipeError):
            raise exc
        if _debug():
            raise exc
        from kafs.errors import KafsError
        if isinstance(exc, KafsError):
            msg = str(exc)
        else:
            msg = "internal error: %s: %s (set KAFS_DEBUG=1 for a traceback)" % (
                type(exc).__name__, exc)
        self.say("%s: %s\n" % (self.prog, " ".join(msg.split("\n"))))
        return 1

    def main(self, argv: list[str]) -> int:
        """The tool's main(): dispatch, then (pts) the interactive loop.
        Returns the exit status."""
        code = self.dispatch(argv)
        if self.suite.name != "pts":
            return self.suite.exit_status(code)
        if code:
            return 1
        return self._interactive_loop(argv[0])

    # -- pts interactive ----------------------------------------------------

    def _interactive_loop(self, argv0: str) -> int:
        while self.source is not None and not self.finished:
            src = self.source
            try:
                tty = os.isatty(src.fileno())
            except (AttributeError, ValueError, OSError):
                tty = False
            if tty:
                self.say("pts> ")
            raw = src.readline(2047)            # fgets(line, 2048, source)
            if not raw:
                if not self._pop_source():
                    break
                continue
            line = raw.decode("utf-8", "surrogateescape") \
                if isinstance(raw, bytes) else raw
            # Cut trailing white space (C isspace).
            line = line.rstrip(" \t\n\v\f\r")
            if not line:
                continue
            code, toks = parse_line(line)
            if code:
                from kafs.cli.render import com_err_line
                whoami = self.state.get("whoami", argv0)
                # pts never registers the CMD error table: OpenAFS prints
                # "Unknown code cmd 9 (3359753)" here, and so do we.
                self.say(com_err_line(whoami, code,
                                      "parsing line: <%s>" % line, tables=()))
                return 2
            self.dispatch([argv0] + toks)
        return 0

    def _pop_source(self) -> bool:
        if not self.stack:
            return False
        if self.source is not self._stdin():
            try:
                self.source.close()
            except OSError:
                pass
        self.source = self.stack.pop()
        return True

    def _stdin(self):
        if self.stdin is not None:
            return self.stdin
        return getattr(sys.stdin, "buffer", sys.stdin)


async def _await(aw):
    return await aw


def parse_line(line: str):
    """cmd_ParseLine: split a line into words.  White space is space, tab
    and newline; ``"`` and ``'`` toggle quoting (the same toggle) and are
    dropped; a word may have at most 256 bytes and a line at most 62 words.
    Returns ``(code, words)``; code is CMD_TOOBIG or CMD_TOOMANY on error."""
    toks: list[str] = []
    cur: list[str] | None = None
    nbytes = 0
    inquote = False
    for ch in line:
        if not inquote and ch in " \t\n":
            if cur is not None:
                toks.append("".join(cur))
                cur = None
            continue
        if cur is None:
            cur = []
            nbytes = 0
        if nbytes >= 256:
            return CMD_TOOBIG, []
        if ch in "\"'":
            inquote = not inquote
        else:
            cur.append(ch)
            nbytes += len(ch.encode("utf-8", "surrogateescape"))
    if cur is not None:
        toks.append("".join(cur))
    if len(toks) > 62:
        return CMD_TOOMANY, []
    return 0, toks


# The pts built-ins (pts.c's pts_Interactive, pts_Quit, pts_Source, pts_Sleep).

def pts_interactive(args) -> int:
    r = args.session
    r.source = r._stdin()
    r.finished = False
    return 0


def pts_quit(args) -> int:
    args.session.finished = True
    return 0


def pts_source(args) -> int:
    r = args.session
    r.finished = False
    path = args.file
    try:
        f = open(path, "rb")
    except OSError as e:
        r.say("%s: %s\n" % (path, os.strerror(e.errno or 0)))
        return e.errno or 1
    r.stack.append(r.source)
    r.source = f
    return 0


def pts_sleep(args) -> int:
    import time
    delay = _atoi(args.delay)
    if delay > 0:
        time.sleep(delay)
    return 0


def _atoi(s: str) -> int:
    s = s.lstrip(" \t\n\v\f\r")
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    n = 0
    for ch in s:
        if not "0" <= ch <= "9":
            break
        n = n * 10 + ord(ch) - 48
    return sign * n


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------

def prog_name(argv0: str | None, default: str) -> str:
    """The program name cmd.c would print: argv[0] as the user typed it.

    A console script sees the path the kernel resolved, not what was typed;
    when that path is exactly what a $PATH search for its base name gives,
    the user most likely typed the bare name, so that is used."""
    if not argv0:
        return default
    base = os.path.basename(argv0)
    if os.sep not in argv0:
        return argv0
    d = os.path.dirname(argv0)
    for p in os.environ.get("PATH", "").split(os.pathsep):
        if not p:
            continue
        cand = os.path.join(p, base)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            if os.path.normpath(p) == os.path.normpath(d):
                return base
            break
    return argv0


def run_suite(name: str, argv: list[str], prog: str | None = None,
              out=None, err=None, stdin=None) -> int:
    """Run ``<name> argv...`` and return the exit status.  ``argv`` is
    without the program name."""
    from kafs.cli.suites import load
    suite = load(name)
    runner = Runner(suite, prog or name, out=out, err=err, stdin=stdin)
    return runner.main([prog or name] + list(argv))


def _setup_streams() -> None:
    # Like the C tools, die quietly of SIGPIPE when the reader goes away
    # (``vos listvldb | head``) instead of raising BrokenPipeError.
    try:
        import _signal
        _signal.signal(_signal.SIGPIPE, _signal.SIG_DFL)
    except (ImportError, AttributeError, ValueError, OSError):
        pass
    for s in (sys.stdout, sys.stderr):
        try:
            s.reconfigure(errors="surrogateescape")
        except (AttributeError, ValueError):
            pass


def _exit(status: int):
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        status = status or 1
    return status


def _leave(status: int):
    """End the program once its command is over, without the interpreter's
    module-by-module teardown: with asyncio and the crypto modules loaded
    that takes about 10 ms, on every command.  What a normal exit does that
    matters still happens first: the atexit hooks (open sessions are closed
    there) and the flush of stdout and stderr.  Nothing of ours waits in a
    Python buffer otherwise: files are written with os.write and fsync'd
    (token store, KeyFile, vos dump), or closed by ``with``.  With
    KAFS_DEBUG set the program exits the usual way (for profilers and
    tracers that report at interpreter exit)."""
    if _debug():
        return status
    import atexit
    atexit._run_exitfuncs()
    status = _exit(status)
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(status & 0xFF if isinstance(status, int) else 1)


def _entry(name: str, argv: list[str] | None = None,
           prog: str | None = None, *, program: bool = False) -> int:
    """Run a suite.  As the program itself (a console script: no ``argv``;
    or ``program``), the process ends here through :func:`_leave`."""
    _setup_streams()
    if argv is None:
        program = True
        argv = sys.argv[1:]
        prog = prog or prog_name(sys.argv[0], name)
    status = _run_entry(name, argv, prog)
    return _leave(status) if program else status


def _run_entry(name: str, argv: list[str], prog: str | None) -> int:
    try:
        status = run_suite(name, argv, prog)
    except KeyboardInterrupt:
        if _debug():
            raise
        return 130
    except BrokenPipeError:
        status = 1
    except Exception as exc:     # noqa: BLE001 - never a traceback
        if _debug():
            raise
        sys.stderr.write("%s: internal error: %s: %s\n"
                         % (prog or name, type(exc).__name__, exc))
        status = 1
    return _exit(status)


def single_tool(load_tool, name: str, argv: list[str] | None = None,
                prog: str | None = None) -> int:
    """The entry point of a tool without subcommands (klog.krb5, unlog):
    ``load_tool()`` gives its Suite, ``name`` the default program name."""
    if argv is None:
        _setup_streams()
        argv = sys.argv[1:]
        prog = prog or prog_name(sys.argv[0], name)
    prog = prog or name
    runner = Runner(load_tool(), prog)
    try:
        status = runner.main([prog] + list(argv))
    except KeyboardInterrupt:
        return 130
    return _exit(status)


def bos() -> int:
    return _entry("bos")


def vos() -> int:
    return _entry("vos")


def pts() -> int:
    return _entry("pts")


def fs() -> int:
    return _entry("fs")


_AFS_USAGE = """\
Usage: afs <suite> <subcommand> [switches]     (suites: bos fs pts vos)
       afs completion bash                     (print bash completion)
       afs help                                (this text)
"""


def afs(argv: list[str] | None = None) -> int:
    """``afs <suite> ...``: the four suites under one name."""
    from kafs.cli.suites import NAMES
    program = argv is None
    if argv is None:
        argv = sys.argv[1:]
    if not argv or argv[0] in ("help", "-help", "--help", "-h"):
        sys.stdout.write(_AFS_USAGE)
        return 0 if argv else 1
    if argv[0] == "completion":
        from kafs.cli.completion import main as completion_main
        return completion_main(argv[1:])
    if argv[0] in NAMES:
        return _entry(argv[0], argv[1:], argv[0], program=program)
    sys.stderr.write("afs: unknown suite '%s'; type 'afs help' for help\n"
                     % (argv[0],))
    return 1


def main(argv: list[str] | None = None) -> int:
    """``python -m kafs.cli.main <suite> ...`` (same as ``afs``)."""
    return afs(argv)


if __name__ == "__main__":
    sys.exit(main())
