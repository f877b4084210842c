"""Kerberos 5 for aklog and klog, through maintained bindings of MIT krb5.

* ``krb5`` (PyPI "krb5", pykrb5): credential caches, principals, initial
  credentials with a password (``krb5_get_init_creds_password``), error
  texts.
* ``gssapi`` (PyPI "gssapi", python-gssapi): pykrb5 has no binding of
  ``krb5_get_credentials`` (the TGS exchange), so a service ticket is
  obtained by starting a GSS-API Kerberos security context to the service
  principal: MIT's mechanism gets the ticket with the ccache's TGT and
  stores it in the ccache, where pykrb5 then reads the credential -- DER
  ticket, session key and times -- exactly what ``krb5_get_credentials``
  gives OpenAFS's aklog.  The GSS token itself is never sent anywhere.

No Kerberos protocol is written here.  Errors are :class:`Krb5Failure`
with the krb5 error ``code`` (signed, as com_err prints it) and the error
table's text ``message`` (what OpenAFS's ``afs_com_err`` prints, e.g.
"Server not found in Kerberos database").

Realm of a host (``krb5_get_host_realm``, which pykrb5 lacks): the
``[domain_realm]`` section of the krb5 configuration (``$KRB5_CONFIG``, a
colon-separated list, else ``/etc/krb5.conf``), searched as MIT does: the
host name, then ``.parent`` and ``parent`` for each parent domain, most
specific first.  No mapping gives ``""`` (MIT's referral realm).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from ..errors import KafsError

__all__ = ["Krb5Failure", "ServiceTicket", "Kerberos", "error_message",
           "host_realm", "KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN", "KRB5_KT_NOTFOUND",
           "KRB5KRB_ERR_GENERIC", "KRB5KRB_AP_ERR_MSG_TYPE", "KRB5_CC_NOTFOUND",
           "KRB5_FCC_NOFILE", "KRB5_KDC_UNREACH"]

# MIT krb5 error codes (krb5_err.et, base -1765328384)
KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN = -1765328377
KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN = -1765328378
KRB5KDC_ERR_PREAUTH_FAILED = -1765328360
KRB5KRB_AP_ERR_MSG_TYPE = -1765328344
KRB5KRB_ERR_GENERIC = -1765328324
KRB5_KT_NOTFOUND = -1765328203
KRB5_CC_NOTFOUND = -1765328243
KRB5_FCC_NOFILE = -1765328189
KRB5_KDC_UNREACH = -1765328228
KRB5_REALM_UNKNOWN = -1765328230
KRB5KRB_AP_ERR_TKT_EXPIRED = -1765328352


class Krb5Failure(KafsError):
    """A Kerberos operation failed: ``code`` (krb5 error code) and
    ``message`` (the error table's text)."""

    def __init__(self, code: int, message: str, detail: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail or message
        self.where = ""             # e.g. "while scanning keytab entries"


def _signed(code: int) -> int:
    code &= 0xffffffff
    return code - (1 << 32) if code & 0x80000000 else code


def _mod():
    try:
        import krb5
    except ImportError as e:       # pragma: no cover - dependency missing
        raise KafsError("Kerberos support needs the Python package 'krb5' (%s)" % e) from None
    return krb5


_plain_ctx = None


def error_message(code: int) -> str:
    """The krb5 error table's text for ``code`` (no extended message)."""
    global _plain_ctx
    k = _mod()
    if _plain_ctx is None:
        _plain_ctx = k.init_context()
    text = str(k.Krb5Error(_plain_ctx, _signed(code)))
    suffix = " %d" % _signed(code)
    if text.endswith(suffix):
        text = text[:-len(suffix)]
    return text


def _failure(e) -> Krb5Failure:
    """Krb5Failure from a pykrb5 Krb5Error."""
    code = _signed(getattr(e, "err_code", 0) or 0)
    detail = str(e)
    if detail.endswith(" %d" % code):
        detail = detail[:-len(" %d" % code)]
    return Krb5Failure(code, error_message(code) if code else detail, detail)


def _gss_failure(e) -> Krb5Failure:
    code = _signed(getattr(e, "min_code", 0) or 0)
    if code:
        return Krb5Failure(code, error_message(code), e.gen_message())
    return Krb5Failure(-1, e.gen_message())


@dataclass(frozen=True, slots=True, repr=False)
class ServiceTicket:
    """A Kerberos 5 service credential (what krb5_get_credentials gives)."""

    client: str
    server: str
    enctype: int
    session_key: bytes
    ticket: bytes           # the complete DER Ticket
    authtime: int
    starttime: int
    endtime: int

    def __repr__(self) -> str:
        return ("ServiceTicket(client=%r, server=%r, enctype=%d, endtime=%d, "
                "ticket=<%d bytes>, session_key=<hidden>)"
                % (self.client, self.server, self.enctype, self.endtime, len(self.ticket)))

    __str__ = __repr__


def _split_principal(name: str) -> tuple[list[str], str]:
    """Components and realm of an unparsed principal (handles \\ escapes)."""
    comps, cur, realm, i, in_realm = [], [], None, 0, False
    while i < len(name):
        ch = name[i]
        if ch == "\\" and i + 1 < len(name):
            cur.append(name[i + 1])
            i += 2
            continue
        if ch == "/" and not in_realm:
            comps.append("".join(cur))
            cur = []
        elif ch == "@" and not in_realm:
            comps.append("".join(cur))
            cur = []
            in_realm = True
        else:
            cur.append(ch)
        i += 1
    if in_realm:
        realm = "".join(cur)
    else:
        comps.append("".join(cur))
        realm = ""
    return comps, realm


def v4_name(principal: str) -> str:
    """krb5_524_conv_principal's name: ``name`` or ``name.instance``
    (the realm dropped)."""
    comps, _ = _split_principal(principal)
    if len(comps) >= 2 and comps[1]:
        return "%s.%s" % (comps[0], comps[1])
    return comps[0]


def principal_realm(principal: str) -> str:
    return _split_principal(principal)[1]


# --------------------------------------------------------------------------
# Realm of a host: [domain_realm]
# --------------------------------------------------------------------------

def _config_files(env=None) -> list[str]:
    env = os.environ if env is None else env
    v = env.get("KRB5_CONFIG")
    if v:
        return [p for p in v.split(":") if p]
    return ["/etc/krb5.conf"]


def host_realm(host: str, env=None) -> str:
    """The realm ``[domain_realm]`` maps ``host`` to; "" when none does."""
    from ..cell.profile import read_profile
    host = host.lower().rstrip(".")
    table: dict[str, str] = {}
    for path in _config_files(env):
        try:
            root = read_profile(path)
        except Exception:            # noqa: BLE001 - a bad file maps nothing
            continue
        if root is None:
            continue
        for sect in root.lists("domain_realm"):
            for child in sect.children or ():
                if not child.is_list and child.name.lower() not in table:
                    table[child.name.lower()] = child.value
    # MIT hst_realm.c: the host, then ".parent", "parent", ... most specific first
    cp = host
    while cp:
        if cp in table:
            return table[cp]
        if cp.startswith("."):
            cp = cp[1:]
        else:
            i = cp.find(".")
            cp = cp[i:] if i >= 0 else ""
    return ""


# --------------------------------------------------------------------------
# The Kerberos context of one tool run
# --------------------------------------------------------------------------

class Kerberos:
    """One krb5 context, the user's ccache, and service tickets from it.

    ``ccache``: a ccache name (default: the default ccache); ``client``:
    use the ccache of that principal from the collection (aklog
    ``-principal``).
    """

    def __init__(self, ccache: str | None = None, client: str | None = None):
        k = _mod()
        self.k = k
        try:
            self.ctx = k.init_context()
        except k.Krb5Error as e:
            raise _failure(e) from None
        self.ccache_name = ccache
        self.client = client
        self._cc = None

    # -- ccache -------------------------------------------------------------
    def ccache(self):
        if self._cc is None:
            k = self.k
            try:
                if self.ccache_name:
                    self._cc = k.cc_resolve(self.ctx, self.ccache_name.encode())
                elif self.client:
                    princ = k.parse_name_flags(self.ctx, self.client.encode())
                    self._cc = k.cc_cache_match(self.ctx, princ)
                else:
                    self._cc = k.cc_default(self.ctx)
            except k.Krb5Error as e:
                raise _failure(e) from None
        return self._cc

    def ccache_full_name(self) -> str:
        cc = self.ccache()
        return "%s:%s" % ((cc.cache_type or b"FILE").decode(), (cc.name or b"").decode())

    def user_principal(self) -> str:
        """The client principal: ``client`` if given, else the ccache's."""
        k = self.k
        try:
            if self.client:
                return k.parse_name_flags(self.ctx, self.client.encode()).name.decode()
            return k.cc_get_principal(self.ctx, self.ccache()).name.decode()
        except k.Krb5Error as e:
            raise _failure(e) from None

    def user_realm(self) -> str:
        return principal_realm(self.user_principal())

    # -- service tickets ------------------------------------------------------
    def _cached(self, service: str, now: float) -> ServiceTicket | None:
        k = self.k
        want = service.encode()
        best = None
        try:
            for c in self.ccache():
                try:
                    if c.server.name != want:
                        continue
                    t = c.times
                    if t.endtime <= now:
                        continue
                    kb = c.keyblock
                    st = ServiceTicket(client=c.client.name.decode(), server=service,
                                       enctype=kb.enctype, session_key=bytes(kb.data),
                                       ticket=bytes(c.ticket), authtime=t.authtime,
                                       starttime=t.starttime or t.authtime,
                                       endtime=t.endtime)
                except k.Krb5Error:
                    continue
                if best is None or st.endtime > best.endtime:
                    best = st
        except k.Krb5Error as e:
            raise _failure(e) from None
        return best

    def get_service_ticket(self, service: str) -> ServiceTicket:
        """A ticket for ``service`` ("afs/cell@REALM"): from the ccache if
        a valid one is there, else from the KDC with the ccache's TGT (and
        then cached, as krb5_get_credentials does)."""
        now = time.time()
        got = self._cached(service, now)
        if got is not None:
            return got
        import gssapi
        from gssapi.exceptions import GSSError
        try:
            kp = gssapi.NameType.kerberos_principal
            creds = None
            store = None
            if self.ccache_name:
                store = {b"ccache": self.ccache_name.encode()}
            if self.client or store:
                creds = gssapi.Credentials(
                    name=gssapi.Name(self.client, kp) if self.client else None,
                    usage="initiate", store=store)
            sc = gssapi.SecurityContext(name=gssapi.Name(service, kp), creds=creds,
                                        usage="initiate", mech=gssapi.MechType.kerberos)
            sc.step()
        except GSSError as e:
            raise _gss_failure(e) from None
        got = self._cached(service, now)
        if got is None:
            raise Krb5Failure(KRB5_CC_NOTFOUND, error_message(KRB5_CC_NOTFOUND),
                              "the ticket for %s did not reach the credential cache" % service)
        return got

    # -- initial credentials (klog) ---------------------------------------------
    def kinit_password(self, principal: str, password: str | bytes,
                       ccache: str | None = None, lifetime: int | None = None) -> str:
        """krb5_get_init_creds_password for ``principal``; the credentials
        go to ``ccache`` (a name; default: a new MEMORY ccache), which then
        becomes this object's ccache.  Returns the ccache's name."""
        k = self.k
        pw = password.encode("utf-8", "surrogateescape") if isinstance(password, str) \
            else bytes(password)
        try:
            princ = k.parse_name_flags(self.ctx, principal.encode())
            opt = k.get_init_creds_opt_alloc(self.ctx)
            if lifetime:
                k.get_init_creds_opt_set_tkt_life(opt, int(lifetime))
            creds = k.get_init_creds_password(self.ctx, princ, opt, password=pw)
            if ccache:
                cc = k.cc_resolve(self.ctx, ccache.encode())
            else:
                cc = k.cc_new_unique(self.ctx, b"MEMORY")
            k.cc_initialize(self.ctx, cc, princ)
            k.cc_store_cred(self.ctx, cc, creds)
        except k.Krb5Error as e:
            raise _failure(e) from None
        finally:
            pw = b""
        self._cc = cc
        self.ccache_name = "%s:%s" % ((cc.cache_type or b"MEMORY").decode(),
                                      (cc.name or b"").decode())
        self.client = None
        return self.ccache_name

    def default_realm(self) -> str | None:
        try:
            return self.k.get_default_realm(self.ctx).decode()
        except self.k.Krb5Error:
            return None


# ================================================================ aklog -keytab

# Servers refuse tickets living longer than MAXKTCTICKETLIFETIME (30 days:
# rxkad's tkt_CheckTimes).  OpenAFS's aklog ends a -keytab ticket without
# -token-lifetime at 0x7FFFFFFF, which every server then rejects as a bad
# ticket; ours lives the longest a server accepts instead.
MAX_TICKET_LIFETIME = 30 * 24 * 3600
TKT_FLG_INITIAL_BIT = 9         # TicketFlags bit "initial" (RFC 4120 5.3)


class KeytabImpersonation(Kerberos):
    """``aklog -keytab``: service tickets made locally with the service's
    own key from a keytab, for any client principal (OpenAFS's
    "akimpersonate").  No KDC is asked.

    The keytab entry is the one MIT's ``krb5_kt_get_entry`` returns for the
    service principal (highest kvno, any enctype); the session key is a new
    random key of that enctype; the ticket's flags are INITIAL, its start
    and auth times now, its end now + ``lifetime`` seconds or, without one,
    now + 30 days (see MAX_TICKET_LIFETIME).  The client principal is
    ``client`` (``-principal``), else the default ccache's.  Failures carry
    ``where`` ("while scanning keytab entries"), as aklog prints them.
    """

    def __init__(self, keytab: str, client: str | None = None, lifetime: int | None = None):
        super().__init__(client=client)
        self.keytab = keytab
        self.lifetime = lifetime

    def get_service_ticket(self, service: str) -> ServiceTicket:
        from .krb5ticket import (_AES_KEYLEN, KU_TICKET, EncryptedData, EncTicketPart, Ticket,
                                 encode_enc_ticket_part, encode_ticket, encrypt)
        k = self.k
        client = self.user_principal()
        try:
            kt = k.kt_resolve(self.ctx, self.keytab.encode("utf-8", "surrogateescape"))
            sprinc = k.parse_name_flags(self.ctx, service.encode())
            entry = k.kt_get_entry(self.ctx, kt, sprinc)
        except k.Krb5Error as e:
            f = _failure(e)
            f.where = "while scanning keytab entries"
            raise f from None
        etype = entry.key.enctype
        if etype not in _AES_KEYLEN:
            raise Krb5Failure(-1, "cannot make a ticket with enctype %d (AES keys only)" % etype)
        session_key = os.urandom(_AES_KEYLEN[etype])
        start = int(time.time())
        end = start + (self.lifetime or MAX_TICKET_LIFETIME)
        comps, crealm = _split_principal(client)
        part = EncTicketPart(flags=0x80000000 >> TKT_FLG_INITIAL_BIT, keytype=etype,
                             key=session_key, crealm=crealm, cname=tuple(comps),
                             authtime=start, starttime=start, endtime=end)
        cipher = encrypt(etype, bytes(entry.key.data), KU_TICKET, encode_enc_ticket_part(part))
        scomps, srealm = _split_principal(service)
        ticket = encode_ticket(Ticket(srealm, tuple(scomps),
                                      EncryptedData(etype, entry.kvno, cipher)))
        return ServiceTicket(client=client, server=service, enctype=etype,
                             session_key=session_key, ticket=ticket, authtime=start,
                             starttime=start, endtime=end)
