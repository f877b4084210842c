"""udebug: show the Ubik voting and database status of one server.

OpenAFS 1.8.9's udebug is a tool without subcommands; its one syntax is
declared here as data (slot order and help texts as ``udebug -help``
prints them).  The implementation is :mod:`kafs.cli.udebug`.
"""

from kafs.cli.cmd import Command, flag, opt, req

HELP = "probe ubik server"

COMMANDS = (
    Command(None, HELP, (
        req("-server", "server machine"),
        opt("-port", "IP port"),
        flag("-long", "print all info"),
    ), impl="kafs.cli.udebug"),
)
