"""kafs command-line tools: bos, vos, pts and fs, compatible with OpenAFS 1.8.9.

Layout:

* :mod:`kafs.cli.cmd` -- the parser: OpenAFS's ``cmd`` library rules
  (abbreviations, positional parameters, ``-help``, ``help``, ``apropos``,
  ``version``, every error text and exit code).
* :mod:`kafs.cli.suites` -- every subcommand of each suite declared as data.
* :mod:`kafs.cli.main` -- entry points (``bos``, ``vos``, ``pts``, ``fs``,
  ``afs <suite> ...``), implementation lookup, ``-json``, error handling,
  ``pts interactive``.
* :mod:`kafs.cli.render` -- JSON output and helpers for OpenAFS-style text.
* :mod:`kafs.cli.completion` -- bash completion generated from the
  declarations (``afs completion bash``).

A subcommand is implemented by a module ``kafs.cli.<suite>.<command>``
(the real command name, never an alias) with::

    def run(args):                  # or: async def run(args)
        ...                         # args.id, args.extended, args.cell, ...
        return result               # any object

    def render(result, args):       # optional: OpenAFS's exact text on stdout
        ...

    def to_json(result):            # optional: what -json prints
        ...

    def exit_code(result):          # optional: the C proc's return code
        return 0

Failures: raise :class:`CommandError` (message printed as one stderr line,
``code`` goes through the tool's exit rule), or any ``KafsError``.  Other
exceptions print one line on stderr and exit non-zero; set ``KAFS_DEBUG=1``
to get the traceback instead.  See ``docs/cli.md``.
"""


class CommandError(Exception):
    """A subcommand failed.

    ``message`` (if not None) is written to stderr as one line, as is;
    ``code`` is what the OpenAFS command procedure would have returned
    (the tool's exit rule maps it: vos -> 255, pts -> 1, bos/fs -> code & 0xff).
    """

    def __init__(self, message: str | None = None, code: int = 1):
        super().__init__(message)
        self.message = message
        self.code = code
