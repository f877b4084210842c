"""unlog: discard tokens.

OpenAFS 1.8.9's unlog is a cmd-library tool without subcommands; its one
syntax is declared here as data.  The implementation is
:mod:`kafs.cli.unlog`.
"""

from kafs.cli.cmd import Command, opt_list

HELP = "Release Kerberos authentication"

COMMANDS = (
    Command(None, HELP, (
        opt_list("-cell", "cell name"),
    ), impl="kafs.cli.unlog"),
)
