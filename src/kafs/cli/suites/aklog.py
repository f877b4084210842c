"""aklog: get AFS tokens from Kerberos 5 credentials.

OpenAFS 1.8.9's aklog does not use the cmd library: it has its own
argument loop (``src/aklog/aklog.c``, ``main``), declared here as data.
Each entry: (switch, alias or None, takes a value, what it does).  Words
that are not switches name a cell (or, when they contain ``/`` or are
``.``/``..``, a path); ``-k realm`` must directly follow a cell.  Any
other word starting with ``-`` prints :data:`USAGE` on stderr and exits 1.
The implementation is :mod:`kafs.cli.aklog`.
"""

SWITCHES = (
    ("-d", None, False, "debugging output on stdout"),
    ("-noauth", None, False, "do not get tokens"),
    ("-zsubs", None, False, "print zephyr subscriptions"),
    ("-hosts", None, False, "print server addresses (of -path)"),
    ("-noprdb", None, False, "do not look up the AFS id"),
    ("-linked", None, False, "also the cell linked to the cell"),
    ("-force", None, False, "replace identical tokens"),
    ("-524", None, False, "use the krb524 service (not in kafs)"),
    ("-setpag", None, False, "new PAG (no PAGs in kafs: ignored)"),
    ("-cell", "-c", True, "cell to authenticate to"),
    ("-keytab", None, True, "make the ticket with the service key in this keytab"),
    ("-token-lifetime", None, True, "lifetime in hours with -keytab"),
    ("-principal", None, True, "client principal"),
    ("-path", "-p", True, "authenticate to the cell of this directory"),
    ("-config", None, True, "client configuration directory"),
    ("-insecure_des", None, False, "allow single-DES enctypes"),
)

#: The realm switch that may follow a cell.
REALM_SWITCH = "-k"

USAGE = (
    "\nUsage: %(prog)s [-d] [[-cell | -c] cell [-k krb_realm]] [[-p | -path] pathname]\n"
    "    [-zsubs] [-hosts] [-noauth] [-noprdb] [-force] [-setpag] \n"
    "    [-linked] [-insecure_des] [-524]\n"
    "\n"
    "    -d gives debugging information.\n"
    "    krb_realm is the kerberos realm of a cell.\n"
    "    pathname is the name of a directory to which you wish to authenticate.\n"
    "    -zsubs gives zephyr subscription information.\n"
    "    -hosts gives host address information.\n"
    "    -noauth does not attempt to get tokens.\n"
    "    -noprdb means don't try to determine AFS ID.\n"
    "    -force means replace identical tickets. \n"
    "    -linked means if AFS node is linked, try both. \n"
    "    -setpag set the AFS process authentication group.\n"
    "    -524 means use the 524 converter instead of V5 directly\n"
    "    -insecure_des enables insecure single-DES for krb5.\n"
    "    No commandline arguments means authenticate to the local cell.\n"
    "\n"
)

# exit statuses (aklog.h)
AKLOG_SUCCESS = 0
AKLOG_USAGE = 1
AKLOG_SOMETHINGSWRONG = 2
AKLOG_AFS = 3
AKLOG_KERBEROS = 4
AKLOG_TOKEN = 5
AKLOG_BADPATH = 6
AKLOG_MISC = 7
