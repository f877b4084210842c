"""aklog, tokens, unlog and klog.krb5 against the real MIT KDC and OpenAFS
1.8.9 ptserver of the test cell, compared with OpenAFS's own tools.

OpenAFS's aklog/klog/unlog cannot store or remove tokens here (no AFS
kernel module: "a pioctl failed"), so comparisons with them cover what
they print up to that point; ``tokens`` with no tokens runs completely and
is compared byte for byte.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import stat
import subprocess
import sys
import time

import pytest

from kafs.auth.crypto import rxkad
from kafs.rx.security import SecurityClass

pytestmark = pytest.mark.cell

BIN = os.path.dirname(sys.executable)
OPENAFS = {"aklog": "/usr/bin/aklog", "tokens": "/usr/bin/tokens",
           "unlog": "/usr/bin/unlog", "klog.krb5": "/usr/bin/klog.krb5"}
TOKEN_LINE = re.compile(r"^User's \(AFS ID 1\) rxkad tokens for test\.example "
                        r"\[Expires [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d\]$")
TRACEBACK = "Traceback"


@pytest.fixture
def env(cell, tmp_path):
    """Environment of one test: its own ccache (kinit'ed as admin with the
    keytab) and its own token file."""
    e = cell.env()
    e["PATH"] = BIN + ":" + e["PATH"]
    e["KRB5CCNAME"] = "FILE:%s" % (tmp_path / "ccache")
    e["KAFS_TOKEN_STORE"] = "file"
    e["KAFS_TOKEN_FILE"] = str(tmp_path / "tok" / "tokens")
    e.pop("KAFS_DEBUG", None)
    r = subprocess.run(["kinit", "-k", "-t", cell.admin_keytab, cell.admin_principal],
                       env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return e


def ours(name, *args, env, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 180)
    return subprocess.run([os.path.join(BIN, name), *args], env=env, **kw)


def theirs(name, *args, env, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 180)
    return subprocess.run([name, *args], executable=OPENAFS[name], env=env, **kw)


def load_token(env):
    from kafs.auth import store
    old = {k: os.environ.get(k) for k in ("KAFS_TOKEN_STORE", "KAFS_TOKEN_FILE")}
    os.environ["KAFS_TOKEN_STORE"] = env["KAFS_TOKEN_STORE"]
    os.environ["KAFS_TOKEN_FILE"] = env["KAFS_TOKEN_FILE"]
    try:
        return store.get_token("test.example")
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# -- a minimal rxkad client (test-only; the real one is kafs.auth.rxkad) ---------

class _Rxkad(SecurityClass):
    index = 2
    name = "rxkad"
    debug_type = 3

    def __init__(self, tok, level=rxkad.LEVEL_CRYPT):
        self.tok = tok
        self.level = level
        self.header_size = self.trailer_size = rxkad.HEADER_SIZE[level]

    def key(self):
        return (2, self.level, self.tok.session_key, self.tok.ticket, id(self))

    def new_connection(self, conn, server):
        conn.sec = rxkad.ConnectionCrypto(self.tok.session_key, conn.epoch, conn.cid,
                                          self.level)
        conn.authenticated = True

    def prepare_packet(self, conn, call_number, channel, seq, payload):
        return conn.sec.seal(call_number, channel, seq, payload)

    def check_packet(self, conn, call_number, channel, seq, cksum, payload):
        return conn.sec.unseal(call_number, channel, seq, payload, cksum)

    def respond_to_challenge(self, conn, body):
        return rxkad.respond_to_challenge(
            body, self.tok.session_key, conn.epoch, conn.cid,
            conn.call_numbers_for_response(), self.level, self.tok.kvno, self.tok.ticket)


def pt_new_and_delete(cell, security) -> int:
    """PR_NewEntry of a scratch user, then PR_Delete; returns the new id."""
    from kafs.rpc import pr
    from kafs.rx.endpoint import Endpoint
    name = "kafs-tok-" + secrets.token_hex(4)

    async def main():
        ep = await Endpoint.open("0.0.0.0", 0)
        try:
            conn = ep.connection((cell.host, cell.ports["ptserver"]), 73, security,
                                 dead_time=30)
            uid = await pr.PR_NewEntry(conn, name, 0, 0)
            await pr.PR_Delete(conn, uid)
            return uid
        finally:
            await ep.close()

    return asyncio.run(asyncio.wait_for(main(), 120))


# --------------------------------------------------------------------------------


def test_aklog_tokens_unlog_file_store(cell, env):
    r = ours("aklog", "-d", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout == (
        "Authenticating to cell test.example (server afs1.test.example).\n"
        "Trying to authenticate to user's realm TEST.EXAMPLE.\n"
        "Getting tickets: afs/test.example@TEST.EXAMPLE\n"
        "Using Kerberos V5 ticket natively\n"
        "About to resolve name admin to id in cell test.example.\n"
        "Id 1\n"
        "Setting tokens. admin @ test.example\n")
    path = env["KAFS_TOKEN_FILE"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700

    tok = load_token(env)
    assert tok is not None and tok.kvno == 256 and tok.viceid == 1 and tok.has_afs_id
    # the session key is rxkad-kdf of the service ticket's key in the ccache
    from kafs.auth.krb5 import Kerberos
    from kafs.auth.token import token_from_krb5
    os.environ["KRB5CCNAME"], saved = env["KRB5CCNAME"], os.environ.get("KRB5CCNAME")
    try:
        st = Kerberos().get_service_ticket("afs/test.example@TEST.EXAMPLE")
    finally:
        if saved is None:
            del os.environ["KRB5CCNAME"]
        else:
            os.environ["KRB5CCNAME"] = saved
    assert st.ticket == tok.ticket
    assert token_from_krb5("test.example", st.ticket, st.enctype, st.session_key,
                           st.starttime, st.endtime, 0).with_viceid(1) == tok

    t = ours("tokens", env=env)
    lines = t.stdout.split("\n")
    assert t.returncode == 0
    assert lines[:3] == ["", "Tokens held by the Cache Manager:", ""]
    assert TOKEN_LINE.match(lines[3]), lines[3]
    assert lines[4:] == ["   --End of list--", ""]
    assert lines[3].endswith("[Expires %s]" % time.ctime(tok.end)[4:16])

    # the token authenticates to the real ptserver: admin may create entries
    uid = pt_new_and_delete(cell, _Rxkad(tok))
    assert uid != 0
    from kafs.errors import AFSError
    with pytest.raises(AFSError) as ei:                   # and anonymous may not
        pt_new_and_delete(cell, None)
    assert ei.value.code == 267269                        # PRPERM

    u = ours("unlog", env=env)
    assert (u.returncode, u.stdout, u.stderr) == (0, "", "")
    assert load_token(env) is None
    empty = ours("tokens", env=env)
    their = theirs("tokens", env=env)
    assert (empty.stdout, empty.stderr, empty.returncode) == \
        (their.stdout, their.stderr, their.returncode)


_KEYRING_DRIVER = r"""
import json, os, subprocess, sys
from kafs.auth import keyring, store
BIN = sys.argv[1]
out = {}
def run(*a):
    r = subprocess.run([os.path.join(BIN, a[0]), *a[1:]], capture_output=True, text=True,
                       timeout=180)
    return [r.returncode, r.stdout, r.stderr]
try:
    out["aklog"] = run("aklog")
    s = keyring.search(keyring.session_keyring(), "user", "afs@test.example")
    out["key"] = keyring.describe(s).type if s else None
    t = store.get_token("test.example")
    out["viceid"] = t.viceid if t else None
    out["tokens"] = run("tokens")
    out["unlog"] = run("unlog", "-cell", "test.example")
    out["after"] = run("tokens")
    out["gone"] = keyring.search(keyring.session_keyring(), "user", "afs@test.example") is None
finally:
    keyring.invalidate(keyring.session_keyring())
print(json.dumps(out))
"""


def test_aklog_keyring_store(cell, env):
    """The keyring backend, in a session keyring of the test's own (one
    driver process joins a new named session keyring; the tools it runs
    inherit it), so nothing reaches the machine's shared keyrings."""
    import json
    from kafs.auth import keyring
    if not keyring.available():
        pytest.skip("kernel keyring not usable here")
    from .conftest import join
    e = dict(env, KAFS_TOKEN_STORE="keyring")
    r = subprocess.run([sys.executable, "-c", _KEYRING_DRIVER, BIN], env=e, capture_output=True,
                       text=True, timeout=600,
                       preexec_fn=join("kafs-test-" + secrets.token_hex(6)))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["aklog"] == [0, "", ""]
    assert out["key"] == "user" and out["viceid"] == 1
    assert TOKEN_LINE.match(out["tokens"][1].split("\n")[3])
    assert not os.path.exists(e["KAFS_TOKEN_FILE"])
    assert out["unlog"][0] == 0 and out["unlog"][2] == ""
    assert out["after"][1] == "\nTokens held by the Cache Manager:\n\n   --End of list--\n"
    assert out["gone"]


@pytest.mark.parametrize("args", [[], ["-noprdb"], ["-c", "TEST.EXAMPLE", "-k", "TEST.EXAMPLE"],
                                  ["test.example"]])
def test_aklog_debug_matches_openafs(cell, env, args):
    """Every -d line OpenAFS prints before it fails to store the token."""
    mine = ours("aklog", "-d", *args, env=env)
    ref = theirs("aklog", "-d", *args, env=env)
    assert ref.returncode == 5
    assert ref.stderr == "aklog: a pioctl failed while setting tokens for cell test.example\n"
    assert mine.stdout == ref.stdout
    assert (mine.returncode, mine.stderr) == (0, "")


def test_aklog_force_and_identical(cell, env):
    assert ours("aklog", env=env).returncode == 0
    again = ours("aklog", "-d", env=env)
    assert again.stdout.endswith("Using Kerberos V5 ticket natively\n"
                                 "Identical tokens already exist; skipping.\n")
    forced = ours("aklog", "-d", "-force", env=env)
    assert forced.stdout.endswith("Setting tokens. admin @ test.example\n")


@pytest.mark.parametrize("case", ["no-ccache", "no-cell", "wrong-realm", "kdc-down",
                                  "usage", "noauth", "twice"])
def test_aklog_errors_match_openafs(cell, env, tmp_path, case):
    e = dict(env)
    args = ["-d"]
    if case == "no-ccache":
        e["KRB5CCNAME"] = "FILE:%s" % (tmp_path / "none")
    elif case == "no-cell":
        args += ["-c", "nosuch.example"]
    elif case == "wrong-realm":
        args += ["-c", "test.example", "-k", "NOPE.EXAMPLE"]
    elif case == "kdc-down":
        conf = open(cell.krb5_config).read().replace("127.0.0.1:88", "127.0.0.1:1")
        (tmp_path / "krb5.conf").write_text(conf)
        e["KRB5_CONFIG"] = str(tmp_path / "krb5.conf")
    elif case == "usage":
        args += ["-bogus"]
    elif case == "noauth":
        args += ["-noauth", "-zsubs"]
    elif case == "twice":
        args += ["-c", "nosuch.example", "-c", "nosuch.example"]
    mine = ours("aklog", *args, env=e)
    ref = theirs("aklog", *args, env=e)
    assert (mine.stdout, mine.stderr, mine.returncode) == \
        (ref.stdout, ref.stderr, ref.returncode)
    assert TRACEBACK not in mine.stderr
    if case not in ("noauth", "usage"):
        assert mine.returncode != 0
        assert len([x for x in mine.stderr.splitlines() if x.startswith("aklog")]) <= 2
    assert load_token(e) is None


def test_tokens_usage_and_expired(cell, env):
    for args in (["x"], ["-help"], ["a", "b"]):
        assert (ours("tokens", *args, env=env).stdout, ours("tokens", *args, env=env).returncode) \
            == (theirs("tokens", *args, env=env).stdout, 0)
    from kafs.auth.token import RxkadToken
    now = int(time.time())
    expired = RxkadToken(cell="test.example", viceid=0, kvno=256, session_key=b"\x01" * 8,
                         start=now - 7200, end=now - 60, ticket=b"t" * 64,
                         primary=False).with_viceid(1)
    old = {k: os.environ.get(k) for k in ("KAFS_TOKEN_STORE", "KAFS_TOKEN_FILE")}
    os.environ["KAFS_TOKEN_STORE"], os.environ["KAFS_TOKEN_FILE"] = "file", env["KAFS_TOKEN_FILE"]
    try:
        from kafs.auth import store
        store.store_token(expired)
        assert store.get_token("test.example") is None          # never returned
        assert store.list_tokens() == []
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    t = ours("tokens", env=env)
    assert t.stdout.split("\n")[3] == \
        "User's (AFS ID 1) rxkad tokens for test.example [>> Expired <<]"


def test_unlog_matches_openafs(cell, env):
    for args in (["-help"], ["-bogus"], ["-cell", "nosuch.example"], ["x", "y"]):
        mine, ref = ours("unlog", *args, env=env), theirs("unlog", *args, env=env)
        assert (mine.stdout, mine.stderr, mine.returncode) == \
            (ref.stdout, ref.stderr, ref.returncode), args
    # no token held: the same warning as OpenAFS (which then fails at the pioctl)
    mine, ref = ours("unlog", "-cell", "test.example", env=env), \
        theirs("unlog", "-cell", "test.example", env=env)
    assert mine.stderr == ref.stderr == "unlog: Warning - no tokens held for cell test.example\n"
    assert mine.returncode == 0


def test_klog(cell, env):
    pw = cell.admin_password + "\n"
    r = ours("klog.krb5", "-pipe", "-principal", "admin", env=env, input=pw)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    tok = load_token(env)
    assert tok.viceid == 1 and tok.has_afs_id and tok.kvno == 256
    assert pt_new_and_delete(cell, _Rxkad(tok)) != 0
    r = ours("klog.krb5", "-pipe", "-principal", "admin", "-noprdb", env=env, input=pw)
    assert r.returncode == 0
    tok = load_token(env)
    assert not tok.has_afs_id and tok.viceid == os.getuid()
    assert ours("tokens", env=env).stdout.split("\n")[3].startswith(
        "RxkadTokens for test.example [Expires ")
    # errors as OpenAFS's klog prints them (it gets that far)
    for args, inp in ((["-pipe", "-principal", "admin"], "wrong\n"),
                      (["-pipe", "-principal", "nosuchuser"], pw),
                      (["-pipe", "-principal", "admin", "-cell", "nosuch.example"], pw),
                      (["-principal", "admin"], ""),
                      (["-help"], ""), (["-bogus"], "")):
        mine = ours("klog.krb5", *args, env=env, input=inp)
        ref = theirs("klog.krb5", *args, env=env, input=inp)
        assert (mine.stdout, mine.stderr, mine.returncode) == \
            (ref.stdout, ref.stderr, ref.returncode), args
        assert TRACEBACK not in mine.stderr
    s = ours("klog.krb5", "-pipe", "-principal", "admin", "-silent", env=env, input="wrong\n")
    assert (s.returncode, s.stderr) == (1, "")


def test_secrets_never_printed(cell, env, tmp_path):
    outputs = []

    def run(fn, *a, **kw):
        r = fn(*a, env=kw.pop("env", env), **kw)
        outputs.append(r.stdout + r.stderr)
        return r

    pw = cell.admin_password
    run(ours, "klog.krb5", "-pipe", "-principal", "admin", input=pw + "\n")
    run(ours, "aklog", "-d", "-force")
    run(ours, "aklog", "-d")
    run(ours, "tokens")
    run(ours, "tokens", "-json")
    e = dict(env, KAFS_DEBUG="1")
    run(ours, "aklog", "-d", "-force", env=e)
    run(ours, "tokens", env=e)
    tok = load_token(env)
    run(ours, "klog.krb5", "-pipe", "-principal", "admin", input="wrong-" + pw + "\n")
    run(ours, "klog.krb5", "-principal", "admin", "-password", "zz" + pw)
    bad = dict(env, KAFS_TOKEN_FILE=str(tmp_path / "ro" / "x" / "tokens"))
    os.makedirs(tmp_path / "ro", mode=0o500)
    run(ours, "aklog", "-d", env=bad)             # cannot store: an error line
    run(ours, "unlog")
    text = "\n".join(outputs)
    assert tok is not None
    key, ticket = tok.session_key, tok.ticket
    for needle in (key.hex(), key.hex().upper(), ticket.hex()[:32], ticket[:16].hex(),
                   repr(key)[2:-1], pw):
        assert needle not in text, needle
    raw = text.encode("utf-8", "surrogateescape")
    assert key not in raw and ticket[20:52] not in raw
    assert "Traceback" not in text or "KAFS_DEBUG" in text
    # the token's repr and the store's errors never carry it either
    assert key.hex() not in repr(tok) and key.hex() not in str(tok)


# -- aklog -keytab (akimpersonate) ----------------------------------------------

def _no_ccache(env, tmp_path):
    e = dict(env)
    e["KRB5CCNAME"] = "FILE:%s" % (tmp_path / "no-ccache")
    return e


def test_aklog_keytab_debug_matches_openafs_and_the_token_works(cell, env, tmp_path):
    """No KDC and no ccache: the ticket is made with the afs/ key of the
    service keytab, for the principal given."""
    e = _no_ccache(env, tmp_path)
    args = ["-d", "-keytab", cell.service_keytab, "-principal", cell.admin_principal,
            "-token-lifetime", "2"]
    t0 = int(time.time())
    mine = ours("aklog", *args, env=e)
    t1 = int(time.time()) + 1
    ref = theirs("aklog", *args, env=e)
    assert ref.returncode == 5
    assert ref.stderr == "aklog: a pioctl failed while setting tokens for cell test.example\n"
    assert mine.stdout == ref.stdout
    assert "Getting tickets: afs/test.example@TEST.EXAMPLE\n" in mine.stdout
    assert (mine.returncode, mine.stderr) == (0, "")
    tok = load_token(e)
    assert tok is not None and tok.viceid == 1
    assert t0 + 2 * 3600 - 1 <= tok.end <= t1 + 2 * 3600 + 1
    toks = ours("tokens", env=e)
    assert TOKEN_LINE.match(toks.stdout.split("\n")[3]), toks.stdout
    # the real ptserver accepts the made-up ticket at crypt level, as admin:
    # a user hidden from anonymous callers can be listed
    r = ours("pts", "membership", "user0471", env=e)
    assert r.returncode == 0 and "grp48" in r.stdout.split(), r.stderr   # user0471 is in grp48
    anon = ours("pts", "membership", "user0471", "-noauth", env=e)
    assert "Permission denied" in anon.stderr and "grp48" not in anon.stdout


def test_aklog_keytab_ticket_contents(cell, env, tmp_path):
    from kafs.auth.keys import parse_keytab
    from kafs.auth.krb5 import MAX_TICKET_LIFETIME, KeytabImpersonation
    from kafs.auth.krb5ticket import KU_TICKET, decode_enc_ticket_part, decode_ticket, decrypt
    os.environ["KRB5CCNAME"] = env["KRB5CCNAME"]
    t0 = int(time.time())
    st = KeytabImpersonation(cell.service_keytab, client="user0003").get_service_ticket(
        "afs/test.example@TEST.EXAMPLE")
    t1 = int(time.time()) + 1
    assert st.client == "user0003@TEST.EXAMPLE"
    t = decode_ticket(st.ticket)
    assert (t.realm, t.sname) == ("TEST.EXAMPLE", ("afs", "test.example"))
    keys = {(vno, et): key for p, vno, et, key in parse_keytab(open(cell.service_keytab, "rb").read())
            if p == "afs/test.example@TEST.EXAMPLE"}
    vno = max(v for v, _ in keys)
    assert t.enc_part.kvno == vno and (vno, t.enc_part.etype) in keys
    part = decode_enc_ticket_part(decrypt(t.enc_part.etype, keys[(vno, t.enc_part.etype)],
                                          KU_TICKET, t.enc_part.cipher))
    assert part.cname == ("user0003",) and part.crealm == "TEST.EXAMPLE"
    assert part.flag(9) and part.keytype == st.enctype and part.key == st.session_key
    assert t0 <= part.authtime == part.starttime <= t1
    assert part.endtime - part.authtime == MAX_TICKET_LIFETIME
    # every run makes a new session key
    again = KeytabImpersonation(cell.service_keytab, client="user0003").get_service_ticket(
        "afs/test.example@TEST.EXAMPLE")
    assert again.session_key != st.session_key


@pytest.mark.parametrize("case", ["missing-keytab", "no-service-key", "no-principal",
                                  "bad-lifetime", "lifetime-without-keytab"])
def test_aklog_keytab_errors_match_openafs(cell, env, tmp_path, case):
    e = _no_ccache(env, tmp_path)
    if case == "missing-keytab":
        args = ["-d", "-keytab", str(tmp_path / "none.keytab"), "-principal", "admin"]
    elif case == "no-service-key":            # the admin keytab holds no afs/ key
        args = ["-d", "-keytab", cell.admin_keytab, "-principal", "admin"]
    elif case == "no-principal":              # and no ccache to take it from
        args = ["-keytab", cell.service_keytab]
    elif case == "bad-lifetime":
        args = ["-keytab", cell.service_keytab, "-token-lifetime", "721"]
    else:
        args = ["-token-lifetime", "2"]
    mine = ours("aklog", *args, env=e)
    ref = theirs("aklog", *args, env=e)
    assert (mine.stdout, mine.stderr, mine.returncode) == \
        (ref.stdout, ref.stderr, ref.returncode)
    assert mine.returncode != 0 and TRACEBACK not in mine.stderr
    assert load_token(e) is None
