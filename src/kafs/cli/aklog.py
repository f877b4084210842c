"""aklog: AFS tokens from Kerberos 5 credentials (rxkad-k5), as OpenAFS
1.8.9's ``aklog`` makes them, kept in the kafs token store.

What it does, per cell (OpenAFS ``auth_to_cell``; facts, not code):

1. the cell from the client configuration (CellServDB, DNS...); its first
   database server's name is "the server" of the ``-d`` output;
2. the service ticket, trying principals in aklog's order: with ``-k R``
   ``afs/<cell>@R`` then (cell and realm equal ignoring case) ``afs@R``;
   otherwise ``afs/<cell>@<user's realm>``, then the realm of the server
   host (``[domain_realm]``; none: the upper-cased domain of the host),
   then ``afs@<realm>`` when cell and realm match.  Only "principal
   unknown" style errors move on to the next principal;
3. the rxkad-k5 token: kvno 256, the DER ticket, the session key through
   rxkad-kdf (:func:`kafs.auth.token.token_from_krb5`);
4. unless an identical token is stored already (``-force`` replaces it):
   the user's AFS id from the ptserver (``PR_NameToID``, anonymous; skipped
   with ``-noprdb``), which labels the token ("AFS ID n" in ``tokens``);
5. the token goes to the token store (:mod:`kafs.auth.store`).

``-d`` prints OpenAFS's debugging lines on stdout, never a key or ticket.
Errors print OpenAFS's messages on stderr; exit statuses are aklog's
(3 cell unknown, 4 Kerberos, 5 storing the token, 2 several failures).

``-keytab FILE`` (with ``-principal P``, ``-token-lifetime H``) makes the
service ticket locally with the service key from the keytab, for any client
principal, as OpenAFS's "akimpersonate" does
(:class:`kafs.auth.krb5.KeytabImpersonation`); no KDC is asked.

Not in kafs: ``-524`` and ``-path`` (needs a cache manager); each exits
with one line.  ``-setpag`` is accepted and ignored (no PAGs),
``-insecure_des`` is accepted (MIT's ``allow_weak_crypto`` decides).
"""

from __future__ import annotations

import os
import sys

from kafs.cli.suites import aklog as D

ANONYMOUSID = 32766
PR_MAXNAMELEN = 64
PRNAMETOOLONG = 267272        # pt error table: "name is too long"


class _Usage(Exception):
    pass


class _Exit(Exception):
    def __init__(self, code: int):
        self.code = code


class Aklog:
    def __init__(self, prog: str, out=None, err=None):
        self.prog = prog
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.dflag = False
        self.noauth = self.zsubs = self.hosts = self.noprdb = False
        self.linked = self.force = self.do524 = self.setpag = False
        self.insecure_des = False
        self.keytab = self.principal = self.config = None
        self.token_lifetime = None
        self.cells: list[tuple[str, str]] = []
        self.paths: list[str] = []
        self.authed: list[str] = []
        self.zsublist: list[str] = []
        self.hostlist: list[str] = []
        self._krb = None

    # -- output ------------------------------------------------------------
    def debug(self, text: str) -> None:
        if self.dflag:
            self.out.write(text)
            self.out.flush()

    def error(self, text: str) -> None:
        self.err.write(text)
        self.err.flush()

    def com_err(self, code_msg: str, fmt: str) -> None:
        """afs_com_err(progname, code, fmt): "prog: <message> <fmt>"."""
        self.error("%s: %s %s\n" % (self.prog, code_msg, fmt))

    def usage(self):
        self.error(D.USAGE % {"prog": self.prog})
        raise _Exit(D.AKLOG_USAGE)

    # -- arguments (aklog.c main) ------------------------------------------------
    def parse(self, argv: list[str]) -> None:
        single = {}
        valued = {}
        for name, alias, takes, _ in D.SWITCHES:
            (valued if takes else single)[name] = name
            if alias:
                (valued if takes else single)[alias] = name
        cmode = pmode = False
        cell = realm = path = ""
        i = 0
        n = len(argv)
        while i < n:
            a = argv[i]
            sw = single.get(a)
            vw = valued.get(a)
            if sw is not None:
                attr = {"-d": "dflag", "-524": "do524", "-insecure_des": "insecure_des"}.get(
                    sw, sw[1:].replace("-", "_"))
                setattr(self, attr, True)
            elif vw in ("-cell",) and not pmode:
                i += 1
                if i >= n:
                    self.usage()
                cmode = True
                cell = argv[i]
            elif vw in ("-path",) and not cmode:
                i += 1
                if i >= n:
                    self.usage()
                pmode = True
                path = argv[i]
            elif vw in ("-keytab", "-token-lifetime", "-principal", "-config"):
                i += 1
                if i >= n:
                    self.usage()
                if vw == "-token-lifetime":
                    v = argv[i]
                    try:
                        hours = int(v, 0)
                    except ValueError:
                        self.error("%s: invalid value specified for token-lifetime.\n" % self.prog)
                        raise _Exit(D.AKLOG_MISC)
                    if not 0 <= hours <= 720:
                        self.error("%s: token-lifetime must be within 0 and 720 hrs.\n"
                                   % self.prog)
                        raise _Exit(D.AKLOG_MISC)
                    self.token_lifetime = hours * 3600
                else:
                    setattr(self, vw[1:].replace("-", "_"), argv[i])
            elif a.startswith("-"):
                self.usage()
            elif not pmode and not cmode:
                if "/" in a or a in (".", ".."):
                    pmode = True
                    path = a
                else:
                    cmode = True
                    cell = a
            else:
                self.usage()
            if cmode:
                if i + 1 < n and argv[i + 1] == D.REALM_SWITCH:
                    i += 2
                    if i < n:
                        realm = argv[i]
                    else:
                        self.usage()
                self.cells.append((cell, realm))
                cmode = False
                cell = realm = ""
            elif pmode:
                self.paths.append(path)
                pmode = False
                path = ""
            i += 1
        if self.token_lifetime is not None and not self.keytab:
            self.error("%s: -token-lifetime is valid only if -keytab is specified.\n" % self.prog)
            raise _Exit(D.AKLOG_MISC)

    # -- Kerberos ------------------------------------------------------------
    def krb(self):
        if self._krb is None:
            from kafs.auth.krb5 import Kerberos, KeytabImpersonation
            if self.keytab:
                self._krb = KeytabImpersonation(self.keytab, client=self.principal,
                                                lifetime=self.token_lifetime)
            else:
                self._krb = Kerberos(client=self.principal)
        return self._krb

    def get_credv5(self, name: str, inst: str | None, realm: str):
        from kafs.auth.krb5 import Krb5Failure
        self.debug("Getting tickets: %s%s%s@%s\n" % (name, "/" if inst else "", inst or "",
                                                    realm))
        service = "%s%s%s@%s" % (name, "/" if inst else "", inst or "", realm)
        try:
            return self.krb().get_service_ticket(service)
        except Krb5Failure as e:
            if e.where:                 # -keytab: aklog reports each keytab miss
                self.com_err(e.message, e.where)
            raise

    def rxkad_get_ticket(self, cellname: str, host: str, realm: str | None):
        """(ticket, realm_used_for_user or None) -- OpenAFS rxkad_get_ticket."""
        from kafs.auth import krb5 as K
        retry_codes = (K.KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN, K.KRB5_KT_NOTFOUND,
                       K.KRB5KRB_ERR_GENERIC)
        try:
            realm_of_user = self.krb().user_realm()
        except K.Krb5Failure as e:
            self.error("%s: Couldn't determine realm of user:" % self.prog)
            self.com_err(e.message, " while getting realm")
            raise _Exit(D.AKLOG_KERBEROS)

        TRY = object()
        for attempt in (1, 2):
            status = None
            cred = None
            try:
                if realm:
                    realm_of_cell = realm
                    status = TRY
                    self.debug("We were told to authenticate to realm %s.\n" % realm)
                else:
                    self.debug("Trying to authenticate to user's realm %s.\n" % realm_of_user)
                    realm_of_cell = realm_of_user
                    try:
                        cred = self.get_credv5("afs", cellname, realm_of_cell)
                    except K.Krb5Failure as e:
                        status = e
                    if _tryagain(status, retry_codes):
                        realm_of_cell = K.host_realm(host)
                        if realm_of_cell:
                            self.debug("We've deduced that we need to authenticate to realm %s.\n"
                                       % realm_of_cell)
                        else:
                            self.debug("We've deduced that we need to authenticate using "
                                       "referrals.\n")
                if status is TRY or _tryagain(status, retry_codes):
                    # AFS_TRY_FULL_PRINC: afs/cell@realm first
                    try:
                        cred = self.get_credv5("afs", cellname, realm_of_cell)
                        status = None
                    except K.Krb5Failure as e:
                        status = e
                    if _tryagain(status, retry_codes) and not realm_of_cell:
                        realm_of_cell = _upper_domain(host, cellname)
                        self.debug("We've deduced that we need to authenticate to realm %s.\n"
                                   % realm_of_cell)
                        try:
                            cred = self.get_credv5("afs", cellname, realm_of_cell)
                            status = None
                        except K.Krb5Failure as e:
                            status = e
                    if _tryagain(status, retry_codes) and \
                            cellname.lower() == realm_of_cell.lower():
                        try:
                            cred = self.get_credv5("afs", None, realm_of_cell)
                            status = None
                        except K.Krb5Failure as e:
                            status = e
            finally:
                pass
            if isinstance(status, K.Krb5Failure) and \
                    status.code == K.KRB5KRB_AP_ERR_MSG_TYPE and attempt == 1:
                continue
            break
        if status is not None:
            code = status.code if isinstance(status, K.Krb5Failure) else -1
            self.debug("Kerberos error code returned by get_cred : %d\n" % code)
            self.error("%s: Couldn't get %s AFS tickets:\n" % (self.prog, cellname))
            msg = status.message if isinstance(status, K.Krb5Failure) else "unknown error"
            self.com_err(msg, "while getting AFS tickets")
            raise _Exit(D.AKLOG_KERBEROS)
        realm_used = None
        if realm_of_cell and realm_of_user != realm_of_cell:
            realm_used = realm_of_user
        return cred, realm_used

    # -- one cell --------------------------------------------------------------
    def auth_to_cell(self, cellarg: str | None, realm: str | None, want_linked: bool):
        """Returns (status, linked cell or None)."""
        from kafs.cell import Cell
        from kafs.errors import ConfigError
        try:
            c = Cell(cellarg or None, confdir=self.config)
            servers = c.servers("vlserver")
            cellname = c.name
        except ConfigError:
            if cellarg:
                self.error("%s: Can't get information about cell %s.\n"
                           % (self.prog, cellarg.lower()))
            else:
                self.error("%s: Can't get information about the local cell.\n" % self.prog)
            return D.AKLOG_AFS, None
        linked = c.linked_cell if want_linked else None
        if cellname in self.authed:
            self.debug("Already authenticated to %s (or tried to)\n" % cellname)
            return D.AKLOG_SUCCESS, linked
        self.authed.append(cellname)
        for z in (cellname, _local_cell(self.config)):
            if z and z not in self.zsublist:
                self.zsublist.append(z)
        if self.noauth:
            self.debug("Noauth mode; not authenticating.\n")
            return D.AKLOG_SUCCESS, linked
        host = servers[0].name or servers[0].host
        self.debug("Authenticating to cell %s (server %s).\n" % (cellname, host))
        try:
            return self._get_and_store(c, cellname, host, realm), linked
        except _Exit as e:
            return e.code, linked

    def _get_and_store(self, cell, cellname: str, host: str, realm: str | None) -> int:
        from kafs.auth import store
        from kafs.auth.crypto.kdf import derive_des_key
        from kafs.auth.krb5 import v4_name
        from kafs.auth.token import token_from_krb5

        cred, realm_used = self.rxkad_get_ticket(cellname, host, realm)
        self.debug("Using Kerberos V5 ticket natively\n")
        try:
            derive_des_key(cred.enctype, cred.session_key)
        except ValueError:
            return 19270409 & 0xff                  # RXKADBADKEY, as exit() truncates it
        token = token_from_krb5(cellname, cred.ticket, cred.enctype, cred.session_key,
                                cred.starttime, cred.endtime, 0)
        username = v4_name(cred.client)
        if realm_used:
            username = "%s@%s" % (username, realm_used)
        if not self.force:
            old = store.get_token(cellname)
            if token.same_credentials(old):
                self.debug("Identical tokens already exist; skipping.\n")
                return D.AKLOG_SUCCESS
        if not username:
            self.debug("Not resolving name to id\n")
        elif self.noprdb:
            self.debug("Not resolving name %s to id (-noprdb set)\n" % username)
        else:
            self.debug("About to resolve name %s to id in cell %s.\n" % (username, cellname))
            code, viceid = self.name_to_id(cell, username)
            username = username.lower()              # pr_SNameToId lowercases in place
            if code:
                self.debug("Error %d\n" % code)
            else:
                self.debug("Id %d\n" % viceid)
            if code == 0 and viceid != ANONYMOUSID:
                token = token.with_viceid(viceid)
        if username:
            self.debug("Setting tokens. %s @ %s\n" % (username, cellname))
        else:
            self.debug("Setting tokens for cell %s\n" % cellname)
        try:
            store.store_token(token)
        except Exception as e:                      # noqa: BLE001 - one line, exit 5
            self.com_err(str(e), "while setting tokens for cell %s" % cellname)
            return D.AKLOG_TOKEN
        return D.AKLOG_SUCCESS

    def name_to_id(self, cell, name: str) -> tuple[int, int]:
        """(code, id): PR_NameToID for ``name`` (lowercased), anonymously."""
        if len(name) >= PR_MAXNAMELEN:
            return PRNAMETOOLONG, 0
        import asyncio

        async def lookup():
            from kafs.api import AuthSpec, Pts, Session
            async with await Session.open(cell, auth=AuthSpec(noauth=True), tool="aklog") as s:
                return await Pts(s).name_to_id([name.lower()])

        try:
            ids = asyncio.run(asyncio.wait_for(lookup(), 120))
        except Exception as e:                      # noqa: BLE001 - reported as "Error n"
            return int(getattr(e, "code", -1) or -1), 0
        if not ids:
            return 267280, 0                         # PRINTERNAL
        return 0, ids[0]

    # -- the whole run --------------------------------------------------------------
    def main(self, argv: list[str]) -> int:
        try:
            self.parse(argv)
            if self.do524:
                self.error("%s: -524 is not supported by kafs (no krb524 service)\n" % self.prog)
                return D.AKLOG_MISC
            return self._run()
        except _Exit as e:
            return e.code

    def _run(self) -> int:
        status = D.AKLOG_SUCCESS
        if not self.cells and not self.paths:
            status, linked = self.auth_to_cell(None, None, self.linked)
            if not status and self.linked and linked:
                self.debug("Linked cell: %s\n" % linked)
                status, _ = self.auth_to_cell(linked, None, False)
            xlog = os.path.join(_home(), ".xlog")
            if os.path.exists(xlog):
                try:
                    lines = open(xlog, encoding="utf-8", errors="surrogateescape").readlines()
                except OSError:
                    lines = []
                else:
                    self.debug("Reading %s for cells to authenticate to.\n" % xlog)
                for line in lines:
                    fcell = line[:-1]           # as aklog.c: the last character goes
                    self.debug("Found cell %s in %s.\n" % (fcell, xlog))
                    st, _ = self.auth_to_cell(fcell, None, False)
                    status = st if status == D.AKLOG_SUCCESS else D.AKLOG_SOMETHINGSWRONG
        else:
            wrong = 0
            for cell, realm in self.cells:
                status, linked = self.auth_to_cell(cell, realm or None, self.linked)
                if status:
                    wrong += 1
                elif self.linked and linked:
                    self.debug("Linked cell: %s\n" % linked)
                    status, _ = self.auth_to_cell(linked, realm or None, False)
                    if status:
                        wrong += 1
            for p in self.paths:
                self.error("%s: -path is not supported by kafs (no cache manager): %s\n"
                           % (self.prog, p))
                status = D.AKLOG_BADPATH
                wrong += 1
            if wrong and len(self.cells) + len(self.paths) > 1:
                status = D.AKLOG_SOMETHINGSWRONG
        if self.zsubs:
            for z in self.zsublist:
                self.out.write("zsub: %s\n" % z)
        if self.hosts:
            for h in self.hostlist:
                self.out.write("host: %s\n" % h)
        return status


def _tryagain(status, codes) -> bool:
    from kafs.auth.krb5 import Krb5Failure
    if status is None:
        return False
    if isinstance(status, Krb5Failure):
        return status.code in codes
    return True          # the "try again" marker


def _upper_domain(host: str, cellname: str) -> str:
    i = host.find(".")
    return (host[i + 1:] if i >= 0 else cellname).upper()


def _home() -> str:
    try:
        import pwd
        return pwd.getpwuid(os.getuid()).pw_dir
    except (KeyError, ImportError):
        return os.environ.get("HOME", "/")


def _local_cell(config) -> str | None:
    try:
        from kafs.cell import local_cell_name
        return local_cell_name(config)[0]
    except Exception:            # noqa: BLE001
        return None


def run(argv: list[str], prog: str = "aklog", out=None, err=None) -> int:
    """Run aklog with ``argv`` (without the program name); the exit status."""
    return Aklog(prog, out, err).main(list(argv))


def main() -> int:
    from kafs.cli import main as M
    M._setup_streams()
    prog = M.prog_name(sys.argv[0], "aklog")
    try:
        status = run(sys.argv[1:], prog)
    except KeyboardInterrupt:
        if M._debug():
            raise
        return 130
    except Exception as exc:     # noqa: BLE001 - never a traceback
        if M._debug():
            raise
        sys.stderr.write("%s: %s\n" % (prog, _one_line(exc)))
        status = 1
    return M._exit(status)


def _one_line(exc: BaseException) -> str:
    from kafs.errors import KafsError
    if isinstance(exc, KafsError):
        return " ".join(str(exc).split("\n"))
    return "internal error: %s: %s (set KAFS_DEBUG=1 for a traceback)" % (
        type(exc).__name__, " ".join(str(exc).split("\n")))


if __name__ == "__main__":
    sys.exit(main())
