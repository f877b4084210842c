"""klog.krb5: password login to Kerberos 5 and an AFS token.

OpenAFS 1.8.9's klog.krb5 (``src/aklog/klog.c``) is a cmd-library tool
without subcommands; its syntax is declared here as data, in slot order
(``-x`` is slot 0, the rest follow; slot 12, ``-k5``, is unused in the
Debian build, and ``-k4`` is hidden and has no help).  Messages name the
program "klog".  The implementation is :mod:`kafs.cli.klog`.
"""

from kafs.cli.cmd import Command, flag, opt

HELP = "obtain Kerberos authentication"

COMMANDS = (
    Command(None, HELP, (
        flag("-x", "obsolete, noop"),
        opt("-principal", "user name"),
        opt("-password", "user's password"),
        opt("-cell", "cell name"),
        opt("-k", "krb5 realm"),
        flag("-pipe", "read password from stdin"),
        flag("-silent", "silent operation"),
        opt("-lifetime", "ignored (for compatibility with the krb4-based klog)"),
        flag("-setpag", "Create a new setpag before authenticating"),
        flag("-tmp", "write Kerberos-style ticket file in /tmp"),
        flag("-noprdb", "don't consult pt"),
        flag("-unwrap", "perform 524d conversion"),
        flag("-k4", None, hidden=True),
        flag("-insecure_des", "enable insecure single-DES for krb5"),
    ), impl="kafs.cli.klog"),
)
