"""``-localauth``: credentials forged with the server's own key, as OpenAFS
1.8.9 makes them (``GenericAuth``, ``src/auth/authcon.c``).

From the server configuration directory (``/etc/openafs/server``):

1. the newest rxkad_krb5 key of KeyFileExt (highest kvno; within it the first
   of enctypes 18, 17, 23, 16): a random DES session key and a Kerberos 5
   ``EncTicketPart`` for client ``afs`` (no instance, empty realm), authtime
   0, endtime 0x7fffffff, session key type des-cbc-crc, encrypted in that key
   (usage 2) and sent as the DER ``EncryptedData`` with ticket type 213;
2. otherwise the newest KeyFile DES key: a v4 ticket for ``afs``/""/"" with
   start 0 and end 0xffffffff (never), sent with the key's kvno;
3. no key: no credentials (OpenAFS quietly falls back to rxnull; the tools
   decide whether that is an error).

The servers treat client ``afs`` with empty instance and cell as the
super-user (``userok.c``); the ptserver sees it as SYSADMINID (-204).
Levels: ``afsconf_ClientAuth`` gives clear, ``afsconf_ClientAuthSecure``
crypt; which one each tool uses is :func:`kafs.auth.select.localauth_level`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .crypto.des import is_weak_key, set_odd_parity
from .keys import KEY_RXKAD_KRB5, ServerKeys

__all__ = ["LocalauthToken", "localauth_token", "localauth_security", "random_des_key",
           "SERVER_CONFDIR", "SUPERUSER", "SYSADMINID"]

SERVER_CONFDIR = "/etc/openafs/server"
SUPERUSER = "afs"
SYSADMINID = -204
_K5_END = 0x7FFFFFFF
#: the token "kvno" of a bare Kerberos 5 EncryptedData ticket
#: (kdf.TKT_TYPE_KERBEROS_V5_ENCPART_ONLY; kdf itself is not needed here)
TKT_TYPE_ENCPART_ONLY = 213
NEVERDATE = 0xFFFFFFFF


@dataclass(frozen=True)
class LocalauthToken:
    """A forged super-user token (the RxkadToken fields that matter)."""

    kvno: int
    session_key: bytes = field(repr=False)
    ticket: bytes = field(repr=False)
    start: int
    end: int
    cell: str | None = None
    viceid: int = SYSADMINID
    name: str = SUPERUSER
    key_description: str = ""

    def __repr__(self) -> str:
        return (f"<LocalauthToken {self.name} kvno={self.kvno} ticket={len(self.ticket)} "
                f"bytes using {self.key_description}>")

    __str__ = __repr__


def random_des_key() -> bytes:
    """A random DES key with odd parity that is not weak (DES_new_random_key)."""
    while True:
        k = set_odd_parity(os.urandom(8))
        if not is_weak_key(k):
            return k


def localauth_token(confdir: str = SERVER_CONFDIR, *, keys: ServerKeys | None = None,
                    cell: str | None = None) -> LocalauthToken | None:
    """Forge the ``-localauth`` token, or None when there is no usable key."""
    if keys is None:
        keys = ServerKeys.load(confdir)
    key = keys.localauth_key()
    if key is None:
        return None
    session = random_des_key()
    if key.type == KEY_RXKAD_KRB5:
        from .krb5ticket import Krb5Error, make_encpart_ticket
        try:
            ticket = make_encpart_ticket(key.subtype, key.kvno, key.key, session,
                                         SUPERUSER, "", "", 0, _K5_END)
        except Krb5Error:
            return None          # an enctype we cannot encrypt with: like OpenAFS, rxnull
        return LocalauthToken(TKT_TYPE_ENCPART_ONLY, session, ticket,
                              0, _K5_END, cell, key_description=repr(key))
    from .crypto.ticket import Ticket, encode_ticket
    ticket = encode_ticket(Ticket(SUPERUSER, "", "", 0, session, 0, NEVERDATE), key.key)
    return LocalauthToken(key.kvno, session, ticket, 0, NEVERDATE, cell,
                          key_description=repr(key))


def localauth_security(level: int, confdir: str = SERVER_CONFDIR, *,
                       keys: ServerKeys | None = None, cell: str | None = None):
    """An :class:`~kafs.auth.rxkad.RxkadClient` with a forged token at
    ``level``, or None (no key: rxnull)."""
    from .rxkad import RxkadClient
    tok = localauth_token(confdir, keys=keys, cell=cell)
    if tok is None:
        return None
    return RxkadClient(level, tok.session_key, tok.kvno, tok.ticket, start=tok.start,
                       end=tok.end, cell=cell, viceid=tok.viceid,
                       principal=f"{SUPERUSER} (localauth)")
