"""klog.krb5: Kerberos 5 password login and an AFS token, as OpenAFS
1.8.9's ``klog.krb5`` (``src/aklog/klog.c``) does it.

1. the cell (``-cell``, else the local cell) from the client
   configuration; the realm: ``-k``, else the realm of the cell's first
   database server host (``[domain_realm]``), else the default realm;
2. the principal: ``-principal``, else the Unix user name;
3. the password: ``-password``, ``-pipe`` (stdin up to a newline or EOF),
   or a prompt ``Password for <principal>: `` on stdout, read from the
   terminal without echo.  It is never logged or printed; its buffers are
   dropped as soon as the KDC has answered;
4. ``krb5_get_init_creds_password`` through pykrb5, into a private MEMORY
   credential cache (``-tmp``: into the default ccache, and "Wrote ticket
   file to <name>" on stderr);
5. a ticket for ``afs/<cell>`` (then ``afs``) in the realm, the rxkad-k5
   token (kvno 256, rxkad-kdf key), labelled "AFS ID n" from the ptserver
   unless ``-noprdb`` -- without it the token carries the Unix uid, as
   OpenAFS's ``ktc_SetToken`` does;
6. the token goes to the kafs token store.

Errors are printed like OpenAFS (``klog: <com_err message> <text>``, with
the OpenAFS error tables, which do not include Kerberos's: "unknown RPC
error (-1765328353) Unable to authenticate in realm R"), exit status 1.
``-silent`` suppresses them.  ``-unwrap`` (kvno 213 tokens) is not in kafs;
``-setpag``, ``-lifetime``, ``-x`` and ``-insecure_des`` are accepted and
have no effect.
"""

from __future__ import annotations

import os
import sys

from kafs.cli import CommandError
from kafs.cli.cmd import Suite

RN = "klog"
KRB5_LIBOS_CANTREADPWD = -1765328254
KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN = -1765328377
AFSCONF_NOTFOUND = 70354689


def load_tool() -> Suite:
    from kafs.cli.suites import AFS_VERSION, klog
    return Suite("klog", klog.COMMANDS, AFS_VERSION, "bool", single=True)


class _Fail(Exception):
    pass


def _message(code: int) -> str:
    from kafs.errors.tables import error_message
    return error_message(code)


def read_pipe_password(stdin) -> bytes:
    """getpipepass(): stdin up to a newline or EOF, at most 8191 bytes."""
    buf = bytearray()
    while len(buf) < 8191:
        ch = stdin.read(1)
        if not ch or ch == b"\n":
            break
        buf += ch
    return bytes(buf)


def prompt_password(prompt: str, out, stdin) -> bytes:
    """krb5_prompter_posix: the prompt on stdout, the reply from stdin with
    echo off when stdin is a terminal; a newline is printed after it."""
    out.write(prompt)
    out.flush()
    fd = stdin.fileno() if hasattr(stdin, "fileno") else -1
    old = None
    if fd >= 0 and os.isatty(fd):
        import termios
        old = termios.tcgetattr(fd)
        new = termios.tcgetattr(fd)
        new[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSAFLUSH, new)
    try:
        line = stdin.readline()
    finally:
        if old is not None:
            import termios
            termios.tcsetattr(fd, termios.TCSAFLUSH, old)
        out.write("\n")
        out.flush()
    if not line:
        raise _Fail(KRB5_LIBOS_CANTREADPWD)
    return line.rstrip(b"\r\n") if isinstance(line, bytes) else \
        line.rstrip("\r\n").encode("utf-8", "surrogateescape")


def run(args):
    session = args.session
    out = session._out() if session else sys.stdout
    err = session._err() if session else sys.stderr
    silent = args.silent

    def com_err(code: int, text: str) -> None:
        """afs_com_err's default output: "klog: <message> <text>\\n\\r"."""
        if not silent:
            if code:
                err.write("%s: %s %s\n\r" % (RN, _message(code), text))
            else:
                err.write("%s: %s\n\r" % (RN, text))
            err.flush()

    from kafs.auth import krb5 as K
    from kafs.auth import store
    from kafs.auth.token import token_from_krb5
    from kafs.cell import Cell
    from kafs.errors import ConfigError

    if args.unwrap:
        com_err(0, "-unwrap is not supported by kafs")
        raise CommandError(None, 1)
    try:
        cell = Cell(args.cell or None)
        servers = cell.servers("ptserver")
        cellname = cell.name
    except ConfigError:
        if args.cell:
            com_err(AFSCONF_NOTFOUND, "Can't get cell information for '%s'" % args.cell)
        else:
            com_err(AFSCONF_NOTFOUND, "Can't get determine local cell!")
        raise CommandError(None, 1)

    krb = K.Kerberos()
    k, ctx = krb.k, krb.ctx
    host = servers[0].name or servers[0].host
    realm = args.k or K.host_realm(host) or None
    if realm:
        try:
            k.set_default_realm(ctx, realm.encode())
        except k.Krb5Error as e:
            com_err(K._signed(e.err_code), "Can't make <%s> the default realm" % realm)
            raise CommandError(None, 1)

    if args.principal:
        pname = args.principal
    else:
        import pwd
        try:
            pname = pwd.getpwuid(os.getuid()).pw_name
        except KeyError:
            com_err(0, "Can't figure out your name from your user id (%d)." % os.getuid())
            if not silent:
                err.write("%s: Try providing the user name.\n" % RN)
                err.flush()
            raise CommandError(None, 1)
    try:
        princ = k.parse_name_flags(ctx, pname.encode()).name.decode()
    except k.Krb5Error as e:
        com_err(K._signed(e.err_code), "Can't parse principal <%s>" % pname)
        raise CommandError(None, 1)

    stdin = session._stdin() if session else sys.stdin.buffer
    try:
        if args.password is not None:
            password = args.password.encode("utf-8", "surrogateescape")
        elif args.pipe:
            password = read_pipe_password(stdin)
        else:
            password = prompt_password("Password for %s: " % princ, out, stdin)
    except _Fail as f:
        code = f.args[0]
        r = krb.default_realm()
        com_err(code, "Unable to authenticate in realm %s" % r if r else
                "Unable to authenticate to use cell %s" % cellname)
        raise CommandError(None, 1)

    ccache = None
    if args.tmp:
        ccache = krb.k.cc_default_name(ctx).decode()
    try:
        name = krb.kinit_password(princ, password, ccache=ccache)
    except K.Krb5Failure as e:
        password = b""
        r = krb.default_realm()
        com_err(e.code, "Unable to authenticate in realm %s" % r if r else
                "Unable to authenticate to use cell %s" % cellname)
        raise CommandError(None, 1)
    password = b""
    if args.tmp and not silent:
        err.write("Wrote ticket file to %s\n" % name.split(":", 1)[-1])
        err.flush()

    r = krb.default_realm() or K.principal_realm(princ)
    service = "afs/%s@%s" % (cellname, r)
    try:
        try:
            cred = krb.get_service_ticket(service)
        except K.Krb5Failure as e:
            if e.code != KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN:
                raise
            service = "afs@%s" % r
            cred = krb.get_service_ticket(service)
    except K.Krb5Failure as e:
        com_err(e.code, "Unable to get credentials to use %s" % service)
        raise CommandError(None, 1)

    try:
        token = token_from_krb5(cellname, cred.ticket, cred.enctype, cred.session_key,
                                cred.starttime or 1, cred.endtime, 0)
    except ValueError:
        com_err(0, "Cannot derive DES key from enctype %i of length %u"
                % (cred.enctype, len(cred.session_key)))
        raise CommandError(None, 1)
    viceid = None
    if not args.noprdb:
        from kafs.cli.aklog import Aklog
        code, vid = Aklog(RN).name_to_id(cell, K.v4_name(cred.client))
        if code:
            com_err(code, "Can't get your viceid for cell %s" % cellname)
        else:
            viceid = vid
    if viceid is not None:
        token = token.with_viceid(viceid)
    else:
        # ktc_SetToken: no "AFS ID" name -> ViceId = getuid(), even lifetime
        token = token.with_viceid(0)
        from dataclasses import replace
        token = replace(token, viceid=os.getuid())
    try:
        store.store_token(token)
    except Exception as e:              # noqa: BLE001 - one message, exit 1
        if not silent:
            err.write("%s: %s Unable to store tokens for cell %s\n\n\r" % (RN, e, cellname))
        raise CommandError(None, 1)
    return 0


def main(argv=None, prog=None) -> int:
    from kafs.cli.main import single_tool
    return single_tool(load_tool, "klog.krb5", argv, prog)


if __name__ == "__main__":
    sys.exit(main())
