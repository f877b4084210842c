"""The command-line parser shared by bos, vos, pts and fs.

This reimplements the behaviour of OpenAFS 1.8.9's ``cmd`` library
(``src/cmd/cmd.c``) so that every message, usage line and exit code matches
byte for byte.  Subcommands are declared as data (:class:`Command`,
:class:`Param`); a :class:`Suite` is the set of subcommands of one tool.
:class:`Parser` turns a suite into the library's run-time state (the sorted
list of syntax descriptors, the built-in ``help``/``apropos``/``version``
commands and their hidden ``-help``/``--help``/``-version``/``--version``
synonyms) and implements ``cmd_Parse``/``cmd_Dispatch``.

The rules, as the C library has them:

* Subcommands are matched by name, alias, or any prefix that selects a
  single non-hidden command (a command and its own aliases do not make a
  prefix ambiguous).  Hidden commands must be typed in full.
* Switches are matched by full name, by an alias (full name only), or by
  a unique prefix; hidden switches and those marked ``noabbrev`` need the
  full name.  ``--name`` is ``-name`` (when ``name`` has at least two
  characters); ``-name=value`` gives a value inline (split at the last
  ``=``).  ``-`` followed by a digit is a value, not a switch.
* Until a value-taking switch is named, bare words fill the parameters in
  declaration order (flags and unnamed hidden parameters are skipped); the
  last list parameter swallows every remaining word.  After a switch, bare
  words go to that switch.
* ``-help`` anywhere prints the usage line (exit 0) once the whole line
  has parsed; missing required parameters are checked after that.

One quirk is kept on purpose: as in C, the "switch was named" mark of a
parameter survives a failed parse, which matters only when several command
lines are parsed in one process (``pts interactive``).

Nothing here imports more than ``sys``: start-up time of ``vos help`` is
what this module costs.
"""

from __future__ import annotations

import sys

__all__ = [
    "FLAG", "SINGLE", "LIST", "SINGLE_OR_FLAG",
    "Param", "Command", "Suite", "Parser", "Syntax",
    "flag", "req_flag", "req", "opt", "req_list", "opt_list", "cmd",
    "CMD_EXCESSPARMS", "CMD_INTERNALERROR", "CMD_NOTLIST", "CMD_TOOMANY",
    "CMD_USAGE", "CMD_UNKNOWNCMD", "CMD_UNKNOWNSWITCH", "CMD_AMBIG",
    "CMD_TOOFEW", "CMD_TOOBIG", "CMD_MISSING", "CMD_BADFORMAT", "CMD_HELP",
]

# Parameter types (cmd.h).
FLAG = 1
SINGLE = 2
LIST = 3
SINGLE_OR_FLAG = 4

# The CMD com_err table (cmd_errors.et); base of table "CMD" is 3359744.
CMD_EXCESSPARMS = 3359744
CMD_INTERNALERROR = 3359745
CMD_NOTLIST = 3359746
CMD_TOOMANY = 3359747
CMD_USAGE = 3359748
CMD_UNKNOWNCMD = 3359749
CMD_UNKNOWNSWITCH = 3359750
CMD_AMBIG = 3359751
CMD_TOOFEW = 3359752
CMD_TOOBIG = 3359753
CMD_MISSING = 3359754
CMD_BADFORMAT = 3359755
CMD_HELP = 3359756

#: cmd.c's line width for usage lines and the continuation indent.
USAGE_WIDTH = 78
USAGE_INDENT = "        "


# --------------------------------------------------------------------------
# Declarations (pure data)
# --------------------------------------------------------------------------

class Param:
    """One switch of a subcommand, as ``cmd_AddParm`` declares it."""

    __slots__ = ("name", "type", "optional", "help", "aliases", "hidden",
                 "noabbrev")

    def __init__(self, name: str, type: int, optional: bool = False,
                 help: str | None = None, aliases: tuple[str, ...] = (),
                 hidden: bool = False, noabbrev: bool = False):
        self.name = name
        self.type = type
        self.optional = optional
        self.help = help
        self.aliases = tuple(aliases)   # in the order usage lines show them
        self.hidden = hidden
        self.noabbrev = noabbrev

    @property
    def key(self) -> str:
        """The attribute name of this parameter in parsed arguments."""
        return param_key(self.name)

    def __repr__(self) -> str:
        return "Param(%r, type=%d, optional=%r)" % (self.name, self.type,
                                                     self.optional)


class Command:
    """A subcommand: name, one-line help, parameters in slot order.

    ``aliases`` lists alias names in the order ``help`` prints them; an
    entry ``(name, n)`` is an alias created when only the first ``n``
    parameters had been declared (it has only those).
    ``impl`` names the implementing module (default:
    ``kafs.cli.<suite>.<name>``).
    """

    __slots__ = ("name", "help", "params", "aliases", "hidden", "impl")

    def __init__(self, name: str, help: str | None, params=(),
                 aliases: tuple[str, ...] = (), hidden: bool = False,
                 impl: str | None = None):
        self.name = name
        self.help = help
        self.params = tuple(params)
        self.aliases = tuple(aliases)
        self.hidden = hidden
        self.impl = impl

    def __repr__(self) -> str:
        return "Command(%r)" % (self.name,)


class Suite:
    """A multi-command tool (``vos``) or, with ``single``, a tool without
    subcommands whose one :class:`Command` has ``name`` None.

    ``exit_status(code)`` maps the dispatcher's code to the process exit
    status the way the tool's ``main`` does; ``extra_params`` are added
    (hidden, full-name only) to every non-built-in command: that is how
    ``-json`` is added without changing any OpenAFS behaviour.
    """

    __slots__ = ("name", "commands", "version", "exit_mode", "single",
                 "extra_params", "_index")

    def __init__(self, name: str, commands, version: str,
                 exit_mode: str = "code", single: bool = False,
                 extra_params=()):
        self.name = name
        self.commands = tuple(commands)
        self.version = version
        self.exit_mode = exit_mode   # "vos": -1/0, "pts": 1/0, "code": code
        self.single = single
        self.extra_params = tuple(extra_params)
        self._index = None

    def exit_status(self, code: int) -> int:
        if self.exit_mode == "vos":
            return 255 if code else 0
        if self.exit_mode == "bool":
            return 1 if code else 0
        return code & 0xff

    def command(self, name: str) -> Command | None:
        """The command with exactly this name or alias (no abbreviation)."""
        if self._index is None:
            idx = {}
            for c in self.commands:
                idx[c.name] = c
                for a in c.aliases:
                    idx.setdefault(alias_name(a), c)
            self._index = idx
        return self._index.get(name)


def alias_name(alias) -> str:
    """The name of an entry of :attr:`Command.aliases`."""
    return alias if isinstance(alias, str) else alias[0]


def param_key(name: str) -> str:
    """``-force-reclone`` -> ``force_reclone``; ``-if`` -> ``if_``."""
    key = name.lstrip("-").replace("-", "_")
    if key in _KEYWORDS:
        key += "_"
    return key


_KEYWORDS = frozenset("""False None True and as assert async await break
class continue def del elif else except finally for from global if import
in is lambda nonlocal not or pass raise return try while with yield""".split())


# Small constructors used by the declaration files (suites/*.py).

def flag(name: str, help: str | None = None, aliases=(), hidden=False,
         noabbrev=False) -> Param:
    return Param(name, FLAG, True, help, aliases, hidden, noabbrev)


def req_flag(name: str, help: str | None = None, aliases=()) -> Param:
    """A flag that must be given (``fs uuid -generate``)."""
    return Param(name, FLAG, False, help, aliases)


def req(name: str, help: str | None = None, aliases=(), hidden=False) -> Param:
    return Param(name, SINGLE, False, help, aliases, hidden)


def opt(name: str, help: str | None = None, aliases=(), hidden=False) -> Param:
    return Param(name, SINGLE, True, help, aliases, hidden)


def req_list(name: str, help: str | None = None, aliases=(),
             hidden=False) -> Param:
    return Param(name, LIST, False, help, aliases, hidden)


def opt_list(name: str, help: str | None = None, aliases=(),
             hidden=False) -> Param:
    return Param(name, LIST, True, help, aliases, hidden)


def cmd(name: str, help: str | None, *params: Param, aliases=(),
        hidden=False, impl=None) -> Command:
    return Command(name, help, params, aliases, hidden, impl)


# --------------------------------------------------------------------------
# Run-time state: syntax descriptors
# --------------------------------------------------------------------------

_HELP_PROC = "help"
_APROPOS_PROC = "apropos"
_VERSION_PROC = "version"


class _Slot:
    """A parameter slot of one syntax descriptor, with its parse state."""

    __slots__ = ("param", "name", "type", "optional", "help", "aliases",
                 "hidden", "noabbrev", "expands", "processed", "items")

    def __init__(self, param: Param):
        self.param = param
        self.name = param.name
        self.type = param.type
        self.optional = param.optional
        self.help = param.help
        self.aliases = param.aliases
        self.hidden = param.hidden
        self.noabbrev = param.noabbrev
        self.expands = False
        self.processed = False     # CMD_PROCESSED; survives failed parses
        self.items = None          # None, True (flag given) or list[str]


_HELP_PARAM = Param("-help", FLAG, True, "get detailed help")


class Syntax:
    """One entry of the sorted command list: a command, an alias of one, or
    a built-in."""

    __slots__ = ("name", "help", "slots", "alias", "hidden", "implicit",
                 "alias_of", "aliases", "proc", "command", "a0name")

    def __init__(self, name, help, params, proc, command=None, hidden=False,
                 implicit=False, extra=()):
        self.name = name
        self.help = help
        slots = [_Slot(p) for p in params]
        slots.extend(_Slot(p) for p in extra)
        slots.append(_Slot(_HELP_PARAM))            # CMD_HELPPARM, last slot
        self.slots = slots
        self.alias = False
        self.hidden = hidden
        self.implicit = implicit
        self.alias_of = self
        self.aliases = []          # alias Syntax objects, in display order
        self.proc = proc           # _HELP_PROC / _APROPOS_PROC / _VERSION_PROC / None
        self.command = command     # the Command (None for built-ins)
        self.a0name = None
        # SetupExpandsFlag: the last list parameter swallows the rest.
        last = None
        for s in slots:
            if s.type == LIST:
                last = s
        if last is not None:
            last.expands = True

    def make_alias(self, name: str, nparams: int | None = None,
                   extra=()) -> "Syntax":
        """cmd_CreateAlias: a copy of this syntax under another name.  The C
        library copies the parameters declared *so far*: ``nparams`` keeps
        only the first ones (``fs cachesize`` lacks ``-reset``)."""
        c = self.command
        params = c.params if nparams is None else c.params[:nparams]
        a = Syntax(name, self.help, params, self.proc, command=c,
                   hidden=self.hidden, implicit=self.implicit, extra=extra)
        a.alias = True
        a.alias_of = self
        return a

    def reset(self) -> None:
        for s in self.slots:
            s.items = None

    def values(self) -> dict:
        """Parsed values by parameter name: True for flags given, a str for
        single-valued parameters, a list for lists; absent ones left out."""
        out = {}
        for s in self.slots:
            if s.items is None:
                continue
            if s.items is True:
                out[s.name] = True
            elif s.type == LIST:
                out[s.name] = list(s.items)
            else:
                out[s.name] = s.items[0]
        return out

    def __repr__(self) -> str:
        return "Syntax(%r)" % (self.name,)


def _nname(a: str | None, b: str) -> str:
    """cmd.c's NName: ``a + b`` unless ``a`` is empty."""
    return a + b if a else ""


def _substring(main: str, sub: str) -> bool:
    return sub in main


def _blen(s: str) -> int:
    """Byte length as printf counts it."""
    try:
        return len(s.encode("utf-8", "surrogateescape"))
    except UnicodeError:
        return len(s)


class ParseResult:
    """What a successful parse selected: the syntax descriptor (``syntax``,
    whose ``command`` is None for built-ins) and the program name."""

    __slots__ = ("syntax", "prog", "values")

    def __init__(self, syntax: Syntax, prog: str, values: dict):
        self.syntax = syntax
        self.prog = prog
        self.values = values

    @property
    def command(self) -> Command | None:
        return self.syntax.command

    def __repr__(self) -> str:
        return "ParseResult(%r, %r)" % (self.syntax.name, self.values)


class Parser:
    """The ``cmd`` library's state for one suite.

    ``parse(argv)`` returns ``(code, result)``: ``code`` 0 with a
    :class:`ParseResult`, or a CMD_* code (CMD_HELP after ``-help``) after
    the messages have been written to ``out``/``err``.  ``argv[0]`` is the
    program name as cmd.c prints it.
    """

    def __init__(self, suite: Suite, out=None, err=None):
        self.suite = suite
        self.out = out
        self.err = err
        self.no_opcodes = suite.single
        syntaxes = []
        for c in suite.commands:
            ts = Syntax(c.name, c.help, c.params, None, command=c,
                        hidden=c.hidden, extra=suite.extra_params)
            syntaxes.append(ts)
            # cmd_CreateAlias threads each new alias at the head of the
            # alias chain; c.aliases is already in display order.
            for a in c.aliases:
                name, n = (a, None) if isinstance(a, str) else a
                al = ts.make_alias(name, n, suite.extra_params)
                ts.aliases.append(al)
                syntaxes.append(al)
        if not self.no_opcodes:
            syntaxes.append(Syntax("help", "get help on commands",
                                   [opt_list("-topic", "help string")],
                                   _HELP_PROC, implicit=True))
            syntaxes.append(Syntax("apropos", "search by help text",
                                   [req("-topic", "help string")],
                                   _APROPOS_PROC, implicit=True))
            syntaxes.append(Syntax("version", "show version", [],
                                   _VERSION_PROC, implicit=True))
            for n, proc in (("-version", _VERSION_PROC), ("-help", _HELP_PROC),
                            ("--version", _VERSION_PROC), ("--help", _HELP_PROC)):
                syntaxes.append(Syntax(n, None, [], proc, hidden=True,
                                       implicit=True))
        # SortSyntax: stable insertion in strcmp order.
        syntaxes.sort(key=lambda s: (s.name or "").encode("utf-8",
                                                         "surrogateescape"))
        self.syntaxes = syntaxes

    # -- output ---------------------------------------------------------

    def _o(self, s: str) -> None:
        (self.out or sys.stdout).write(s)

    def _e(self, s: str) -> None:
        (self.err or sys.stderr).write(s)

    # -- lookups --------------------------------------------------------

    def find_syntax(self, aname: str):
        """FindSyntax: returns ``(syntax or None, ambiguous)``."""
        best = None
        ambig = False
        n = len(aname)
        for ts in self.syntaxes:
            if ts.name == aname:
                return ts, False
            if len(ts.name) < n:
                continue
            if ts.hidden:
                continue
            if best is not None and ts.alias_of is best.alias_of:
                continue
            if ts.name.startswith(aname):
                if best is not None:
                    ambig = True
                else:
                    best = ts
        if ambig:
            return None, True
        return best, False

    @staticmethod
    def find_type(ts: Syntax, aname: str) -> int:
        """FindType: index of the slot a switch names, or -1."""
        if len(aname) >= 4 and aname[0] == "-" and aname[1] == "-":
            aname = aname[1:]
        n = len(aname)
        best = -1
        ambig = False
        for i, s in enumerate(ts.slots):
            if s.name == aname:
                return i
            if len(s.name) < n:
                continue
            for a in s.aliases:
                if a == aname:
                    return i
            if s.hidden or s.noabbrev:
                continue
            if s.name.startswith(aname):
                if best != -1:
                    ambig = True
                else:
                    best = i
        return -1 if ambig else best

    # -- printing -------------------------------------------------------

    def print_syntax(self, ts: Syntax) -> None:
        if self.no_opcodes:
            line = "Usage: %s" % (ts.a0name,)
        else:
            line = "Usage: %s%s" % (_nname(ts.a0name, " "), ts.name)
        n = _blen(line)
        parts = [line]
        for s in ts.slots:
            if s.hidden:
                continue
            name = s.name
            for a in s.aliases:
                name += " | " + a
            if s.type == FLAG:
                hs = ""
            else:
                hs = " %s<%s>%s%s" % ("[" if s.type == SINGLE_OR_FLAG else "",
                                      s.help if s.help is not None else "arg",
                                      "+" if s.type == LIST else "",
                                      "]" if s.type == SINGLE_OR_FLAG else "")
            xtra = 1 + _blen(name) + _blen(hs) + (2 if s.optional else 0)
            if n + xtra > USAGE_WIDTH:
                parts.append("\n" + USAGE_INDENT)
                n = 8
            if s.optional:
                parts.append(" [%s%s]" % (name, hs))
            else:
                parts.append(" %s%s" % (name, hs))
            n += xtra
        parts.append("\n")
        self._o("".join(parts))

    def print_flag_help(self, ts: Syntax) -> None:
        flags = [s for s in ts.slots[:-1]
                 if s.type == FLAG and not s.hidden and s.help is not None]
        if not flags:
            return
        width = max(len(s.name) for s in flags)
        prefix = "Where:"
        lines = []
        for s in flags:
            lines.append("%-7s%-*s  %s\n" % (prefix, width, s.name, s.help))
            prefix = ""
        self._o("".join(lines))

    def print_aliases(self, ts: Syntax) -> None:
        if ts.alias:
            self._o("(alias for %s)\n" % (ts.alias_of.name,))
        else:
            self._o("\n")
            if not ts.aliases:
                return
            self._o("aliases: " + "".join(a.name + " " for a in ts.aliases)
                    + "\n")

    # -- built-in procs -------------------------------------------------

    def help_proc(self, ts: Syntax) -> int:
        topics = ts.slots[0].items if ts.proc == _HELP_PROC and \
            ts.slots[0].name == "-topic" else None
        a0 = ts.a0name
        if not topics:
            lines = ["%sCommands are:\n" % (_nname(a0, ": "),)]
            for t in self.syntaxes:
                if t.alias or t.hidden:
                    continue
                lines.append("%-15s %s\n" % (t.name, t.help or ""))
            self._o("".join(lines))
            return 0
        code = 0
        for topic in topics:
            code = 0
            t, ambig = self.find_syntax(topic)
            if t is not None and t.hidden:
                t = None
            if t is not None:
                self._o("%s%s: %s " % (_nname(a0, " "), t.name, t.help or ""))
                t.a0name = a0
                self.print_aliases(t)
                self.print_syntax(t)
                self.print_flag_help(t)
            else:
                if not ambig:
                    self._e("%sUnknown topic '%s'\n" % (_nname(a0, ": "), topic))
                else:
                    self._e("%sAmbiguous topic '%s'; use 'apropos' to list\n"
                            % (_nname(a0, ": "), topic))
                code = CMD_UNKNOWNCMD
        return code

    def apropos_proc(self, ts: Syntax) -> int:
        sub = ts.slots[0].items[0]
        lines = []
        for t in self.syntaxes:
            if t.alias or t.hidden:
                continue
            if _substring(t.help or "", sub) or _substring(t.name, sub):
                lines.append("%s: %s\n" % (t.name, t.help))
        if not lines:
            lines.append("Sorry, no commands found\n")
        self._o("".join(lines))
        return 0

    def version_proc(self, ts: Syntax) -> int:
        self._o("%s\n" % (self.suite.version,))
        return 0

    def run_builtin(self, ts: Syntax) -> int:
        if ts.proc == _HELP_PROC:
            return self.help_proc(ts)
        if ts.proc == _APROPOS_PROC:
            return self.apropos_proc(ts)
        return self.version_proc(ts)

    # -- cmd_Parse ------------------------------------------------------

    def parse(self, argv: list[str]):
        """cmd_Parse.  Returns ``(code, ParseResult or None)``."""
        ts = None
        code = self._parse(argv)
        if isinstance(code, Syntax):
            ts = code
            values = ts.values()
            return 0, ParseResult(ts, argv[0], values)
        return code, None

    def _parse(self, argv):
        pname = argv[0]
        argc = len(argv)
        if self.no_opcodes:
            ts = self.syntaxes[0]
            if argc == 1 and not all(s.optional for s in ts.slots):
                self._o("%s: Type '%s -help' for help\n" % (pname, pname))
                return CMD_USAGE
        else:
            if argc < 2:
                self._o("%s: Type '%s help' or '%s help <topic>' for help\n"
                        % (pname, pname, pname))
                return CMD_USAGE
            ts, ambig = self.find_syntax(argv[1])
            if ts is None:
                if ambig:
                    self._e("%sAmbiguous operation '%s'; type '%shelp' for list\n"
                            % (_nname(pname, ": "), argv[1], _nname(pname, " ")))
                else:
                    self._e("%sUnrecognized operation '%s'; type '%shelp' for list\n"
                            % (_nname(pname, ": "), argv[1], _nname(pname, " ")))
                return CMD_UNKNOWNCMD
        ts.reset()
        code = self._parse_args(ts, argv, pname)
        if code:
            ts.reset()
            return code
        return ts

    def _parse_args(self, ts: Syntax, argv, pname) -> int:
        slots = ts.slots
        nslots = len(slots)
        cur = 0
        positional = True
        i = 1 if self.no_opcodes else 2
        argc = len(argv)
        while i < argc:
            arg = argv[i]
            if arg[:1] == "-" and not ("0" <= arg[1:2] <= "9" and arg[1:2]):
                embedded = None
                if "=" in arg:
                    k = arg.rindex("=")
                    embedded = arg[k + 1:]
                    j = self.find_type(ts, arg[:k])
                else:
                    j = self.find_type(ts, arg)
                if j < 0:
                    if self.no_opcodes:
                        hint = "'%s -help' for detailed help\n" % (argv[0],)
                    else:
                        hint = "'%shelp %s' for detailed help\n" % (
                            _nname(argv[0], " "), ts.name)
                    self._e("%sUnrecognized or ambiguous switch '%s'; type %s"
                            % (_nname(pname, ": "), arg, hint))
                    return CMD_UNKNOWNSWITCH
                s = slots[j]
                if s.type == FLAG:
                    s.items = True
                    if embedded is not None:
                        self._e("%sSwitch '%s' doesn't take an argument\n"
                                % (_nname(pname, ": "), s.name))
                        return CMD_TOOMANY
                else:
                    positional = False
                    cur = j
                    s.processed = True
                    if embedded is not None:
                        self._add_item(s, embedded, pname)
            else:
                if cur >= nslots:
                    self._e("%sToo many arguments\n" % (_nname(pname, ": "),))
                    return CMD_TOOMANY
                s = slots[cur]
                if s.type == FLAG or (not s.processed and s.hidden):
                    cur += 1
                    continue           # reprocess this word in the next slot
                if s.type in (SINGLE, SINGLE_OR_FLAG):
                    if s.items:
                        self._e("%sToo many values after switch %s\n"
                                % (_nname(pname, ": "), s.name))
                        return CMD_NOTLIST
                    s.items = [arg]
                else:
                    if s.items is None:
                        s.items = []
                    s.items.append(arg)
                if positional:
                    cur = self._advance(slots, cur)
            i += 1

        ts.a0name = argv[0]
        if slots[-1].items:                     # -help
            self.print_syntax(ts)
            if self.no_opcodes:
                self.print_flag_help(ts)
            return CMD_HELP

        for s in slots:
            if s.processed and s.items is None:
                if s.type == SINGLE_OR_FLAG:
                    s.items = True
                else:
                    self._e("%s The field '%s' isn't completed properly\n"
                            % (_nname(pname, ": "), s.name))
                    return CMD_TOOFEW
            if not s.optional and s.items is None:
                self._e("%sMissing required parameter '%s'\n"
                        % (_nname(pname, ": "), s.name))
                return CMD_TOOFEW
            s.processed = False
        return 0

    def _add_item(self, s: _Slot, value: str, pname) -> int:
        if s.type in (SINGLE, SINGLE_OR_FLAG) and s.items:
            self._e("%sToo many values after switch %s\n"
                    % (_nname(pname, ": "), s.name))
            return CMD_NOTLIST
        if s.items is None or s.items is True:
            s.items = []
        s.items.append(value)
        return 0

    @staticmethod
    def _advance(slots, cur: int) -> int:
        if slots[cur].expands:
            return cur
        for n in range(cur + 1, len(slots)):
            if slots[n].type != FLAG:
                return n
        return cur

    # -- cmd_Dispatch ---------------------------------------------------

    def dispatch(self, argv: list[str], run=None) -> int:
        """cmd_Dispatch: parse, then run a built-in or call ``run(result)``
        for a suite command.  Returns the code the C function would."""
        code, res = self.parse(argv)
        if code:
            return 0 if code == CMD_HELP else code
        ts = res.syntax
        try:
            if ts.proc in (_HELP_PROC, _APROPOS_PROC):
                return self.run_builtin(ts)
            if run is None:
                return self.run_builtin(ts) if ts.proc else 0
            return run(res)
        finally:
            ts.reset()
