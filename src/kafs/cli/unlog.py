"""unlog: discard tokens from the kafs token store, as OpenAFS 1.8.9's
``unlog`` (``src/log/unlog.c``) discards the cache manager's.

* no ``-cell``: every token goes;
* ``-cell a b ...`` (at most 20; more print "The maximum number of cells
  (20) is exceeded; the rest are ignored"): each name is looked up in the
  client configuration (abbreviations allowed) -- an unknown one prints
  ``Unrecognized cell name <name>`` on stderr and exits 1 before anything
  is removed; a cell without a token prints ``unlog: Warning - no tokens
  held for cell <cell>`` on stderr; the tokens of the named cells go.
* a store failure prints ``unlog: could not discard tickets, code N`` (on
  stdout, as OpenAFS) and a second line with the reason on stderr; exit 1.
"""

from __future__ import annotations

import sys

from kafs.cli import CommandError
from kafs.cli.cmd import Suite

MAXCELLS = 20


def load_tool() -> Suite:
    from kafs.cli.suites import AFS_VERSION, unlog
    return Suite("unlog", unlog.COMMANDS, AFS_VERSION, "bool", single=True)


def run(args):
    from kafs.auth import store
    out = args.session._out() if args.session else sys.stdout
    err = args.session._err() if args.session else sys.stderr
    cells = args.cell
    try:
        if not cells:
            store.forget()
            return 0
        if len(cells) > MAXCELLS:
            out.write("The maximum number of cells (%d) is exceeded; the rest are ignored\n"
                      % MAXCELLS)
            cells = cells[:MAXCELLS]
        names = []
        from kafs.cell import Cell
        from kafs.errors import ConfigError
        for c in cells:
            low = c.lower()
            try:
                cell = Cell(low)
                cell.servers("vlserver")
                names.append(cell.name)
            except ConfigError:
                err.write("Unrecognized cell name %s\n" % low)
                err.flush()
                raise CommandError(None, 1)
        held = {t.cell for t in store.list_tokens(include_expired=True)}
        for n in names:
            if n not in held:
                err.write("unlog: Warning - no tokens held for cell %s\n" % n)
        err.flush()
        for n in dict.fromkeys(names):
            store.forget(n)
    except store.StoreError as e:
        out.write("unlog: could not discard tickets, code %d\n" % 11862788)   # KTC_PIOCTLFAIL
        out.flush()
        raise CommandError("unlog: %s" % e, 1)
    return 0


def main(argv=None, prog=None) -> int:
    from kafs.cli.main import single_tool
    return single_tool(load_tool, "unlog", argv, prog)


if __name__ == "__main__":
    sys.exit(main())
