"""rxdebug: probe an Rx server with VERSION and DEBUG packets.

OpenAFS 1.8.9's rxdebug is a tool without subcommands; its one syntax is
declared here as data, switches in slot order with the help texts
``rxdebug -help`` prints.  The implementation is :mod:`kafs.cli.rxdebug`.
"""

from kafs.cli.cmd import Command, flag, opt, req

HELP = "probe RX server"

COMMANDS = (
    Command(None, HELP, (
        req("-servers", "server machine"),
        opt("-port", "IP port"),
        flag("-nodally", "don't show dallying conns"),
        flag("-allconnections",
             "don't filter out uninteresting connections on server"),
        flag("-rxstats", "show Rx statistics"),
        flag("-onlyserver", "only show server conns"),
        flag("-onlyclient", "only show client conns"),
        opt("-onlyport", "show only <port>"),
        opt("-onlyhost", "show only <host>"),
        opt("-onlyauth", "show only <auth level>"),
        flag("-version", "show AFS version id"),
        flag("-noconns", "show no connections"),
        flag("-peers", "show peers"),
        flag("-long", "detailed output"),
    ), impl="kafs.cli.rxdebug"),
)
