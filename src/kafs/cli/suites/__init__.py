"""The declarations of the command suites (bos, fs, pts, vos) as data.

Each module ``kafs.cli.suites.<name>`` defines ``COMMANDS``, a tuple of
:class:`kafs.cli.cmd.Command`.  :func:`load` turns one into a
:class:`kafs.cli.cmd.Suite` with what every suite shares: the version
string of ``version``, the exit-status rule of the tool's ``main`` and the
kafs-only ``-json`` switch.

``-json`` is added to every command except the built-ins (help, apropos,
version) as a *hidden* switch that must be typed in full (``-json`` or
``--json``).  Hidden keeps OpenAFS's usage lines byte-identical; full-name
only keeps every abbreviation exactly as OpenAFS parses it: no OpenAFS
switch of these suites starts with ``-j``, but a visible ``-json`` would
have made ``-j`` valid where OpenAFS rejects it, and the one-character
switch ``-`` (which OpenAFS takes as ``-help`` in commands that have no
other switch, such as ``fs wscell -``) ambiguous.
"""

from __future__ import annotations

from kafs.cli.cmd import Suite, flag

#: What ``<tool> version`` prints: the version string of the OpenAFS build
#: these tools are compatible with (the Debian bookworm 1.8.9 package).
AFS_VERSION = "openafs 1.8.9-1+deb12u1-debian"

#: The suites, in the order ``afs help`` lists them.
NAMES = ("bos", "fs", "pts", "vos")

#: How each tool's main() turns the dispatcher's code into an exit status:
#: vos ``exit(code ? -1 : 0)``; pts ``exit(1)`` on failure; bos
#: ``exit(code)`` and fs ``return code`` (the code truncated to 8 bits).
EXIT_MODES = {"vos": "vos", "pts": "bool", "bos": "code", "fs": "code"}

#: The kafs extension switch: print the result as JSON.
JSON_PARAM = flag("-json", "print the result as JSON (kafs extension)",
                  hidden=True, noabbrev=True)

_cache: dict[str, Suite] = {}


def load(name: str) -> Suite:
    """The :class:`Suite` called ``name`` (one of :data:`NAMES`)."""
    s = _cache.get(name)
    if s is None:
        if name not in NAMES:
            raise KeyError(name)
        mod = __import__("kafs.cli.suites." + name, fromlist=["COMMANDS"])
        s = Suite(name, mod.COMMANDS, AFS_VERSION, EXIT_MODES[name],
                  extra_params=(JSON_PARAM,))
        _cache[name] = s
    return s
